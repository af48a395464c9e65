"""Serving the dashboard: the `Dashboard` read side for the connected chain, and uvicorn."""

from __future__ import annotations

import contextlib
from pathlib import Path

import uvicorn
from ape import networks

from vvv.chain.deployment import is_local, load_system
from vvv.dashboard.app import metered_app
from vvv.dashboard.data import Dashboard
from vvv.oracle.pricing import PriceTable
from vvv.oracle.usage import UsageStore

WEB_DIR = Path(__file__).resolve().parents[2] / "web" / "dist"


class NoEndpoint(RuntimeError):
    """The connected chain has no RPC endpoint a browser could use."""


def rpc_url() -> str:
    """The node's HTTP endpoint, which the page's wallet and reads use."""
    uri = getattr(networks.provider, "http_uri", None) or getattr(networks.provider, "uri", None)
    if not uri or not str(uri).startswith("http"):
        raise NoEndpoint(
            f"{networks.provider.network_choice} has no HTTP endpoint for the browser: serve a node "
            "(`make chain` and --network ethereum:local:node, or a live network)"
        )
    return str(uri)


def open_dashboard(
    prices: PriceTable, reports_dir: Path | None, usage_url: str | None, gateway_url: str | None = None
) -> Dashboard:
    """The read side for the connected chain; a usage store is opened (never created) at once,
    so a mistyped --usage-db fails here with one line."""
    if gateway_url is not None and not gateway_url.startswith(("http://", "https://")):
        raise NoEndpoint(f"--gateway {gateway_url!r} is not an http(s) URL")
    system = load_system()
    if usage_url is not None:
        UsageStore(usage_url)
    return Dashboard(
        system=system,
        prices=prices,
        rpc_url=rpc_url(),
        local=is_local(),
        network=networks.provider.network_choice,
        reports_dir=reports_dir,
        usage_url=usage_url,
        gateway_url=gateway_url,
    )


ZERO_ADDRESS = "0x" + "00" * 20


def warm_up(dashboard: Dashboard) -> None:
    """Make the reads a page load makes once before the first visitor (ape's first calls of each
    contract, the history's events): cold, they took seconds, one after another under the
    server's lock. A failure here is the first request's to report, not the start's."""
    for read in (dashboard.config, dashboard.history, lambda: dashboard.proof(ZERO_ADDRESS, None),
                 lambda: dashboard.spend(ZERO_ADDRESS)):  # fmt: skip
        with contextlib.suppress(Exception):
            read()


def serve(dashboard: Dashboard, web_dir: Path, host: str, port: int) -> None:
    app = metered_app(dashboard, web_dir)
    warm_up(dashboard)
    print(f"dashboard on http://{host}:{port}/ (chain {dashboard.network}; metrics at /metrics; Ctrl-C stops it)",
          flush=True)  # fmt: skip
    uvicorn.run(app, host=host, port=port, log_level="warning")
