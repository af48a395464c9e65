"""Locked stake (SPEC.md, "ComputeRights" > Staking): `lock` and `unlock` by the locker alone,
locked stake out of the reward weight from the lock (what was earned before stays the
account's), its share streaming to the others, nothing stranded, unstake of free stake only,
and the lock checkpoints. A test account stands in for the ComputeRights contract.

Expected values are worked out by hand in the comments: 1 VVV/s streams with stakes whose
reward-per-token steps divide exactly, so every share is exact to the wei."""

import ape
import pytest

from tests.helpers import DAY, E18, at, check_next_stream_pays_the_carry, mine_at, next_day_start, notify, stake_at

MIN_STAKE = 10**15


@pytest.fixture(scope="module")
def locker(accounts):
    """Stands in for the ComputeRights contract: the staking contract's locker."""
    return accounts[9]


@pytest.fixture(scope="module")
def staking(project, token, deployer, guardian, notifier, locker):
    return project.VVVStaking.deploy(token, deployer, 3 * DAY, guardian, notifier, locker, sender=deployer)


@pytest.fixture
def t0(chain):
    return next_day_start(2)


def lock(staking, locker, account, amount, timestamp):
    at(timestamp)
    return staking.lock(account, amount, sender=locker)


def unlock(staking, locker, account, amount, timestamp):
    at(timestamp)
    return staking.unlock(account, amount, sender=locker)


# ------------------------------------------------------------------ the role
def test_locker_role_is_locked_even_for_admin(staking, deployer, locker, alice, bob, attacker):
    # Like the notifier: administered by a role that administers itself and nobody holds.
    role, locked = staking.LOCKER_ROLE(), staking.getRoleAdmin(staking.LOCKER_ROLE())
    assert locked == staking.getRoleAdmin(staking.NOTIFIER_ROLE()) != staking.DEFAULT_ADMIN_ROLE()
    for call in (
        lambda: staking.grantRole(role, attacker, sender=deployer),
        lambda: staking.revokeRole(role, locker, sender=deployer),
    ):
        with ape.reverts(staking.AccessControlUnauthorizedAccount, account=deployer, neededRole=locked):
            call()
    # nor can the locker give it up (lock and unlock check the immutable `locker`, not the role)
    with ape.reverts(staking.AccessControlUnauthorizedAccount, account=locker, neededRole=locked):
        staking.renounceRole(role, locker, sender=locker)
    # other roles are renounced as OpenZeppelin's AccessControl does
    guardian_role = staking.GUARDIAN_ROLE()
    staking.grantRole(guardian_role, bob, sender=deployer)
    staking.renounceRole(guardian_role, bob, sender=bob)
    assert not staking.hasRole(guardian_role, bob)
    assert staking.hasRole(role, locker)
    assert staking.locker() == locker.address  # the one holder, readable (the oracle reads it)
    assert not any(staking.hasRole(role, who) for who in (deployer, alice, bob, attacker))


def test_a_staking_contract_without_a_locker_names_none(project, token, deployer, guardian, notifier):
    none = "0x" + "00" * 20
    staking = project.VVVStaking.deploy(token, deployer, 3 * DAY, guardian, notifier, none, sender=deployer)
    assert staking.locker() == none
    assert not staking.hasRole(staking.LOCKER_ROLE(), none)


# ------------------------------------------------------------------ rewards


def test_locked_share_streams_to_the_others(token, staking, deployer, notifier, locker, alice, bob, t0):
    # alice 100 VVV, bob 300 VVV; a stream of 86,400 VVV (1 VVV/s) from t0. Half way, 200 of
    # bob's VVV are locked. First half, 43,200 VVV by 100:300: alice 10,800, bob 32,400.
    # Second half, free 100:100: alice 21,600, bob 21,600 (on his 100 free VVV only).
    # alice 32,400 VVV, bob 54,000 VVV: the whole 86,400, to the wei.
    stake_at(token, staking, deployer, alice, 100 * E18, t0 - 20)
    stake_at(token, staking, deployer, bob, 300 * E18, t0 - 10)
    notify(token, staking, notifier, 86_400 * E18, t0)
    tx = lock(staking, locker, bob, 200 * E18, t0 + 43_200)
    assert tx.events == [staking.StakeLocked(account=bob, amount=200 * E18, lockedAfter=200 * E18)]
    assert staking.earned(bob) == 32_400 * E18  # earned until the lock stays his
    mine_at(t0 + DAY + 5)
    assert staking.earned(alice) == 32_400 * E18
    assert staking.earned(bob) == 54_000 * E18
    assert staking.unstreamedRewards() == 0
    # The lock moves no token and keeps the stake: it is only out of the reward weight.
    assert (staking.stakeOf(bob), staking.freeStakeOf(bob), staking.lockedOf(bob)) == (300 * E18, 100 * E18, 200 * E18)
    assert (staking.totalStaked(), staking.totalFreeStaked(), staking.totalLocked()) == (
        400 * E18,
        200 * E18,
        200 * E18,
    )
    assert token.balanceOf(staking) == 400 * E18 + 86_400 * E18


