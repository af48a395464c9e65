"""What a client reads in every response of the gateway (over loopback, on SQLite and Postgres):
an `X-Request-Id` on every response, errors and the keys' routes included; the VCU left today
for the account and for the key and when they reset; a stream's charge in its final usage
chunk, as the official `openai` client exposes it; and `GET /v1/api_keys/rate_limits`.

By hand (tests/gateway/gateway_support.py): ALICE's allotment is 100,000 VCU; a chat of HI with
max_tokens 7 reserves 22 + 2 x 7 = 36 VCU and is charged 11 + 2 x 7 = 25 VCU. NOW is
2030-03-17 17:46:40 UTC (epoch 21,990): the day resets at 1,900,022,400 (2030-03-18 00:00 UTC),
the month at epoch 21,990 + 15 = 22,005, 22,005 x 86,400 = 1,901,232,000 (2030-04-01 00:00 UTC)."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from openai import OpenAI

from tests.gateway.gateway_support import DAY, E18, NOW, RESETS, SECRET, add_key, served_world
from tests.gateway.keys_support import ALICE, BOB
from vvv.gateway.keys import metadata as key_tables

HI = [{"role": "user", "content": "hi"}]
BODY = {"model": "small-chat", "messages": HI, "max_tokens": 7}
MONTH_END = 1_901_232_000
REQUEST_ID = re.compile(r"gw-[0-9a-f]{32}")


@pytest.fixture
def capped(usage_url, tmp_path):
    """ALICE's key with a daily cap of 50 VCU; her allotment 100,000 VCU."""
    yield from served_world(usage_url, tmp_path, cap=50 * E18)


def chat(world, body, secret=SECRET):
    return httpx.post(world.url + "/v1/chat/completions", json=body, headers=world.headers(secret), timeout=30)


def left(response) -> tuple[str, str, str]:
    h = response.headers
    return h["x-vvv-vcu-remaining-account"], h["x-vvv-vcu-remaining-key"], h["x-vvv-vcu-reset"]


def test_every_response_has_a_request_id(capped):
    url, ids = capped.url, set()

    def seen(response, status):
        assert response.status_code == status, response.text
        rid = response.headers["x-request-id"]
        assert REQUEST_ID.fullmatch(rid) and rid not in ids
        ids.add(rid)

    seen(chat(capped, BODY), 200)
    seen(chat(capped, BODY), 402)  # 25 of the cap's 50 are left, the worst case is 36
    seen(httpx.post(url + "/v1/chat/completions", content=b"{", headers=capped.headers()), 400)
    seen(httpx.post(url + "/v1/chat/completions", json=BODY), 401)
    seen(chat(capped, BODY | {"model": "no-such-model"}), 404)
    seen(httpx.get(url + "/v1/no/such/route"), 404)
    seen(httpx.get(url + "/v1/chat/completions"), 405)
    seen(httpx.post(url + "/v1/chat/completions", content=b" " * 1_048_577, headers=capped.headers()), 413)
    seen(httpx.get(url + "/v1/keys/domain"), 200)
    seen(httpx.post(url + "/v1/keys", content=b"[]"), 400)
    seen(httpx.get(url + "/v1/api_keys/rate_limits"), 401)
    seen(httpx.get(url + "/v1/api_keys/rate_limits", headers=capped.headers()), 200)
    key_tables.drop_all(capped.store.engine)  # the key store fails under the running gateway
    seen(chat(capped, BODY), 503)


def test_what_is_left_today_in_the_headers(capped):
    served = chat(capped, BODY)
    assert served.headers["x-vvv-charged-vcu"] == "25"
    # the account: 100,000 - 25; the key: its cap 50 - 25; the next 00:00 UTC of the chain's day
    assert left(served) == ("99975", "25", str(RESETS))
    assert "x-ratelimit-limit-requests" not in served.headers  # the key has no rate
    refused = chat(capped, BODY)
    assert refused.status_code == 402 and left(refused) == ("99975", "25", str(RESETS))
    add_key(capped.keys, "vvv_uncapped", nonce=2)  # another key of ALICE's, no cap: the account's left is its own
    assert left(chat(capped, BODY, "vvv_uncapped")) == ("99950", "99950", str(RESETS))
    capped.clock.now = NOW + DAY  # the next day: 1,900,022,400 + 86,400
    assert left(chat(capped, BODY)) == ("99975", "25", str(RESETS + DAY))


def test_an_account_without_allotment_reads_zero_left(capped):
    add_key(capped.keys, "vvv_bob", who=BOB, nonce=3)
    refused = chat(capped, BODY, "vvv_bob")
    assert refused.status_code == 402 and left(refused) == ("0", "0", str(RESETS))


