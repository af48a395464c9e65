"""The staking page in a real browser (Debian's chromium through Playwright), against anvil, through
the page only: a test wallet announced over EIP-6963 forwards to the node (which signs for its
unlocked accounts) and records every request the page makes of it. The chain is read with ape in
the same test; amounts are compared at the page's displayed precision (`shown`)."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from ape import chain, networks, project
from playwright.sync_api import Page, expect

from vvv.chain.deployment import System
from vvv.oracle.pricing import load_prices
from vvv.oracle.proofs import ProofsFile, proofs_path, read_proofs
from vvv.oracle.report import is_valid, post_reports
from vvv.oracle.usage import ApiCall, UsageStore
from vvv.staker.calc import Task, allotment, stake_needed, what_it_buys

E18 = 10**18
DAY = 86_400
TIMEOUT = 60_000  # ms, for a transaction to be mined and shown (under load: tests/dashboard/conftest.py)
# `make screenshot` sets VVV_SCREENSHOT to docs/img/dashboard.png (the README's picture); the suite
# writes the screenshot into the test's own folder, so a run leaves the working tree as it was.
SCREENSHOT_ENV = "VVV_SCREENSHOT"


@pytest.fixture(autouse=True)
def _anvil_pass_only():
    """The browser needs a node it can reach over HTTP: these tests run in the anvil pass."""
    if networks.provider.name != "foundry":
        pytest.skip("browser tests run in the anvil pass (--network ethereum:local:foundry)")


# An EIP-1193 wallet announced over EIP-6963: it forwards every request to the node, answers
# eth_accounts with one account, records each request's method, and can refuse typed data, sign
# it wrongly, or report another chain until asked to switch.
WALLET_JS = """
(() => {
  const wallet = (window.__testWallet = { ...%s, requests: [], listeners: {} });
  const provider = {
    async request({ method, params }) {
      wallet.requests.push(method);
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [wallet.account];
      if (method === "eth_chainId" && wallet.chainId) return wallet.chainId;
      if (method === "wallet_switchEthereumChain") {
        wallet.chainId = null;
        (wallet.listeners.chainChanged || []).forEach((f) => f(params[0].chainId));
        return null;
      }
      if (method === "eth_signTypedData_v4" && wallet.badSignature) {
        return "0x" + "11".repeat(32) + "22".repeat(32) + "1b"; // well-formed, no one's signature
      }
      if (method === "eth_signTypedData_v4" && wallet.refuseTypedData) {
        throw Object.assign(new Error("Test Wallet does not sign typed data"), { code: 4200 });
      }
      const response = await fetch(wallet.rpc, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: wallet.requests.length, method, params: params || [] }),
      });
      const body = await response.json();
      if (body.error) throw Object.assign(new Error(body.error.message), body.error);
      return body.result;
    },
    on(event, f) { (wallet.listeners[event] ||= []).push(f); },
    removeListener() {},
  };
  const info = { uuid: "0b8a2d36-test-wallet", name: "Test Wallet", icon: "data:,", rdns: "org.vvv.test-wallet" };
  const announce = () =>
    window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();
