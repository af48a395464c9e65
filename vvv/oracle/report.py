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
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ape import chain

from vvv.chain.deployment import System
from vvv.chain.epochs import (
    EPOCH_LENGTH,
    Source,
    activity_window,
    allotment_source,
    epoch_start,
    snapshot_time,
)
from vvv.oracle.pricing import PriceTable, load_prices
from vvv.oracle.proofs import (
    ZERO_ROOT,
    ProofsError,
    ProofsFile,
    ReportData,
    proofs_path,
    read_proofs,
    sent_path,
    write_proofs,
)
from vvv.oracle.reads import PER_ACCOUNT, ChainReads, EpochInputs, chain_reads
from vvv.oracle.sending import (
    RefusedError,
    SendError,
    SendRecord,
    estimate_or_refuse,
    is_node_error,
    recorded_states,
    send_plain,
    send_with_record,
)
from vvv.oracle.sumtree import SumTree
from vvv.oracle.usage import StoreMissing, UsageReader, UsageStore, mask_url

if TYPE_CHECKING:
    from vvv.oracle.usage import ImportResult

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
    action: str  # "posted", "posted by another run", "already on chain", "dry run", "waiting"
    report: ReportData | None  # None when waiting
    until: int = 0  # waiting: the chain time by which every request of the day settles or expires


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


def capacity_of_epoch(system: System, epoch: int, reads: ChainReads | None = None) -> int:
    """The capacity in effect during `epoch`, by the day's one source: the capacity of the report
    of `epoch - 1` when the day's allotments come from it, else the day's fallback capacity
    (fixed when the day started). Read at `reads`' pinned block."""
    return _capacity_in_effect((reads or chain_reads(system, PER_ACCOUNT)).epoch_inputs(epoch))


def _capacity_in_effect(inputs: EpochInputs) -> int:
    source = allotment_source(inputs.facts, inputs.now)
    return inputs.previous.capacity if source == Source.REPORT else inputs.fallback_capacity


