"""The demo's tables (rich), drawn from its summary. They fit an 80-column terminal: each of the
two wide tables (per day, per staker) is printed as two narrower ones that share their first
column, with headers on two lines, and the closing lines are broken before 80 columns."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

WIDTH = 80  # the terminal the tables must fit
TEXT_COLUMNS = {"address", "kind", "joined", "API", "source"}  # left-aligned; numbers to the right


def _num(text: str | None, places: int = 2) -> str:
    if text is None:
        return "-"
    return f"{Decimal(text):,.{places}f}"


def _ratio(text: str | None) -> str:
    """VCU per VVV: 3 decimals, none from 1,000 on (a tiny active stake)."""
    return _num(text, 3 if text is None or Decimal(text) < 1_000 else 0)


def _pct(bps: int) -> str:
    return f"{bps / 100:.2f}%"


def _table(title: str, *columns: str) -> Table:
    """A table whose cells are never folded over two lines (a row stays one line)."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="left" if column in TEXT_COLUMNS else "right", no_wrap=True)
    return table


def day_tables(rows: list[dict[str, Any]]) -> tuple[Table, Table]:
    """Per day: the emission and its split, then the VCU."""
    emission = _table("Per day: emission", "day", "epoch", "util.", "stakers'\nshare", "stakers\nVVV",
                      "treasury\nVVV", "APR")  # fmt: skip
    vcu = _table("Per day: VCU", "day", "source", "stakers\nserved", "VCU\ngranted", "VCU\nused",
                 "VCU/VVV\nactive", "VCU/VVV\nall")  # fmt: skip
    for r in rows:
        emission.add_row(
            str(r["day"]), str(r["epoch"]), _pct(r["utilization_bps"]), _pct(r["staker_bps"]),
            _num(r["staker_amount"]), _num(r["treasury_amount"]), f"{_num(r['apr_percent'])}%",
        )  # fmt: skip
        vcu.add_row(
            str(r["day"]), r["vcu_source"], str(r["active_stakers"]), _num(r["vcu_granted"], 0),
            _num(r["vcu_used"], 0), _ratio(r["vcu_per_vvv_active"]), _ratio(r["vcu_per_vvv_all"]),
        )  # fmt: skip
    return emission, vcu


def staker_tables(rows: list[dict[str, Any]]) -> tuple[Table, Table]:
    """Per staker: the stake, then the rewards and the VCU."""
    stake = _table("Per staker: stake", "#", "address", "kind", "joined", "stake", "unbonding")
    rewards = _table("Per staker: rewards and VCU", "#", "API", "rewards", "realised\nAPR", "VCU\ngranted",
                     "VCU\nused")  # fmt: skip
    for r in rows:
        stake.add_row(
            str(r["index"]), r["address"][:10] + "…", r["kind"],
            "before" if r["joined_day"] == 0 else f"day {r['joined_day']}", _num(r["staked"]), _num(r["unbonding"]),
        )  # fmt: skip
        apr = "-" if r["realised_apr_percent"] is None else f"{_num(r['realised_apr_percent'])}%"
        rewards.add_row(
            str(r["index"]), "yes" if r["api_user"] else "no", _num(r["rewards"], 4), apr,
            _num(r["vcu_granted"], 0), _num(r["vcu_used"], 0),
        )  # fmt: skip
    return stake, rewards


def show_summary(summary: dict[str, Any], console: Console) -> None:
    for table in (*day_tables(summary["per_day"]), *staker_tables(summary["per_staker"])):
        console.print(table)
    active = [Decimal(r["vcu_per_vvv_active"]) for r in summary["per_day"] if r["vcu_source"] == "report"]
    every = [Decimal(r["vcu_per_vvv_all"]) for r in summary["per_day"] if r["vcu_source"] == "report"]
    if active and sum(every):
        console.print("VCU per staked VVV, counting active API users only vs every staker:")
        console.print(f"  {sum(active) / sum(every):.1f}x on average over the reported days")
    mark = "OK" if summary["supply_check"] else "MISMATCH"
    console.print(f"check: total supply == 100,000,000 + {summary['days']} x epoch emission: {mark}")
    console.print(f"  {_num(summary['total_supply'], 18)} VVV == {_num(summary['expected_supply'], 18)} VVV")
