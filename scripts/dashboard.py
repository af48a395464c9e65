"""`ape run dashboard --network ...`: serve the staking page (web/dist, built by `npm run build`)
and its read-only JSON API for the deployment recorded for that network. It holds no key and
sends nothing: every transaction is signed in the user's wallet.

Options: --host/--port (default 127.0.0.1:8000), --reports-dir (the oracle's proofs files, for
the VCU panel), --usage-db (the meter's store, for what was spent today), --prices,
--web-dir (the built page), --gateway (the metered API: the page's API keys panel signs its
requests in the wallet and this server passes them on)."""

from pathlib import Path

import click
from ape.api import ProviderAPI

from vvv.chain.cli import ChainCommand, fail
from vvv.chain.deployment import DeploymentError
from vvv.dashboard.app import WebDirMissing
from vvv.dashboard.serve import WEB_DIR, NoEndpoint, open_dashboard, serve
from vvv.oracle.pricing import DEFAULT_PRICES, PricingError, load_prices
from vvv.oracle.usage import UsageError


@click.command(cls=ChainCommand)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--reports-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--usage-db", help="The meter's usage store (SQLAlchemy URL), for today's spend.")
@click.option("--prices", type=click.Path(path_type=Path), default=DEFAULT_PRICES, help="Price table (CSV).")
@click.option("--web-dir", type=click.Path(path_type=Path), default=WEB_DIR, help="The built page.")
@click.option("--gateway", "gateway_url", help="The gateway (`ape run gateway`), for the page's API keys panel.")
def cli(
    provider: ProviderAPI,
    host: str,
    port: int,
    reports_dir: Path,
    usage_db: str | None,
    prices: Path,
    web_dir: Path,
    gateway_url: str | None,
) -> None:
    """Serve the staking page for the connected chain's deployment."""
    try:
        dashboard = open_dashboard(load_prices(prices), reports_dir, usage_db, gateway_url)
        serve(dashboard, web_dir, host, port)
    except (DeploymentError, UsageError, PricingError, NoEndpoint, WebDirMissing, OSError) as err:
        fail(str(err))
