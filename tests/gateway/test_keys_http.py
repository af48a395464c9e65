"""The keys' routes over real HTTP (uvicorn on loopback), on SQLite and Postgres: every route's
status and JSON, a malformed body of every kind as a one-line 400 (never a 500), concurrent
creates decided by the database, and a failing database as a 503. These tests touch no chain:
they run once per `make test` (in its anvil pass)."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.applications import Starlette

from tests.cli_runner import once_per_suite_run
from tests.gateway.keys_support import ALICE, BOB, DOMAIN, NOW, Clock, Served, chainless_store
from vvv.chain.apikeys import CreateKey, ListKeys, RevokeKey, key_hash, sign
from vvv.gateway.keys import KeyStore, key_routes, metadata

A, B = ALICE.address.lower(), BOB.address.lower()
SECRET_HASH = key_hash("vvv_http")


@pytest.fixture
def store(usage_url):
    return chainless_store(usage_url)


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def gateway(store, clock):
    with Served(Starlette(routes=key_routes(store, clock))) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def create_body(who=ALICE, nonce=1, hash_=SECRET_HASH, cap=12 * 10**18, expiry=0):
    return sign(who, CreateKey(who.address.lower(), "ci bot", cap, expiry, nonce, hash_, NOW + 60), DOMAIN).to_json()


def list_body(who=ALICE, nonce=2):
    return sign(who, ListKeys(who.address.lower(), nonce, NOW + 60), DOMAIN).to_json()


def revoke_body(who=ALICE, nonce=3, hash_=SECRET_HASH):
    return sign(who, RevokeKey(who.address.lower(), hash_, nonce, NOW + 60), DOMAIN).to_json()


def error(answer, status, type_):
    """A JSON error of that status and type; its one-line message."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"} and (body["error"]["type"], body["error"]["code"]) == (type_, status)
    message = body["error"]["message"]
    assert message and "\n" not in message
    return message


RECORD = {"account": A, "key_hash": SECRET_HASH, "label": "ci bot", "daily_cap": "12000000000000000000", "expiry": 0,
          "created": NOW, "revoked": None, "monthly_cap": "0", "lifetime_cap": "0", "requests_per_minute": 0,
          "models": [], "status": "active"}  # fmt: skip


def test_every_route(gateway, clock):
    assert gateway.get("/v1/keys/domain").json() == {
        "name": "VVV API Keys", "version": "1", "chainId": 31337,
        "verifyingContract": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    }  # fmt: skip
    body = create_body()
    assert body["message"]["dailyCap"] == "12000000000000000000"  # uint256 travel as decimal strings
    answer = gateway.post("/v1/keys", json=body)
    assert (answer.status_code, answer.json()) == (201, {"key": RECORD})
    assert error(gateway.post("/v1/keys", json=body), 409, "conflict_error") == f"nonce 1 of {A} was used already"

    answer = gateway.post("/v1/keys/list", json=list_body())
    assert (answer.status_code, answer.json()) == (200, {"account": A, "keys": [RECORD]})
    assert gateway.post("/v1/keys/list", json=list_body(BOB)).json() == {"account": B, "keys": []}

    message = error(gateway.post("/v1/keys/revoke", json=revoke_body(BOB)), 404, "not_found_error")
    assert message == f"{B} has no key {SECRET_HASH}"
    clock.now = NOW + 7
    answer = gateway.post("/v1/keys/revoke", json=revoke_body())
    assert (answer.status_code, answer.json()) == (200, {"key": RECORD | {"revoked": NOW + 7, "status": "revoked"}})

    clock.now = NOW + 61  # past every request's deadline
    message = error(gateway.post("/v1/keys/list", json=list_body(nonce=4)), 401, "authentication_error")
    assert message == "the ListKeys request's deadline 2030-03-17 17:47:40 UTC has passed"


def test_a_forged_request_is_a_401(gateway):
    body = create_body(BOB)
    body["message"]["account"] = A  # bob's signature on a request for alice
    message = error(gateway.post("/v1/keys", json=body), 401, "authentication_error")
    assert message == (f"the CreateKey request is not signed by {A} for chain 31337 and contract "
                       "0x5FbDB2315678afecb367f032d93F642f64180aa3")  # fmt: skip
    assert gateway.post("/v1/keys/list", json=list_body()).json()["keys"] == []


def _with(message=None, **top):
    body = create_body()
    body["message"].update(message or {})
    body.update(top)
    return body


