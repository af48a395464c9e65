"""The sorted Merkle-sum tree of the active set (SPEC.md, "The active-set tree"), its proofs in
`vcuAllocation`, and the challenges that answer each lie the oracle could tell.

The trees here come from `SumTree` below, written from SPEC's words alone (it imports nothing of
`vvv`), so that the contract and the oracle's own builder are both checked against the text."""

from dataclasses import dataclass

import ape
import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from tests.helpers import CAPACITY, DAY, E18, at, post

WINDOW = 2 * 3_600
EMPTY = (b"\x00" * 32, 0)  # an empty leaf: hash 0, sum 0


# ------------------------------------------------------------------ the tree, from SPEC's words


def leaf_hash(account: str, stake: int) -> bytes:
    """keccak256(bytes.concat(keccak256(abi.encode(account, stake))))"""
    return keccak(keccak(encode(["address", "uint256"], [account, stake])))


def parent(left: tuple[bytes, int], right: tuple[bytes, int]) -> tuple[bytes, int]:
    """hash keccak256(abi.encode(leftHash, leftSum, rightHash, rightSum)), sum leftSum + rightSum"""
    return keccak(encode(["bytes32", "uint256", "bytes32", "uint256"], [*left, *right])), left[1] + right[1]


def depth_of(count: int) -> int:
    """ceil(log2(count)), 0 for one leaf (and for none)"""
    return max(0, (count - 1).bit_length())


class SumTree:
    """A complete binary tree over `leaves` in the order given ((account, stake), or None for an
    empty leaf), padded on the right with empty leaves to `depth` levels (default: the depth
    that the number of leaves implies). A lie is a tree built from the wrong leaves."""

    def __init__(self, leaves: list, depth: int | None = None):
        self.leaves = list(leaves)
        self.depth = depth_of(len(leaves)) if depth is None else depth
        level = [EMPTY if x is None else (leaf_hash(*x), x[1]) for x in leaves]
        level += [EMPTY] * (2**self.depth - len(level))
        self.levels = [level]
        while len(level) > 1:
            level = [parent(level[i], level[i + 1]) for i in range(0, len(level), 2)]
            self.levels.append(level)
        self.root, self.total = level[0]

    @classmethod
    def honest(cls, stakes: dict) -> "SumTree":
        """The tree SPEC asks for: leaves sorted strictly ascending by account."""
        return cls(sorted(((to_checksum_address(str(a)), s) for a, s in stakes.items()), key=lambda x: int(x[0], 16)))

    def siblings(self, position: int) -> list[tuple[bytes, int]]:
        """The sibling (hash, sum) pairs from the leaf at `position` up."""
        out = []
        for level in self.levels[:-1]:
            out.append(level[position ^ 1])
            position >>= 1
        return out

    def proof(self, position: int) -> tuple:
        """`LeafProof(account, stake, position, siblings)` of a real leaf."""
        account, stake = self.leaves[position]
        return (account, stake, position, self.siblings(position))


@dataclass
class Report:
    tree: SumTree
    epoch: int
    count: int
    total: int


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def g(system):
    return system.emissions.genesisEpoch()


@pytest.fixture
def stakers(system, deployer, alice, bob, carol, g):
    """alice 100, bob 300, carol 600 VVV staked before genesis. By address: bob < alice < carol."""
    for i, (who, amount) in enumerate(((alice, 100), (bob, 300), (carol, 600))):
        at(g * DAY - 100 + 3 * i)
        system.token.transfer(who, amount * E18, sender=deployer)
        at(g * DAY - 99 + 3 * i)
        system.token.approve(system.staking, amount * E18, sender=who)
        at(g * DAY - 98 + 3 * i)
        system.staking.stake(amount * E18, sender=who)
    assert int(bob.address, 16) < int(alice.address, 16) < int(carol.address, 16)
    return {alice: 100 * E18, bob: 300 * E18, carol: 600 * E18}


@pytest.fixture
def signer(accounts, system, deployer):
    """The API side's receipt key (test account 9), granted ACTIVITY_SIGNER_ROLE by the admin."""
    key = accounts[9]
    system.oracle.grantRole(system.oracle.ACTIVITY_SIGNER_ROLE(), key, sender=deployer)
    return key


