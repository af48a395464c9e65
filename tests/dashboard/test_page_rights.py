"""The page's compute rights panel in a real browser (chromium through Playwright) against anvil:
quote as you type, mint with the leaf proof the page fetches, activate for an agent's address
(a bad address refused with nothing sent), repay, deactivate and reclaim the next day; and the
page's numbers with stake locked and rights active today (APRs over the free stake, the
calculator over the pool). Every expected price is computed here from the chain's inputs with
SPEC.md's formula in exact rationals, not read from the contract's answer.

World: the module's system (deploy_system's, with its ComputeRights); each test's stakers call the API on one day
and the oracle reports it half an hour after midnight; mints wait for the report's 2-hour window.
About 45 s in the anvil pass (the page build is shared with the other browser tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from math import ceil
from typing import Any

import pytest
from ape import chain, project
from playwright.sync_api import Page, expect

from tests.dashboard.test_page import (
    DAY,
    E18,
    TIMEOUT,
    Chain,
    base_url,
    confirmed_hash,
    move_time,
    open_page,
    report_with,
    shown,
    value,
    wallet_requests,
)

WINDOW = 2 * 3_600  # the dispute window of deploy_system's defaults
MIN_CAPACITY = 1_000 * E18  # deploy_system's default: the cap is min(RCAP, 500 VCU)


class RightsChain(Chain):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.rights = project.ComputeRights.at(self.config["contracts"]["rights"])


@pytest.fixture
def vvv(dashboard) -> RightsChain:
    return RightsChain(base_url(dashboard))


def price(vvv: RightsChain, n: int) -> int:
    """SPEC's quoteMint of `n` rights now, from the chain's inputs, in exact rationals:
    ceil(T_eff * (2 RCAP n + 3 n (2 R + 2 m + n)) / (2 RCAP (capacity - R)))."""
    epoch = chain.pending_timestamp // DAY
    report = vvv.oracle.report(epoch - 1)
    r, m = vvv.rights.today()
    rcap = vvv.rights.RCAP()
    t_eff = max(Fraction(report.totalActiveStake), Fraction(vvv.staking.totalFreeStakedAt(epoch * DAY - 1) * 5, 100))
    return ceil(t_eff * (2 * rcap * n + 3 * n * (2 * r + 2 * m + n)) / (2 * rcap * (report.capacity - r)))


def final_report_with(vvv: RightsChain, dashboard: Any, accounts: Any, stakes: dict[Any, int]) -> int:
    """`report_with` (the stakers API-active today, reported after midnight), then the report's
    window passed: the day mints can be made. Returns the epoch."""
    epoch, _ = report_with(vvv, dashboard, accounts, stakes)
    move_time(WINDOW + 60)
    assert vvv.oracle.isFinal(epoch - 1) and chain.pending_timestamp // DAY == epoch
    return epoch


def mint_on_page(page: Page, amount: str) -> str:
    page.get_by_role("textbox", name="Rights to mint (VCR)").fill(amount)
    page.get_by_role("button", name="Mint", exact=True).click()
    return confirmed_hash(page, f"Mint {amount} VCR")


def test_quote_as_you_type_then_mint(dashboard, browser_page, vvv, accounts):
    user, other = accounts[1], accounts[2]
    final_report_with(vvv, dashboard, accounts, {user: 1_000 * E18, other: 3_000 * E18})
    quota, rcap = vvv.rights.QUOTA(), vvv.rights.RCAP()
    page = open_page(browser_page, dashboard, vvv, user)
    # the allowance: QUOTA x 1,000 / 4,000 of the day's active stake; the cap: min(RCAP, 1,000 / 2) VCU
    expect(value(page, "Allowance left today")).to_have_text(shown(quota * 1_000 // 4_000, "VCR"))
    expect(value(page, "Cap left")).to_have_text(shown(min(rcap, MIN_CAPACITY // 2), "VCR"))
    expect(page.locator("#rights-why")).to_have_text("")  # minting is possible today
    box = page.get_by_role("textbox", name="Rights to mint (VCR)")
    for typed, n in (("1", E18), ("12.5", 12 * E18 + E18 // 2), ("3", 3 * E18)):
        box.fill(typed)
        expect(value(page, "VVV to lock")).to_have_text(shown(price(vvv, n)))
        expect(value(page, "VVV to lock")).to_have_attribute("data-wei", str(price(vvv, n)))
    box.fill("1.0000000000000000001")
    expect(page.locator("#mint-error")).to_have_text('more than 18 decimals: "1.0000000000000000001"')
    expect(value(page, "VVV to lock")).to_have_text("–")
    expected = price(vvv, 3 * E18)
    tx = mint_on_page(page, "3")
    assert vvv.rights.positionOf(user) == (3 * E18, expected)
    assert vvv.staking.lockedOf(user) == expected and vvv.rights.balanceOf(user) == 3 * E18
    expect(page.locator("#tx-log li", has_text=tx)).to_contain_text(f"locked {shown(expected)}")
    expect(value(page, "Rights minted (your position)")).to_have_text("3.00 VCR")
    expect(value(page, "Stake locked")).to_have_text(shown(expected))
    expect(value(page, "Rights in the wallet")).to_have_text("3.00 VCR")
    expect(value(page, "Free stake")).to_have_text(shown(1_000 * E18 - expected))
    expect(value(page, "Allowance left today")).to_have_text(shown(quota * 1_000 // 4_000 - 3 * E18, "VCR"))
    expect(box).to_have_value("")  # emptied: a second click cannot repeat it


def test_activate_for_an_agents_address_a_bad_one_refused_with_nothing_sent(dashboard, browser_page, vvv, accounts):
    user, other, agent = accounts[3], accounts[4], accounts[5]
    final_report_with(vvv, dashboard, accounts, {user: 2_000 * E18, other: 2_000 * E18})
    page = open_page(browser_page, dashboard, vvv, user)
    mint_on_page(page, "4")
    amount = page.get_by_role("textbox", name="Rights to activate (VCR)", exact=True)
    to = page.get_by_role("textbox", name="Activate for (empty: your own account)", exact=True)
    activate = page.get_by_role("button", name="Activate", exact=True)
    letter = next(i for i, c in enumerate(agent.address) if i > 1 and c.isalpha())
    bad_case = agent.address[:letter] + agent.address[letter].swapcase() + agent.address[letter + 1 :]
    for typed, error in (
        ("0x1234", 'not an address (0x and 40 hex digits): "0x1234"'),
        ("0x" + "0" * 40, "the zero address cannot hold rights: enter the agent's address"),
        (bad_case, f'the address\'s checksum (EIP-55, its upper and lower case) is wrong: "{bad_case}"'),
    ):  # fmt: skip
        sent_before = wallet_requests(page).count("eth_sendTransaction")
        amount.fill("1")
        to.fill(typed)
        activate.click()
        expect(page.locator("#activate-error")).to_have_text(error)
        assert wallet_requests(page).count("eth_sendTransaction") == sent_before  # nothing sent
        expect(to).to_have_value(typed)  # kept, to correct
    assert vvv.rights.activatedBy(user, agent) == 0 and vvv.rights.balanceOf(user) == 4 * E18
    epoch = chain.pending_timestamp // DAY
    amount.fill("2.5")
    to.fill(agent.address.lower())
    activate.click()
    confirmed_hash(page, f"Activate 2.5 VCR for {agent.address}")
    assert vvv.rights.activatedBy(user, agent) == 2 * E18 + E18 // 2
    assert (vvv.rights.activatedAt(agent, epoch), vvv.rights.activatedAt(agent, epoch + 1)) == (0, 5 * E18 // 2)
    expect(page.locator("#activations")).to_contain_text(agent.address)
    expect(page.locator("#activations")).to_contain_text("2.50 VCU a day")
    expect(value(page, "Your activations yield")).to_have_text("2.50 VCU a day")
    expect(value(page, "Rights in the wallet")).to_have_text("1.50 VCR")
    # the agent's own page: nothing today, 2.5 VCU a day from tomorrow (00:00 UTC)
    context = browser_page.context.browser.new_context(viewport={"width": 1280, "height": 1000})
    agent_page = open_page(context.new_page(), dashboard, vvv, agent)
    expect(value(agent_page, "Rights adding to your allotment today")).to_have_text("0.00 VCU a day")
    expect(value(agent_page, "Rights adding to your allotment tomorrow")).to_have_text("2.50 VCU a day")
    context.close()


def test_repay_unlocks_the_positions_share(dashboard, browser_page, vvv, accounts):
    user, other = accounts[6], accounts[7]
    final_report_with(vvv, dashboard, accounts, {user: 1_500 * E18, other: 500 * E18})
    page = open_page(browser_page, dashboard, vvv, user)
    mint_on_page(page, "6")
    minted, locked = vvv.rights.positionOf(user)
    assert minted == 6 * E18
    box = page.get_by_role("textbox", name="Rights to repay (VCR)")
    sent = wallet_requests(page).count("eth_sendTransaction")  # the mint's
    box.fill("7")
    page.get_by_role("button", name="Repay", exact=True).click()
    expect(page.locator("#repay-error")).to_have_text("above your position: you minted 6 VCR not yet repaid")
    assert wallet_requests(page).count("eth_sendTransaction") == sent  # nothing sent
    box.fill("2")
    page.get_by_role("button", name="Repay", exact=True).click()
    tx = confirmed_hash(page, "Repay 2 VCR")
    unlocked = locked * 2 // 6  # locked x rights / minted, rounded down (toward the protocol)
    assert vvv.rights.positionOf(user) == (4 * E18, locked - unlocked)
    assert vvv.staking.lockedOf(user) == locked - unlocked
    expect(page.locator("#tx-log li", has_text=tx)).to_contain_text(f"unlocked {shown(unlocked)}", timeout=TIMEOUT)
    expect(value(page, "Rights minted (your position)")).to_have_text("4.00 VCR")
    expect(value(page, "Stake locked")).to_have_text(shown(locked - unlocked))


def test_deactivate_then_reclaim_the_next_day(dashboard, browser_page, vvv, accounts):
    user, other = accounts[8], accounts[9]
    epoch = final_report_with(vvv, dashboard, accounts, {user: 1_000 * E18, other: 1_000 * E18})
    page = open_page(browser_page, dashboard, vvv, user)
    mint_on_page(page, "2")
    page.get_by_role("textbox", name="Rights to activate (VCR)", exact=True).fill("2")
    page.get_by_role("button", name="Activate", exact=True).click()  # the empty box: its own account
    confirmed_hash(page, f"Activate 2 VCR for {user.address}")
    page.get_by_role("textbox", name="Rights to deactivate (VCR)", exact=True).fill("2")
    page.get_by_role("button", name="Deactivate", exact=True).click()
    confirmed_hash(page, f"Deactivate 2 VCR for {user.address}")
    assert (vvv.rights.activatedAt(user, epoch + 1), vvv.rights.reclaimable(user)) == (0, (0, 2 * E18, epoch + 1))
    sent = wallet_requests(page).count("eth_sendTransaction")
    page.get_by_role("button", name="Reclaim rights").click()
    tomorrow = datetime.fromtimestamp((epoch + 1) * DAY, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    expect(page.locator("#deactivate-error")).to_have_text(f"nothing to reclaim yet: 2 VCR from {tomorrow}")
    assert wallet_requests(page).count("eth_sendTransaction") == sent  # nothing sent
    move_time((epoch + 1) * DAY + 60 - chain.pending_timestamp)
    page.reload()
    expect(value(page, "Reclaimable rights")).to_have_text("2.00 VCR")
    page.get_by_role("button", name="Reclaim rights").click()
    confirmed_hash(page, "Reclaim rights")
    assert vvv.rights.balanceOf(user) == 2 * E18 and vvv.rights.reclaimable(user) == (0, 0, 0)
    expect(value(page, "Rights in the wallet")).to_have_text("2.00 VCR")


def micro_text(micro: int) -> str:
    """An APR in millionths of a percent as the page's title says it: "8760.000000 %"."""
    return f"{micro // 10**6}.{micro % 10**6:06d} %"


