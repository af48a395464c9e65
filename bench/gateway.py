"""The gateway against the gateway of the commit before issue 21, side by side in one run, and
its cost per request round after round on one store.

    python bench/gateway.py [--baseline REV] [--only throughput|latency|cpu ...] [--scale X]
        [--concurrency 50] [--accounts 50] [--sqlite]
        [--ab-rounds 6] [--ab-requests 1000]                          # (a)
        [--latency-rounds 2] [--latency-requests 600] [--upstream-ms 1000]  # (b)
        [--rounds 10] [--round-requests 1500] [--rounds-baseline]     # (c)

The baseline is `--baseline` (default 96e32c8: main's last commit before issue 21's work was
merged; the issue's branch forked earlier, at 94f2b04, but main's gateway gained unrelated work
in between, e.g. allotments that follow the day's source, which belongs in neither side's
difference). Its tree is extracted with `git archive` into a temporary folder; its gateway runs
there (`python -m tests.gateway.gateway_process`, PYTHONPATH on that tree) on a store its own
code created (bench/gateway_store.py run on that tree), with its own test price table. The
current gateway runs the same way on this tree. Every gateway gets a fresh database of one
PostgreSQL server (started here, as the test suite does), 50 accounts each with a key and an
allotment that never runs out, and the same OpenAI-shaped stand-in upstream; the client
(aiohttp), the upstream, the gateways and the database are separate processes on this machine.
Rounds alternate between the lanes measured, the order turning each round, so machine noise
(2 cores shared with other jobs) hits each about equally.

(a) Throughput with an upstream that answers at once: `--ab-rounds` rounds of `--ab-requests`
    requests, `--concurrency` at a time, through each gateway in turn; each round's req/s, the
    gateway's and the database server's CPU per request. Target: current >= 0.95x baseline
    (all rounds' requests over all rounds' wall time). Both stores grow alike during the run.
(b) Added latency with a 1 s upstream (`--upstream-ms`: request i waits that long times
    0.5 .. 1.5, the same i the same wait on every path, as inference times vary): rounds of
    `--latency-requests` straight to the upstream and through each gateway, the clients in
    steady state (their first requests spread over one mean wait; see `load`). Each request's
    latency is counted over its own upstream wait, so the percentiles are of the overhead
    itself, not of the 0.5 .. 1.5 s spread (a percentile of that spread moved by a skewed
    overhead moves by about its mean, not by its percentile); added = the percentile through
    the gateway minus the same percentile direct. Target (current, Postgres, 50 concurrent):
    p50 <= 5 ms and p99 <= 20 ms.
(c) Constant cost per request (issue 21 item 7): `--rounds` rounds of `--round-requests` on one
    store through the current gateway, upstream instant: each round's CPU of the gateway process
    and of the database server (postmaster and its backends, live and exited) per 1,000
    requests. Target: the last round's total within 1.1x of the first's. A control runs in
    turn with it: the same gateway code on a store emptied (TRUNCATE) before each of its
    rounds, so each round's total over its control's divides the machine's noise out; the
    same target is checked on that ratio too. `--rounds-baseline` runs the baseline on a
    growing store the same way, for comparison.

`--scale` multiplies every request count (0.2 for a quick look); the defaults take about 8 to
10 minutes on 2 shared cores. `--sqlite` adds a SQLite store per gateway to (a) and (b). A
PASS or FAIL line per target is printed after its table and again at the end."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.cli_runner import free_port  # noqa: E402
from tests.postgres import PostgresServer  # noqa: E402

BASELINE = "96e32c8"
BODY = {"model": "small-chat", "messages": [{"role": "user", "content": "hello, how are you?"}], "max_tokens": 64}
THROUGHPUT_TARGET = 0.95  # current req/s over the baseline's, instant upstream
P50_TARGET, P99_TARGET = 5.0, 20.0  # ms added on Postgres, 1 s upstream
ROUNDS_TARGET = 1.1  # the last round's CPU per request over the first's
ALLOTMENT = str(10**30)  # wei of VCU per account and day: never runs out
USAGE_TABLES = ("api_calls", "activity_receipts", "gateway_reservations", "gateway_totals", "gateway_key_totals")
WARM_UP = 200  # requests through each gateway before anything is counted
TICK = os.sysconf("SC_CLK_TCK")


def start(module: str, before: list[str], after: list[str], tree: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """`python -m module BEFORE... PORT AFTER...` in `tree` on a free port; its URL once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", module, *before, str(port), *after], cwd=tree, env=os.environ | {"PYTHONPATH": str(tree)}
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(url + "/nothing", timeout=1)
            return process, url
        except httpx.TransportError:
            if process.poll() is not None:
                raise SystemExit(f"{module} in {tree} exited") from None
            time.sleep(0.1)
    raise SystemExit(f"{module} did not start")