def test_a_streams_charge_is_in_its_last_usage_chunk(capped):
    with httpx.stream("POST", capped.url + "/v1/chat/completions", json=BODY | {"stream": True},
                      headers=capped.headers(), timeout=30) as response:  # fmt: skip
        # sent before the work: the stream's worst case (36) counts as spent: 100,000 - 36, 50 - 36
        assert left(response) == ("99964", "14", str(RESETS))
        text = response.read().decode()
    events = [e.removeprefix("data: ") for e in text.split("\n\n") if e.strip()]
    assert events[-1] == "[DONE]"
    deltas = [json.loads(e)["choices"][0]["delta"]["content"] for e in events[:-2]]
    assert deltas == ["hello", " there", "!"]
    usage = json.loads(events[-2])["usage"]
    assert usage == {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18, "vcu_cost": "25",
                     "vcu_cost_wei": str(25 * E18)}  # fmt: skip
    # what the stream was charged is what the next request sees spent: 50 - 25 left of the cap
    assert httpx.get(capped.url + "/v1/api_keys/rate_limits", headers=capped.headers()).json()["spend"]["today"] == "25"


def test_a_stream_without_usage_ends_with_the_charged_usage(capped):
    """The upstream streams no usage: the gateway charges the input's bound (22 tokens) and the
    bytes relayed as output tokens (12, "hello there!", at most max_tokens 7): 22 + 2 x 7 = 36
    VCU, and its last chunk before [DONE] says so."""
    body = BODY | {"stream": True, "user": "no-usage"}
    response = httpx.post(capped.url + "/v1/chat/completions", json=body, headers=capped.headers(), timeout=30)
    events = [e.removeprefix("data: ") for e in response.text.split("\n\n") if e.strip()]
    assert events[-1] == "[DONE]" and len(events) == 5
    last = json.loads(events[-2])
    assert (last["id"], last["model"], last["choices"]) == ("chatcmpl-1", "small-chat", [])
    assert last["usage"] == {"prompt_tokens": 22, "completion_tokens": 7, "total_tokens": 29, "vcu_cost": "36",
                             "vcu_cost_wei": str(36 * E18)}  # fmt: skip


def test_the_openai_client_reads_the_charge(capped):
    """The official client keeps the usage's extra fields (its models allow them)."""
    client = OpenAI(base_url=capped.url + "/v1", api_key=SECRET)
    chunks = list(client.chat.completions.create(model="small-chat", messages=HI, max_tokens=7, stream=True))
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    assert (chunks[-1].usage.vcu_cost, chunks[-1].usage.vcu_cost_wei) == ("25", str(25 * E18))
    assert chunks[-1].usage.model_extra == {"vcu_cost": "25", "vcu_cost_wei": str(25 * E18)}
    capped.clock.now = NOW + DAY  # the cap's 50 again
    plain = client.chat.completions.create(model="small-chat", messages=HI, max_tokens=5)  # 11 + 2 x 5 = 21
    assert (plain.usage.completion_tokens, plain.usage.vcu_cost) == (5, "21")


def test_the_rate_limits_route(capped):
    def limits():
        response = httpx.get(capped.url + "/v1/api_keys/rate_limits", headers=capped.headers())
        assert response.status_code == 200
        return response.json()

    before = limits()
    assert before == {
        "account": ALICE.address.lower(), "key_hash": capped.keys.authenticate(SECRET, NOW).key_hash, "label": "agent",
        "now": NOW, "epoch": 21_990,
        "limits": {"daily_cap": "50", "monthly_cap": None, "lifetime_cap": None, "requests_per_minute": None,
                   "models": None, "expiry": None},
        "spend": {"today": "0", "month": "0", "lifetime": "0", "reserved_today": "0"},
        "allotment": "100000",
        "remaining": {"account": "100000", "key": "50", "requests": None},
        "resets": {"day": RESETS, "month": MONTH_END, "requests": None},
    }  # fmt: skip
    assert chat(capped, BODY).status_code == 200
    capped.clock.now = NOW + DAY
    assert chat(capped, BODY).status_code == 200
    # worst 22 + 2 x 1 = 24 of the 25 left; charged 11 + 2 = 13: 38 of 50 today
    assert chat(capped, BODY | {"max_tokens": 1}).status_code == 200
    day2 = limits()
    assert day2["spend"] == {"today": "38", "month": "63", "lifetime": "63", "reserved_today": "0"}
    assert day2["remaining"] == {"account": "99962", "key": "12", "requests": None}
    assert (day2["epoch"], day2["resets"]["day"]) == (21_991, RESETS + DAY)
    capped.clock.now = MONTH_END + 10  # April: the month's spend starts again, the life's goes on
    april = limits()
    assert april["spend"] == {"today": "0", "month": "0", "lifetime": "63", "reserved_today": "0"}
    # 2030-05-01 00:00 UTC: April's 30 days after 2030-04-01
    assert april["resets"]["month"] == MONTH_END + 30 * DAY
