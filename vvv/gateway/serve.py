"""Serving the gateway for the connected chain's deployment: the usage store (opened, never
created), the keys' domain, the allotments from the chain and the proofs files, the receipt
signer (an ape account holding ACTIVITY_SIGNER_ROLE, unlocked once at start), and uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn
from ape import accounts
from ape.api import AccountAPI
from ape_accounts import KeyfileAccount

from vvv.chain.deployment import System, load_system
from vvv.gateway.allotments import ChainAllotments
from vvv.gateway.app import STORE_LOCK_SECONDS, Gateway
from vvv.gateway.metrics import GatewayMetrics, MeteredKeyStore, MeteredLedger, metered_app
from vvv.oracle.bot import BotSetupError, check_signer, passphrase_variable
from vvv.oracle.pricing import PriceTable
from vvv.oracle.receipts import ReceiptSigner
from vvv.oracle.usage import CREATE_HINT, StoreMissing, UsageStore
from vvv.staker.keys import domain_of

UPSTREAM_KEY_VARIABLE = "VVV_UPSTREAM_API_KEY"


class GatewaySetupError(RuntimeError):
    """The gateway cannot start as configured (one line)."""


def load_signer(system: System, alias: str) -> ReceiptSigner:
    """The receipt signer `alias` (TEST::n on local chains), unlocked for the server's life; it
    must hold ACTIVITY_SIGNER_ROLE, or its receipts would prove nothing."""
    try:
        check_signer(alias)
    except BotSetupError as err:
        raise GatewaySetupError(str(err).replace("the bot has", "the gateway has")) from None
    account: AccountAPI
    if alias.startswith("TEST::"):
        account = accounts.test_accounts[int(alias.removeprefix("TEST::"))]
    else:
        account = accounts.load(alias)
        if isinstance(account, KeyfileAccount):
            account.set_autosign(True, passphrase=os.environ[passphrase_variable(alias)])
    oracle = system.oracle
    if not oracle.hasRole(oracle.ACTIVITY_SIGNER_ROLE(), account.address):
        raise GatewaySetupError(
            f"{alias} ({account.address}) does not hold ACTIVITY_SIGNER_ROLE on the oracle {oracle.address}: "
            "its receipts would prove nothing (the admin grants it)"
        )
    return ReceiptSigner(account, int(system.record["chain_id"]), oracle.address)


def open_gateway(upstream: str, usage_url: str, reports_dir: Path, prices: PriceTable, signer_alias: str | None,
                 output_limit: int) -> Gateway:  # fmt: skip
    if not upstream.startswith(("http://", "https://")):
        raise GatewaySetupError(f"--upstream {upstream!r} is not an http(s) URL")
    system = load_system()
    try:
        # opened, never created: a mistyped --usage-db fails here; a store slow to lock: 503s
        store = UsageStore(usage_url, lock_timeout=STORE_LOCK_SECONDS)
    except StoreMissing as err:  # the oracle's option creates a store, not the gateway's
        hint = "the oracle creates one: ape run oracle --create-usage-db"
        raise GatewaySetupError(str(err).replace(CREATE_HINT, hint)) from None
    signer = load_signer(system, signer_alias) if signer_alias else None
    allotments = ChainAllotments(system, reports_dir, store)
    metrics = GatewayMetrics()  # served at /metrics by `serve`
    return Gateway(
        MeteredLedger(store, signer, metrics),
        MeteredKeyStore(store.engine, domain_of(system), metrics),
        prices,
        allotments,
        upstream,
        upstream_key=os.environ.get(UPSTREAM_KEY_VARIABLE),
        output_limit=output_limit,
        clock=allotments.clock,  # "today" is the chain's day (SPEC), keys' deadlines and expiries too
        stake_of=allotments.stake_of,
        estimate_of=allotments.estimate,
    )


def serve(gateway: Gateway, host: str, port: int) -> None:
    receipts = "signs activity receipts" if gateway.ledger.signer else "signs no activity receipts (no --signer)"
    ledger = gateway.ledger
    metrics = ledger.metrics if isinstance(ledger, MeteredLedger) else GatewayMetrics()
    print(f"gateway on http://{host}:{port}/v1 -> {gateway.upstream}; {receipts}; metrics at /metrics; Ctrl-C stops it",
          flush=True)  # fmt: skip
    uvicorn.run(metered_app(gateway, metrics), host=host, port=port, log_level="warning")
