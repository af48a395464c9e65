"""Reward streaming: shares by stake x time, carry of unstaked streams, top-ups, restake.

Expected values are worked out by hand in the comments (or with exact rationals, independent
of the contract's fixed-point arithmetic)."""

from fractions import Fraction

import pytest

from tests.helpers import (
    DAY,
    E18,
    at,
    check_next_stream_pays_the_carry,
    fund,
    mine_at,
    next_day_start,
    notify,
    stake_at,
)


@pytest.fixture
def t0(chain):
    return next_day_start(2)


def test_two_stakers_share_by_stake_times_time(token, staking, deployer, notifier, alice, bob, t0):
    # alice stakes 100 VVV at t0; at t0+100 a stream of 86,400 VVV starts (1 VVV/s for a day).
    # bob stakes 300 VVV at t0+100+43,200 (half way).
    # First half: alice alone earns 43,200 VVV.
    # Second half: 43,200 VVV split 100:300 -> alice 10,800, bob 32,400.
    # alice = 54,000 VVV, bob = 32,400 VVV, sum = 86,400 VVV = the whole stream, to the wei
    # (rate 1e18 wei/s x 1e18 scale; 43,200e36 / 100e18 and 43,200e36 / 400e18 are exact).
    stake_at(token, staking, deployer, alice, 100 * E18, t0)
    start = t0 + 100
    notify(token, staking, notifier, 86_400 * E18, start)
    assert staking.rewardRate() == E18
    assert staking.rewardsEnd() == start + DAY
    stake_at(token, staking, deployer, bob, 300 * E18, start + 43_200)
    mine_at(start + DAY + 50)
    assert staking.earned(alice) == 54_000 * E18
    assert staking.earned(bob) == 32_400 * E18
    assert staking.rewardRate() == 0  # stream over


def test_awkward_amounts_within_dust(token, staking, deployer, notifier, alice, bob, t0):
    # Same shape with numbers that do not divide: stream R = 1,000 VVV + 7 wei over 86,400 s;
    # alice stakes a = 3 VVV + 1 wei, bob joins after 12,345 s with b = 7 VVV + 3 wei.
    # Exact shares (rational): alice = R*s1/D + R*(D-s1)/D * a/(a+b); bob = R*(D-s1)/D * b/(a+b).
    # Stated dust bound (docs/staking.md): each accumulator update floors the reward per staked
    # wei to 1e-18 wei, costing an account at most stake/1e18 wei per update it lives through,
    # and its settlement floors to the wei. alice lives through 2 updates (bob's stake, the
    # view), bob through 1: alice loses < 1 + 2*a/1e18 (< 8 wei), bob < 1 + b/1e18 (< 9 wei).
    # Never more than the exact share, never more than R in total.
    R, D, s1 = 1_000 * E18 + 7, DAY, 12_345
    a, b = 3 * E18 + 1, 7 * E18 + 3
    stake_at(token, staking, deployer, alice, a, t0)
    notify(token, staking, notifier, R, t0 + 10)
    stake_at(token, staking, deployer, bob, b, t0 + 10 + s1)
    mine_at(t0 + 10 + D + 1)
    rate = Fraction(R, D)
    exact_alice = rate * s1 + rate * (D - s1) * Fraction(a, a + b)
    exact_bob = rate * (D - s1) * Fraction(b, a + b)
    got_alice, got_bob = staking.earned(alice), staking.earned(bob)
    assert 0 <= exact_alice - got_alice < 1 + Fraction(2 * a, E18)
    assert 0 <= exact_bob - got_bob < 1 + Fraction(b, E18)
    assert got_alice + got_bob <= R