def receipt(oracle_contract, key, account, epoch: int, chain_id: int) -> bytes:
    """An EIP-712 `Activity(account, epoch)` receipt, signed independently of the contract."""
    data = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Activity": [{"name": "account", "type": "address"}, {"name": "epoch", "type": "uint256"}],
        },
        "primaryType": "Activity",
        "domain": {
            "name": "VVV Activity",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": oracle_contract.address,
        },
        "message": {"account": str(account), "epoch": epoch},
    }
    return bytes(Account.sign_typed_data(key.private_key, full_message=data).signature)


def publish(system, oracle, g, leaves, *, count=None, total=None, depth=None, epoch=None, when=None) -> Report:
    """Post the report of epoch g (or `epoch`) with the tree of `leaves`, at `when` (default: a
    minute into the next day); count and total default to the honest ones."""
    tree = SumTree(leaves, depth)
    real = [x for x in leaves if x is not None]
    count = len(real) if count is None else count
    total = tree.total if total is None else total
    epoch = g if epoch is None else epoch
    when = (epoch + 1) * DAY + 60 if when is None else when
    post(system, oracle, epoch, 0, when, root=tree.root, total=total, count=count)
    at(when + 40)
    return Report(tree, epoch, count, total)


def leaves_of(*pairs):
    return [(who.address, amount) for who, amount in pairs]


# ------------------------------------------------------------------ the tree itself


def test_tree_is_the_one_spec_describes(system, alice, bob, carol):
    # Three leaves: depth ceil(log2 3) = 2, padded with one empty leaf; the root by hand.
    a, b, c = (bob.address, 3), (alice.address, 1), (carol.address, 6)
    la, lb, lc = (leaf_hash(*a), 3), (leaf_hash(*b), 1), (leaf_hash(*c), 6)
    tree = SumTree([a, b, c])
    assert (tree.root, tree.total) == parent(parent(la, lb), parent(lc, EMPTY))
    assert tree.total == 10
    assert system.oracle.leafHash(*a) == la[0]
    assert [system.oracle.treeDepth(n) for n in (0, 1, 2, 3, 4, 5, 8, 9, 1_000_000)] == [0, 0, 1, 2, 2, 3, 3, 4, 20]
    one = SumTree([a])
    assert (one.root, one.total, one.siblings(0)) == (la[0], 3, [])  # depth 0: the root is the leaf


def test_vcu_allocation_with_sum_tree_proofs(system, oracle, alice, bob, carol, stakers, g):
    # alice 100 and bob 300 active (bob first by address): 45,370 and 136,110 of 181,480 VCU.
    r = publish(system, oracle, g, leaves_of((bob, 300 * E18), (alice, 100 * E18)))
    o = system.oracle
    assert o.vcuAllocation(g + 1, bob, 300 * E18, 0, r.tree.siblings(0)) == 136_110 * E18
    assert o.vcuAllocation(g + 1, alice, 100 * E18, 1, r.tree.siblings(1)) == 45_370 * E18
    # a wrong stake, position, or path gives 0
    assert o.vcuAllocation(g + 1, alice, 101 * E18, 1, r.tree.siblings(1)) == 0
    assert o.vcuAllocation(g + 1, alice, 100 * E18, 0, r.tree.siblings(1)) == 0
    assert o.vcuAllocation(g + 1, alice, 100 * E18, 3, r.tree.siblings(1)) == 0  # position beyond the path
    assert o.vcuAllocation(g + 1, alice, 100 * E18, 1, []) == 0
    assert o.vcuAllocation(g + 1, carol, 600 * E18, 1, r.tree.siblings(1)) == 0


# ------------------------------------------------------------------ each challenge: its lie, and an honest report


