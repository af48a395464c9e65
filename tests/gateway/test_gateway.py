"""The gateway over real HTTP on loopback, against the stand-in upstream, on SQLite and Postgres.
Costs by hand: 1 VCU per input token, 2 per output token, 5 per image; the upstream reports 11
prompt tokens per message and min(max_tokens, 7) completion tokens. The worst case reserved for
a chat: 8 + (8 + UTF-8 bytes of the role and the content) per message input tokens, plus
max_tokens (or 4,096) output."""

from __future__ import annotations

import json

import httpx
import pytest
from openai import OpenAI

from tests.gateway.gateway_support import (
    DAY,
    E18,
    EPOCH,
    ORACLE,
    RESETS,
    SECRET,
    SIGNER,
    add_key,
    in_process_pass_only,
    running_gateway,
    served_world,
)
from tests.gateway.keys_support import ALICE, BOB, DOMAIN, NOW
from vvv.oracle.receipts import Receipt, check

A = ALICE.address.lower()
HI = [{"role": "user", "content": "hi"}]  # worst-case input: 8 + 8 + 4 ("user") + 2 ("hi") = 22 tokens


@pytest.fixture
def world(usage_url, tmp_path):
    """ALICE's key, no cap of its own; ALICE's allotment today: 100,000 VCU."""
    yield from served_world(usage_url, tmp_path)


@pytest.fixture
def small(usage_url, tmp_path):
    """The same with an allotment of 1,000 VCU."""
    yield from served_world(usage_url, tmp_path, allotment=1_000 * E18)


def chat(world, body, secret=SECRET):
    return httpx.post(world.url + "/v1/chat/completions", json=body, headers=world.headers(secret), timeout=30)


def rows(world):
    return world.store.consumed(EPOCH * DAY, EPOCH * DAY + DAY - 1, A)


def test_models_are_the_price_table(world):
    response = httpx.get(world.url + "/v1/models", headers=world.headers())
    assert response.status_code == 200
    assert [(m["id"], m["kind"], m["vcu_per_1m_input"], m["vcu_per_image"]) for m in response.json()["data"]] == [
        ("painter", "image", "0", "5"),
        ("small-chat", "chat", "1000000", "0"),
    ]
    assert httpx.get(world.url + "/v1/models").status_code == 401  # no key


def test_a_chat_is_charged_its_usage_with_the_first_receipt(world):
    response = chat(world, {"model": "small-chat", "messages": HI * 2, "max_tokens": 50})
    assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"] == "hello there"
    assert response.headers["x-vvv-charged-vcu"] == "36"  # 22 input + 2 x 7 output
    assert rows(world) == 36 * E18
    request_id = response.headers["x-request-id"]
    stored = world.store.view.stored([f"req:{request_id}"])[f"req:{request_id}"]
    assert (stored["input_tokens"], stored["output_tokens"], stored["vcu_cost_wei"]) == (22, 7, str(36 * E18))
    receipt = json.loads(response.headers["x-vvv-activity-receipt"])
    assert (receipt["account"], receipt["epoch"], receipt["signer"]) == (A, EPOCH, SIGNER.address.lower())
    check(Receipt(A, EPOCH, receipt["signer"], bytes.fromhex(receipt["signature"][2:])), DOMAIN.chain_id, ORACLE)
    assert [r.account for r in world.store.receipts(EPOCH, EPOCH)] == [A]
    # the forwarded body asks for max_tokens as given
    assert world.upstream.requests[-1]["max_tokens"] == 50
    second = chat(world, {"model": "small-chat", "messages": HI})
    assert second.headers["x-vvv-charged-vcu"] == "25" and "x-vvv-activity-receipt" not in second.headers
    assert world.upstream.requests[-1]["max_tokens"] == 4_096  # none asked: the limit, which was reserved
    assert rows(world) == 61 * E18 and held_rows(world) == 0


def test_the_openai_client_streams_through_the_gateway(world):
    client = OpenAI(base_url=world.url + "/v1", api_key=SECRET)
    raw = client.chat.completions.with_raw_response.create(model="small-chat", messages=HI, max_tokens=20, stream=True)
    receipt = json.loads(raw.headers["x-vvv-activity-receipt"])
    text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
    assert text == "hello there!" and receipt["epoch"] == EPOCH
    assert world.upstream.requests[-1]["stream_options"] == {"include_usage": True}
    assert rows(world) == (11 + 14) * E18  # the usage chunk's counts; the activity marker row costs 0
    assert world.store.count() == 2
    plain = client.chat.completions.create(model="small-chat", messages=HI)
    assert plain.usage.prompt_tokens == 11 and rows(world) == 50 * E18