UINT = " must be a whole number from 0 to 2**256-1 (or its decimal string), got "
NONCE = "nonce" + UINT
MALFORMED = [
    (b"", "the body is not JSON"),
    (b"not json", "the body is not JSON"),
    (b"\xff\xfe", "the body is not JSON"),
    (b"[" * 10_000, "the body is not JSON"),  # deeper than Python's recursion limit
    ([], 'the body must be a JSON object {"message": {...}, "signature": "0x..."}'),
    ({}, 'the body must be a JSON object {"message": {...}, "signature": "0x..."}'),
    (_with(extra=1), 'the body must be a JSON object {"message": {...}, "signature": "0x..."}'),
    (_with(signature="0x1234"), "signature must be 0x and 130 hex digits (65 bytes)"),
    (_with(signature="0x" + "zz" * 65), "signature must be 0x and 130 hex digits (65 bytes)"),
    (_with(signature=None), "signature must be 0x and 130 hex digits (65 bytes)"),
    ({**create_body(), "message": "x"}, "CreateKey message must be a JSON object"),
    ({"message": {"account": A}, "signature": "0x" + "00" * 65},
     "CreateKey message: missing label, dailyCap, monthlyCap, lifetimeCap, requestsPerMinute, models, expiry, "
     "nonce, keyHash, deadline"),
    (_with({"models": "small-chat, painter"}),
     "models: ' painter' is not a model id (model ids separated by commas, no spaces)"),
    (_with({"models": "a,a"}), "models names a model twice: 'a,a'"),
    (_with({"requestsPerMinute": 1_000_001}), "requestsPerMinute must be at most 1,000,000 (0: no limit), got 1000001"),
    (_with({"admin": True}), "CreateKey message: unknown admin"),
    (_with({"nonce": -1}), NONCE + "-1"),
    (_with({"nonce": 2**256}), NONCE + str(2**256)),
    (_with({"nonce": 1.5}), NONCE + "1.5"),
    (_with({"nonce": "0x10"}), NONCE + "'0x10'"),
    (_with({"nonce": True}), NONCE + "True"),
    (_with({"dailyCap": "١٢"}), "dailyCap" + UINT + "'١٢'"),
    (_with({"label": ""}), "label must be printable text of 1 to 64 characters, got ''"),
    (_with({"label": "x" * 65}), f"label must be printable text of 1 to 64 characters, got '{'x' * 65}'"),
    (_with({"label": "a\nb"}), "label must be printable text of 1 to 64 characters, got 'a\\nb'"),
    (_with({"account": "0x1234"}), "account must be an address (0x and 40 hex digits), got '0x1234'"),
    (_with({"keyHash": "0x" + "ab" * 31}), f"keyHash must be 0x and 64 hex digits, got '0x{'ab' * 31}'"),
]  # fmt: skip


def test_a_malformed_body_is_a_one_line_400(tmp_path):
    """Parsing comes before the database: on SQLite only."""
    once_per_suite_run()
    store = KeyStore.open(f"sqlite:///{tmp_path / 'usage.db'}", DOMAIN, create=True)
    with Served(Starlette(routes=key_routes(store, Clock(NOW)))) as url, httpx.Client(base_url=url) as gateway:
        for body, expected in MALFORMED:
            content = body if isinstance(body, bytes) else None
            answer = gateway.post("/v1/keys", content=content, json=None if content is not None else body)
            assert error(answer, 400, "invalid_request_error") == expected
        assert gateway.post("/v1/keys/list", json=list_body()).json()["keys"] == []


def test_a_body_too_large_is_a_413(gateway):
    body = _with({"label": "x" * 20_000})
    assert error(gateway.post("/v1/keys", json=body), 413, "invalid_request_error") == (
        "the body has more than 16,384 bytes, the most this route accepts"
    )


def test_the_database_decides_concurrent_creates(gateway):
    """The same signed request eight times at once: created once, seven 409s. Eight requests
    with their own nonces at once: eight keys."""
    body = create_body()
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(lambda _: gateway.post("/v1/keys", json=body).status_code, range(8)))
    assert statuses == [201] + [409] * 7
    bodies = [create_body(nonce=10 + i, hash_=key_hash(f"vvv_{i}")) for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda b: gateway.post("/v1/keys", json=b).status_code, bodies))
    assert statuses == [201] * 8
    listed = gateway.post("/v1/keys/list", json=list_body()).json()["keys"]
    assert sorted(k["key_hash"] for k in listed) == sorted([SECRET_HASH] + [key_hash(f"vvv_{i}") for i in range(8)])


def test_a_failing_database_is_a_503(gateway, store):
    metadata.drop_all(store.engine)  # the tables vanish under the running gateway
    message = error(gateway.post("/v1/keys", json=create_body()), 503, "server_error")
    assert message.startswith("key store: ")


def test_a_key_for_an_account_with_no_stake_warns(store, clock):
    """The key is made, with a `warning` saying why its calls will be refused."""
    stakes = {A: 5 * 10**18}
    routes = key_routes(store, clock, stake_of=lambda account: stakes.get(account, 0))
    with Served(Starlette(routes=routes)) as url, httpx.Client(base_url=url, timeout=30) as gateway:
        staked = gateway.post("/v1/keys", json=create_body())
        assert staked.status_code == 201 and set(staked.json()) == {"key"}
        unstaked = gateway.post("/v1/keys", json=create_body(BOB, nonce=5, hash_=key_hash("vvv_bob")))
        assert unstaked.status_code == 201
        assert unstaked.json()["warning"] == (
            f"{B} has no stake: this key's calls will be refused (402) until the account stakes VVV; its allotment "
            "starts the day after its first call with a stake"
        )
        assert unstaked.json()["key"]["account"] == B
