"""`ape run demo` with small options: its JSON summary against the chain and hand-worked rules."""

import json

from tests.cli_runner import invoke_script
from tests.helpers import E18, EPOCH_EMISSION
from vvv.chain.units import parse_amount


def staker_bps(utilization: int) -> int:
    """The seed's split curve through (0, 8000), (5000, 2000), (10000, 8000)."""
    if utilization <= 5_000:
        return 8_000 - 6_000 * utilization // 5_000
    return 2_000 + 6_000 * (utilization - 5_000) // 5_000


def run(tmp_path, name):
    result = invoke_script("demo", "--days", "3", "--stakers", "6", "--seed", "11", "--out", str(tmp_path / name),
                           "--json")  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def test_demo_summary_matches_the_chain(tmp_path, project, accounts):
    summary = run(tmp_path, "a")
    c = summary["contracts"]
    token, staking = project.VVVToken.at(c["VVVToken"]), project.VVVStaking.at(c["VVVStaking"])
    oracle = project.EpochOracle.at(c["EpochOracle"])
    emissions = project.EmissionsController.at(c["EmissionsController"])

    supply = 100_000_000 * E18 + 3 * EPOCH_EMISSION
    assert parse_amount(summary["total_supply"]) == token.totalSupply() == supply
    assert summary["supply_check"] is True

    days = summary["per_day"]
    assert [d["epoch"] for d in days] == [summary["genesis_epoch"] + i for i in range(3)]
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
    for name in ("split-curve.png", "minted.png", "apr.png", "vcu-allotments.png"):
        assert (tmp_path / "a" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_is_deterministic_for_a_seed(tmp_path):
    first, second = run(tmp_path, "a"), run(tmp_path, "b")
    for key in ("epoch",):
        for d in first["per_day"] + second["per_day"]:
            d.pop(key)
    assert first["per_day"] == second["per_day"]
    assert first["per_staker"] == second["per_staker"]
