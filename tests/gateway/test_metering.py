"""Every VCU of work is paid for, and no account or key spends past its limit: the audit's proofs
of concept (issue 21) rerun on the gateway over loopback, on SQLite and Postgres.

Prices (tests/gateway/gateway_support.py): 1 VCU per input token, 2 per output token, 1,200 per
image part of a chat's input. The stand-in upstream (tests/gateway/upstream_stub.py) reports
11 prompt tokens per message, 1,000 per image part and a quarter of the compact JSON bytes of
`tools`, and min(max_tokens, 7) completion tokens per choice. The gateway's worst case for a
message {"role": "user", "content": "hi"}: 8 + (8 + 4 + 2) = 22 input tokens."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from tests.gateway.gateway_support import (
    E18,
    EPOCH,
    NOW,
    SECRET,
    add_key,
    in_process_pass_only,
    running_gateway,
    served_world,
    wait_for,
)
from tests.gateway.keys_support import ALICE
from vvv.gateway.ledger import RESERVATION_TTL, Ledger
from vvv.oracle.usage import ApiCall

A = ALICE.address.lower()
HI = [{"role": "user", "content": "hi"}]
TOOL = {"type": "function", "function": {"name": "f", "description": "x" * 4_000}}  # 4,060 bytes as compact JSON


@pytest.fixture
def big(usage_url, tmp_path):
    """ALICE's key, no cap; an allotment of 1,000,000 VCU (a 900 KB request's worst case fits)."""
    yield from served_world(usage_url, tmp_path, allotment=1_000_000 * E18)


def chat(world, body, secret=SECRET):
    return httpx.post(world.url + "/v1/chat/completions", json=body, headers=world.headers(secret), timeout=60)


def charged(response) -> int:
    assert response.status_code == 200, response.text
    return int(response.headers["x-vvv-charged-vcu"])


def stored(world, request_id):
    row = world.store.view.stored([f"req:{request_id}"])[f"req:{request_id}"]
    return row["input_tokens"], row["output_tokens"], int(row["vcu_cost_wei"]) // E18


def spent(world) -> int:
    """VCU (whole) of ALICE's usage rows today."""
    return world.store.consumed(EPOCH * 86_400, EPOCH * 86_400 + 86_399, A) // E18


# ------------------------------------------------------------------ item 1: every field priced


def test_a_900_kb_tools_list_is_charged_its_work(big):
    """Audit: 50 VCU charged for 225,066 VCU of work."""
    tools = [TOOL] * 225  # 225 x 4,060 + 2 brackets + 224 commas = 913,726 bytes
    response = chat(big, {"model": "small-chat", "messages": HI, "tools": tools, "max_tokens": 7})
    # the upstream's work: 11 + 913,726 // 4 = 228,442 input tokens, 7 output: 228,442 + 14 VCU
    assert charged(response) == 228_456
    assert stored(big, response.headers["x-request-id"]) == (228_442, 7, 228_456)
    assert big.upstream.requests[-1]["tools"] == tools


def test_n_above_eight_is_refused_and_n_is_charged_per_choice(big):
    """Audit: n=64 charged 818 for 51,211."""
    response = chat(big, {"model": "small-chat", "messages": HI, "n": 64})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "'n' must be a whole number from 1 to 8"
    assert big.upstream.requests == [] and big.store.count() == 0
    response = chat(big, {"model": "small-chat", "messages": HI, "n": 8, "max_tokens": 7})
    # 11 input tokens (read once) + 8 choices x 7 output tokens x 2 VCU = 11 + 112
    assert charged(response) == 123 and len(response.json()["choices"]) == 8
    assert big.upstream.requests[-1]["n"] == 8


def test_image_parts_in_a_chat_are_charged_their_work(big):
    """Audit: 20 images in a chat charged 56 for 20,045."""
    parts = [{"type": "text", "text": "what is in these?"}] + [
        {"type": "image_url", "image_url": {"url": f"https://img.example/{i}.png"}} for i in range(20)
    ]
    response = chat(big, {"model": "small-chat", "messages": [{"role": "user", "content": parts}], "max_tokens": 7})
    # 11 + 20 x 1,000 = 20,011 input tokens, 7 output: 20,011 + 14 VCU
    assert charged(response) == 20_025
    assert len(big.upstream.requests) == 1


