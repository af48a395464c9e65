"""The gateway's added latency and throughput, side by side in one run: the same chat request
sent N times, C at a time, straight to an OpenAI-shaped upstream and through the gateway in
front of it (reserve, forward, charge: two database transactions under the account's lock), on
a SQLite store and on a PostgreSQL store (a server started here, as the test suite does). The
upstream, the gateway and this client are separate processes on this machine; the requests come
from 50 accounts, each with its own key and allotment.

    python bench/gateway.py [--requests 2000] [--concurrency 50] [--accounts 50] [--upstream-ms MS ...]
                            [--rounds 10] [--round-requests 2000] [--rounds-only]

--upstream-ms makes the stand-in upstream take between 0.5x and 1.5x that long per answer, as
inferences vary (request i takes the same time in both runs). By default two runs: 1,000 ms (a
short inference: the latency the gateway adds to a real call) and 0 (an upstream that answers
at once: 50 clients then saturate the gateway, and the run measures its throughput).

Then, on one Postgres store, `--rounds` rounds of `--round-requests` requests each through one
gateway with the instant upstream: each round's CPU of the gateway process and of the database
server (the postmaster and its backends, live and exited) per 1,000 requests. The checks read
running totals, never the day's rows, so the cost of a request must not grow with the rows
already stored: the last round's total within 1.1x of the first's.

Targets (Postgres, 50 concurrent): the gateway adds <= 5 ms at p50 and <= 20 ms at p99; the
last round's CPU per 1,000 requests <= 1.1x the first's."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx
from eth_account import Account
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.cli_runner import free_port  # noqa: E402
from tests.gateway.gateway_support import NOW, PRICES  # noqa: E402
from tests.gateway.keys_support import DOMAIN  # noqa: E402
from tests.postgres import PostgresServer  # noqa: E402
from vvv.chain.apikeys import CreateKey, key_hash, sign  # noqa: E402
from vvv.gateway.keys import KeyStore  # noqa: E402
from vvv.gateway.ledger import Ledger  # noqa: E402
from vvv.oracle.usage import UsageStore  # noqa: E402

BODY = {"model": "small-chat", "messages": [{"role": "user", "content": "hello, how are you?"}], "max_tokens": 64}
P50_TARGET, P99_TARGET = 5.0, 20.0  # ms added on Postgres
ROUNDS_TARGET = 1.1  # the last round's CPU per request over the first's
TICK = os.sysconf("SC_CLK_TCK")


def start(module: str, before: list[str], after: list[str]) -> tuple[subprocess.Popen, str]:
    """`python -m module BEFORE... PORT AFTER...` on a free port; its URL once it answers."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", module, *before, str(port), *after],
                               cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)})  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(url + "/nothing", timeout=1)
            return process, url
        except httpx.TransportError:
            assert process.poll() is None, f"{module} exited"
            time.sleep(0.1)
    raise SystemExit(f"{module} did not start")


def prepare(url: str, accounts: int) -> list[str]:
    """A store with the gateway's tables and one key per account; the keys' secrets."""
    store = UsageStore(url, create=True)
    Ledger(store)
    keys = KeyStore(store.engine, DOMAIN)
    secrets = []
    for i in range(accounts):
        who = Account.from_key((1_000 + i).to_bytes(32, "big"))
        secret = f"vvv_bench_{i}"
        keys.create(sign(who, CreateKey(who.address.lower(), "bench", 0, 0, 1, key_hash(secret), NOW + 600),
                         DOMAIN), NOW)  # fmt: skip
        secrets.append(secret)
    store.engine.dispose()
    return secrets


