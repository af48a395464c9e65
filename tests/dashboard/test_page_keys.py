"""The page's API keys panel in a real browser: a key created, listed and revoked through the
page, each request signed in the (test) wallet and checked by the gateway's key store; bad input
opens no wallet request."""

from __future__ import annotations

import json
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
from vvv.chain.apikeys import CreateKey, parse_signed, sign
from vvv.gateway.keys import KeyRefused
from vvv.staker.keys import domain_of

E18 = 10**18


def test_create_list_and_revoke_a_key_from_the_page(dashboard, browser_page, vvv, accounts):  # noqa: F811
    user = accounts[3]
    page = open_page(browser_page, dashboard, vvv, user)
    page.get_by_label("Key label").fill("night agent")
    page.get_by_label("Daily cap (VCU)").fill("12.5")
    page.get_by_label("Expires in (days)").fill("30")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("status")).to_contain_text('Key "night agent" created')
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
    # (days from the wall clock's): at least the head block's, at most the chain's time now
    head, now = chain.blocks.head.timestamp, chain.pending_timestamp
    assert head <= key.expiry - 30 * 86_400 <= now + 5
    page.get_by_role("button", name="List my keys").click()
    expect(page.get_by_role("cell", name="night agent", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="12.50 VCU", exact=True)).to_be_visible()
    page.get_by_role("button", name="Revoke night agent").click()
    expect(page.get_by_role("status")).to_contain_text("Revoked night agent")
    expect(page.get_by_role("cell", name="revoked", exact=True)).to_be_visible()
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


def test_the_keys_form_sets_every_limit_and_signs_as_python_does(dashboard, browser_page, vvv, accounts):  # noqa: F811
    """Every limit set by its label; the CreateKey the page signed in the wallet (viem's typed
    data, web/src/keys.ts) has the same signature as vvv.chain.apikeys signs for the same
    message (RFC 6979: the same bytes), and the gateway stores the limits. The user has no
    stake: the page shows the gateway's warning."""
    user = next(a for a in accounts[3:] if int(vvv.staking.stakeOf(a)) == 0)
    page = open_page(browser_page, dashboard, vvv, user)
    page.get_by_label("Key label").fill("scoped agent")
    page.get_by_label("Daily cap (VCU)").fill("12.5")
    page.get_by_label("Monthly cap (VCU)").fill("300")
    page.get_by_label("Lifetime cap (VCU)").fill("2000.25")
    page.get_by_label("Requests per minute").fill("45")
    page.get_by_label("Models (comma-separated)").fill("small-chat, painter")
    with page.expect_request("**/api/keys/create") as posted:
        page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("status")).to_contain_text('Key "scoped agent" created')
    body = json.loads(posted.value.post_data)
    signed = parse_signed(CreateKey, body)
    request = signed.request
    assert (request.daily_cap, request.monthly_cap, request.lifetime_cap, request.requests_per_minute,
            request.models) == (125 * E18 // 10, 300 * E18, 200_025 * E18 // 100, 45, "small-chat,painter")  # fmt: skip
    assert sign(user, request, domain_of(dashboard.system)).signature == signed.signature
    secret = page.get_by_label("New key's secret").inner_text()
    key = dashboard.keys.authenticate(secret, int(time.time()))
    assert (key.monthly_cap, key.lifetime_cap, key.requests_per_minute, key.models) == (
        300 * E18, 200_025 * E18 // 100, 45, ("small-chat", "painter"))  # fmt: skip
    expect(page.get_by_role("cell", name="300.00 VCU a month; 2,000.25 VCU in its life; 45 requests a minute; "
                                          "models: small-chat, painter", exact=True)).to_be_visible()  # fmt: skip
    expect(page.locator("#keys-warning")).to_have_text(
        f"Warning: {user.address.lower()} has no stake: this key's calls will be refused (402) until the account "
        "stakes VVV; its allotment starts the day after its first call with a stake"
    )
    for field in ("Monthly cap (VCU)", "Lifetime cap (VCU)", "Requests per minute", "Models (comma-separated)"):
        expect(page.get_by_label(field)).to_have_value("")


@pytest.mark.parametrize(
    ("rpm", "models", "says"),
    [("0", "", "Requests per minute: a whole number from 1"), ("", "small chat", 'Models: "small chat" is not')],
)
def test_bad_limits_open_no_wallet_request(dashboard, browser_page, vvv, accounts, rpm, models, says):  # noqa: F811
    page = open_page(browser_page, dashboard, vvv, accounts[3])
    before = len(wallet_requests(page))
    page.get_by_label("Key label").fill("agent")
    page.get_by_label("Requests per minute").fill(rpm)
    page.get_by_label("Models (comma-separated)").fill(models)
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("status")).to_contain_text(says)
    assert len(wallet_requests(page)) == before