"""


def shown(wei: int, unit: str = "VVV") -> str:
    """How the page shows an amount: floored to 6 significant digits, with at least 2 decimals
    (trailing zeros beyond them dropped), thousands separated: 25,000.00, 1,234.56, 12.3456,
    0.0021."""
    whole, frac = divmod(wei, E18)
    digits = f"{frac:018d}"
    if whole:
        places = max(2, 6 - len(str(whole)))
    else:
        places = 2 if frac == 0 else min(18, len(digits) - len(digits.lstrip("0")) + 6)
    return f"{whole:,}.{digits[:places].rstrip('0').ljust(2, '0')} {unit}"


def exact(wei: int) -> str:
    """Every decimal, thousands separated: 1234.5e18 -> "1,234.5"."""
    whole, frac = divmod(wei, E18)
    return f"{whole:,}" + (f".{frac:018d}".rstrip("0") if frac else "")


class Chain:
    """The deployment the page shows, as ape contracts."""

    def __init__(self, base_url: str) -> None:
        self.config = httpx.get(base_url + "api/config").json()
        c = self.config["contracts"]
        self.token = project.VVVToken.at(c["token"])
        self.staking = project.VVVStaking.at(c["staking"])
        self.oracle = project.EpochOracle.at(c["oracle"])
        self.emissions = project.EmissionsController.at(c["emissions"])


def base_url(dashboard: Any) -> str:
    url = str(getattr(dashboard, "url", dashboard))
    return url if url.endswith("/") else url + "/"


@pytest.fixture
def vvv(dashboard) -> Chain:
    return Chain(base_url(dashboard))


@pytest.fixture
def holder(accounts, vvv):
    """The account holding the genesis supply."""
    return max(accounts, key=lambda a: vvv.token.balanceOf(a))


def open_page(page: Page, dashboard: Any, vvv: Chain, account: Any, **wallet: Any) -> Page:
    """Load the page with the test wallet for `account` and connect it."""
    settings = {"rpc": vvv.config["rpcUrl"], "account": str(account.address), "refuseTypedData": False, **wallet}
    page.add_init_script(WALLET_JS % json.dumps(settings))
    page.goto(base_url(dashboard))
    page.get_by_role("button", name="Connect Test Wallet").click()
    expect(page.get_by_text(f"Connected with Test Wallet: {account.address}")).to_be_visible()
    expect(value(page, "Wallet")).to_have_text(re.compile(r" VVV$"))  # the position is shown
    return page


def value(page: Page, label: str):
    return page.get_by_label(label, exact=True)


def submit(page: Page, action: str, amount: str) -> None:
    """Type `amount` in the stake or unstake box and press its button."""
    page.get_by_role("textbox", name=f"Amount to {action} (VVV)").fill(amount)
    page.get_by_role("button", name=action.capitalize(), exact=True).click()


def wallet_requests(page: Page) -> list[str]:
    return page.evaluate("window.__testWallet.requests")


def last_tx(page: Page, label: str):
    return page.locator("#tx-log li", has_text=label).first


def confirmed_hash(page: Page, label: str) -> str:
    line = last_tx(page, label)
    expect(line).to_contain_text(re.compile(r"confirmed(, [^,]+)?, tx 0x"), timeout=TIMEOUT)
    return re.search(r"0x[0-9a-f]{64}", line.inner_text()).group(0)


def move_time(seconds: int) -> None:
    networks.provider.make_request("evm_increaseTime", [seconds])
    chain.mine()


def test_connect_shows_the_position_as_on_chain(dashboard, browser_page, vvv, holder, accounts):
    user = accounts[1]
    vvv.token.transfer(user, 1_234_567_891_234_567_891_234, sender=holder)  # 1,234.567891234... VVV
    vvv.token.approve(vvv.staking, 7 * E18, sender=user)
    vvv.staking.stake(7 * E18, sender=user)
    page = open_page(browser_page, dashboard, vvv, user)
    expect(value(page, "Wallet")).to_have_text(shown(vvv.token.balanceOf(user)))
    expect(value(page, "Staked")).to_have_text("7.00 VVV")
    expect(value(page, "Rewards earned")).to_have_text(shown(vvv.staking.earned(user)))
    expect(value(page, "Total staked")).to_have_text(shown(vvv.staking.totalStaked()))
    # shown to the precision that matters, exact on hover and in the box that "Max" fills
    expect(value(page, "Wallet")).to_have_text("1,227.56 VVV")  # 1,234.567891234567891234 - 7
    expect(value(page, "Wallet")).to_have_attribute("title", "1227.567891234567891234 VVV")
    page.get_by_role("button", name="Max to stake").click()
    expect(page.get_by_role("textbox", name="Amount to stake (VVV)")).to_have_value("1227.567891234567891234")
    page.get_by_role("button", name="Max to unstake").click()
    expect(page.get_by_role("textbox", name="Amount to unstake (VVV)")).to_have_value("7")


def test_a_wallet_on_another_chain_is_asked_to_switch(dashboard, browser_page, vvv, accounts):
    page = open_page(browser_page, dashboard, vvv, accounts[1], chainId="0x1")
    switch = page.get_by_role("button", name=f"Switch the wallet to chain {vvv.config['chainId']}")
    expect(switch).to_be_visible()
    submit(page, "stake", "1")
    expect(page.get_by_role("alert").filter(has_text="switch it to chain")).to_be_visible()
    assert "eth_sendTransaction" not in wallet_requests(page)
    switch.click()
    expect(switch).to_be_hidden()
    assert "wallet_switchEthereumChain" in wallet_requests(page)


def test_stake_with_a_permit(dashboard, browser_page, vvv, holder, accounts):
    user = accounts[2]
    vvv.token.transfer(user, 1_000 * E18, sender=holder)
    page = open_page(browser_page, dashboard, vvv, user)
    submit(page, "stake", "250.5")
    confirmed_hash(page, "Stake 250.5 VVV with a permit")
    # the amount left the box: a second click cannot stake it again
    expect(page.get_by_role("textbox", name="Amount to stake (VVV)")).to_have_value("")
    assert vvv.staking.stakeOf(user) == 250_500_000_000_000_000_000
    assert vvv.token.balanceOf(user) == 749_500_000_000_000_000_000
    assert vvv.token.allowance(user, vvv.staking) == 0  # the permit's allowance was used up
    requests = wallet_requests(page)
    assert requests.count("eth_signTypedData_v4") == 1 and requests.count("eth_sendTransaction") == 1
    expect(value(page, "Staked")).to_have_text("250.50 VVV")
    expect(value(page, "Wallet")).to_have_text("749.50 VVV")


def test_stake_with_approve_when_the_wallet_signs_no_typed_data(dashboard, browser_page, vvv, holder, accounts):
    user = accounts[3]
    vvv.token.transfer(user, 1_000 * E18, sender=holder)
    page = open_page(browser_page, dashboard, vvv, user, refuseTypedData=True)
    submit(page, "stake", "100")
    confirmed_hash(page, "Approve 100 VVV")
    confirmed_hash(page, "Stake 100 VVV")
    assert vvv.staking.stakeOf(user) == 100 * E18
    assert vvv.token.balanceOf(user) == 900 * E18
    requests = wallet_requests(page)
    assert requests.count("eth_signTypedData_v4") == 1  # asked once, refused
    assert requests.count("eth_sendTransaction") == 2  # approve, then stake
    expect(value(page, "Staked")).to_have_text("100.00 VVV")


def test_a_revert_is_shown_in_words_and_nothing_is_sent(dashboard, browser_page, vvv, holder, accounts):
    """A permit signed by the wrong key is ignored by stakeWithPermit; with no allowance, the
    token's transfer reverts with ERC20InsufficientAllowance(spender, 0, 5 VVV)."""
    user = accounts[8]
    vvv.token.transfer(user, 10 * E18, sender=holder)
    page = open_page(browser_page, dashboard, vvv, user, badSignature=True)
    submit(page, "stake", "5")
    line = last_tx(page, "Stake 5 VVV with a permit")
    expect(line).to_contain_text(
        "failed: the transaction would revert: Indicates a failure with the spender’s allowance. Used in transfers. "
        f"(ERC20InsufficientAllowance: spender {vvv.staking.address}, allowance 0 VVV, needed 5 VVV); nothing was sent"
    )
    assert "eth_sendTransaction" not in wallet_requests(page)
    assert vvv.staking.stakeOf(user) == 0