def build_report(
    system: System, store: UsageReader, epoch: int, capacity: int | None = None, *, reads: ChainReads | None = None
) -> ProofsFile:
    """The report of closed `epoch`: utilization from the store (summed by the database,
    capped), the stakers active in epochs `epoch-6 .. epoch` with their free stake at the snapshot
    from the chain, and the tree. Every chain read is made at one block, pinned when `reads`
    is made (default: `chain_reads(system)`, batched through Multicall3 where there is one)."""
    reads = reads or chain_reads(system)
    snapshot = snapshot_time(epoch)
    inputs = reads.epoch_inputs(epoch)
    last_capacity = inputs.last_capacity
    capacity_now = _capacity_in_effect(inputs)
    # what the gateway's sweep has yet to charge in full (reservations of the day that expired)
    unswept = store.in_flight(epoch, inputs.now).expired_amount
    consumed = store.consumed(epoch_start(epoch), snapshot) + unswept
    utilization = min(BPS, consumed * BPS // capacity_now)
    start, end = activity_window(epoch)
    accounts = store.active_accounts(start, end)
    stakes = [(a, s) for a, s in zip(accounts, reads.free_stakes_at(accounts, snapshot), strict=True) if s > 0]
    del accounts
    tree = SumTree.build(stakes)
    data = ReportData(
        chain_id=chain.chain_id,
        oracle=system.oracle.address,
        epoch=epoch,
        snapshot=snapshot,
        utilization_bps=utilization,
        consumed_vcu=consumed,
        capacity_of_epoch=capacity_now,
        capacity=capacity if capacity is not None else last_capacity,
        active_root=tree.root_hex,
        total_active_stake=tree.total,
        active_count=tree.count,
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
    free = system.staking.totalFreeStakedAt(report.snapshot)
    if report.total_active_stake > free:
        raise OracleError(f"active stake {report.total_active_stake} exceeds the total free stake {free}")
    low, high, max_change = o.capacityBounds()
    if not low <= report.capacity <= high:
        raise OracleError(f"capacity {report.capacity} is outside the bounds {low}..{high}")
    last = o.lastCapacity()
    if abs(report.capacity - last) * BPS > last * max_change:
        raise OracleError(f"capacity {report.capacity} moves more than {max_change} bps from {last}")


def _chain_fields(on_chain: object) -> tuple:
    """(utilization, capacity, root, total, count) of a report read from the chain."""
    return (on_chain.utilizationBps, on_chain.capacity, "0x" + bytes(on_chain.activeRoot).hex(),
            on_chain.totalActiveStake, on_chain.activeCount)  # fmt: skip


def _file_fields(r: ReportData) -> tuple:
    return (r.utilization_bps, r.capacity, r.active_root.lower(), r.total_active_stake, r.active_count)


def _check_on_chain(system: System, proofs: ProofsFile) -> None:
    r = proofs.report
    fields = _chain_fields(system.oracle.report(r.epoch))
    if fields != _file_fields(r):
        raise ProofsError(f"the proofs file of epoch {r.epoch} does not match the report on chain {fields}")


@dataclass(frozen=True)
class SanityBounds:
    """How far a report may move from the previous one before it is refused (after Lido's
    oracle report sanity checker). A report whose active set becomes empty is always refused
    when the previous one had stakers. `allow_outlier` posts it anyway."""

    max_utilization_change_bps: int = 5_000  # absolute change, in bps of capacity
    max_active_stake_drop_bps: int = 5_000  # fall, in bps of the previous active stake
    max_active_stake_rise_bps: int = 200_000  # rise, in bps of the previous active stake (20x)
    allow_outlier: bool = False


class SanityError(OracleError):
    """A report moved further from the previous one than the bounds allow."""


def _pct(bps: int) -> str:
    return f"{bps / 100:,.2f}%"


def _grouped(wei: int) -> str:
    """18-decimal amount with thousands separators, exact: 18148500000000000000000 -> '18,148.5'."""
    whole, frac = divmod(wei, 10**18)
    return f"{whole:,}" + (f".{frac:018d}".rstrip("0") if frac else "")


def vvv_text(wei: int) -> str:
    return f"{_grouped(wei)} VVV"


def vcu_text(wei: int) -> str:
    return f"{_grouped(wei)} VCU"


def previous_valid(system: System, epoch: int, lookback: int = 60) -> tuple[int, ReportData] | None:
    """The newest report before `epoch` that is pending or final, from the chain (fields the
    sanity check needs), looking back at most `lookback` epochs."""
    o = system.oracle
    first = o.firstEpoch()
    for e in range(epoch - 1, max(first, epoch - lookback) - 1, -1):
        r = o.report(e)
        if is_valid(r.status):
            return e, ReportData(
                chain_id=chain.chain_id, oracle=o.address, epoch=e, snapshot=snapshot_time(e),
                utilization_bps=r.utilizationBps, consumed_vcu=0, capacity_of_epoch=0, capacity=r.capacity,
                active_root="0x" + bytes(r.activeRoot).hex(), total_active_stake=r.totalActiveStake,
                active_count=r.activeCount,
            )  # fmt: skip
    return None


def sanity_check(report: ReportData, previous: ReportData | None, bounds: SanityBounds) -> None:
    """Refuse `report` when it moves from `previous` more than `bounds` allow (unless
    `bounds.allow_outlier`). The message names the bound, the move and the option to change."""
    if previous is None or bounds.allow_outlier:
        return
    e, p = report.epoch, previous.epoch
    hint = "; nothing was written or sent. Check the usage data and the chain, or pass --allow-outlier to post it"
    if previous.active_count > 0 and (report.active_count == 0 or report.total_active_stake == 0):
        raise SanityError(
            f"epoch {e}: sanity check: the active set drops to zero (from {previous.active_count} stakers with "
            f"{vvv_text(previous.total_active_stake)} at epoch {p}){hint}"
        )
    move = abs(report.utilization_bps - previous.utilization_bps)
    if move > bounds.max_utilization_change_bps:
        raise SanityError(
            f"epoch {e}: sanity check: utilization moves {move:,} bps ({previous.utilization_bps:,} bps at epoch {p} "
            f"-> {report.utilization_bps:,} bps), more than the {bounds.max_utilization_change_bps:,} bps bound "
            f"(--max-utilization-change){hint}"
        )
    old, new = previous.total_active_stake, report.total_active_stake
    if old > 0 and new < old and (old - new) * BPS > old * bounds.max_active_stake_drop_bps:
        raise SanityError(
            f"epoch {e}: sanity check: active stake falls {_pct((old - new) * BPS // old)} ({vvv_text(old)} at epoch "
            f"{p} -> {vvv_text(new)}), more than the {_pct(bounds.max_active_stake_drop_bps)} bound "
            f"(--max-active-stake-drop){hint}"
        )
    if old > 0 and new > old and (new - old) * BPS > old * bounds.max_active_stake_rise_bps:
        raise SanityError(
            f"epoch {e}: sanity check: active stake rises {_pct((new - old) * BPS // old)} ({vvv_text(old)} at epoch "
            f"{p} -> {vvv_text(new)}), more than the {_pct(bounds.max_active_stake_rise_bps)} bound "
            f"(--max-active-stake-rise){hint}"
        )


def check_sender(system: System, sender: object) -> None:
    """The sender holds the oracle role and the oracle is not paused (before anything is written)."""
    o = system.oracle
    address = getattr(sender, "address", sender)
    if not o.hasRole(o.ORACLE_ROLE(), address):
        raise OracleError(
            f"{address} does not hold ORACLE_ROLE on the EpochOracle {o.address}: use the oracle's account; "
            "nothing was written or sent"
        )
    if o.paused():
        raise OracleError("the EpochOracle is paused by the guardian: no report can be posted; nothing written or sent")


def _report_args(r: ReportData) -> tuple:
    return (r.epoch, r.utilization_bps, r.capacity, r.active_root, r.total_active_stake, r.active_count)


def _matches_chain(system: System, r: ReportData) -> bool:
    on_chain = system.oracle.report(r.epoch)
    return is_valid(on_chain.status) and _chain_fields(on_chain) == _file_fields(r)


def summary_line(r: ReportData) -> str:
    return (
        f"epoch {r.epoch}: utilization {r.utilization_bps:,} bps ({vcu_text(r.consumed_vcu)} of "
        f"{vcu_text(r.capacity_of_epoch)}), {r.active_count:,} active stakers with {vvv_text(r.total_active_stake)}, "
        f"next capacity {vcu_text(r.capacity)}, root {r.active_root}"
    )


def _send_report(
    system: System,
    fresh: ProofsFile,
    sender: object,
    reports_dir: Path | None,
    send: SendOptions,
    echo: Callable[[str], None],
    before_send: Callable[[ProofsFile], None] | None,
) -> str:
    """Check, write the proofs file, send (replacing a pending transaction of an earlier run).
    Returns the outcome's action."""
    r = fresh.report
    what = f"postReport of epoch {r.epoch}"
    method = system.oracle.postReport
    record_path = sent_path(r.chain_id, r.epoch, reports_dir)
    record = SendRecord.load(record_path)
    states = recorded_states(record)
    pending = [s.attempt for s in states if s.state == "pending"]
    path = proofs_path(r.chain_id, r.epoch, reports_dir)
    estimate_or_refuse(method, _report_args(r), sender=sender, what=what)
    if path.exists():
        try:
            differs = read_proofs(path).report != r
        except ProofsError:  # e.g. the file of a rejected lie: the chain holds no report of this epoch
            differs = True
        if differs:
            why = f"its transaction {pending[-1].txn_hash} is pending and is replaced" if pending else "it never landed"
            echo(f"epoch {r.epoch}: the proofs file of an earlier run differs; rebuilt ({why})")
    write_proofs(fresh, reports_dir)
    if before_send is not None:
        before_send(fresh)
    replace_nonce = replace_fees = None
    if pending:
        replace_nonce = pending[-1].nonce
        replace_fees = (max(a.max_fee for a in pending), max(a.max_priority_fee for a in pending))
        echo(f"epoch {r.epoch}: transaction {pending[-1].txn_hash} (nonce {replace_nonce}) of an earlier run is "
             "still pending: replacing it with higher fees")  # fmt: skip
    try:
        send_with_record(method, _report_args(r), sender=sender, record_path=record_path, what=what,
                         replace_nonce=replace_nonce, replace_fees=replace_fees, timeout=send.timeout,
                         max_replacements=send.max_replacements, echo=echo)  # fmt: skip
    except (RefusedError, SendError) as err:
        try:
            posted_by_other = _matches_chain(system, r)  # another run (another host) posted it first
        except Exception:
            raise err from None
        if posted_by_other:
            return "posted by another run"
        raise
    return "posted"


@dataclass(frozen=True)
class SendOptions:
    timeout: float = 120.0  # seconds to wait for a transaction before replacing it
    max_replacements: int = 3


def post_reports(
    system: System,
    store: UsageReader,
    sender: object,
    *,
    reports_dir: Path | None = None,
    until_epoch: int | None = None,
    capacity: int | None = None,
    dry_run: bool = False,
    bounds: SanityBounds | None = None,
    send: SendOptions | None = None,
    echo: Callable[[str], None] = print,
    before_send: Callable[[ProofsFile], None] | None = None,
) -> list[Outcome]:
    """Report every closed, unreported epoch in order (up to `until_epoch`). Returns what was
    done per epoch. Before anything is written or sent: the sender's role, every rule of
    `postReport` (by name, then by a gas estimate) and the sanity bounds against the previous
    report. A dry run takes no lock and writes nothing. `before_send` is a hook for
    fault-injection tests."""
    bounds = bounds or SanityBounds()
    send = send or SendOptions()
    chain_id = chain.chain_id
    directory = proofs_path(chain_id, 0, reports_dir).parent
    outcomes: list[Outcome] = []
    if not dry_run:
        check_sender(system, sender)
    try:
        with nullcontext() if dry_run else run_lock(directory):
            o = system.oracle
            current = chain.blocks.head.timestamp // EPOCH_LENGTH
            first = o.nextEpochToReport()
            last = current - 1 if until_epoch is None else min(until_epoch, current - 1)
            # the newest report is looked at again: if it was rejected it is posted again (corrected);
            # if it is on chain, its proofs file is checked (a run may have died right after sending)
            if first - 1 >= o.firstEpoch():
                first -= 1
            found = previous_valid(system, first)
            previous = found[1] if found else None
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
                    previous = proofs.report
                    continue
                # a day is read only once every request of it has settled or expired at the gateway
                # (SPEC): a charge or receipt committed after the read would prove an omission
                held = store.in_flight(epoch, int(chain.blocks.head.timestamp))
                if held.live:
                    when = datetime.fromtimestamp(held.last_expiry, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
                    echo(f"epoch {epoch}: waiting for {held.live} request(s) of the day still in flight at the "
                         f"gateway (each settles or expires by {when}); nothing sent")  # fmt: skip
                    outcomes.append(Outcome(epoch, "waiting", None, held.last_expiry))
                    break
                fresh = build_report(system, store, epoch, capacity)
                r = fresh.report
                check_bounds(system, r, expected_epoch=epoch if dry_run else None)
                sanity_check(r, previous, bounds)
                if dry_run:
                    echo(f"{summary_line(r)} (dry run: nothing written or sent)")
                    outcomes.append(Outcome(epoch, "dry run", r))
                    previous = r
                    continue
                action = _send_report(system, fresh, sender, reports_dir, send, echo, before_send)
                echo(f"{summary_line(r)}: {action}")
                outcomes.append(Outcome(epoch, action, r))
                previous = r
    except Exception as err:
        if not is_node_error(err):
            raise
        posted = [o.epoch for o in outcomes if o.action == "posted"]
        done = f"posted in this run: epochs {', '.join(map(str, posted))}" if posted else "nothing was sent"
        text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OracleError(f"lost the chain ({text}); {done}; run again when the node is back") from None
    return outcomes


def distribute_final_epochs(system: System, sender: object, echo: Callable[[str], None] = print) -> list[int]:
    """Distribute every closed epoch since genesis that is not distributed and can be: with a
    final report, or past the liveness fallback time with no report pending (a pending report is
    waited for: its window decides, never the fallback)."""
    em, o = system.emissions, system.oracle
    now = chain.blocks.head.timestamp
    current = now // EPOCH_LENGTH
    done = []
    for epoch in range(em.genesisEpoch(), current):
        if em.distributed(epoch):
            continue
        status = int(o.reportStatus(epoch))
        if status == STATUS_FINAL or (status != STATUS_PENDING and now >= (epoch + 3) * EPOCH_LENGTH):
            try:
                send_plain(em.distribute, (epoch,), sender=sender, what=f"distribute of epoch {epoch}")
            except (RefusedError, SendError):
                if em.distributed(epoch):  # another caller was first
                    continue
                raise
            source = "its final report" if status == STATUS_FINAL else "the utilization-0 fallback (no report)"
            echo(f"epoch {epoch}: distributed by {source}")
            done.append(epoch)
    return done


def run_oracle(
    system: System,
    store: UsageStore,
    sender: object,
    *,
    import_file: Path | None = None,
    prices: PriceTable | None = None,
    distribute: bool = False,
    echo: Callable[[str], None] = print,
    **options: object,
) -> list[Outcome]:
    """What `ape run oracle` does: import a usage file (all-or-nothing, checked against the
    price table; calls already in the store are skipped), post the reports, optionally
    distribute final epochs. A dry run imports into a transaction that is rolled back."""
    dry_run = bool(options.get("dry_run"))
    if import_file is not None and dry_run:
        with store.trial_import(import_file, prices or load_prices()) as (result, view):
            echo(_import_line(result, import_file, dry_run=True))
            outcomes = post_reports(system, view, sender, echo=echo, **options)  # type: ignore[arg-type]
    else:
        if import_file is not None:
            echo(_import_line(store.import_file(import_file, prices or load_prices()), import_file, dry_run=False))
        outcomes = post_reports(system, store, sender, echo=echo, **options)  # type: ignore[arg-type]
    if not any(o.action in ("posted", "dry run", "waiting") for o in outcomes):
        echo("nothing to report: every closed epoch is reported")
    if distribute and not dry_run:
        distribute_final_epochs(system, sender, echo=echo)
    return outcomes


def open_store(url: str, *, create: bool, dry_run: bool, echo: Callable[[str], None] = print) -> UsageStore:
    """The usage store at `url`. `create` makes a missing one, except in a dry run, which writes
    nothing: a dry run of a store that does not exist yet reads an empty one in memory."""
    try:
        return UsageStore(url, create=create and not dry_run)
    except StoreMissing:
        if not (create and dry_run):
            raise
    echo(f"usage store {mask_url(url)} does not exist yet: the dry run reads an empty one (nothing is created)")
    return UsageStore("sqlite://", create=True)


def _import_line(result: ImportResult, path: Path, *, dry_run: bool) -> str:
    verb = "would import" if dry_run else "imported"
    line = f"{verb} {result.added} new calls from {path}"
    if result.duplicates:
        line += f"; {result.duplicates} already in the store (skipped)"
    return line


__all__ = [
    "OracleBusy",
    "OracleError",
    "Outcome",
    "SanityBounds",
    "SanityError",
    "SendOptions",
    "build_report",
    "open_store",
    "check_bounds",
    "distribute_final_epochs",
    "post_reports",
    "run_oracle",
]