@dataclass
class Side:
    """A tree's gateway: this one's, or the baseline's extracted."""

    name: str
    tree: Path

    def gateway(self, stack: contextlib.ExitStack, store: str, upstream: str, folder: Path, accounts: int) -> Lane:
        """A gateway of this tree on `store` (created here by this tree's code), in `stack`."""
        prices = folder / f"prices-{self.name}.csv"
        made = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "gateway_store.py"), store, str(accounts), str(prices)],
            cwd=self.tree,
            env=os.environ | {"PYTHONPATH": str(self.tree)},
            capture_output=True,
            text=True,
        )
        if made.returncode:
            raise SystemExit(f"{self.name}'s store: {made.stderr.strip().splitlines()[-1:]}")
        process, url = start(
            "tests.gateway.gateway_process", [store, upstream], [str(prices), ALLOTMENT, "0"], self.tree
        )
        stack.callback(stop, process)
        return Lane(
            f"{self.name} {'Postgres' if store.startswith('postgres') else 'SQLite'}",
            url,
            made.stdout.split(),
            process.pid,
            store=store,
        )


@dataclass
class Lane:
    """One way to the upstream (straight, or through a gateway) and what it measured so far."""

    label: str
    url: str
    secrets: list[str]
    pid: int | None = None  # the gateway's process
    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    wall: float = 0.0
    gateway_cpu: float = 0.0
    database_cpu: float = 0.0
    errors: list[str] = field(default_factory=list)  # answers other than 200
    store: str = ""  # the gateway's store
    reset: Callable[[], None] | None = None  # run before each of its rounds

    def failures(self) -> str:
        """A note of the failed requests, or ""."""
        if not self.errors:
            return ""
        return (
            f"{self.label}: {len(self.errors):,} requests failed (of {self.requests:,} counted and {WARM_UP} "
            f"to warm up), the first: {self.errors[0]}"
        )


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait()


def baseline_tree(rev: str, folder: Path) -> Path:
    """The tree of commit `rev`, extracted into `folder`."""
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


async def load(lane: Lane, requests: int, concurrency: int, upstream_ms: float) -> tuple[list[float], float]:
    """Latencies (ms) of `requests` POSTs, `concurrency` at a time, and the wall time (s); the
    answers other than 200 added to the lane's errors. With an upstream that waits
    (`upstream_ms`), each latency is the time over request i's own wait (`over_wait`), and the
    first `concurrency` requests start spread over one mean wait, as that many clients each
    sending its next request when its last is answered run in steady state; started in the
    same millisecond instead, the first of each round would queue behind each other, a burst
    no steady load of 50 clients makes, and a short round (600 requests) would be 8% burst.
    Each waits inside its slot of the gate: waiting before taking it let the next 50 requests
    take every slot at once (that burst, in every round, until 2026-12-06).
    The client is aiohttp: httpx's connection pool, under 50 concurrent requests, costs the
    client more than the server it measures."""
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with gate:  # the first `concurrency` take the slots in order; the others wait for one
                if upstream_ms and i < concurrency:  # the wait inside the slot: no later request fills it first
                    await asyncio.sleep(i * upstream_ms / concurrency / 1000)
                t = time.perf_counter()
                headers = {"authorization": f"Bearer {lane.secrets[i % len(lane.secrets)]}"}
                # request i waits upstream_ms x (0.5 .. 1.5) on every path: inference times vary
                delay = over_wait(upstream_ms, i)
                body = BODY | {"user": f"bench-delay-ms:{delay:.3f}"} if upstream_ms else BODY
                async with client.post(lane.url + "/v1/chat/completions", json=body, headers=headers) as r:
                    text = await r.text()
                latencies.append((time.perf_counter() - t) * 1000 - float(f"{delay:.3f}"))
                if r.status != 200:
                    lane.errors.append(f"{r.status} {text[:200]}")

        start_time = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(requests)))
        return latencies, time.perf_counter() - start_time


