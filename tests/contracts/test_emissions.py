"""EmissionsController: the split curve, distribute's rules, the liveness fallback, supply."""

import ape
import pytest

from tests.helpers import DAY, E18, EPOCH_EMISSION, at, post

# 14,000,000e18 // 365, worked out by hand: 14e24 / 365 = 38,356.164383561643835616438... VVV
assert EPOCH_EMISSION == 38_356_164383561643835616
WINDOW = 2 * 3_600

# Stakers' share (bps) by utilization, by hand from the seed's formulas:
#   u <= 5000: 8000 - floor(6000*u/5000);  u > 5000: 2000 + floor(6000*(u-5000)/5000)
SHARES = {
    0: 8000,  # 8000 - 0
    1: 7999,  # 6000/5000 = 1.2 -> 1
    2500: 5000,  # 6000*2500/5000 = 3000
    4999: 2002,  # 29,994,000/5000 = 5998.8 -> 5998
    5000: 2000,  # 6000
    5001: 2001,  # 2000 + 1.2 -> 1
    7500: 5000,  # 2000 + 3000
    9999: 7998,  # 2000 + 5998.8 -> 5998
    10000: 8000,  # 2000 + 6000
}


@pytest.fixture
def g(system):
    return system.emissions.genesisEpoch()


@pytest.mark.parametrize("utilization", sorted(SHARES))
def test_staker_share_bps(system, utilization):
    assert system.emissions.stakerShareBps(utilization) == SHARES[utilization]


def test_staker_share_rejects_over_100_percent(system):
    with ape.reverts(system.emissions.InvalidUtilization, utilizationBps=10_001):
        system.emissions.stakerShareBps(10_001)


@pytest.mark.parametrize("utilization", sorted(SHARES))
def test_distribute_mints_the_split(system, oracle, treasury, attacker, g, utilization):
    staker_amount = EPOCH_EMISSION * SHARES[utilization] // 10_000
    treasury_amount = EPOCH_EMISSION - staker_amount
    assert staker_amount + treasury_amount == EPOCH_EMISSION
    post(system, oracle, g, utilization, (g + 1) * DAY + 60)
    supply = system.token.totalSupply()
    at((g + 1) * DAY + 60 + WINDOW)
    tx = system.emissions.distribute(g, sender=attacker)  # anyone may call it
    assert system.token.balanceOf(system.staking) == staker_amount
    assert system.token.balanceOf(treasury) == treasury_amount
    assert system.token.totalSupply() == supply + EPOCH_EMISSION
    assert system.emissions.distributed(g)
    assert system.emissions.totalEmitted() == EPOCH_EMISSION
    events = tx.decode_logs(system.emissions.Distributed)
    assert [
        (e.epoch, e.utilizationBps, e.stakerBps, e.stakerAmount, e.treasuryAmount, e.fallbackUsed) for e in events
    ] == [(g, utilization, SHARES[utilization], staker_amount, treasury_amount, False)]


def test_distribute_rules(system, oracle, attacker, g):
    em = system.emissions
    at(g * DAY + 10)
    with ape.reverts(em.EpochBeforeGenesis, epoch=g - 1, genesisEpoch=g):
        em.distribute(g - 1, sender=attacker)
    with ape.reverts(em.EpochNotClosed, epoch=g, currentEpoch=g):
        em.distribute(g, sender=attacker)
    with ape.reverts(em.EpochNotClosed, epoch=g + 5, currentEpoch=g):
        em.distribute(g + 5, sender=attacker)
    post(system, oracle, g, 5000, (g + 1) * DAY + 60)
    # pending (not final) report, and the fallback time (g+3 days) not reached
    at((g + 1) * DAY + 60 + WINDOW - 1)
    with ape.reverts(em.ReportNotFinal, epoch=g, fallbackTime=(g + 3) * DAY):
        em.distribute(g, sender=attacker)
    at((g + 1) * DAY + 60 + WINDOW)
    em.distribute(g, sender=attacker)
    with ape.reverts(em.AlreadyDistributed, epoch=g):
        em.distribute(g, sender=attacker)


def test_fallback_exactly_two_full_epochs_after_end(system, treasury, attacker, g):
    # No report for g: distribute fails until (g+1)*DAY + 2*DAY = (g+3)*DAY, then uses
    # utilization 0 -> stakers 8000 bps.
    at((g + 3) * DAY - 1)
    with ape.reverts(system.emissions.ReportNotFinal, epoch=g, fallbackTime=(g + 3) * DAY):
        system.emissions.distribute(g, sender=attacker)
    at((g + 3) * DAY)
    tx = system.emissions.distribute(g, sender=attacker)
    staker_amount = EPOCH_EMISSION * 8000 // 10_000
    assert system.token.balanceOf(system.staking) == staker_amount
    assert system.token.balanceOf(treasury) == EPOCH_EMISSION - staker_amount
    (event,) = tx.decode_logs(system.emissions.Distributed)
    assert (event.utilizationBps, event.stakerBps, event.fallbackUsed) == (0, 8000, True)