def test_bad_amounts_show_their_errors_and_open_no_wallet_request(dashboard, browser_page, vvv, holder, accounts):
    user = accounts[4]
    vvv.token.transfer(user, 1_000 * E18, sender=holder)
    vvv.token.approve(vvv.staking, E18, sender=user)
    vvv.staking.stake(E18, sender=user)
    page = open_page(browser_page, dashboard, vvv, user)
    expect(value(page, "Staked")).to_have_text("1.00 VVV")
    before = len(wallet_requests(page))
    minimum = "0.001 VVV"  # exact in messages: what the user compares with what they typed
    cases = [
        ("stake", "1.0000000000000000001", 'more than 18 decimals: "1.0000000000000000001"'),
        ("stake", "999.5", "insufficient balance: the wallet holds 999 VVV, the stake needs 999.5 VVV"),
        ("stake", "0", 'the amount must be positive: "0"'),
        ("unstake", "2", "insufficient stake: 1 VVV staked, asked to unstake 2 VVV"),
        ("unstake", "0.9995", f"a partial unstake must be at least {minimum} and leave at least {minimum} staked"),
    ]
    for action, text, error in cases:
        submit(page, action, text)
        expect(page.get_by_role("alert").filter(has_text=error)).to_be_visible()
        expect(page.get_by_role("textbox", name=f"Amount to {action} (VVV)")).to_have_value(text)  # kept to correct
    assert len(wallet_requests(page)) == before  # no wallet request at all
    assert vvv.staking.stakeOf(user) == E18 and vvv.token.balanceOf(user) == 999 * E18


