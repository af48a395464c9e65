"""The daily report: build it from the usage store and the chain, write its proofs file, check
every bound the contract checks, then post it. And the hourly distribution of final epochs.

Safe to rerun, to run twice at once, to be killed anywhere and restarted, and to run after
days of downtime:
- one run at a time per chain (a lock file next to the proofs files; a second run stops with
  a clear message);
- epochs are handled strictly in order from the oracle's next epoch; a failure stops the run;
- the proofs file is written (atomically) before the report is sent. On restart, an epoch the
  chain already has is checked against its file (same root and fields) and skipped; an epoch
  the chain does not have is built again, and its file must be identical, or the run stops
  (the usage or the stakes changed since: a stale file is never posted or silently replaced).
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ape import chain

from vvv.chain.deployment import System
from vvv.chain.epochs import EPOCH_LENGTH, activity_window, epoch_start, snapshot_time
from vvv.oracle.merkle import StandardMerkleTree
from vvv.oracle.proofs import ZERO_ROOT, ProofsError, ProofsFile, ReportData, proofs_path, read_proofs, write_proofs
from vvv.oracle.usage import UsageStore

BPS = 10_000
STATUS_NONE, STATUS_PENDING, STATUS_FINAL, STATUS_REJECTED = 0, 1, 2, 3


def is_valid(status: int) -> bool:
    """A report status that counts: posted and not rejected (pending or final)."""
    return int(status) in (STATUS_PENDING, STATUS_FINAL)


class OracleError(RuntimeError):
    """The run stopped: nothing more was sent."""


class OracleBusy(OracleError):
    """Another run holds the lock."""


@dataclass(frozen=True)
class Outcome:
    epoch: int
    action: str  # "posted", "already on chain", "dry run"
    report: ReportData


@contextmanager
def run_lock(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ".lock"
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OracleBusy(f"another oracle run is in progress (it holds {path}); nothing was done") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def capacity_of_epoch(system: System, epoch: int) -> int:
    """The capacity in effect during `epoch`: from the report of `epoch - 1` when there is a
    valid one, else the oracle's last capacity."""
    report = system.oracle.report(epoch - 1)
    if is_valid(report.status):
        return report.capacity
    return system.oracle.lastCapacity()


