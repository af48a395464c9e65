"""One property over the whole system (issue 21, item 8): the chain (the suite's anvil, read by
the gateways over HTTP), several gateway processes sharing one usage store (SQLite, then
Postgres), the oracle (`vvv.oracle.report.post_reports`) and the guardian, driven by a seeded
random driver through days of concurrent and stalled requests, reports posted early (before
the day's report deadline) or late, or rejected. After every step (a move of the chain's
clock, a batch of requests, a report, a rejection) the store is read in one snapshot and:

1. no account spends (charged + reserved) more in a day than its limit, and no capped key
   more than its daily cap; the limit is computed here from SPEC's formulas, not by the
   gateway's code: report source `stake * capacity / totalActiveStake` over the accounts this
   test saw become API-active in the report's 7-day window, fallback `stake * capacity /
   totalStaked`, not yet known `min(expected, fallback)`; in a day whose report was rejected,
   `max(fallback, what it had spent when the guardian rejected it)` (SPEC: a rejected report
   pushes the day over by at most what was served under it);
2. in every day whose report (of the day before) was never rejected, the VCU charged and
   reserved add up to at most the day's capacity;
3. every request the gateway took (a request id on a 200, 503 or 504) has exactly one charge,
   or, while in flight, exactly one reservation, never both; a whole answer's charge is the
   work the stand-in upstream reports, priced here by hand, to the wei; a refused request
   (402, 502) is never charged; every charged row belongs to a request this test sent;
4. every activity receipt has a usage row of its account and epoch, and every account this
   test saw become API-active in a day has its receipt;
5. each posted report holds the active set computed here (count, total stake) and the day's
   utilization from the charges.

Actions: requests (chat, streamed chat read whole, a stream whose client stops reading, with
its usage first or last, image, an upstream failure) from three stakers, a fourth who starts
calling on a later day (first refused, API-active, then served), and an unstaked account,
with capped and uncapped keys, sent concurrently to random gateway processes; streams
stalled across midnight; the report of the day before posted early, late, early then
rejected by the guardian, or not at all that day (posted late the day after). The upstream
is the tests' stand-in; everything else is the real thing.

Profiles (`VVV_SYSTEM_FUZZ`): `short` (the default, in the anvil pass of `make test`: 2 days
per store, 2 gateway processes, about 50 s in all), `long` (`VVV_SYSTEM_FUZZ=long make
system-fuzz`: 20 days per store, 3 gateway processes). `VVV_SYSTEM_FUZZ_SEED` replays a run
(the seed is printed in every failure). The gateways read the chain over HTTP, so the test
runs in the anvil pass only (`--network ethereum:local:foundry`)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from ape import chain, networks
from sqlalchemy import create_engine, text

from tests.cli_runner import free_port, stop_group
from tests.gateway.keys_support import Served
from tests.gateway.upstream_stub import COMPLETION, PER_MESSAGE, Upstream
from tests.helpers import CAPACITY, DAY, E18, at, mine_at
from vvv.chain.apikeys import CreateKey, key_hash, sign
from vvv.gateway.keys import KeyStore
from vvv.oracle.report import SanityBounds, post_reports
from vvv.oracle.usage import UsageStore
from vvv.staker.keys import domain_of

ROOT = Path(__file__).resolve().parents[2]
PRICES = """kind,model,vcu_per_1m_input,vcu_per_1m_output,vcu_per_image,vcu_per_image_input,image_sizes
chat,small-chat,30000000,300000000,,,
image,painter,,,3000,,512x512
"""
IN, OUT, IMAGE = 30 * E18, 300 * E18, 3_000 * E18  # VCU wei per input token, output token, image
DEADLINE = 3_600  # the report deadline (EpochOracle's default), seconds after the day's start
# fay stakes and never calls, so a report's shares are larger than the fallback's; dave has no stake
STAKES = {"alice": 100 * E18, "bob": 300 * E18, "carol": 600 * E18, "erin": 200 * E18, "fay": 400 * E18, "dave": 0}
TOTAL_STAKED = sum(STAKES.values())


@dataclass(frozen=True)
class Profile:
    days: int  # per store
    gateways: int
    batch: int  # requests per batch, at most


PROFILES = {"short": Profile(days=2, gateways=2, batch=8), "long": Profile(days=20, gateways=3, batch=16)}
PROFILE_NAME = os.environ.get("VVV_SYSTEM_FUZZ", "short")
SEED = int(os.environ.get("VVV_SYSTEM_FUZZ_SEED", "2121"))


@pytest.fixture(autouse=True)
def anvil_pass_only():
    if networks.provider.name != "foundry":
        pytest.skip("the gateway processes read the chain over HTTP: runs in the anvil pass of `make test`")


def vcu_wei(text_: str) -> int:
    return int(Decimal(text_) * E18)


@dataclass
class Call:
    """One request the driver sent, and what it got."""

    name: str  # the account's name
    account: str
    secret: str
    key: str  # key hash
    kind: str  # chat, stream, stall, stall-usage, image, fail
    body: dict[str, Any]
    url: str
    day: int
    expected: int | None  # the charge of the whole work, by hand (None: not known ahead)
    status: int = 0
    request_id: str | None = None
    charged: int | None = None
    message: str = ""
    api_active: bool | None = None
    hold: float = 0.0  # a stalled stream: seconds its client holds it without reading


@dataclass
class Model:
    """What the driver knows, independently of the gateway's code."""

    g: int
    accounts: dict[str, str]  # name -> address (lower case)
    caps: dict[str, int] = field(default_factory=dict)  # key hash -> daily cap (0: none)
    calls: list[Call] = field(default_factory=list)
    active: set[tuple[str, int]] = field(default_factory=set)  # (name, day) API-active
    posted_at: dict[int, int] = field(default_factory=dict)  # report epoch -> first posting's time
    report_set: dict[int, frozenset[str]] = field(default_factory=dict)  # report epoch -> names
    rejected: dict[int, dict[str, int]] = field(default_factory=dict)  # report epoch -> spend at its rejection
    erin_from: int = 1  # the day (from genesis) erin, a staker, makes her first call

    def expected_set(self, epoch: int) -> frozenset[str]:
        """The report of `epoch`: the stakers API-active in epochs epoch-6 .. epoch."""
        return frozenset(n for n, d in self.active if epoch - 6 <= d <= epoch and STAKES[n] > 0)

    @staticmethod
    def share(name: str, members: frozenset[str]) -> int:
        total = sum(STAKES[n] for n in members)
        return STAKES[name] * CAPACITY // total if name in members else 0

    def limit(self, name: str, day: int, now: int) -> int:
        fallback = STAKES[name] * CAPACITY // TOTAL_STAKED
        if day == self.g:  # no report of the day before can exist: the fallback
            return fallback
        e, deadline = day - 1, day * DAY + DEADLINE
        if e in self.rejected:  # what it was served under the report, then the fallback (SPEC)
            return max(self.rejected[e].get(name, 0), fallback)
        posted = self.posted_at.get(e)
        if posted is not None and posted < deadline:
            return self.share(name, self.report_set[e])
        if now < deadline:  # not yet known: min(expected, fallback)
            return min(self.share(name, self.expected_set(e)), fallback)
        return fallback


