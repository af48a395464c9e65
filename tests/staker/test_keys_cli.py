"""`ape run staker keys create|list|revoke` end to end: ape's CLI on the session's chain (the
domain comes from the deployment record), signing with ape's test accounts, posting over real
HTTP to the keys' routes served by uvicorn on loopback; the key store checked afterwards. Every
bad input is one error line with nothing stored."""

import hashlib
import re
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from tests.cli_runner import free_port, once_per_suite_run
from tests.gateway.keys_support import Served
from vvv.chain.apikeys import ApiKey, Domain
from vvv.gateway.keys import KeyRefused, KeyStore, api_key_nonces, api_keys, key_routes
from vvv.staker.keys import KeysClientError, parse_expiry

ALICE = ("--account", "TEST::1")
BOB = ("--account", "TEST::2")
Y2099 = 4_070_908_800  # 2099-01-01 00:00:00 UTC
E18 = 10**18


def domain_of(system, chain):
    return Domain(chain.chain_id, system.staking.address)


@pytest.fixture
def serve(system, chain, deployments):
    """`with serve(url) as (gateway_url, store):` the keys' routes of this network's domain,
    their store at `url`."""

    @contextmanager
    def serving(url):
        store = KeyStore.open(url, domain_of(system, chain), create=True)
        # the gateway's clock is the chain's (SPEC): so is the CLI's
        with Served(Starlette(routes=key_routes(store, clock=lambda: chain.blocks.head.timestamp))) as gateway_url:
            yield gateway_url, store

    return serving


@pytest.fixture
def served(serve, tmp_path):
    """The keys' routes on a SQLite store."""
    with serve(f"sqlite:///{tmp_path / 'keys.db'}") as served:
        yield served


def rows(store):
    with store.engine.connect() as conn:
        return [conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (api_keys, api_key_nonces)]


@pytest.fixture
def served_everywhere(serve, usage_url):
    """The keys' routes on a SQLite store, then on a Postgres one."""
    with serve(usage_url) as served:
        yield served


def test_create_list_revoke(staker_cli, served_everywhere, alice, chain):
    url, store = served_everywhere
    gw = ("--gateway", url)
    a = alice.address.lower()
    before = chain.blocks.head.timestamp
    out = staker_cli.json("keys", "create", *ALICE, *gw, "--label", "research agent", "--daily-cap", "250.5",
                          "--expires", "2099-01-01")  # fmt: skip
    after = chain.blocks.head.timestamp
    secret = out["secret"]
    assert re.fullmatch(r"vvv_[A-Za-z0-9_-]{43}", secret)
    first = "0x" + hashlib.sha256(secret.encode()).hexdigest()
    key = out.pop("key")
    assert before <= key.pop("created") <= after
    assert out == {"action": "create", "account": a, "secret": secret}
    assert key == {"account": a, "key_hash": first, "label": "research agent", "daily_cap": "250.5",
                   "expiry": Y2099, "revoked": None, "monthly_cap": "0", "lifetime_cap": "0", "requests_per_minute": 0,
                   "models": [], "status": "active"}  # fmt: skip
    stored = store.authenticate(secret, after)
    assert stored == ApiKey(a, first, "research agent", 250_500_000_000_000_000_000, Y2099, stored.created)

    out = staker_cli.json("keys", "create", *ALICE, *gw, "--label", "[bold]cron", "--daily-cap", "7", "--wei")
    second = out["key"]["key_hash"]
    assert (out["key"]["daily_cap"], out["key"]["expiry"], store.authenticate(out["secret"], after).daily_cap) == (
        7, 0, 7)  # fmt: skip
    third = staker_cli.json("keys", "create", *ALICE, *gw, "--label", "no cap")
    assert (third["key"]["daily_cap"], third["key"]["expiry"]) == ("0", 0)

    listed = staker_cli.json("keys", "list", *ALICE, *gw)
    assert (listed["action"], listed["account"]) == ("list", a)
    assert sorted(k["key_hash"] for k in listed["keys"]) == sorted([first, second, third["key"]["key_hash"]])
    assert staker_cli.json("keys", "list", *BOB, *gw)["keys"] == []
    table = staker_cli("keys", "list", *ALICE, *gw)
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == f"API keys of {a} (3):" and len(lines) == 7
    shown = dict(zip(lines[1::2], lines[2::2], strict=True))  # a key's hash line, then its details
    assert shown[f"  {first}  active"].startswith(
        "    label: research agent | daily cap: 250.5 VCU | expires: 2099-01-01 00:00:00 UTC | created: "
    )
    assert shown[f"  {second}  active"].startswith(
        "    label: [bold]cron | daily cap: 0.000000000000000007 VCU | expires: never | created: "
    )  # 7 wei

    out = staker_cli.json("keys", "revoke", first, *ALICE, *gw)
    assert (out["action"], out["key"]["key_hash"], out["key"]["status"]) == ("revoke", first, "revoked")
    with pytest.raises(KeyRefused, match="was revoked at"):
        store.authenticate(secret, chain.blocks.head.timestamp)
    text = staker_cli("keys", "revoke", "vvv_" + "x" * 43, *ALICE, *gw)  # by a secret: not a key of hers
    assert text.exit_code == 1 and "has no key" in text.stderr
    assert staker_cli("keys", "revoke", second, *ALICE, *gw).stdout.startswith(f"revoked API key {second} ([bold]cron)")
    statuses = {k["key_hash"]: k["status"] for k in staker_cli.json("keys", "list", *ALICE, *gw)["keys"]}
    assert statuses == {first: "revoked", second: "revoked", third["key"]["key_hash"]: "active"}
    assert rows(store) == [3, 3 + 4 + 2]  # 3 keys; nonces: 3 creates, 4 lists, 2 revokes (refused ones use none)


