"""`ape run demo` with small options: its JSON summary against the chain and hand-worked rules."""

import io
import json
import math
import re
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from rich.console import Console

from tests.cli_runner import ape_run, invoke_script, json_output, once_per_suite_run, one_error_line, rpc
from tests.helpers import DAY, E18, EPOCH_EMISSION
from tests.passes import ANVIL, only_in
from vvv.chain.units import parse_amount
from vvv.demo.output import fresh_folder
from vvv.demo.plots import PLOTS
from vvv.demo.render import show_summary


def staker_bps(utilization: int) -> int:
    """The seed's split curve through (0, 8000), (5000, 2000), (10000, 8000)."""
    if utilization <= 5_000:
        return 8_000 - 6_000 * utilization // 5_000
    return 2_000 + 6_000 * (utilization - 5_000) // 5_000


ARGS = ("--days", "3", "--stakers", "6", "--seed", "11", "--json")


def run(*out: str) -> dict:
    result = invoke_script("demo", *ARGS, *out)
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def table_rows(summary: dict, title: str) -> list[list[str]]:
    """The cells of the rows of one of the demo's tables, as printed at 80 columns."""
    console = Console(file=io.StringIO(), width=80)
    show_summary(summary, console)
    lines = console.file.getvalue().split(title, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("┡")) + 1  # below the header's rule
    rows = []
    for line in lines[start:]:
        if not line.startswith("│"):
            break
        rows.append([cell.strip() for cell in line.strip("│").split("│")])
    return rows


