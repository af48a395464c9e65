"""Withheld data made provable (SPEC.md, EpochOracle, "withheld data"): bonded data requests
(`DataRequests.requestLeaf`, `requestLeafAt`), answers (`answerLeaf`), resolution
(`resolveRequest`) and the finality they hold. The audit's two proofs of concept are here: a
tree `[G1, carol, G2]` whose opaque nodes no challenge can open, and a random root; both are
rejected through an unanswered request. Trees come from `SumTree` (SPEC's words, not `vvv`)."""

import ape
import pytest
from eth_utils import keccak

from tests.contracts import test_sum_tree
from tests.contracts.test_sum_tree import EMPTY, SumTree, leaf_hash, parent, receipt
from tests.helpers import DAY, E18, at, mine_at, post

g = test_sum_tree.g
stakers = test_sum_tree.stakers
signer = test_sum_tree.signer
ACCOUNT, POSITION = 0, 1
NONE, OPEN, ANSWERED, RESOLVED = 0, 1, 2, 3
PENDING, FINAL, REJECTED = 1, 2, 3
BOND = 10**16  # 0.01 ETH, the default
WINDOW, RESPONSE, AFTER_ANSWER = 7_200, 3_600, 900
T0_OFFSET = 60  # reports are posted a minute into the next day


@pytest.fixture
def dr(system):
    return system.data_requests


def honest_report(system, oracle, stakers, epoch, when=None):
    tree = SumTree.honest({a.address: s for a, s in stakers.items()})
    when = (epoch + 1) * DAY + T0_OFFSET if when is None else when
    post(system, oracle, epoch, 0, when, root=tree.root, total=1_000 * E18, count=3)
    return tree


def opaque_report(system, oracle, carol, epoch):
    """The audit's lie: leaves [G1, carol, G2, empty] where G1, G2 are hashes nobody can open (sum
    0), count 3, total carol's 600 VVV: carol gets the whole capacity, the others nothing."""
    g1, g2 = (keccak(b"G1"), 0), (keccak(b"G2"), 0)
    c = (leaf_hash(carol.address, 600 * E18), 600 * E18)
    root, total = parent(parent(g1, c), parent(g2, EMPTY))
    assert total == 600 * E18
    post(system, oracle, epoch, 0, (epoch + 1) * DAY + T0_OFFSET, root=root, total=total, count=3)
    return root, [g1, c, g2, EMPTY]


def test_opaque_nodes_no_challenge_opens_them_but_an_unanswered_request_rejects(
    system, oracle, alice, bob, carol, attacker, signer, dr, stakers, treasury, chain, g
):
    o = system.oracle
    root, nodes = opaque_report(system, oracle, carol, g)
    t = (g + 1) * DAY + T0_OFFSET
    at(t + 10)
    # carol's own leaf is valid and in order; alice's omission cannot be shown: no leaf brackets her
    carol_proof = (carol.address, 600 * E18, 1, [nodes[0], parent(nodes[2], nodes[3])])
    with ape.reverts(o.NotOmitted, epoch=g, account=alice):
        o.challengeOmission(g, alice, g, receipt(o, signer, alice, g, chain.chain_id), [carol_proof], sender=attacker)
    # a data request for alice's leaf: the oracle cannot answer it
    at(t + 20)
    tx = dr.requestLeaf(g, alice, value=BOND, sender=attacker)
    (event,) = tx.decode_logs(dr.LeafRequested)
    assert (event.epoch, event.query, event.target, event.version, event.bond, event.deadline) == (
        g, ACCOUNT, int(alice.address, 16), 1, BOND, t + 20 + RESPONSE
    )  # fmt: skip
    assert o.lowestOpenRequestEpoch() == g
    # carol's leaf is not an answer for alice: she is not bracketed by it
    with ape.reverts(dr.NotAnAnswer):
        dr.answerLeaf(g, ACCOUNT, int(alice.address, 16), [carol_proof], sender=oracle)
    deadline = dr.dataRequest(g, ACCOUNT, int(alice.address, 16))[1]
    at(deadline - 1)
    with ape.reverts(dr.ResponseWindowOpen, deadline=deadline):
        dr.resolveRequest(g, ACCOUNT, int(alice.address, 16), sender=attacker)
    at(deadline)
    with ape.reverts(dr.ResponseWindowClosed, deadline=deadline):
        dr.answerLeaf(g, ACCOUNT, int(alice.address, 16), [carol_proof], sender=oracle)
    # past the dispute window, unresolved, the report is still not final: the request holds it
    mine_at(t + WINDOW + 1)
    assert o.reportStatus(g) == PENDING
    at(t + WINDOW + 2)
    tx = dr.resolveRequest(g, ACCOUNT, int(alice.address, 16), sender=bob)
    assert [e.reportRejected for e in tx.decode_logs(dr.RequestResolved)] == [True]
    assert [(e.lie, e.challenger) for e in tx.decode_logs(o.ReportChallenged)] == [(5, attacker)]
    assert o.reportStatus(g) == REJECTED
    assert o.lowestOpenRequestEpoch() == 2**40 - 1
    # the requester takes the bond back; the treasury got nothing
    assert dr.bondsOf(attacker) == BOND
    assert dr.bondsOf(treasury) == 0
    before = attacker.balance
    tx = dr.withdrawBonds(sender=attacker)
    assert attacker.balance == before + BOND - tx.total_fees_paid
    with ape.reverts(dr.NoBonds, account=attacker):
        dr.withdrawBonds(sender=attacker)