def over_wait(upstream_ms: float, i: int) -> float:
    """Request i's wait at the upstream (ms): `upstream_ms` x 0.5 .. 1.5, the same i the same
    wait on every path; 0 for an instant upstream."""
    return upstream_ms * (0.5 + (i * 0.6180339887) % 1) if upstream_ms else 0.0


def cpu_seconds(pid: int, exited_children: bool = False) -> float:
    """CPU seconds (user + system) of a process, and of its children it has reaped."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if exited_children else 0)
    return ticks / TICK


def server_cpu(server: PostgresServer) -> float:
    """CPU seconds of a Postgres server: its postmaster, backends gone and backends running."""
    master = int((server.data / "postmaster.pid").read_text().split()[0])
    total = cpu_seconds(master, exited_children=True)
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split() if entry.name.isdigit() else None
        except OSError:
            continue
        if fields is not None and int(fields[1]) == master:
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def measure(
    lane: Lane, postgres: PostgresServer, requests: int, concurrency: int, upstream_ms: float = 0.0
) -> tuple[float, float, float]:
    """One round through `lane`, added to its totals: its (req/s, gateway CPU s, database CPU s)."""
    gateway_before = cpu_seconds(lane.pid) if lane.pid else 0.0
    database_before = server_cpu(postgres)
    latencies, wall = asyncio.run(load(lane, requests, concurrency, upstream_ms))
    gateway = cpu_seconds(lane.pid) - gateway_before if lane.pid else 0.0
    database = server_cpu(postgres) - database_before
    lane.latencies += latencies
    lane.requests += requests
    lane.wall += wall
    lane.gateway_cpu += gateway
    lane.database_cpu += database
    return requests / wall, gateway, database


def warm(lanes: list[Lane], concurrency: int) -> None:
    """Connections and caches, not counted."""
    for lane in lanes:
        asyncio.run(load(lane, WARM_UP, concurrency, 0.0))


def turn(items: list[Lane], i: int) -> list[Lane]:
    """Round i's order: the list turned by i, so each path goes first as often as the others."""
    return items[i % len(items) :] + items[: i % len(items)]


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def verdict(ok: bool, text: str) -> str:
    return f"{'PASS' if ok else 'FAIL'} {text}"