def test_stream_while_nothing_staked_is_carried(token, staking, deployer, notifier, alice, t0):
    # A stream of 86,400 VVV starts at t0 with nothing staked. alice stakes 100 VVV at
    # t0+21,600: the first quarter (21,600 VVV) streamed to nobody and is carried; alice earns
    # the other 64,800 VVV by the end. A second stream of 10,800 VVV at t0+DAY+100 carries the
    # 21,600: it streams 32,400 VVV (0.375 VVV/s, exact), all to alice. Total for alice:
    # 64,800 + 32,400 = 97,200 VVV = both streams, nothing lost.
    notify(token, staking, notifier, 86_400 * E18, t0)
    stake_at(token, staking, deployer, alice, 100 * E18, t0 + 21_600)
    assert staking.carriedRewardsScaled() == 21_600 * E18 * E18
    mine_at(t0 + DAY)
    assert staking.earned(alice) == 64_800 * E18
    check_next_stream_pays_the_carry(
        token, staking, notifier, alice, t0 + DAY + 100, 10_800 * E18, rate=375 * 10**15, earned=97_200 * E18
    )


def test_stream_with_nobody_ever_staked_stays_in_unstreamed(token, staking, notifier, t0):
    # 5,000 VVV notified, nobody stakes for two days: all of it is still owed to stakers.
    notify(token, staking, notifier, 5_000 * E18, t0)
    mine_at(t0 + 2 * DAY)
    assert staking.unstreamedRewards() == 5_000 * E18
    assert staking.carriedRewardsScaled() == 5_000 * E18 * E18


def test_second_notify_adds_unpaid_rest(token, staking, deployer, notifier, alice, t0):
    # Stream 1: 86,400 VVV from t0 (1 VVV/s). At t0+21,600, 21,600 VVV have streamed and 64,800
    # remain; stream 2 adds 43,200: the new stream is 108,000 VVV over 86,400 s = 1.25 VVV/s,
    # ending at t0+21,600+86,400. alice (only staker) ends with 21,600 + 108,000 = 129,600 VVV.
    stake_at(token, staking, deployer, alice, 50 * E18, t0 - 10)
    notify(token, staking, notifier, 86_400 * E18, t0)
    notify(token, staking, notifier, 43_200 * E18, t0 + 21_600)
    assert staking.rewardRate() == 1_250_000_000_000_000_000
    assert staking.rewardsEnd() == t0 + 21_600 + DAY
    mine_at(t0 + 21_600 + DAY + 5)
    assert staking.earned(alice) == 129_600 * E18


def test_rate_remainder_carried_to_next_stream(token, staking, deployer, notifier, alice, t0):
    # 1 wei streamed over 86,400 s: rate (scaled) = 1e18 // 86,400 = 11,574,074,074,074 and the
    # remainder 1e18 - 11,574,074,074,074 * 86,400 = 6,400 (scaled) is carried exactly.
    stake_at(token, staking, deployer, alice, E18, t0 - 10)
    notify(token, staking, notifier, 1, t0)
    assert staking.rewardRateScaled() == 11_574_074_074_074
    assert staking.carriedRewardsScaled() == 6_400
    assert 11_574_074_074_074 * DAY + 6_400 == E18


def test_restake_moves_earnings_without_transfer(token, staking, deployer, notifier, alice, t0):
    # alice alone earns the whole 86,400 VVV stream; restaking adds exactly that to her stake
    # and moves no token: her wallet and the contract's balance stay as they were.
    stake_at(token, staking, deployer, alice, 100 * E18, t0 - 10)
    notify(token, staking, notifier, 86_400 * E18, t0)
    mine_at(t0 + DAY)
    wallet, held = token.balanceOf(alice), token.balanceOf(staking)
    at(t0 + DAY + 1)
    tx = staking.restakeRewards(sender=alice)
    assert staking.stakeOf(alice) == 86_500 * E18
    assert staking.totalStaked() == 86_500 * E18
    assert staking.earned(alice) == 0
    assert token.balanceOf(alice) == wallet
    assert token.balanceOf(staking) == held
    assert not list(tx.decode_logs(token.Transfer))
    assert [(e.account, e.amount) for e in tx.decode_logs(staking.RewardsRestaked)] == [(alice, 86_400 * E18)]