def test_random_root_is_rejected_through_a_position_request(system, oracle, attacker, dr, stakers, g):
    o = system.oracle
    t = (g + 1) * DAY + T0_OFFSET
    post(system, oracle, g, 0, t, root=keccak(b"anything"), total=1_000 * E18, count=3)
    at(t + 30)
    with ape.reverts(o.PositionOutOfRange, epoch=g, position=4, depth=2):
        dr.requestLeafAt(g, 4, value=BOND, sender=attacker)
    dr.requestLeafAt(g, 0, value=BOND, sender=attacker)
    at(dr.dataRequest(g, POSITION, 0)[1])
    dr.resolveRequest(g, POSITION, 0, sender=attacker)
    assert o.reportStatus(g) == REJECTED


def test_an_honest_report_survives_a_flood_of_requests(
    system, oracle, alice, bob, carol, attacker, dr, stakers, treasury, g, accounts
):
    o = system.oracle
    tree = honest_report(system, oracle, stakers, g)
    t = (g + 1) * DAY + T0_OFFSET
    stranger = accounts[8].address  # not staked: answered with the leaves around it
    targets = [(ACCOUNT, int(a.address, 16)) for a in (alice, bob, carol)] + [(ACCOUNT, int(stranger, 16))]
    targets += [(POSITION, p) for p in range(4)]
    for i, (query, target) in enumerate(targets):
        at(t + 100 + i)
        if query == ACCOUNT:
            dr.requestLeaf(g, f"0x{target:040x}", value=BOND, sender=attacker)
        else:
            dr.requestLeafAt(g, target, value=BOND, sender=attacker)
    assert o.reportRecord(g)[2] == len(targets)
    # the same leaf twice: refused
    with ape.reverts(dr.RequestExists):
        dr.requestLeafAt(g, 0, value=BOND, sender=attacker)
    # answers from the published tree, each path of depth 2
    order = [int(a, 16) for a, _ in tree.leaves]
    last = None
    for i, (query, target) in enumerate(targets):
        if query == POSITION:
            leaves = [tree.proof(target)] if target < 3 else [("0x" + "00" * 20, 0, 3, tree.siblings(3))]
        elif target in order:
            leaves = [tree.proof(order.index(target))]
        else:
            above = [p for p, a in enumerate(order) if a > target]
            below = [p for p, a in enumerate(order) if a < target]
            leaves = [tree.proof(p) for p in ([below[-1]] if below else []) + ([above[0]] if above else [])]
        last = t + 200 + i
        at(last)
        tx = dr.answerLeaf(g, query, target, leaves, sender=oracle)
        assert [e.finalAt for e in tx.decode_logs(o.FinalityHeld)] == [max(t + WINDOW, last + AFTER_ANSWER)]
    assert dr.bondsOf(treasury) == BOND * len(targets)
    assert o.lowestOpenRequestEpoch() == 2**40 - 1
    mine_at(t + WINDOW)
    assert o.reportStatus(g) == FINAL


