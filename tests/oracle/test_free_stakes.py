"""The off-chain oracle on FREE stakes (issue 23): with part of a stake locked for compute rights,
the honest report, its proofs file and the watchdog's checks all use `freeStakeAt`, and the
report survives every challenge.

World (a system with ComputeRights, `deploy_with_rights`): alice 300 and bob 100 VVV staked in
e0, both call the API in e0. The honest report of e0 is posted (nothing locked); on e1 alice mints
10 VCU against it, locking `LOCK` VVV (SPEC's price, computed here in rationals: T_eff = 400 VVV
active, above 5% of the 400 free), and activates them for e2 (4 to herself, 6 to an agent). The
report of e1 must carry alice's 300 - LOCK VVV, bob's 100."""

from fractions import Fraction
from math import ceil

import ape
import pytest
from eth_utils import to_checksum_address

from tests.helpers import CAPACITY, DAY, E18, at, mine_at, stake_at
from tests.sumtree_reference import ref_levels, ref_proof, ref_root
from vvv.bench.gas import deploy_with_rights
from vvv.chain.deployment import System
from vvv.oracle.proofs import proofs_path, read_proofs
from vvv.oracle.report import post_reports
from vvv.oracle.usage import ApiCall, UsageStore
from vvv.oracle.watchdog import watch

RCAP = 2_000 * E18
MINTED = 10 * E18
LOCK = ceil(Fraction(400 * E18) * (2 * RCAP * MINTED + 3 * MINTED * MINTED) / (2 * RCAP * CAPACITY))
WINDOW = 2 * 3_600
TO_ALICE, TO_AGENT = 4 * E18, 6 * E18  # alice activates her 10 VCU for e2: 4 to herself, 6 to an agent
AGENT = to_checksum_address("0x" + "a6e47".rjust(40, "0"))  # never staked, never calls


def quiet(_: str) -> None:
    pass


@pytest.fixture
def locked(deployer, alice, bob, guardian, notifier, oracle, treasury, chain, tmp_path):
    start = (chain.pending_timestamp // DAY + 1) * DAY + 3_600
    at(start)
    e0 = start // DAY + 1
    token, staking, o, rights = deploy_with_rights(
        deployer, oracle, guardian, notifier, treasury, e0, CAPACITY, [100_000 * E18, 100_000_000 * E18, 5_000],
        RCAP, WINDOW,
    )  # fmt: skip
    system = System(token=token, staking=staking, emissions=None, oracle=o)  # type: ignore[arg-type]
    stake_at(token, staking, deployer, alice, 300 * E18, e0 * DAY + 100)
    stake_at(token, staking, deployer, bob, 100 * E18, e0 * DAY + 110)
    store = UsageStore(f"sqlite:///{tmp_path / 'usage.db'}", create=True)
    store.add([ApiCall(e0 * DAY + 200, who.address, "llama-3.3-70b", 1, 1, 0, E18) for who in (alice, bob)])
    reports = tmp_path / "reports"
    mine_at((e0 + 1) * DAY + 300)
    [first] = post_reports(system, store, oracle, reports_dir=reports, capacity=CAPACITY, echo=quiet)
    assert (first.epoch, first.action, first.report.total_active_stake) == (e0, "posted", 400 * E18)
    mine_at((e0 + 1) * DAY + 300 + WINDOW + 60)  # final in a mined block: quoteMint is a view
    stake, position, siblings = read_proofs(proofs_path(chain.chain_id, e0, reports)).proof(alice.address)
    assert rights.quoteMint(MINTED) == LOCK
    rights.mint(MINTED, LOCK, (alice.address, stake, position, siblings), sender=alice)
    assert (staking.stakeOf(alice), staking.lockedOf(alice)) == (300 * E18, LOCK)
    rights.activate(TO_ALICE, alice, sender=alice)  # from e2 on
    rights.activate(TO_AGENT, AGENT, sender=alice)
    return {"system": system, "store": store, "reports": reports, "e1": e0 + 1}


def test_honest_report_and_proofs_file_use_the_free_stake(locked, alice, bob, oracle, accounts, chain):
    system, e1 = locked["system"], locked["e1"]
    o = system.oracle
    mine_at((e1 + 1) * DAY + 300)
    outcomes = post_reports(system, locked["store"], oracle, reports_dir=locked["reports"], echo=quiet)
    assert [(x.epoch, x.action) for x in outcomes] == [(e1 - 1, "already on chain"), (e1, "posted")]
    outcome = outcomes[1]
    free = {alice.address: 300 * E18 - LOCK, bob.address: 100 * E18}
    leaves = sorted(free.items(), key=lambda p: p[0].lower())
    assert outcome.action == "posted"
    assert outcome.report.total_active_stake == 400 * E18 - LOCK
    assert outcome.report.active_root == ref_root(leaves)
    proofs = read_proofs(proofs_path(chain.chain_id, e1, locked["reports"]))
    assert proofs.stakes() == {a.lower(): s for a, s in free.items()}
    on_chain = o.report(e1)
    assert (int(on_chain.totalActiveStake), int(on_chain.activeCount)) == (400 * E18 - LOCK, 2)
    assert int(o.reportedFreeStake(e1)) == 400 * E18 - LOCK

    # the watchdog checks it against freeStakeAt and finds nothing to challenge
    lines: list[str] = []
    [finding] = watch(system, accounts[8], [], reports_dir=locked["reports"], echo=lines.append)
    assert (finding.epoch, finding.lie, finding.txn_hash) == (e1, "", "")
    assert lines == [f"epoch {e1}: honest (2 leaves checked)"]

    # and every challenge with the file's leaves fails
    levels = ref_levels(leaves)
    proof = [(a, s, p, ref_proof(levels, p)) for p, (a, s) in enumerate(leaves)]
    for leaf in proof:
        with ape.reverts(o.LeafMatchesStake):
            o.challengeStake(e1, leaf, sender=accounts[8])
        with ape.reverts(o.TotalMatches):
            o.challengeTotal(e1, leaf, sender=accounts[8])
        with ape.reverts(o.CountMatches):
            o.challengeCount(e1, leaf, sender=accounts[8])
    with ape.reverts(o.LeavesInOrder):
        o.challengeOrder(e1, proof[0], proof[1], sender=accounts[8])
    assert int(o.reportStatus(e1)) == 1  # pending