def test_locked_stake_earns_no_apr_and_the_calculator_shares_todays_pool(dashboard, browser_page, vvv, accounts):
    """With stake locked by a mint and rights activated for today: the APRs are over the free stake
    (locked stake earns no rewards), and the stakes share the pool, the capacity less today's
    rights: the protocol's lines and the calculator, both ways. Every expected value from the
    chain's inputs by hand, as vvv/staker/market.py reads them (issue 23)."""
    user, other = accounts[1], accounts[2]
    epoch = final_report_with(vvv, dashboard, accounts, {user: 1_000 * E18, other: 3_000 * E18})
    page = open_page(browser_page, dashboard, vvv, user)
    mint_on_page(page, "4")
    page.get_by_role("textbox", name="Rights to activate (VCR)", exact=True).fill("4")
    page.get_by_role("button", name="Activate", exact=True).click()  # its own account, from tomorrow
    confirmed_hash(page, f"Activate 4 VCR for {user.address}")
    locked = vvv.rights.positionOf(user)[1]
    free = 1_000 * E18 + 3_000 * E18 - locked  # the two stakes less the one lock
    assert 0 < locked < E18 and vvv.staking.totalFreeStaked() == free and vvv.staking.totalStaked() == 4_000 * E18
    vvv.emissions.distribute(epoch - 1, sender=accounts[0])  # the report is final: a day's stream starts
    move_time((epoch + 1) * DAY + 60 - chain.pending_timestamp)  # the rights serve today; no report yet
    today = epoch + 1
    assert vvv.rights.totalActivatedAt(today) == 4 * E18 and chain.pending_timestamp < vvv.staking.rewardsEnd()
    page.reload()

    # the APRs: over the 4,000 VVV less the lock, not over all 4,000 VVV staked
    year = 365 * DAY
    rate_scaled = vvv.staking.rewardRateScaled()  # reward wei per second x 1e18
    apr_now = rate_scaled * year * 100 * 10**6 // (E18 * free)
    expect(page.locator("#v-apr-now")).to_have_attribute("title", micro_text(apr_now))
    report = vvv.oracle.report(epoch - 1)  # the newest report: its utilization's stakers' part each day
    stakers_daily = vvv.emissions.epochEmission() * vvv.emissions.stakerShareBps(report.utilizationBps) // 10_000
    apr_last = stakers_daily * 365 * E18 * 100 * 10**6 // (E18 * free)
    expect(page.locator("#v-apr-last")).to_have_attribute("title", micro_text(apr_last))
    assert apr_now != rate_scaled * year * 100 * 10**6 // (E18 * 4_000 * E18)  # the whole stake's differs

    # today's pool: the fallback's capacity (no report of yesterday yet) less the 4 VCU of rights,
    # shared by the free stake at yesterday's snapshot
    capacity = vvv.oracle.fallbackCapacity(today)
    pool = capacity - 4 * E18
    expect(value(page, "Capacity today")).to_have_text(shown(capacity, "VCU"))
    expect(value(page, "Pool today (capacity less today's compute rights)")).to_have_text(shown(pool, "VCU"))
    expect(value(page, "Active stake (sharing today's VCU)")).to_have_text(shown(free))
    expect(value(page, "VCU per staked VVV, all stakers")).to_have_text(shown(pool * E18 // free, "VCU"))

    # the calculator: 1,000 VVV joining the free stake on the pool
    page.get_by_role("textbox", name="Stake to calculate (VVV)").fill("1000")
    joined = 1_000 * E18 * pool // (free + 1_000 * E18)
    assert joined != 1_000 * E18 * capacity // (free + 1_000 * E18)  # the capacity's would differ
    expect(value(page, "Daily VCU as an active API user")).to_have_text(shown(joined, "VCU"))
    expect(value(page, "Daily VCU if every staker were active")).to_have_text(shown(joined, "VCU"))
    # and back: 2,000 requests of 1,500 in / 400 out tokens of llama-3.3-70b (0.70 and 2.80 VCU per
    # 1M) = 4.34 VCU a day; the least stake s with s x pool / (free + s) >= 4.34 VCU
    page.get_by_role("combobox", name="Model, line 1").select_option("llama-3.3-70b")
    vcu = 2_000 * (1_500 * 7 * 10**17 + 400 * 28 * 10**17) // 10**6
    assert vcu == 434 * 10**16
    need = max(vvv.staking.MIN_STAKE(), -(-vcu * free // (pool - vcu)))
    assert need * pool // (free + need) >= vcu > (need - 1) * pool // (free + need - 1)
    expect(value(page, "Workload VCU per day")).to_have_text(shown(vcu, "VCU"))
    expect(value(page, "Stake needed as an active API user")).to_have_text(shown(need))
    expect(value(page, "Stake needed if every staker were active")).to_have_text(shown(need))