def test_an_answer_leaves_fifteen_minutes_for_challenges(system, oracle, alice, attacker, dr, stakers, g):
    o = system.oracle
    tree = honest_report(system, oracle, stakers, g)
    t = (g + 1) * DAY + T0_OFFSET
    at(t + WINDOW - 10)  # the last seconds of the dispute window
    dr.requestLeafAt(g, 1, value=BOND, sender=attacker)
    at(t + WINDOW + 600)
    dr.answerLeaf(g, POSITION, 1, [tree.proof(1)], sender=oracle)
    assert o.report(g)[6] == t + WINDOW + 600 + AFTER_ANSWER
    mine_at(t + WINDOW + 600 + AFTER_ANSWER - 1)
    assert o.reportStatus(g) == PENDING
    mine_at(t + WINDOW + 600 + AFTER_ANSWER)
    assert o.reportStatus(g) == FINAL
    # requests are taken only within the dispute window as posted
    with ape.reverts(o.RequestWindowClosed, epoch=g, requestsUntil=t + WINDOW):
        dr.requestLeaf(g, alice, value=BOND, sender=attacker)


def test_an_open_request_holds_every_later_report(system, oracle, attacker, dr, stakers, g):
    o = system.oracle
    t = (g + 2) * DAY + T0_OFFSET  # a catch-up: g and g + 1 posted on the same day
    tree = honest_report(system, oracle, stakers, g, when=t)
    at(t + 50)
    dr.requestLeafAt(g, 2, value=BOND, sender=attacker)
    t2 = t + 3_000  # the report of g + 1, posted late (a catch-up) while g's request is open
    post(system, oracle, g + 1, 0, t2)
    mine_at(t2 + WINDOW)
    # both windows are over, but the request on g is still open: neither is final, and the
    # emissions wait for them
    assert (o.reportStatus(g), o.reportStatus(g + 1)) == (PENDING, PENDING)
    with ape.reverts(system.emissions.ReportNotFinal):
        system.emissions.distribute(g, sender=attacker)
    # an answer past the response window is refused; resolving rejects g and g + 1 with it
    at(max(dr.dataRequest(g, POSITION, 2)[1], t2 + WINDOW + 10))
    with ape.reverts(dr.ResponseWindowClosed):
        dr.answerLeaf(g, POSITION, 2, [tree.proof(2)], sender=oracle)
    tx = dr.resolveRequest(g, POSITION, 2, sender=attacker)
    assert [(e.fromEpoch, e.toEpoch) for e in tx.decode_logs(o.ReportsVoided)] == [(g + 1, g + 1)]
    assert (o.reportStatus(g), o.reportStatus(g + 1)) == (REJECTED, REJECTED)


def test_answered_requests_release_later_reports(system, oracle, deployer, attacker, dr, stakers, g):
    o = system.oracle
    dr.setResponseWindow(86_400, sender=deployer)  # requests that stay open past g's window
    t = (g + 2) * DAY + T0_OFFSET  # a catch-up: g and g + 1 posted on the same day
    tree = honest_report(system, oracle, stakers, g, when=t)
    at(t + 50)
    dr.requestLeafAt(g, 0, value=BOND, sender=attacker)
    t2 = t + 1_000  # the report of g + 1 in a catch-up
    post(system, oracle, g + 1, 0, t2)
    at(t2 + 10)
    dr.requestLeafAt(g + 1, 0, value=BOND, sender=attacker)
    # answering g moves the hold to g + 1 (still open), so g is final once its time is up
    at(t2 + 20)
    dr.answerLeaf(g, POSITION, 0, [tree.proof(0)], sender=oracle)
    assert o.lowestOpenRequestEpoch() == g + 1
    mine_at(t + WINDOW)
    assert (o.reportStatus(g), o.reportStatus(g + 1)) == (FINAL, PENDING)
    at(t + WINDOW + 10)
    dr.answerLeaf(g + 1, POSITION, 0, [("0x" + "00" * 20, 0, 0, [])], sender=oracle)
    mine_at(t2 + WINDOW)
    assert o.reportStatus(g + 1) == FINAL