def test_unstake_twice_cancel_one_withdraw_the_other_seven_days_later(dashboard, browser_page, vvv, holder, accounts):
    user = accounts[5]
    vvv.token.transfer(user, 100 * E18, sender=holder)
    vvv.token.approve(vvv.staking, 100 * E18, sender=user)
    vvv.staking.stake(100 * E18, sender=user)
    page = open_page(browser_page, dashboard, vvv, user)
    for amount in ("10", "20"):
        submit(page, "unstake", amount)
        confirmed_hash(page, f"Unstake {amount} VVV")
        expect(page.get_by_role("textbox", name="Amount to unstake (VVV)")).to_have_value("")
    head = chain.blocks.head.number
    logs = list(vvv.staking.UnstakeRequested.range(0, head + 1, search_topics={"account": user.address}))
    (first, ten), (second, twenty) = [(int(log.requestId), int(log.amount)) for log in logs]
    assert (ten, twenty) == (10 * E18, 20 * E18)
    expect(value(page, "Staked")).to_have_text("70.00 VVV")
    expect(value(page, "Unbonding")).to_have_text("30.00 VVV")
    expect(page.get_by_role("row", name=re.compile(rf"^{second} 20\.00 VVV .* 6d 23h"))).to_be_visible()
    expect(page.get_by_role("button", name=f"Withdraw request {second}")).to_be_disabled()

    page.get_by_role("button", name=f"Cancel request {first}").click()
    confirmed_hash(page, f"Cancel request {first}")
    assert vvv.staking.stakeOf(user) == 80 * E18
    expect(value(page, "Staked")).to_have_text("80.00 VVV")
    expect(value(page, "Unbonding")).to_have_text("20.00 VVV")
    expect(page.get_by_role("button", name=f"Cancel request {first}")).to_have_count(0)

    move_time(7 * DAY)
    page.reload()  # reconnects to the remembered wallet without asking
    expect(value(page, "Withdrawable now")).to_have_text("20.00 VVV")
    expect(page.get_by_role("row", name=re.compile(rf"^{second} 20\.00 VVV .* ready to withdraw"))).to_be_visible()
    page.get_by_role("button", name=f"Withdraw request {second}").click()
    confirmed_hash(page, f"Withdraw request {second}")
    assert vvv.token.balanceOf(user) == 20 * E18
    expect(value(page, "Wallet")).to_have_text("20.00 VVV")
    expect(value(page, "Unbonding")).to_have_text("0.00 VVV")


def start_stream(vvv: Chain, sender: Any) -> None:
    """Distribute the genesis epoch by the utilization-0 fallback (three days after it): the
    stakers' 80 % streams over the next day."""
    genesis = int(vvv.emissions.genesisEpoch())
    now = chain.pending_timestamp
    if now < (genesis + 3) * DAY:
        move_time((genesis + 3) * DAY - now + 60)
    vvv.emissions.distribute(genesis, sender=sender)


def test_rewards_stream_live_then_claim_and_restake(dashboard, browser_page, vvv, holder, accounts):
    user = accounts[6]
    vvv.token.transfer(user, 300 * E18, sender=holder)
    vvv.token.approve(vvv.staking, 300 * E18, sender=user)
    vvv.staking.stake(300 * E18, sender=user)
    start_stream(vvv, holder)
    chain.mine()
    low = vvv.staking.earned(user)  # before the page reads the chain: what it shows is never less
    page = open_page(browser_page, dashboard, vvv, user)
    earned = value(page, "Rewards earned")
    expect(earned).to_have_text(re.compile(r"^[\d,]+\.\d+ VVV$"))
    first = earned.inner_text()
    # the page's clock counts whole seconds from its last read: the figure moves on its own
    expect(earned).not_to_have_text(first, timeout=30_000)
    second = earned.inner_text()
    chain.mine()
    high = vvv.staking.earned(user)
    amount = lambda text: Decimal(text.removesuffix(" VVV").replace(",", ""))  # noqa: E731
    places = len(first.removesuffix(" VVV").split(".")[1])  # floored to these decimals
    low_shown = Decimal(low) / E18 - Decimal(1).scaleb(-places)
    assert low_shown < amount(first) < amount(second) <= Decimal(high) / E18  # live, and within the chain's bounds

    page.get_by_role("button", name="Claim rewards").click()
    tx = chain.provider.get_receipt(confirmed_hash(page, "Claim rewards"))
    (claimed,) = tx.decode_logs(vvv.staking.RewardsClaimed)
    assert claimed.amount > 0 and vvv.token.balanceOf(user) == claimed.amount
    claim_line = last_tx(page, "Claim rewards")
    expect(claim_line).to_contain_text(f"confirmed, claimed {shown(claimed.amount)}, tx 0x")
    expect(claim_line).to_have_attribute("title", f"claimed {exact(claimed.amount)} VVV")
    expect(value(page, "Wallet")).to_have_text(shown(claimed.amount))

    move_time(10)  # a later block: the claim's block left nothing earned
    page.get_by_role("button", name="Restake rewards").click()
    tx = chain.provider.get_receipt(confirmed_hash(page, "Restake rewards"))
    (restaked,) = tx.decode_logs(vvv.staking.RewardsRestaked)
    expect(last_tx(page, "Restake rewards")).to_contain_text(f"confirmed, restaked {shown(restaked.amount)}, tx 0x")
    assert vvv.staking.stakeOf(user) == 300 * E18 + restaked.amount
    expect(value(page, "Staked")).to_have_text(shown(300 * E18 + restaked.amount))

    move_time(2 * DAY)  # the stream is over: earned stands still
    page.reload()
    expect(value(page, "Rewards earned")).to_have_text(shown(vvv.staking.earned(user)))
    assert vvv.staking.earned(user) > 0