def test_challenge_stake(system, oracle, alice, bob, carol, attacker, stakers, g):
    o = system.oracle
    honest = publish(system, oracle, g, leaves_of((bob, 300 * E18), (alice, 100 * E18)))
    with ape.reverts(o.LeafMatchesStake, epoch=g, account=alice, stake=100 * E18):
        o.challengeStake(g, honest.tree.proof(1), sender=attacker)
    with ape.reverts(o.InvalidProof, epoch=g, position=1):  # a leaf that is not in the tree
        o.challengeStake(g, (alice.address, 99 * E18, 1, honest.tree.siblings(1)), sender=attacker)
    at((g + 1) * DAY + WINDOW + 60)
    with ape.reverts(o.DisputeWindowClosed):
        o.challengeStake(g, honest.tree.proof(1), sender=attacker)
    # the lie: bob 301 instead of 300
    lie = publish(system, oracle, g, leaves_of((bob, 301 * E18), (alice, 100 * E18)), epoch=g + 1)
    tx = o.challengeStake(g + 1, lie.tree.proof(0), sender=attacker)
    events = [(e.epoch, e.challenger, e.lie, e.account, e.position) for e in tx.decode_logs(o.ReportChallenged)]
    assert events == [(g + 1, attacker, 0, bob, 0)]
    assert o.reportStatus(g + 1) == 3


def test_challenge_stake_of_a_zero_leaf(system, oracle, alice, bob, attacker, deployer, stakers, g):
    # a leaf with stake 0 is a lie even for an account that has no stake (the treasury here)
    o = system.oracle
    nobody = "0x" + "ff" * 20
    r = publish(system, oracle, g, leaves_of((bob, 300 * E18), (alice, 100 * E18)) + [(nobody, 0)])
    o.challengeStake(g, r.tree.proof(2), sender=attacker)
    assert o.reportStatus(g) == 3


def test_challenge_total(system, oracle, alice, bob, attacker, stakers, g):
    # the audit's 133%: the leaves add up to 400 VVV, the report says 300
    o = system.oracle
    honest = publish(system, oracle, g, leaves_of((bob, 300 * E18), (alice, 100 * E18)))
    with ape.reverts(o.TotalMatches, epoch=g, totalActiveStake=400 * E18):
        o.challengeTotal(g, honest.tree.proof(1), sender=attacker)
    lie = publish(system, oracle, g, leaves_of((bob, 300 * E18), (alice, 100 * E18)), total=300 * E18, epoch=g + 1)
    # before the challenge the understated total already gives nothing: the proof's top sum differs
    assert o.vcuAllocation(g + 2, bob, 300 * E18, 0, lie.tree.siblings(0)) == 0
    tx = o.challengeTotal(g + 1, lie.tree.proof(1), sender=attacker)
    assert [e.lie for e in tx.decode_logs(o.ReportChallenged)] == [1]
    assert o.reportStatus(g + 1) == 3


@pytest.mark.parametrize("kind", ["unsorted", "duplicate"])
def test_challenge_order(system, oracle, alice, bob, carol, attacker, stakers, g, kind):
    o = system.oracle
    honest = publish(system, oracle, g, leaves_of((bob, 300 * E18), (alice, 100 * E18), (carol, 600 * E18)))
    with ape.reverts(o.LeavesInOrder, epoch=g, left=bob, right=alice):
        o.challengeOrder(g, honest.tree.proof(0), honest.tree.proof(1), sender=attacker)
    with ape.reverts(o.NotAdjacent, leftPosition=0, rightPosition=2):
        o.challengeOrder(g, honest.tree.proof(0), honest.tree.proof(2), sender=attacker)
    if kind == "unsorted":
        leaves = leaves_of((alice, 100 * E18), (bob, 300 * E18))
    else:  # alice twice: her stake counted twice in the total
        leaves = leaves_of((bob, 300 * E18), (alice, 100 * E18), (alice, 100 * E18))
    p = 0 if kind == "unsorted" else 1
    lie = publish(system, oracle, g, leaves, epoch=g + 1)
    tx = o.challengeOrder(g + 1, lie.tree.proof(p), lie.tree.proof(p + 1), sender=attacker)
    assert [(e.lie, e.position) for e in tx.decode_logs(o.ReportChallenged)] == [(2, p)]


