"""Output of `ape run staker rights ...`: one JSON object (`--json`) or lines and tables. VCR
and VCU are 18-decimal like VVV; `--wei` shows every amount as an integer."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from vvv.chain.epochs import epoch_start
from vvv.staker.render import Amounts, _table, _text
from vvv.staker.rights import Quote, RightsStatus
from vvv.staker.transactions import Outcome, utc


def quote_data(q: Quote, fmt: Amounts) -> dict[str, Any]:
    return {
        "account": q.account,
        "epoch": q.epoch,
        "rights": fmt(q.rights),
        "price": fmt(q.price),
        "can_mint": not q.refusals,
        "refusals": q.refusals,
        "source": q.source,
        "report_final": q.report_final,
        "final_at": q.final_at,
        "paused": q.paused,
        "allowance": fmt(q.allowance),
        "minted_against_report": fmt(q.minted_against_report),
        "allowance_left": fmt(q.allowance_left),
        "outstanding": fmt(q.outstanding),
        "cap": fmt(q.limit),
        "cap_left": fmt(q.cap_left),
        "free_stake": fmt(q.free_stake),
    }


def show_quote(q: Quote, fmt: Amounts, console: Console) -> None:
    vvv, vcr = ("wei", "VCR wei") if fmt.wei else ("VVV", "VCR")
    if q.price is not None:
        console.print(f"{fmt(q.rights)} {vcr} lock {fmt(q.price)} {vvv} of free stake now (epoch {q.epoch})")
    if q.refusals:
        console.print(f"no mint of {fmt(q.rights)} {vcr} now: " + "; ".join(q.refusals))
    if q.allowance_left is not None:
        console.print(f"allowance left today {fmt(q.allowance_left)} {vcr} of {fmt(q.allowance)}")
    console.print(f"cap left {fmt(q.cap_left)} {vcr} ({fmt(q.outstanding)} of {fmt(q.limit)} out)")


def outcome_data(outcome: Outcome, fmt: Amounts) -> dict[str, Any]:
    return {
        "action": outcome.action,
        "account": outcome.account,
        **{k: fmt(v) for k, v in outcome.amounts.items()},
        **outcome.details,
        "transactions": [str(t) for t in outcome.transactions],
    }


def show_outcome(outcome: Outcome, fmt: Amounts, console: Console) -> None:
    a, d = outcome.amounts, outcome.details
    vvv, vcr = ("wei", "VCR wei") if fmt.wei else ("VVV", "VCR")
    who = outcome.account
    if outcome.action == "mint":
        console.print(f"{who} minted {fmt(a['rights'])} {vcr}, locking {fmt(a['locked'])} {vvv}")
    elif outcome.action == "repay":
        console.print(f"{who} repaid {fmt(a['rights'])} {vcr}, unlocking {fmt(a['unlocked'])} {vvv}")
    elif outcome.action in ("activate", "deactivate"):
        when = f"from epoch {d['from_epoch']} ({utc(epoch_start(d['from_epoch']))})"
        console.print(f"{who} {outcome.action}d {fmt(a['rights'])} {vcr} for {d['for']} {when}")
    else:
        console.print(f"{who} reclaimed {fmt(a['rights'])} {vcr}")
    for t in outcome.transactions:
        console.print(f"  tx {t}")


def status_data(st: RightsStatus, fmt: Amounts) -> dict[str, Any]:
    by_you = sum(a.by_you for a in st.activations)
    return {
        "account": st.account,
        "epoch": st.epoch,
        "minted": fmt(st.minted),
        "locked": fmt(st.locked),
        "balance": fmt(st.balance),
        "activated_by_you": fmt(by_you),
        "activations": [
            {
                "account": a.account,
                "rights": fmt(a.by_you),
                "since_epoch": a.since_epoch,
                "account_active_today": fmt(a.account_today),
                "account_active_tomorrow": fmt(a.account_tomorrow),
            }
            for a in st.activations
        ],  # fmt: skip
        "reclaimable": fmt(st.reclaim_ready),
        "reclaim_pending": fmt(st.reclaim_pending),
        "reclaim_from_epoch": st.reclaim_from_epoch or None,
        # 1 VCR activated for a day adds 1 VCU to that day's allotment
        "vcu_per_day_activated_by_you": fmt(by_you),
        "vcu_per_day_if_all_activated": fmt(st.balance + by_you + st.reclaim_ready + st.reclaim_pending),
        "your_rights_vcu_today": fmt(st.active_for_you_today),
        "your_rights_vcu_tomorrow": fmt(st.active_for_you_tomorrow),
        "mint_today": quote_data(st.quote, fmt),
    }


def show_status(st: RightsStatus, fmt: Amounts, console: Console) -> None:
    data = status_data(st, fmt)
    vvv, vcr = ("wei", "wei") if fmt.wei else ("VVV", "VCR")
    summary = _table(f"Compute rights of {data['account']} (epoch {data['epoch']})", "", "")
    summary.add_row("minted, not repaid", f"{_text(data['minted'])} {vcr}")
    summary.add_row("stake locked", f"{_text(data['locked'])} {vvv}")
    summary.add_row("VCR in the wallet", f"{_text(data['balance'])} {vcr}")
    summary.add_row("activated by you", f"{_text(data['activated_by_you'])} {vcr}")
    summary.add_row("reclaimable now", f"{_text(data['reclaimable'])} {vcr}")
    if st.reclaim_pending:
        summary.add_row(f"reclaimable from epoch {st.reclaim_from_epoch}", f"{_text(data['reclaim_pending'])} {vcr}")
    summary.add_row("VCU a day from what you activated", _text(data["vcu_per_day_activated_by_you"]))
    summary.add_row("rights' VCU of this account today", _text(data["your_rights_vcu_today"]))
    m = data["mint_today"]
    summary.add_row("allowance left today", f"{_text(m['allowance_left'])} {vcr}")
    summary.add_row("cap left", f"{_text(m['cap_left'])} {vcr}")
    console.print(summary)
    if data["activations"]:
        table = _table("Your activations", "account", vcr, "since epoch", "its VCR today", "tomorrow", wrap=3)
        for a in data["activations"]:
            table.add_row(a["account"], _text(a["rights"]), str(a["since_epoch"]), _text(a["account_active_today"]),
                          _text(a["account_active_tomorrow"]))  # fmt: skip
        console.print(table)
    for refusal in m["refusals"]:
        console.print(f"note: no mint now: {refusal}")
