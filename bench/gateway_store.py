"""A usage store for bench/gateway.py, made by whichever tree is on PYTHONPATH (the current one,
or an older commit's extracted by the bench): the store's tables as that tree's gateway creates
them, one key per account, and that tree's test price table; prints the keys' secrets, one a line.

    PYTHONPATH=TREE python bench/gateway_store.py USAGE_URL ACCOUNTS PRICES_OUT"""

from __future__ import annotations

import sys
from pathlib import Path

from eth_account import Account

from tests.gateway.gateway_support import NOW, PRICES
from tests.gateway.keys_support import DOMAIN
from vvv.chain.apikeys import CreateKey, key_hash, sign
from vvv.gateway.keys import KeyStore
from vvv.gateway.ledger import Ledger
from vvv.oracle.usage import UsageStore


def prepare(url: str, accounts: int) -> list[str]:
    store = UsageStore(url, create=True)
    Ledger(store)
    keys = KeyStore(store.engine, DOMAIN)
    secrets = []
    for i in range(accounts):
        who = Account.from_key((1_000 + i).to_bytes(32, "big"))
        secrets.append(f"vvv_bench_{i}")
        create = CreateKey(who.address.lower(), "bench", 0, 0, 1, key_hash(secrets[-1]), NOW + 600)
        keys.create(sign(who, create, DOMAIN), NOW)
    store.engine.dispose()
    return secrets


if __name__ == "__main__":
    usage_url, count, prices_out = sys.argv[1:]
    Path(prices_out).write_text(PRICES)
    print("\n".join(prepare(usage_url, int(count))))
