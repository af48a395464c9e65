"""Adversarial tests, each named after the attack it tries (see docs/security.md).

Other attacks are covered where their feature is tested:
- 64-byte inner node submitted as a leaf: test_oracle.py::test_inner_node_as_leaf_is_not_accepted
- challenge with a true leaf / after the window: test_oracle.py::test_challenge_*
- permit front-running: test_staking_core.py::test_stake_with_permit_survives_front_run
- admin taking over the notifier: test_staking_core.py::test_notifier_role_is_locked_even_for_admin
"""

from fractions import Fraction

import ape
import pytest

from tests.helpers import CAPACITY, DAY, E18, EPOCH_EMISSION, WEEK, ZERO_ROOT, at, mine_at, post

WINDOW = 2 * 3_600
STAKERS_AT_ZERO = EPOCH_EMISSION * 8000 // 10_000  # stakers' part at 0% utilization


@pytest.fixture
def g(system):
    return system.emissions.genesisEpoch()


def fund_and_stake(system, deployer, who, amount, t):
    at(t)
    system.token.transfer(who, amount, sender=deployer)
    at(t + 1)
    system.token.approve(system.staking, amount, sender=who)
    at(t + 2)
    system.staking.stake(amount, sender=who)


# ------------------------------------------------------------------ reward timing


def test_stake_just_before_distribution_and_leave_right_after(system, deployer, oracle, alice, attacker, g):
    # alice has 1,000 VVV staked for days. The attacker stakes 1,000 VVV one second before the
    # distribution and requests the unstake one second after it. Rewards accrue by time: the
    # attacker is owed half of one second of the stream, S / 86,400 / 2, not half the day.
    fund_and_stake(system, deployer, alice, 1_000 * E18, g * DAY - 100)
    post(system, oracle, g, 0, (g + 1) * DAY + 60)
    t = (g + 1) * DAY + 60 + WINDOW
    fund_and_stake(system, deployer, attacker, 1_000 * E18, t - 3)  # stake lands at t - 1
    at(t)
    system.emissions.distribute(g, sender=deployer)
    at(t + 1)
    system.staking.requestUnstake(1_000 * E18, sender=attacker)
    mine_at(t + DAY)
    exact = Fraction(STAKERS_AT_ZERO, DAY) / 2
    got = system.staking.earned(attacker)
    assert 0 <= exact - got < 1 + 2_000  # dust bound: floors over 2 updates of 1,000 VVV
    assert got < STAKERS_AT_ZERO // 80_000  # far below any share of the day
    # alice, who stayed, gets the rest
    assert 0 <= STAKERS_AT_ZERO - exact - system.staking.earned(alice) < 1 + 4_000


def test_flash_stake_in_one_transaction_earns_nothing(project, system, deployer, oracle, alice, g):
    fund_and_stake(system, deployer, alice, 1_000 * E18, g * DAY - 100)
    post(system, oracle, g, 0, (g + 1) * DAY + 60)
    at((g + 1) * DAY + 60 + WINDOW)
    system.emissions.distribute(g, sender=deployer)
    flash = project.FlashStaker.deploy(sender=deployer)
    at((g + 1) * DAY + 60 + WINDOW + 100)
    system.token.transfer(flash, 50_000 * E18, sender=deployer)
    at((g + 1) * DAY + 60 + WINDOW + 200)
    flash.flash(system.token, system.staking, 50_000 * E18, sender=deployer)
    mine_at((g + 1) * DAY + 60 + WINDOW + 300)
    assert system.staking.earned(flash) == 0
    assert system.staking.stakeOf(flash) == 0


# ------------------------------------------------------------------ reports


def test_report_replayed_out_of_order_future_and_after_rejection(system, oracle, guardian, g):
    o = system.oracle
    post(system, oracle, g, 100, (g + 1) * DAY + 60)
    with ape.reverts(o.ReportExists, epoch=g):  # replayed
        post(system, oracle, g, 100, (g + 1) * DAY + 61)
    at((g + 3) * DAY)
    with ape.reverts(o.EpochOutOfOrder, epoch=g + 2, expected=g + 1):  # out of order
        o.postReport(g + 2, 0, CAPACITY, ZERO_ROOT, 0, 0, sender=oracle)
    with ape.reverts(o.EpochNotClosed, epoch=g + 4, currentEpoch=g + 3):  # future
        o.postReport(g + 4, 0, CAPACITY, ZERO_ROOT, 0, 0, sender=oracle)
    post(system, oracle, g + 1, 100, (g + 3) * DAY + 10)
    at((g + 3) * DAY + 20)
    o.reject(g + 1, sender=guardian)
    # after the rejection, the old content cannot come back as it was: it is posted again as a
    # new report with a new window, and the next epoch is still g + 2
    post(system, oracle, g + 1, 100, (g + 3) * DAY + 30)
    assert o.report(g + 1)[6] == (g + 3) * DAY + 30 + WINDOW
    assert o.nextEpochToReport() == g + 2