class Bench:
    def __init__(self, args: argparse.Namespace, folder: Path, postgres: PostgresServer, console: Console) -> None:
        self.args, self.folder, self.postgres, self.console = args, folder, postgres, console
        self.sides = [Side("current", ROOT), Side("baseline", baseline_tree(args.baseline, folder / "baseline"))]
        self.verdicts: list[str] = []

    def count(self, n: int) -> int:
        return max(self.args.concurrency, round(n * self.args.scale))

    def store(self, kind: str, name: str) -> str:
        """A fresh store's URL."""
        if kind == "SQLite":
            return f"sqlite:///{self.folder / f'usage-{name}.db'}"
        return self.postgres.database_url(self.postgres.create_database())

    def started(self, stack: contextlib.ExitStack, tag: str, sides: list[Side], direct: bool = False) -> list[Lane]:
        """The upstream, and a gateway of each side on a fresh store of each kind (Postgres, and
        SQLite with --sqlite; current and baseline alternate), warmed up, in `stack`; with
        `direct`, the upstream's own lane first."""
        upstream, url = start("tests.gateway.upstream_stub", [], [])
        stack.callback(stop, upstream)
        kinds = ["Postgres", "SQLite"] if self.args.sqlite and tag != "cpu" else ["Postgres"]
        lanes = [Lane("upstream direct", url, ["none"])] if direct else []
        for kind in kinds:
            for side in sides:
                lanes.append(
                    side.gateway(stack, self.store(kind, f"{tag}-{side.name}"), url, self.folder, self.args.accounts)
                )
        warm(lanes, self.args.concurrency)
        return lanes

    def say(self, ok: bool, line: str, lanes: list[Lane]) -> None:
        """The target's verdict (FAIL also if a request through a current gateway failed); the
        targets are on Postgres: on SQLite the line is printed as information only."""
        for note in filter(None, (lane.failures() for lane in lanes)):
            self.console.print(note)
        ok = ok and not any(lane.errors for lane in lanes if lane.label.startswith("current"))
        if "SQLite" in line:
            self.console.print(f"info {line}")
            return
        self.verdicts.append(verdict(ok, line))
        self.console.print(self.verdicts[-1])

    def throughput(self) -> None:
        a = self.args
        requests = self.count(a.ab_requests)
        with contextlib.ExitStack() as stack:
            lanes = self.started(stack, "throughput", self.sides)
            table = Table(
                title=f"(a) throughput, upstream answers at once: {a.ab_rounds} rounds x {requests:,} "
                f"chat requests per gateway, {a.concurrency} concurrent, {a.accounts} accounts"
            )
            table.add_column("round", justify="right")
            table.add_column("order")
            for lane in lanes:
                table.add_column(f"{lane.label} req/s", justify="right")
            for kind in lanes[::2]:
                table.add_column(f"{kind.label.split()[1]} current / baseline", justify="right")
            paired: list[list[float]] = [[] for _ in lanes[::2]]  # each round's current over baseline, per store
            for i in range(a.ab_rounds):
                rates = {}
                for lane in turn(lanes, i):
                    rates[lane.label] = measure(lane, self.postgres, requests, a.concurrency)[0]
                for j, ratios in enumerate(paired):
                    ratios.append(rates[lanes[2 * j].label] / rates[lanes[2 * j + 1].label])
                table.add_row(
                    str(i + 1),
                    ", ".join(p.label.split()[0] for p in turn(lanes, i)),
                    *(f"{rates[p.label]:,.0f}" for p in lanes),
                    *(f"{ratios[-1]:.3f}" for ratios in paired),
                )
        self.console.print(table)
        for kind, ratios in zip(lanes[::2], paired, strict=True):
            self.console.print(
                f"(a) {kind.label.split()[1]}: median of the rounds' current / baseline "
                f"{statistics.median(ratios):.3f}x "
                "(information: less sensitive than the total to a round that other jobs slowed)"
            )
        summary = Table(title="(a) all rounds: req/s = requests / wall time; CPU per request")
        for column in ("gateway", "requests", "req/s", "vs baseline", "gateway CPU ms", "database CPU ms"):
            summary.add_column(column, justify="right")
        pairs = [
            (current, baseline, (current.requests / current.wall) / (baseline.requests / baseline.wall))
            for current, baseline in zip(lanes[::2], lanes[1::2], strict=True)
        ]
        for current, baseline, ratio in pairs:
            for lane in (current, baseline):
                summary.add_row(
                    lane.label,
                    f"{lane.requests:,}",
                    f"{lane.requests / lane.wall:,.0f}",
                    f"{ratio:.3f}x" if lane is current else "",
                    f"{lane.gateway_cpu / lane.requests * 1000:.2f}",
                    f"{lane.database_cpu / lane.requests * 1000:.2f}" if "Postgres" in lane.label else "",
                )
        self.console.print(summary)
        for current, baseline, ratio in pairs:
            self.say(
                ratio >= THROUGHPUT_TARGET,
                f"(a) throughput on {current.label.split()[1]}: current {current.requests / current.wall:,.0f} "
                f"req/s, baseline {baseline.requests / baseline.wall:,.0f}: {ratio:.3f}x "
                f"(target >= {THROUGHPUT_TARGET:g}x)",
                [current, baseline],
            )

    def latency(self) -> None:
        a = self.args
        requests = self.count(a.latency_requests)
        with contextlib.ExitStack() as stack:
            lanes = self.started(stack, "latency", self.sides, direct=True)
            direct = lanes[0]
            for i in range(a.latency_rounds):
                for lane in turn(lanes, i):
                    measure(lane, self.postgres, requests, a.concurrency, a.upstream_ms)
        table = Table(
            title=f"(b) added latency, upstream answers in {a.upstream_ms:g} ms on average (0.5x .. 1.5x): "
            f"{a.latency_rounds} rounds x {requests:,} chat requests per path, {a.concurrency} "
            f"concurrent, {a.accounts} accounts; latencies over each request's own upstream wait"
        )
        for column in ("path", "requests", "req/s", "over wait p50 ms", "p99 ms", "added p50 ms", "added p99 ms"):
            table.add_column(column, justify="right")
        d50, d99 = pct(direct.latencies, 50), pct(direct.latencies, 99)
        for lane in lanes:
            p50, p99 = pct(lane.latencies, 50), pct(lane.latencies, 99)
            table.add_row(
                lane.label,
                f"{lane.requests:,}",
                f"{lane.requests / lane.wall:,.0f}",
                f"{p50:.1f}",
                f"{p99:.1f}",
                *([f"{p50 - d50:.1f}", f"{p99 - d99:.1f}"] if lane is not direct else []),
            )
        self.console.print(table)
        for lane in lanes:
            if lane.label.startswith("current"):
                added50, added99 = pct(lane.latencies, 50) - d50, pct(lane.latencies, 99) - d99
                self.say(
                    added50 <= P50_TARGET and added99 <= P99_TARGET,
                    f"(b) added latency on {lane.label.split()[1]}: {added50:.1f} ms p50 (target <= "
                    f"{P50_TARGET:g}), {added99:.1f} ms p99 (target <= {P99_TARGET:g})",
                    lanes,
                )

    def cpu_rounds(self) -> None:
        a = self.args
        requests = self.count(a.round_requests)
        sides = self.sides if a.rounds_baseline else self.sides[:1]
        with contextlib.ExitStack() as stack:
            lanes = self.started(stack, "cpu", [*sides, self.sides[0]])
            control = lanes.pop()
            control.label = "control"
            control.reset = emptied(control.store)
            rows: dict[str, list[tuple[float, float, float]]] = {lane.label: [] for lane in [*lanes, control]}
            for i in range(a.rounds):
                for lane in turn([*lanes, control], i):
                    if lane.reset:
                        lane.reset()
                    rows[lane.label].append(measure(lane, self.postgres, requests, a.concurrency))
        control_totals = [(gateway + database) * 1_000 / requests for _, gateway, database in rows["control"]]
        for lane in lanes:
            table = Table(
                title=f"(c) {lane.label}: CPU per 1,000 requests, {a.rounds} rounds of {requests:,} on one "
                f"store, {a.concurrency} concurrent, upstream answers at once; the control: the same gateway on a "
                f"store emptied before each of its rounds, its rounds in turn with these"
            )
            columns = (
                "round",
                "rows before",
                "req/s",
                "gateway CPU s",
                "database CPU s",
                "total CPU s",
                "control CPU s",
                "total / control",
            )
            for column in columns:
                table.add_column(column, justify="right")
            per = 1_000 / requests
            totals = []
            for i, (rate, gateway, database) in enumerate(rows[lane.label]):
                totals.append((gateway + database) * per)
                table.add_row(
                    str(i + 1),
                    f"{WARM_UP + i * requests:,}",
                    f"{rate:,.0f}",
                    f"{gateway * per:.2f}",
                    f"{database * per:.2f}",
                    f"{totals[-1]:.2f}",
                    f"{control_totals[i]:.2f}",
                    f"{totals[-1] / control_totals[i]:.2f}",
                )
            self.console.print(table)
            ratio = totals[-1] / totals[0]
            corrected = (totals[-1] / control_totals[-1]) / (totals[0] / control_totals[0])
            lines = [
                (
                    ratio,
                    f"(c) {lane.label}: last round / first round {ratio:.2f}x (target <= {ROUNDS_TARGET:g}x; "
                    f"rounds from {min(totals):.2f} to {max(totals):.2f} s)",
                ),
                (
                    corrected,
                    f"(c) {lane.label}, each round over its control's: last / first {corrected:.2f}x "
                    f"(target <= {ROUNDS_TARGET:g}x; the machine's noise divided out)",
                ),
            ]
            for value, line in lines:
                if lane.label.startswith("current"):
                    self.say(value <= ROUNDS_TARGET, line, [lane, control])
                else:
                    self.console.print("\n".join(filter(None, [line, lane.failures()])))