def test_claim_pays_earned_once(token, staking, deployer, notifier, alice, t0):
    # alice alone: after half a 86,400 VVV stream she has 43,200 VVV; claiming pays exactly that.
    stake_at(token, staking, deployer, alice, 100 * E18, t0 - 10)
    notify(token, staking, notifier, 86_400 * E18, t0)
    at(t0 + 43_200)
    tx = staking.claimRewards(sender=alice)
    assert [(e.account, e.amount) for e in tx.decode_logs(staking.RewardsClaimed)] == [(alice, 43_200 * E18)]
    assert token.balanceOf(alice) == 43_200 * E18
    assert staking.earned(alice) == 0
    mine_at(t0 + DAY)
    assert staking.earned(alice) == 43_200 * E18


def test_unstake_request_stops_earning_and_cancel_restores(token, staking, deployer, notifier, alice, bob, t0):
    # alice and bob stake 100 VVV each. alice requests to unstake all 100 at t0-5 (stops earning).
    # Stream of 86,400 VVV from t0. alice cancels at t0+43,200: her 100 are back and earn again.
    # First half: bob alone 43,200. Second half split 1:1: 21,600 each.
    # bob = 64,800 VVV, alice = 21,600 VVV.
    stake_at(token, staking, deployer, alice, 100 * E18, t0 - 20)
    stake_at(token, staking, deployer, bob, 100 * E18, t0 - 10)
    at(t0 - 5)
    staking.requestUnstake(100 * E18, sender=alice)
    request_id = staking.lastRequestId()
    assert staking.stakeOf(alice) == 0
    assert staking.totalStaked() == 100 * E18
    assert staking.totalUnbonding() == 100 * E18
    notify(token, staking, notifier, 86_400 * E18, t0)
    at(t0 + 43_200)
    tx = staking.cancelUnstake(request_id, sender=alice)
    assert [(e.account, e.requestId, e.amount) for e in tx.decode_logs(staking.UnstakeCancelled)] == [
        (alice, request_id, 100 * E18)
    ]
    assert staking.stakeOf(alice) == 100 * E18
    assert staking.totalStaked() == 200 * E18
    assert staking.totalUnbonding() == 0
    assert staking.unstakeRequest(request_id) == (alice, 100 * E18, 0, True)
    mine_at(t0 + DAY)
    assert staking.earned(alice) == 21_600 * E18
    assert staking.earned(bob) == 64_800 * E18


def test_full_unstake_keeps_earned_and_carries_the_rest(token, staking, deployer, notifier, alice, t0):
    # alice alone (100 VVV) for half of a 86,400 VVV stream earns 43,200 VVV, then unstakes
    # everything: she keeps the 43,200 (claimable with no stake), and the second half streams
    # to nobody and is carried (43,200 VVV, scaled by 1e18).
    stake_at(token, staking, deployer, alice, 100 * E18, t0 - 10)
    notify(token, staking, notifier, 86_400 * E18, t0)
    at(t0 + 43_200)
    staking.requestUnstake(100 * E18, sender=alice)
    mine_at(t0 + DAY + 10)
    assert staking.earned(alice) == 43_200 * E18
    assert staking.carriedRewardsScaled() == 43_200 * E18 * E18
    assert staking.unstreamedRewards() == 43_200 * E18
    at(t0 + DAY + 20)
    staking.claimRewards(sender=alice)
    assert token.balanceOf(alice) == 43_200 * E18
    assert staking.earned(alice) == 0


def test_restake_into_a_stream_keeps_earning_to_the_wei(token, staking, deployer, notifier, alice, bob, t0):
    # alice and bob 100 VVV each; stream 86,400 VVV from t0. At t0+43,200 each has 21,600;
    # alice restakes hers (stake 21,700), bob keeps 100. Second half: 43,200 split 21,700:100
    # -> alice 43,200 * 217/218, bob 43,200 / 218 (not whole wei: dust bound applies).
    # alice's rewards after the restake start from 0, so she has exactly her second-half share
    # less the accumulator floor (< 21,700e18 / 1e18 wei per update, 1 update) and her floor.
    stake_at(token, staking, deployer, alice, 100 * E18, t0 - 20)
    stake_at(token, staking, deployer, bob, 100 * E18, t0 - 10)
    notify(token, staking, notifier, 86_400 * E18, t0)
    at(t0 + 43_200)
    staking.restakeRewards(sender=alice)
    assert staking.stakeOf(alice) == 21_700 * E18
    assert staking.earned(alice) == 0
    mine_at(t0 + DAY)
    exact_alice = Fraction(43_200 * E18 * 21_700, 21_800)
    exact_bob = 21_600 * E18 + Fraction(43_200 * E18 * 100, 21_800)
    assert 0 <= exact_alice - staking.earned(alice) < 1 + 21_700
    assert 0 <= exact_bob - staking.earned(bob) < 1 + 100 + 100