def test_distribute_twice_and_skipped_epochs(system, attacker, treasury, g):
    em = system.emissions
    # nothing reported for three epochs: after the fallback time each can be distributed once,
    # in any order, and skipping one leaves it distributable later
    at((g + 5) * DAY)
    em.distribute(g + 2, sender=attacker)
    em.distribute(g, sender=attacker)
    with ape.reverts(em.AlreadyDistributed, epoch=g):
        em.distribute(g, sender=attacker)
    with ape.reverts(em.AlreadyDistributed, epoch=g + 2):
        em.distribute(g + 2, sender=attacker)
    assert not em.distributed(g + 1)
    em.distribute(g + 1, sender=attacker)
    assert system.token.totalSupply() == 100_000_000 * E18 + 3 * EPOCH_EMISSION
    assert system.token.balanceOf(treasury) == 3 * (EPOCH_EMISSION - STAKERS_AT_ZERO)


# ------------------------------------------------------------------ boundaries t-1, t, t+1


def test_epoch_and_unlock_boundaries(system, deployer, oracle, guardian, alice, attacker, g):
    em, o, staking = system.emissions, system.oracle, system.staking
    fund_and_stake(system, deployer, alice, 10 * E18, g * DAY - 100)
    end = (g + 1) * DAY  # epoch g ends at end - 1
    at(end - 1)
    with ape.reverts(em.EpochNotClosed, epoch=g, currentEpoch=g):
        em.distribute(g, sender=attacker)
    at(end)
    with ape.reverts(em.ReportNotFinal, epoch=g, fallbackTime=(g + 3) * DAY):
        em.distribute(g, sender=attacker)
    post(system, oracle, g, 0, end + 1)
    final = end + 1 + WINDOW
    at(final - 1)
    with ape.reverts(em.ReportNotFinal):
        em.distribute(g, sender=attacker)
    at(final)
    with ape.reverts(o.DisputeWindowClosed, epoch=g, finalAt=final):
        o.reject(g, sender=guardian)
    at(final + 1)
    em.distribute(g, sender=attacker)

    at(final + 10)
    staking.requestUnstake(4 * E18, sender=alice)  # id 1, unlock final + 10 + WEEK
    at(final + 11)
    staking.requestUnstake(3 * E18, sender=alice)  # id 2, unlock final + 11 + WEEK
    unlock = final + 10 + WEEK
    at(unlock - 1)
    with ape.reverts(staking.RequestNotMatured, requestId=1, unlockTime=unlock):
        staking.withdraw(1, sender=alice)
    at(unlock)
    staking.withdraw(1, sender=alice)
    at(unlock + 1)
    staking.withdraw(2, sender=alice)  # unlocked at unlock + 1 exactly
    assert system.token.balanceOf(alice) == 7 * E18


# ------------------------------------------------------------------ dust and huge amounts


def test_one_wei_and_min_stake(system, deployer, alice, g):
    staking = system.staking
    at(g * DAY - 50)
    system.token.transfer(alice, E18, sender=deployer)
    at(g * DAY - 49)
    system.token.approve(staking, E18, sender=alice)
    at(g * DAY - 48)
    with ape.reverts(staking.BelowMinimumStake, amount=1, minimum=10**15):
        staking.stake(1, sender=alice)
    at(g * DAY - 47)
    staking.stake(10**15, sender=alice)
    at(g * DAY - 46)
    staking.stake(1, sender=alice)  # above the minimum already: one more wei is fine
    assert staking.stakeOf(alice) == 10**15 + 1
    at(g * DAY - 45)
    staking.requestUnstake(10**15 + 1, sender=alice)
    at(g * DAY - 45 + WEEK)
    staking.withdraw(1, sender=alice)
    assert system.token.balanceOf(alice) == E18


def test_whole_supply_staked_streamed_and_withdrawn(system, deployer, attacker, g):
    # The genesis holder stakes all 100,000,000 VVV; three epochs stream (fallback, 80%) and it
    # claims, unstakes everything and withdraws: it ends with all of it plus the stream, minus
    # dust (< 1 + 1e8 wei per update, 5 updates).
    staking, token = system.staking, system.token
    everything = 100_000_000 * E18
    at(g * DAY - 10)
    token.approve(staking, everything, sender=deployer)
    at(g * DAY - 9)
    staking.stake(everything, sender=deployer)
    for i in range(3):
        at((g + 3 + i) * DAY + i)
        system.emissions.distribute(g + i, sender=attacker)
    end = (g + 5) * DAY + 2 + DAY
    at(end)
    staking.claimRewards(sender=deployer)
    at(end + 1)
    staking.requestUnstake(everything, sender=deployer)
    at(end + 1 + WEEK)
    staking.withdraw(1, sender=deployer)
    got = token.balanceOf(deployer)
    assert 0 <= everything + 3 * STAKERS_AT_ZERO - got < 5 * (1 + 10**8)
    assert token.balanceOf(staking) == everything + 3 * STAKERS_AT_ZERO - got
    assert token.totalSupply() == everything + 3 * EPOCH_EMISSION


