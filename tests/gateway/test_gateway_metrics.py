"""The gateway's /metrics (Prometheus text format) scraped over real HTTP, on SQLite and Postgres:
each number moves by exactly what the requests made do.

Prices (tests.gateway.gateway_support): 1 VCU per input token, 2 per output token. The chat
below, one user message "hi" with max_tokens 7, has the input bound 8 (prompt) + 8 (message)
+ 4 ("user") + 2 ("hi") = 22 tokens: it reserves 22 + 2 x 7 = 36 VCU; the stand-in upstream tells
11 input and 7 output tokens: it is charged 11 + 14 = 25 VCU. A stream the client leaves once the
upstream sent "hello" (5 bytes, no usage told) is charged 22 + 2 x 5 = 32 VCU."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from tests.gateway.gateway_support import (
    E18,
    EPOCH,
    NOW,
    ORACLE,
    PRICES,
    SECRET,
    SIGNER,
    add_key,
    in_process_pass_only,
    store_lock_held,
)
from tests.gateway.keys_support import ALICE, BOB, DOMAIN, Clock, Served
from tests.gateway.upstream_stub import Upstream
from vvv.gateway.app import STORE_LOCK_SECONDS, Gateway
from vvv.gateway.keys import StoreUnavailable
from vvv.gateway.metrics import GatewayMetrics, MeteredKeyStore, MeteredLedger, metered_app
from vvv.oracle.pricing import load_prices
from vvv.oracle.receipts import ReceiptSigner
from vvv.oracle.usage import UsageStore

CAROL = Account.from_key("0x" + "00" * 31 + "04")  # staked, but not API-active: no allotment today
BODY = {"model": "small-chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 7}
CHAT = "/v1/chat/completions"


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the gateway's /metrics: (name, sorted labels) -> value."""
    answer = httpx.get(url + "/metrics", timeout=30)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def requests(samples: dict, route: str, status: int, method: str = "POST") -> float:
    return value(samples, "vvv_gateway_requests_total", route=route, method=method, status=str(status))


@contextlib.contextmanager
def metered_gateway(usage_url: str, tmp_path: Path) -> Iterator[tuple[str, Gateway]]:
    """ALICE (allotment 100 VCU, key SECRET and a key capped at 10 VCU), BOB (no stake), CAROL
    (a stake, no allotment), each with a key; the gateway served with its metrics."""
    store = UsageStore(usage_url, create=True, lock_timeout=STORE_LOCK_SECONDS)
    metrics = GatewayMetrics()
    keys = MeteredKeyStore(store.engine, DOMAIN, metrics)
    add_key(keys, SECRET)
    add_key(keys, "vvv_alice-capped", cap=10 * E18, nonce=2)
    add_key(keys, "vvv_bob", who=BOB)
    add_key(keys, "vvv_carol", who=CAROL)
    prices = tmp_path / "prices.csv"
    prices.write_text(PRICES)
    allotments = {ALICE.address.lower(): 100 * E18}
    upstream = Upstream()
    ledger = MeteredLedger(store, ReceiptSigner(SIGNER, DOMAIN.chain_id, ORACLE), metrics)
    with Served(upstream.app) as upstream_url:
        gateway = Gateway(ledger, keys, load_prices(prices), lambda a, _e: allotments.get(a, 0), upstream_url,
                          clock=Clock(NOW), key_cache_seconds=0, sweep_seconds=0,
                          stake_of=lambda a: E18 if a == CAROL.address.lower() else 0)  # fmt: skip
        with Served(metered_app(gateway, metrics)) as url:
            yield url, gateway


def post(url: str, secret: str = SECRET, **extra: object) -> httpx.Response:
    return httpx.post(url + CHAT, json=BODY | extra, headers={"authorization": f"Bearer {secret}"}, timeout=30)


