"""The page's API keys panel in a real browser: a key created, listed and revoked through the
page, each request signed in the (test) wallet and checked by the gateway's key store; bad input
opens no wallet request."""

from __future__ import annotations

import re
import time

import pytest
from ape import chain
from playwright.sync_api import expect

from tests.dashboard.test_page import (  # noqa: F401 (fixtures and the anvil-pass rule)
    _anvil_pass_only,
    holder,
    open_page,
    vvv,
    wallet_requests,
)
from vvv.gateway.keys import KeyRefused

E18 = 10**18


def test_create_list_and_revoke_a_key_from_the_page(dashboard, browser_page, vvv, accounts):  # noqa: F811
    user = accounts[3]
    page = open_page(browser_page, dashboard, vvv, user)
    page.get_by_label("Key label").fill("night agent")
    page.get_by_label("Daily cap (VCU)").fill("12.5")
    page.get_by_label("Expires in (days)").fill("30")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("status")).to_contain_text('Key "night agent" created', timeout=10_000)
    # the list shows the new key at once (no "List my keys", no second signature); the form is empty
    expect(page.get_by_role("cell", name="night agent", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="12.50 VCU", exact=True)).to_be_visible()
    assert wallet_requests(page).count("eth_signTypedData_v4") == 1
    for field in ("Key label", "Daily cap (VCU)", "Expires in (days)"):
        expect(page.get_by_label(field)).to_have_value("")
    secret = page.get_by_label("New key's secret").inner_text()
    assert re.fullmatch(r"vvv_[A-Za-z0-9_-]{43}", secret)
    key = dashboard.keys.authenticate(secret, int(time.time()))
    assert (key.account, key.label, key.daily_cap) == (user.address.lower(), "night agent", 125 * E18 // 10)
    # 30 days from the chain's time (the gateway's clock), which the suite's earlier tests moved on
    head = chain.blocks.head.timestamp
    assert 30 * 86_400 <= key.expiry - head <= 30 * 86_400 + 60
    page.get_by_role("button", name="List my keys").click()
    expect(page.get_by_role("cell", name="night agent", exact=True)).to_be_visible(timeout=10_000)
    expect(page.get_by_role("cell", name="12.50 VCU", exact=True)).to_be_visible()
    page.get_by_role("button", name="Revoke night agent").click()
    expect(page.get_by_role("status")).to_contain_text("Revoked night agent", timeout=10_000)
    expect(page.get_by_role("cell", name="revoked", exact=True)).to_be_visible(timeout=10_000)
    with pytest.raises(KeyRefused, match="was revoked"):
        dashboard.keys.authenticate(secret, int(time.time()))
    assert wallet_requests(page).count("eth_signTypedData_v4") == 4  # create, list, revoke, list again


@pytest.mark.parametrize(
    ("label", "cap", "days", "says"),
    [
        ("", "5", "", "Give the key a label"),
        ("agent", "1.0000000000000000001", "", "more than 18 decimals"),
        ("agent", "5", "2.5", "a whole number of days"),
    ],
)
def test_bad_key_input_opens_no_wallet_request(dashboard, browser_page, vvv, accounts, label, cap, days, says):  # noqa: F811
    page = open_page(browser_page, dashboard, vvv, accounts[3])
    before = len(wallet_requests(page))
    page.get_by_role("textbox", name="Key label").fill(label)
    page.get_by_role("textbox", name="Daily cap (VCU)").fill(cap)
    page.get_by_role("textbox", name="Expires in (days)").fill(days)
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("status")).to_contain_text(says)
    assert len(wallet_requests(page)) == before


def test_the_keys_form_has_each_label_before_its_field(dashboard, browser_page, vvv, accounts):  # noqa: F811
    """Each field is named by a <label for> that comes before it, above it on the screen, on a
    desktop and on a phone."""
    page = open_page(browser_page, dashboard, vvv, accounts[3])
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for name in ("Key label", "Daily cap (VCU)", "Expires in (days)"):
            field = page.get_by_role("textbox", name=name, exact=True)
            label = page.locator("label", has_text=name)
            assert label.get_attribute("for") == field.get_attribute("id")
            assert label.evaluate("(l) => !!(l.compareDocumentPosition(l.control) & Node.DOCUMENT_POSITION_FOLLOWING)")
            above, below = label.bounding_box(), field.bounding_box()
            assert above["y"] + above["height"] <= below["y"] + 1  # the label sits over its field
            assert abs(above["x"] - below["x"]) <= 2  # aligned on the field's left edge
