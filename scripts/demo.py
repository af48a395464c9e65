"""`ape run demo`: the whole protocol for two simulated weeks on ape's in-process chain (or on
anvil, started by ape, with --network ethereum:local:foundry), with tables, a JSON summary
(--json) and PNG plots. Each run writes into a new folder `demo-out/<UTC time>`, or into --out,
which must be new or empty unless --overwrite is given."""

import json
from pathlib import Path

import click
from ape import accounts
from ape.api import ProviderAPI
from rich.console import Console

from vvv.chain.cli import ChainCommand, fail
from vvv.chain.deployment import DeploymentError, fund_test_accounts, funding_recipients, is_ephemeral
from vvv.chain.units import AmountError, parse_amount
from vvv.demo.output import OutputError, output_folder
from vvv.demo.plots import draw_all
from vvv.demo.render import show_summary
from vvv.demo.run import run_demo
from vvv.demo.summary import summarize


@click.command(cls=ChainCommand)
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 60))
@click.option("--stakers", default=40, show_default=True, type=click.IntRange(1, 500))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--out", type=click.Path(path_type=Path), help="Folder of the results (default: a new demo-out/<time>).")
@click.option("--overwrite", is_flag=True, help="Write into a non-empty --out, replacing an earlier run's results.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object (progress on stderr).")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@click.option("--record", is_flag=True, help="Write the deployment record (for `ape run dashboard` on this chain).")
@click.option("--fund", "fund_text", metavar="VVV", help="At the end, give every other test account this much VVV.")
def cli(
    provider: ProviderAPI,
    days: int,
    stakers: int,
    seed: int,
    out: Path | None,
    overwrite: bool,
    as_json: bool,
    no_plots: bool,
    record: bool,
    fund_text: str | None,
) -> None:
    """Deploy, stake, use the API, report, mint and stream for DAYS simulated days."""
    if not is_ephemeral():
        fail(f"the demo moves the chain's clock by days: it runs on a chain that ape starts for it "
             f"(ethereum:local:test, the default, or ethereum:local:foundry), not on "
             f"{provider.network_choice}")  # fmt: skip
    try:
        folder = output_folder(out, overwrite)
        fund = parse_amount(fund_text) if fund_text is not None else 0
        if fund:
            funding_recipients(accounts.test_accounts[0], fund)
    except (OutputError, AmountError, DeploymentError) as err:
        fail(f"--fund {err}" if isinstance(err, AmountError) else str(err))
    errors = Console(stderr=True)
    errors.print(f"[dim]writing into {folder}[/dim]")
    run = run_demo(days, stakers, seed, folder, progress=lambda line: errors.print(f"[dim]{line}[/dim]"), record=record)
    if fund:
        funded = fund_test_accounts(run.system, accounts.test_accounts[0], fund)
        errors.print(f"[dim]gave {len(funded)} test accounts {fund_text} VVV each[/dim]")
    summary = {**summarize(run), "out": str(folder)}
    plots = [] if no_plots else draw_all(summary, folder)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        console = Console()  # the terminal's width; 80 columns when not a terminal: the tables fit it
        show_summary(summary, console)
        for path in plots:
            console.print(f"plot: {path}")
        console.print(f"summary: {folder / 'summary.json'}")
    if not summary["supply_check"]:
        fail("total supply does not equal 100M + the days' emissions")
