"""The watchdog against a lying oracle, one test per kind of lie: the oracle posts a lie and
publishes its proofs file, the watchdog finds it and sends the cheapest challenge, the report is
rejected; the honest oracle (`post_reports`) then posts again and the watchdog finds nothing.

The lying oracle publishes its file by writing the JSON itself (`publish`): the honest builder
(`vvv.oracle.sumtree.SumTree`) refuses unsorted or duplicated leaves and a report whose total or
count is not its tree's, so it cannot write these lies. Its roots come from the independent
reference tree (tests/sumtree_reference.py), never from the watchdog's own rebuild.

The world: alice 100, bob 300, carol 600 VVV staked; all three use the API on day g, so the
honest set of epoch g has the three of them (by address: bob < alice < carol), total 1,000 VVV,
depth 2 (a padded fourth leaf)."""

import json

import pytest
from ape import chain
from eth_account import Account

from tests.helpers import DAY, E18, at, mine_at
from tests.sumtree_reference import ref_levels
from vvv.chain.deployment import System
from vvv.oracle.proofs import proofs_path
from vvv.oracle.receipts import Receipt, typed_data
from vvv.oracle.report import post_reports
from vvv.oracle.usage import ApiCall
from vvv.oracle.watchdog import WatchState, check_once, watch

STAKE, TOTAL, ORDER, COUNT, OMISSION = range(5)  # EpochOracle.Lie
PENDING, REJECTED = 1, 3  # EpochOracle.Status


def quiet(_: str) -> None:
    pass


@pytest.fixture
def watcher(accounts):
    return accounts[8]


@pytest.fixture
def day_g(world, alice, bob, carol, g):
    """bob and carol also call the API on day g (alice already does in `world`)."""
    world["store"].add([
        ApiCall(g * DAY + 200, bob.address, "llama-3.3-70b", 1, 1, 0, E18),
        ApiCall(g * DAY + 300, carol.address, "llama-3.3-70b", 1, 1, 0, E18),
    ])  # fmt: skip
    return world


@pytest.fixture
def receipt_key(accounts, system, deployer):
    """The API side's receipt key (test account 9), granted ACTIVITY_SIGNER_ROLE by the admin."""
    key = accounts[9]
    system.oracle.grantRole(system.oracle.ACTIVITY_SIGNER_ROLE(), key, sender=deployer)
    return key


def honest_leaves(alice, bob, carol):
    """The honest set of epoch g, sorted by address here."""
    leaves = [(alice.address, 100 * E18), (bob.address, 300 * E18), (carol.address, 600 * E18)]
    return sorted(leaves, key=lambda leaf: int(leaf[0], 16))


def publish(system: System, oracle, reports, g, leaves, *, total=None, count=None):
    """The lying oracle: post the report of epoch g with the root of `leaves` in the order given
    (count and total default to the leaves'), and publish the proofs file that goes with it."""
    root = ref_levels(leaves)[-1][0][0]
    total = sum(s for _, s in leaves) if total is None else total
    count = len(leaves) if count is None else count
    capacity = int(system.oracle.lastCapacity())
    at((g + 1) * DAY + 300)
    system.oracle.postReport(g, 1_000, capacity, root, total, count, sender=oracle)
    report = {
        "chain_id": chain.chain_id, "oracle": system.oracle.address, "epoch": g, "snapshot": (g + 1) * DAY - 1,
        "utilization_bps": 1_000, "consumed_vcu": "18148000000000000000000", "capacity_of_epoch": str(capacity),
        "capacity": str(capacity), "active_root": "0x" + root.hex(), "total_active_stake": str(total),
        "active_count": count,
    }  # fmt: skip
    path = proofs_path(chain.chain_id, g, reports)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"format": "vvv-sorted-merkle-sum-v1", "leafEncoding": ["address", "uint256"],
                                "report": report, "leaves": [[a, str(s)] for a, s in leaves]}))  # fmt: skip
    return path


def challenged(system: System, txn_hash: str):
    """The ReportChallenged event of a transaction: (epoch, challenger, lie, account, position)."""
    receipt = chain.provider.get_receipt(txn_hash)
    [event] = [e for e in receipt.events if e.event_name == "ReportChallenged"]
    return int(event.epoch), event.challenger, int(event.lie), event.account, int(event.position)