async def load(
    url: str, secrets: list[str], requests: int, concurrency: int, upstream_ms: float, warm_up: bool = True
) -> tuple[list[float], float]:
    """Latencies (ms) of `requests` POSTs, `concurrency` at a time, and the wall time (s). The
    client is aiohttp: httpx's connection pool, under 50 concurrent requests, costs the client
    more than the server it measures."""
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with gate:
                t = time.perf_counter()
                headers = {"authorization": f"Bearer {secrets[i % len(secrets)]}"}
                # request i waits upstream_ms x (0.5 .. 1.5), the same in both runs: inference times vary
                delay = upstream_ms * (0.5 + (i * 0.6180339887) % 1)
                body = BODY | {"user": f"bench-delay-ms:{delay:.3f}"} if upstream_ms else BODY
                async with client.post(url + "/v1/chat/completions", json=body, headers=headers) as r:
                    text = await r.text()
                latencies.append((time.perf_counter() - t) * 1000)
                if r.status != 200:
                    raise SystemExit(f"{url}: {r.status} {text[:200]}")

        if warm_up:
            await asyncio.gather(*(one(i) for i in range(min(200, requests))))  # not counted
        latencies.clear()
        start_time = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(requests)))
        return latencies, time.perf_counter() - start_time


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run(args: argparse.Namespace, upstream_ms: float, stores: dict[str, str], prices: Path,
        console: Console) -> None:  # fmt: skip
    """One table: each store, straight to the upstream and through a gateway."""
    upstream, upstream_url = start("tests.gateway.upstream_stub", [], [])
    what = f"upstream answers in {upstream_ms:g} ms on average" if upstream_ms else "upstream answers at once"
    table = Table(title=f"gateway vs upstream: {args.requests:,} chat requests, {args.concurrency} concurrent, "
                        f"{args.accounts} accounts, {what}")  # fmt: skip
    for column in ("store", "path", "req/s", "p50 ms", "p99 ms", "added p50 ms", "added p99 ms"):
        table.add_column(column, justify="right")
    verdict = ""
    try:
        for name, url in stores.items():
            secrets = prepare(url, args.accounts)
            gateway, gateway_url = start("tests.gateway.gateway_process", [url, upstream_url],
                                         [str(prices), str(10**30), "0"])  # fmt: skip
            try:
                direct, direct_s = asyncio.run(load(upstream_url, secrets, args.requests, args.concurrency,
                                                    upstream_ms))  # fmt: skip
                through, through_s = asyncio.run(load(gateway_url, secrets, args.requests, args.concurrency,
                                                      upstream_ms))  # fmt: skip
            finally:
                gateway.terminate()
                gateway.wait()
            d50, d99, g50, g99 = pct(direct, 50), pct(direct, 99), pct(through, 50), pct(through, 99)
            rate = f"{args.requests / direct_s:,.0f}"
            table.add_row(name, "upstream direct", rate, f"{d50:.1f}", f"{d99:.1f}", "", "")
            table.add_row(name, "through the gateway", f"{args.requests / through_s:,.0f}", f"{g50:.1f}",
                          f"{g99:.1f}", f"{g50 - d50:.1f}", f"{g99 - d99:.1f}")  # fmt: skip
            if name == "Postgres":
                ok = g50 - d50 <= P50_TARGET and g99 - d99 <= P99_TARGET
                verdict = (f"Postgres: added {g50 - d50:.1f} ms p50 (target <= {P50_TARGET:g}), {g99 - d99:.1f} ms "
                           f"p99 (target <= {P99_TARGET:g}): {'met' if ok else 'NOT met'}")  # fmt: skip
                if not upstream_ms:
                    verdict += (f"; with an upstream that answers at once, 50 clients saturate the gateway: "
                                f"latency here is {args.concurrency} / throughput")  # fmt: skip
    finally:
        upstream.terminate()
        upstream.wait()
    console.print(table)
    console.print(verdict)


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


def rounds(args: argparse.Namespace, postgres: PostgresServer, prices: Path, console: Console) -> None:
    """CPU per 1,000 requests, round after round on one store (see the module's notes)."""
    url = postgres.database_url(postgres.create_database())
    secrets = prepare(url, args.accounts)
    upstream, upstream_url = start("tests.gateway.upstream_stub", [], [])
    gateway, gateway_url = start("tests.gateway.gateway_process", [url, upstream_url], [str(prices), str(10**30), "0"])
    table = Table(title=f"CPU per 1,000 requests, {args.rounds} rounds of {args.round_requests:,} on one Postgres "
                        f"store, {args.concurrency} concurrent, upstream answers at once")  # fmt: skip
    for column in ("round", "rows before", "req/s", "gateway CPU s", "database CPU s", "total CPU s"):
        table.add_column(column, justify="right")
    totals = []
    try:
        asyncio.run(load(gateway_url, secrets, 200, args.concurrency, 0.0, warm_up=False))  # connections, caches
        for i in range(args.rounds):
            before_gateway, before_server = cpu_seconds(gateway.pid), server_cpu(postgres)
            _, wall = asyncio.run(load(gateway_url, secrets, args.round_requests, args.concurrency, 0.0,
                                       warm_up=False))  # fmt: skip
            per = 1_000 / args.round_requests
            used_gateway = (cpu_seconds(gateway.pid) - before_gateway) * per
            used_server = (server_cpu(postgres) - before_server) * per
            totals.append(used_gateway + used_server)
            table.add_row(str(i + 1), f"{200 + i * args.round_requests:,}", f"{args.round_requests / wall:,.0f}",
                          f"{used_gateway:.2f}", f"{used_server:.2f}", f"{totals[-1]:.2f}")  # fmt: skip
    finally:
        gateway.terminate()
        gateway.wait()
        upstream.terminate()
        upstream.wait()
    console.print(table)
    ratio = totals[-1] / totals[0]
    console.print(f"last round / first round: {ratio:.2f}x (target <= {ROUNDS_TARGET:g}x): "
                  f"{'met' if ratio <= ROUNDS_TARGET else 'NOT met'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument(
        "--upstream-ms",
        type=float,
        action="append",
        help="the upstream's mean time per answer; repeat for several runs (default: 1000 and 0)",
    )
    parser.add_argument("--rounds", type=int, default=10, help="CPU rounds on one store (0: none)")
    parser.add_argument("--round-requests", type=int, default=2_000)
    parser.add_argument("--rounds-only", action="store_true", help="skip the latency tables")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vvv-bench-gw-"))
    prices = folder / "prices.csv"
    prices.write_text(PRICES)
    postgres = PostgresServer(Path(tempfile.mkdtemp(prefix="vvv-bench-pg-")))  # a folder its server user can own
    postgres.start()
    console = Console(width=140)
    try:
        for i, upstream_ms in enumerate([] if args.rounds_only else args.upstream_ms or [1_000.0, 0.0]):
            stores = {"SQLite": f"sqlite:///{folder / f'usage-{i}.db'}",
                      "Postgres": postgres.database_url(postgres.create_database())}  # fmt: skip
            run(args, upstream_ms, stores, prices, console)
        if args.rounds:
            rounds(args, postgres, prices, console)
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
