"""`ape run oracle --network ... --account ...`: post every closed, unreported epoch's report.

Options: --dry-run (build, check and print; write nothing anywhere and send nothing),
--until-epoch N, --usage-db URL (must exist unless --create-usage-db), --import FILE (CSV or
JSONL usage, checked against --prices, imported first, all-or-nothing, calls already in the
store skipped), --capacity VCU (the next day's capacity; default: unchanged), --distribute
(also distribute every final epoch), the sanity bounds (--max-utilization-change,
--max-active-stake-drop, --max-active-stake-rise, --allow-outlier) and the sending options
(--tx-timeout, --max-replacements)."""

from pathlib import Path

import click
from ape.api import AccountAPI, EcosystemAPI, NetworkAPI, ProviderAPI
from ape.cli import account_option

from vvv.chain.cli import ChainCommand, fail
from vvv.chain.deployment import DeploymentError, load_system, parse_vcu
from vvv.oracle.pricing import DEFAULT_PRICES, PricingError, load_prices
from vvv.oracle.proofs import ProofsError
from vvv.oracle.report import OracleError, SanityBounds, SendOptions, open_store, run_oracle
from vvv.oracle.sending import RefusedError, SendError
from vvv.oracle.usage import DEFAULT_URL, UsageError

LIMITS = SanityBounds()


@click.command(cls=ChainCommand)
@account_option()
@click.option("--dry-run", is_flag=True, help="Build, check and print; write nothing (store, files) and send nothing.")
@click.option("--until-epoch", type=int, help="Stop after this epoch.")
@click.option("--usage-db", default=DEFAULT_URL, show_default=True, help="SQLAlchemy URL of the usage store.")
@click.option("--create-usage-db", is_flag=True, help="Create the usage store if it does not exist.")
@click.option("--import", "import_file", type=click.Path(path_type=Path), help="Usage file to import first.")
@click.option("--prices", type=click.Path(path_type=Path), default=DEFAULT_PRICES, show_default=True,
              help="Price table the imported costs are checked against.")  # fmt: skip
@click.option("--capacity", help="Capacity (VCU) for the next day; default: the last one.")
@click.option("--reports-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--distribute", is_flag=True, help="Also distribute every final, undistributed epoch.")
@click.option("--max-utilization-change", type=click.IntRange(0, 10_000), default=LIMITS.max_utilization_change_bps,
              show_default=True, help="Sanity bound: utilization change from the previous report (bps).")  # fmt: skip
@click.option("--max-active-stake-drop", type=click.IntRange(0, 10_000), default=LIMITS.max_active_stake_drop_bps,
              show_default=True, help="Sanity bound: fall of the active stake (bps of the previous).")  # fmt: skip
@click.option("--max-active-stake-rise", type=click.IntRange(0), default=LIMITS.max_active_stake_rise_bps,
              show_default=True, help="Sanity bound: rise of the active stake (bps of the previous).")  # fmt: skip
@click.option("--allow-outlier", is_flag=True, help="Post a report that fails the sanity bounds (after checking it).")
@click.option("--tx-timeout", type=click.FloatRange(min=1), default=120.0, show_default=True,
              help="Seconds to wait for a transaction before replacing it with higher fees.")  # fmt: skip
@click.option("--max-replacements", type=click.IntRange(0, 10), default=3, show_default=True)
def cli(
    ecosystem: EcosystemAPI,
    network: NetworkAPI,
    provider: ProviderAPI,
    account: AccountAPI,
    dry_run: bool,
    until_epoch: int | None,
    usage_db: str,
    create_usage_db: bool,
    import_file: Path | None,
    prices: Path,
    capacity: str | None,
    reports_dir: Path,
    distribute: bool,
    max_utilization_change: int,
    max_active_stake_drop: int,
    max_active_stake_rise: int,
    allow_outlier: bool,
    tx_timeout: float,
    max_replacements: int,
) -> None:
    """Post the daily reports of the epoch oracle."""
    bounds = SanityBounds(max_utilization_change, max_active_stake_drop, max_active_stake_rise, allow_outlier)
    try:
        system = load_system()
        next_capacity = parse_vcu(capacity) if capacity else None
        table = load_prices(prices) if import_file is not None else None
        store = open_store(usage_db, create=create_usage_db, dry_run=dry_run, echo=click.echo)
        run_oracle(
            system,
            store,
            account,
            import_file=import_file,
            prices=table,
            distribute=distribute,
            echo=click.echo,
            reports_dir=reports_dir,
            until_epoch=until_epoch,
            capacity=next_capacity,
            dry_run=dry_run,
            bounds=bounds,
            send=SendOptions(tx_timeout, max_replacements),
        )
    except (DeploymentError, OracleError, ProofsError, UsageError, PricingError, RefusedError, SendError,
            ValueError) as err:  # fmt: skip
        fail(str(err))