def then_honest(system, oracle, watcher, world, g, lying_file, receipts=()):
    """The honest oracle posts epoch g again (it replaces the lying file, which it cannot read:
    the chain holds no report of g), and the watchdog finds it honest."""
    mine_at((g + 1) * DAY + 500)
    outcomes = post_reports(system, world["store"], oracle, reports_dir=world["reports"], echo=quiet)
    assert [(o.epoch, o.action) for o in outcomes] == [(g, "posted")]
    assert outcomes[0].report.active_count == 3 and outcomes[0].report.total_active_stake == 1_000 * E18
    nonce = watcher.nonce
    lines = []
    [finding] = watch(system, watcher, receipts, reports_dir=world["reports"], echo=lines.append)
    assert (finding.epoch, finding.lie, finding.txn_hash) == (g, "", "")
    assert lines == [f"epoch {g}: honest (3 leaves checked)"]
    assert watcher.nonce == nonce and int(system.oracle.reportStatus(g)) == PENDING


def catch(system, watcher, world, g, receipts=()):
    """The watchdog's run on the lie: one finding, a challenge sent, the report rejected."""
    mine_at((g + 1) * DAY + 400)
    lines = []
    [finding] = watch(system, watcher, receipts, reports_dir=world["reports"], echo=lines.append)
    assert finding.txn_hash and lines == [finding.line()] and finding.txn_hash in lines[0]
    assert int(system.oracle.reportStatus(g)) == REJECTED
    return finding


def test_wrong_stake(system, oracle, watcher, alice, bob, carol, day_g, g):
    leaves = honest_leaves(alice, bob, carol)  # bob, alice, carol
    leaves[1] = (alice.address, 100 * E18 - 1)  # alice's stake understated by 1 wei; total = the leaves'
    path = publish(system, oracle, day_g["reports"], g, leaves)
    finding = catch(system, watcher, day_g, g)
    assert (finding.lie, finding.challenge) == ("stake", "challengeStake")
    assert challenged(system, finding.txn_hash) == (g, watcher.address, STAKE, alice.address, 1)
    then_honest(system, oracle, watcher, day_g, g, path)


def test_wrong_total(system, oracle, watcher, alice, bob, carol, day_g, g):
    path = publish(system, oracle, day_g["reports"], g, honest_leaves(alice, bob, carol), total=999 * E18)
    finding = catch(system, watcher, day_g, g)
    assert (finding.lie, finding.challenge) == ("total", "challengeTotal")
    assert challenged(system, finding.txn_hash) == (g, watcher.address, TOTAL, bob.address, 0)
    then_honest(system, oracle, watcher, day_g, g, path)


@pytest.mark.parametrize("kind", ["swapped", "duplicate"])
def test_wrong_order_or_duplicate(system, oracle, watcher, alice, bob, carol, day_g, g, kind):
    if kind == "swapped":  # alice before bob: stakes right, total 1,000 VVV, count 3
        leaves = [(alice.address, 100 * E18), (bob.address, 300 * E18), (carol.address, 600 * E18)]
        left, right = alice.address, bob.address
    else:  # alice twice: stakes right, total 500 VVV (within the staked 1,000), count 3
        leaves = [(bob.address, 300 * E18), (alice.address, 100 * E18), (alice.address, 100 * E18)]
        left = right = alice.address
    path = publish(system, oracle, day_g["reports"], g, leaves)
    finding = catch(system, watcher, day_g, g)
    assert (finding.lie, finding.challenge) == ("order", "challengeOrder")
    position = 0 if kind == "swapped" else 1
    assert challenged(system, finding.txn_hash) == (g, watcher.address, ORDER, right, position)
    assert (finding.args[1][0], finding.args[2][0]) == (left.lower(), right.lower())
    then_honest(system, oracle, watcher, day_g, g, path)


