"""`ape run oracle --network ... --account ...`: post every closed, unreported epoch's report.

Options: --dry-run (build, check and print; write and send nothing), --until-epoch N,
--usage-db URL, --import FILE (CSV or JSONL usage, imported first, all-or-nothing),
--capacity VCU (the next day's capacity; default: unchanged), --distribute (also distribute
every final epoch)."""

from pathlib import Path

import click
from ape.api import AccountAPI, EcosystemAPI, NetworkAPI, ProviderAPI
from ape.cli import account_option

from vvv.chain.cli import ChainCommand, fail
from vvv.chain.deployment import DeploymentError, load_system, parse_vcu
from vvv.oracle.proofs import ProofsError
from vvv.oracle.report import OracleError, run_oracle
from vvv.oracle.usage import DEFAULT_URL, UsageError, UsageStore


@click.command(cls=ChainCommand)
@account_option()
@click.option("--dry-run", is_flag=True, help="Build, check and print; write and send nothing.")
@click.option("--until-epoch", type=int, help="Stop after this epoch.")
@click.option("--usage-db", default=DEFAULT_URL, show_default=True, help="SQLAlchemy URL of the usage store.")
@click.option("--import", "import_file", type=click.Path(path_type=Path), help="Usage file to import first.")
@click.option("--capacity", help="Capacity (VCU) for the next day; default: the last one.")
@click.option("--reports-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--distribute", is_flag=True, help="Also distribute every final, undistributed epoch.")
def cli(
    ecosystem: EcosystemAPI,
    network: NetworkAPI,
    provider: ProviderAPI,
    account: AccountAPI,
    dry_run: bool,
    until_epoch: int | None,
    usage_db: str,
    import_file: Path | None,
    capacity: str | None,
    reports_dir: Path,
    distribute: bool,
) -> None:
    """Post the daily reports of the epoch oracle."""
    try:
        run_oracle(
            load_system(),
            UsageStore(usage_db),
            account,
            import_file=import_file,
            distribute=distribute,
            echo=click.echo,
            reports_dir=reports_dir,
            until_epoch=until_epoch,
            capacity=parse_vcu(capacity) if capacity else None,
            dry_run=dry_run,
        )
    except (DeploymentError, OracleError, ProofsError, UsageError, ValueError) as err:
        fail(str(err))