def test_requests_on_a_report_rejected_otherwise_are_refunded(
    system, oracle, guardian, alice, attacker, dr, stakers, g
):
    o = system.oracle
    honest_report(system, oracle, stakers, g)
    t = (g + 1) * DAY + T0_OFFSET
    at(t + 10)
    dr.requestLeaf(g, alice, value=BOND, sender=attacker)
    at(t + 20)
    o.reject(g, sender=guardian)
    assert o.lowestOpenRequestEpoch() == 2**40 - 1
    at(t + 30)  # within the response window: a rejected report's request resolves at once
    tx = dr.resolveRequest(g, ACCOUNT, int(alice.address, 16), sender=attacker)
    assert [e.reportRejected for e in tx.decode_logs(dr.RequestResolved)] == [False]
    assert dr.bondsOf(attacker) == BOND
    # the corrected report (version 2) takes a new request for the same leaf
    tree = SumTree.honest({a.address: s for a, s in stakers.items()})
    post(system, oracle, g, 0, t + 40, root=tree.root, total=1_000 * E18, count=3)
    at(t + 50)
    dr.requestLeaf(g, alice, value=BOND, sender=attacker)
    assert dr.dataRequest(g, ACCOUNT, int(alice.address, 16))[3:] == (2, OPEN)


def test_bonds_parameters_and_callers(system, deployer, oracle, attacker, alice, dr, stakers, g):
    o = system.oracle
    honest_report(system, oracle, stakers, g)
    at((g + 1) * DAY + T0_OFFSET + 100)
    with ape.reverts(dr.WrongBond, sent=BOND - 1, bond=BOND):
        dr.requestLeaf(g, alice, value=BOND - 1, sender=attacker)
    with ape.reverts(o.NoReport, epoch=g + 1):
        dr.requestLeaf(g + 1, alice, value=BOND, sender=attacker)
    # only the DataRequests contract opens and closes requests
    with ape.reverts(o.NotDataRequests, caller=attacker):
        o.openRequest(g, ACCOUNT, int(alice.address, 16), sender=attacker)
    with ape.reverts(o.NotDataRequests, caller=attacker):
        o.closeRequest(g, 1, False, attacker, 0, sender=attacker)
    # parameters: bounds, gwei, admin only, events
    with ape.reverts(dr.InvalidDataRequestBond, bond=10**15 - 1, minimum=10**15, maximum=10**18):
        dr.setDataRequestBond(10**15 - 1, sender=deployer)
    with ape.reverts(dr.InvalidDataRequestBond, bond=10**18 + 10**9, minimum=10**15, maximum=10**18):
        dr.setDataRequestBond(10**18 + 10**9, sender=deployer)
    with ape.reverts(dr.InvalidDataRequestBond, bond=10**15 + 1, minimum=10**15, maximum=10**18):
        dr.setDataRequestBond(10**15 + 1, sender=deployer)
    with ape.reverts():
        dr.setDataRequestBond(10**15, sender=attacker)
    tx = dr.setDataRequestBond(10**15, sender=deployer)
    assert [e.bond for e in tx.decode_logs(dr.DataRequestBondUpdated)] == [10**15]
    with ape.reverts(dr.InvalidResponseWindow, responseWindow=899, minimum=900, maximum=86_400):
        dr.setResponseWindow(899, sender=deployer)
    with ape.reverts(dr.InvalidResponseWindow, responseWindow=86_401, minimum=900, maximum=86_400):
        dr.setResponseWindow(86_401, sender=deployer)
    tx = dr.setResponseWindow(900, sender=deployer)
    assert [e.responseWindow for e in tx.decode_logs(dr.ResponseWindowUpdated)] == [900]
    at((g + 1) * DAY + T0_OFFSET + 1_000)
    dr.requestLeaf(g, alice, value=10**15, sender=attacker)
    assert dr.dataRequest(g, ACCOUNT, int(alice.address, 16)) == (
        attacker.address, (g + 1) * DAY + T0_OFFSET + 1_000 + 900, 10**15, 1, OPEN
    )  # fmt: skip