def test_stake_change_with_pending_rewards_within_dust(token, staking, deployer, notifier, alice, t0):
    # alice alone: stakes a = 3 VVV + 1 wei, a stream of R = 500 VVV + 11 wei starts at t0, at
    # t0+30,001 she adds b = 1 VVV + 7 wei (her pending rewards are folded into her new stake's
    # reward origin). Alone, she is owed the whole stream by the end: exactly R.
    # Dust bound: accumulator floors < a/1e18 + (a+b)/1e18 wei, the fold < 1 + (a+b)/1e18,
    # the final floor < 1: in all < 2 + (3a + 2b)/1e18 < 14 wei.
    R = 500 * E18 + 11
    a, b = 3 * E18 + 1, E18 + 7
    stake_at(token, staking, deployer, alice, a, t0 - 10)
    notify(token, staking, notifier, R, t0)
    stake_at(token, staking, deployer, alice, b, t0 + 30_001)
    mine_at(t0 + DAY)
    got = staking.earned(alice)
    assert 0 <= R - got < 2 + Fraction(3 * a + 2 * b, E18)


def test_dust_bound_holds_with_100m_staked(token, staking, deployer, notifier, alice, bob, t0):
    # The whole genesis supply staked: the genesis holder 99,985,000 VVV, alice 10,000, bob
    # 5,000. A 38,356 VVV stream runs and alice requests an unstake and cancels it 16 times each
    # (odd amounts, odd times): 32 accumulator updates and settlements. The rounding loss (docs/security.md) is below
    #   sum over updates of (total staked / 1e18 + 1)      accumulator floors
    # + sum over settlements of (2 + stake / 1e18)         earned and origin floors
    # + total staked / 1e18 + 1 + holders + 1              what the views floor now
    # With 1e26 wei staked each update may lose up to 1e8 wei: far above the old fixed bound of
    # 7e6 wei per update.
    whale = 99_985_000 * E18
    fund(token, deployer, alice, 10_000 * E18, spender=staking)
    fund(token, deployer, bob, 5_000 * E18, spender=staking)
    token.approve(staking, whale, sender=deployer)
    at(t0 - 30)
    staking.stake(whale, sender=deployer)
    at(t0 - 20)
    staking.stake(5_000 * E18, sender=bob)
    at(t0 - 10)
    staking.stake(10_000 * E18, sender=alice)
    assert staking.totalStaked() == 100_000_000 * E18
    reward = 38_356_164383561643835616
    bound = 0
    bound += staking.totalStaked() // E18 + 1  # the notify's accumulator update
    notify(token, staking, notifier, reward, t0)
    t = t0
    for i in range(32):
        t += 997 + 13 * i
        total = staking.totalStaked()
        bound += total // E18 + 1
        at(t)
        if i % 2:
            staking.cancelUnstake(staking.lastRequestId(), sender=alice)
        else:
            staking.requestUnstake(E18 + 7 * i + 5, sender=alice)
        bound += 2 + staking.stakeOf(alice) // E18
    mine_at(t0 + DAY)
    holders = (deployer, alice, bob)
    liabilities = (
        staking.totalStaked()
        + staking.totalUnbonding()
        + sum(staking.earned(a) for a in holders)
        + staking.unstreamedRewards()
    )
    dust = token.balanceOf(staking) - liabilities
    views = staking.totalStaked() // E18 + 1 + len(holders) + 1
    assert 0 <= dust <= bound + views
    assert bound + views < 34 * (10**8 + 10_100)  # 33 updates of 1e26 wei staked, 32 settlements
