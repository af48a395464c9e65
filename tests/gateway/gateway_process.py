"""One gateway in a process of its own, for the load test and bench/gateway.py:
    python -m tests.gateway.gateway_process USAGE_URL UPSTREAM_URL PORT PRICES ALLOTMENT_WEI NOW [LOCK_SECONDS]
Every account gets ALLOTMENT_WEI; NOW (unix seconds) fixes the clock (0: the wall clock);
LOCK_SECONDS is how long a request waits for the store's lock (the gateway's 2 s unless given).
The store and the keys must exist; receipts are signed with the tests' SIGNER."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import uvicorn


def main(argv: list[str]) -> None:
    from tests.gateway.gateway_support import ORACLE, SIGNER
    from tests.gateway.keys_support import DOMAIN
    from vvv.gateway.app import STORE_LOCK_SECONDS, Gateway, make_app
    from vvv.gateway.keys import KeyStore
    from vvv.gateway.ledger import Ledger
    from vvv.oracle.pricing import load_prices
    from vvv.oracle.receipts import ReceiptSigner
    from vvv.oracle.usage import UsageStore

    url, upstream, port, prices, allotment, now, *lock = argv
    store = UsageStore(url, lock_timeout=float(lock[0]) if lock else STORE_LOCK_SECONDS)
    ledger = Ledger(store, ReceiptSigner(SIGNER, DOMAIN.chain_id, ORACLE))
    clock = (lambda: float(now)) if int(now) else time.time
    gateway = Gateway(ledger, KeyStore(store.engine, DOMAIN), load_prices(Path(prices)),
                      lambda _a, _e: int(allotment), upstream, clock=clock)  # fmt: skip
    uvicorn.run(make_app(gateway), host="127.0.0.1", port=int(port), log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1:])