def build_report(system: System, store: UsageStore, epoch: int, capacity: int | None = None) -> ProofsFile:
    """The report of closed `epoch`: utilization from the store (capped), the stakers active in
    epochs `epoch-6 .. epoch` with their stake at the snapshot from the chain, and the tree."""
    snapshot = snapshot_time(epoch)
    capacity_now = capacity_of_epoch(system, epoch)
    consumed = store.consumed(epoch_start(epoch), snapshot)
    utilization = min(BPS, consumed * BPS // capacity_now)
    start, end = activity_window(epoch)
    stakes = [(account, system.staking.stakeAt(account, snapshot)) for account in store.active_accounts(start, end)]
    stakes = [(account, stake) for account, stake in stakes if stake > 0]
    tree = StandardMerkleTree.of(stakes) if stakes else None
    data = ReportData(
        chain_id=chain.chain_id,
        oracle=system.oracle.address,
        epoch=epoch,
        snapshot=snapshot,
        utilization_bps=utilization,
        consumed_vcu=consumed,
        capacity_of_epoch=capacity_now,
        capacity=capacity if capacity is not None else system.oracle.lastCapacity(),
        active_root=tree.root_hex if tree else ZERO_ROOT,
        total_active_stake=sum(stake for _, stake in stakes),
        active_count=len(stakes),
    )
    return ProofsFile(data, tree)


def check_bounds(system: System, report: ReportData, expected_epoch: int | None = None) -> None:
    """Every rule `EpochOracle.postReport` checks, checked before anything is sent.
    `expected_epoch` is the next epoch in a dry run (default: the chain's)."""
    o = system.oracle
    current = chain.blocks.head.timestamp // EPOCH_LENGTH
    if report.epoch >= current:
        raise OracleError(f"epoch {report.epoch} has not ended (current epoch {current})")
    status = o.reportStatus(report.epoch)
    expected = o.nextEpochToReport() if expected_epoch is None else expected_epoch
    if status != STATUS_REJECTED and report.epoch != expected:
        raise OracleError(f"epoch {report.epoch} is not the next to report ({expected})")
    if not 0 <= report.utilization_bps <= BPS:
        raise OracleError(f"utilization {report.utilization_bps} bps is outside 0..10000")
    empty = [report.active_root == ZERO_ROOT, report.total_active_stake == 0, report.active_count == 0]
    if any(empty) and not all(empty):
        raise OracleError("root, total active stake and count must be all zero or all non-zero")
    staked = system.staking.totalStakedAt(report.snapshot)
    if report.total_active_stake > staked:
        raise OracleError(f"active stake {report.total_active_stake} exceeds the total staked {staked}")
    low, high, max_change = o.capacityBounds()
    if not low <= report.capacity <= high:
        raise OracleError(f"capacity {report.capacity} is outside the bounds {low}..{high}")
    last = o.lastCapacity()
    if abs(report.capacity - last) * BPS > last * max_change:
        raise OracleError(f"capacity {report.capacity} moves more than {max_change} bps from {last}")


def _check_on_chain(system: System, proofs: ProofsFile) -> None:
    r, on_chain = proofs.report, system.oracle.report(proofs.report.epoch)
    fields = (on_chain.utilizationBps, on_chain.capacity, "0x" + bytes(on_chain.activeRoot).hex(),
              on_chain.totalActiveStake, on_chain.activeCount)  # fmt: skip
    if fields != (r.utilization_bps, r.capacity, r.active_root.lower(), r.total_active_stake, r.active_count):
        raise ProofsError(f"the proofs file of epoch {r.epoch} does not match the report on chain {fields}")


def post_reports(
    system: System,
    store: UsageStore,
    sender: object,
    *,
    reports_dir: Path | None = None,
    until_epoch: int | None = None,
    capacity: int | None = None,
    dry_run: bool = False,
    echo: Callable[[str], None] = print,
    before_send: Callable[[ProofsFile], None] | None = None,
) -> list[Outcome]:
    """Report every closed, unreported epoch in order (up to `until_epoch`). Returns what was
    done per epoch. `before_send` is a hook for fault-injection tests."""
    chain_id = chain.chain_id
    directory = proofs_path(chain_id, 0, reports_dir).parent
    outcomes: list[Outcome] = []
    with run_lock(directory):
        o = system.oracle
        current = chain.blocks.head.timestamp // EPOCH_LENGTH
        first = o.nextEpochToReport()
        last = current - 1 if until_epoch is None else min(until_epoch, current - 1)
        # the newest report is looked at again: if it was rejected it is posted again (corrected);
        # if it is on chain, its proofs file is checked (a run may have died right after sending)
        if first - 1 >= o.firstEpoch():
            first -= 1
        for epoch in range(first, last + 1):
            path = proofs_path(chain_id, epoch, reports_dir)
            status = o.reportStatus(epoch)
            if is_valid(status):
                if path.exists():
                    proofs = read_proofs(path)
                    _check_on_chain(system, proofs)
                else:  # lost (e.g. a new machine): rebuilt, and kept only if it matches the chain
                    proofs = build_report(system, store, epoch, system.oracle.report(epoch).capacity)
                    _check_on_chain(system, proofs)
                    if not dry_run:
                        write_proofs(proofs, reports_dir)
                outcomes.append(Outcome(epoch, "already on chain", proofs.report))
                echo(f"epoch {epoch}: already on chain, matches {path.name}")
                continue
            fresh = build_report(system, store, epoch, capacity)
            if path.exists() and status != STATUS_REJECTED:
                existing = read_proofs(path)
                if existing.report != fresh.report:
                    raise ProofsError(
                        f"stale proofs file {path}: it differs from the report built now for epoch {epoch} "
                        "(usage or stakes changed since it was written). No report was sent for this epoch; "
                        "check the usage data, then remove the file to post the new report."
                    )
            check_bounds(system, fresh.report, expected_epoch=epoch if dry_run else None)
            r = fresh.report
            summary = (f"epoch {epoch}: utilization {r.utilization_bps} bps, {r.active_count} active stakers, "
                       f"active stake {r.total_active_stake}, capacity {r.capacity}, root {r.active_root}")  # fmt: skip
            if dry_run:
                echo(f"{summary} (dry run: nothing written or sent)")
                outcomes.append(Outcome(epoch, "dry run", r))
                continue
            write_proofs(fresh, reports_dir)
            if before_send is not None:
                before_send(fresh)
            o.postReport(epoch, r.utilization_bps, r.capacity, r.active_root, r.total_active_stake,
                         r.active_count, sender=sender)  # fmt: skip
            echo(f"{summary}: posted")
            outcomes.append(Outcome(epoch, "posted", r))
    return outcomes


def distribute_final_epochs(system: System, sender: object, echo: Callable[[str], None] = print) -> list[int]:
    """Distribute every closed epoch since genesis that is not distributed and can be: with a
    final report, or past the liveness fallback time."""
    em = system.emissions
    now = chain.blocks.head.timestamp
    current = now // EPOCH_LENGTH
    done = []
    for epoch in range(em.genesisEpoch(), current):
        if em.distributed(epoch):
            continue
        if system.oracle.isFinal(epoch) or now >= (epoch + 3) * EPOCH_LENGTH:
            em.distribute(epoch, sender=sender)
            echo(f"epoch {epoch}: distributed")
            done.append(epoch)
    return done


def run_oracle(
    system: System,
    store: UsageStore,
    sender: object,
    *,
    import_file: Path | None = None,
    distribute: bool = False,
    echo: Callable[[str], None] = print,
    **options: object,
) -> list[Outcome]:
    """What `ape run oracle` does: import a usage file (all-or-nothing; a bad file stops the run
    before anything is sent), post the reports, optionally distribute final epochs."""
    if import_file is not None:
        echo(f"imported {store.import_file(import_file)} calls from {import_file}")
    outcomes = post_reports(system, store, sender, echo=echo, **options)  # type: ignore[arg-type]
    if not any(o.action in ("posted", "dry run") for o in outcomes):
        echo("nothing to report: every closed epoch is reported")
    if distribute and not options.get("dry_run"):
        distribute_final_epochs(system, sender, echo=echo)
    return outcomes


__all__ = [
    "OracleBusy",
    "OracleError",
    "Outcome",
    "build_report",
    "check_bounds",
    "distribute_final_epochs",
    "post_reports",
    "run_oracle",
]