def test_the_secret_is_printed_once_in_the_table(staker_cli, served, chain):
    url, store = served
    result = staker_cli("keys", "create", *ALICE, "--gateway", url, "--label", "bot", "--expires", "30d")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("created API key 0x") and lines[1:3] == ["  label:     bot", "  daily cap: none"]
    secret = lines[-1].removeprefix("secret (shown this once; the gateway keeps only its hash): ")
    key = store.authenticate(secret, chain.blocks.head.timestamp)
    assert key.expiry - key.created == 30 * 86_400  # the CLI's now and the gateway's: the chain's, one block
    assert lines[3] == f"  expires:   {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(key.expiry))}"


def test_bad_input_sends_nothing(staker_cli, served, system, chain, alice, tmp_path):
    url, store = served
    gw = ("--gateway", url)
    create = ("keys", "create", *ALICE)
    nowhere = f"http://127.0.0.1:{free_port()}"
    cases = [
        ((*create, *gw, "--label", "x", "--daily-cap", "-1"), "Error: --daily-cap must be non-negative: '-1'"),
        ((*create, *gw, "--label", "x", "--daily-cap", "1.5", "--wei"),
         "Error: --daily-cap not a whole number of wei: '1.5'"),
        ((*create, *gw, "--label", "x", "--daily-cap", "1e80"), "Error: --daily-cap 1e80 is not below 2**255 wei"),
        ((*create, *gw, "--label", "x", "--monthly-cap", "-1"), "Error: --monthly-cap must be non-negative: '-1'"),
        ((*create, *gw, "--label", "x", "--lifetime-cap", "x"), "Error: --lifetime-cap "),
        ((*create, *gw, "--label", "x", "--rpm", "0"),
         "Error: --rpm '0': give a whole number of requests a minute from 1 to 1,000,000"),
        ((*create, *gw, "--label", "x", "--rpm", "1.5"), "Error: --rpm '1.5': give a whole number"),
        ((*create, *gw, "--label", "x", "--models", "llama 3"),
         "Error: --models: 'llama 3' is not a model id (model ids separated by commas, no spaces)"),
        ((*create, *gw, "--label", "x", "--expires", "2020-01-01"),
         "Error: --expires 2020-01-01 is not in the future (2020-01-01 00:00:00 UTC, now "),
        ((*create, *gw, "--label", "x", "--expires", "tomorrow"), "Error: --expires 'tomorrow': give a duration"),
        ((*create, *gw, "--label", ""), "Error: --label: label must be printable text of 1 to 64 characters, got ''"),
        ((*create, *gw, "--label", "x" * 65), "Error: --label: label must be printable text of 1 to 64 characters"),
        (("keys", "list", "--account", "nosuch", *gw),
         "Error: Invalid value for '--account': Account with alias 'nosuch' not found."),
        ((*create, "--label", "x"), "Error: give the gateway's URL: --gateway URL (or set VVV_GATEWAY)"),
        ((*create, "--gateway", "ftp://example.org", "--label", "x"),
         "Error: --gateway 'ftp://example.org' is not an http:// or https:// URL"),
        ((*create, "--gateway", nowhere, "--label", "x"),
         f"Error: cannot reach the gateway at {nowhere} (ConnectError: "),
        (("keys", "list", *ALICE, "--gateway", nowhere),
         f"Error: cannot reach the gateway at {nowhere} (ConnectError: "),
        (("keys", "revoke", "0x1234", *ALICE, *gw),
         "Error: KEY '0x1234'...: give the key's hash (0x and 64 hex digits) or its secret (vvv_...)"),
        (("keys", "revoke", "0x" + "ab" * 32, *ALICE, *gw),
         f"Error: the gateway at {url} answered HTTP 404: {alice.address.lower()} has no key 0x{'ab' * 32}"),
    ]  # fmt: skip
    for args, expected in cases:
        line = staker_cli.error(*args)
        assert line.startswith(expected), (args, line)
    assert rows(store) == [0, 0]

    # a gateway of another chain or staking contract: refused before anything is signed
    other = KeyStore.open(f"sqlite:///{tmp_path / 'other.db'}", Domain(chain.chain_id + 1, system.staking.address),
                          create=True)  # fmt: skip
    with Served(Starlette(routes=key_routes(other))) as elsewhere:
        line = staker_cli.error(*create, "--gateway", elsewhere, "--label", "x")
    assert line == (f"Error: the gateway at {elsewhere} serves chain {chain.chain_id + 1} and staking contract "
                    f"{system.staking.address}, not this network's (chain {chain.chain_id}, "
                    f"{system.staking.address}); nothing was signed\n")  # fmt: skip
    assert rows(other) == [0, 0] and rows(store) == [0, 0]