def test_rejected_report_is_never_distributed(system, oracle, guardian, treasury, attacker, g):
    # A 50% report (stakers 20%) is rejected: the epoch waits for the fallback (stakers 80%).
    post(system, oracle, g, 5000, (g + 1) * DAY + 60)
    at((g + 1) * DAY + 120)
    system.oracle.reject(g, sender=guardian)
    at((g + 1) * DAY + 60 + WINDOW + 1)
    with ape.reverts(system.emissions.ReportNotFinal, epoch=g, fallbackTime=(g + 3) * DAY):
        system.emissions.distribute(g, sender=attacker)
    at((g + 3) * DAY)
    system.emissions.distribute(g, sender=attacker)
    assert system.token.balanceOf(treasury) == EPOCH_EMISSION - EPOCH_EMISSION * 8000 // 10_000


def test_pending_report_blocks_the_fallback_until_its_window_ends(system, oracle, treasury, attacker, g):
    # The oracle posts epoch g's 50% report (stakers 20%) late, 10 s before the fallback time.
    # At the fallback time anyone tries to force utilization 0: refused while the report is
    # pending; at the end of its window the report decides.
    o, em = system.oracle, system.emissions
    fallback = (g + 3) * DAY
    post(system, oracle, g, 5000, fallback - 10)
    final_at = fallback - 10 + WINDOW
    at(fallback)
    with ape.reverts(em.ReportPending, epoch=g, finalAt=final_at):
        em.distribute(g, sender=attacker)
    at(final_at - 1)
    with ape.reverts(em.ReportPending, epoch=g, finalAt=final_at):
        em.distribute(g, sender=attacker)
    assert o.utilizationOf(g) == (1, 0, final_at)  # pending: no utilization yet
    at(final_at)
    tx = em.distribute(g, sender=attacker)
    (event,) = tx.decode_logs(em.Distributed)
    assert (event.utilizationBps, event.stakerBps, event.fallbackUsed) == (5000, 2000, False)
    assert system.token.balanceOf(treasury) == EPOCH_EMISSION - EPOCH_EMISSION * 2000 // 10_000


def test_pending_report_rejected_after_the_fallback_time_gives_the_fallback(
    system, oracle, guardian, treasury, attacker, g
):
    # Pending at the fallback time, then rejected in its window: the fallback applies at once.
    o, em = system.oracle, system.emissions
    fallback = (g + 3) * DAY
    post(system, oracle, g, 5000, fallback - 10)
    at(fallback + 5)
    o.reject(g, sender=guardian)
    assert o.utilizationOf(g) == (3, 0, fallback - 10 + WINDOW)
    at(fallback + 6)
    tx = em.distribute(g, sender=attacker)
    (event,) = tx.decode_logs(em.Distributed)
    assert (event.utilizationBps, event.stakerBps, event.fallbackUsed) == (0, 8000, True)
    assert system.token.balanceOf(treasury) == EPOCH_EMISSION - EPOCH_EMISSION * 8000 // 10_000