# ------------------------------------------------------------------ admin delay (audit)


@pytest.mark.parametrize("contract_name", ["staking", "oracle", "emissions"])
def test_admin_delay_can_never_go_below_one_day(system, deployer, attacker, contract_name):
    # OpenZeppelin's changeDefaultAdminDelay accepts any delay; ours refuses less than a day, so
    # a stolen admin key can never hand the role over without a day's notice.
    contract = getattr(system, contract_name)
    at(system.emissions.genesisEpoch() * DAY - 500)
    for bad in (0, 1, DAY - 1):
        with ape.reverts(contract.AdminDelayTooShort, adminDelay=bad, minimum=DAY):
            contract.changeDefaultAdminDelay(bad, sender=deployer)
    assert contract.pendingDefaultAdminDelay()[1] == 0  # nothing scheduled
    with ape.reverts(contract.AccessControlUnauthorizedAccount):
        contract.changeDefaultAdminDelay(DAY, sender=attacker)
    tx = contract.changeDefaultAdminDelay(DAY, sender=deployer)  # down from 3 days to exactly 1
    (event,) = tx.decode_logs(contract.DefaultAdminDelayChangeScheduled)
    assert event.newDelay == DAY
    assert contract.MIN_ADMIN_DELAY() == DAY


# ------------------------------------------------------------------ every role x every restricted function


RESTRICTED = {
    # name: (contract attribute, call, role that may call it or None for "nobody but the minter")
    "token.mint": ("token", lambda c, a, s: c.mint(a, 1, sender=a), "minter"),
    "staking.notifyRewards": ("staking", lambda c, a, s: c.notifyRewards(1, sender=a), "NOTIFIER_ROLE"),
    "staking.pause": ("staking", lambda c, a, s: c.pause(sender=a), "GUARDIAN_ROLE"),
    "staking.unpause": ("staking", lambda c, a, s: c.unpause(sender=a), "GUARDIAN_ROLE"),
    "staking.grantRole(GUARDIAN)": ("staking", lambda c, a, s: c.grantRole(c.GUARDIAN_ROLE(), a, sender=a),
                                    "DEFAULT_ADMIN_ROLE"),
    "oracle.postReport": ("oracle", lambda c, a, s: c.postReport(s, 0, CAPACITY, ZERO_ROOT, 0, 0, sender=a),
                          "ORACLE_ROLE"),
    "oracle.reject": ("oracle", lambda c, a, s: c.reject(s, sender=a), "GUARDIAN_ROLE"),
    "oracle.pause": ("oracle", lambda c, a, s: c.pause(sender=a), "GUARDIAN_ROLE"),
    "oracle.unpause": ("oracle", lambda c, a, s: c.unpause(sender=a), "GUARDIAN_ROLE"),
    "oracle.setDisputeWindow": ("oracle", lambda c, a, s: c.setDisputeWindow(3_600, sender=a),
                                "DEFAULT_ADMIN_ROLE"),
    "oracle.setCapacityBounds": ("oracle", lambda c, a, s: c.setCapacityBounds(1, 10**30, 100, sender=a),
                                 "DEFAULT_ADMIN_ROLE"),
    "emissions.setCurve": ("emissions", lambda c, a, s: c.setCurve(8000, 5000, 2000, 8000, sender=a),
                           "DEFAULT_ADMIN_ROLE"),
}  # fmt: skip
ROLES = ["deployer", "guardian", "oracle", "treasury", "alice", "attacker"]
HOLDER = {"DEFAULT_ADMIN_ROLE": "deployer", "GUARDIAN_ROLE": "guardian", "ORACLE_ROLE": "oracle"}


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("function", sorted(RESTRICTED))
def test_every_restricted_function_refuses_every_other_role(system, function, who, request, g):
    attr, call, role = RESTRICTED[function]
    if HOLDER.get(role) == who:
        pytest.skip(f"{who} holds {role}")
    caller = request.getfixturevalue(who)
    contract = getattr(system, attr)
    if role == "minter":
        with ape.reverts(contract.NotMinter, caller=caller):
            call(contract, caller, g)
    else:
        needed = getattr(contract, role)()
        with ape.reverts(contract.AccessControlUnauthorizedAccount, account=caller, neededRole=needed):
            call(contract, caller, g)