def test_a_worst_case_that_does_not_fit_is_not_forwarded(usage_url, tmp_path):
    """The reservation counts the image parts: 20 parts x 1,200 = 24,000 VCU alone, more than
    an allotment of 20,000 VCU, so the request is refused before the upstream sees it."""
    in_process_pass_only()
    with running_gateway(usage_url, tmp_path, allotment=20_000 * E18) as world:
        parts = [{"type": "image_url", "image_url": {"url": "https://img.example/a.png"}}] * 20
        response = chat(world, {"model": "small-chat", "messages": [{"role": "user", "content": parts}],
                                "max_tokens": 7})  # fmt: skip
        assert response.status_code == 402 and world.upstream.requests == []
        # worst case: 8 + (8 + 4) input + 2 x 7 output + 24,000 for the parts = 24,034 VCU
        assert response.json()["error"]["needed"] == "24034"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"audio": {"voice": "alloy"}}, "field 'audio' is not accepted"),
        ({"prediction": {"type": "content", "content": "x"}}, "field 'prediction' is not accepted"),
        ({"messages": [{"role": "user", "content": "hi", "audio": {"id": "a"}}]},
         "messages[0]: field 'audio' is not accepted"),
        ({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]},
         "messages[0].content[0]: part type 'input_audio' is not accepted"),
        ({"stream_options": {"include_obfuscation": True}}, "stream_options: field 'include_obfuscation'"),
        ({"n": 0}, "'n' must be a whole number from 1 to 8"),
    ],
)  # fmt: skip
def test_fields_the_gateway_cannot_price_are_refused_by_name(big, body, says):
    response = chat(big, {"model": "small-chat", "messages": HI} | body)
    assert response.status_code == 400 and says in response.json()["error"]["message"]
    assert "\n" not in response.json()["error"]["message"]
    assert big.upstream.requests == [] and big.store.count() == 0


def test_image_requests_name_a_listed_size(big):
    url, headers = big.url + "/v1/images/generations", big.headers()
    refused = httpx.post(url, headers=headers, json={"model": "painter", "prompt": "a cat", "size": "4096x4096"})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        "'size' '4096x4096' is not accepted for painter: one of 1024x1024, 512x512"
    )
    refused = httpx.post(url, headers=headers, json={"model": "painter", "prompt": "a cat", "quality": "hd"})
    assert refused.status_code == 400 and "field 'quality' is not accepted" in refused.json()["error"]["message"]
    assert big.upstream.requests == []
    response = httpx.post(url, headers=headers, json={"model": "painter", "prompt": "a cat", "n": 2})
    assert charged(response) == 10 and big.upstream.requests[-1]["size"] == "1024x1024"  # the default: listed first


# ------------------------------------------------------------------ absurd usage


def test_an_absurd_usage_is_charged_at_the_reservation(big):
    """Info finding: a usage of 2**63 tokens was a 500 and free."""
    response = chat(big, {"model": "small-chat", "messages": HI, "max_tokens": 7, "user": "huge-usage"})
    # the reservation: 22 input + 2 x 7 output = 36 VCU, stored as the worst case's counts
    assert charged(response) == 36
    assert stored(big, response.headers["x-request-id"]) == (22, 7, 36)


# ------------------------------------------------------------------ item 2: reservations hold until settled


def open_stream(world, body, secret=SECRET) -> socket.socket:
    """A streaming chat over a raw socket whose client then reads nothing (a small receive
    buffer, so the gateway's sends block soon): the response's first bytes."""
    host, port = world.url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4_096)
    sock.connect((host, int(port)))
    payload = json.dumps(body | {"stream": True}).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            f"authorization: Bearer {secret}\r\ncontent-length: {len(payload)}\r\n\r\n")  # fmt: skip
    sock.sendall(head.encode() + payload)
    sock.settimeout(10)
    assert sock.recv(64).startswith(b"HTTP/1.1 200")
    return sock


@pytest.fixture
def short(usage_url, tmp_path):
    """Deadlines shortened: a stream is cut after 0.5 s without reading, a request lasts 2 s
    (its upstream work stops at 1.8 s)."""
    yield from served_world(usage_url, tmp_path, request_seconds=2, stall_seconds=0.5, sweep_seconds=0)


@pytest.mark.parametrize(
    ("user", "cost"),
    [
        ("stall-usage", 25),  # the upstream's usage came first: 11 input + 2 x 7 output
        ("stall", 46),  # no usage before the cut: 22 input (the bound) + 2 x 12 bytes relayed ("hello there!")
    ],
)
def test_a_stream_its_client_stops_reading_is_cut_and_charged_what_it_produced(short, user, cost):
    sock = open_stream(short, {"model": "small-chat", "messages": HI, "max_tokens": 20, "user": user})
    try:
        wait_for(lambda: spent(short) > 0)
        assert spent(short) == cost
    finally:
        sock.close()
    assert Ledger(short.store).totals(A, EPOCH) == (cost * E18, 0)


