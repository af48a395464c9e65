"""`ape run demo`: deploy the whole system on ape's in-process chain and print what was deployed.

(The full two-week simulation lands with the demo issue; this is the staking-core placeholder.)"""

import click
from ape.api import EcosystemAPI, NetworkAPI, ProviderAPI
from ape.cli import ConnectedProviderCommand

from vvv.demo import run_placeholder


@click.command(cls=ConnectedProviderCommand)
def cli(ecosystem: EcosystemAPI, network: NetworkAPI, provider: ProviderAPI) -> None:
    """Deploy the system with test accounts and print its addresses and parameters."""
    run_placeholder(click.echo)
