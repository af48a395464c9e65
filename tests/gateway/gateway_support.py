"""The gateway under test: a usage store (SQLite or Postgres), a key store with one key of
ALICE's, the stand-in upstream and the gateway each served by uvicorn on loopback, a fixed
clock, and prices chosen so that costs are whole VCU: 1 VCU per input token, 2 per output
token, 1,200 per image part of a chat's input, 5 per image (1024x1024 or 512x512)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ape import networks
from eth_account import Account
from sqlalchemy import create_engine, text

from tests.gateway.keys_support import ALICE, DOMAIN, NOW, Clock, Served
from tests.gateway.upstream_stub import Upstream
from vvv.chain.apikeys import CreateKey, key_hash, sign
from vvv.gateway.app import STORE_LOCK_SECONDS, Gateway, make_app
from vvv.gateway.keys import KeyStore
from vvv.gateway.ledger import Ledger
from vvv.oracle.pricing import load_prices
from vvv.oracle.receipts import ReceiptSigner
from vvv.oracle.usage import UsageStore

E18 = 10**18
DAY = 86_400
EPOCH = NOW // DAY  # 21,990
RESETS = (EPOCH + 1) * DAY  # 1,900,022,400: 2030-03-18 00:00 UTC
SIGNER = Account.from_key("0x" + "00" * 31 + "03")  # the meter's receipt key
ORACLE = DOMAIN.verifying_contract  # any address: the receipts' verifying contract in these tests
PRICES = """kind,model,vcu_per_1m_input,vcu_per_1m_output,vcu_per_image,vcu_per_image_input,image_sizes
chat,small-chat,1000000,2000000,,1200,
image,painter,,,5,,1024x1024 512x512
"""
SECRET = "vvv_alice-agent-secret"


def in_process_pass_only() -> None:
    """A test that touches no chain runs once per `make test`: in its in-process pass (the anvil
    pass carries the browser tests)."""
    if networks.provider.name == "foundry":
        pytest.skip("touches no chain: runs once, in the in-process pass of `make test`")


def add_key(keys: KeyStore, secret: str, cap: int = 0, expiry: int = 0, nonce: int = 1, who: Account = ALICE) -> None:
    request = CreateKey(who.address.lower(), "agent", cap, expiry, nonce, key_hash(secret), NOW + 600)
    keys.create(sign(who, request, DOMAIN), NOW)


@dataclass
class World:
    url: str  # the gateway, no trailing slash
    store: UsageStore
    keys: KeyStore
    upstream: Upstream
    clock: Clock
    allotments: dict[str, int]
    gateway: Gateway

    def headers(self, secret: str = SECRET) -> dict[str, str]:
        return {"authorization": f"Bearer {secret}"}


@contextlib.contextmanager
def running_gateway(
    usage_url: str,
    tmp_path: Path,
    allotment: int = 100_000 * E18,
    cap: int = 0,
    key_cache_seconds: float = 0.0,
    lock_seconds: float = STORE_LOCK_SECONDS,
    **limits: Any,
) -> Iterator[World]:
    """`limits`: the Gateway's request_seconds, stall_seconds, sweep_seconds (tests shorten them).
    `lock_seconds`: how long a request waits for the store's lock before its 503 (the gateway's
    2 s; tests of many requests at once on one account give it longer: under `make test`'s load
    their queue for the account's lock can pass 2 s, and the 503 is then right)."""
    store = UsageStore(usage_url, create=True, lock_timeout=lock_seconds)
    keys = KeyStore(store.engine, DOMAIN)
    add_key(keys, SECRET, cap=cap)
    prices = tmp_path / "prices.csv"
    prices.write_text(PRICES)
    allotments = {ALICE.address.lower(): allotment}
    upstream = Upstream()
    clock = Clock(NOW)
    ledger = Ledger(store, ReceiptSigner(SIGNER, DOMAIN.chain_id, ORACLE))
    with Served(upstream.app) as upstream_url:
        gateway = Gateway(ledger, keys, load_prices(prices), lambda a, _e: allotments.get(a, 0), upstream_url,
                          clock=clock, key_cache_seconds=key_cache_seconds, **limits)  # fmt: skip
        with Served(make_app(gateway)) as url:
            yield World(url, store, keys, upstream, clock, allotments, gateway)


@contextlib.contextmanager
def store_lock_held(usage_url: str, account: str, epoch: int) -> Iterator[None]:
    """Another process holds the ledger's lock of (account, epoch) until the block ends: the
    advisory lock on Postgres, the write lock on SQLite."""
    holder = create_engine(usage_url, isolation_level="AUTOCOMMIT")
    with holder.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("BEGIN"))
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                         {"k": f"gateway:{account}:{epoch}"})  # fmt: skip
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute(text("ROLLBACK"))
    holder.dispose()


def served_world(usage_url: str, tmp_path: Path, **options: Any) -> Iterator[World]:
    """A fixture's body (`yield from`): `running_gateway(**options)`, in the in-process pass only."""
    in_process_pass_only()
    with running_gateway(usage_url, tmp_path, **options) as world:
        yield world


def wait_for(condition: Callable[[], object], seconds: float = 20.0, what: str = "") -> None:
    """Wait until `condition()` is true, at most `seconds` (a loaded machine is slow)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {seconds:g} s{': ' + what if what else ''}"
        time.sleep(0.05)