def test_images_are_charged_per_image(world):
    response = httpx.post(world.url + "/v1/images/generations", headers=world.headers(),
                          json={"model": "painter", "prompt": "a cat", "n": 3})  # fmt: skip
    assert response.status_code == 200 and len(response.json()["data"]) == 3
    assert response.headers["x-vvv-charged-vcu"] == "15" and rows(world) == 15 * E18


def test_a_call_that_cannot_fit_is_a_402_and_is_not_forwarded(small):
    world = small
    # worst case 22 + 2 x 600 = 1,222 VCU > 1,000
    response = chat(world, {"model": "small-chat", "messages": HI, "max_tokens": 600})
    assert response.status_code == 402
    error = response.json()["error"]
    assert (error["left"], error["needed"], error["resetsAt"], error["resetsAtUtc"]) == (
        "1000", "1222", RESETS, "2030-03-18 00:00 UTC")  # fmt: skip
    assert "1000 VCU are left of today's allotment" in error["message"] and "midnight UTC" in error["message"]
    # nothing forwarded, nothing charged; the refusal for lack of VCU is API activity (SPEC): one
    # usage row of cost 0, committed with the 402, and no second one for the next refusal
    assert world.upstream.requests == [] and world.store.count() == 1 and rows(world) == 0
    assert error["apiActive"] is True and response.headers["x-request-id"].startswith("gw-")
    # 489 output tokens fit exactly: 22 + 978 = 1,000
    assert chat(world, {"model": "small-chat", "messages": HI, "max_tokens": 490}).status_code == 402
    assert world.store.count() == 1
    assert chat(world, {"model": "small-chat", "messages": HI, "max_tokens": 489}).status_code == 200
    assert rows(world) == 25 * E18


def test_an_account_without_allotment_gets_a_402(world):
    add_key(world.keys, "vvv_bob", who=BOB, nonce=2)
    response = chat(world, {"model": "small-chat", "messages": HI}, secret="vvv_bob")
    assert response.status_code == 402 and "has no VCU allotment today" in response.json()["error"]["message"]


def test_a_keys_daily_cap(usage_url, tmp_path):
    in_process_pass_only()
    with running_gateway(usage_url, tmp_path, cap=50 * E18) as world:
        body = {"model": "small-chat", "messages": HI, "max_tokens": 7}  # worst 22 + 14 = 36; charged 25
        assert chat(world, body).headers["x-vvv-charged-vcu"] == "25"
        refused = chat(world, body)
        assert refused.status_code == 402
        assert refused.json()["error"]["left"] == "25" and "this key's daily cap" in refused.json()["error"]["message"]
        # another key of the same account has its own cap, and the account's allotment is shared
        add_key(world.keys, "vvv_second", nonce=9)
        assert chat(world, body, secret="vvv_second").status_code == 200
        assert rows(world) == 50 * E18
        world.clock.now = NOW + DAY  # a new day: the cap is back (allotments are the test's: unchanged)
        assert chat(world, body).status_code == 200


@pytest.mark.parametrize(
    ("secret", "says"),
    [
        (None, "Authorization"),
        ("vvv_unknown", "unknown"),
        ("vvv_expired", "expired"),
    ],
)
def test_keys_that_do_not_open_the_gateway(world, secret, says):
    add_key(world.keys, "vvv_expired", expiry=NOW + 60, nonce=5)
    world.clock.now = NOW + 60
    headers = {} if secret is None else {"authorization": f"Bearer {secret}"}
    response = httpx.post(world.url + "/v1/chat/completions", json={"model": "small-chat", "messages": HI},
                          headers=headers)  # fmt: skip
    assert response.status_code == 401 and says.lower() in response.json()["error"]["message"].lower()
    assert world.upstream.requests == []


def test_a_revoked_key_is_refused(world):
    from vvv.chain.apikeys import RevokeKey, key_hash, sign

    assert chat(world, {"model": "small-chat", "messages": HI}).status_code == 200
    world.keys.revoke(sign(ALICE, RevokeKey(A, key_hash(SECRET), 77, NOW + 600), DOMAIN), NOW)
    response = chat(world, {"model": "small-chat", "messages": HI})
    assert response.status_code == 401 and "revoked" in response.json()["error"]["message"]