def emptied(url: str) -> Callable[[], None]:
    """What empties a current store of its usage (rows, receipts, reservations, totals), its keys kept."""

    def empty() -> None:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(USAGE_TABLES)}"))
        engine.dispose()

    return empty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help=f"the commit to compare with (default {BASELINE})")
    parser.add_argument(
        "--only",
        action="append",
        choices=("throughput", "latency", "cpu"),
        help="run only these parts (repeat; default all three)",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every request count")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--sqlite", action="store_true", help="(a) and (b) on a SQLite store too")
    parser.add_argument("--ab-rounds", type=int, default=6)
    parser.add_argument("--ab-requests", type=int, default=1_000, help="per gateway and round")
    parser.add_argument("--latency-rounds", type=int, default=2)
    parser.add_argument("--latency-requests", type=int, default=600, help="per lane and round")
    parser.add_argument("--upstream-ms", type=float, default=1_000.0, help="the upstream's mean time per answer in (b)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--round-requests", type=int, default=1_500)
    parser.add_argument("--rounds-baseline", action="store_true", help="(c) for the baseline too, interleaved")
    args = parser.parse_args()
    if min(args.ab_rounds, args.latency_rounds, args.rounds) < 1 or args.scale <= 0:
        parser.error("rounds must be at least 1 and --scale above 0")
    parts = args.only or ["throughput", "latency", "cpu"]
    folder = Path(tempfile.mkdtemp(prefix="vvv-bench-gw-"))
    postgres = PostgresServer(Path(tempfile.mkdtemp(prefix="vvv-bench-pg-")))  # a folder its server user can own
    postgres.start()
    console = Console(width=150)
    started = time.perf_counter()
    try:
        bench = Bench(args, folder, postgres, console)
        console.print(f"current: {ROOT} at {git_describe('HEAD')}; baseline: {git_describe(args.baseline)}")
        for part in ("throughput", "latency", "cpu"):
            if part in parts:
                getattr(bench, "cpu_rounds" if part == "cpu" else part)()
    finally:
        postgres.stop()
    console.print(f"\nsummary ({time.perf_counter() - started:.0f} s):")
    for line in bench.verdicts:
        console.print(line)


def git_describe(rev: str) -> str:
    out = subprocess.run(["git", "log", "-1", "--format=%h %s", rev], cwd=ROOT, capture_output=True, text=True)
    dirty = (
        rev == "HEAD"
        and subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    )
    return out.stdout.strip()[:70] + (" (with uncommitted changes)" if dirty else "")


if __name__ == "__main__":
    main()
