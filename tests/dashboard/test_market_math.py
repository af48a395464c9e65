"""The page's market arithmetic (web/src/market.ts) and its calculator (web/src/calc.ts), run in
node on numbers worked out by hand here (never from the code under test): with compute rights,
locked stake is out of the rewards' weight (the APRs and the live earned are over the free stake,
`freeStakeOf` over `totalFreeStaked`), and the calculator shares today's pool (the capacity less
today's activated rights), as the CLI (vvv/staker/market.py) and the contracts do. One tsc compile
and one node process: about 3 s, once per suite run (no chain)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import once_per_suite_run

ROOT = Path(__file__).resolve().parents[2]
E18 = 10**18

# 4,000 VVV staked, 400 of it locked by a mint: 3,600 VVV free. The stream pays 0.01 VVV a second
# (rateScaled: reward wei per second x 1e18); the last report's stakers' part is 1,000 VVV a day.
MARKET = {
    "now": 1_000, "epoch": 0, "capacity": str(181_480 * E18), "rightsToday": str(5 * E18),
    "pool": str(181_475 * E18), "activeStake": str(3_600 * E18), "allStake": str(3_600 * E18),
    "totalStaked": str(4_000 * E18), "rewardedStake": str(3_600 * E18), "rateScaled": str(E18 // 100 * E18),
    "rewardsEnd": 2_000, "stakersDaily": str(1_000 * E18),
}  # fmt: skip
# the account: 1,000 VVV staked, 400 of it locked (all the locks: 600 free), 5 VVV earned at the read
# (chain time 1,000)
POSITION = {"now": 1_000, "staked": str(1_000 * E18), "freeStake": str(600 * E18), "earned": str(5 * E18)}


def run_ts(calls: dict[str, Any]) -> dict[str, Any]:
    """Compile web/src/market.ts and calc.ts with tsc (into .build) and run `calls` through them;
    every bigint crosses as a decimal string."""
    (ROOT / ".build").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / ".build", prefix="market-ts-") as out:
        sources = [ROOT / "web/src/market.ts", ROOT / "web/src/calc.ts"]
        compiled = subprocess.run(
            [ROOT / "node_modules/.bin/tsc", *sources, "--outDir", out, "--rootDir", ROOT / "web/src",
             "--module", "es2022", "--target", "es2022", "--moduleResolution", "bundler", "--skipLibCheck"],
            capture_output=True, text=True,
        )  # fmt: skip
        assert compiled.returncode == 0, compiled.stdout + compiled.stderr
        (Path(out) / "package.json").write_text('{"type": "module"}')  # the compiled files are ES modules
        result = subprocess.run(["node", Path(__file__).with_name("market_ts.mjs"), out], input=json.dumps(calls),
                                capture_output=True, text=True)  # fmt: skip
        assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def ts() -> dict[str, Any]:
    once_per_suite_run()
    ended = MARKET | {"now": 2_100}
    return run_ts(
        {
            "pool": [[str(181_480 * E18), str(5 * E18)], [str(181_480 * E18), "0"], ["10", "12"], ["10", "10"]],
            "aprNow": [MARKET, ended, MARKET | {"rewardedStake": "0"}],
            "aprLast": [MARKET, MARKET | {"stakersDaily": None}],
            "earned": [
                [POSITION, MARKET, 1_010.5],  # 10 whole seconds after the read
                [POSITION | {"now": 1_990}, MARKET, 2_500],  # the stream ends at 2,000: 10 seconds
                [POSITION | {"freeStake": "0"}, MARKET, 1_500],  # all of it locked: earns nothing
                [POSITION, MARKET, 1_000],
            ],
            # 1,000 VVV joining 3,600 VVV of free stake on today's pool of 181,475 VCU
            "allotment": [[str(1_000 * E18), str(181_475 * E18), str(3_600 * E18)]],
            # 100 VCU a day, the same pool and stake, a minimum of 1 VVV
            "stakeNeeded": [[str(100 * E18), str(181_475 * E18), str(3_600 * E18), str(E18)]],
        }
    )


def test_the_pool_is_the_capacity_less_todays_rights(ts):
    # 181,480 - 5 = 181,475 VCU; no rights: the capacity; rights at or above the capacity leave nothing
    assert ts["pool"] == [str(181_475 * E18), str(181_480 * E18), "0", "0"]


def test_the_aprs_are_over_the_free_stake(ts):
    # 0.01 VVV/s x 31,536,000 s = 315,360 VVV a year over 3,600 free VVV = 87.6 = 8,760 % (in
    # millionths of a percent); over all 4,000 VVV staked it would be 7,884 %
    assert ts["aprNow"] == [str(8_760 * 10**6), "0", None]  # the stream over: 0; no free stake: none
    # 1,000 VVV a day x 365 = 365,000 VVV over 3,600 = 101.388... = 10,138.888888.. %, floored
    assert ts["aprLast"] == ["10138888888", None]


def test_earned_moves_with_the_free_stake_over_the_free_total(ts):
    # 600 free of 3,600 free: a sixth of 0.01 VVV/s; 10 s -> 0.1 / 6 = 0.0166.. VVV, floored to the wei
    # (by the whole stake, 1,000 of 4,000, it would be a quarter: 0.025 VVV)
    moved = str(5 * E18 + 16_666_666_666_666_666)
    assert ts["earned"] == [moved, moved, str(5 * E18), str(5 * E18)]


def test_the_calculator_shares_todays_pool(ts):
    # 1,000 x 181,475 / (3,600 + 1,000) = 39,451.086956521739130434... VCU, floored to the wei
    assert ts["allotment"] == ["39451086956521739130434"]
    # least s with s x 181,475 / (3,600 + s) >= 100: s = 100 x 3,600 / 181,375 = 1.984838042729152308...
    # VVV, rounded up to the wei: its allotment 100.000000000000000012 VCU, a wei less gives 99.99..96
    assert ts["stakeNeeded"] == ["1984838042729152309"]
