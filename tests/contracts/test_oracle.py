"""EpochOracle: report rules, dispute window (reject, wrong-stake challenge), VCU allotments,
the chain of reports (the capacity ratchet). The Merkle-sum tree and every challenge:
test_sum_tree.py."""

from fractions import Fraction

import ape
import pytest

from tests.contracts import test_sum_tree
from tests.contracts.test_sum_tree import SumTree
from tests.helpers import CAPACITY, DAY, E18, ZERO_ROOT, at, mine_at, post

WINDOW = 2 * 3_600
# the fixtures `g` (genesis epoch) and `stakers` (alice 100, bob 300, carol 600 VVV) of the sum-tree tests
g = test_sum_tree.g
stakers = test_sum_tree.stakers


class tree_of:  # noqa: N801 (reads as the function it replaces)
    """The honest sum tree of `entries` ((account, stake) pairs); `proof(i)` and `leaf(i)` are of
    the i-th entry as given (the tree itself is sorted by account)."""

    def __init__(self, entries):
        self.entries = [(who.address, amount) for who, amount in entries]
        self.tree = SumTree.honest(dict(self.entries))
        self.root = self.tree.root

    def position(self, i: int) -> int:
        return self.tree.leaves.index(self.entries[i])

    def proof(self, i: int) -> tuple:
        """(position, siblings) for vcuAllocation."""
        return self.position(i), self.tree.siblings(self.position(i))

    def leaf(self, i: int) -> tuple:
        """LeafProof for the challenges."""
        return self.tree.proof(self.position(i))


# ------------------------------------------------------------------ posting rules


def test_post_and_read_report(system, oracle, g):
    tx = post(system, oracle, g, 1234, (g + 1) * DAY + 5)
    assert system.oracle.report(g) == (
        1234,
        CAPACITY,
        ZERO_ROOT,
        0,
        0,
        (g + 1) * DAY + 5,
        (g + 1) * DAY + 5 + WINDOW,
        1,
    )
    (event,) = tx.decode_logs(system.oracle.ReportPosted)
    assert (event.epoch, event.utilizationBps, event.capacity, event.finalAt) == (
        g,
        1234,
        CAPACITY,
        (g + 1) * DAY + 5 + WINDOW,
    )
    assert system.oracle.lastReportedEpoch() == g
    assert not system.oracle.isFinal(g)
    mine_at((g + 1) * DAY + 5 + WINDOW - 1)
    assert not system.oracle.isFinal(g)
    mine_at((g + 1) * DAY + 5 + WINDOW)
    assert system.oracle.isFinal(g)
    assert system.oracle.reportStatus(g) == 2  # Final


