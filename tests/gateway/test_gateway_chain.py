"""The gateway on a deployed system: allotments as `EpochOracle.vcuAllocation` gives them (here
the fallback: no report yet), receipts signed by the key holding ACTIVITY_SIGNER_ROLE, and the
oracle's next report built from the gateway's usage rows; and `ape run gateway`'s set-up errors,
one line each, before anything is served."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.cli_runner import deployments, invoke_script  # noqa: F401
from tests.gateway.gateway_support import PRICES
from tests.gateway.keys_support import Served
from tests.gateway.upstream_stub import Upstream
from tests.helpers import CAPACITY, DAY, E18, mine_at
from tests.sumtree_reference import ref_root
from vvv.chain.apikeys import CreateKey, key_hash, sign
from vvv.gateway.allotments import ChainAllotments
from vvv.gateway.app import Gateway, make_app
from vvv.gateway.keys import KeyStore
from vvv.gateway.ledger import Exhausted, Ledger
from vvv.gateway.serve import GatewaySetupError, load_signer
from vvv.oracle.pricing import load_prices
from vvv.oracle.receipts import Receipt, check
from vvv.oracle.report import post_reports
from vvv.oracle.usage import ApiCall
from vvv.staker.keys import domain_of


def test_gateway_rows_make_the_oracles_report(system, deployer, oracle, alice, bob, accounts, world, g, tmp_path):
    signer_account = accounts[9]
    system.oracle.grantRole(system.oracle.ACTIVITY_SIGNER_ROLE(), signer_account, sender=deployer)
    store = world["store"]  # alice spent 18,148 VCU on day g already
    now = g * DAY + 600
    mine_at(now)
    allotments = ChainAllotments(system, world["reports"])
    assert allotments(bob.address, g) == 300 * CAPACITY // 1_000  # the fallback: 300 of 1,000 VVV staked
    keys = KeyStore(store.engine, domain_of(system))
    secret = "vvv_bobs-agent"
    keys.create(sign(bob, CreateKey(bob.address.lower(), "agent", 0, 0, 1, key_hash(secret), now + 600),
                     domain_of(system)), now)  # fmt: skip
    prices = tmp_path / "prices.csv"
    prices.write_text(PRICES)
    signer = load_signer(system, "TEST::9")
    upstream = Upstream()
    with Served(upstream.app) as upstream_url:
        gateway = Gateway(Ledger(store, signer), keys, load_prices(prices), allotments, upstream_url,
                          clock=lambda: now)  # fmt: skip
        with Served(make_app(gateway)) as url:
            body = {"model": "small-chat", "messages": [{"role": "user", "content": "hi"}]}
            auth = {"authorization": f"Bearer {secret}"}
            # its first read of the chain: a loaded machine can take more than httpx's 5 s
            response = httpx.post(url + "/v1/chat/completions", headers=auth, json=body, timeout=60)
    assert response.status_code == 200 and response.headers["x-vvv-charged-vcu"] == "25"
    data = json.loads(response.headers["x-vvv-activity-receipt"])
    receipt = Receipt(data["account"], data["epoch"], data["signer"], bytes.fromhex(data["signature"][2:]))
    assert (receipt.account, receipt.epoch, receipt.signer) == (bob.address.lower(), g, signer_account.address.lower())
    check(receipt, system.record["chain_id"], system.oracle.address)
    mine_at((g + 1) * DAY + 300)
    (outcome,) = post_reports(system, store, oracle, reports_dir=world["reports"], until_epoch=g, echo=lambda _: None)
    assert outcome.report.consumed_vcu == (18_148 + 25) * E18
    assert outcome.report.utilization_bps == 18_173 * 10_000 // 181_480  # 1,001
    assert outcome.report.active_count == 2
    assert outcome.report.active_root == ref_root([(alice.address, 100 * E18), (bob.address, 300 * E18)])


def test_a_signer_without_the_role_is_refused(system):
    with pytest.raises(GatewaySetupError, match=r"TEST::3 \(0x[0-9a-fA-F]{40}\) does not hold ACTIVITY_SIGNER_ROLE"):
        load_signer(system, "TEST::3")
    with pytest.raises(GatewaySetupError, match="no ape account 'nobody-here'"):
        load_signer(system, "nobody-here")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--upstream", "ftp://x"], "--upstream 'ftp://x' is not an http(s) URL"),
        (["--upstream", "http://127.0.0.1:9", "--usage-db", "sqlite:///no/such/dir/u.db"], "the folder no/such/dir"),
        (["--upstream", "http://127.0.0.1:9", "--usage-db", "sqlite:///{tmp}/missing.db"], "does not exist"),
    ],
)
def test_gateway_set_up_errors_are_one_line(deployments, tmp_path, args, says):  # noqa: F811
    result = invoke_script("gateway", *[a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1 and says in result.stderr


def test_the_audit_day_through_the_gateways_allotments(system, oracle, alice, bob, carol, world, g):
    """The audit's day, through the gateway's allotments (`ChainAllotments`, what the gateway
    reserves against): on day g only alice used the API, so the honest report of g holds alice
    alone. Before the report (not yet known) the gateway bridges with min(expected, fallback):
    alice her fallback share (100 of 1,000 VVV), bob and carol nothing (not expected in the set);
    after it alice has the whole capacity. The most each account can be served in the day adds up
    to the capacity (the old code: the fallback's 181,480 before the report plus the report's
    181,480 after it)."""
    store, day = world["store"], g + 1
    allotments = ChainAllotments(system, world["reports"], store)
    who = {"alice": alice.address, "bob": bob.address, "carol": carol.address}
    served = dict.fromkeys(who, 0)
    for t in (day * DAY + 1, day * DAY + 200):
        mine_at(t)
        got = {name: allotments(account, day) for name, account in who.items()}
        assert got == {"alice": 18_148 * E18, "bob": 0, "carol": 0}
        served = {name: max(served[name], got[name]) for name in who}
    mine_at(day * DAY + 300)
    (outcome,) = post_reports(system, store, oracle, reports_dir=world["reports"], until_epoch=g, echo=lambda _: None)
    mine_at(day * DAY + 400)
    got = {name: allotments(account, day) for name, account in who.items()}
    assert got == {"alice": CAPACITY, "bob": 0, "carol": 0}
    served = {name: max(served[name], got[name]) for name in who}
    assert sum(served.values()) == CAPACITY
    # the posted report is the one the gateway expected: no alert
    assert allotments.compare(g) is None and allotments.alerts == []


def test_a_report_that_differs_from_the_expected_one_raises_an_alert(system, oracle, alice, bob, carol, world, g):
    """The oracle posts a report that leaves alice out and gives bob the set: the gateway's
    expected report (alice alone) differs, and it says so in one ALERT line."""
    allotments = ChainAllotments(system, world["reports"], world["store"])
    root = ref_root([(bob.address, 300 * E18)])
    mine_at((g + 1) * DAY + 300)
    system.oracle.postReport(g, 1_000, CAPACITY, root, 300 * E18, 1, sender=oracle)
    line = allotments.compare(g)
    assert line is not None and line.startswith(f"ALERT: the report of epoch {g} on chain (root {root.lower()}, 1 ")
    assert "differs from the one expected from this gateway's store" in line and allotments.alerts == [line]


def test_a_request_across_midnight_never_makes_the_honest_report_challengeable(
    system, deployer, oracle, alice, bob, carol, accounts, world, g
):
    """SPEC: the activity row and its receipt are committed with the request's reservation (or
    its 402), at its start, in its epoch; the charge keeps that epoch; the oracle reads day D
    only once every reservation of D has settled or expired. alice starts a request at 23:59:50
    of day g+1 that settles at 00:03 of day g+2; carol (staked, never called) is refused at
    23:59:55 for lack of an allotment. The oracle waits for alice's request, then its report of
    g+1 holds alice, bob and carol, and the watchdog, with both receipts, finds it honest."""
    from vvv.oracle.receipts import ReceiptSigner
    from vvv.oracle.watchdog import find_lie, read_published

    signer_account = accounts[9]
    system.oracle.grantRole(system.oracle.ACTIVITY_SIGNER_ROLE(), signer_account, sender=deployer)
    store, reports = world["store"], world["reports"]
    mine_at((g + 1) * DAY + 300)
    post_reports(system, store, oracle, reports_dir=reports, echo=lambda _: None)  # the report of g: alice
    ledger = Ledger(store, ReceiptSigner(signer_account, chain_id_of(system), system.oracle.address))
    allotments = ChainAllotments(system, reports, store)
    day_end = (g + 2) * DAY
    mine_at(day_end - 10)
    alice_allotment = allotments(alice.address, g + 1)
    assert alice_allotment == CAPACITY  # alice alone in the report of g
    r = ledger.reserve("gw-across", alice.address, "0x" + "ab" * 32, 0, alice_allotment, 50 * E18, day_end - 10,
                       "small-chat")  # fmt: skip
    assert r.epoch == g + 1 and r.receipt is not None and (r.receipt.account, r.receipt.epoch) == (
        alice.address.lower(), g + 1)  # fmt: skip
    with pytest.raises(Exhausted) as refused:
        ledger.reserve("gw-carol", carol.address, "0x" + "cd" * 32, 0, 0, E18, day_end - 5, "small-chat",
                       staked=True)  # fmt: skip
    assert refused.value.active and refused.value.receipt is not None and refused.value.receipt.epoch == g + 1
    # 00:02 of day g+2: alice's request is still in flight, the oracle waits and sends nothing
    mine_at(day_end + 120)
    lines: list[str] = []
    *_, waiting = post_reports(system, store, oracle, reports_dir=reports, echo=lines.append)
    assert (waiting.epoch, waiting.action, waiting.until) == (g + 1, "waiting", day_end - 10 + 600)
    assert lines[-1].startswith(f"epoch {g + 1}: waiting for 1 request(s) of the day still in flight")
    assert system.oracle.nextEpochToReport() == g + 1
    # 00:03: it settles, charged in its own epoch, at its start
    call = ApiCall(day_end + 180, alice.address, "small-chat", 10, 10, 0, 30 * E18, "gw-across")
    settled = ledger.settle(r, call)
    assert (settled.call.timestamp, settled.call.vcu_cost) == (day_end - 10, 30 * E18)
    mine_at(day_end + 240)
    *_, posted = post_reports(system, store, oracle, reports_dir=reports, echo=lambda _: None)
    assert (posted.epoch, posted.action, posted.report.active_count) == (g + 1, "posted", 3)
    assert posted.report.consumed_vcu == (90_740 + 30) * E18  # bob's row of day g+1 and alice's charge
    stakes = [(alice.address, 100 * E18), (bob.address, 300 * E18), (carol.address, 600 * E18)]
    assert posted.report.active_root == ref_root(stakes)
    receipts = store.receipts(g + 1, g + 1)
    assert sorted(x.account for x in receipts) == sorted([alice.address.lower(), carol.address.lower()])
    published = read_published(proofs_path_of(system, g + 1, reports))
    finding = find_lie(system, g + 1, published, receipts)
    assert finding.lie == "" and finding.challenge == ""


def chain_id_of(system) -> int:
    return int(system.record["chain_id"])


def proofs_path_of(system, epoch: int, reports):
    from vvv.oracle.proofs import proofs_path

    return proofs_path(chain_id_of(system), epoch, reports)
