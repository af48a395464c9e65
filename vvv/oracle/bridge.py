"""The allotment of a day whose source is not yet known (SPEC, `vcuAllocation`): from 00:00 until
the report of the day before is posted (at most the report deadline), the API side serves each
account `min(expected, fallback)`.

`expected` is the account's share in the report the oracle is expected to post: the account is in
the set when the usage store shows an API call of it in the activity window and it has a stake at
the snapshot, and its share is `stake * capacity / totalActiveStake` at the capacity the oracle
posts by default (the day's fallback capacity). Since `totalActiveStake <= totalStaked`, that share
is never below the fallback share `stake * capacity / totalStaked`, so the minimum is the fallback
share for an expected member and 0 for anyone else: whichever source the day ends on, no account
is served more than its final allotment, and the day stays within its capacity.

One function, so that the gateway (which serves it) and `staker status` (which shows it) agree."""

from __future__ import annotations

from vvv.chain.deployment import System
from vvv.chain.epochs import activity_window, snapshot_time
from vvv.oracle.usage import UsageStore, normalize_account


def bridge_allotment(system: System, store: UsageStore, account: str, epoch: int) -> int:
    """`min(expected, fallback)` for `account` in `epoch`, whose source is not yet known."""
    if epoch == 0:
        return 0
    account = normalize_account(account)
    start, end = activity_window(epoch - 1)
    if not store.is_active(account, start, end):
        return 0  # not in the expected set: expected 0
    snapshot = snapshot_time(epoch - 1)
    stake = int(system.staking.stakeAt(account, snapshot))
    total = int(system.staking.totalStakedAt(snapshot))
    if stake == 0 or total == 0:
        return 0
    return stake * int(system.oracle.fallbackCapacity(epoch)) // total  # <= the expected share