def test_unlocked_stake_earns_again(token, staking, deployer, notifier, locker, alice, bob, t0):
    # Same stakes; all 300 of bob's VVV are locked for the middle half of the stream
    # (t0+21,600 .. t0+64,800). First quarter 21,600 VVV by 100:300: alice 5,400, bob 16,200.
    # Middle half, 43,200 VVV to alice alone. Last quarter like the first. alice 54,000 VVV,
    # bob 32,400 VVV: 86,400.
    stake_at(token, staking, deployer, alice, 100 * E18, t0 - 20)
    stake_at(token, staking, deployer, bob, 300 * E18, t0 - 10)
    notify(token, staking, notifier, 86_400 * E18, t0)
    lock(staking, locker, bob, 300 * E18, t0 + 21_600)
    assert staking.freeStakeOf(bob) == 0
    tx = unlock(staking, locker, bob, 300 * E18, t0 + 64_800)
    assert tx.events == [staking.StakeUnlocked(account=bob, amount=300 * E18, lockedAfter=0)]
    mine_at(t0 + DAY + 5)
    assert staking.earned(alice) == 54_000 * E18
    assert staking.earned(bob) == 32_400 * E18
    # What bob earned while free is paid in full, locked or not in between.
    balance = token.balanceOf(bob)
    assert staking.RewardsClaimed(account=bob, amount=32_400 * E18) in staking.claimRewards(sender=bob).events
    assert token.balanceOf(bob) - balance == 32_400 * E18


def test_nothing_stranded_when_every_stake_is_locked(token, staking, deployer, notifier, locker, alice, t0):
    # alice alone, 100 VVV; a stream of 86,400 VVV from t0; all of it locked half way. The second
    # half (43,200 VVV) streams to no free stake: it is carried, not lost. Unlocked after the
    # stream, and a second stream of 10,800 VVV starts at t0+DAY+100 carrying the 43,200:
    # 54,000 VVV over a day (0.625 VVV/s, exact), all to alice. alice ends with 43,200 + 54,000
    # = 97,200 VVV = both streams.
    stake_at(token, staking, deployer, alice, 100 * E18, t0 - 10)
    notify(token, staking, notifier, 86_400 * E18, t0)
    lock(staking, locker, alice, 100 * E18, t0 + 43_200)
    mine_at(t0 + DAY)
    assert staking.earned(alice) == 43_200 * E18
    assert staking.carriedRewardsScaled() == 43_200 * E18 * E18
    unlock(staking, locker, alice, 100 * E18, t0 + DAY + 10)
    check_next_stream_pays_the_carry(
        token, staking, notifier, alice, t0 + DAY + 100, 10_800 * E18, rate=625 * 10**15, earned=97_200 * E18
    )


# ------------------------------------------------------------------ checkpoints and views


def test_lock_checkpoints(token, staking, deployer, locker, alice, bob, t0):
    # alice stakes 10 VVV at t0, 4 locked at t0+100, 3 more at t0+200, 5 unlocked at t0+300;
    # bob 20 VVV at t0+50, 20 locked at t0+250. stakeAt stays the whole stake, freeStakeAt
    # and lockedAt split it; the totals alike.
    stake_at(token, staking, deployer, alice, 10 * E18, t0)
    stake_at(token, staking, deployer, bob, 20 * E18, t0 + 50)
    lock(staking, locker, alice, 4 * E18, t0 + 100)
    lock(staking, locker, alice, 3 * E18, t0 + 200)
    lock(staking, locker, bob, 20 * E18, t0 + 250)
    unlock(staking, locker, alice, 5 * E18, t0 + 300)
    mine_at(t0 + 400)
    expected = {  # time: (alice stake, free, locked), (total, free, locked)
        t0 + 99: ((10, 10, 0), (30, 30, 0)),
        t0 + 100: ((10, 6, 4), (30, 26, 4)),
        t0 + 249: ((10, 3, 7), (30, 23, 7)),
        t0 + 250: ((10, 3, 7), (30, 3, 27)),
        t0 + 300: ((10, 8, 2), (30, 8, 22)),
    }
    for t, (mine, total) in expected.items():
        got_mine = (staking.stakeAt(alice, t), staking.freeStakeAt(alice, t), staking.lockedAt(alice, t))
        got_total = (staking.totalStakedAt(t), staking.totalFreeStakedAt(t), staking.totalLockedAt(t))
        assert got_mine == tuple(x * E18 for x in mine), t
        assert got_total == tuple(x * E18 for x in total), t
    assert staking.lockedAt(bob, t0 + 249) == 0
    assert staking.lockedAt(bob, t0 + 250) == staking.stakeAt(bob, t0 + 250) == 20 * E18


