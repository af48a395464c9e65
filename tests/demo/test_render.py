"""The demo's tables fit an 80-column terminal (issue 22: they were 156 columns wide): a two-day,
two-staker summary printed at 80 columns, to the character; and the widest values a run can show
(60 days, 500 stakers, the whole supply staked, an APR in the millions) still fit, one line a
row, no cell cut but the shortened addresses."""

import io

import pytest
from rich.console import Console

from tests.passes import IN_PROCESS
from vvv.demo.render import WIDTH, show_summary

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)


def day(number, epoch, bps, staker_bps, stakers, treasury, source, served, granted, used, active, every, apr):
    return {"day": number, "epoch": epoch, "utilization_bps": bps, "staker_bps": staker_bps,
            "staker_amount": stakers, "treasury_amount": treasury, "vcu_source": source, "active_stakers": served,
            "vcu_granted": granted, "vcu_used": used, "vcu_per_vvv_active": active, "vcu_per_vvv_all": every,
            "apr_percent": apr}  # fmt: skip


def staker(index, address, kind, api, joined, staked, unbonding, rewards, granted, used, apr):
    return {"index": index, "address": address, "kind": kind, "api_user": api, "joined_day": joined,
            "staked": staked, "unbonding": unbonding, "rewards": rewards, "vcu_granted": granted, "vcu_used": used,
            "realised_apr_percent": apr}  # fmt: skip


# Day 1 under the fallback at 0 % utilization: stakers get 80 % of 38,356.164383... VVV; day 2 at
# 25 %: 50/50. 1,000,000 VVV staked on day 1 and 800,000 active on day 2 share 181,480 VCU.
SUMMARY = {
    "days": 2,
    "total_supply": "100076712.328767123287671232",
    "expected_supply": "100076712.328767123287671232",
    "supply_check": True,
    "per_day": [
        day(1, 20000, 0, 8000, "30684.931506849315068493", "7671.232876712328767123", "fallback", 2, "181480", "0",
            "0.181480", "0.181480", "1119.999999"),
        day(2, 20001, 2500, 5000, "19178.082191780821917808", "19178.082191780821917808", "report", 1, "181480",
            "45370", "0.226850", "0.181480", "700.000000"),
    ],
    "per_staker": [
        staker(0, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "large", True, 0, "800000", "0",
               "41095.890410958904109589", "326664", "45370", "937.500000"),
        staker(1, "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "small", False, 2, "200000", "50000",
               "8767.123287671232876712", "36296", "0", None),
    ],
}  # fmt: skip

EXPECTED = """\
Per day: emission
┏━━━━━┳━━━━━━━┳━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━┓
┃     ┃       ┃        ┃ stakers' ┃   stakers ┃  treasury ┃           ┃
┃ day ┃ epoch ┃  util. ┃    share ┃       VVV ┃       VVV ┃       APR ┃
┡━━━━━╇━━━━━━━╇━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━┩
│   1 │ 20000 │  0.00% │   80.00% │ 30,684.93 │  7,671.23 │ 1,120.00% │
│   2 │ 20001 │ 25.00% │   50.00% │ 19,178.08 │ 19,178.08 │   700.00% │
└─────┴───────┴────────┴──────────┴───────────┴───────────┴───────────┘
Per day: VCU
┏━━━━━┳━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━┓
┃     ┃          ┃ stakers ┃     VCU ┃    VCU ┃ VCU/VVV ┃ VCU/VVV ┃
┃ day ┃ source   ┃  served ┃ granted ┃   used ┃  active ┃     all ┃
┡━━━━━╇━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━┩
│   1 │ fallback │       2 │ 181,480 │      0 │   0.181 │   0.181 │
│   2 │ report   │       1 │ 181,480 │ 45,370 │   0.227 │   0.181 │
└─────┴──────────┴─────────┴─────────┴────────┴─────────┴─────────┘
Per staker: stake
┏━━━┳━━━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━┓
┃ # ┃ address     ┃ kind  ┃ joined ┃      stake ┃ unbonding ┃
┡━━━╇━━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━┩
│ 0 │ 0x70997970… │ large │ before │ 800,000.00 │      0.00 │
│ 1 │ 0x3C44CdDd… │ small │ day 2  │ 200,000.00 │ 50,000.00 │
└───┴─────────────┴───────┴────────┴────────────┴───────────┘
Per staker: rewards and VCU
┏━━━┳━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━┓
┃   ┃     ┃             ┃ realised ┃     VCU ┃    VCU ┃
┃ # ┃ API ┃     rewards ┃      APR ┃ granted ┃   used ┃
┡━━━╇━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━┩
│ 0 │ yes │ 41,095.8904 │  937.50% │ 326,664 │ 45,370 │
│ 1 │ no  │  8,767.1233 │        - │  36,296 │      0 │
└───┴─────┴─────────────┴──────────┴─────────┴────────┘
VCU per staked VVV, counting active API users only vs every staker:
  1.2x on average over the reported days
check: total supply == 100,000,000 + 2 x epoch emission: OK
  100,076,712.328767123287671232 VVV == 100,076,712.328767123287671232 VVV
"""


def printed(summary: dict, width: int = WIDTH) -> list[str]:
    console = Console(file=io.StringIO(), width=width)
    show_summary(summary, console)
    return console.file.getvalue().splitlines()


def test_the_demo_tables_at_80_columns():
    """Every figure by hand: 30,684.93 = 80 % of 38,356.16 and 7,671.23 the rest; 1,119.999999 %
    rounds to 1,120.00 %; 181,480 / 1,000,000 = 0.181 VCU per VVV, / 800,000 = 0.227; the report day's
    ratio over the fallback's, 0.22685 / 0.18148 = 1.25, printed 1.2x (half to even). The titles are padded to the
    table's width by rich: trailing spaces do not count."""
    lines = printed(SUMMARY)
    assert [line.rstrip() for line in lines] == EXPECTED.splitlines()
    assert max(map(len, lines)) <= WIDTH


def test_the_widest_figures_still_fit_80_columns():
    """Day 60, epoch 99,999, 500 stakers, the whole supply staked and as much unbonding, an APR
    in the millions, ten times today's capacity, 0.001 VVV of active stake (181,480,000 VCU per
    VVV, shown without decimals): one line a row, and no cell cut (the one "…" is the shortened
    address's)."""
    big = "100536986.301369863013698624"
    days = [day(60, 99_999, 10_000, 8_000, "38356.164383561643835616", "38356.164383561643835616", "fallback",
                500, "1814800", "1814800", "181480000.000000", "181480000.000000", "4479999.999999")]  # fmt: skip
    stakers = [staker(499, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "large", True, 59, big, big, big,
                      "1814800", "1814800", "4479999.999999")]  # fmt: skip
    lines = printed({**SUMMARY, "days": 60, "per_day": days, "per_staker": stakers})
    assert max(map(len, lines)) <= WIDTH
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) == 4  # one line each: nothing folded
    assert [row.count("…") for row in rows] == [0, 0, 1, 0]
    text = "\n".join(lines)
    assert "4,480,000.00%" in text and "100,536,986.30" in text and "1,814,800" in text and "181,480,000 " in text
    assert "100,536,986.3014" in text