def test_supply_after_n_days_in_any_order(system, oracle, attacker, g):
    # Five epochs reported at 25% each (stakers 5000 bps), distributed in the order 3,0,4,1,2.
    n = 5
    for i in range(n):
        post(system, oracle, g + i, 2500, (g + n) * DAY + 60 + i)
    at((g + n) * DAY + 60 + n + WINDOW)
    for i in (3, 0, 4, 1, 2):
        system.emissions.distribute(g + i, sender=attacker)
    assert system.token.totalSupply() == 100_000_000 * E18 + n * EPOCH_EMISSION
    assert system.emissions.totalEmitted() == n * EPOCH_EMISSION
    assert system.token.balanceOf(system.staking) == n * (EPOCH_EMISSION * 5000 // 10_000)
    # the invariant: minted <= emission x epochs closed since genesis (here n closed, n minted)
    assert system.emissions.totalEmitted() <= EPOCH_EMISSION * (system.emissions.currentEpoch() - g)


def test_stakers_part_streams_to_stakers(system, deployer, oracle, alice, attacker, g):
    # alice stakes 1,000 VVV before genesis; epoch g at 0% utilization gives stakers
    # EPOCH_EMISSION * 8000 / 10000 = 30,684.931506849315068492 VVV (floored), streamed over
    # 86,400 s from the distribution. A day later alice (sole staker) has all of it, less the
    # accumulator's floor (rate carried exactly; < 1e3 wei per update for 1,000 VVV).
    staker_amount = EPOCH_EMISSION * 8000 // 10_000
    assert staker_amount == 30_684_931506849315068492
    at(g * DAY - 102)
    system.token.transfer(alice, 1_000 * E18, sender=deployer)
    at(g * DAY - 101)
    system.token.approve(system.staking, 1_000 * E18, sender=alice)
    at(g * DAY - 100)
    system.staking.stake(1_000 * E18, sender=alice)
    post(system, oracle, g, 0, (g + 1) * DAY + 60, root=b"\x01" * 32, total=1_000 * E18, count=1)
    start = (g + 1) * DAY + 60 + WINDOW
    at(start)
    system.emissions.distribute(g, sender=attacker)
    assert system.staking.rewardsEnd() == start + DAY
    ape.chain.mine(timestamp=start + DAY)
    assert 0 <= staker_amount - system.staking.earned(alice) < 1_000 + 1


def test_set_curve_applies_from_next_epoch(system, deployer, oracle, treasury, attacker, g):
    em = system.emissions
    # epoch g closes with no curve change yet; during epoch g+1 the admin changes the curve:
    # it applies from g+2 on. Epoch g (closed, not distributed) and g+1 (running) keep the seed curve.
    post(system, oracle, g, 5000, (g + 1) * DAY + 60)
    at((g + 1) * DAY + 100)
    tx = em.setCurve(9000, 4000, 1000, 7000, sender=deployer)
    assert [(e.y0, e.x1, e.y1, e.y2, e.fromEpoch) for e in tx.decode_logs(em.CurveUpdated)] == [
        (9000, 4000, 1000, 7000, g + 2)
    ]
    assert em.curve() == (9000, 4000, 1000, 7000, g + 2)
    assert em.curveAt(g + 1) == (8000, 5000, 2000, 8000)
    assert em.curveAt(g + 2) == (9000, 4000, 1000, 7000)
    assert em.stakerShareBps(5000) == 2000  # today's curve (g+1) is still the seed's
    # new curve: u=2000: 9000 - floor(8000*2000/4000) = 5000; u=7000: 1000 + floor(6000*3000/6000) = 4000
    assert em.stakerShareBpsAt(g + 2, 2000) == 5000
    assert em.stakerShareBpsAt(g + 2, 7000) == 4000
    assert em.stakerShareBpsAt(g + 2, 10_000) == 7000
    # epoch g is distributed by the curve it ran under: 50% -> stakers 2000 bps
    at((g + 1) * DAY + 60 + WINDOW)
    em.distribute(g, sender=attacker)
    assert system.token.balanceOf(treasury) == EPOCH_EMISSION - EPOCH_EMISSION * 2000 // 10_000
    for bad in [(10_001, 5000, 2000, 8000), (8000, 0, 2000, 8000), (8000, 10_000, 2000, 8000),
                (8000, 5000, 10_001, 8000), (8000, 5000, 2000, 10_001)]:  # fmt: skip
        with ape.reverts(em.InvalidCurve):
            em.setCurve(*bad, sender=deployer)
    with ape.reverts(em.AccessControlUnauthorizedAccount, account=attacker, neededRole=em.DEFAULT_ADMIN_ROLE()):
        em.setCurve(8000, 5000, 2000, 8000, sender=attacker)


def test_wiring(system, deployer, treasury, oracle, guardian):
    assert system.token.minter() == system.emissions.address
    assert system.emissions.token() == system.token.address
    assert system.emissions.staking() == system.staking.address
    assert system.emissions.oracle() == system.oracle.address
    assert system.emissions.treasury() == treasury
    assert system.staking.hasRole(system.staking.NOTIFIER_ROLE(), system.emissions)
    assert not system.staking.hasRole(system.staking.NOTIFIER_ROLE(), deployer)
    assert system.oracle.hasRole(system.oracle.ORACLE_ROLE(), oracle)
    assert system.oracle.hasRole(system.oracle.GUARDIAN_ROLE(), guardian)
    assert system.staking.hasRole(system.staking.GUARDIAN_ROLE(), guardian)
    assert system.staking.defaultAdmin() == deployer
    assert system.oracle.firstEpoch() == system.emissions.genesisEpoch()
    assert system.emissions.genesisEpoch() == ape.chain.blocks.head.timestamp // DAY + 1
    assert system.oracle.disputeWindow() == WINDOW
    assert system.token.totalSupply() == 100_000_000 * E18
