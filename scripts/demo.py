"""`ape run demo`: deploy the staking core on ape's in-process chain and print what was deployed.

(The full two-week simulation lands with the demo issue; this is the staking-core placeholder.)"""

import click
from ape.cli import ConnectedProviderCommand

from vvv.demo import run_placeholder


@click.command(cls=ConnectedProviderCommand)
def cli(ecosystem, network, provider) -> None:  # noqa: ANN001
    """Deploy the token and staking contracts with test accounts and print their addresses."""
    run_placeholder(click.echo)
