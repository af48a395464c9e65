"""End to end: deploy, stake, three days of reports, distribute, stream, claim, unstake, withdraw;
every account's balance at the end against a table worked out by hand."""

from fractions import Fraction

from tests.contracts.test_sum_tree import SumTree
from tests.helpers import CAPACITY, DAY, E18, EPOCH_EMISSION, WEEK, at, mine_at

WINDOW = 2 * 3_600

# The three days' utilization and the stakers' share of each (seed curve):
#   day g:   0 bps     -> 8000 bps: 38,356.164383561643835616 x 0.8 = 30,684.931506849315068492(8) -> floor
#   day g+1: 5000 bps  -> 2000 bps: x 0.2 = 7,671.232876712328767123(2) -> floor
#   day g+2: 10000 bps -> 8000 bps: as day g
S0 = 30_684_931506849315068492
S1 = 7_671_232876712328767123
S2 = S0
STREAMED = S0 + S1 + S2  # 69,041.095890410958904107 VVV
TREASURY = 3 * EPOCH_EMISSION - STREAMED  # 115,068.493150684931506848 - 69,041.09589... = 46,027.397260273972602741
assert STREAMED == 69_041_095890410958904107
assert TREASURY == 46_027_397260273972602741
# alice staked 100 and bob 300 for all three streams: 1/4 and 3/4 of what streamed.
ALICE_REWARDS = Fraction(STREAMED, 4)  # 17,260.27397260273972602675
BOB_REWARDS = Fraction(3 * STREAMED, 4)  # 51,780.82191780821917808025
# Dust bound (docs/staking.md): < stake/1e18 wei per accumulator update (at most 8 here) plus
# 1 wei for the final floor: alice < 1 + 8*100, bob < 1 + 8*300.
ALICE_DUST, BOB_DUST = 801, 2_401


def test_three_days_end_to_end(system, deployer, alice, bob, carol, oracle, treasury, attacker):
    token, staking, emissions, epoch_oracle = system.token, system.staking, system.emissions, system.oracle
    g = emissions.genesisEpoch()
    t = g * DAY - 1_000
    for who, amount in ((alice, 100), (bob, 300)):
        for call in (
            lambda w=who: token.transfer(w, 1_000 * E18, sender=deployer),
            lambda w=who, a=amount: token.approve(staking, a * E18, sender=w),
            lambda w=who, a=amount: staking.stake(a * E18, sender=w),
        ):
            at(t)
            t += 1
            call()

    # Both are API-active every day: each report's root holds (alice, 100), (bob, 300).
    tree = SumTree.honest({alice.address: 100 * E18, bob.address: 300 * E18})
    pos = {account: i for i, (account, _) in enumerate(tree.leaves)}
    for day, utilization in enumerate((0, 5_000, 10_000)):
        epoch = g + day
        at((epoch + 1) * DAY + 60)
        epoch_oracle.postReport(epoch, utilization, CAPACITY, tree.root, 400 * E18, 2, sender=oracle)
        at((epoch + 1) * DAY + 60 + WINDOW)
        emissions.distribute(epoch, sender=attacker)
        # VCU of the next day: 100/400 and 300/400 of 181,480 = 45,370 and 136,110; carol 0
        for who, stake, vcu in ((alice, 100 * E18, 45_370 * E18), (bob, 300 * E18, 136_110 * E18)):
            p = pos[who.address]
            assert epoch_oracle.vcuAllocation(epoch + 1, who, stake, p, tree.siblings(p)) == vcu
        assert epoch_oracle.vcuAllocation(epoch + 1, carol, 0, 0, []) == 0

    # Each stream starts when the previous one ends (distributions 86,400 s apart).
    last_stream_end = (g + 3) * DAY + 60 + WINDOW + DAY
    assert staking.rewardsEnd() == last_stream_end
    t = last_stream_end + 10
    at(t)
    staking.claimRewards(sender=alice)
    at(t + 1)
    staking.requestUnstake(50 * E18, sender=alice)  # request 1
    at(t + 2)
    staking.requestUnstake(300 * E18, sender=bob)  # request 2
    at(t + 3)
    staking.requestUnstake(20 * E18, sender=alice)  # request 3, cancelled below
    at(t + 4)
    staking.cancelUnstake(3, sender=alice)
    at(t + 1 + WEEK)
    staking.withdraw(1, sender=alice)
    at(t + 2 + WEEK)
    staking.withdraw(2, sender=bob)
    at(t + 3 + WEEK)
    staking.claimRewards(sender=bob)
    mine_at(t + 10 + WEEK)

    alice_wallet = token.balanceOf(alice)
    bob_wallet = token.balanceOf(bob)
    # alice: 1,000 - 100 staked + rewards + 50 withdrawn; 50 still staked
    assert 0 <= (1_000 - 100 + 50) * E18 + ALICE_REWARDS - alice_wallet < ALICE_DUST
    # bob: 1,000 - 300 + 300 withdrawn + rewards
    assert 0 <= 1_000 * E18 + BOB_REWARDS - bob_wallet < BOB_DUST
    assert token.balanceOf(treasury) == TREASURY
    assert token.balanceOf(deployer) == 100_000_000 * E18 - 2_000 * E18
    assert token.totalSupply() == 100_000_000 * E18 + 3 * EPOCH_EMISSION
    assert staking.stakeOf(alice) == 50 * E18
    assert staking.stakeOf(bob) == 0
    assert staking.totalStaked() == 50 * E18
    assert staking.totalUnbonding() == 0
    assert staking.earned(alice) == 0 and staking.earned(bob) == 0
    # what the staking contract still holds: alice's 50 + the rewards' dust (a few wei)
    held = token.balanceOf(staking)
    dust = held - 50 * E18
    assert 0 <= dust < ALICE_DUST + BOB_DUST
    assert (
        alice_wallet + bob_wallet + held + token.balanceOf(treasury) + token.balanceOf(deployer) == token.totalSupply()
    )