def test_the_forms_of_an_expiry():
    once_per_suite_run()  # no chain
    now = 1_900_000_000  # 2030-03-17 17:46:40 UTC
    assert [parse_expiry(text, now) for text in ("90m", "12h", "30d")] == [now + 5_400, now + 43_200, now + 2_592_000]
    assert parse_expiry("2099-01-01", now) == parse_expiry("4070908800", now) == Y2099
    assert parse_expiry("2099-01-01T12:00", now) == Y2099 + 43_200
    assert parse_expiry("2099-01-01T12:00+02:00", now) == Y2099 + 36_000  # 10:00 UTC
    assert parse_expiry(None, now) == 0
    for text in ("0m", "1900000000", "2030-03-17T17:46:40Z"):
        with pytest.raises(KeysClientError, match="is not in the future"):
            parse_expiry(text, now)
    assert parse_expiry("2030-03-17T17:46:41Z", now) == now + 1


def test_limits_and_the_no_stake_warning(staker_cli, system, chain, alice, bob, tmp_path):
    """The new limits travel signed to the gateway and are stored; a key of an account the
    gateway finds without stake is made, and the CLI prints the gateway's warning."""
    store = KeyStore.open(f"sqlite:///{tmp_path / 'keys.db'}", domain_of(system, chain), create=True)
    stakes = {alice.address.lower(): 1}
    routes = key_routes(store, clock=lambda: chain.blocks.head.timestamp, stake_of=lambda a: stakes.get(a, 0))
    with Served(Starlette(routes=routes)) as url:
        gw = ("--gateway", url)
        limits = ("--monthly-cap", "9000", "--lifetime-cap", "50000.5", "--rpm", "60")
        limits += ("--models", "small-chat, painter")
        out = staker_cli.json("keys", "create", *ALICE, *gw, "--label", "scoped", *limits)
        assert "warning" not in out
        key = store.authenticate(out["secret"], chain.blocks.head.timestamp)
        assert (key.daily_cap, key.monthly_cap, key.lifetime_cap, key.requests_per_minute, key.models) == (
            0, 9_000 * E18, 50_000_500_000_000_000_000_000, 60, ("small-chat", "painter"))  # fmt: skip
        assert (out["key"]["monthly_cap"], out["key"]["lifetime_cap"], out["key"]["models"]) == (
            "9000", "50000.5", ["small-chat", "painter"])  # fmt: skip
        listed = staker_cli("keys", "list", *ALICE, *gw).stdout.splitlines()
        assert listed[3] == ("    monthly cap: 9000 VCU | lifetime cap: 50000.5 VCU | requests a minute: 60 | "
                             "models: small-chat, painter")  # fmt: skip
        result = staker_cli("keys", "create", *BOB, *gw, "--label", "unstaked")
        assert result.exit_code == 0, result.stderr
        b = bob.address.lower()
        assert result.stdout.splitlines()[-2] == (
            f"warning: {b} has no stake: this key's calls will be refused (402) until the account stakes VVV; its "
            "allotment starts the day after its first call with a stake")  # fmt: skip
        assert result.stdout.splitlines()[-1].startswith("secret (shown this once; the gateway keeps only its hash): ")
        assert staker_cli.json("keys", "create", *BOB, *gw, "--label", "again")["warning"].startswith(f"{b} has no")
