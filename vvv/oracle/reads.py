"""What the oracle, the watchdog and `status` read from the chain per account (free stakes at a
snapshot, roles) and a report's fields, all at one pinned block: batched through Multicall3
(`vvv.chain.multicall`, one round trip per `batch_size` values), or one call per value (the
per-account path, kept to compare against and for a chain without Multicall3).

`chain_reads(system)` picks the batched path whenever Multicall3 is on the chain (every public
chain) or can be injected (a local node with `set_code`, such as anvil); otherwise (ape's
in-process chain, unless `ensure_multicall` deployed one and its address is given; a network
without Multicall3) it reads one call per value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from ape import chain

from vvv.chain.deployment import System, is_local
from vvv.chain.epochs import REPORT_REJECTED, DayFacts
from vvv.chain.multicall import DEFAULT_BATCH, Multicall, MulticallError, View, ensure_multicall, pinned_block

BATCHED, PER_ACCOUNT = "batched", "per-account"
MODES = ("auto", BATCHED, PER_ACCOUNT)


class OnChainReport(NamedTuple):
    """`EpochOracle.report(epoch)`, whichever path read it."""

    utilizationBps: int  # noqa: N815 (the contract's names)
    capacity: int
    activeRoot: bytes  # noqa: N815
    totalActiveStake: int  # noqa: N815
    activeCount: int  # noqa: N815
    postedAt: int  # noqa: N815
    finalAt: int  # noqa: N815
    status: int


def _report(raw: Any) -> OnChainReport:
    values = list(raw) if isinstance(raw, tuple) else [getattr(raw, name) for name in OnChainReport._fields]
    values[2] = bytes(values[2])
    return OnChainReport(*[v if i == 2 else int(v) for i, v in enumerate(values)])


class ChainReads:
    """Reads of `system` at `block`: through `multicall` in batches, or (None) one call each."""

    def __init__(self, system: System, block: int, multicall: Multicall | None) -> None:
        self.system = system
        self.block = block
        self.multicall = multicall
        self.mode = BATCHED if multicall is not None else PER_ACCOUNT

    def free_stakes_at(self, accounts: Sequence[str], timestamp: int) -> list[int]:
        """`freeStakeAt(account, timestamp)` of every account, in order: the stake a report
        commits to (`stakeAt - lockedAt`; the locked stake backs compute rights)."""
        staking = self.system.staking
        if self.multicall is None:
            return [int(staking.freeStakeAt(a, timestamp, block_id=self.block)) for a in accounts]
        view = View.of(staking, "freeStakeAt")
        return [int(v) for v in self.multicall.read(view.call(a, timestamp) for a in accounts)]

    def have_role(self, role: bytes, accounts: Sequence[str]) -> list[bool]:
        """`hasRole(role, account)` on the EpochOracle for every account, in order."""
        oracle = self.system.oracle
        if self.multicall is None:
            return [bool(oracle.hasRole(role, a, block_id=self.block)) for a in accounts]
        view = View.of(oracle, "hasRole")
        return [bool(v) for v in self.multicall.read(view.call(role, a) for a in accounts)]

    def report(self, epoch: int) -> OnChainReport:
        """`report(epoch)` of the EpochOracle."""
        if self.multicall is None:
            return _report(self.system.oracle.report(epoch, block_id=self.block))
        (raw,) = self.multicall.read_all([View.of(self.system.oracle, "report").call(epoch)])
        return _report(raw)

    def report_and_last_capacity(self, epoch: int) -> tuple[OnChainReport, int]:
        """`report(epoch)` and `lastCapacity()` (one round trip when batched)."""
        oracle = self.system.oracle
        if self.multicall is None:
            return _report(oracle.report(epoch, block_id=self.block)), int(oracle.lastCapacity(block_id=self.block))
        raw, last = self.multicall.read_all([View.of(oracle, "report").call(epoch),
                                             View.of(oracle, "lastCapacity").call()])  # fmt: skip
        return _report(raw), int(last)

    def epoch_inputs(self, epoch: int) -> EpochInputs:
        """The oracle's fields for the report of `epoch` (one round trip when batched)."""
        oracle = self.system.oracle
        if self.multicall is None:
            b = self.block
            raw, last = oracle.report(epoch - 1, block_id=b), oracle.lastCapacity(block_id=b)
            first, version = oracle.firstEpoch(block_id=b), oracle.reportRecord(epoch - 1, block_id=b).version
            deadline, fallback = oracle.reportDeadlineOf(epoch, block_id=b), oracle.fallbackCapacity(epoch, block_id=b)
        else:
            raw, last, first, record, deadline, fallback = self.multicall.read_together([
                View.of(oracle, "report").call(epoch - 1),
                View.of(oracle, "lastCapacity").call(),
                View.of(oracle, "firstEpoch").call(),
                View.of(oracle, "reportRecord").call(epoch - 1),
                View.of(oracle, "reportDeadlineOf").call(epoch),
                View.of(oracle, "fallbackCapacity").call(epoch),
            ])  # fmt: skip
            version = record[0] if isinstance(record, tuple | list) else record.version
        previous = _report(raw)
        posted = previous.postedAt if epoch - 1 >= int(first) else 0
        facts = DayFacts(epoch, int(first), posted, int(version), previous.status == REPORT_REJECTED, int(deadline))
        now = int(chain.blocks[self.block].timestamp)
        return EpochInputs(previous, int(last), facts, int(fallback), now)


class EpochInputs(NamedTuple):
    """What the report of `epoch` needs from the oracle besides stakes, read at the pinned block:
    the report of `epoch - 1`, `lastCapacity()`, the facts that decide the source of `epoch`'s
    allotments, `fallbackCapacity(epoch)` and the pinned block's timestamp."""

    previous: OnChainReport
    last_capacity: int
    facts: DayFacts
    fallback_capacity: int
    now: int


def find_multicall() -> str | None:
    """The Multicall3 of the connected chain: at its canonical address, or injected there on a
    local chain whose node can set code (anvil); None when there is none (ape's in-process
    chain, or a network without one: code is never injected on a live network)."""
    from ape_ethereum.multicall.constants import MULTICALL3_ADDRESS

    if len(chain.provider.get_code(MULTICALL3_ADDRESS)) > 0:
        return MULTICALL3_ADDRESS
    if not is_local():
        return None
    try:
        return ensure_multicall()
    except Exception:  # ape's in-process chain (no set_code), or a node that refuses it
        return None


def chain_reads(
    system: System,
    mode: str = "auto",
    *,
    block: int | None = None,
    batch_size: int = DEFAULT_BATCH,
    multicall_address: str | None = None,
) -> ChainReads:
    """Reads of `system` at `block` (default: the newest block, pinned for every read of this
    object). `mode`: "auto" (batched when Multicall3 is there or can be injected, else one
    call each), "batched" (MulticallError without a Multicall3) or "per-account"."""
    if mode not in MODES:
        raise MulticallError(f"unknown read mode {mode!r} (use {', '.join(MODES)})")
    block = pinned_block() if block is None else block
    if mode == PER_ACCOUNT:
        return ChainReads(system, block, None)
    address = multicall_address or find_multicall()
    if address is None:
        if mode == BATCHED:
            raise MulticallError(f"no Multicall3 on chain {chain.chain_id}, and it cannot be injected here")
        return ChainReads(system, block, None)
    return ChainReads(system, block, Multicall(address, block, batch_size))