def test_plain_stakes_write_no_lock_checkpoint(token, staking, deployer, alice, t0):
    # A stake and an unstake touch neither lock trace: the lock views read 0 at every time.
    stake_at(token, staking, deployer, alice, 10 * E18, t0)
    at(t0 + 10)
    staking.requestUnstake(4 * E18, sender=alice)
    mine_at(t0 + 20)
    for t in (t0, t0 + 10, t0 + 20):
        assert (staking.lockedAt(alice, t), staking.totalLockedAt(t)) == (0, 0)
    assert staking.stakeAt(alice, t0 + 10) == staking.freeStakeAt(alice, t0 + 10) == 6 * E18


# ------------------------------------------------------------------ unstaking


def test_unstake_takes_only_free_stake(token, staking, deployer, locker, bob, t0):
    # bob 300 VVV, 200 locked: 100 free. Asking 101 is refused naming the free 100; the 100
    # leave; the locked 200 stay staked.
    stake_at(token, staking, deployer, bob, 300 * E18, t0)
    lock(staking, locker, bob, 200 * E18, t0 + 10)
    at(t0 + 20)
    with ape.reverts(staking.InsufficientStake, requested=101 * E18, staked=100 * E18):
        staking.requestUnstake(101 * E18, sender=bob)
    staking.requestUnstake(100 * E18, sender=bob)
    assert (staking.stakeOf(bob), staking.freeStakeOf(bob), staking.lockedOf(bob)) == (200 * E18, 0, 200 * E18)
    assert staking.totalUnbonding() == 100 * E18
    with ape.reverts(staking.InsufficientStake, requested=E18, staked=0):
        staking.requestUnstake(E18, sender=bob)


# ------------------------------------------------------------------ bad calls


def test_lock_and_unlock_refuse_bad_amounts(token, staking, deployer, locker, alice, t0):
    stake_at(token, staking, deployer, alice, 10 * E18, t0)
    at(t0 + 10)
    with ape.reverts(staking.ZeroAmount):
        staking.lock(alice, 0, sender=locker)
    with ape.reverts(staking.InsufficientFreeStake, account=alice, requested=10 * E18 + 1, free=10 * E18):
        staking.lock(alice, 10 * E18 + 1, sender=locker)
    # A lock may take the whole free stake or leave at least MIN_STAKE free.
    with ape.reverts(staking.BelowMinimumStake, amount=MIN_STAKE - 1, minimum=MIN_STAKE):
        staking.lock(alice, 10 * E18 - MIN_STAKE + 1, sender=locker)
    staking.lock(alice, 10 * E18, sender=locker)
    with ape.reverts(staking.ZeroAmount):
        staking.unlock(alice, 0, sender=locker)
    with ape.reverts(staking.InsufficientLockedStake, account=alice, requested=10 * E18 + 1, locked=10 * E18):
        staking.unlock(alice, 10 * E18 + 1, sender=locker)
    # A free stake below MIN_STAKE would unbound the reward accumulator.
    with ape.reverts(staking.BelowMinimumStake, amount=MIN_STAKE - 1, minimum=MIN_STAKE):
        staking.unlock(alice, MIN_STAKE - 1, sender=locker)
    staking.unlock(alice, MIN_STAKE, sender=locker)
    assert (staking.freeStakeOf(alice), staking.lockedOf(alice)) == (MIN_STAKE, 10 * E18 - MIN_STAKE)
    with ape.reverts(staking.InsufficientFreeStake, account=deployer, requested=1, free=0):
        staking.lock(deployer, 1, sender=locker)


def test_pause_stops_locks_not_unlocks(token, staking, deployer, guardian, locker, alice, t0):
    stake_at(token, staking, deployer, alice, 10 * E18, t0)
    lock(staking, locker, alice, 5 * E18, t0 + 10)
    staking.pause(sender=guardian)
    with ape.reverts(staking.EnforcedPause):
        staking.lock(alice, E18, sender=locker)
    staking.unlock(alice, 5 * E18, sender=locker)
    assert staking.lockedOf(alice) == 0


@pytest.mark.parametrize("who", ["deployer", "alice", "guardian", "notifier", "attacker"])
def test_only_locker_locks_and_unlocks(token, staking, deployer, locker, alice, t0, who, request):
    caller = request.getfixturevalue(who)
    stake_at(token, staking, deployer, alice, 10 * E18, t0)
    lock(staking, locker, alice, 5 * E18, t0 + 10)
    role = staking.LOCKER_ROLE()
    with ape.reverts(staking.AccessControlUnauthorizedAccount, account=caller, neededRole=role):
        staking.lock(alice, E18, sender=caller)
    with ape.reverts(staking.AccessControlUnauthorizedAccount, account=caller, neededRole=role):
        staking.unlock(alice, E18, sender=caller)
