"""Small helpers for exact-time chain tests."""

from ape import chain

E18 = 10**18
DAY = 86_400
WEEK = 7 * DAY


def at(timestamp: int) -> None:
    """Make the next transaction's block carry exactly `timestamp`."""
    chain.pending_timestamp = timestamp


def mine_at(timestamp: int) -> None:
    """Mine an empty block at `timestamp` so that views see that time."""
    chain.mine(timestamp=timestamp)


def next_day_start(days_ahead: int = 1) -> int:
    """A UTC midnight comfortably after the chain's current time."""
    return (chain.pending_timestamp // DAY + days_ahead) * DAY


def fund(token, holder, account, amount: int, spender=None) -> None:
    """Send `amount` VVV from the genesis `holder` to `account`, and approve `spender` for it."""
    token.transfer(account, amount, sender=holder)
    if spender is not None:
        token.approve(spender, amount, sender=account)


def stake_at(token, staking, holder, account, amount: int, timestamp: int):
    """Fund `account` with `amount` VVV from `holder` and stake it in a block at `timestamp`."""
    fund(token, holder, account, amount, spender=staking)
    at(timestamp)
    return staking.stake(amount, sender=account)


def notify(token, staking, notifier, amount: int, timestamp: int | None = None):
    """Mint `amount` to the staking contract and start a stream, as the controller does
    (mint at `timestamp - 1`, notify at `timestamp` when a time is given)."""
    if timestamp is not None:
        at(timestamp - 1)
    token.mint(staking, amount, sender=notifier)
    if timestamp is not None:
        at(timestamp)
    return staking.notifyRewards(amount, sender=notifier)


def check_next_stream_pays_the_carry(
    token, staking, notifier, account, start: int, amount: int, *, rate: int, earned: int
) -> None:
    """Start a stream of `amount` at `start`: it takes the whole carry (the carry reads 0 after
    it) at `rate` wei/s, and when it ends `account` has earned `earned` in all."""
    notify(token, staking, notifier, amount, start)
    assert staking.carriedRewardsScaled() == 0
    assert staking.rewardRate() == rate
    mine_at(start + DAY)
    assert staking.earned(account) == earned


CAPACITY = 181_480 * E18
ZERO_ROOT = b"\x00" * 32
EPOCH_EMISSION = 14_000_000 * E18 // 365  # 38,356.164383561643835616 VVV


def post(
    system,
    oracle,
    epoch: int,
    utilization: int,
    timestamp: int,
    *,
    root=ZERO_ROOT,
    total=0,
    count=0,
    capacity: int = CAPACITY,
):
    """Post a report for `epoch` at `timestamp` (empty active set unless given)."""
    at(timestamp)
    return system.oracle.postReport(epoch, utilization, capacity, root, total, count, sender=oracle)
