"""The daily report at Venice's scale, end to end: synthetic usage stores of 1M calls over 10k
accounts and 10M calls over 100k accounts, on SQLite and on a PostgreSQL server started like the
test suite's (tests/postgres.py), stakes for every account on anvil, and the report built
(aggregation in the database, stakes at the snapshot, the tree, the proofs file) with the
batched reads (Multicall3) and with one call per account, side by side: wall time, peak RSS,
RPC round trips, and the time at 50 ms per round trip (a hosted endpoint).

    .venv/bin/python bench/oracle.py [--sizes 1000000:10000 10000000:100000] [--backends sqlite postgres]
                                     [--sample 2000] [--batch 1000]

Every report is built in its own process (peak RSS from wait4; wall time of the build inside it,
after ape is loaded and connected). The per-account path reads the stakes of `--sample` accounts
one call each and is extrapolated to all of them (labelled so): its aggregation is measured, its
tree and proofs file are the batched run's (the same data). Round trips are the JSON-RPC
requests the process sends to anvil while building (vvv.bench.rpc), whatever their method.

Stakes: 100k accounts staked through Multicall3 itself: it receives VVV, approves the staking
contract and calls `stakeFor` 2,000 times per transaction (`aggregate3` as a transaction from
a test account; `msg.sender` of `stakeFor` is Multicall3, which pays). No helper contract, no
storage writes behind the contract's back: the checkpoints are the contract's own.

Stores: rows written in bulk with the indexes dropped and built after (COPY on Postgres,
executemany in 200k-row transactions on SQLite), as a Venice day would accumulate them. Calls
are spread evenly over the 7-day activity window ending with the reported epoch; every account
calls; costs are 1e12..1e17 wei, and every 100,000th call costs 20 VCU (2e19 wei, above 2**63).
The exact consumed total is computed while writing and checked against the report's.

Targets (100k active stakers, 10M calls, Postgres): report <= 120 s, <= 1 round trip per 500
accounts, peak RSS <= 1 GB."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, make_values  # noqa: E402 (bench/common.py: deterministic accounts)

DAY = 86_400
LATENCY = 0.050  # seconds per round trip at a hosted endpoint
STAKE_CALLS_PER_TX = 2_000
TARGET_SECONDS, TARGET_ACCOUNTS_PER_TRIP, TARGET_RSS_MB = 120, 500, 1_000
MODEL = "llama-3.3-70b"


def cost_of(i: int) -> int:
    """VCU wei of synthetic call i: 1e12 .. 1e17, every 100,000th 2e19 (above 2**63)."""
    return 20 * 10**18 if i % 100_000 == 99_999 else ((i * 2_654_435_761) % 100_000 + 1) * 10**12


def timestamp_of(i: int, n: int, window_start: int) -> int:
    return window_start + i * 7 * DAY // n


def account_index(i: int, accounts: int) -> int:
    return (i * 7_919) % accounts  # 7,919 is prime: every account calls once per `accounts` calls


# ---------------------------------------------------------------------------------------------
# child processes (each connects ape to anvil at --rpc)


def _connect(rpc: str):  # noqa: ANN202 (ape's context manager)
    """ape's foundry provider on the running anvil at `rpc` (it injects Multicall3 by set_code)."""
    from ape import networks

    os.environ["APE_FOUNDRY_HOST"] = rpc
    return networks.parse_network_choice("ethereum:local:foundry")


def _system(info: dict):  # noqa: ANN202
    from ape import project

    from vvv.chain.deployment import System

    c = info["contracts"]
    return System(token=project.VVVToken.at(c["VVVToken"]), staking=project.VVVStaking.at(c["VVVStaking"]),
                  emissions=project.EmissionsController.at(c["EmissionsController"]),
                  oracle=project.EpochOracle.at(c["EpochOracle"]))  # fmt: skip