def test_report_rules(system, oracle, deployer, guardian, attacker, stakers, g):
    o = system.oracle
    t = (g + 1) * DAY + 10
    at(t)
    with ape.reverts(o.EpochNotClosed, epoch=g + 1, currentEpoch=g + 1):  # current epoch
        o.postReport(g + 1, 0, CAPACITY, ZERO_ROOT, 0, 0, sender=oracle)
    at(t + 1)
    with ape.reverts(o.EpochNotClosed, epoch=g + 5, currentEpoch=g + 1):  # future epoch
        o.postReport(g + 5, 0, CAPACITY, ZERO_ROOT, 0, 0, sender=oracle)
    at((g + 3) * DAY)
    with ape.reverts(o.EpochOutOfOrder, epoch=g + 1, expected=g):  # gap
        o.postReport(g + 1, 0, CAPACITY, ZERO_ROOT, 0, 0, sender=oracle)
    with ape.reverts(o.EpochOutOfOrder, epoch=g - 1, expected=g):  # before the first epoch
        o.postReport(g - 1, 0, CAPACITY, ZERO_ROOT, 0, 0, sender=oracle)
    with ape.reverts(o.InvalidUtilization, utilizationBps=10_001):
        o.postReport(g, 10_001, CAPACITY, ZERO_ROOT, 0, 0, sender=oracle)
    root = b"\x11" * 32
    with ape.reverts(o.ActiveStakeTooHigh, totalActiveStake=1_000 * E18 + 1, totalStaked=1_000 * E18):
        o.postReport(g, 0, CAPACITY, root, 1_000 * E18 + 1, 3, sender=oracle)
    for bad in [(root, 0, 0), (ZERO_ROOT, E18, 1), (ZERO_ROOT, 0, 1), (root, E18, 0), (ZERO_ROOT, E18, 0)]:
        with ape.reverts(o.InconsistentActiveSet):
            o.postReport(g, 0, CAPACITY, *bad, sender=oracle)
    low, high = 1_000 * E18, 100_000_000 * E18
    with ape.reverts(o.CapacityOutOfBounds, capacity=low - 1, minCapacity=low, maxCapacity=high):
        o.postReport(g, 0, low - 1, ZERO_ROOT, 0, 0, sender=oracle)
    with ape.reverts(o.CapacityOutOfBounds, capacity=high + 1, minCapacity=low, maxCapacity=high):
        o.postReport(g, 0, high + 1, ZERO_ROOT, 0, 0, sender=oracle)
    # at most 50% change from the last capacity (181,480 VVV): 272,220 is allowed, one more is not
    with ape.reverts(o.CapacityChangeTooLarge, capacity=272_220 * E18 + 1, lastCapacity=CAPACITY, maxChangeBps=5000):
        o.postReport(g, 0, 272_220 * E18 + 1, ZERO_ROOT, 0, 0, sender=oracle)
    for who in (deployer, guardian, attacker):
        with ape.reverts(o.AccessControlUnauthorizedAccount, account=who, neededRole=o.ORACLE_ROLE()):
            o.postReport(g, 0, CAPACITY, ZERO_ROOT, 0, 0, sender=who)
    o.pause(sender=guardian)
    with ape.reverts(o.EnforcedPause):
        o.postReport(g, 0, CAPACITY, ZERO_ROOT, 0, 0, sender=oracle)
    o.unpause(sender=guardian)
    # a valid full report, at exactly the total stake and the largest capacity step
    o.postReport(g, 10_000, 272_220 * E18, root, 1_000 * E18, 3, sender=oracle)
    with ape.reverts(o.ReportExists, epoch=g):  # duplicate, never overwritten
        o.postReport(g, 0, 272_220 * E18, ZERO_ROOT, 0, 0, sender=oracle)
    o.postReport(g + 1, 0, 272_220 * E18, ZERO_ROOT, 0, 0, sender=oracle)  # catching up is allowed
    assert o.lastReportedEpoch() == g + 1


def test_guardian_reject_only_within_window(system, oracle, guardian, attacker, g):
    o = system.oracle
    post(system, oracle, g, 100, (g + 1) * DAY)
    post(system, oracle, g + 1, 100, (g + 2) * DAY)
    with ape.reverts(o.AccessControlUnauthorizedAccount, account=attacker, neededRole=o.GUARDIAN_ROLE()):
        o.reject(g + 1, sender=attacker)
    at((g + 2) * DAY + WINDOW - 1)
    tx = o.reject(g + 1, sender=guardian)
    assert [(e.epoch, e.guardian) for e in tx.decode_logs(o.ReportRejected)] == [(g + 1, guardian)]
    assert o.reportStatus(g + 1) == 3  # Rejected
    with ape.reverts(o.ReportAlreadyRejected, epoch=g + 1):
        o.reject(g + 1, sender=guardian)
    with ape.reverts(o.DisputeWindowClosed, epoch=g, finalAt=(g + 1) * DAY + WINDOW):
        o.reject(g, sender=guardian)
    with ape.reverts(o.NoReport, epoch=g + 2):
        o.reject(g + 2, sender=guardian)


def test_rejected_report_can_be_reposted(system, oracle, guardian, g):
    o = system.oracle
    post(system, oracle, g, 9000, (g + 1) * DAY)
    at((g + 1) * DAY + 10)
    o.reject(g, sender=guardian)
    post(system, oracle, g, 4000, (g + 1) * DAY + 20)  # corrected
    assert o.report(g)[0] == 4000
    assert o.reportStatus(g) == 1  # pending again, with a new window
    assert o.lastReportedEpoch() == g
    with ape.reverts(o.ReportExists, epoch=g):
        post(system, oracle, g, 1, (g + 1) * DAY + 30)
    mine_at((g + 1) * DAY + 20 + WINDOW)
    assert o.finalUtilization(g) == (True, 4000)


# ------------------------------------------------------------------ challenges


