"""A key's own limits, each a field of its signed CreateKey, enforced by the gateway over loopback
on SQLite and Postgres: caps per UTC month and for the key's life, a model allow-list and
requests per minute; concurrent requests never pass them; a refusal by them is not activity.

By hand (tests/gateway/gateway_support.py): ALICE's allotment is 100,000 VCU a day; a chat of HI
with max_tokens 7 reserves 22 + 2 x 7 = 36 VCU and is charged 11 + 2 x 7 = 25 VCU. NOW is
2030-03-17 17:46:40 UTC; April 2030 starts at 1,901,232,000 (epoch 22,005); NOW's minute ends at
31,666,667 x 60 = 1,900,000,020."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import BigInteger, Column, MetaData, String, Table, create_engine

from tests.gateway.gateway_support import DAY, E18, NOW, RESETS, SECRET, add_key, in_process_pass_only, served_world
from tests.gateway.keys_support import ALICE, DOMAIN
from vvv.chain.apikeys import ApiKey, CreateKey, key_hash, sign
from vvv.gateway.keys import KeyStore

A = ALICE.address.lower()
HI = [{"role": "user", "content": "hi"}]
BODY = {"model": "small-chat", "messages": HI, "max_tokens": 7}
APRIL = 1_901_232_000
MINUTE_END = 1_900_000_020
REQUEST_ID = re.compile(r"gw-[0-9a-f]{32}")


@pytest.fixture
def world(usage_url, tmp_path):
    # up to 24 requests at once queue for one account's lock: 30 s, not the gateway's 2 s, so a
    # loaded machine's queue is not refused (fail closed is test_fail_closed.py's)
    yield from served_world(usage_url, tmp_path, lock_seconds=30)


def limited_key(world, secret, nonce, monthly=0, lifetime=0, rate=0, models="", daily=0):
    request = CreateKey(A, "limited", daily, 0, nonce, key_hash(secret), NOW + 600, monthly, lifetime, rate, models)
    return world.keys.create(sign(ALICE, request, DOMAIN), world.clock.now)


def chat(world, secret, body=BODY):
    return httpx.post(world.url + "/v1/chat/completions", json=body, headers=world.headers(secret), timeout=30)


def refusal(response, status):
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    assert "\n" not in message
    return message


def test_the_limits_are_signed_and_stored(world):
    key = limited_key(world, "vvv_all", 2, monthly=90 * E18, lifetime=1_000 * E18, rate=30, models="small-chat,painter")
    assert key == ApiKey(A, key_hash("vvv_all"), "limited", 0, 0, NOW, None, 90 * E18, 1_000 * E18, 30,
                         ("small-chat", "painter"))  # fmt: skip
    assert world.keys.authenticate("vvv_all", NOW) == key
    limits = httpx.get(world.url + "/v1/api_keys/rate_limits", headers=world.headers("vvv_all")).json()
    assert limits["limits"] == {
        "daily_cap": None,
        "monthly_cap": "90",
        "lifetime_cap": "1000",
        "requests_per_minute": 30,
        "models": ["small-chat", "painter"],
        "expiry": None,
    }
    assert limits["remaining"] == {"account": "100000", "key": "90", "requests": 30}
    assert limits["resets"] == {"day": RESETS, "month": APRIL, "requests": MINUTE_END}


def test_a_monthly_cap(world):
    limited_key(world, "vvv_month", 2, monthly=60 * E18)
    assert chat(world, "vvv_month").status_code == 200
    forwarded = len(world.upstream.requests)
    refused = chat(world, "vvv_month")  # 60 - 25 = 35 left, the worst case is 36
    assert refusal(refused, 402) == ("this request may cost up to 36 VCU but 35 VCU are left of this key's monthly "
                                     "cap (2030-03); it resets at 2030-04-01 00:00 UTC")  # fmt: skip
    assert refused.json()["error"]["resetsAt"] == APRIL
    assert (refused.headers["x-vvv-vcu-remaining-account"], refused.headers["x-vvv-vcu-remaining-key"]) == (
        "99975", "35")  # fmt: skip
    world.clock.now = NOW + DAY  # another day of the same month: still refused
    assert refusal(chat(world, "vvv_month"), 402).startswith("this request may cost up to 36 VCU but 35 VCU")
    assert len(world.upstream.requests) == forwarded
    world.clock.now = APRIL + 60
    served = chat(world, "vvv_month")
    assert served.status_code == 200 and served.headers["x-vvv-vcu-remaining-key"] == "35"


def test_a_lifetime_cap_never_resets(world):
    limited_key(world, "vvv_life", 2, lifetime=60 * E18)
    assert chat(world, "vvv_life").status_code == 200
    world.clock.now = APRIL + 60
    refused = chat(world, "vvv_life")
    assert refusal(refused, 402) == ("this request may cost up to 36 VCU but 35 VCU are left of this key's lifetime "
                                     "cap (the key's whole life); it never resets")  # fmt: skip
    assert (refused.json()["error"]["resetsAt"], refused.json()["error"]["resetsAtUtc"]) == (0, "never")


def test_a_refusal_by_the_keys_limits_is_not_activity(world):
    """ALICE has a stake (an allotment) and no call today: a key refusal writes no activity row."""
    limited_key(world, "vvv_tiny", 2, lifetime=10 * E18)
    limited_key(world, "vvv_painter", 3, models="painter")
    refusal(chat(world, "vvv_tiny"), 402)
    scoped = chat(world, "vvv_painter")
    assert refusal(scoped, 403) == "this key may call only painter, not small-chat"
    assert REQUEST_ID.fullmatch(scoped.headers["x-request-id"])
    assert world.upstream.requests == [] and world.store.count() == 0
    painted = httpx.post(world.url + "/v1/images/generations", headers=world.headers("vvv_painter"),
                         json={"model": "painter", "prompt": "a cat"})  # fmt: skip
    assert painted.status_code == 200 and painted.headers["x-vvv-charged-vcu"] == "5"


def test_the_model_list_shows_a_scoped_key_only_its_models(world):
    """GET /v1/models lists what the key may call: the price table has small-chat and painter."""
    limited_key(world, "vvv_painter", 2, models="painter")

    def listed(secret):
        answer = httpx.get(world.url + "/v1/models", headers=world.headers(secret))
        assert answer.status_code == 200
        return [m["id"] for m in answer.json()["data"]]

    assert listed("vvv_painter") == ["painter"]
    assert listed(SECRET) == ["painter", "small-chat"]  # a key with no allow-list sees all
    assert world.upstream.requests == [] and world.store.count() == 0  # a listing is not activity


def test_requests_per_minute(world):
    limited_key(world, "vvv_rated", 2, rate=5)
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: chat(world, "vvv_rated"), range(12)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 5 + [429] * 7 and len(world.upstream.requests) == 5
    refused = next(a for a in answers if a.status_code == 429)
    assert refusal(refused, 429) == ("this key's limit of 5 requests a minute is reached; the next minute starts "
                                     "at 17:47:00 UTC")  # fmt: skip
    h = refused.headers
    assert REQUEST_ID.fullmatch(h["x-request-id"])
    assert (h["x-ratelimit-limit-requests"], h["x-ratelimit-remaining-requests"], h["x-ratelimit-reset-requests"],
            h["retry-after"]) == ("5", "0", str(MINUTE_END), "20")  # fmt: skip
    assert sorted(a.headers["x-ratelimit-remaining-requests"] for a in answers if a.status_code == 200) == list("01234")
    world.clock.now = MINUTE_END
    served = chat(world, "vvv_rated")
    assert served.status_code == 200 and served.headers["x-ratelimit-remaining-requests"] == "4"
    assert served.headers["x-ratelimit-reset-requests"] == str(MINUTE_END + 60)
    assert served.headers["x-vvv-vcu-reset"] == str(RESETS)


@pytest.mark.parametrize("cap", ["monthly", "lifetime"])
def test_concurrent_requests_never_pass_a_cap(world, cap):
    """24 requests at once against a cap of 250 VCU: each reserves 36 and is charged 25."""
    limited_key(world, "vvv_busy", 2, **{"monthly" if cap == "monthly" else "lifetime": 250 * E18})
    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda _: chat(world, "vvv_busy"), range(24)))
    served = [a for a in answers if a.status_code == 200]
    assert {a.status_code for a in answers} <= {200, 402} and len(served) == len(world.upstream.requests)
    assert 25 * len(served) <= 250 and len(served) >= 6  # 6 x 36 = 216 fit at once, whatever the order
    limits = httpx.get(world.url + "/v1/api_keys/rate_limits", headers=world.headers("vvv_busy")).json()
    assert limits["spend"]["month"] == limits["spend"]["lifetime"] == str(25 * len(served))
    assert limits["remaining"]["key"] == str(250 - 25 * len(served))
    assert world.store.consumed(NOW // DAY * DAY, NOW // DAY * DAY + DAY - 1, A) == 25 * len(served) * E18


def test_an_older_key_table_gains_the_limits_columns(usage_url):
    """A store whose `api_keys` has the first version's columns: opened, it gains the later
    limits' columns, and its keys work with no such limits."""
    in_process_pass_only()
    engine = create_engine(usage_url)
    old = Table(
        "api_keys",
        MetaData(),
        Column("key_hash", String(66), primary_key=True),
        Column("account", String(42), nullable=False),
        Column("label", String(64), nullable=False),
        Column("daily_cap_wei", String(80), nullable=False),
        Column("expiry", BigInteger, nullable=False),
        Column("created", BigInteger, nullable=False),
        Column("revoked", BigInteger, nullable=True),
    )
    old.create(engine)
    with engine.begin() as conn:
        conn.execute(old.insert().values(key_hash=key_hash("vvv_old"), account=A, label="old", daily_cap_wei="7",
                                         expiry=0, created=NOW, revoked=None))  # fmt: skip
    store = KeyStore(engine, DOMAIN)
    assert store.authenticate("vvv_old", NOW) == ApiKey(A, key_hash("vvv_old"), "old", 7, 0, NOW, None)
    KeyStore(engine, DOMAIN)  # opened again: nothing left to add
    add_key(store, "vvv_new", nonce=4)
    assert store.authenticate("vvv_new", NOW).models == ()
    engine.dispose()
