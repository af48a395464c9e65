"""`ape run gateway --network ... --upstream URL`: the OpenAI-compatible API that meters VCU.
Calls need an API key (`ape run staker keys create`); each is reserved at its worst case against
the account's allotment left today and the key's daily cap (402 when it does not fit), forwarded
to the upstream, and charged its usage in the usage store (the oracle's input).

Options: --usage-db URL (must exist: the oracle's `--create-usage-db` makes one), --reports-dir
(the oracle's proofs files, for the allotments), --prices, --signer ALIAS (the key holding
ACTIVITY_SIGNER_ROLE that signs the activity receipts; a keyfile's passphrase in
APE_ACCOUNTS_<ALIAS>_PASSPHRASE), --host/--port (default 127.0.0.1:8100), --output-limit (output
tokens reserved for a chat that names no max_tokens). The upstream's API key, if it needs one,
is read from VVV_UPSTREAM_API_KEY."""

from pathlib import Path

import click
from ape.api import ProviderAPI

from vvv.chain.cli import ChainCommand, fail
from vvv.chain.deployment import DeploymentError
from vvv.gateway.requests import DEFAULT_OUTPUT_LIMIT
from vvv.gateway.serve import GatewaySetupError, open_gateway, serve
from vvv.oracle.pricing import DEFAULT_PRICES, PricingError, load_prices
from vvv.oracle.usage import DEFAULT_URL, UsageError


@click.command(cls=ChainCommand)
@click.option("--upstream", required=True, help="The OpenAI-compatible server to forward to (http(s) URL).")
@click.option("--usage-db", default=DEFAULT_URL, show_default=True, help="The usage store (SQLAlchemy URL).")
@click.option("--reports-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--prices", type=click.Path(path_type=Path), default=DEFAULT_PRICES, help="Price table (CSV).")
@click.option("--signer", help="ape account holding ACTIVITY_SIGNER_ROLE (signs the activity receipts).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8100, show_default=True, type=click.IntRange(1, 65535))
@click.option("--output-limit", default=DEFAULT_OUTPUT_LIMIT, show_default=True, type=click.IntRange(1, 1_000_000))
def cli(
    provider: ProviderAPI,
    upstream: str,
    usage_db: str,
    reports_dir: Path,
    prices: Path,
    signer: str | None,
    host: str,
    port: int,
    output_limit: int,
) -> None:
    """Serve the metered, OpenAI-compatible API."""
    try:
        gateway = open_gateway(upstream, usage_db, reports_dir, load_prices(prices), signer, output_limit)
        serve(gateway, host, port)
    except (DeploymentError, UsageError, PricingError, GatewaySetupError, OSError) as err:
        fail(str(err))
