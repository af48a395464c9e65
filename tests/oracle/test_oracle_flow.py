"""The oracle's report builder and poster against a deployed system: catching up after
downtime, dry runs, restarts after faults, stale files, concurrent runs, and the bot's daily and
hourly handlers (the same functions) posting and distributing three days."""

import subprocess
import sys
from pathlib import Path

import pytest
from ape import chain

from tests.helpers import CAPACITY, DAY, E18, mine_at
from tests.sumtree_reference import ref_root
from vvv.oracle.proofs import proofs_path, read_proofs
from vvv.oracle.report import OracleBusy, distribute_final_epochs, post_reports, run_lock, run_oracle
from vvv.oracle.usage import ApiCall, UsageError

WINDOW = 2 * 3_600
ROOT = Path(__file__).resolve().parents[2]


class Crash(Exception):
    """Stands for the process being killed."""


def expected_roots(alice, bob):
    only_alice = ref_root([(alice.address, 100 * E18)])
    both = ref_root([(alice.address, 100 * E18), (bob.address, 300 * E18)])
    return [only_alice, both, both]


def quiet(_: str) -> None:
    pass


def ape_chain_id():
    return chain.chain_id


def test_catch_up_three_days_in_order(system, oracle, alice, bob, world, g):
    mine_at((g + 3) * DAY + 300)  # three days of downtime
    outcomes = post_reports(system, world["store"], oracle, reports_dir=world["reports"], echo=quiet)
    assert [(o.epoch, o.action) for o in outcomes] == [(g, "posted"), (g + 1, "posted"), (g + 2, "posted")]
    assert [o.report.utilization_bps for o in outcomes] == [1_000, 5_000, 0]
    assert [o.report.active_count for o in outcomes] == [1, 2, 2]
    assert [o.report.total_active_stake for o in outcomes] == [100 * E18, 400 * E18, 400 * E18]
    roots = expected_roots(alice, bob)
    for epoch, root in zip(range(g, g + 3), roots, strict=True):
        on_chain = system.oracle.report(epoch)
        assert "0x" + bytes(on_chain.activeRoot).hex() == root
        proofs = read_proofs(proofs_path(ape_chain_id(), epoch, world["reports"]))
        assert proofs.report.active_root == root
    # the report of g came two days after day g+1's deadline: that day stays on the fallback
    # (alice 100 of the 1,000 VVV staked), whatever the file says
    proofs = read_proofs(proofs_path(ape_chain_id(), g, world["reports"]))
    stake, position, siblings = proofs.proof(alice.address)
    assert (stake, position, siblings) == (100 * E18, 0, [])  # one leaf: depth 0
    assert system.oracle.vcuAllocation(g + 1, alice, stake, position, siblings) == CAPACITY // 10
    # the report of g+2, posted 300 s into day g+3, is on time: alice 100 of the 400 VVV active
    proofs = read_proofs(proofs_path(ape_chain_id(), g + 2, world["reports"]))
    stake, position, siblings = proofs.proof(alice.address)
    assert system.oracle.vcuAllocation(g + 3, alice, stake, position, siblings) == CAPACITY // 4
    # nothing left to do on a second run (the newest report's file is checked against the chain)
    again = post_reports(system, world["store"], oracle, reports_dir=world["reports"], echo=quiet)
    assert [(o.epoch, o.action) for o in again] == [(g + 2, "already on chain")]


def test_dry_run_writes_and_sends_nothing(system, oracle, world, g):
    mine_at((g + 2) * DAY + 300)
    nonce = oracle.nonce
    outcomes = post_reports(system, world["store"], oracle, reports_dir=world["reports"], dry_run=True, echo=quiet)
    assert [(o.epoch, o.action) for o in outcomes] == [(g, "dry run"), (g + 1, "dry run")]
    assert system.oracle.nextEpochToReport() == g
    assert oracle.nonce == nonce
    assert not world["reports"].exists()  # not even the lock file or the folder


def test_until_epoch(system, oracle, world, g):
    mine_at((g + 3) * DAY + 300)
    outcomes = post_reports(system, world["store"], oracle, reports_dir=world["reports"], until_epoch=g, echo=quiet)
    assert [o.epoch for o in outcomes] == [g]
    assert system.oracle.nextEpochToReport() == g + 1


def test_killed_after_building_before_sending(system, oracle, world, g):
    mine_at((g + 3) * DAY + 300)

    def crash_on_second(proofs):
        if proofs.report.epoch == g + 1:
            raise Crash

    with pytest.raises(Crash):
        post_reports(system, world["store"], oracle, reports_dir=world["reports"], before_send=crash_on_second,
                     echo=quiet)  # fmt: skip
    assert system.oracle.nextEpochToReport() == g + 1  # g posted, g+1 built and written, not sent
    outcomes = post_reports(system, world["store"], oracle, reports_dir=world["reports"], echo=quiet)
    assert [(o.epoch, o.action) for o in outcomes] == [(g, "already on chain"), (g + 1, "posted"), (g + 2, "posted")]
    assert [system.oracle.reportStatus(e) for e in range(g, g + 3)] == [1, 1, 1]  # one each, none skipped
    assert system.oracle.nextEpochToReport() == g + 3


