"""The dashboard's JSON API (vvv.dashboard) against a deployed system with two posted, final and
distributed reports and a day of metered use: every route with values worked out by hand (or by
the reference sum tree in tests/sumtree_reference.py), and every bad request answered with one
line of JSON, never a 500. Through Starlette's test client over the in-process chain (and /metrics
through uvicorn on loopback): these tests need no node's HTTP endpoint and run once, in the
in-process pass (the browser tests use the anvil one)."""

from __future__ import annotations

import shutil

import httpx
import pytest
from ape import chain, networks
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from tests.gateway.keys_support import Served
from tests.helpers import CAPACITY, DAY, E18, EPOCH_EMISSION, mine_at
from tests.sumtree_reference import ref_proof_args, ref_root
from vvv.dashboard.app import WebDirMissing, make_app, metered_app
from vvv.dashboard.data import Dashboard
from vvv.oracle.pricing import load_prices
from vvv.oracle.report import post_reports
from vvv.oracle.usage import ApiCall

PRICES = """kind,model,vcu_per_1m_input,vcu_per_1m_output,vcu_per_image
chat,small-chat,0.5,1.25,
image,painter,,,0.04
"""


@pytest.fixture(autouse=True)
def _in_process_pass_only():
    if networks.provider.name == "foundry":
        pytest.skip("no HTTP endpoint needed: runs once, in the in-process pass of `make test`")


@pytest.fixture
def board(system, oracle, alice, world, g, tmp_path):
    """Reports of g (alice alone active) and g+1 (alice and bob) posted, final and distributed;
    now is 3 h into day g+2, when alice has spent 5 VCU."""
    mine_at((g + 2) * DAY + 300)
    post_reports(system, world["store"], oracle, reports_dir=world["reports"], echo=lambda _: None)
    mine_at((g + 2) * DAY + 3 * 3_600)  # both reports final (2 h window)
    for epoch in (g, g + 1):
        system.emissions.distribute(epoch, sender=oracle)
    world["store"].add([ApiCall((g + 2) * DAY + 5_000, alice.address, "llama-3.3-70b", 1, 1, 0, 5 * E18)])
    prices = tmp_path / "prices.csv"
    prices.write_text(PRICES)
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>VVV staking</title>")
    dashboard = Dashboard(system, load_prices(prices), "http://127.0.0.1:1", True, "ethereum:local:test",
                          world["reports"], world["store"].url)  # fmt: skip
    return dashboard, web


@pytest.fixture
def served(board):
    return TestClient(make_app(*board), raise_server_exceptions=False)


def test_config(served, system, g):
    body = served.get("/api/config").json()
    assert body["chainId"] == chain.chain_id == 1337
    assert body["contracts"] == {
        "token": system.token.address,
        "staking": system.staking.address,
        "oracle": system.oracle.address,
        "emissions": system.emissions.address,
        "rights": system.compute_rights.address,  # the page's rights panel shows when it is named
    }
    assert (body["minStake"], body["unbondingPeriod"], body["epochLength"]) == ("1000000000000000", 604_800, 86_400)
    assert (body["genesisEpoch"], body["local"], body["rpcUrl"]) == (g, True, "http://127.0.0.1:1")