def test_the_vcu_panel_shows_the_fallback_allotment(dashboard, browser_page, vvv, holder, accounts):
    """With no report for yesterday, every staker counts: stake x capacity / total at the snapshot."""
    user = accounts[7]
    vvv.token.transfer(user, 300 * E18, sender=holder)
    vvv.token.approve(vvv.staking, 300 * E18, sender=user)
    vvv.staking.stake(300 * E18, sender=user)
    move_time(DAY)  # the stake is in yesterday's snapshot
    epoch = chain.pending_timestamp // DAY
    if is_valid(vvv.oracle.reportStatus(epoch - 1)):
        pytest.skip("the dashboard's chain has a report for yesterday")  # never on a fresh deployment
    expected = vvv.oracle.vcuAllocation(epoch, user, 0, 0, [])
    total = vvv.staking.totalStakedAt(epoch * DAY - 1)
    assert expected == 300 * E18 * vvv.oracle.lastCapacity() // total > 0
    page = open_page(browser_page, dashboard, vvv, user)
    expect(value(page, "Allotment today")).to_have_text(shown(expected, "VCU"))
    expect(value(page, "Left today")).to_have_text(shown(expected, "VCU"))
    note = f"No report of epoch {epoch - 1} by today's deadline (or it was rejected): every staker counts"
    expect(page.get_by_text(note)).to_be_visible()


def report_with(vvv: Chain, dashboard: Any, accounts: Any, calls: dict[Any, int]) -> tuple[int, ProofsFile]:
    """Each account of `calls` stakes its amount and calls the API today; the oracle reports the
    day (and any earlier unreported ones) half an hour after midnight, before the day's report
    deadline (1 hour): the day's allotments come from the report. Returns today's epoch and the file."""
    holder = max(accounts, key=lambda a: vvv.token.balanceOf(a))
    reporter = next(a for a in accounts if vvv.oracle.hasRole(vvv.oracle.ORACLE_ROLE(), a))
    first = int(vvv.oracle.nextEpochToReport())
    if chain.pending_timestamp // DAY < first:
        move_time(first * DAY + 3_600 - chain.pending_timestamp)
    store = UsageStore(dashboard.usage_db)
    for account, amount in calls.items():
        if account != holder:
            vvv.token.transfer(account, amount, sender=holder)
        vvv.token.approve(vvv.staking, amount, sender=account)
        vvv.staking.stake(amount, sender=account)
    day = chain.pending_timestamp // DAY
    store.add(ApiCall(chain.pending_timestamp, str(a.address).lower(), "llama-3.3-70b", 10, 10, 0, 1) for a in calls)
    move_time((day + 1) * DAY + 1_800 - chain.pending_timestamp)
    system = System(vvv.token, vvv.staking, vvv.emissions, vvv.oracle)
    post_reports(system, store, reporter, reports_dir=dashboard.reports_dir, echo=lambda _: None)
    return day + 1, read_proofs(proofs_path(chain.chain_id, day, dashboard.reports_dir))