def test_challenge_count(system, oracle, alice, bob, carol, attacker, stakers, g):
    o = system.oracle
    three = leaves_of((bob, 300 * E18), (alice, 100 * E18), (carol, 600 * E18))
    honest = publish(system, oracle, g, three)
    for p in range(3):
        with ape.reverts(o.CountMatches, epoch=g, position=p, pathLength=2, activeCount=3):
            o.challengeCount(g, honest.tree.proof(p), sender=attacker)
    with ape.reverts(o.CountMatches, epoch=g, position=3, pathLength=2, activeCount=3):
        o.challengeEmptyLeaf(g, 3, honest.tree.siblings(3), sender=attacker)
    # a real leaf at a position >= activeCount (count 2 for three leaves)
    lie = publish(system, oracle, g, three, count=2, epoch=g + 1)
    o.challengeCount(g + 1, lie.tree.proof(2), sender=attacker)
    assert o.reportStatus(g + 1) == 3
    # an empty leaf at activeCount - 1 (count 4 for three leaves: same depth 2)
    t = (g + 2) * DAY + 1_000  # each lie is a report of g+1 again, after the last was rejected
    lie = publish(system, oracle, g, three, count=4, epoch=g + 1, when=t)
    tx = o.challengeEmptyLeaf(g + 1, 3, lie.tree.siblings(3), sender=attacker)
    assert [(e.lie, e.account, e.position) for e in tx.decode_logs(o.ReportChallenged)] == [
        (3, "0x0000000000000000000000000000000000000000", 3)
    ]
    # a path whose length is not the depth: three leaves in a tree of depth 3 (count 3 says 2)
    lie = publish(system, oracle, g, three, depth=3, epoch=g + 1, when=t + 100)
    o.challengeCount(g + 1, lie.tree.proof(0), sender=attacker)
    assert o.reportStatus(g + 1) == 3
    # an empty leaf in the middle (position 1 < count 3): the set's leaves are not at 0..count-1
    lie = publish(system, oracle, g, [three[0], None, three[2]], count=3, epoch=g + 1, when=t + 200)
    o.challengeEmptyLeaf(g + 1, 1, lie.tree.siblings(1), sender=attacker)
    assert o.reportStatus(g + 1) == 3


@pytest.mark.parametrize("case", ["between", "first-above", "last-below", "empty-set"])
def test_challenge_omission(system, oracle, alice, bob, carol, attacker, signer, stakers, g, chain, case):
    o = system.oracle
    three = leaves_of((bob, 300 * E18), (alice, 100 * E18), (carol, 600 * E18))
    honest = publish(system, oracle, g, three)
    signature = receipt(o, signer, alice, g, chain.chain_id)
    with ape.reverts(o.NotOmitted, epoch=g, account=alice):  # alice is in the set
        o.challengeOmission(g, alice, g, signature, [honest.tree.proof(0), honest.tree.proof(2)], sender=attacker)
    # who is left out, and the leaves that show it
    omitted, kept = {"between": (alice, [0, 1]), "first-above": (bob, [0]), "last-below": (carol, [1]),
                     "empty-set": (alice, [])}[case]  # fmt: skip
    rest = [x for x in three if x[0] != omitted.address]
    epoch = g + 1
    if case == "empty-set":
        post(system, oracle, epoch, 0, (epoch + 1) * DAY + 60)
        at((epoch + 1) * DAY + 100)
        bracket = []
    else:
        lie = publish(system, oracle, g, rest, epoch=epoch)
        bracket = [lie.tree.proof(p) for p in kept]
    # receipts of the wrong signer, too old an epoch, or an account without stake fail
    forged = receipt(o, attacker, omitted, epoch, chain.chain_id)
    with ape.reverts(o.InvalidReceipt, signer=attacker):
        o.challengeOmission(epoch, omitted, epoch, forged, bracket, sender=attacker)
    old = receipt(o, signer, omitted, epoch - 7, chain.chain_id)
    with ape.reverts(o.ReceiptOutsideWindow, epoch=epoch, activityEpoch=epoch - 7):
        o.challengeOmission(epoch, omitted, epoch - 7, old, bracket, sender=attacker)
    nobody = to_checksum_address("0x" + "ee" * 20)
    with ape.reverts(o.NoStakeAtSnapshot, epoch=epoch, account=nobody):
        o.challengeOmission(epoch, nobody, epoch, receipt(o, signer, nobody, epoch, chain.chain_id), bracket,
                            sender=attacker)  # fmt: skip
    # a receipt of six epochs before the report still counts (e-6 .. e)
    signature = receipt(o, signer, omitted, epoch - 6, chain.chain_id)
    tx = o.challengeOmission(epoch, omitted, epoch - 6, signature, bracket, sender=attacker)
    assert [(e.lie, e.account) for e in tx.decode_logs(o.ReportChallenged)] == [(4, omitted)]
    assert o.reportStatus(epoch) == 3


