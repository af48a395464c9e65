"""`ape run watchdog --network ... --account ALIAS`: check every pending report once against its
published proofs file, the chain and the known activity receipts, and send the cheapest challenge
that proves the first lie found. One line per report.

Options: --reports-dir DIR (where the proofs files are published, `<chain id>/<epoch>.json`),
--receipts FILE.jsonl (activity receipts, one `Receipt.to_json()` per line), --usage-db URL (the
receipts the meter stored), --dry-run (find and
estimate the challenge; send nothing)."""

from pathlib import Path

import click
from ape.api import AccountAPI, EcosystemAPI, NetworkAPI, ProviderAPI
from ape.cli import account_option

from vvv.chain.cli import ChainCommand, fail
from vvv.chain.deployment import DeploymentError, load_system
from vvv.oracle.sending import is_node_error
from vvv.oracle.usage import UsageError, UsageStore
from vvv.oracle.watchdog import WatchdogError, pending_epochs, read_receipts, watch


@click.command(cls=ChainCommand)
@account_option()
@click.option("--reports-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--receipts", "receipts_file", type=click.Path(path_type=Path), help="Activity receipts (JSONL).")
@click.option("--usage-db", help="Also read the activity receipts the meter stored (SQLAlchemy URL).")
@click.option("--dry-run", is_flag=True, help="Find the lies and estimate the challenges; send nothing.")
def cli(
    ecosystem: EcosystemAPI,
    network: NetworkAPI,
    provider: ProviderAPI,
    account: AccountAPI,
    reports_dir: Path,
    receipts_file: Path | None,
    usage_db: str | None,
    dry_run: bool,
) -> None:
    """Challenge every pending report that lies."""
    try:
        system = load_system()
        receipts = read_receipts(receipts_file) if receipts_file is not None else []
        pending = pending_epochs(system)
        if usage_db is not None and pending:  # receipts of the pending reports' activity windows
            receipts += UsageStore(usage_db).receipts(min(pending) - 6, max(pending))
        findings = watch(system, account, receipts, reports_dir=reports_dir, dry_run=dry_run, echo=click.echo)
    except (DeploymentError, WatchdogError, UsageError) as err:
        fail(str(err))
    except Exception as err:
        if not is_node_error(err):
            raise
        text = str(err).strip().splitlines()
        fail(f"lost the node ({text[0] if text else type(err).__name__}); a challenge not reported here was not sent")
    if not findings:
        click.echo("no pending report")
