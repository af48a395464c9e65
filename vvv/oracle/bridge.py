"""The allotment of a day whose source is not yet known (SPEC, `vcuAllocation`): from 00:00 until
the report of the day before is posted (at most the report deadline), the API side serves each
account the rights activated to it (`activatedAt`, served under every source, as the contract
does) plus `min(expected, fallback)` of the pool.

The pool is `capacity - totalActivatedAt(epoch)` (0 when the activations reach it). `expected`
is the account's pool share in the report the oracle is expected to post: the account is in the
set when the usage store shows an API call of it in the activity window and it has a free stake
at the snapshot, and its share is `freeStake * pool / totalActiveStake` at the capacity the oracle
posts by default (the day's fallback capacity). Since `totalActiveStake <= totalFreeStaked`, that
share is never below the fallback share `freeStake * pool / totalFreeStaked`, so the minimum is
the fallback share for an expected member and 0 for anyone else: whichever source the day ends
on, no account is served more than its final allotment, and the day stays within its capacity.

One function, so that the gateway (which serves it) and `staker status` (which shows it) agree."""

from __future__ import annotations

from vvv.chain.deployment import System
from vvv.chain.epochs import activity_window, snapshot_time
from vvv.oracle.rights import activations, pool
from vvv.oracle.usage import UsageStore, normalize_account


def bridge_allotment(
    system: System, store: UsageStore, account: str, epoch: int, rights: tuple[int, int] | None = None
) -> int:
    """Rights + `min(expected, fallback)` of the pool for `account` in `epoch`, whose source is
    not yet known. `rights`: `(activatedAt(account, epoch), totalActivatedAt(epoch))` when the
    caller has them (they are fixed once the epoch has started), else read here."""
    if epoch == 0:
        return 0
    account = normalize_account(account)
    activated, total_activated = rights if rights is not None else activations(system, account, epoch)
    return activated + _bridge_share(system, store, account, epoch, total_activated)


def _bridge_share(system: System, store: UsageStore, account: str, epoch: int, total_activated: int) -> int:
    start, end = activity_window(epoch - 1)
    if not store.is_active(account, start, end):
        return 0  # not in the expected set: expected 0
    snapshot = snapshot_time(epoch - 1)
    stake = int(system.staking.freeStakeAt(account, snapshot))
    total = int(system.staking.totalFreeStakedAt(snapshot))
    if stake == 0 or total == 0:
        return 0
    return stake * pool(int(system.oracle.fallbackCapacity(epoch)), total_activated) // total  # <= expected