def test_challenge_with_wrong_stake_rejects(system, oracle, alice, bob, attacker, stakers, g):
    # The oracle claims bob had 301 VVV at the snapshot; his checkpoint says 300.
    tree = tree_of([(alice, 100 * E18), (bob, 301 * E18)])
    post(system, oracle, g, 0, (g + 1) * DAY + 60, root=tree.root, total=401 * E18, count=2)
    o = system.oracle
    at((g + 1) * DAY + 100)
    # a true leaf cannot reject it
    with ape.reverts(o.LeafMatchesStake, epoch=g, account=alice, stake=100 * E18):
        o.challengeStake(g, tree.leaf(0), sender=attacker)
    # a leaf that is not in the root cannot either
    with ape.reverts(o.InvalidProof, epoch=g, position=tree.position(1)):
        o.challengeStake(g, (bob.address, 300 * E18, *tree.proof(1)), sender=attacker)
    tx = o.challengeStake(g, tree.leaf(1), sender=attacker)
    assert [(e.epoch, e.challenger, e.lie, e.account, e.position) for e in tx.decode_logs(o.ReportChallenged)] == [
        (g, attacker, 0, bob, tree.position(1))
    ]
    assert o.reportStatus(g) == 3


def test_challenge_after_window_fails(system, oracle, alice, bob, attacker, stakers, g):
    tree = tree_of([(alice, 100 * E18), (bob, 301 * E18)])
    post(system, oracle, g, 0, (g + 1) * DAY + 60, root=tree.root, total=401 * E18, count=2)
    at((g + 1) * DAY + 60 + WINDOW)
    with ape.reverts(system.oracle.DisputeWindowClosed, epoch=g, finalAt=(g + 1) * DAY + 60 + WINDOW):
        system.oracle.challengeStake(g, tree.leaf(1), sender=attacker)
    assert system.oracle.isFinal(g)


def test_challenge_sees_stake_at_snapshot_not_now(system, oracle, alice, bob, attacker, stakers, g):
    # bob requests an unstake right after the snapshot; the report's 300 VVV is still right.
    tree = tree_of([(alice, 100 * E18), (bob, 300 * E18)])
    at((g + 1) * DAY)
    system.staking.requestUnstake(300 * E18, sender=bob)
    post(system, oracle, g, 0, (g + 1) * DAY + 60, root=tree.root, total=400 * E18, count=2)
    at((g + 1) * DAY + 100)
    with ape.reverts(system.oracle.LeafMatchesStake, epoch=g, account=bob, stake=300 * E18):
        system.oracle.challengeStake(g, tree.leaf(1), sender=attacker)


# ------------------------------------------------------------------ allotments


def test_three_stakers_two_active(system, oracle, alice, bob, carol, stakers, g):
    # alice 100 and bob 300 are active, carol 600 is not. Capacity 181,480 VCU:
    # alice = 100/400 x 181,480 = 45,370 VCU; bob = 300/400 x 181,480 = 136,110 VCU; carol = 0.
    # Sum = 181,480 = capacity.
    tree = tree_of([(alice, 100 * E18), (bob, 300 * E18)])
    post(system, oracle, g, 0, (g + 1) * DAY + 60, root=tree.root, total=400 * E18, count=2)
    o = system.oracle
    alice_vcu = o.vcuAllocation(g + 1, alice, 100 * E18, *tree.proof(0))
    bob_vcu = o.vcuAllocation(g + 1, bob, 300 * E18, *tree.proof(1))
    assert alice_vcu == 45_370 * E18
    assert bob_vcu == 136_110 * E18
    assert o.vcuAllocation(g + 1, carol, 600 * E18, *tree.proof(0)) == 0
    assert o.vcuAllocation(g + 1, carol, 600 * E18, 0, []) == 0
    assert o.vcuAllocation(g + 1, alice, 101 * E18, *tree.proof(0)) == 0  # wrong stake
    assert alice_vcu + bob_vcu <= CAPACITY


def test_allotments_floor_and_sum_below_capacity(system, oracle, deployer, alice, bob, carol, g):
    # Stakes that do not divide: 1 VVV + 1 wei, 2 VVV + 3 wei, 5 VVV + 7 wei, all active.
    # Each allotment is floor(stake x capacity / total); the sum is at most the capacity and
    # at most 2 wei below it (one floor per account).
    amounts = {alice: E18 + 1, bob: 2 * E18 + 3, carol: 5 * E18 + 7}
    for i, (who, amount) in enumerate(amounts.items()):
        at(g * DAY + 3 * i)
        system.token.transfer(who, amount, sender=deployer)
        at(g * DAY + 3 * i + 1)
        system.token.approve(system.staking, amount, sender=who)
        at(g * DAY + 3 * i + 2)
        system.staking.stake(amount, sender=who)
    total = sum(amounts.values())
    tree = tree_of(list(amounts.items()))
    post(system, oracle, g, 0, (g + 1) * DAY + 60, root=tree.root, total=total, count=3)
    got = [
        system.oracle.vcuAllocation(g + 1, who, amount, *tree.proof(i))
        for i, (who, amount) in enumerate(amounts.items())
    ]
    for (_who, amount), vcu in zip(amounts.items(), got, strict=True):
        assert vcu == int(Fraction(amount * CAPACITY, total))  # floor, computed independently
    assert CAPACITY - 3 < sum(got) <= CAPACITY