def distributed_days(
    vvv: Chain, dashboard: Any, accounts: Any, callers: list[Any], utilizations: list[int]
) -> list[int]:
    """One day per utilization (bps): each of `callers` calls the API that day, the first one's
    calls costing that share of the capacity; the oracle reports the day half an hour after
    midnight (before the next day's report deadline), and the day is distributed once the
    report's 2-hour dispute window is over. The charts' history; returns its epochs."""
    reporter = next(a for a in accounts if vvv.oracle.hasRole(vvv.oracle.ORACLE_ROLE(), a))
    system = System(vvv.token, vvv.staking, vvv.emissions, vvv.oracle)
    store = UsageStore(dashboard.usage_db)
    first = int(vvv.oracle.nextEpochToReport())
    if chain.pending_timestamp // DAY < first:
        move_time(first * DAY + 3_600 - chain.pending_timestamp)
    days = []
    for bps in utilizations:
        day = chain.pending_timestamp // DAY
        cost = int(vvv.oracle.lastCapacity()) * bps // 10_000
        now = chain.pending_timestamp
        store.add(
            [ApiCall(now, a.address.lower(), "llama-3.3-70b", 0, 0, 0, cost if a == callers[0] else 0) for a in callers]
        )
        move_time((day + 1) * DAY + 1_800 - chain.pending_timestamp)
        post_reports(system, store, reporter, reports_dir=dashboard.reports_dir, echo=lambda _: None)
        move_time(3 * 3_600)
        vvv.emissions.distribute(day, sender=reporter)
        days.append(day)
    return days


def spent_today(dashboard: Any, account: Any) -> int:
    """What the usage store holds for `account` today (the chain's day)."""
    day = chain.pending_timestamp // DAY
    return UsageStore(dashboard.usage_db).consumed(day * DAY, (day + 1) * DAY - 1, account.address.lower())


def test_the_vcu_panel_shows_vcu_allocation_with_the_accounts_proof(dashboard, browser_page, vvv, holder, accounts):
    """Two API-active stakers, 300 and 100 VVV: 3/4 of the capacity for the first. A call of
    1,000 input and 500 output tokens of llama-3.3-70b (0.70 and 2.80 VCU per 1M) today costs
    0.0007 + 0.0014 = 0.0021 VCU."""
    user, other = accounts[7], accounts[8]
    epoch, proofs = report_with(vvv, dashboard, accounts, {user: 300 * E18, other: 100 * E18})
    stake, position, siblings = proofs.proof(user.address)
    report = vvv.oracle.report(epoch - 1)
    expected = vvv.oracle.vcuAllocation(epoch, user, stake, position, siblings)
    assert stake == 300 * E18 and expected == 300 * E18 * report.capacity // report.totalActiveStake > 0
    now = chain.pending_timestamp
    spent = spent_today(dashboard, user) + 21 * 10**14  # the store outlives the chain's snapshots
    UsageStore(dashboard.usage_db).add(
        [ApiCall(now, user.address.lower(), "llama-3.3-70b", 1_000, 500, 0, 21 * 10**14)]
    )
    page = open_page(browser_page, dashboard, vvv, user)
    expect(value(page, "Allotment today")).to_have_text(shown(expected, "VCU"))
    expect(value(page, "Spent today")).to_have_text(shown(spent, "VCU"))
    expect(value(page, "Left today")).to_have_text(shown(expected - spent, "VCU"))
    note = f"From the report of epoch {epoch - 1}: 300 VVV of yours in an active stake of 400 VVV."
    expect(page.get_by_text(note)).to_be_visible()
    midnight = datetime.fromtimestamp((epoch + 1) * DAY, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    reset = value(page, "Resets in")
    expect(reset).to_contain_text(f"(midnight UTC, {midnight})")
    h, m, sec = map(int, re.match(r"(\d+)h (\d+)m (\d+)s", reset.inner_text()).groups())
    assert 0 <= (epoch + 1) * DAY - now - (3600 * h + 60 * m + sec) <= 30  # counts down on the chain's clock


def test_screenshot_of_a_stakers_position(dashboard, browser_page, vvv, holder, accounts, tmp_path):
    """docs/img/dashboard.png (`make screenshot`): an API-active staker with rewards streaming, a pending unstake
    request, part of today's VCU spent, and a week of history in the charts."""
    user = accounts[7]
    vvv.token.transfer(user, 25_000 * E18, sender=holder)
    for account, amount in ((user, 25_000 * E18), (holder, 40_000_000 * E18)):
        vvv.token.approve(vvv.staking, amount, sender=account)
        vvv.staking.stake(amount, sender=account)
    week = [1_800, 2_600, 3_400, 4_100, 4_700, 3_900, 3_000, 3_500]
    days = distributed_days(vvv, dashboard, accounts, [user, holder], week)
    epoch = days[-1] + 1  # today: its allotments from the report of the last day
    vvv.staking.requestUnstake(2_500 * E18, sender=user)
    move_time(1_800)  # half an hour of the stream
    spent = spent_today(dashboard, user) + 2_170 * 10**15
    calls = [ApiCall(chain.pending_timestamp, user.address.lower(), "llama-3.3-70b", 1_500, 400, 0, 2_170 * 10**15)]
    UsageStore(dashboard.usage_db).add(calls)
    page = open_page(browser_page, dashboard, vvv, user)
    expect(value(page, "Spent today")).to_have_text(shown(spent, "VCU"))
    expect(page.get_by_role("button", name=re.compile(r"^Withdraw request \d+$"))).to_be_disabled()
    # the charts show the week: its last day in the legend, all of it on the x axis
    util = page.get_by_role("figure", name="Utilization and the stakers' share, by day (%)")
    expect(util.locator(".chart-legend")).to_contain_text(f"(epoch {epoch - 1})")
    low, high = map(float, util.get_by_role("img").get_attribute("data-x-range").split())
    assert low <= days[0] - 0.5 and high == days[-1] + 0.5
    page.set_viewport_size({"width": 1280, "height": 1400})
    page.wait_for_timeout(600)  # earned ticks; the charts settle
    screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "dashboard.png")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=screenshot)
    assert screenshot.stat().st_size > 50_000


