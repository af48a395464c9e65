"""The demo's PNG plots (matplotlib, no display needed), drawn from its summary."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SPLIT_POINTS = ((0, 80), (50, 20), (100, 80))  # the seed's curve, in percent


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def split_curve(summary: dict[str, Any], out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    xs, ys = zip(*SPLIT_POINTS, strict=True)
    ax.plot(xs, ys, color="#444", label="stakers' share (curve)")
    days = summary["per_day"]
    ax.scatter([d["utilization_bps"] / 100 for d in days], [d["staker_bps"] / 100 for d in days], color="#d62728",
               zorder=3, label="each day, realised")  # fmt: skip
    for d in days:
        ax.annotate(str(d["day"] + 1), (d["utilization_bps"] / 100, d["staker_bps"] / 100), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")  # fmt: skip
    ax.set(xlabel="network utilization (%)", ylabel="stakers' share of the emission (%)", xlim=(0, 100), ylim=(0, 100),
           title="Emission split by utilization")  # fmt: skip
    ax.legend(loc="upper center")
    return _save(fig, out / "split-curve.png")


def minted(summary: dict[str, Any], out: Path) -> Path:
    days = summary["per_day"]
    x = [d["day"] + 1 for d in days]
    stakers = [float(Decimal(d["staker_amount"])) for d in days]
    treasury = [float(Decimal(d["treasury_amount"])) for d in days]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.bar(x, stakers, label="stakers", color="#1f77b4")
    ax.bar(x, treasury, bottom=stakers, label="treasury", color="#ff7f0e")
    ax.set(xlabel="day", ylabel="VVV minted", title="Daily emission by recipient")
    ax.legend()
    return _save(fig, out / "minted.png")


def apr(summary: dict[str, Any], out: Path) -> Path:
    days = summary["per_day"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot([d["day"] + 1 for d in days], [float(Decimal(d["apr_percent"] or 0)) for d in days], marker="o")
    ax.set(xlabel="day", ylabel="APR (%)", title="Stakers' APR: the day's rewards x 365 / total stake")
    return _save(fig, out / "apr.png")


def allotments(summary: dict[str, Any], out: Path) -> Path:
    stakers = summary["per_staker"]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    x = range(len(stakers))
    granted = [float(Decimal(s["vcu_granted"])) for s in stakers]
    used = [float(Decimal(s["vcu_used"])) for s in stakers]
    colors = ["#2ca02c" if s["api_user"] else "#999" for s in stakers]
    ax.bar(x, granted, color=colors, label="granted (green: API user, grey: never calls)")
    ax.bar(x, used, color="#d62728", width=0.4, label="used")
    ax.set(xlabel="staker", ylabel="VCU over the run", title="VCU allotments per staker", yscale="symlog")
    ax.legend(fontsize=8)
    return _save(fig, out / "vcu-allotments.png")


def draw_all(summary: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [split_curve(summary, out), minted(summary, out), apr(summary, out), allotments(summary, out)]
