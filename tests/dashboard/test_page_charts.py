"""The page's charts with 1, 2 and 30 epochs of history (issue 22): an x axis around the epochs
shown (never 0..40,000 around one point), labelled with dates at whole epochs (never an epoch id
with a thousands separator), and a legend that says the hovered epoch's values with their units.

The history is the server's `/api/history` answer, served by the test (Playwright's routing) so
that every expected string below is written by hand; the screenshot test of test_page.py draws
the charts from a real chain's history. Epoch 20791 is 2026-12-04 (20791 x 86,400 s)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.dashboard.test_page import _anvil_pass_only, base_url  # noqa: F401 (the anvil-pass rule)

UTIL = "Utilization and the stakers' share, by day (%)"
APR = "APR by day (%)"


def row(epoch: int, utilization_bps: int, stakers_bps: int, apr_micro_percent: int | None) -> dict:
    """One row as the server sends it (vvv.dashboard.history)."""
    return {
        "epoch": epoch,
        "utilizationBps": utilization_bps,
        "stakersBps": stakers_bps,
        "aprMicroPercent": None if apr_micro_percent is None else str(apr_micro_percent),
    }


def open_charts(page: Page, dashboard, rows: list[dict]) -> Page:
    page.route("**/api/history", lambda route: route.fulfill(json={"epochs": rows}))
    page.goto(base_url(dashboard))
    expect(figure(page, UTIL).locator("canvas")).to_have_count(1)
    return page


def figure(page: Page, name: str):
    return page.get_by_role("figure", name=name)


def legend(page: Page, name: str):
    return figure(page, name).locator(".chart-legend")


def hover(page: Page, name: str, fraction: float) -> None:
    """The pointer over the chart's plot, at `fraction` of its width."""
    over = figure(page, name).locator(".u-over")
    box = over.bounding_box()
    over.hover(position={"x": box["width"] * fraction, "y": box["height"] / 2})


def x_axis(page: Page, name: str) -> tuple[list[str], list[float]]:
    chart = figure(page, name).get_by_role("img")
    ticks = chart.get_attribute("data-x-ticks").split("|")
    low, high = map(float, chart.get_attribute("data-x-range").split())
    return ticks, [low, high]


def test_one_epoch_sits_in_the_middle_of_its_own_day(dashboard, browser_page):
    page = open_charts(browser_page, dashboard, [row(20791, 2_500, 5_000, 12_345_678)])
    for name in (UTIL, APR):
        assert x_axis(page, name) == (["Dec 4"], [20790.5, 20791.5])
    # nothing hovered: the newest epoch's values; 12.345678 % floored to 12.34 %
    expect(legend(page, UTIL)).to_contain_text("2026-12-04 (epoch 20791)")
    expect(legend(page, UTIL)).to_contain_text("utilization 25 %")
    expect(legend(page, UTIL)).to_contain_text("stakers' share 50 %")
    expect(legend(page, APR)).to_contain_text("APR 12.34 %")
    hover(page, UTIL, 0.5)
    expect(legend(page, UTIL)).to_contain_text("utilization 25 %")


def test_two_epochs_and_the_hover_legend(dashboard, browser_page):
    rows = [row(20790, 0, 8_000, 20_000_000), row(20791, 2_500, 5_000, 12_345_678)]
    page = open_charts(browser_page, dashboard, rows)
    assert x_axis(page, UTIL) == (["Dec 3", "Dec 4"], [20789.5, 20791.5])
    hover(page, UTIL, 0.25)  # epoch 20790 is at a quarter of the range 20789.5 .. 20791.5
    expect(legend(page, UTIL)).to_contain_text("2026-12-03 (epoch 20790)")
    expect(legend(page, UTIL)).to_contain_text("utilization 0 %")
    expect(legend(page, UTIL)).to_contain_text("stakers' share 80 %")
    hover(page, APR, 0.25)
    expect(legend(page, APR)).to_contain_text("APR 20 %")
    hover(page, APR, 0.75)
    expect(legend(page, APR)).to_contain_text("2026-12-04 (epoch 20791)")
    expect(legend(page, APR)).to_contain_text("APR 12.34 %")


def test_thirty_epochs_have_dated_ticks_without_separators(dashboard, browser_page):
    """Epochs 20762 (2026-11-05) .. 20791 (2026-12-04), utilization 0, 1, ..., 29 % (the stakers'
    share 80 % - 1.2 % per point below 50 %), APR 30 % falling by 0.5 % a day; the tenth day after
    the first has no stake (no APR)."""
    rows = [row(20762 + i, 100 * i, 8_000 - 120 * i, None if i == 10 else 30_000_000 - 500_000 * i) for i in range(30)]
    page = open_charts(browser_page, dashboard, rows)
    ticks, span = x_axis(page, UTIL)
    assert span == [20761.5, 20791.5]
    assert ticks[-1] == "Dec 4" and 3 <= len(ticks) <= 12
    assert all(re.fullmatch(r"(Nov|Dec) \d{1,2}", t) for t in ticks), ticks
    days = [int(t.split()[1]) + (30 if t.startswith("Dec") else 0) for t in ticks]  # November has 30 days
    steps = {b - a for a, b in zip(days, days[1:], strict=False)}
    assert len(steps) == 1 and steps.pop() >= 1  # evenly spaced, whole days
    hover(page, UTIL, 10.5 / 30)  # epoch 20772 (2026-11-15): 10.5 days into the 30-day range
    expect(legend(page, UTIL)).to_contain_text("2026-11-15 (epoch 20772)")
    expect(legend(page, UTIL)).to_contain_text("utilization 10 %")
    expect(legend(page, UTIL)).to_contain_text("stakers' share 68 %")
    hover(page, APR, 10.5 / 30)
    expect(legend(page, APR)).to_contain_text("APR – (nothing staked)")
    hover(page, APR, 11.5 / 30)  # 30 - 0.5 x 11 = 24.5 %
    expect(legend(page, APR)).to_contain_text("APR 24.5 %")


def test_no_history_says_so(dashboard, browser_page):
    page = browser_page
    page.route("**/api/history", lambda route: route.fulfill(json={"epochs": []}))
    page.goto(base_url(dashboard))
    expect(figure(page, UTIL)).to_contain_text("No epoch has been distributed yet.")
