"""Helpers of the API-key tests: two wallets with well-known keys (private keys 1 and 2), a
domain and a time, a key store for tests without a chain, a clock to set, and an
ASGI app served by uvicorn on loopback, in a thread of the test process."""

from __future__ import annotations

import threading
import time

import uvicorn
from eth_account import Account

from tests.cli_runner import free_port, once_per_suite_run
from vvv.chain.apikeys import Domain
from vvv.gateway.keys import KeyStore

ALICE = Account.from_key("0x" + "00" * 31 + "01")  # 0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf
BOB = Account.from_key("0x" + "00" * 31 + "02")  # 0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF
DOMAIN = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
NOW = 1_900_000_000  # 2030-03-17 17:46:40 UTC


def chainless_store(usage_url: str) -> KeyStore:
    """A key store of DOMAIN at `usage_url` for a test that touches no chain: it runs once per
    `make test` (in its anvil pass)."""
    once_per_suite_run()
    return KeyStore.open(usage_url, DOMAIN, create=True)


class Clock:
    """A clock the test sets: `clock()` is `clock.now`."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Served:
    """`with Served(app) as url:` the app answers on http://127.0.0.1:PORT until the block ends."""

    def __init__(self, app) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
