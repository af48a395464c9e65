"""The demo's plots: legends never cover data (they sit outside the axes), and a staker granted
no VCU is labelled, not a silent gap. Drawn from a small summary written by hand."""

import pytest

from tests.passes import IN_PROCESS
from vvv.demo.plots import PLOTS, ZERO_LABEL, allotments, capacity_rights_pool
from vvv.demo.simulation import capacity_split

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)

DAY_ROWS = [
    {"day": 1, "utilization_bps": 200, "staker_bps": 7_760, "staker_amount": "29765.38", "treasury_amount": "8590.78",
     "apr_percent": "95.1", "rights_vcu": "0", "pool_vcu": "181480"},
    {"day": 2, "utilization_bps": 5_000, "staker_bps": 2_000, "staker_amount": "7671.23", "treasury_amount": "30684.93",
     "apr_percent": "24.5", "rights_vcu": "120.5", "pool_vcu": "181359.5"},
    {"day": 3, "utilization_bps": 9_800, "staker_bps": 7_760, "staker_amount": "29765.38", "treasury_amount": "8590.78",
     "apr_percent": "90.2", "rights_vcu": "2500", "pool_vcu": "178980"},
]  # fmt: skip
STAKER_ROWS = [
    {"index": 0, "api_user": True, "vcu_granted": "150000", "vcu_used": "90000"},
    {"index": 1, "api_user": False, "vcu_granted": "0", "vcu_used": "0"},  # joined late, never calls
    {"index": 2, "api_user": False, "vcu_granted": "30000", "vcu_used": "0"},
    {"index": 3, "api_user": True, "vcu_granted": "0", "vcu_used": "0"},  # joined on the last day
]
SUMMARY = {"per_day": DAY_ROWS, "per_staker": STAKER_ROWS}


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_legends_sit_outside_the_axes(name):
    fig = PLOTS[name](SUMMARY)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (ax,) = fig.axes
    assert ax.get_legend() is None  # no legend inside the axes
    axes_box = ax.get_window_extent(renderer)
    for legend in fig.legends:
        assert not legend.get_window_extent(renderer).overlaps(axes_box)
    assert len(fig.legends) == (0 if name == "apr.png" else 1)


def test_stakers_without_vcu_are_labelled():
    fig = allotments(SUMMARY)
    (ax,) = fig.axes
    labels = [(text.get_text(), text.get_position()[0]) for text in ax.texts]
    assert labels == [(ZERO_LABEL, 1), (ZERO_LABEL, 3)]
    assert ZERO_LABEL == "0 (inactive)"
    # the bars stand at the stakers' numbers of the per-staker table
    granted = [patch for patch in ax.patches if patch.get_width() > 0.5]
    assert [round(bar.get_x() + bar.get_width() / 2) for bar in granted] == [0, 1, 2, 3]


def test_capacity_split_serves_rights_first():
    assert capacity_split(181_480, 0) == (0, 181_480)
    assert capacity_split(181_480, 2_500) == (2_500, 178_980)
    assert capacity_split(1_000, 1_000) == (1_000, 0)
    assert capacity_split(900, 1_000) == (1_000, 0)  # a capacity cut falls on the pool first


def test_each_days_capacity_as_rights_and_pool():
    fig = capacity_rights_pool(SUMMARY)
    (ax,) = fig.axes
    bars = [(round(b.get_x() + b.get_width() / 2), b.get_y(), b.get_height()) for b in ax.patches]
    assert bars == [
        (1, 0, 0), (2, 0, 120.5), (3, 0, 2_500),  # rights, at the bottom
        (1, 0, 181_480), (2, 120.5, 181_359.5), (3, 2_500, 178_980),  # the pool above: each bar the capacity
    ]  # fmt: skip
    # a few VCU of rights stay visible under some 10^5 of pool: linear up to 1 VCU, log above
    assert (ax.get_yscale(), ax.get_ylim()[0]) == ("symlog", 0)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "rights (activated VCR)",
        "pool (shared by active stake)",
    ]