@pytest.mark.parametrize(
    ("count", "function", "account", "position"),
    [
        (2, "challengeCount", "carol", 2),  # a real leaf at position 2 >= 2
        (4, "challengeEmptyLeaf", None, 3),  # the padding leaf at 3 < 4
        (5, "challengeCount", "bob", 0),  # a path of length 2, where 5 implies depth 3
    ],
)
def test_wrong_count(system, oracle, watcher, alice, bob, carol, day_g, g, count, function, account, position):
    path = publish(system, oracle, day_g["reports"], g, honest_leaves(alice, bob, carol), count=count)
    finding = catch(system, watcher, day_g, g)
    assert (finding.lie, finding.challenge) == ("count", function)
    who = {"carol": carol.address, "bob": bob.address, None: "0x" + "00" * 20}[account]
    event = challenged(system, finding.txn_hash)
    assert event[:3] == (g, watcher.address, COUNT)
    assert (event[3].lower(), event[4]) == (who.lower(), position)
    then_honest(system, oracle, watcher, day_g, g, path)


def test_omission(system, oracle, watcher, alice, bob, carol, day_g, g, receipt_key):
    # carol (600 VVV, the highest address) used the API on day g; the set leaves her out
    data = typed_data(carol.address, g, chain.chain_id, system.oracle.address)
    signature = bytes(Account.sign_typed_data(receipt_key.private_key, full_message=data).signature)
    receipts = [Receipt(carol.address.lower(), g, receipt_key.address.lower(), signature)]
    leaves = [(bob.address, 300 * E18), (alice.address, 100 * E18)]
    path = publish(system, oracle, day_g["reports"], g, leaves)
    nonce = watcher.nonce
    mine_at((g + 1) * DAY + 350)
    assert [f.lie for f in watch(system, watcher, [], reports_dir=day_g["reports"], echo=quiet)] == [""]
    assert watcher.nonce == nonce  # without the receipt the omission is not provable
    finding = catch(system, watcher, day_g, g, receipts)
    assert (finding.lie, finding.challenge) == ("omission", "challengeOmission")
    # the bracket is the last leaf (alice, position 1) below carol
    assert [leaf[2] for leaf in finding.args[4]] == [1]
    assert challenged(system, finding.txn_hash) == (g, watcher.address, OMISSION, carol.address, 1)
    then_honest(system, oracle, watcher, day_g, g, path, receipts)


def test_honest_report_sends_nothing(system, oracle, watcher, day_g, g):
    mine_at((g + 1) * DAY + 300)
    post_reports(system, day_g["store"], oracle, reports_dir=day_g["reports"], echo=quiet)
    nonce = watcher.nonce
    [finding] = watch(system, watcher, [], reports_dir=day_g["reports"], echo=quiet)
    assert (finding.lie, finding.challenge, finding.txn_hash) == ("", "", "")
    assert watcher.nonce == nonce and int(system.oracle.reportStatus(g)) == PENDING


def test_a_file_that_is_not_the_published_tree_is_said_so(system, oracle, watcher, alice, bob, carol, day_g, g):
    path = publish(system, oracle, day_g["reports"], g, honest_leaves(alice, bob, carol), total=999 * E18)
    data = json.loads(path.read_text())
    data["leaves"] = data["leaves"][:2]  # not the tree whose root is on chain
    path.write_text(json.dumps(data))
    mine_at((g + 1) * DAY + 400)
    nonce = watcher.nonce
    lines = []
    [finding] = watch(system, watcher, [], reports_dir=day_g["reports"], echo=lines.append)
    assert finding.lie == "unusable" and "rebuild to root" in lines[0] and "no challenge possible" in lines[0]
    # not a guardian: it files a data request (one transaction, bonded 0.01 ETH) for the tree
    assert (finding.challenge, finding.args) == ("requestLeafAt", (g, 0)) and finding.txn_hash
    assert lines[0].endswith(f"; a data request asks for its tree: {finding.txn_hash}")
    assert watcher.nonce == nonce + 1
    dr = system.data_requests
    assert dr.dataRequest(g, 1, 0).requester == watcher.address
    data["report"]["capacity"] = "1"
    path.write_text(json.dumps(data))
    [finding] = watch(system, watcher, [], reports_dir=day_g["reports"], echo=lines.append)
    assert finding.lie == "unusable" and "not the published tree" in lines[1] and "capacity" in lines[1]
    path.unlink()
    [finding] = watch(system, watcher, [], reports_dir=day_g["reports"], echo=lines.append)
    assert finding.lie == "unusable" and "no proofs file published" in lines[2]
    assert all(line.endswith("; a data request on it is open or answered") for line in lines[1:])
    assert watcher.nonce == nonce + 1 and int(system.oracle.reportStatus(g)) == PENDING
    # nobody answers: once the response window is over the watchdog resolves the request and the
    # report is rejected; the bond is the watchdog's again
    mine_at(int(dr.dataRequest(g, 1, 0).deadline))
    findings = watch(system, watcher, [], reports_dir=day_g["reports"], echo=lines.append)
    assert [f.challenge for f in findings] == ["", "resolveRequest"]
    resolved = findings[1].txn_hash
    assert lines[-1] == f"epoch {g}: a data request went unanswered; resolved, the report is rejected: {resolved}"
    assert int(system.oracle.reportStatus(g)) == REJECTED
    assert dr.bondsOf(watcher) == dr.dataRequestBond()


