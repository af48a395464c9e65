"""The demo's tables (rich), drawn from its summary."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table


def _num(text: str | None, places: int = 2) -> str:
    if text is None:
        return "-"
    return f"{Decimal(text):,.{places}f}"


def _pct(bps: int) -> str:
    return f"{bps / 100:.2f}%"


def show_summary(summary: dict[str, Any], console: Console) -> None:
    days = Table(title="Per day", title_justify="left")
    for column in ("day", "epoch", "utilization", "stakers' share", "stakers VVV", "treasury VVV", "active",
                   "VCU granted", "VCU used", "VCU/VVV active", "VCU/VVV all", "APR"):  # fmt: skip
        days.add_column(column, justify="right")
    for r in summary["per_day"]:
        days.add_row(
            str(r["day"]), str(r["epoch"]), _pct(r["utilization_bps"]), _pct(r["staker_bps"]),
            _num(r["staker_amount"]), _num(r["treasury_amount"]), f"{r['active_stakers']} ({r['vcu_source']})",
            _num(r["vcu_granted"], 0), _num(r["vcu_used"], 0), _num(r["vcu_per_vvv_active"], 3),
            _num(r["vcu_per_vvv_all"], 3), f"{_num(r['apr_percent'])}%",
        )  # fmt: skip
    console.print(days)
    stakers = Table(title="Per staker", title_justify="left")
    for column in ("#", "address", "kind", "API", "joined", "stake", "unbonding", "rewards", "VCU granted",
                   "VCU used", "realised APR"):  # fmt: skip
        stakers.add_column(column, justify="right")
    for r in summary["per_staker"]:
        stakers.add_row(
            str(r["index"]), r["address"][:10] + "…", r["kind"], "yes" if r["api_user"] else "no",
            "before" if r["joined_day"] == 0 else f"day {r['joined_day']}", _num(r["staked"]),
            _num(r["unbonding"]), _num(r["rewards"], 4), _num(r["vcu_granted"], 0), _num(r["vcu_used"], 0),
            "-" if r["realised_apr_percent"] is None else f"{_num(r['realised_apr_percent'])}%",
        )  # fmt: skip
    console.print(stakers)
    active = [Decimal(r["vcu_per_vvv_active"]) for r in summary["per_day"] if r["vcu_source"] == "report"]
    every = [Decimal(r["vcu_per_vvv_all"]) for r in summary["per_day"] if r["vcu_source"] == "report"]
    if active and sum(every):
        console.print(f"VCU per staked VVV, counting active API users only vs every staker: "
                      f"{sum(active) / sum(every):.1f}x on average over the reported days")  # fmt: skip
    mark = "OK" if summary["supply_check"] else "MISMATCH"
    console.print(f"check: total supply {_num(summary['total_supply'], 18)} VVV == 100,000,000 + {summary['days']} "
                  f"x epoch emission = {_num(summary['expected_supply'], 18)} VVV: {mark}")  # fmt: skip
