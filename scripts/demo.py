"""`ape run demo`: the whole protocol for two simulated weeks on ape's in-process chain (or any
local chain with --network), with tables, a JSON summary (--json) and PNG plots in --out."""

import json
from pathlib import Path

import click
from ape.api import NetworkAPI
from ape.cli import ConnectedProviderCommand
from ape.logging import logger
from rich.console import Console

from vvv.chain.cli import fail
from vvv.demo.plots import draw_all
from vvv.demo.render import show_summary
from vvv.demo.run import run_demo
from vvv.demo.summary import summarize


@click.command(cls=ConnectedProviderCommand)
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 60))
@click.option("--stakers", default=40, show_default=True, type=click.IntRange(1, 500))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--out", type=click.Path(path_type=Path), default=Path("demo-out"), show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object (progress on stderr).")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
def cli(network: NetworkAPI, days: int, stakers: int, seed: int, out: Path, as_json: bool, no_plots: bool) -> None:
    """Deploy, stake, use the API, report, mint and stream for DAYS simulated days."""
    if network.name != "local":
        fail(f"the demo runs on a local chain only (it moves time), not on {network.name}")
    logger.set_level("WARNING")  # not one "Confirmed 0x..." line per transaction
    errors = Console(stderr=True)
    run = run_demo(days, stakers, seed, out, progress=lambda line: errors.print(f"[dim]{line}[/dim]"))
    summary = summarize(run)
    plots = [] if no_plots else draw_all(summary, out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        console = Console(width=max(Console().width, 170))
        show_summary(summary, console)
        for path in plots:
            console.print(f"plot: {path}")
        console.print(f"summary: {out / 'summary.json'}")
    if not summary["supply_check"]:
        fail("total supply does not equal 100M + the days' emissions")