class Driver:
    def __init__(self, rng: random.Random, system: Any, model: Model, store: UsageStore, url: str,
                 gateways: list[tuple[subprocess.Popen, str]], reports: Path, oracle: Any, guardian: Any,
                 secrets: dict[str, list[str]], batch: int,
                 spawn: Callable[[], tuple[subprocess.Popen, str]]) -> None:  # fmt: skip
        self.rng, self.system, self.model, self.store = rng, system, model, store
        self.processes, self.spawn = gateways, spawn  # (process, URL) of each gateway, a new one
        self.reports, self.oracle, self.guardian = reports, oracle, guardian
        self.secrets, self.batch_size = secrets, batch
        dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
        self.begin = "BEGIN ISOLATION LEVEL REPEATABLE READ" if dialect == "postgresql" else "BEGIN"
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.stalls: list[threading.Thread] = []
        self.steps = 0
        self.counts: Counter[str] = Counter()  # how often each action and outcome ran
        self.log: list[str] = []
        self.day = model.g

    def fail(self, what: str) -> None:
        tail = "\n".join(self.log[-12:])
        raise AssertionError(f"{what}\n(seed {SEED}, profile {PROFILE_NAME}, step {self.steps})\nlast steps:\n{tail}")

    # ------------------------------------------------------------ actions

    def move(self, timestamp: int) -> None:
        mine_at(timestamp)
        self.day = timestamp // DAY
        self.wait_for_the_gateways_clocks(timestamp)
        self.step(f"clock -> day {self.day - self.model.g} +{timestamp % DAY} s")

    def wait_for_the_gateways_clocks(self, timestamp: int) -> None:
        """Every live gateway's chain clock (read every 0.05 s) has reached `timestamp`, as its
        key status route says (a loaded machine can hold a clock's thread past a fixed wait)."""
        secret = next(s for keys in self.secrets.values() for s in keys)
        auth = {"authorization": f"Bearer {secret}"}
        for url in self.gateways:
            deadline = time.monotonic() + 30
            while httpx.get(url + "/v1/api_keys/rate_limits", headers=auth, timeout=30).json()["now"] < timestamp:
                if time.monotonic() > deadline:
                    self.fail(f"the gateway at {url} did not see the chain's time {timestamp} within 30 s")
                time.sleep(0.02)

    @property
    def gateways(self) -> list[str]:
        """The live gateways' URLs; none alive is a failure that names each one's exit code."""
        live = [url for process, url in self.processes if process.poll() is None]
        if not live:  # the first is never killed: it died on its own
            exits = ", ".join(f"{url} exit {process.returncode}" for process, url in self.processes)
            raise AssertionError(f"every gateway process has exited ({exits}); their logs: "
                                 f"{Path(self.reports).parent}/gateway-*.log")  # fmt: skip
        return live

    def request(self, stalls: bool, kind: str | None = None) -> Call:
        rng = self.rng
        names = ["alice", "bob", "carol", "carol", "bob", "dave"]
        name = rng.choice(names + (["erin"] if self.day - self.model.g >= self.model.erin_from else []))
        secret = rng.choice(self.secrets[name])
        kinds = ["chat", "chat", "stream", "image", "fail"] + (["stall", "stall-usage"] * 2 if stalls else [])
        kind = kind or rng.choice(kinds)
        if kind == "image":
            n = rng.randint(1, 4)
            body: dict[str, Any] = {"model": "painter", "prompt": "a cat", "n": n, "size": "512x512"}
            expected: int | None = IMAGE * n
        else:
            messages, n, most = rng.randint(1, 3), rng.choice([1, 1, 2, 4]), rng.choice([3, 7, 12, 30, 60])
            body = {"model": "small-chat", "messages": [{"role": "user", "content": "hi"}] * messages,
                    "max_tokens": most, "n": n}  # fmt: skip
            if kind != "chat":
                body["stream"] = True
            if kind in ("stall", "stall-usage", "fail"):
                body["user"] = kind
            expected = PER_MESSAGE * messages * IN + min(most, COMPLETION) * n * OUT
            if kind in ("stall", "fail"):
                expected = None  # cut before its usage: charged what was relayed (or nothing: 502)
        return Call(name, self.model.accounts[name], secret, key_hash(secret), kind, body, rng.choice(self.gateways),
                    self.day, expected, hold=rng.uniform(0.0, 2.0))  # fmt: skip

    def send(self, call: Call, headers_seen: threading.Event | None = None) -> Call:
        path = "/v1/images/generations" if call.kind == "image" else "/v1/chat/completions"
        auth = {"authorization": f"Bearer {call.secret}"}
        with httpx.Client(timeout=60) as http:
            request = http.build_request("POST", call.url + path, json=call.body, headers=auth)
            response = http.send(request, stream=True)
            try:
                call.status = response.status_code
                call.request_id = response.headers.get("x-request-id")
                charged = response.headers.get("x-vvv-charged-vcu")
                call.charged = vcu_wei(charged) if charged else None
                if call.kind in ("stall", "stall-usage") and call.status == 200:
                    assert headers_seen is not None
                    headers_seen.set()
                    time.sleep(call.hold)  # not reading: the gateway cuts it after 1 s
                    return call
                response.read()
                if call.status != 200:
                    error = json.loads(response.content)["error"]
                    call.message, call.api_active = error["message"], error.get("apiActive")
            finally:
                response.close()
                if headers_seen is not None:
                    headers_seen.set()
        return call

    def batch(self, stalls: bool = False) -> None:
        calls = [self.request(stalls) for _ in range(self.rng.randint(1, self.batch_size))]
        plain = [c for c in calls if c.kind not in ("stall", "stall-usage")]
        for c in calls:
            if c.kind in ("stall", "stall-usage"):
                seen = threading.Event()
                thread = threading.Thread(target=self.send, args=(c, seen), daemon=True)
                thread.start()
                self.stalls.append(thread)
                assert seen.wait(60), "a stalled stream got no answer"
        with ThreadPoolExecutor(max(1, len(plain))) as pool:
            list(pool.map(self.send, plain))
        self.record(calls)
        self.step(f"batch of {len(calls)}: " + ", ".join(f"{c.name} {c.kind} {c.status}" for c in calls))

    def record(self, calls: list[Call]) -> None:
        for c in calls:
            self.model.calls.append(c)
            self.counts[f"{c.kind} {c.status}"] += 1
            key_cap = c.status == 402 and "key's daily cap" in c.message
            reached = c.status in (200, 502, 504) or (c.status == 402 and not key_cap) or (
                c.status == 503 and c.request_id is not None)  # fmt: skip
            if STAKES[c.name] > 0 and reached:
                self.model.active.add((c.name, c.day))
            if c.status == 402 and c.api_active != (STAKES[c.name] > 0 and not key_cap):
                self.fail(f"402 apiActive {c.api_active} for {c.name}: {c.message}")
            if c.status not in (200, 402, 502):
                self.fail(f"{c.kind} of {c.name} answered {c.status}: {c.message}")

    def kill_a_gateway(self, restart: bool) -> None:
        """A gateway process is killed (SIGKILL) while it relays streams their clients stopped
        reading: their reservations stay, and another gateway's sweeper charges each in full
        once the chain passes its expiry (a killed process loses no charge). The first
        gateway is never killed; a new one may take the victim's place."""
        process, url = self.rng.choice([(p, u) for p, u in self.processes[1:] if p.poll() is None])
        calls = [self.request(stalls=True, kind="stall") for _ in range(3)]
        for c in calls:
            c.url = url
            seen = threading.Event()
            thread = threading.Thread(target=self.send, args=(c, seen), daemon=True)
            thread.start()
            self.stalls.append(thread)
            assert seen.wait(60), "a stalled stream got no answer"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        self.record(calls)
        self.counts["gateway killed"] += 1
        if restart:
            self.processes.append(self.spawn())
            self.counts["gateway started"] += 1
        self.step(f"gateway {url} killed with {[c.status for c in calls]} streams in flight"
                  + (", another started" if restart else ""))  # fmt: skip

    def post(self) -> None:
        lines: list[str] = []
        outcomes = post_reports(self.system, self.store, self.oracle, reports_dir=self.reports,
                                until_epoch=self.day - 1, bounds=SanityBounds(allow_outlier=True),
                                echo=lines.append)  # fmt: skip
        for o in outcomes:
            self.counts[f"report {o.action}"] += 1
            if o.action != "posted":
                continue
            on_chain = self.system.oracle.report(o.epoch)
            members = self.model.expected_set(o.epoch)
            self.model.posted_at.setdefault(o.epoch, int(on_chain.postedAt))
            self.model.report_set.setdefault(o.epoch, members)
            charged = self.spent_in(o.epoch)
            if (int(on_chain.activeCount), int(on_chain.totalActiveStake), int(on_chain.capacity),
                    int(on_chain.utilizationBps)) != (len(members), sum(STAKES[n] for n in members), CAPACITY,
                                                      charged * 10_000 // CAPACITY):  # fmt: skip
                self.fail(f"the report of day {o.epoch - self.model.g} ({on_chain}) is not the expected one: "
                          f"{sorted(members)}, {charged} VCU wei charged")  # fmt: skip
        self.step("oracle: " + "; ".join(lines))

    def reject(self) -> None:
        e = self.day - 1
        if int(self.system.oracle.reportStatus(e)) != 1:  # only a pending report
            return
        self.system.oracle.reject(e, sender=self.guardian)
        time.sleep(0.6)  # every gateway's allotments of the day are read again (each kept 0.5 s)
        self.model.rejected[e] = {n: self.spent_in(self.day, self.model.accounts[n]) for n in STAKES}
        self.counts["report rejected"] += 1
        self.step(f"guardian rejects the report of day {e - self.model.g}")

    def settle_everything(self, until: int) -> None:
        """Every stalled client lets go, the chain passes every reservation's expiry, and the
        gateways' sweepers charge whatever is left."""
        for t in self.stalls:
            t.join(timeout=60)
        self.move(until)
        deadline = time.monotonic() + 30
        while self.read()[1] and time.monotonic() < deadline:
            time.sleep(0.2)
        self.step("everything settled")

    # ------------------------------------------------------------ the property

    def read(self) -> tuple[list[Any], list[Any], set[tuple[str, int]]]:
        with self.engine.connect() as conn:
            conn.exec_driver_sql(self.begin)
            rows = conn.execute(text("SELECT account, timestamp, vcu_cost_wei, request_id FROM api_calls")).all()
            held = conn.execute(text("SELECT request_id, account, key_hash, epoch, amount_wei "
                                     "FROM gateway_reservations")).all()  # fmt: skip
            receipts = {(r.account, int(r.epoch)) for r in conn.execute(text(
                "SELECT account, epoch FROM activity_receipts"))}  # fmt: skip
            conn.exec_driver_sql("COMMIT")
        return rows, held, receipts

    def spent_in(self, epoch: int, account: str | None = None) -> int:
        """VCU wei charged and reserved in the epoch (by one account, if given)."""
        rows, held, _ = self.read()
        charged = sum(
            int(r.vcu_cost_wei) for r in rows if int(r.timestamp) // DAY == epoch and account in (None, r.account)
        )
        return charged + sum(int(h.amount_wei) for h in held if int(h.epoch) == epoch and account in (None, h.account))

    def step(self, what: str) -> None:
        self.steps += 1
        self.log.append(f"{self.steps}: {what}")
        self.check(final=False)

    def check(self, final: bool) -> None:
        rows, held, receipts = self.read()
        m = self.model
        names = {a: n for n, a in m.accounts.items()}
        by_id = {c.request_id: c for c in m.calls if c.request_id}
        charges = Counter(r.request_id for r in rows)
        held_ids = {h.request_id for h in held}
        if dup := [i for i, n in charges.items() if n > 1]:
            self.fail(f"charged twice: {dup}")
        if both := held_ids & set(charges):
            self.fail(f"charged and still reserved: {sorted(both)}")
        cost = {r.request_id: int(r.vcu_cost_wei) for r in rows}
        for r in rows:
            activity = str(r.request_id).endswith(":activity")
            if activity and int(r.vcu_cost_wei) != 0 or not activity and r.request_id not in by_id:
                self.fail(f"a usage row of no request this test sent: {tuple(r)}")
        for c in m.calls:
            took = c.request_id is not None and c.status in (200, 503, 504)
            if not took:
                if c.request_id in charges or c.request_id in held_ids:
                    self.fail(f"a refused request ({c.status}: {c.message}) was charged or is reserved: {c}")
                continue
            charged, reserved = c.request_id in charges, c.request_id in held_ids
            whole = c.status == 200 and c.kind in ("chat", "stream", "image")
            if whole and not (charged and cost[c.request_id] == c.expected and c.charged in (None, c.expected)):
                self.fail(f"the answered request {c.request_id} is not charged {c.expected} once: "
                          f"{cost.get(c.request_id)} (header {c.charged}), reserved: {reserved}")  # fmt: skip
            if charged == reserved or (final and not charged):
                self.fail(f"request {c.request_id} ({c.kind}, {c.status}): charged {charged}, reserved {reserved}")
        spend: dict[tuple[str, int], int] = defaultdict(int)
        key_spend: dict[tuple[str, int], int] = defaultdict(int)
        for r in rows:
            day, amount = int(r.timestamp) // DAY, int(r.vcu_cost_wei)
            spend[(names[r.account], day)] += amount
            if amount:
                key_spend[(by_id[r.request_id].key, day)] += amount
        for h in held:
            spend[(names[h.account], int(h.epoch))] += int(h.amount_wei)
            key_spend[(h.key_hash, int(h.epoch))] += int(h.amount_wei)
        now = int(chain.blocks.head.timestamp)
        for (name, day), amount in spend.items():
            if amount > (most := m.limit(name, day, now)):
                self.fail(f"{name} spent {amount} VCU wei on day {day - m.g}, more than its limit {most}")
        for (key, day), amount in key_spend.items():
            if m.caps[key] and amount > m.caps[key]:
                self.fail(f"key {key[:10]} spent {amount} VCU wei on day {day - m.g}, over its cap {m.caps[key]}")
        for day in {d for _, d in spend}:
            served = sum(v for (_, d), v in spend.items() if d == day)
            if day - 1 not in m.rejected and served > CAPACITY:
                self.fail(f"day {day - m.g} served {served} VCU wei, more than the capacity {CAPACITY}")
        days_with_rows = {(r.account, int(r.timestamp) // DAY) for r in rows}
        if orphans := receipts - days_with_rows:
            self.fail(f"receipts without a usage row: {sorted(orphans)}")
        if missing := {(m.accounts[n], d) for n, d in m.active} - receipts:
            self.fail(f"API-active accounts without their receipt: {sorted(missing)}")

    # ------------------------------------------------------------ days

    def run_day(self, plan: str, kill: str = "") -> None:
        """`kill`: "kill" or "restart" a gateway in the day's afternoon."""
        rng, start = self.rng, self.day * DAY
        self.counts[f"day {plan}"] += 1
        self.move(start + rng.randint(30, 250))
        if int(self.system.oracle.fallbackCapacity(self.day)) != CAPACITY:  # every report posts it
            self.fail(f"the fallback capacity of day {self.day - self.model.g} is not {CAPACITY}")
        self.batch()
        if plan in ("early", "reject"):
            self.move(start + rng.randint(600, 3_000))
            self.post()
            self.batch()
            if plan == "reject":
                self.move(int(chain.blocks.head.timestamp) + rng.randint(60, 3_000))
                self.reject()
                self.batch()
        self.move(start + rng.randint(3_700, 40_000))
        if plan == "late":
            self.post()
        self.batch()
        self.move(start + rng.randint(40_001, 80_000))
        self.batch(stalls=True)
        if kill:
            self.kill_a_gateway(restart=kill == "restart")
        self.move(start + DAY - rng.randint(60, 200))  # streams that stall across midnight
        self.batch(stalls=True)
        self.move(start + DAY + rng.randint(1, 20))


def gateway_process(chain_uri: str, usage_url: str, upstream: str, reports: Path, prices: Path, environ: dict[str, str],
                    log: Path) -> tuple[subprocess.Popen, str]:  # fmt: skip
    port = free_port()
    argv = [sys.executable, "-m", "tests.gateway.chain_gateway_process", chain_uri, usage_url, upstream, str(port),
            str(reports), str(prices)]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=environ, stdout=out, stderr=out, start_new_session=True)
    return process, f"http://127.0.0.1:{port}"


def wait_served(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            httpx.get(url + "/v1/models", timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"the gateway at {url} did not start\n{log.read_text()[-3000:]}")


def test_the_whole_system_keeps_its_budgets(usage_url, tmp_path, accounts, deployer, oracle, guardian, treasury):
    from vvv.chain.deployment import deploy_system

    profile = PROFILES[PROFILE_NAME]
    store_index = 0 if usage_url.startswith("sqlite") else 1
    rng = random.Random(SEED * 2 + store_index)
    started = time.monotonic()
    at((chain.pending_timestamp // DAY + 1) * DAY + 3_600)
    system = deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian, record=False)
    g = int(system.emissions.genesisEpoch())
    assert int(system.oracle.reportDeadlineOf(g + 1)) == DEADLINE
    signer = accounts[9]
    system.oracle.grantRole(system.oracle.ACTIVITY_SIGNER_ROLE(), signer, sender=deployer)
    who = {
        "alice": accounts[1],
        "bob": accounts[2],
        "carol": accounts[3],
        "erin": accounts[5],
        "fay": treasury,
        "dave": accounts[8],
    }
    t = g * DAY - 1_000
    for name, amount in STAKES.items():
        if amount:
            for call in (lambda w=who[name], a=amount: system.token.transfer(w, a, sender=deployer),
                         lambda w=who[name], a=amount: system.token.approve(system.staking, a, sender=w),
                         lambda w=who[name], a=amount: system.staking.stake(a, sender=w)):  # fmt: skip
                at(t)
                t += 1
                call()
    deployments, reports = tmp_path / "deployments", tmp_path / "reports"
    deployments.mkdir()
    (deployments / f"{system.record['network']}.json").write_text(json.dumps(system.record))
    prices = tmp_path / "prices.csv"
    prices.write_text(PRICES)
    store = UsageStore(usage_url, create=True)
    keys = KeyStore(store.engine, domain_of(system))
    model = Model(g, {n: a.address.lower() for n, a in who.items()})
    model.erin_from = 1 if PROFILE_NAME == "short" else rng.randint(1, profile.days // 2)
    secrets: dict[str, list[str]] = {}
    now = int(chain.blocks.head.timestamp)
    for i, (name, account) in enumerate(who.items()):
        secrets[name] = []
        if name == "fay":
            continue
        for j, cap in enumerate([0, rng.choice([15_000, 25_000, 40_000]) * E18]):
            secret = f"vvv_{name}-{j}-{SEED}"
            request = CreateKey(account.address.lower(), f"agent{j}", cap, 0, 10 * i + j + 1, key_hash(secret),
                                now + 600)  # fmt: skip
            keys.create(sign(account, request, domain_of(system)), now)
            secrets[name].append(secret)
            model.caps[key_hash(secret)] = cap
    environ = os.environ | {"VVV_DEPLOYMENTS_DIR": str(deployments)}
    upstream = Upstream()
    processes: list[subprocess.Popen] = []
    driver = None
    try:
        with Served(upstream.app) as upstream_url:
            logs = iter(tmp_path / f"gateway-{i}.log" for i in range(100))

            def start() -> tuple[subprocess.Popen, str, Path]:
                log = next(logs)
                process, url = gateway_process(networks.provider.http_uri, usage_url, upstream_url, reports, prices,
                                               environ, log)  # fmt: skip
                processes.append(process)
                return process, url, log

            def spawn() -> tuple[subprocess.Popen, str]:
                process, url, log = start()
                wait_served(process, url, log)
                return process, url

            started_ = [start() for _ in range(profile.gateways)]
            for process, url, log in started_:
                wait_served(process, url, log)
            gateways = [(process, url) for process, url, _ in started_]
            driver = Driver(rng, system, model, store, usage_url, gateways, reports, oracle, guardian, secrets,
                            profile.batch, spawn)  # fmt: skip
            # the short profile's second day: a report posted early and rejected (SQLite), posted late
            # (Postgres); the long profile draws every day's
            plans = [["reject"], ["late"]][store_index]
            for day in range(profile.days):
                plan = "first" if day == 0 else plans[day - 1] if day - 1 < len(plans) else rng.choice(
                    ["early", "early", "late", "reject", "skip"])  # fmt: skip
                kill = "kill" if day == profile.days - 1 else "restart" if day == profile.days // 2 > 1 else ""
                driver.run_day(plan, kill)
            driver.settle_everything(driver.day * DAY + 1_200)
            driver.post()
            driver.check(final=True)
    finally:
        for process in processes:
            stop_group(process, 20)
    assert driver is not None
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(driver.counts.items()))
    print(
        f"\nwhole system ({PROFILE_NAME}, seed {SEED}, {usage_url.split(':')[0]}): {profile.days} days, "
        f"{driver.steps} steps, {len(model.calls)} requests, {time.monotonic() - started:.1f} s; {summary}"
    )
    assert driver.counts["report posted"] >= 1
