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
from vvv.gateway.ledger import Ledger
from vvv.gateway.serve import GatewaySetupError, load_signer
from vvv.oracle.pricing import load_prices
from vvv.oracle.receipts import Receipt, check
from vvv.oracle.report import post_reports
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
            response = httpx.post(url + "/v1/chat/completions", headers=auth, json=body)
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


def test_a_report_that_differs_from_the_expected_one_raises_an_alert(
    system, oracle, alice, bob, carol, world, g
):
    """The oracle posts a report that leaves alice out and gives bob the set: the gateway's
    expected report (alice alone) differs, and it says so in one ALERT line."""
    allotments = ChainAllotments(system, world["reports"], world["store"])
    root = ref_root([(bob.address, 300 * E18)])
    mine_at((g + 1) * DAY + 300)
    system.oracle.postReport(g, 1_000, CAPACITY, root, 300 * E18, 1, sender=oracle)
    line = allotments.compare(g)
    assert line is not None and line.startswith(f"ALERT: the report of epoch {g} on chain (root {root.lower()}, 1 ")
    assert "differs from the one expected from this gateway's store" in line and allotments.alerts == [line]