def test_the_gateway_metrics_move_by_what_each_request_does(usage_url, tmp_path):
    in_process_pass_only()
    with metered_gateway(usage_url, tmp_path) as (url, gateway):
        before = scrape(url)
        for reason in ("no_stake", "not_active", "allotment", "key_limit"):
            assert value(before, "vvv_gateway_refused_total", reason=reason) == 0  # there from the start
        assert value(before, "vvv_gateway_reservations_in_flight") == 0

        # one served chat: reserved 36, charged 25, its upstream and added latency observed once
        assert post(url).status_code == 200
        after = scrape(url)
        assert requests(after, CHAT, 200) - requests(before, CHAT, 200) == 1
        assert value(after, "vvv_gateway_vcu_reserved_total") - value(before, "vvv_gateway_vcu_reserved_total") == 36
        charged = value(after, "vvv_gateway_vcu_charged_total", model="small-chat")
        assert charged - value(before, "vvv_gateway_vcu_charged_total", model="small-chat") == 25
        for histogram in ("vvv_gateway_upstream_latency_seconds", "vvv_gateway_added_latency_seconds"):
            assert value(after, histogram + "_count", route=CHAT) - value(before, histogram + "_count", route=CHAT) == 1
        assert value(after, "vvv_gateway_request_latency_seconds_count", route=CHAT) == 1
        assert value(after, "vvv_gateway_reservations_in_flight") == 0

        # each reason of a 402, once: nothing reserved, charged or forwarded for them
        assert post(url, "vvv_bob").status_code == 402  # no stake
        assert post(url, "vvv_carol").status_code == 402  # a stake, no allotment: now API-active
        assert post(url, "vvv_alice-capped").status_code == 402  # 36 > the key's cap of 10
        assert post(url, max_tokens=40).status_code == 402  # 22 + 2 x 40 = 102 > 100 - 25 left
        refused = scrape(url)
        for reason in ("no_stake", "not_active", "allotment", "key_limit"):
            assert value(refused, "vvv_gateway_refused_total", reason=reason) == 1, reason
        assert requests(refused, CHAT, 402) == 4
        assert value(refused, "vvv_gateway_vcu_reserved_total") == 36
        assert value(refused, "vvv_gateway_upstream_latency_seconds_count", route=CHAT) == 1
        assert value(refused, "vvv_gateway_request_latency_seconds_count", route=CHAT) == 5

        # a stream held open holds its reservation; the client leaves after "hello" was sent: charged 32
        with httpx.Client(timeout=30) as client:
            request = BODY | {"stream": True, "user": "hang"}
            with client.stream("POST", url + CHAT, json=request, headers={"authorization": f"Bearer {SECRET}"}) as r:
                assert r.status_code == 200
                assert value(scrape(url), "vvv_gateway_reservations_in_flight") == 1
                time.sleep(0.3)  # the gateway has read "hello" (sent at once; kept until the next piece)
        deadline = time.monotonic() + 20
        while value(scrape(url), "vvv_gateway_reservations_in_flight") != 0:
            assert time.monotonic() < deadline, "the stream's reservation is still held"
            time.sleep(0.05)
        streamed = scrape(url)
        assert value(streamed, "vvv_gateway_vcu_reserved_total") == 72
        assert value(streamed, "vvv_gateway_vcu_charged_total", model="small-chat") == 25 + 32
        assert value(streamed, "vvv_gateway_upstream_latency_seconds_count", route=CHAT) == 2

        # a reservation whose request never settles is charged in full at its expiry
        gateway.ledger.reserve("gw-lost", ALICE.address, "k", 0, 100 * E18, 36 * E18, NOW, "small-chat", 60)
        assert value(scrape(url), "vvv_gateway_reservations_in_flight") == 1
        assert gateway.ledger.expire(NOW + 60) == 1
        expired = scrape(url)
        assert value(expired, "vvv_gateway_reservations_expired_total") == 1
        assert value(expired, "vvv_gateway_vcu_charged_total", model="small-chat") == 25 + 32 + 36
        assert value(expired, "vvv_gateway_reservations_in_flight") == 0
        assert value(expired, "vvv_gateway_store_errors_total", operation="reserve") == 0

        # the store's lock not taken within 2 s: a 503 and one store error of `reserve`
        with store_lock_held(usage_url, ALICE.address.lower(), EPOCH):
            assert post(url).status_code == 503
        failed = scrape(url)
        assert value(failed, "vvv_gateway_store_errors_total", operation="reserve") == 1
        assert requests(failed, CHAT, 503) == 1
        assert value(failed, "vvv_gateway_vcu_reserved_total") == 72 + 36

        # other routes by their template; an unknown path as `unmatched`, never itself
        auth = {"authorization": f"Bearer {SECRET}"}
        assert httpx.get(url + "/v1/models", headers=auth, timeout=30).status_code == 200
        assert httpx.get(url + "/v1/no/such/path-0x1234", timeout=30).status_code == 404
        routes = scrape(url)
        assert requests(routes, "/v1/models", 200, "GET") == 1
        assert requests(routes, "unmatched", 404, "GET") == 1
        assert not any("0x1234" in str(labels) for _, labels in routes)

        # the key store unreachable: a 503 and one store error of `authenticate`, nothing reserved
        gateway.keys.engine = create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'usage.db'}")
        assert post(url).status_code == 503
        unreachable = scrape(url)
        assert value(unreachable, "vvv_gateway_store_errors_total", operation="authenticate") == 1
        assert requests(unreachable, CHAT, 503) == 2
        assert value(unreachable, "vvv_gateway_vcu_reserved_total") == 72 + 36

        # and so is the background read of the keys in use: one store error of `reread_keys`
        with pytest.raises(StoreUnavailable):
            gateway.keys.still_valid([SECRET], NOW)
        assert value(scrape(url), "vvv_gateway_store_errors_total", operation="reread_keys") == 1