def test_a_stream_whose_client_hangs_up_is_charged_what_it_produced(usage_url, tmp_path):
    """No stall limit to help (an hour): the hang-up itself ends the relay, and the upstream's
    usage, sent first, is charged: 11 input + 2 x 7 output."""
    in_process_pass_only()
    with running_gateway(usage_url, tmp_path, stall_seconds=3_600, sweep_seconds=0) as world:
        open_stream(world, {"model": "small-chat", "messages": HI, "max_tokens": 20, "user": "stall-usage"}).close()
        wait_for(lambda: spent(world) > 0)
        assert spent(world) == 25 and Ledger(world.store).totals(A, EPOCH) == (25 * E18, 0)


def test_a_stream_past_the_request_deadline_is_cut(short):
    """The upstream sends "hello" and then nothing: at 1.8 s the stream is cut and charged
    22 input (the bound) + 2 x 5 output bytes."""
    started = time.monotonic()
    body = {"model": "small-chat", "messages": HI, "stream": True, "user": "hang"}
    with httpx.stream("POST", short.url + "/v1/chat/completions", headers=short.headers(), json=body,
                      timeout=30) as response:  # fmt: skip
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            b"".join(response.iter_raw())
    assert 1.7 < time.monotonic() - started < 10
    wait_for(lambda: spent(short) > 0)
    assert spent(short) == 32


def test_an_upstream_past_the_request_deadline_is_a_504_charged_in_full(short):
    response = chat(short, {"model": "small-chat", "messages": HI, "max_tokens": 10, "user": "hang"})
    assert response.status_code == 504 and "did not answer within 1.8 s" in response.json()["error"]["message"]
    assert response.headers["x-vvv-charged-vcu"] == "42" and spent(short) == 42  # 22 + 2 x 10


def test_stalled_streams_and_a_killed_gateway_never_spend_past_the_allotment_or_a_cap(usage_url, tmp_path):
    """Audit: allotment 100 VCU, 182 spent; three stalled streams: 364, growing every 10 minutes.
    Here: allotment 200 VCU; key A capped at 70 VCU, key B uncapped. Two streams stall (worst
    case 22 + 2 x 20 = 62 each), a killed gateway holds 50; every deadline passes, four times
    over; then requests until refused."""
    in_process_pass_only()
    with running_gateway(usage_url, tmp_path, allotment=200 * E18, cap=70 * E18, request_seconds=2,
                         stall_seconds=0.5, sweep_seconds=0) as world:  # fmt: skip
        add_key(world.keys, "vvv_b", nonce=2)
        ledger = Ledger(world.store)
        body = {"model": "small-chat", "messages": HI, "max_tokens": 20, "user": "stall"}
        streams = [open_stream(world, body), open_stream(world, body, "vvv_b")]  # 62 + 62 reserved
        ledger.reserve("gw-killed", A, "0x" + "bb" * 32, 0, 200 * E18, 50 * E18, NOW, "small-chat", 600)  # 174
        try:
            wait_for(lambda: spent(world) == 92)  # each stream cut and charged 22 + 2 x 12 = 46
        finally:
            for sock in streams:
                sock.close()
        assert ledger.totals(A, EPOCH) == (92 * E18, 50 * E18)
        for later in range(1, 5):  # every deadline passes, again and again
            world.clock.now = NOW + later * RESERVATION_TTL
            ledger.expire(world.clock.now)
            assert spent(world) == 142  # + the killed gateway's 50, once
        small = {"model": "small-chat", "messages": HI, "max_tokens": 7}  # worst 36, charged 25
        refused = chat(world, small)  # key A: 70 - 46 = 24 left of its cap
        assert refused.status_code == 402 and "this key's daily cap" in refused.json()["error"]["message"]
        assert charged(chat(world, small, "vvv_b")) == 25  # 200 - 142 = 58 left
        refused = chat(world, small, "vvv_b")  # 33 left < 36
        assert refused.status_code == 402 and refused.json()["error"]["left"] == "33"
        assert spent(world) == 167 <= 200
        assert ledger.totals(A, EPOCH) == (167 * E18, 0)
        late = ledger.settle(ledger_reservation(ledger, "gw-killed"), ApiCall(NOW, A, "small-chat", 1, 1, 0, E18))
        assert late.late and spent(world) == 167