def test_empty_active_set_gives_nobody_vcu(system, oracle, alice, stakers, g):
    post(system, oracle, g, 0, (g + 1) * DAY + 60)
    assert system.oracle.vcuAllocation(g + 1, alice, 100 * E18, 0, []) == 0
    assert system.oracle.vcuAllocation(g + 1, alice, 0, 0, []) == 0


# ------------------------------------------------------------------ proofs


def test_inner_node_as_leaf_is_not_accepted(system, oracle, alice, bob, carol, attacker, stakers, g):
    # An inner node is not a leaf: started one level up (a path of the wrong length), it gives no
    # allotment, and it cannot be opened as a leaf for a challenge.
    tree = tree_of([(alice, 100 * E18), (bob, 300 * E18), (carol, 600 * E18)])
    post(system, oracle, g, 0, (g + 1) * DAY + 60, root=tree.root, total=1_000 * E18, count=3)
    inner, sibling = tree.tree.levels[1][0], tree.tree.levels[1][1]
    fake_account = "0x" + inner[0][12:].hex()
    assert system.oracle.vcuAllocation(g + 1, fake_account, inner[1], 0, [sibling]) == 0
    at((g + 1) * DAY + 100)
    with ape.reverts(system.oracle.InvalidProof, epoch=g, position=0):
        system.oracle.challengeStake(g, (fake_account, inner[1], 0, [sibling]), sender=attacker)


# ------------------------------------------------------------------ admin bounds


def test_admin_bounds(system, deployer, attacker):
    o = system.oracle
    tx = o.setDisputeWindow(3_600, sender=deployer)
    assert [e.disputeWindow for e in tx.decode_logs(o.DisputeWindowUpdated)] == [3_600]
    for bad in (15 * 60 - 1, DAY + 1, 0):
        with ape.reverts(o.InvalidDisputeWindow, disputeWindow=bad, minimum=15 * 60, maximum=DAY):
            o.setDisputeWindow(bad, sender=deployer)
    o.setCapacityBounds(1, 10**30, 100, sender=deployer)
    assert o.capacityBounds() == (1, 10**30, 100)
    # a zero minimum, min > max, no change allowed, above 100%, above uint104
    for bad in (
        (0, 10**30, 100),
        (CAPACITY, CAPACITY - 1, 100),
        (1, 10**30, 0),
        (1, 10**30, 10_001),
        (1, 2**104, 100),
    ):
        with ape.reverts(o.InvalidCapacityBounds, minCapacity=bad[0], maxCapacity=bad[1], maxChangeBps=bad[2]):
            o.setCapacityBounds(*bad, sender=deployer)
    for call in (
        lambda: o.setDisputeWindow(3_600, sender=attacker),
        lambda: o.setCapacityBounds(1, 2, 3, sender=attacker),
    ):
        with ape.reverts(o.AccessControlUnauthorizedAccount, account=attacker, neededRole=o.DEFAULT_ADMIN_ROLE()):
            call()


def test_rejected_newest_report_does_not_move_capacity(system, oracle, guardian, attacker, g):
    # A report at +50% capacity (272,220 VCU) is rejected: the last capacity goes back to
    # 181,480, so neither the fallback nor the next report's bound can ratchet on it.
    o = system.oracle
    post(system, oracle, g, 0, (g + 1) * DAY + 60, capacity=272_220 * E18)
    assert o.lastCapacity() == 272_220 * E18
    at((g + 1) * DAY + 70)
    o.reject(g, sender=guardian)
    assert o.lastCapacity() == CAPACITY
    with ape.reverts(o.CapacityChangeTooLarge, capacity=408_330 * E18, lastCapacity=CAPACITY, maxChangeBps=5000):
        post(system, oracle, g, 0, (g + 1) * DAY + 80, capacity=408_330 * E18)
    post(system, oracle, g, 0, (g + 1) * DAY + 90, capacity=200_000 * E18)  # corrected
    assert o.lastCapacity() == 200_000 * E18


