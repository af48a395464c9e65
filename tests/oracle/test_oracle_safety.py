"""The oracle refuses to send what the chain would refuse or what looks wrong, never leaves a
transaction it cannot account for, and replaces a stuck one: the role and pause checks, the
sanity bounds against the previous report, a run racing another host, the liveness fallback
never taken while a report is pending, and fee-bumped replacement of a stuck transaction."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ape import chain

from tests.helpers import DAY, E18, EPOCH_EMISSION, at, mine_at
from tests.rpc_proxy import DyingRpcProxy
from tests.sumtree_reference import ref_root
from vvv.oracle.proofs import proofs_path, sent_path
from vvv.oracle.report import (
    OracleError,
    SanityBounds,
    SanityError,
    SendOptions,
    distribute_final_epochs,
    post_reports,
)
from vvv.oracle.sending import SendError, SendRecord, state_of
from vvv.oracle.usage import ApiCall


def quiet(_: str) -> None:
    pass


def run(system, world, sender, **options):
    return post_reports(system, world["store"], sender, reports_dir=world["reports"], echo=quiet, **options)


def unchanged(system, oracle, nonce, g, world):
    assert oracle.nonce == nonce
    assert system.oracle.nextEpochToReport() == g
    assert not world["reports"].exists()


def test_a_sender_without_the_oracle_role_writes_and_sends_nothing(system, oracle, alice, world, g):
    mine_at((g + 1) * DAY + 300)
    nonce = alice.nonce
    with pytest.raises(OracleError, match=rf"^{alice.address} does not hold ORACLE_ROLE on the EpochOracle "):
        run(system, world, alice)
    assert alice.nonce == nonce
    assert system.oracle.nextEpochToReport() == g
    assert not world["reports"].exists()


def test_a_paused_oracle_writes_and_sends_nothing(system, oracle, guardian, world, g):
    system.oracle.pause(sender=guardian)
    mine_at((g + 1) * DAY + 300)
    nonce = oracle.nonce
    with pytest.raises(OracleError, match="^the EpochOracle is paused by the guardian"):
        run(system, world, oracle)
    unchanged(system, oracle, nonce, g, world)


def test_utilization_bound(system, oracle, world, g):
    # g: 1,000 bps, g+1: 5,000 bps: a move of exactly 4,000 bps
    mine_at((g + 2) * DAY + 300)
    run(system, world, oracle, until_epoch=g)
    nonce = oracle.nonce
    message = (
        f"epoch {g + 1}: sanity check: utilization moves 4,000 bps (1,000 bps at epoch {g} -> 5,000 bps), more than "
        "the 3,999 bps bound (--max-utilization-change); nothing was written or sent."
    )
    with pytest.raises(SanityError, match="^" + re.escape(message)):
        run(system, world, oracle, bounds=SanityBounds(max_utilization_change_bps=3_999))
    assert oracle.nonce == nonce
    assert not proofs_path(chain.chain_id, g + 1, world["reports"]).exists()
    outcomes = run(system, world, oracle, bounds=SanityBounds(max_utilization_change_bps=4_000))  # at the bound
    assert [(o.epoch, o.action) for o in outcomes] == [(g, "already on chain"), (g + 1, "posted")]


def test_active_stake_rise_bound_and_the_override(system, oracle, world, g):
    # g: alice's 100 VVV, g+1: alice's and bob's 400 VVV: a rise of 300.00%
    mine_at((g + 2) * DAY + 300)
    run(system, world, oracle, until_epoch=g)
    message = (
        f"epoch {g + 1}: sanity check: active stake rises 300.00% (100 VVV at epoch {g} -> 400 VVV), more than the "
        "299.99% bound (--max-active-stake-rise); nothing was written or sent."
    )
    with pytest.raises(SanityError, match="^" + re.escape(message)):
        run(system, world, oracle, bounds=SanityBounds(max_active_stake_rise_bps=29_999))
    outcomes = run(system, world, oracle, bounds=SanityBounds(max_active_stake_rise_bps=29_999, allow_outlier=True))
    assert [(o.epoch, o.action) for o in outcomes] == [(g, "already on chain"), (g + 1, "posted")]


@pytest.fixture
def bob_leaves(system, bob, world, g):
    """bob also calls on day g (0 VCU), so g's active set is alice and bob (400 VVV); bob then
    unstakes everything during day g+1, before its snapshot."""
    world["store"].add([ApiCall(g * DAY + 150, bob.address, "m", 0, 0, 0, 0)])

    def leave(who, second=0):
        at((g + 1) * DAY + 600 + second)
        system.staking.requestUnstake(system.staking.stakeOf(who), sender=who)

    return leave


def test_active_stake_drop_bound(system, oracle, bob, world, g, bob_leaves):
    mine_at((g + 1) * DAY + 300)
    run(system, world, oracle)
    bob_leaves(bob)
    mine_at((g + 2) * DAY + 300)
    nonce = oracle.nonce
    message = (
        f"epoch {g + 1}: sanity check: active stake falls 75.00% (400 VVV at epoch {g} -> 100 VVV), more than the "
        "50.00% bound (--max-active-stake-drop); nothing was written or sent."
    )
    with pytest.raises(SanityError, match="^" + re.escape(message)):
        run(system, world, oracle)
    assert oracle.nonce == nonce
    outcomes = run(system, world, oracle, bounds=SanityBounds(max_active_stake_drop_bps=7_500))
    assert [(o.epoch, o.action) for o in outcomes] == [(g, "already on chain"), (g + 1, "posted")]


def test_an_active_set_that_drops_to_zero_is_refused(system, oracle, alice, bob, world, g, bob_leaves):
    mine_at((g + 1) * DAY + 300)
    run(system, world, oracle)
    bob_leaves(bob)
    bob_leaves(alice, second=1)
    mine_at((g + 2) * DAY + 300)
    message = (
        f"epoch {g + 1}: sanity check: the active set drops to zero (from 2 stakers with 400 VVV at epoch {g}); "
        "nothing was written or sent."
    )
    with pytest.raises(SanityError, match="^" + re.escape(message)):
        run(system, world, oracle, bounds=SanityBounds(max_active_stake_drop_bps=10_000))
    outcomes = run(system, world, oracle, bounds=SanityBounds(allow_outlier=True))
    assert [(o.epoch, o.action) for o in outcomes] == [(g, "already on chain"), (g + 1, "posted")]
    assert system.oracle.report(g + 1).activeCount == 0


def test_a_dry_run_checks_against_the_report_it_built_before(system, oracle, world, g):
    # catching up in a dry run: g+1 is checked against g as built in the same run (not on chain)
    mine_at((g + 2) * DAY + 300)
    with pytest.raises(SanityError, match=rf"^epoch {g + 1}: sanity check: utilization moves 4,000 bps"):
        run(system, world, oracle, dry_run=True, bounds=SanityBounds(max_utilization_change_bps=3_000))
    assert not world["reports"].exists()


def test_another_host_posting_the_same_report_first(system, oracle, world, g):
    mine_at((g + 1) * DAY + 300)

    def other_host_sends_first(proofs):
        r = proofs.report
        system.oracle.postReport(r.epoch, r.utilization_bps, r.capacity, r.active_root, r.total_active_stake,
                                 r.active_count, sender=oracle)  # fmt: skip

    outcomes = run(system, world, oracle, before_send=other_host_sends_first)
    assert [(o.epoch, o.action) for o in outcomes] == [(g, "posted by another run")]
    assert system.oracle.nextEpochToReport() == g + 1


def test_fallback_is_never_taken_while_a_report_is_pending(system, oracle, attacker, treasury, world, g):
    # three days of downtime: at (g+3) days epoch g reached its fallback time, but its real report
    # is posted now and pending: distribution waits for the window, then uses it
    mine_at((g + 3) * DAY + 300)
    run(system, world, oracle)
    assert distribute_final_epochs(system, attacker, echo=quiet) == []
    mine_at((g + 3) * DAY + 300 + 2 * 3_600 + 1)
    assert distribute_final_epochs(system, attacker, echo=quiet) == [g, g + 1, g + 2]
    # utilization 10%, 50%, 0% -> stakers 6800, 2000, 8000 bps (the fallback would pay 8000 each)
    assert system.token.balanceOf(treasury) == sum(
        EPOCH_EMISSION - EPOCH_EMISSION * bps // 10_000 for bps in (6_800, 2_000, 8_000)
    )


def test_the_fallback_applies_to_an_epoch_without_a_report(system, oracle, attacker, treasury, world, g):
    mine_at((g + 3) * DAY)  # the fallback time of epoch g; no report was ever posted
    lines = []
    assert distribute_final_epochs(system, attacker, echo=lines.append) == [g]
    assert lines == [f"epoch {g}: distributed by the utilization-0 fallback (no report)"]
    assert system.token.balanceOf(treasury) == EPOCH_EMISSION - EPOCH_EMISSION * 8_000 // 10_000


def test_a_stuck_transaction_is_replaced_with_higher_fees(system, oracle, world, g):
    if chain.provider.name == "test":
        pytest.skip("needs a node with a transaction pool (anvil); ape's in-process chain mines every send at once")
    mine_at((g + 1) * DAY + 300)
    record_path = sent_path(chain.chain_id, g, world["reports"])
    chain.provider.make_request("evm_setAutomine", [False])
    try:
        with pytest.raises(SendError) as raised:
            run(system, world, oracle, send=SendOptions(timeout=1, max_replacements=1))
        first, second = SendRecord.load(record_path).attempts
        assert str(raised.value) == (
            f"postReport of epoch {g}: not mined after 2 tries of 1 s (nonce {first.nonce}); it may still be mined: "
            f"the next run checks and replaces it ({first.txn_hash}, {second.txn_hash})"
        )
        assert second.nonce == first.nonce
        assert (
            second.max_fee >= first.max_fee * 125 // 100
            and second.max_priority_fee >= first.max_priority_fee * 125 // 100
        )
        assert state_of(second).state == "pending"
        assert state_of(first).state == "unknown"  # replaced in the pool
        # the next run finds the pending transaction and replaces it again (same nonce)
        with pytest.raises(SendError):
            run(system, world, oracle, send=SendOptions(timeout=1, max_replacements=0))
        third = SendRecord.load(record_path).attempts[-1]
        assert third.nonce == first.nonce and third.max_fee >= second.max_fee * 125 // 100
    finally:
        chain.provider.make_request("evm_setAutomine", [True])
    chain.provider.make_request("evm_mine", [])
    assert state_of(third).state == "mined"
    assert system.oracle.nextEpochToReport() == g + 1
    outcomes = run(system, world, oracle)
    assert [(o.epoch, o.action) for o in outcomes] == [(g, "already on chain")]
    assert oracle.nonce == first.nonce + 1  # one transaction landed for the three signed


def test_report_lines_show_units(system, oracle, alice, world, g):
    mine_at((g + 1) * DAY + 300)
    lines = []
    post_reports(system, world["store"], oracle, reports_dir=world["reports"], echo=lines.append)
    root = ref_root([(alice.address, 100 * E18)])
    assert lines[-1] == (
        f"epoch {g}: utilization 1,000 bps (18,148 VCU of 181,480 VCU), 1 active stakers with 100 VVV, next capacity "
        f"181,480 VCU, root {root}: posted"
    )


def test_a_node_that_goes_away_after_the_send(system, oracle, world, g, tmp_path):
    # `ape run oracle` in its own process, talking to the test node through a proxy that stops
    # listening right after it forwarded the report's transaction
    if chain.provider.name == "test":
        pytest.skip("needs the node's RPC endpoint (anvil); ape's in-process chain has none")
    mine_at((g + 1) * DAY + 300)
    deployments = tmp_path / "deployments"
    deployments.mkdir()
    (deployments / "ethereum-custom.json").write_text(json.dumps(system.record))
    with DyingRpcProxy(chain.provider.uri, die_after="eth_sendRawTransaction") as proxy:
        result = subprocess.run(
            [str(Path(sys.executable).parent / "ape"), "run", "oracle", "--network", proxy.uri, "--account", "TEST::6",
             "--usage-db", str(world["store"].engine.url), "--reports-dir", str(world["reports"])],
            capture_output=True, text=True, timeout=300, env=os.environ | {"VVV_DEPLOYMENTS_DIR": str(deployments)},
        )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    (attempt,) = SendRecord.load(sent_path(chain.chain_id, g, world["reports"])).attempts
    assert len(errors) == 1 and errors[0].startswith(
        f"Error: postReport of epoch {g}: sent {attempt.txn_hash} (nonce {attempt.nonce}), then lost the node ("
    )
    assert errors[0].endswith(f"it may be on chain: the next run checks the recorded transactions ({attempt.txn_hash})")
    assert state_of(attempt).state == "mined"  # it was: anvil mined it as it arrived
    assert run(system, world, oracle)[0].action == "already on chain"