def refused_within(world, revoked: float, seconds: float, meanwhile=lambda: True) -> httpx.Response:
    """Chats with the revoked key until it is refused: the first refusal. A request served (from
    the cache) must have started within `seconds` of `revoked` (monotonic): the cache's bound,
    judged by when a request starts, as the gateway keeps it. `meanwhile()` (true) after each."""
    import time

    while True:
        sent = time.monotonic()
        response = chat(world, {"model": "small-chat", "messages": HI})
        if response.status_code != 200:
            return response
        assert sent - revoked < seconds
        assert meanwhile()
        time.sleep(0.02)


def test_a_revocation_reaches_a_process_that_cached_the_key_within_its_cache_time(usage_url, tmp_path):
    import time

    from vvv.chain.apikeys import RevokeKey, key_hash, sign

    in_process_pass_only()
    with running_gateway(usage_url, tmp_path, key_cache_seconds=0.5) as world:
        assert chat(world, {"model": "small-chat", "messages": HI}).status_code == 200  # the key is cached
        world.keys.revoke(sign(ALICE, RevokeKey(A, key_hash(SECRET), 77, NOW + 600), DOMAIN), NOW)
        response = refused_within(world, time.monotonic(), 0.5)
        assert response.status_code == 401 and "revoked" in response.json()["error"]["message"]


def test_keys_in_steady_use_are_read_again_together_off_the_path_and_a_revocation_still_lands_in_time(
    usage_url, tmp_path, monkeypatch
):
    """Cache 1 s: three keys used every 0.1 s for 2.2 s are read on a request's path once each
    (a cold cache; once more if a loaded machine holds a background pass past a key's second),
    then again in the background, together in one statement every 0.5 s (never once per key or
    per use; under load a pass may fall between the keys' uses, so not every pass holds all
    three); a revocation stops its key within 1 s, the others go on."""
    import time

    from vvv.chain.apikeys import RevokeKey, key_hash, sign

    in_process_pass_only()
    with running_gateway(usage_url, tmp_path, key_cache_seconds=1.0) as world:
        secrets = [SECRET, "vvv_second-agent", "vvv_third-agent"]
        for nonce, secret in enumerate(secrets[1:], start=10):
            add_key(world.keys, secret, nonce=nonce)
        on_path: list[str] = []
        again: list[list[str]] = []
        authenticate, still_valid = world.keys.authenticate, world.keys.still_valid

        def counted(secret: str, now: int):
            on_path.append(secret)
            return authenticate(secret, now)

        def counted_again(used, now: int):
            again.append(sorted(used))
            return still_valid(used, now)

        monkeypatch.setattr(world.keys, "authenticate", counted)
        monkeypatch.setattr(world.keys, "still_valid", counted_again)
        first = time.monotonic()
        while time.monotonic() - first < 2.2:
            for secret in secrets:
                assert chat(world, {"model": "small-chat", "messages": HI}, secret).status_code == 200
            time.sleep(0.1)
        elapsed = time.monotonic() - first
        # each once (the cold cache); under load a background pass can run late past a key's
        # second, so at most once more: never once per use
        assert set(on_path) == set(secrets) and all(on_path.count(k) <= 2 for k in secrets)
        assert 2 <= len(again) <= elapsed / 0.5 + 1  # one statement every 0.5 s, not one per key or use
        assert any(len(used) >= 2 for used in again)  # keys read together, in one statement
        assert all(set(used) <= set(secrets) for used in again)

        world.keys.revoke(sign(ALICE, RevokeKey(A, key_hash(SECRET), 78, NOW + 600), DOMAIN), NOW)
        # the others stay in use meanwhile (a key unused for the cache's second is read on the path again)
        other_served = lambda: chat(world, {"model": "small-chat", "messages": HI}, secrets[1]).status_code == 200  # noqa: E731
        refused_within(world, time.monotonic(), 1.0, other_served)
        response = chat(world, {"model": "small-chat", "messages": HI})
        assert response.status_code == 401 and "revoked" in response.json()["error"]["message"]
        assert chat(world, {"model": "small-chat", "messages": HI}, secrets[1]).status_code == 200
        # the others go on, still served from the cache: at most one more read on the path (a
        # loaded machine can hold a background pass past the cache's second), never one per use
        assert on_path.count(secrets[1]) <= 2


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("/v1/chat/completions", b"not json", 400, "not JSON"),
        ("/v1/chat/completions", b"[1, 2]", 400, "must be a JSON object"),
        ("/v1/chat/completions", b'{"messages": []}', 400, "'model' must be a non-empty string"),
        ("/v1/chat/completions", b'{"model": "small-chat"}', 400, "'messages' must be a non-empty list"),
        ("/v1/chat/completions", b'{"model": "small-chat", "messages": [1]}', 400, "messages[0] must be an object"),
        ("/v1/chat/completions", b'{"model": "small-chat", "messages": [{"role": "user", "content": 5}]}', 400,
         "content must be a string"),
        ("/v1/chat/completions", b'{"model": "small-chat", "messages": [{"role": "u"}], "max_tokens": 0}', 400,
         "'max_tokens' must be a whole number from 1 to 4,096"),
        ("/v1/chat/completions", b'{"model": "small-chat", "messages": [{"role": "u"}], "stream": "yes"}', 400,
         "'stream' must be true or false"),
        ("/v1/chat/completions", b'{"model": "painter", "messages": [{"role": "u"}]}', 400,
         "painter is a image model"),
        ("/v1/chat/completions", b'{"model": "gpt-17", "messages": [{"role": "u"}]}', 404, "unknown model 'gpt-17'"),
        ("/v1/images/generations", b'{"model": "painter"}', 400, "'prompt' must be a non-empty string"),
        ("/v1/images/generations", b'{"model": "painter", "prompt": "x", "n": 11}', 400, "'n' must be a whole number"),
        ("/v1/images/generations", b'{"model": "small-chat", "prompt": "x"}', 400, "small-chat is a chat model"),
        ("/v1/nothing", b"{}", 404, "no such route: POST /v1/nothing"),
    ],
)  # fmt: skip
def test_malformed_requests_get_one_line_of_json(world, path, body, status, says):
    response = httpx.post(world.url + path, content=body, headers=world.headers())
    assert response.status_code == status
    message = response.json()["error"]["message"]
    assert says in message and "\n" not in message
    assert world.upstream.requests == [] and world.store.count() == 0


