"""The demo's PNG plots (matplotlib, no display needed), drawn from its summary. Legends sit
outside the axes, so that they never cover data; days are numbered from 1, as in the tables."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

SPLIT_POINTS = ((0, 80), (50, 20), (100, 80))  # the seed's curve, in percent
API_USER, NEVER_CALLS, USED = "#2ca02c", "#999", "#d62728"
ZERO_LABEL = "0 (inactive)"


def _figure(width: float = 6.4, height: float = 4.6) -> tuple[Figure, Any]:
    """A figure whose layout leaves room for a legend outside the axes."""
    return plt.subplots(figsize=(width, height), layout="constrained")


def _legend(fig: Figure, handles: list[Any] | None = None) -> None:
    """The legend below the plot, outside the axes."""
    if handles is None:
        fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    else:
        fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8, frameon=False)


def split_curve(summary: dict[str, Any]) -> Figure:
    fig, ax = _figure()
    xs, ys = zip(*SPLIT_POINTS, strict=True)
    ax.plot(xs, ys, color="#444", label="stakers' share (curve)")
    days = summary["per_day"]
    ax.scatter([d["utilization_bps"] / 100 for d in days], [d["staker_bps"] / 100 for d in days], color="#d62728",
               zorder=3, label="each day, realised")  # fmt: skip
    for d in days:
        ax.annotate(str(d["day"]), (d["utilization_bps"] / 100, d["staker_bps"] / 100), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")  # fmt: skip
    ax.set(xlabel="network utilization (%)", ylabel="stakers' share of the emission (%)", xlim=(-1, 103), ylim=(0, 100),
           title="Emission split by utilization (points: day number)")  # fmt: skip
    _legend(fig)
    return fig


def minted(summary: dict[str, Any]) -> Figure:
    days = summary["per_day"]
    x = [d["day"] for d in days]
    stakers = [float(Decimal(d["staker_amount"])) for d in days]
    treasury = [float(Decimal(d["treasury_amount"])) for d in days]
    fig, ax = _figure()
    ax.bar(x, stakers, label="stakers", color="#1f77b4")
    ax.bar(x, treasury, bottom=stakers, label="treasury", color="#ff7f0e")
    ax.set(xlabel="day", ylabel="VVV minted", title="Daily emission by recipient")
    _legend(fig)
    return fig


def apr(summary: dict[str, Any]) -> Figure:
    days = summary["per_day"]
    fig, ax = _figure(height=4.2)
    ax.plot([d["day"] for d in days], [float(Decimal(d["apr_percent"] or 0)) for d in days], marker="o")
    ax.set(xlabel="day", ylabel="APR (%)", title="Stakers' APR: the day's rewards x 365 / total stake")
    return fig


def allotments(summary: dict[str, Any]) -> Figure:
    """Granted and used VCU per staker (numbered as in the per-staker table); a staker granted
    nothing was never an active API user while staked, and is labelled so."""
    stakers = summary["per_staker"]
    fig, ax = _figure(width=7.5)
    x = [s["index"] for s in stakers]
    granted = [float(Decimal(s["vcu_granted"])) for s in stakers]
    used = [float(Decimal(s["vcu_used"])) for s in stakers]
    colors = [API_USER if s["api_user"] else NEVER_CALLS for s in stakers]
    ax.bar(x, granted, color=colors)
    ax.bar(x, used, color=USED, width=0.4)
    for i, vcu in zip(x, granted, strict=True):
        if vcu == 0:
            ax.text(i, 0.15, ZERO_LABEL, rotation=90, ha="center", va="bottom", fontsize=7, color="#555")
    ax.set(xlabel="staker", ylabel="VCU over the run", title="VCU allotments per staker", yscale="symlog")
    _legend(fig, [Patch(color=API_USER, label="granted, API user"), Patch(color=NEVER_CALLS,
            label="granted, never calls the API"), Patch(color=USED, label="used")])  # fmt: skip
    return fig


RIGHTS, POOL = "#9467bd", "#17becf"


def capacity_rights_pool(summary: dict[str, Any]) -> Figure:
    """Each day's capacity as the rights activated for it (served first) and the stakers' pool
    (what is left), stacked: the bar's top is the day's capacity."""
    days = summary["per_day"]
    x = [d["day"] for d in days]
    rights = [float(Decimal(d["rights_vcu"])) for d in days]
    pool = [float(Decimal(d["pool_vcu"])) for d in days]
    fig, ax = _figure()
    ax.bar(x, rights, label="rights (activated VCR)", color=RIGHTS)
    ax.bar(x, pool, bottom=rights, label="pool (shared by active stake)", color=POOL)
    # rights are a few VCU of a capacity of some 10^5: a log scale above 1 VCU shows both
    ax.set_yscale("symlog", linthresh=1)
    ax.set_ylim(bottom=0)
    ax.set(xlabel="day", ylabel="VCU (log scale above 1)", title="Each day's capacity: rights and pool")
    _legend(fig)
    return fig


PLOTS = {"split-curve.png": split_curve, "minted.png": minted, "apr.png": apr, "vcu-allotments.png": allotments,
         "capacity-rights-pool.png": capacity_rights_pool}  # fmt: skip


def draw_all(summary: dict[str, Any], out: Path) -> list[Path]:
    """Every plot as a PNG in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in PLOTS.items():
        fig = draw(summary)
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        paths.append(out / name)
    return paths