def test_killed_after_sending_before_recording(system, oracle, world, g):
    mine_at((g + 3) * DAY + 300)

    def send_then_crash(proofs):
        r = proofs.report
        if r.epoch == g + 1:
            system.oracle.postReport(r.epoch, r.utilization_bps, r.capacity, r.active_root, r.total_active_stake,
                                     r.active_count, sender=oracle)  # fmt: skip
            raise Crash

    with pytest.raises(Crash):
        post_reports(system, world["store"], oracle, reports_dir=world["reports"], before_send=send_then_crash,
                     echo=quiet)  # fmt: skip
    outcomes = post_reports(system, world["store"], oracle, reports_dir=world["reports"], echo=quiet)
    assert [(o.epoch, o.action) for o in outcomes] == [(g + 1, "already on chain"), (g + 2, "posted")]
    assert system.oracle.nextEpochToReport() == g + 3


def test_proofs_file_of_a_send_that_never_landed_is_rebuilt(system, oracle, alice, world, g):
    mine_at((g + 2) * DAY + 300)

    def crash(proofs):
        raise Crash

    with pytest.raises(Crash):  # killed after writing epoch g's file, before sending
        post_reports(system, world["store"], oracle, reports_dir=world["reports"], before_send=crash, echo=quiet)
    path = proofs_path(ape_chain_id(), g, world["reports"])
    assert read_proofs(path).report.utilization_bps == 1_000
    # more usage for epoch g arrives: the file of the send that never landed no longer matches
    world["store"].add([ApiCall(g * DAY + 200, alice.address, "m", 0, 0, 0, 18_148 * E18)])
    lines = []
    outcomes = post_reports(system, world["store"], oracle, reports_dir=world["reports"], echo=lines.append)
    assert [(o.epoch, o.action) for o in outcomes] == [(g, "posted"), (g + 1, "posted")]
    assert f"epoch {g}: the proofs file of an earlier run differs; rebuilt (it never landed)" in lines
    assert system.oracle.report(g).utilizationBps == 2_000  # 36,296 of 181,480 VCU
    assert read_proofs(path).report.utilization_bps == 2_000


def test_second_run_at_once_stops_with_a_clear_message(system, oracle, world, g):
    mine_at((g + 2) * DAY + 300)
    lock_dir = proofs_path(ape_chain_id(), 0, world["reports"]).parent
    with run_lock(lock_dir), pytest.raises(OracleBusy, match="another oracle run is in progress"):
        post_reports(system, world["store"], oracle, reports_dir=world["reports"], echo=quiet)
    assert system.oracle.nextEpochToReport() == g


def test_bot_handlers_post_and_distribute_three_days(system, oracle, attacker, treasury, world, g):
    # The bot's daily handler (post_reports) a few minutes after each midnight, and its hourly
    # handler (distribute_final_epochs) every hour: after three days, three reports are on chain
    # and three epochs distributed.
    for day in range(1, 4):
        mine_at((g + day) * DAY + 300)  # 00:05 UTC
        post_reports(system, world["store"], oracle, reports_dir=world["reports"], echo=quiet)
        for hour in range(1, 4):
            mine_at((g + day) * DAY + hour * 3_600)
            distribute_final_epochs(system, attacker, echo=quiet)
    assert [system.oracle.reportStatus(e) for e in range(g, g + 3)] == [2, 2, 2]  # final
    assert [system.emissions.distributed(e) for e in range(g, g + 3)] == [True, True, True]
    # utilization 10%, 50%, 0% -> stakers 6800, 2000, 8000 bps of each epoch's emission
    emission = 14_000_000 * E18 // 365
    staker_parts = [emission * bps // 10_000 for bps in (6800, 2000, 8000)]
    assert system.token.balanceOf(treasury) == sum(emission - part for part in staker_parts)


def test_lost_proofs_file_of_newest_report_is_rebuilt(system, oracle, world, g):
    mine_at((g + 2) * DAY + 300)
    post_reports(system, world["store"], oracle, reports_dir=world["reports"], echo=quiet)
    path = proofs_path(ape_chain_id(), g + 1, world["reports"])
    original = path.read_text()
    path.unlink()
    outcomes = post_reports(system, world["store"], oracle, reports_dir=world["reports"], echo=quiet)
    assert [(o.epoch, o.action) for o in outcomes] == [(g + 1, "already on chain")]
    assert path.read_text() == original


def test_malformed_usage_file_posts_nothing(system, oracle, world, g, tmp_path):
    mine_at((g + 2) * DAY + 300)
    bad = tmp_path / "usage.csv"
    bad.write_text("timestamp,account,model,input_tokens,output_tokens,images,vcu_cost\n1,0x12,m,1,1,0,1\n")
    with pytest.raises(UsageError, match="usage.csv:2: not an address"):
        run_oracle(system, world["store"], oracle, import_file=bad, reports_dir=world["reports"], echo=quiet)
    assert system.oracle.nextEpochToReport() == g
    assert world["store"].count() == 2  # the two calls of the fixture, nothing of the bad file


def test_unreachable_chain_gives_a_clear_error():
    # nothing listens where ape's `node` provider looks (http://localhost:8545 here)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ape"), "run", "oracle", "--network", "ethereum:local:node",
         "--account", "TEST::6"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Error: cannot reach the chain" in result.stdout + result.stderr
    assert "nothing was sent" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