def test_demo_summary_matches_the_chain(tmp_path, project, accounts):
    summary = run("--out", str(tmp_path / "a"))
    assert summary["out"] == str(tmp_path / "a")
    c = summary["contracts"]
    token, staking = project.VVVToken.at(c["VVVToken"]), project.VVVStaking.at(c["VVVStaking"])
    oracle = project.EpochOracle.at(c["EpochOracle"])
    emissions = project.EmissionsController.at(c["EmissionsController"])

    supply = 100_000_000 * E18 + 3 * EPOCH_EMISSION
    assert parse_amount(summary["total_supply"]) == token.totalSupply() == supply
    assert summary["supply_check"] is True

    days = summary["per_day"]
    # days are numbered from 1 (the genesis epoch), in the JSON and in the table alike
    assert [(d["day"], d["epoch"]) for d in days] == [(i + 1, summary["genesis_epoch"] + i) for i in range(3)]
    shown = [row[:2] for row in table_rows(summary, "Per day: emission")]
    assert shown == [[str(d["day"]), str(d["epoch"])] for d in days]
    for d in days:
        utilization = oracle.report(d["epoch"]).utilizationBps
        assert d["utilization_bps"] == utilization and emissions.distributed(d["epoch"])
        assert d["staker_bps"] == staker_bps(utilization)
        stakers = EPOCH_EMISSION * staker_bps(utilization) // 10_000
        assert parse_amount(d["staker_amount"]) == stakers
        assert parse_amount(d["treasury_amount"]) == EPOCH_EMISSION - stakers
    # the sweep: a light first day, a heavy last day
    assert days[0]["utilization_bps"] < 500 and days[-1]["utilization_bps"] > 9_000
    treasury_total = sum(parse_amount(d["treasury_amount"]) for d in days)
    assert parse_amount(summary["treasury_balance"]) == token.balanceOf(emissions.treasury()) == treasury_total

    assert len(summary["per_staker"]) == 6
    g = summary["genesis_epoch"]
    joined = [row[3] for row in table_rows(summary, "Per staker: stake")]
    for s, shown in zip(summary["per_staker"], joined, strict=True):
        # joined on day j: no stake at the end of day j-1 (epoch g+j-2), a stake at the end of day j;
        # day 0 is the day before genesis, "before" in the table
        j = s["joined_day"]
        assert shown == ("before" if j == 0 else f"day {j}")
        if j > 0:
            assert staking.stakeAt(s["address"], (g + j - 1) * DAY - 1) == 0
        assert staking.stakeAt(s["address"], (g + j) * DAY - 1) > 0
    for s in summary["per_staker"]:
        assert parse_amount(s["wallet"]) == token.balanceOf(s["address"])
        assert parse_amount(s["staked"]) == staking.stakeOf(s["address"])
        assert parse_amount(s["earned"]) == staking.earned(s["address"])
        assert parse_amount(s["vcu_used"]) <= parse_amount(s["vcu_granted"])
        if not s["api_user"]:
            assert parse_amount(s["vcu_used"]) == 0
    # every VVV is held by the genesis holder (test account 0), a staker, the treasury or staking,
    # and staking holds at least every stake, pending request and unclaimed reward
    wallets = sum(token.balanceOf(s["address"]) for s in summary["per_staker"])
    held = token.balanceOf(accounts[0]) + wallets + token.balanceOf(staking) + treasury_total
    assert held == supply
    owed = (
        staking.totalStaked()
        + staking.totalUnbonding()
        + sum(staking.earned(s["address"]) for s in summary["per_staker"])
    )
    assert token.balanceOf(staking) >= owed
    assert parse_amount(summary["total_staked"]) == staking.totalStaked()
    for name in ("split-curve.png", "minted.png", "apr.png", "vcu-allotments.png", "capacity-rights-pool.png"):
        assert (tmp_path / "a" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Rights (seed 11: vvv.demo.simulation.plan_rights picks staker 5, all of its allowance on day
    # 2): activated for its agent from day 3, they are day 3's rights; each day's capacity is
    # rights plus pool; the stake they lock is the staker's locked stake.
    minters = [s for s in summary["per_staker"] if parse_amount(s["rights_minted"])]
    assert [s["index"] for s in minters] == [5]
    minted = parse_amount(minters[0]["rights_minted"])
    assert [parse_amount(d["rights_vcu"]) for d in days] == [0, 0, minted]
    for d in days:
        assert parse_amount(d["rights_vcu"]) + parse_amount(d["pool_vcu"]) == parse_amount(d["capacity"])
    assert staking.lockedOf(minters[0]["address"]) == parse_amount(minters[0]["rights_locked"]) > 0
    # each day's APR: a year of the stakers' part over the stake that earns it at the day's
    # snapshot, the free stake (locked stake earns none: days 2 and 3, after the mint, differ
    # from the total), in percent floored to 6 places
    for d in days:
        snapshot = (d["epoch"] + 1) * DAY - 1
        free = staking.totalStakedAt(snapshot) - staking.totalLockedAt(snapshot)
        apr = Fraction(parse_amount(d["staker_amount"]) * 365 * 100, free)
        assert Decimal(d["apr_percent"]) == Decimal(math.floor(apr * 10**6)) / 10**6
    assert [staking.totalLockedAt((d["epoch"] + 1) * DAY - 1) > 0 for d in days] == [False, True, True]


def test_demo_writes_a_fresh_folder_and_never_overwrites_unasked(tmp_path, monkeypatch, chain):
    """Without --out each run gets a new folder; a non-empty --out is refused (nothing run,
    nothing written) unless --overwrite; the same seed gives the same run; the tables fit 80
    columns. About the folder, not the chain (test_demo_summary_matches_the_chain checks the
    run on both): once, on anvil, where the demo's two runs take a third of the in-process
    chain's time."""
    only_in(ANVIL, "about the folder and the tables, not the chain")
    monkeypatch.chdir(tmp_path)
    first = run()
    folder = tmp_path / first["out"]
    assert re.fullmatch(r"demo-out/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", first["out"]) and folder.is_dir()
    files = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert {p.name for p in files} >= {"summary.json", *PLOTS}
    head = chain.blocks.head.number

    refused = invoke_script("demo", *ARGS, "--out", first["out"])
    assert refused.exit_code == 1 and refused.stdout == ""
    assert refused.stderr == (f"Error: --out {first['out']} is not empty (an earlier run's results?): choose a new "
                              "folder, or add --overwrite to replace them\n")  # fmt: skip
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == files
    assert chain.blocks.head.number == head  # nothing ran

    # the second run prints its tables (not JSON), as in a terminal of 80 columns, the width rich
    # takes when stdout is not a terminal: every line fits
    shown = invoke_script("demo", *ARGS[:-1], "--out", first["out"], "--overwrite")
    assert shown.exit_code == 0, shown.output + shown.stderr
    assert "Per day: emission" in shown.stdout and max(map(len, shown.stdout.splitlines())) <= 80
    second = json.loads((folder / "summary.json").read_text())
    for d in first["per_day"] + second["per_day"]:
        d.pop("epoch")
    assert first["per_day"] == second["per_day"]
    assert first["per_staker"] == second["per_staker"]


def test_overwrite_needs_an_out_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke_script("demo", *ARGS, "--overwrite")
    assert result.exit_code == 1
    assert result.stderr == "Error: --overwrite needs --out: without it every run writes into a new folder\n"
    assert not list(tmp_path.iterdir())


def test_a_new_folder_for_each_run_in_the_same_second(tmp_path):
    now = datetime(2026, 11, 28, 16, 48, 23, tzinfo=UTC)
    first = fresh_folder(tmp_path, now)
    assert first == tmp_path / "2026-11-28T16-48-23Z"
    first.mkdir()
    assert fresh_folder(tmp_path, now) == tmp_path / "2026-11-28T16-48-23Z-2"


def test_demo_json_is_the_whole_stdout_on_anvil(tmp_path):
    """`ape run demo --json` in its own process on anvil: stdout is the summary and nothing else
    (ape's log goes to stderr); two days, numbered 1 and 2, with a 2 % -> 98 % sweep that the
    oracle's sanity bounds would refuse outside the demo."""
    once_per_suite_run()
    out = tmp_path / "out"
    result = ape_run("demo", "--network", "ethereum:local:foundry", "--days", "2", "--stakers", "3", "--json",
                     "--out", out, deployments=tmp_path / "deployments")  # fmt: skip
    summary = json_output(result)
    assert [(d["day"], d["epoch"]) for d in summary["per_day"]] == [(1, summary["genesis_epoch"]),
                                                                    (2, summary["genesis_epoch"] + 1)]  # fmt: skip
    assert summary["supply_check"] is True and summary["out"] == str(out)
    assert json.loads((out / "summary.json").read_text()) == summary


def test_demo_refuses_a_chain_it_must_not_move(tmp_path, local_chain):
    """The demo moves the clock by days: on a chain that persists (`make chain`) it is refused
    in one line, before anything is sent or written."""
    once_per_suite_run()
    result = ape_run("demo", "--network", local_chain.network, "--json", "--out", tmp_path / "out",
                     deployments=tmp_path / "deployments")  # fmt: skip
    assert one_error_line(result) == (
        "Error: the demo moves the chain's clock by days: it runs on a chain that ape starts for it "
        f"(ethereum:local:test, the default, or ethereum:local:foundry), not on {local_chain.network}"
    )
    assert rpc(local_chain.uri, "eth_blockNumber") == "0x0"
    assert not (tmp_path / "out").exists()