def test_capacity_bounds_must_keep_last_capacity_reachable(system, deployer):
    o = system.oracle
    with ape.reverts(o.LastCapacityOutOfBounds, lastCapacity=CAPACITY, minCapacity=CAPACITY + 1):
        o.setCapacityBounds(CAPACITY + 1, 10 * CAPACITY, 5000, sender=deployer)
    with ape.reverts(o.LastCapacityOutOfBounds, lastCapacity=CAPACITY, maxCapacity=CAPACITY - 1):
        o.setCapacityBounds(1, CAPACITY - 1, 5000, sender=deployer)
    system.oracle.setCapacityBounds(CAPACITY, CAPACITY, 5000, sender=deployer)


def test_leaf_above_total_active_stake_gets_nothing(system, oracle, alice, bob, stakers, g):
    # A faulty report: total 1 VVV but leaves of 100 VVV and 1 wei. The leaves' paths add up to
    # 100 VVV + 1 wei, not the report's total, so no leaf gets anything (and the lie is provable
    # by challengeTotal).
    tree = tree_of([(alice, 100 * E18), (bob, 1)])
    post(system, oracle, g, 0, (g + 1) * DAY + 60, root=tree.root, total=E18, count=2)
    assert system.oracle.vcuAllocation(g + 1, alice, 100 * E18, *tree.proof(0)) == 0
    assert system.oracle.vcuAllocation(g + 1, bob, 1, *tree.proof(1)) == 0


# ------------------------------------------------------------------ the capacity chain (audit: capacity ratchet)