def test_a_guardian_watchdog_rejects_a_report_it_cannot_check(system, oracle, guardian, alice, bob, carol, day_g, g):
    # the tree on chain is not the published one (e.g. a node that hides an account, which no
    # challenge can open): a watchdog that holds the guardian role rejects the report
    path = publish(system, oracle, day_g["reports"], g, honest_leaves(alice, bob, carol))
    data = json.loads(path.read_text())
    data["leaves"] = data["leaves"][:2]
    path.write_text(json.dumps(data))
    mine_at((g + 1) * DAY + 400)
    lines = []
    [dry] = watch(system, guardian, [], reports_dir=day_g["reports"], dry_run=True, echo=lines.append)
    assert lines[0].endswith("; would reject as guardian") and int(system.oracle.reportStatus(g)) == PENDING
    [finding] = watch(system, guardian, [], reports_dir=day_g["reports"], echo=lines.append)
    assert (finding.lie, finding.challenge) == ("unusable", "reject") and finding.txn_hash
    assert lines[1].endswith(f"; rejected as guardian: {finding.txn_hash}")
    assert int(system.oracle.reportStatus(g)) == REJECTED


def test_bot_check(system, oracle, watcher, alice, bob, carol, day_g, g, tmp_path, receipt_key):
    """The bot's check (bots/watchdog.py calls it each minute): metrics, and the receipts file."""
    data = typed_data(carol.address, g, chain.chain_id, system.oracle.address)
    signature = bytes(Account.sign_typed_data(receipt_key.private_key, full_message=data).signature)
    receipts = tmp_path / "receipts.jsonl"
    receipts.write_text(json.dumps(Receipt(carol.address.lower(), g, receipt_key.address.lower(),
                                           signature).to_json()) + "\n")  # fmt: skip
    state = WatchState(system, watcher, day_g["reports"], receipts)
    mine_at((g + 1) * DAY + 100)
    assert check_once(state, echo=quiet) == {"pending": 0, "lies": 0, "unusable": 0, "sent": 0,
                                             "challenges_total": 0, "errors": 0}  # fmt: skip
    publish(system, oracle, day_g["reports"], g, [(bob.address, 300 * E18), (alice.address, 100 * E18)])
    mine_at((g + 1) * DAY + 400)
    assert check_once(state, echo=quiet) == {"pending": 1, "lies": 1, "unusable": 0, "sent": 1,
                                             "challenges_total": 1, "errors": 0}  # fmt: skip
    assert int(system.oracle.reportStatus(g)) == REJECTED
    receipts.write_text("not json\n")
    lines = []
    assert check_once(state, echo=lines.append) == {"errors": 1}
    assert lines == [f"watchdog check failed: {receipts}, line 1: not a receipt (Expecting value: line 1 "
                     "column 1 (char 0))"]  # fmt: skip