def test_the_local_chains_test_accounts_are_a_wallet(dashboard, browser_page, vvv, holder, accounts):
    """On a local chain the page offers the node's unlocked accounts: pick one, stake from it."""
    assert vvv.config["local"] is True
    user = accounts[9]
    vvv.token.transfer(user, 50 * E18, sender=holder)
    page = browser_page
    page.goto(base_url(dashboard))
    page.get_by_role("button", name="Connect Test accounts (local chain)").click()
    page.get_by_role("combobox", name="Account").select_option(user.address.lower())
    expect(value(page, "Wallet")).to_have_text("50.00 VVV")
    submit(page, "stake", "20")
    confirmed_hash(page, "Stake 20 VVV with a permit")  # the node signs the permit too
    assert vvv.staking.stakeOf(user) == 20 * E18
    expect(value(page, "Staked")).to_have_text("20.00 VVV")


def test_the_calculator_agrees_with_the_cli(dashboard, browser_page, vvv, accounts):
    """The page's calculator against `ape run staker calc`'s functions (vvv.staker.calc), at the
    pool of a report of two active stakers (300 and 100 VVV)."""
    user = accounts[7]
    epoch, _ = report_with(vvv, dashboard, accounts, {user: 300 * E18, accounts[8]: 100 * E18})
    report = vvv.oracle.report(epoch - 1)
    capacity, pool, everyone = report.capacity, report.totalActiveStake, vvv.staking.totalFreeStakedAt(epoch * DAY - 1)
    prices = load_prices()
    page = open_page(browser_page, dashboard, vvv, user)
    page.get_by_role("textbox", name="Stake to calculate (VVV)").fill("1000")
    active = allotment(1_000 * E18, capacity, pool)
    assert active == 1_000 * E18 * capacity // (pool + 1_000 * E18)
    expect(value(page, "Daily VCU as an active API user")).to_have_text(shown(active, "VCU"))
    expect(value(page, "Daily VCU if every staker were active")).to_have_text(
        shown(allotment(1_000 * E18, capacity, everyone), "VCU")
    )
    for buys in what_it_buys(active, prices, 1_000, 500):
        cells = [buys.requests, buys.input_tokens, buys.output_tokens, buys.images]
        row = " ".join([buys.model, *("–" if c is None else f"{c:,}" for c in cells)])
        expect(page.get_by_role("row", name=row, exact=True)).to_be_visible()
    # the first workload line: 2,000 requests of 1,500 in / 400 out tokens of llama-3.3-70b
    page.get_by_role("combobox", name="Model, line 1").select_option("llama-3.3-70b")
    task = Task("llama-3.3-70b", 2_000, 1_500, 400)
    vcu = task.cost(prices)
    assert vcu == 2_000 * (1_500 * 7 * 10**17 + 400 * 28 * 10**17) // 10**6  # 4.34 VCU
    expect(value(page, "Workload VCU per day")).to_have_text(shown(vcu, "VCU"))
    minimum = vvv.staking.MIN_STAKE()
    expect(value(page, "Stake needed as an active API user")).to_have_text(
        shown(stake_needed(vcu, capacity, pool, minimum))
    )
    expect(value(page, "Stake needed if every staker were active")).to_have_text(
        shown(stake_needed(vcu, capacity, everyone, minimum))
    )