def ledger_reservation(ledger, request_id):
    """The reservation as its (killed) gateway knew it."""
    from vvv.gateway.ledger import Reservation

    return Reservation(request_id, A, "0x" + "bb" * 32, EPOCH, 50 * E18, NOW + 600, 0, "small-chat", NOW)


# ------------------------------------------------------------------ item 7: running totals, from an older store


def test_a_store_of_an_older_gateway_keeps_its_counts(usage_url):
    """An older gateway's tables (reservations without model, start and cap; a capped key's
    counter in gateway_key_spend) and a usage row of today: the totals start from them, and the
    old reservation is charged in full at its expiry, at its start time."""
    from sqlalchemy import text

    from vvv.oracle.usage import UsageStore

    in_process_pass_only()
    store = UsageStore(usage_url, create=True)
    key = "0x" + "cc" * 32
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE gateway_reservations (request_id VARCHAR(128) PRIMARY KEY, account VARCHAR(42) "
                          "NOT NULL, key_hash VARCHAR(66) NOT NULL, epoch BIGINT NOT NULL, amount_wei VARCHAR(80) "
                          "NOT NULL, expires_at BIGINT NOT NULL)"))  # fmt: skip
        conn.execute(text("CREATE TABLE gateway_key_spend (key_hash VARCHAR(66), epoch BIGINT, spent_wei VARCHAR(80), "
                          "PRIMARY KEY (key_hash, epoch))"))  # fmt: skip
        conn.execute(text("INSERT INTO gateway_reservations VALUES ('gw-old', :a, :k, :e, :amount, :x)"),
                     {"a": A, "k": key, "e": EPOCH, "amount": str(40 * E18), "x": NOW + 600})  # fmt: skip
        conn.execute(text("INSERT INTO gateway_key_spend VALUES (:k, :e, :spent)"),
                     {"k": key, "e": EPOCH, "spent": str(7 * E18)})  # fmt: skip
    store.add([ApiCall(NOW - 60, A, "small-chat", 1, 1, 0, 3 * E18, "gw-before")])
    ledger = Ledger(store)
    assert ledger.totals(A, EPOCH) == (3 * E18, 40 * E18)
    # the capped key: 7 spent (its old counter) + 40 reserved of a cap of 50: 3 left
    r = ledger.reserve("gw-new", A, key, 50 * E18, 1_000 * E18, 3 * E18, NOW, "small-chat")
    assert ledger.totals(A, EPOCH) == (3 * E18, 43 * E18)
    ledger.release(r)
    assert ledger.expire(NOW + 600) == 1
    assert ledger.totals(A, EPOCH) == (43 * E18, 0)
    row = store.view.stored(["req:gw-old"])["req:gw-old"]
    assert (row["timestamp"], row["model"], row["vcu_cost_wei"]) == (NOW, "unknown", str(40 * E18))


def test_an_older_gateways_reservation_charged_before_any_check_is_counted_once(usage_url):
    """Two reservations of 40 VCU of an older gateway; the first charged in full at its expiry
    before anything read the account's totals. The totals row is made from the store after
    that charge, so it holds 40 spent and 40 reserved (before the fix, 80 and 0: the charge
    added twice); the second's expiry then makes it 80 and 0."""
    from sqlalchemy import text

    from vvv.oracle.usage import UsageStore

    in_process_pass_only()
    store = UsageStore(usage_url, create=True)
    columns = (
        "request_id VARCHAR(128) PRIMARY KEY, account VARCHAR(42) NOT NULL, key_hash VARCHAR(66) NOT NULL, "
        "epoch BIGINT NOT NULL, amount_wei VARCHAR(80) NOT NULL, expires_at BIGINT NOT NULL"
    )
    with store.engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE gateway_reservations ({columns})"))
        for request, expiry in (("gw-old", NOW + 600), ("gw-later", NOW + 900)):
            values = {"r": request, "a": A, "k": "0x" + "cc" * 32, "e": EPOCH, "amount": str(40 * E18), "x": expiry}
            conn.execute(text("INSERT INTO gateway_reservations VALUES (:r, :a, :k, :e, :amount, :x)"), values)
    ledger = Ledger(store)
    assert ledger.expire(NOW + 600) == 1
    assert ledger.totals(A, EPOCH) == (40 * E18, 40 * E18)
    assert ledger.expire(NOW + 900) == 1
    assert ledger.totals(A, EPOCH) == (80 * E18, 0)