def test_an_upstream_failure_is_a_502_and_charges_nothing(world):
    response = chat(world, {"model": "small-chat", "messages": HI, "user": "fail"})
    assert response.status_code == 502 and "upstream answered 500" in response.json()["error"]["message"]
    # nothing charged; the request's API activity (a row of cost 0) was committed with its
    # reservation, at its start (SPEC), and stays
    assert world.store.count() == 1 and rows(world) == 0
    assert held_rows(world) == 0  # the reservation was released


def held_rows(world) -> int:
    """Reservations in the ledger's table."""
    from sqlalchemy import func, select

    from vvv.gateway.ledger import reservations

    with world.store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(reservations)).scalar_one()


def test_a_reservation_of_a_killed_gateway_is_charged_in_full_at_its_expiry(small):
    """A reservation never stops counting: expired, it becomes a charge of the whole amount."""
    world = small
    from vvv.gateway.ledger import RESERVATION_TTL

    ledger = world_ledger(world)
    held = ledger.reserve("gw-killed", A, "0x" + "ab" * 32, 0, 1_000 * E18, 990 * E18, NOW, "small-chat")
    assert held.expires_at == NOW + RESERVATION_TTL
    body = {"model": "small-chat", "messages": HI, "max_tokens": 7}  # worst 22 + 14 = 36
    assert chat(world, body).json()["error"]["left"] == "10"
    assert ledger.expire(NOW + RESERVATION_TTL - 1) == 0  # not yet
    world.clock.now = NOW + RESERVATION_TTL
    assert ledger.expire(NOW + RESERVATION_TTL) == 1  # the killed gateway's reservation: charged 990
    assert ledger.expire(NOW + RESERVATION_TTL) == 0  # once
    assert rows(world) == 990 * E18 and held_rows(world) == 0
    stored = world.store.view.stored(["req:gw-killed"])["req:gw-killed"]
    assert (stored["timestamp"], stored["model"], stored["vcu_cost_wei"]) == (NOW, "small-chat", str(990 * E18))
    assert ledger.totals(A, EPOCH) == (990 * E18, 0)
    assert chat(world, body).json()["error"]["left"] == "10"  # still 10 left: never released
    # the killed gateway's late settlement (had it come back) changes nothing
    from vvv.oracle.usage import ApiCall

    late = ledger.settle(held, ApiCall(NOW, A, "small-chat", 1, 1, 0, 3 * E18, "gw-killed"))
    assert late.late and late.call.vcu_cost == 990 * E18 and rows(world) == 990 * E18


def world_ledger(world):
    from vvv.gateway.ledger import Ledger

    return Ledger(world.store)


def test_usage_rows_are_the_oracles_input(world):
    for _ in range(3):
        chat(world, {"model": "small-chat", "messages": HI})
    calls = world.store.consumed(EPOCH * DAY, EPOCH * DAY + DAY - 1)
    assert calls == 75 * E18 and world.store.active_accounts(EPOCH * DAY, EPOCH * DAY + DAY - 1) == [A]