def test_the_calculator_refuses_negative_token_counts(dashboard, browser_page, vvv, accounts):
    page = open_page(browser_page, dashboard, vvv, accounts[7])
    expect(value(page, "Daily VCU as an active API user")).to_have_text(re.compile(r" VCU$"))
    page.get_by_role("spinbutton", name="Average input tokens", exact=True).fill("-5")
    expect(page.get_by_role("alert").filter(has_text='Average input tokens cannot be negative: "-5"')).to_be_visible()
    expect(value(page, "Daily VCU as an active API user")).to_have_text("–")
    expect(page.locator("#buys tr")).to_have_count(0)  # nothing computed from a refused count
    page.get_by_role("spinbutton", name="Average input tokens", exact=True).fill("1000")
    expect(value(page, "Daily VCU as an active API user")).to_have_text(re.compile(r" VCU$"))
    line = "Average output tokens, line 1"
    page.get_by_role("spinbutton", name=line).fill("-1")
    expect(page.get_by_role("alert").filter(has_text=f'{line} cannot be negative: "-1"')).to_be_visible()
    expect(value(page, "Workload VCU per day")).to_have_text("–")
    page.get_by_role("spinbutton", name="Requests or images per day, line 1").fill("0")
    page.get_by_role("spinbutton", name=line).fill("400")
    refused = 'Requests or images per day, line 1 must be at least 1: "0"'
    expect(page.get_by_role("alert").filter(has_text=refused)).to_be_visible()


def test_a_phone_shows_the_whole_page_without_sideways_scrolling(dashboard, browser_page, vvv, holder, accounts):
    """390 x 844 (a phone): nothing wider than the screen, no value cut off; the position and
    today's VCU first, in large figures."""
    user = accounts[5]
    vvv.token.transfer(user, 1_234_567 * E18, sender=holder)  # a long figure
    vvv.token.approve(vvv.staking, 1_000_000 * E18, sender=user)
    vvv.staking.stake(1_000_000 * E18, sender=user)
    vvv.staking.requestUnstake(12_345 * E18, sender=user)  # a row in the requests table
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    day = {"utilizationBps": 2_500, "stakersBps": 5_000, "aprMicroPercent": "12345678"}
    month = [{"epoch": 20762 + i, **day} for i in range(30)]
    page.route("**/api/history", lambda route: route.fulfill(json={"epochs": month}))  # charts with 30 days
    open_page(page, dashboard, vvv, user)
    expect(page.locator("#chart-util canvas")).to_have_count(1)
    submit(page, "unstake", "1000")
    confirmed_hash(page, "Unstake 1,000 VVV")  # a transaction hash in the log
    expect(value(page, "Staked")).to_have_text(shown(vvv.staking.stakeOf(user)))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    cut = page.evaluate(
        """() => [...document.querySelectorAll("dt, dd, p, h1, h2, label, button, figure, td, th")]
            .filter((el) => el.offsetParent !== null)
            .filter((el) => el.getBoundingClientRect().right > 390 || el.scrollWidth > el.clientWidth + 1)
            .map((el) => el.id || el.textContent.slice(0, 40))"""
    )
    assert cut == []
    sections = page.locator("main > section h2").all_inner_texts()
    assert sections[:2] == ["Your position", "Today's VCU"]
    size = lambda label: float(value(page, label).evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))  # noqa: E731
    assert size("Staked") >= 1.5 * size("Wallet") and size("Left today") >= 1.5 * size("Spent today")


@pytest.mark.parametrize(("scheme", "background"), [("light", "rgb(248, 250, 252)"), ("dark", "rgb(11, 17, 32)")])
def test_the_page_follows_the_systems_colour_scheme(dashboard, browser_page, scheme, background):
    page = browser_page
    page.emulate_media(color_scheme=scheme)
    page.goto(base_url(dashboard))
    assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == background