UP = [272_220 * E18, 408_330 * E18, 612_495 * E18, 918_742_500 * E18 // 1_000]  # +50% each from 181,480


@pytest.mark.parametrize("order", [(3, 2, 1, 0), (0,), (1, 0), (2, 0), (0, 3)], ids=str)
def test_rejected_catch_up_reports_never_ratchet_capacity(
    system, oracle, guardian, alice, bob, carol, stakers, g, order
):
    # Four catch-up reports at +50% each (the last is 3.375x the initial capacity), rejected by
    # the guardian in various orders. Rejecting a report rejects the ones after it (their steps
    # were measured from it), so whatever the order, all four end rejected, the capacity is the
    # initial 181,480 VCU again, and the fallback allotments of the four epochs use it.
    o = system.oracle
    t = (g + 5) * DAY
    for i, capacity in enumerate(UP):
        post(system, oracle, g + i, 0, t + i, capacity=capacity)
    assert o.lastCapacity() == UP[3]
    for k, i in enumerate(order):
        at(t + 10 + k)
        if k and i >= min(order[:k]):  # already rejected with an older one
            with ape.reverts(o.ReportAlreadyRejected, epoch=g + i):
                o.reject(g + i, sender=guardian)
            continue
        tx = o.reject(g + i, sender=guardian)
        newest_before = g + 3 if k == 0 else g + min(order[:k]) - 1
        voided = [(e.fromEpoch, e.toEpoch) for e in tx.decode_logs(o.ReportsVoided)]
        assert voided == ([(g + i + 1, newest_before)] if newest_before > g + i else [])
        assert o.lastCapacity() == (CAPACITY if i == 0 else UP[i - 1])
    assert min(order) == 0 and [o.reportStatus(g + i) for i in range(4)] == [3, 3, 3, 3]
    assert o.lastCapacity() == CAPACITY and o.nextEpochToReport() == g
    mine_at(t + 20)
    # fallback: 100/1000, 300/1000, 600/1000 of 181,480 VCU, for each of the epochs g+1..g+4
    for epoch in range(g + 1, g + 5):
        assert [o.vcuAllocation(epoch, who, 0, 0, []) for who in (alice, bob, carol)] == [
            18_148 * E18,
            54_444 * E18,
            108_888 * E18,
        ]


def test_rejecting_the_older_of_two_pending_reports_rejects_both(system, oracle, guardian, g):
    # g at +50%, g+1 at +50% of that (+125% of the initial). Rejecting only g must not leave the
    # +125% in force: g+1 goes with it, and posting the +125% capacity again is refused.
    o = system.oracle
    post(system, oracle, g, 0, (g + 2) * DAY, capacity=UP[0])
    post(system, oracle, g + 1, 0, (g + 2) * DAY + 1, capacity=UP[1])
    at((g + 2) * DAY + 2)
    tx = o.reject(g, sender=guardian)
    assert [(e.epoch, e.guardian) for e in tx.decode_logs(o.ReportRejected)] == [(g, guardian)]
    assert [(e.fromEpoch, e.toEpoch) for e in tx.decode_logs(o.ReportsVoided)] == [(g + 1, g + 1)]
    assert [o.reportStatus(g), o.reportStatus(g + 1)] == [3, 3]
    assert (o.lastCapacity(), o.nextEpochToReport(), o.lastReportedEpoch()) == (CAPACITY, g, g - 1)
    at((g + 2) * DAY + 20)
    with ape.reverts(o.ReportAlreadyRejected, epoch=g + 1):
        o.reject(g + 1, sender=guardian)
    with ape.reverts(o.EpochOutOfOrder, epoch=g + 1, expected=g):
        post(system, oracle, g + 1, 0, (g + 2) * DAY + 30, capacity=UP[0])
    with ape.reverts(o.CapacityChangeTooLarge, capacity=UP[1], lastCapacity=CAPACITY, maxChangeBps=5000):
        post(system, oracle, g, 0, (g + 2) * DAY + 40, capacity=UP[1])
    post(system, oracle, g, 0, (g + 2) * DAY + 50, capacity=UP[0])
    post(system, oracle, g + 1, 0, (g + 2) * DAY + 60, capacity=UP[1])  # one step at a time again
    assert (o.lastCapacity(), o.reportStatus(g + 1)) == (UP[1], 1)


def test_a_report_is_never_final_before_the_one_before_it(system, deployer, oracle, guardian, g):
    # g is posted with the 2-hour window; the admin then shortens the window to 15 minutes and g+1
    # is posted: g+1 is final with g, not 15 minutes after its post, so rejecting g later in
    # its window can still take g+1 down with it (a final report never changes).
    o = system.oracle
    post(system, oracle, g, 0, (g + 3) * DAY)
    at((g + 3) * DAY + 1)
    o.setDisputeWindow(15 * 60, sender=deployer)
    post(system, oracle, g + 1, 0, (g + 3) * DAY + 2)
    assert o.report(g + 1)[6] == (g + 3) * DAY + WINDOW  # finalAt of g, not +2 s + 15 min
    mine_at((g + 3) * DAY + 2 + 15 * 60)
    assert [o.reportStatus(e) for e in (g, g + 1)] == [1, 1]  # both still pending
    at((g + 3) * DAY + WINDOW - 1)
    o.reject(g, sender=guardian)
    assert [o.reportStatus(e) for e in (g, g + 1)] == [3, 3]
    # posted again: g with the new window; g+1 after g is final gets its own 15 minutes
    post(system, oracle, g, 0, (g + 3) * DAY + WINDOW)
    assert o.report(g)[6] == (g + 3) * DAY + WINDOW + 15 * 60
    post(system, oracle, g + 1, 0, (g + 3) * DAY + WINDOW + 20 * 60)
    assert o.report(g + 1)[6] == (g + 3) * DAY + WINDOW + 35 * 60


def test_capacity_rules_hold_in_any_order_of_posts_and_rejections(system, oracle, guardian, g):
    # A random run of posts (capacity anywhere within the step) and rejections, against a model:
    # lastCapacity is the newest non-rejected report's capacity (or the initial), and every live
    # report is within 50% of the live report before it.
    import random

    rnd = random.Random(13)
    o = system.oracle
    live: list[int] = []  # capacities of the live reports, epoch g + index
    t = (g + 50) * DAY
    for _ in range(40):
        t += 10
        pending = [i for i in range(len(live))]
        if pending and rnd.random() < 0.35:
            i = rnd.choice(pending)
            at(t)
            o.reject(g + i, sender=guardian)
            del live[i:]
        else:
            last = live[-1] if live else CAPACITY
            capacity = rnd.randint(last // 2 + 1, last * 3 // 2)
            capacity = min(max(capacity, 1_000 * E18), 100_000_000 * E18)
            post(system, oracle, g + len(live), 0, t, capacity=capacity)
            live.append(capacity)
        assert o.lastCapacity() == (live[-1] if live else CAPACITY)
        assert o.nextEpochToReport() == g + len(live)
        chain_ = [CAPACITY] + [o.report(g + i)[1] for i in range(len(live))]
        assert chain_[1:] == live
        assert all(abs(b - a) * 10_000 <= a * 5000 for a, b in zip(chain_, chain_[1:], strict=False))