def child_chain(rpc: str, accounts: int, out: Path) -> None:
    """Deploy, inject Multicall3, stake every account, close the reported epoch; write the info."""
    from ape import accounts as ape_accounts
    from ape import chain
    from eth_abi import encode
    from eth_utils import keccak

    from vvv.chain.deployment import deploy_system
    from vvv.chain.multicall import ensure_multicall

    with _connect(rpc):
        test = ape_accounts.test_accounts
        deployer = test[0]
        system = deploy_system(deployer, treasury=test[7], oracle=test[6], guardian=test[4], record=False)
        epoch = int(system.emissions.genesisEpoch())
        multicall = ensure_multicall()
        values = make_values(accounts)
        total = sum(stake for _, stake in values)
        system.token.transfer(multicall, total, sender=deployer)
        approve = keccak(text="approve(address,uint256)")[:4] + encode(["address", "uint256"],
                                                                       [system.staking.address, total])  # fmt: skip
        selector = keccak(text="stakeFor(address,uint256)")[:4]
        calls = [(system.token.address, False, approve)]
        calls += [(system.staking.address, False, selector + encode(["address", "uint256"], [a, s])) for a, s in values]
        started, gas = time.perf_counter(), 0
        aggregate3 = keccak(text="aggregate3((address,bool,bytes)[])")[:4]
        for i in range(0, len(calls), STAKE_CALLS_PER_TX):
            data = aggregate3 + encode(["(address,bool,bytes)[]"], [calls[i : i + STAKE_CALLS_PER_TX]])
            txn = chain.provider.network.ecosystem.create_transaction(
                receiver=multicall, data=data, gas_limit=900_000_000, sender=deployer.address,
                max_fee=10**11, max_priority_fee=0, chain_id=chain.chain_id, nonce=deployer.nonce,
            )  # fmt: skip
            receipt = deployer.call(txn)
            gas += receipt.gas_used
        staking_seconds = time.perf_counter() - started
        chain.mine(timestamp=(epoch + 1) * DAY + 60)  # the epoch is over; its snapshot is in the past
        staked = int(system.staking.totalStakedAt((epoch + 1) * DAY - 1))
        if staked != total:
            raise SystemExit(f"staked {staked}, expected {total}")
        # gas of one batch of 1,000 stake reads (an eth_call limit of common nodes: 50M)
        from vvv.chain.multicall import View

        view = View.of(system.staking, "stakeAt")
        batch = [(system.staking.address, False, view.call(a, (epoch + 1) * DAY - 1)[1]) for a, _ in values[:1_000]]
        read = chain.provider.network.ecosystem.create_transaction(
            receiver=multicall, data=aggregate3 + encode(["(address,bool,bytes)[]"], [batch])
        )
        read_gas = chain.provider.estimate_gas_cost(read)
        info = {"contracts": {"VVVToken": system.token.address, "VVVStaking": system.staking.address,
                              "EmissionsController": system.emissions.address, "EpochOracle": system.oracle.address},
                "epoch": epoch, "accounts": accounts, "staking_seconds": staking_seconds, "staking_gas": gas,
                "read_batch_gas": read_gas}  # fmt: skip
        out.write_text(json.dumps(info))


