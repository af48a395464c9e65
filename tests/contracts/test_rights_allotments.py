"""The allotment semantics of compute rights (issue 23) in the EpochOracle: reports and their
checks on FREE stake, allotments = rights activated (under every source) + a share of the pool
`capacity - totalActivatedAt`, and `minCapacity` within `[2 * R, lastCapacity]`.

World (the real ComputeRights): RCAP 2,000 VCU; capacity 181,480 VCU; alice 300 and bob 100 VVV
staked and active, carol 20,000 VVV staked and not active. On the day after the first report
alice mints 10 VCU (locking `LOCK` VVV of her stake, SPEC's price computed here in rationals) and
activates 4 of them to herself and 6 to an agent with no stake, for the next epoch `e2`. The
expected allotments below are SPEC's formulas evaluated here, in integers, from these numbers."""

from fractions import Fraction
from math import ceil

import ape
import pytest
from eth_utils import to_checksum_address

from tests.contracts.test_sum_tree import receipt
from tests.helpers import CAPACITY, DAY, E18, at, mine_at, stake_at
from tests.sumtree_reference import ref_levels, ref_proof, ref_root
from vvv.bench.gas import deploy_with_rights

RCAP = 2_000 * E18
MIN_CAPACITY = 100_000 * E18
MAX_CAPACITY = 100_000_000 * E18
WINDOW = 2 * 3_600
STAKES = {"alice": 300 * E18, "bob": 100 * E18, "carol": 20_000 * E18}
MINTED = 10 * E18
TO_ALICE, TO_AGENT = 4 * E18, 6 * E18
# SPEC's price of the first 10 VCU: T_eff = max(400 active, 5% of 20,400 free = 1,020) VVV.
LOCK = ceil(Fraction(1_020 * E18) * (2 * RCAP * MINTED + 3 * MINTED * MINTED) / (2 * RCAP * CAPACITY))
POOL = CAPACITY - MINTED  # the pool of e2: the capacity less the 10 VCU activated
AGENT = to_checksum_address("0x" + "a6e47".rjust(40, "0"))  # an agent's address, never staked


def tree(leaves: list[tuple[str, int]]):
    """Root and a proof maker of (account, stake) leaves (sorted here)."""
    leaves = sorted(leaves, key=lambda p: p[0].lower())
    levels = ref_levels(leaves)

    def proof(account) -> tuple:
        position = next(i for i, (a, _) in enumerate(leaves) if a == account.address)
        return (account.address, leaves[position][1], position, ref_proof(levels, position))

    return ref_root(leaves), proof


