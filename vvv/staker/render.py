"""Output of the staker commands: one JSON object (`--json`) or rich tables. Amounts are VVV or
VCU with decimals (exact, as strings in JSON), or integer wei with `--wei`."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from vvv.chain.units import format_amount
from vvv.staker.calc import Buys
from vvv.staker.market import format_apr
from vvv.staker.status import Status
from vvv.staker.transactions import Outcome, utc


class Amounts:
    """Formats wei amounts as decimals or, with `wei`, as integers."""

    def __init__(self, wei: bool = False) -> None:
        self.wei = wei

    def __call__(self, value: int | None) -> str | int | None:
        if value is None:
            return None
        return value if self.wei else format_amount(value)


def emit_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, indent=2))


def outcome_data(outcome: Outcome, fmt: Amounts) -> dict[str, Any]:
    return {
        "action": outcome.action,
        "account": outcome.account,
        **{k: fmt(v) for k, v in outcome.amounts.items()},
        "requests": [{**r, "amount": fmt(r["amount"])} for r in outcome.requests],
        "used_permit": outcome.used_permit,
        "transactions": [str(t) for t in outcome.transactions],
    }


def show_outcome(outcome: Outcome, fmt: Amounts, console: Console) -> None:
    unit = "wei" if fmt.wei else "VVV"
    verb = {"stake": "staked", "unstake": "asked to unstake", "cancel": "cancelled the unstake of",
            "withdraw": "withdrew", "claim": "claimed", "restake": "restaked"}[outcome.action]  # fmt: skip
    permit = " (with a permit)" if outcome.used_permit else ""
    console.print(f"{outcome.account} {verb} {fmt(outcome.amounts['amount'])} {unit}{permit}")
    for r in outcome.requests:
        console.print(f"  request {r['id']}: {fmt(r['amount'])} {unit}, unlock {utc(r['unlock_time'])}")
    for t in outcome.transactions:
        console.print(f"  tx {t}")


def status_data(status: Status, fmt: Amounts) -> dict[str, Any]:
    p, m, v = status.position, status.market, status.vcu
    return {
        "account": p.account,
        "block_time": p.now,
        "epoch": m.epoch,
        "wallet": fmt(p.wallet),
        "allowance": fmt(p.allowance),
        "staked": fmt(p.staked),
        "earned": fmt(p.earned),
        "unbonding": fmt(p.unbonding),
        "withdrawable_now": fmt(p.withdrawable_now),
        "requests": [
            {
                "id": r.request_id,
                "amount": fmt(r.amount),
                "unlock_time": r.unlock_time,
                "seconds_left": r.seconds_left(p.now),
                "matured": r.matured(p.now),
            }  # fmt: skip
            for r in p.pending
        ],
        "total_staked": fmt(m.total_staked),
        "apr_percent": format_apr(status.apr_now),
        "apr_at_last_utilization_percent": format_apr(status.apr_at_last_utilization),
        "apr_notes": status.apr_notes,
        "last_reported_epoch": m.last_reported_epoch,
        "last_utilization_bps": m.last_utilization_bps,
        "vcu": {
            "epoch": v.epoch,
            "source": v.source,
            "capacity": fmt(m.capacity),
            "allotment": fmt(v.allotment),
            "spent": fmt(v.spent),
            "remaining": fmt(v.remaining),
            "api_active": v.api_active,
            "api_call_in_last_7_days": v.call_in_window,
            "notes": v.notes,
            "usage_store": v.usage_store,
        },
    }


def _table(title: str, *columns: str, wrap: int | None = None) -> Table:
    """Names in the first column, figures in the others; no cell is cut or folded, except in
    column `wrap` (a long header), the one rich may narrow to fit 80 columns."""
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right", no_wrap=wrap is not None and i != wrap)
    return table


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def show_status(status: Status, fmt: Amounts, console: Console) -> None:
    data = status_data(status, fmt)
    unit = "wei" if fmt.wei else "VVV"
    summary = _table(f"{data['account']}\nat {utc(data['block_time'])} (epoch {data['epoch']})", "", unit)
    for key in ("wallet", "staked", "earned", "unbonding", "withdrawable_now", "total_staked"):
        summary.add_row(key.replace("_", " "), _text(data[key]))
    summary.add_row("APR now %", _text(data["apr_percent"]))
    summary.add_row(f"APR at last utilization ({_text(data['last_utilization_bps'])} bps) %",
                    _text(data["apr_at_last_utilization_percent"]))  # fmt: skip
    console.print(summary)
    for note in data["apr_notes"]:
        console.print(f"note: {note}")
    if data["requests"]:
        requests = _table("Unbonding requests", "id", unit, "unlocks", "time left")
        for r in data["requests"]:
            left = "ready" if r["matured"] else f"{r['seconds_left'] // 86_400}d {r['seconds_left'] % 86_400 // 3600}h"
            requests.add_row(str(r["id"]), _text(r["amount"]), utc(r["unlock_time"]), left)
        console.print(requests)
    v = data["vcu"]
    vcu = _table(f"VCU today (epoch {v['epoch']}, {v['source']})", "", "wei" if fmt.wei else "VCU")
    for key in ("capacity", "allotment", "spent", "remaining", "api_active", "api_call_in_last_7_days"):
        vcu.add_row(key.replace("_", " "), _text(v[key]))
    console.print(vcu)
    for note in v["notes"]:
        console.print(f"note: {note}")


def calc_forward_data(stake: int, active: int, everyone: int, buys: list[Buys], fmt: Amounts) -> dict[str, Any]:
    return {
        "stake": fmt(stake),
        "daily_vcu_active": fmt(active),
        "daily_vcu_if_all_active": fmt(everyone),
        "buys": [
            {
                "model": b.model,
                "kind": b.kind,
                "requests": b.requests,
                "input_tokens": b.input_tokens,
                "output_tokens": b.output_tokens,
                "images": b.images,
            }  # fmt: skip
            for b in buys
        ],
    }


def show_calc_forward(data: dict[str, Any], avg: tuple[int, int], unit: str, console: Console) -> None:
    vcu_unit = "VCU wei" if unit == "wei" else "VCU"
    table = _table(f"{data['stake']} {unit} staked today (counts from tonight's snapshot)", "",
                   f"{vcu_unit} per day, at today's numbers")  # fmt: skip
    table.add_row("as an active API user", _text(data["daily_vcu_active"]))
    table.add_row("if every staker were active", _text(data["daily_vcu_if_all_active"]))
    console.print(table)
    buys = _table("What the active allotment buys per day", "model", f"requests ({avg[0]} in / {avg[1]} out)",
                  "input tokens", "output tokens", "images", wrap=1)  # fmt: skip
    for b in data["buys"]:
        buys.add_row(b["model"], _text(b["requests"]), _text(b["input_tokens"]), _text(b["output_tokens"]),
                     _text(b["images"]))  # fmt: skip
    console.print(buys)


def show_calc_reverse(data: dict[str, Any], unit: str, console: Console) -> None:
    table = _table("Stake needed for the daily workload", "", "")
    table.add_row("workload VCU per day", _text(data["daily_vcu"]))
    table.add_row(f"stake needed ({unit}), as an active API user", _text(data["stake_needed_active"]))
    table.add_row(f"stake needed ({unit}), if every staker were active", _text(data["stake_needed_if_all_active"]))
    console.print(table)