def test_proof_of_today_is_from_yesterdays_report(served, system, alice, bob, g):
    leaves = [(alice.address, 100 * E18), (bob.address, 300 * E18)]
    stake, position, siblings = ref_proof_args(leaves, alice.address)
    body = served.get(f"/api/proof/{alice.address}").json()
    assert body == {
        "epoch": g + 2,
        "account": alice.address.lower(),
        "stake": str(100 * E18),
        "position": position,
        "siblings": [{"hash": "0x" + bytes(h).hex(), "sum": str(s)} for h, s in siblings],
        "reportEpoch": g + 1,
        "root": ref_root(leaves),
        "capacity": str(CAPACITY),
        "totalActiveStake": str(400 * E18),
        "activeCount": 2,
        "allotment": str(CAPACITY // 4),  # 100 of 400 active VVV
    }
    assert stake == 100 * E18
    # the contract agrees with the proof as served
    served_siblings = [(bytes.fromhex(s["hash"][2:]), int(s["sum"])) for s in body["siblings"]]
    assert system.oracle.vcuAllocation(g + 2, alice, stake, body["position"], served_siblings) == CAPACITY // 4


def test_proof_of_an_earlier_epoch(served, alice, g):
    body = served.get(f"/api/proof/{alice.address}?epoch={g + 1}").json()
    assert (body["reportEpoch"], body["position"], body["siblings"], body["allotment"]) == (g, 0, [], str(CAPACITY))


def test_spend_today(served, alice, bob, g):
    assert served.get(f"/api/spend/{alice.address}").json() == {
        "epoch": g + 2, "spent": str(5 * E18), "resetsAt": (g + 3) * DAY, "source": "usage-db",
    }  # fmt: skip
    assert served.get(f"/api/spend/{bob.address}").json()["spent"] == "0"  # bob's 90,740 VCU were on day g+1


def test_prices(served):
    assert served.get("/api/prices").json() == {
        "models": [
            {"model": "painter", "kind": "image", "per1mInput": "0", "per1mOutput": "0",
             "perImage": str(4 * E18 // 100)},
            {"model": "small-chat", "kind": "chat", "per1mInput": str(E18 // 2), "per1mOutput": str(125 * E18 // 100),
             "perImage": "0"},
        ]
    }  # fmt: skip


def test_history_from_events(served, system, g):
    rows = served.get("/api/history").json()["epochs"]
    share = [int(system.emissions.stakerShareBpsAt(g, 1_000)), int(system.emissions.stakerShareBpsAt(g + 1, 5_000))]
    minted = [EPOCH_EMISSION * s // 10_000 for s in share]
    assert rows == [
        {
            "epoch": epoch,
            "utilizationBps": utilization,
            "stakersBps": bps,
            "stakersMinted": str(stakers),
            "companyMinted": str(EPOCH_EMISSION - stakers),
            "fallbackUsed": False,
            "totalStaked": str(1_000 * E18),  # alice, bob and carol
            "aprMicroPercent": stakers * 365 * 100 * 10**6 // (1_000 * E18),
            "capacity": str(CAPACITY),
            "totalActiveStake": str(active * E18),
            "activeCount": count,
        }
        for epoch, utilization, bps, stakers, active, count in (
            (g, 1_000, share[0], minted[0], 100, 1),
            (g + 1, 5_000, share[1], minted[1], 400, 2),
        )
    ]
    assert served.get("/api/history").json()["epochs"] == rows  # cached, same answer


def test_history_follows_the_chain_back(served, system, oracle, g):
    """A distribution the history has read, then undone (a reorg; here the chain reverted to a
    snapshot, as the suite's isolation does between tests) and replaced by other blocks at the
    same numbers, is gone from the answer."""
    rows = served.get("/api/history").json()["epochs"]
    snapshot = chain.snapshot()
    mine_at((g + 5) * DAY + 60)  # g+2 has no report: the utilization-0 fallback, two epochs after it
    system.emissions.distribute(g + 2, sender=oracle)
    assert [r["epoch"] for r in served.get("/api/history").json()["epochs"]] == [g, g + 1, g + 2]
    chain.restore(snapshot)
    mine_at((g + 5) * DAY + 120)
    chain.mine(3)  # other blocks where the distribution's were
    assert served.get("/api/history").json()["epochs"] == rows


BAD_REQUESTS = [
    ("/api/proof/0x1234", 400, "not an account address: '0x1234'"),
    ("/api/proof/{alice}?epoch=abc", 400, "not an epoch: 'abc'"),
    ("/api/proof/{alice}?epoch=-1", 400, "not an epoch: '-1'"),
    ("/api/proof/{alice}?epoch=0", 400, "epoch 0 has no report before it"),
    ("/api/proof/{carol}", 404, "is not in the active set of the report of epoch {g1}"),
    ("/api/proof/{alice}?epoch=5", 404, "no proofs file for the report of epoch 4"),
    ("/api/spend/alice", 400, "not an account address: 'alice'"),
    ("/api/nothing", 404, "no such API route: /api/nothing"),
    ("/no-such-page.js", 404, "not found: /no-such-page.js"),
]


def test_bad_requests_get_one_line_of_json(served, alice, carol, g):
    """Every case against one board (each board posts and distributes two reports: one per case
    made this the module's slowest test)."""
    for path, status, says in BAD_REQUESTS:
        response = served.get(path.format(alice=alice.address, carol=carol.address))
        assert response.status_code == status, path
        message = response.json()["error"]
        assert says.format(g1=g + 1) in message and "\n" not in message, (path, message)


def test_a_post_is_refused_as_json(served):
    response = served.post("/api/config")
    assert response.status_code == 405 and response.json() == {"error": "Method Not Allowed"}


def test_a_vanished_usage_store_or_reports_folder_is_no_500(served, world, alice, tmp_path):
    world["store"].engine.dispose()
    (tmp_path / "usage.db").unlink()  # the world's store
    response = served.get(f"/api/spend/{alice.address}")
    assert response.status_code in (404, 503) and "usage" in response.json()["error"]
    shutil.rmtree(world["reports"])
    response = served.get(f"/api/proof/{alice.address}")
    assert response.status_code == 404 and "no proofs file" in response.json()["error"]


def test_the_page_itself_and_a_missing_build(served, tmp_path):
    assert served.get("/").text == "<!doctype html><title>VVV staking</title>"
    with pytest.raises(WebDirMissing, match="no built page in .* run `npm run build`"):
        make_app(None, tmp_path / "empty")  # type: ignore[arg-type]


def test_the_keys_panels_requests_go_to_the_gateway(system, world, tmp_path):
    from starlette.applications import Starlette

    from tests.cli_runner import free_port
    from tests.gateway.keys_support import Served
    from vvv.gateway.keys import KeyStore, key_routes
    from vvv.staker.keys import domain_of

    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html>")
    keys = KeyStore(world["store"].engine, domain_of(system))

    def client(gateway_url):
        board = Dashboard(system, load_prices(), "http://127.0.0.1:1", True, "ethereum:local:test",
                          world["reports"], None, gateway_url)  # fmt: skip
        return TestClient(make_app(board, web), raise_server_exceptions=False)

    with Served(Starlette(routes=key_routes(keys))) as url:
        served = client(url)
        assert served.get("/api/config").json()["gateway"] is True
        assert served.get("/api/keys/domain").json() == {
            "name": "VVV API Keys", "version": "1", "chainId": chain.chain_id,
            "verifyingContract": system.staking.address,
        }  # fmt: skip
        bad = served.post("/api/keys/list", content=b"{}")
        assert bad.status_code == 400 and "message" in bad.json()["error"]  # the gateway's own answer
        assert served.get("/api/keys/create").status_code == 404  # creating is a POST
        assert served.post("/api/keys/steal").status_code == 404
    gone = client(f"http://127.0.0.1:{free_port()}").get("/api/keys/domain")
    assert gone.status_code == 503 and "cannot be reached" in gone.json()["error"]
    none = client(None)
    assert none.get("/api/config").json()["gateway"] is False
    assert none.get("/api/keys/domain").status_code == 404


def test_metrics_count_requests_by_route_template_and_status_over_http(board, alice):
    """/metrics over real HTTP (the server as `ape run dashboard` serves it): each request adds
    one to its route template's count, with its status, and one latency observation."""

    def samples(url: str) -> dict[tuple[str, tuple], float]:
        answer = httpx.get(url + "/metrics", timeout=30)
        assert answer.status_code == 200
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for f in text_string_to_metric_families(answer.text) for s in f.samples}  # fmt: skip

    def count(got: dict, route: str, status: int) -> float:
        return got.get(
            ("vvv_dashboard_requests_total", (("method", "GET"), ("route", route), ("status", str(status)))), 0
        )

    with Served(metered_app(*board)) as url:
        before = samples(url)
        assert httpx.get(f"{url}/api/proof/{alice.address}", timeout=30).status_code == 200
        assert httpx.get(f"{url}/api/proof/{alice.address}", timeout=30).status_code == 200
        assert httpx.get(f"{url}/api/proof/0xnot-an-address", timeout=30).status_code == 400
        assert httpx.get(f"{url}/api/prices", timeout=30).status_code == 200
        assert httpx.get(f"{url}/api/nothing-here", timeout=30).status_code == 404
        assert httpx.get(f"{url}/", timeout=30).status_code == 200
        after = samples(url)
    expected = {("/api/proof/{account}", 200): 2, ("/api/proof/{account}", 400): 1, ("/api/prices", 200): 1,
                ("/api/{rest:path}", 404): 1, ("/{path}", 200): 1}  # fmt: skip
    for (route, status), n in expected.items():
        assert count(after, route, status) - count(before, route, status) == n, (route, status)
    latency = ("vvv_dashboard_request_latency_seconds_count", (("route", "/api/proof/{account}"),))
    assert after[latency] - before.get(latency, 0) == 3
    assert not any(alice.address.lower() in str(labels).lower() for _, labels in after)