@pytest.fixture
def world(project, deployer, alice, bob, carol, guardian, notifier, oracle, treasury, chain):
    """Token, staking (locker: the rights), oracle and rights; the stakes in epoch e0; the report
    of e0 (alice and bob, nothing locked) posted 10 minutes into e1 and final at its window's
    end; then alice mints and activates. Made per test (clock moves, as test_compute_rights)."""
    agent = AGENT
    start = (chain.pending_timestamp // DAY + 1) * DAY + 3_600
    at(start)
    e0 = start // DAY + 1
    token, staking, o, rights = deploy_with_rights(
        deployer, oracle, guardian, notifier, treasury, e0, CAPACITY, [MIN_CAPACITY, MAX_CAPACITY, 5_000], RCAP, WINDOW
    )
    people = {"alice": alice, "bob": bob, "carol": carol}
    t = e0 * DAY + 100
    for name, amount in STAKES.items():
        stake_at(token, staking, deployer, people[name], amount, t)
        t += 10
    root, proof = tree([(alice.address, 300 * E18), (bob.address, 100 * E18)])
    at((e0 + 1) * DAY + 600)
    o.postReport(e0, 5_000, CAPACITY, root, 400 * E18, 2, sender=oracle)
    assert o.reportedFreeStake(e0) == 20_400 * E18
    mine_at((e0 + 1) * DAY + 600 + WINDOW)  # the report final in a mined block: quoteMint is a view
    assert rights.quoteMint(MINTED) == LOCK
    rights.mint(MINTED, LOCK, proof(alice), sender=alice)
    rights.activate(TO_ALICE, alice, sender=alice)
    rights.activate(TO_AGENT, agent, sender=alice)
    assert staking.lockedOf(alice) == LOCK
    return {"staking": staking, "oracle": o, "rights": rights, "agent": agent, "e1": e0 + 1, "e2": e0 + 2}


def honest(alice, bob):
    """The honest report of e1: alice's and bob's FREE stakes."""
    return tree([(alice.address, 300 * E18 - LOCK), (bob.address, 100 * E18)])


def post_e1(w, oracle, root, total: int, when: int = 600):
    at(w["e2"] * DAY + when)
    return w["oracle"].postReport(w["e1"], 5_000, CAPACITY, root, total, 2, sender=oracle)


def allot(w, who, leaf=None) -> int:
    address = who if isinstance(who, str) else who.address
    account, stake, position, siblings = leaf if leaf else (address, 0, 0, [])
    return w["oracle"].vcuAllocation(w["e2"], account, stake, position, siblings)


# ------------------------------------------------------------------ the three sources


def test_report_source_serves_rights_plus_the_pool_by_free_stake(world, alice, bob, carol, oracle):
    w = world
    root, proof = honest(alice, bob)
    total = 400 * E18 - LOCK
    post_e1(w, oracle, root, total)
    mine_at(w["e2"] * DAY + 700)
    assert w["oracle"].allotmentSource(w["e2"]) == 1
    assert w["oracle"].reportedFreeStake(w["e1"]) == 20_400 * E18 - LOCK
    assert w["rights"].totalActivatedAt(w["e2"]) == MINTED
    got = {
        "alice": allot(w, alice, proof(alice)),
        "bob": allot(w, bob, proof(bob)),
        "agent": allot(w, w["agent"]),  # no stake, no leaf: its rights
        "carol": allot(w, carol, (carol.address, 20_000 * E18, 0, [])),  # not in the set
    }
    expected = {
        "alice": TO_ALICE + (300 * E18 - LOCK) * POOL // total,
        "bob": 100 * E18 * POOL // total,
        "agent": TO_AGENT,
        "carol": 0,
    }
    assert got == expected
    assert CAPACITY - 2 <= sum(got.values()) <= CAPACITY  # two floors: at most 2 wei left over


def test_fallback_source_serves_rights_plus_the_pool_by_free_stake(world, alice, bob, carol, oracle, guardian):
    # The report of e1 is rejected: e2's source is the fallback, every staker counts by free
    # stake, with e2's fallback capacity (the report of e0's, fixed at the day's start).
    w = world
    root, proof = honest(alice, bob)
    post_e1(w, oracle, root, 400 * E18 - LOCK)
    at(w["e2"] * DAY + 700)
    w["oracle"].reject(w["e1"], sender=guardian)
    mine_at(w["e2"] * DAY + 800)
    assert w["oracle"].allotmentSource(w["e2"]) == 2
    assert w["oracle"].fallbackCapacity(w["e2"]) == CAPACITY
    free = 20_400 * E18 - LOCK
    got = {
        "alice": allot(w, alice, proof(alice)),
        "bob": allot(w, bob),
        "carol": allot(w, carol),
        "agent": allot(w, w["agent"]),
    }
    expected = {
        "alice": TO_ALICE + (300 * E18 - LOCK) * POOL // free,
        "bob": 100 * E18 * POOL // free,
        "carol": 20_000 * E18 * POOL // free,
        "agent": TO_AGENT,
    }
    assert got == expected
    assert CAPACITY - 3 <= sum(got.values()) <= CAPACITY


def test_not_yet_known_source_serves_the_rights_alone(world, alice, bob, carol):
    w = world
    mine_at(w["e2"] * DAY + 60)  # before the 1-hour deadline, no report posted
    assert w["oracle"].allotmentSource(w["e2"]) == 0
    _, proof = honest(alice, bob)
    assert allot(w, alice, proof(alice)) == TO_ALICE
    assert allot(w, w["agent"]) == TO_AGENT
    assert (allot(w, bob, proof(bob)), allot(w, carol)) == (0, 0)
    # a day that has not started gets nothing, its rights included
    assert w["oracle"].vcuAllocation(w["e2"] + 1, w["agent"], 0, 0, []) == 0


# ------------------------------------------------------------------ reports on free stake


def test_honest_report_with_locked_stake_survives_the_challenges(world, accounts, alice, bob, deployer, oracle, chain):
    w = world
    o = w["oracle"]
    root, proof = honest(alice, bob)
    post_e1(w, oracle, root, 400 * E18 - LOCK)
    at(w["e2"] * DAY + 700)
    for who in (alice, bob):
        leaf = proof(who)
        with ape.reverts(o.LeafMatchesStake, epoch=w["e1"], account=who, stake=leaf[1]):
            o.challengeStake(w["e1"], leaf, sender=deployer)
        with ape.reverts(o.TotalMatches, epoch=w["e1"], totalActiveStake=400 * E18 - LOCK):
            o.challengeTotal(w["e1"], leaf, sender=deployer)
    # carol is not active, and the agent, active on the API with its rights, has no stake at
    # all: a receipt for it proves no omission
    signer = accounts[9]
    o.grantRole(o.ACTIVITY_SIGNER_ROLE(), signer, sender=deployer)
    agent = w["agent"]
    signature = receipt(o, signer, agent, w["e1"], chain.chain_id)
    bracket = [proof(who) for who in sorted((alice, bob), key=lambda a: a.address.lower())]
    with ape.reverts(o.NoStakeAtSnapshot, epoch=w["e1"], account=agent):
        o.challengeOmission(w["e1"], agent, w["e1"], signature, bracket, sender=deployer)
    assert o.reportStatus(w["e1"]) == 1  # pending


def test_report_of_whole_stakes_is_challengeable(world, alice, bob, deployer, oracle):
    # A report that gives alice her whole stake (free + locked) is refused when its total
    # exceeds the free total, and proven wrong leaf by leaf when it does not.
    w = world
    o = w["oracle"]
    free_total = 20_400 * E18 - LOCK
    at(w["e2"] * DAY + 500)
    with ape.reverts(o.ActiveStakeTooHigh, totalActiveStake=20_400 * E18, totalFreeStaked=free_total):
        o.postReport(w["e1"], 5_000, CAPACITY, b"\x01" * 32, 20_400 * E18, 2, sender=oracle)
    root, proof = tree([(alice.address, 300 * E18), (bob.address, 100 * E18)])
    post_e1(w, oracle, root, 400 * E18)
    at(w["e2"] * DAY + 700)
    tx = o.challengeStake(w["e1"], proof(alice), sender=deployer)
    assert o.ReportChallenged(epoch=w["e1"], challenger=deployer, lie=0, account=alice) in tx.events
    assert o.reportStatus(w["e1"]) == 3  # rejected


# ------------------------------------------------------------------ minCapacity in [2R, lastCapacity]


def test_min_capacity_stays_within_twice_the_rights_and_the_last_capacity(world, deployer):
    o = world["oracle"]
    assert world["rights"].totalSupply() == MINTED
    with ape.reverts(o.MinCapacityBelowRights, minCapacity=2 * MINTED - 1, floor=2 * MINTED):
        o.setCapacityBounds(2 * MINTED - 1, MAX_CAPACITY, 5_000, sender=deployer)
    tx = o.setCapacityBounds(2 * MINTED, MAX_CAPACITY, 5_000, sender=deployer)
    assert o.CapacityBoundsUpdated(minCapacity=2 * MINTED, maxCapacity=MAX_CAPACITY, maxCapacityChangeBps=5_000) in (
        tx.events
    )
    with ape.reverts(o.LastCapacityOutOfBounds, lastCapacity=CAPACITY, minCapacity=CAPACITY + 1):
        o.setCapacityBounds(CAPACITY + 1, MAX_CAPACITY, 5_000, sender=deployer)
    o.setCapacityBounds(CAPACITY, MAX_CAPACITY, 5_000, sender=deployer)
    assert o.capacityBounds() == (CAPACITY, MAX_CAPACITY, 5_000)


# ------------------------------------------------------------------ the pool's lower bound


@pytest.fixture
def mocked(project, deployer, alice, bob, guardian, notifier, oracle, treasury, chain):
    """An oracle whose rights are a mock (`RightsActivationsMock`, set by hand; also the staking
    contract's locker), capacity 100 VCU, reports from epoch e on; alice stakes 30 VVV and bob
    10 VVV in e, and bob's stake is then locked whole."""
    start = (chain.pending_timestamp // DAY + 1) * DAY + 3_600
    at(start)
    e = start // DAY
    mock = project.RightsActivationsMock.deploy(sender=deployer)
    token = project.VVVToken.deploy(deployer, notifier, sender=deployer)
    staking = project.VVVStaking.deploy(token, deployer, 3 * DAY, guardian, notifier, mock, sender=deployer)
    o = project.EpochOracle.deploy(
        staking, deployer, 3 * DAY, oracle, guardian, treasury, e, 100 * E18, [1, MAX_CAPACITY, 5_000], WINDOW,
        sender=deployer,
    )  # fmt: skip
    stake_at(token, staking, deployer, alice, 30 * E18, start + 10)
    stake_at(token, staking, deployer, bob, 10 * E18, start + 20)
    at(start + 30)
    mock.lock(staking, bob, 10 * E18, sender=deployer)
    assert (staking.stakeOf(bob), staking.freeStakeOf(bob)) == (10 * E18, 0)
    return {"mock": mock, "oracle": o, "epoch": e}


@pytest.mark.parametrize(
    ("total_activated", "alice_vcu"),
    [
        (100 * E18 - 3, 2 + 3),  # pool 3 wei, alice holds all the free stake: her 2 rights + 3 wei
        (100 * E18, 2),  # no pool left
        (150 * E18, 2),  # more activated than the capacity: the pool is 0, not negative
    ],
)
def test_pool_is_never_below_zero(mocked, alice, bob, total_activated, alice_vcu):
    # e + 1 is a fallback day (no report of e by its deadline): the pool goes by free stake,
    # 30 VVV, all alice's.
    mock, o, e = mocked["mock"], mocked["oracle"], mocked["epoch"]
    mine_at((e + 1) * DAY + 2 * 3_600)
    assert o.allotmentSource(e + 1) == 2
    mock.set(alice, 2, sender=alice)
    mock.set(bob, 7, sender=alice)
    mock.setTotals(total_activated, total_activated, sender=alice)
    assert o.vcuAllocation(e + 1, alice, 0, 0, []) == alice_vcu
    assert o.vcuAllocation(e + 1, bob, 0, 0, []) == 7  # bob's stake is all locked: his rights only


def test_omission_needs_a_free_stake(mocked, accounts, alice, bob, deployer, oracle, chain):
    # bob was active and has a stake, all of it locked: a report of e without him is honest.
    o, e = mocked["oracle"], mocked["epoch"]
    root, proof = tree([(alice.address, 30 * E18)])
    at((e + 1) * DAY + 600)
    o.postReport(e, 5_000, 100 * E18, root, 30 * E18, 1, sender=oracle)
    signer = accounts[9]
    o.grantRole(o.ACTIVITY_SIGNER_ROLE(), signer, sender=deployer)
    signature = receipt(o, signer, bob, e, chain.chain_id)
    with ape.reverts(o.NoStakeAtSnapshot, epoch=e, account=bob):
        o.challengeOmission(e, bob, e, signature, [proof(alice)], sender=deployer)