def child_fill(url: str, calls: int, accounts: int, epoch: int, out: Path) -> None:
    """Write a synthetic store; the exact consumed total of `epoch` to `out`."""
    from sqlalchemy import text

    from vvv.chain.epochs import activity_window, epoch_start, snapshot_time
    from vvv.oracle.usage import UsageStore, api_calls, cost_parts

    store = UsageStore(url, create=True)
    dialect = store.engine.dialect.name
    names = [c.name for c in api_calls.columns if c.name != "id"]
    window_start, _ = activity_window(epoch)
    day_start, day_end = epoch_start(epoch), snapshot_time(epoch)
    addresses = [a for a, _ in make_values(accounts)]
    consumed = 0
    indexes = [i.name for i in api_calls.indexes]

    def rows(lo: int, hi: int):  # noqa: ANN202
        nonlocal consumed
        for i in range(lo, hi):
            ts, cost = timestamp_of(i, calls, window_start), cost_of(i)
            if day_start <= ts <= day_end:
                consumed += cost
            high, low = cost_parts(cost, dialect)
            yield (ts, addresses[account_index(i, accounts)], MODEL, 1000, 500, 0, str(cost), f"b{i}", f"req:b{i}",
                   high, low)  # fmt: skip

    started = time.perf_counter()
    with store.engine.begin() as conn:
        for name in indexes:
            conn.execute(text(f"DROP INDEX {name}"))
    chunk = 200_000
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if dialect == "postgresql":
            with cursor.copy(f"COPY api_calls ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows(0, calls):
                    copy.write_row(row)
        else:
            placeholders = ", ".join("?" * len(names))
            statement = f"INSERT INTO api_calls ({', '.join(names)}) VALUES ({placeholders})"
            for lo in range(0, calls, chunk):
                cursor.execute("BEGIN")
                cursor.executemany(statement, rows(lo, min(calls, lo + chunk)))
                cursor.execute("COMMIT")
        raw.commit()
    finally:
        raw.close()
    loaded = time.perf_counter() - started
    from sqlalchemy.schema import CreateIndex

    with store.engine.begin() as conn:
        for index in api_calls.indexes:
            conn.execute(CreateIndex(index))
    if dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE api_calls"))
    else:
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    out.write_text(json.dumps({"consumed": str(consumed), "load_seconds": loaded,
                               "index_seconds": time.perf_counter() - started - loaded}))  # fmt: skip


class _TimedStore:
    """The store, timing the oracle's two aggregation reads."""

    def __init__(self, store: object) -> None:
        self.store, self.seconds = store, 0.0

    def _timed(self, name: str, *args: object) -> object:
        started = time.perf_counter()
        try:
            return getattr(self.store, name)(*args)
        finally:
            self.seconds += time.perf_counter() - started

    def consumed(self, *args: object) -> object:
        return self._timed("consumed", *args)

    def active_accounts(self, *args: object) -> object:
        return self._timed("active_accounts", *args)

    def count(self) -> object:
        return self.store.count()  # type: ignore[attr-defined]


def child_report(rpc: str, url: str, info_path: Path, mode: str, batch: int, sample: int, out: Path) -> None:
    """Build the report (batched: whole; per-account: aggregation, and the stakes of `sample`
    accounts one call each) and write the measurements to `out`."""
    from vvv.bench.rpc import count_requests
    from vvv.chain.epochs import activity_window, epoch_start, snapshot_time
    from vvv.oracle.proofs import write_proofs
    from vvv.oracle.reads import chain_reads
    from vvv.oracle.report import build_report
    from vvv.oracle.usage import UsageStore

    info = json.loads(info_path.read_text())
    epoch = info["epoch"]
    with _connect(rpc):
        system = _system(info)
        store = _TimedStore(UsageStore(url))
        result: dict[str, object] = {}
        with tempfile.TemporaryDirectory() as reports, count_requests() as requests:
            started = time.perf_counter()
            reads = chain_reads(system, mode, batch_size=batch)
            if mode == "batched":
                stakes_at, stake_seconds = reads.stakes_at, [0.0]

                def timed_stakes(accounts: list[str], timestamp: int) -> list[int]:
                    begun = time.perf_counter()
                    try:
                        return stakes_at(accounts, timestamp)
                    finally:
                        stake_seconds[0] += time.perf_counter() - begun

                reads.stakes_at = timed_stakes  # type: ignore[method-assign]
                proofs = build_report(system, store, epoch, reads=reads)  # type: ignore[arg-type]
                built = time.perf_counter()
                write_proofs(proofs, Path(reports))
                r = proofs.report
                result |= {"consumed": str(r.consumed_vcu), "active": r.active_count, "root": r.active_root,
                           "stake_seconds": stake_seconds[0], "proofs_seconds": time.perf_counter() - built,
                           "utilization": r.utilization_bps}  # fmt: skip
            else:
                consumed = store.consumed(epoch_start(epoch), snapshot_time(epoch))
                accounts = store.active_accounts(*activity_window(epoch))
                reads.report_and_last_capacity(epoch - 1)
                begun, before = time.perf_counter(), sum(requests.values())
                stakes = reads.stakes_at(accounts[:sample], snapshot_time(epoch))
                result |= {"consumed": str(consumed), "active": len(accounts), "sampled": len(stakes),
                           "stake_seconds": time.perf_counter() - begun,
                           "stake_requests": sum(requests.values()) - before}  # fmt: skip
            result |= {"seconds": time.perf_counter() - started, "aggregation_seconds": store.seconds,
                       "requests": sum(requests.values()), "by_method": dict(requests)}  # fmt: skip
    out.write_text(json.dumps(result))


# ---------------------------------------------------------------------------------------------
# the parent


def run_child(*args: str) -> float:
    """Run this script as a child; its peak RSS in MB (wait4)."""
    process = subprocess.Popen([sys.executable, __file__, *args], cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"bench child {args[0]} failed (status {status})")
    return usage.ru_maxrss / 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_anvil(work: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    anvil = ROOT / "node_modules" / ".bin" / "anvil"
    log = (work / "anvil.log").open("w")
    process = subprocess.Popen([str(anvil), "--port", str(port), "--gas-limit", "1000000000", "--silent"],
                               stdout=log, stderr=log)  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("anvil did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1000000:10000", "10000000:100000"], help="CALLS:ACCOUNTS")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--sample", type=int, default=2_000, help="accounts read one by one (per-account path)")
    parser.add_argument("--batch", type=int, default=1_000, help="reads per Multicall3 batch")
    args = parser.parse_args()
    try:
        sizes = [tuple(int(x) for x in s.split(":")) for s in args.sizes]
    except ValueError:
        parser.error("--sizes takes CALLS:ACCOUNTS, e.g. 1000000:10000")
    if any(len(s) != 2 or min(s) < 1 for s in sizes):
        parser.error("--sizes takes CALLS:ACCOUNTS with both at least 1")

    from rich.console import Console
    from rich.table import Table

    console = Console(width=170, stderr=False)
    work = Path(tempfile.mkdtemp(prefix="vvv-bench-oracle-"))
    anvil, rpc = start_anvil(work)
    server = None
    rows, verdicts = [], []
    try:
        most = max(a for _, a in sizes)
        info_path = work / "chain.json"
        chain_rss = run_child("chain", rpc, str(most), str(info_path))
        info = json.loads(info_path.read_text())
        console.print(f"anvil: {most:,} accounts staked through Multicall3 in {info['staking_seconds']:.1f} s "
                      f"({info['staking_gas']:,} gas, {STAKE_CALLS_PER_TX:,} stakeFor per transaction; set-up "
                      f"process peak {chain_rss:,.0f} MB); one batch of 1,000 stake reads: "
                      f"{info['read_batch_gas']:,} gas")  # fmt: skip
        if "postgres" in args.backends:
            sys.path.insert(0, str(ROOT))
            from tests.postgres import PostgresServer

            server = PostgresServer(Path(tempfile.mkdtemp(prefix="vvv-pg-")))
            server.start()
        for calls, accounts in sizes:
            for backend in args.backends:
                if backend == "sqlite":
                    url, database = f"sqlite:///{work / f'usage-{calls}.db'}", ""
                else:
                    database = server.create_database()  # type: ignore[union-attr]
                    url = server.database_url(database)  # type: ignore[union-attr]
                fill_out = work / "fill.json"
                started = time.perf_counter()
                run_child("fill", url, str(calls), str(accounts), str(info["epoch"]), str(fill_out))
                fill = json.loads(fill_out.read_text())
                console.print(f"{backend} store of {calls:,} calls over {accounts:,} accounts written in "
                              f"{time.perf_counter() - started:.0f} s (rows {fill['load_seconds']:.0f} s, "
                              f"indexes {fill['index_seconds']:.0f} s)")  # fmt: skip
                out = work / "report.json"
                batched_rss = run_child("report", rpc, url, str(info_path), "batched", str(args.batch), "0", str(out))
                batched = json.loads(out.read_text())
                one_rss = run_child("report", rpc, url, str(info_path), "per-account", str(args.batch),
                                    str(args.sample), str(out))  # fmt: skip
                one = json.loads(out.read_text())
                if batched["consumed"] != fill["consumed"] or one["consumed"] != fill["consumed"]:
                    raise SystemExit(f"consumed differs: {batched['consumed']}, {one['consumed']}, "
                                     f"written {fill['consumed']}")  # fmt: skip
                if batched["active"] != accounts or one["active"] != accounts:
                    raise SystemExit(f"active set of {batched['active']} / {one['active']}, expected {accounts}")
                n, sampled = accounts, one["sampled"]
                scale = n / sampled
                # the other requests as measured, the stake reads' scaled from the sample to every account
                one_requests = round(one["requests"] - one["stake_requests"] + one["stake_requests"] * scale)
                tree_and_file = batched["seconds"] - batched["aggregation_seconds"] - batched["stake_seconds"]
                one_seconds = one["aggregation_seconds"] + one["stake_seconds"] * scale + tree_and_file
                label = f"{calls:,} calls / {n:,} accounts, {backend}"
                for name, seconds, rss, trips, note in (
                    ("batched (Multicall3)", batched["seconds"], batched_rss, batched["requests"], "measured"),
                    ("per-account", one_seconds, one_rss, one_requests,
                     f"stakes of {sampled:,} accounts measured, x{scale:,.0f}; tree + file from the batched run"),
                ):  # fmt: skip
                    rows.append((label, name, seconds, rss, trips, n / max(trips, 1), seconds + trips * LATENCY, note))
                if backend == "postgres" and n >= 100_000 and calls >= 10_000_000:
                    at_50 = batched["seconds"] + batched["requests"] * LATENCY
                    verdicts.append((batched["seconds"], batched["requests"], batched_rss, n, at_50))
                b = batched
                console.print(f"  batched: {b['seconds']:.1f} s (aggregation {b['aggregation_seconds']:.1f} s, stakes "
                              f"{b['stake_seconds']:.1f} s, proofs file {b['proofs_seconds']:.1f} s), {b['requests']} "
                              f"requests {b['by_method']}, utilization {b['utilization']} bps, "
                              f"root {b['root'][:14]}…")  # fmt: skip
                console.print(f"  per-account sample: {sampled:,} stakes in {one['stake_seconds']:.1f} s, "
                              f"{one['requests']} requests {one['by_method']}")  # fmt: skip
                if backend == "postgres":
                    server.drop_database(database)  # type: ignore[union-attr]
                else:
                    Path(url.removeprefix("sqlite:///")).unlink()
    finally:
        anvil.terminate()
        anvil.wait()
        if server is not None:
            server.stop()
            shutil.rmtree(server.root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    table = Table(title="The daily report end to end: batched reads against one call per account")
    for column in ("store", "path", "wall s", "peak RSS MB", "round trips", "accounts / trip", "s at 50 ms/trip",
                   "how"):  # fmt: skip
        table.add_column(column, justify="right" if column not in ("store", "path", "how") else "left")
    for label, name, seconds, rss, trips, per_trip, at_50, note in rows:
        ratio = f"{per_trip:,.0f}" if per_trip >= 10 else f"{per_trip:.2f}"
        table.add_row(label, name, f"{seconds:,.1f}", f"{rss:,.0f}", f"{trips:,}", ratio, f"{at_50:,.1f}", note)
    console.print(table)
    met_all = True
    for seconds, trips, rss, n, at_50 in verdicts:
        met = seconds <= TARGET_SECONDS and trips * TARGET_ACCOUNTS_PER_TRIP <= n and rss <= TARGET_RSS_MB
        met_all &= met
        console.print(f"target (100k stakers, 10M calls, Postgres): {seconds:.1f} s (<= {TARGET_SECONDS} s), "
                      f"{trips} round trips = 1 per {n / trips:,.0f} accounts (<= 1 per {TARGET_ACCOUNTS_PER_TRIP}), "
                      f"{rss:,.0f} MB (<= {TARGET_RSS_MB:,} MB), {at_50:.1f} s at 50 ms a trip: "
                      + ("met" if met else "NOT met"))  # fmt: skip
    if not verdicts:
        console.print("the target's size (10M calls, 100k accounts, Postgres) was not run")
    return 0 if met_all else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("chain", "fill", "report"):
        kind, rest = sys.argv[1], sys.argv[2:]
        if kind == "chain":
            child_chain(rest[0], int(rest[1]), Path(rest[2]))
        elif kind == "fill":
            child_fill(rest[0], int(rest[1]), int(rest[2]), int(rest[3]), Path(rest[4]))
        else:
            child_report(rest[0], rest[1], Path(rest[2]), rest[3], int(rest[4]), int(rest[5]), Path(rest[6]))
        sys.exit(0)
    sys.exit(main())