def test_several_lies_get_the_cheapest_challenge(system, oracle, watcher, alice, bob, carol, day_g, g):
    """alice (stake understated) before bob (out of order), a total of 999 VVV (the leaves add up
    to 1,000 VVV less 1 wei), a count of 4 (3 leaves, so an empty leaf at 3): each of these four
    challenges would reject the report; the watchdog sends the one of least gas (estimated here
    with the reference tree's proofs): challengeEmptyLeaf."""
    from tests.sumtree_reference import ref_proof

    leaves = [(alice.address, 100 * E18 - 1), (bob.address, 300 * E18), (carol.address, 600 * E18)]
    publish(system, oracle, day_g["reports"], g, leaves, total=999 * E18, count=4)
    levels = ref_levels(leaves)

    def leaf(p):
        return (leaves[p][0], leaves[p][1], p, ref_proof(levels, p))

    o = system.oracle
    gas = {
        "challengeTotal": o.challengeTotal.estimate_gas_cost(g, leaf(0), sender=watcher),
        "challengeEmptyLeaf": o.challengeEmptyLeaf.estimate_gas_cost(g, 3, ref_proof(levels, 3), sender=watcher),
        "challengeOrder": o.challengeOrder.estimate_gas_cost(g, leaf(0), leaf(1), sender=watcher),
        "challengeStake": o.challengeStake.estimate_gas_cost(g, leaf(0), sender=watcher),
    }
    assert min(gas, key=gas.get) == "challengeEmptyLeaf", gas
    finding = catch(system, watcher, day_g, g)
    assert (finding.lie, finding.challenge) == ("count", "challengeEmptyLeaf")


def test_an_honest_report_survives_a_flood_of_data_requests(
    system, oracle, watcher, attacker, treasury, alice, bob, carol, day_g, g, accounts
):
    """Requests for every leaf, an account outside the set, and the padded empty leaf: the
    watchdog answers each from the published proofs file (one path each), the bonds go to the
    treasury, and the report becomes final."""
    leaves = honest_leaves(alice, bob, carol)
    publish(system, oracle, day_g["reports"], g, leaves)
    dr, bond = system.data_requests, int(system.data_requests.dataRequestBond())
    outsider = accounts[7].address  # no leaf: answered with the leaves around it
    for who in (alice, bob, carol):
        dr.requestLeaf(g, who, value=bond, sender=attacker)
    dr.requestLeaf(g, outsider, value=bond, sender=attacker)
    for position in range(4):  # three leaves and the empty one that pads depth 2
        dr.requestLeafAt(g, position, value=bond, sender=attacker)
    assert int(system.oracle.reportRecord(g).openRequests) == 8
    lines = []
    [finding] = watch(system, watcher, [], reports_dir=day_g["reports"], echo=lines.append)
    assert finding.lie == "" and sum("answered the data request" in line for line in lines) == 8
    assert int(system.oracle.reportRecord(g).openRequests) == 0
    assert int(dr.bondsOf(treasury)) == 8 * bond
    # nothing is left to answer: a second check sends nothing
    nonce = watcher.nonce
    watch(system, watcher, [], reports_dir=day_g["reports"], echo=lines.append)
    assert watcher.nonce == nonce
    mine_at(int(system.oracle.report(g).finalAt))
    assert int(system.oracle.reportStatus(g)) == 2  # Final


@pytest.mark.parametrize("root_kind", ["opaque nodes", "random root"])
def test_a_report_whose_tree_is_withheld_is_rejected_through_a_data_request(
    system, oracle, watcher, carol, day_g, g, root_kind
):
    """The audit's withheld-data reports: `[G1, carol, G2]` with opaque G1, G2 (carol 100% of the
    capacity; no challenge can open G1), and a random root. No tree rebuilds to either root: the
    watchdog (not a guardian) files a data request, nobody can answer it, and once its window is
    over the watchdog resolves it: the report is rejected."""
    from eth_utils import keccak

    from tests.contracts.test_sum_tree import EMPTY, leaf_hash, parent

    if root_kind == "opaque nodes":
        g1, g2 = (keccak(b"G1"), 0), (keccak(b"G2"), 0)
        root, total = parent(parent(g1, (leaf_hash(carol.address, 600 * E18), 600 * E18)), parent(g2, EMPTY))
    else:
        root, total = keccak(b"random"), 1_000 * E18
    at((g + 1) * DAY + 300)
    system.oracle.postReport(g, 1_000, int(system.oracle.lastCapacity()), root, total, 3, sender=oracle)
    mine_at((g + 1) * DAY + 400)
    lines = []
    [finding] = watch(system, watcher, [], reports_dir=day_g["reports"], echo=lines.append)
    assert finding.challenge == "requestLeafAt" and "no proofs file published" in lines[0]
    dr = system.data_requests
    mine_at(int(dr.dataRequest(g, 1, 0).deadline))
    findings = watch(system, watcher, [], reports_dir=day_g["reports"], echo=lines.append)
    assert findings[-1].challenge == "resolveRequest"
    assert int(system.oracle.reportStatus(g)) == REJECTED