def test_oracle_key_cannot_sign_receipts(system, deployer, oracle, guardian):
    o = system.oracle
    with ape.reverts(o.OracleAndSignerMustDiffer, account=oracle):
        o.grantRole(o.ACTIVITY_SIGNER_ROLE(), oracle, sender=deployer)
    o.grantRole(o.ACTIVITY_SIGNER_ROLE(), guardian, sender=deployer)
    with ape.reverts(o.OracleAndSignerMustDiffer, account=guardian):
        o.grantRole(o.ORACLE_ROLE(), guardian, sender=deployer)


# ------------------------------------------------------------------ every lie: over capacity only while unchallenged


def lies(alice, bob, carol):
    """Every lie about the active set, as (name, leaves, report overrides, challenge). Each
    stays within what postReport checks (at most the 1,000 VVV staked in all)."""
    a, b, c = (alice.address, 100 * E18), (bob.address, 300 * E18), (carol.address, 600 * E18)
    return {
        "stake too high": ([b, (a[0], 101 * E18)], {}, "stake"),
        "total understated": ([b, a, c], {"total": 100 * E18}, "total"),
        "duplicate": ([b, a, a], {}, "order"),
        "unsorted": ([a, b, c], {}, "order"),
        "count too low": ([b, a, c], {"count": 2}, "count"),
        "count too high": ([b, a, c], {"count": 4}, "empty"),
        "too deep": ([b, a, c], {"depth": 3}, "count"),
        "omission": ([a, c], {}, "omission"),
    }


def test_every_lie_is_challenged_and_allotments_stay_within_capacity(
    system, oracle, alice, bob, carol, attacker, signer, stakers, g, chain
):
    # For each lie: the allotments every leaf of the tree can claim (at every position, with its
    # proof) add up to at most the capacity, and the challenge that answers the lie rejects it.
    o = system.oracle
    for k, (lie_name, (leaves, overrides, kind)) in enumerate(lies(alice, bob, carol).items()):
        epoch = g + k
        r = publish(system, oracle, g, leaves, epoch=epoch, **overrides)
        claimable = sum(
            o.vcuAllocation(epoch + 1, acc, st, p, r.tree.siblings(p)) for p, (acc, st) in enumerate(leaves)
        )
        assert claimable <= CAPACITY, lie_name
        if kind == "stake":
            o.challengeStake(epoch, r.tree.proof(1), sender=attacker)
        elif kind == "total":
            o.challengeTotal(epoch, r.tree.proof(0), sender=attacker)
        elif kind == "order":
            p = next(i for i in range(len(leaves) - 1) if int(leaves[i][0], 16) >= int(leaves[i + 1][0], 16))
            o.challengeOrder(epoch, r.tree.proof(p), r.tree.proof(p + 1), sender=attacker)
        elif kind == "count":
            o.challengeCount(epoch, r.tree.proof(2), sender=attacker)
        elif kind == "empty":
            o.challengeEmptyLeaf(epoch, 3, r.tree.siblings(3), sender=attacker)
        else:
            signature = receipt(o, signer, bob, epoch, chain.chain_id)
            o.challengeOmission(epoch, bob, epoch, signature, [r.tree.proof(0)], sender=attacker)
        assert o.reportStatus(epoch) == 3, lie_name
        # posted again, honestly, before the next lie
        honest = SumTree.honest(stakers)
        post(system, oracle, epoch, 0, (epoch + 1) * DAY + 200, root=honest.root, total=honest.total, count=3)
