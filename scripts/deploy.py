"""`ape run deploy --network ... --account ...`: deploy and wire the whole system.

On local networks the roles default to ape's test accounts; on any other network they are
required, and an existing `deployments/<network>.json` is never overwritten without --overwrite."""

import click
from ape.api import AccountAPI, EcosystemAPI, NetworkAPI, ProviderAPI
from ape.cli import account_option

from vvv.chain.cli import ChainCommand, fail
from vvv.chain.deployment import DeploymentError, deploy_system, local_role_defaults, parse_vcu


@click.command(cls=ChainCommand)
@account_option()
@click.option("--treasury", help="Receiver of the treasury's part of the emission.")
@click.option("--oracle", "oracle_address", help="Holder of the oracle role (posts daily reports).")
@click.option("--guardian", help="Holder of the guardian role (rejects reports, pauses).")
@click.option("--genesis-holder", help="Receiver of the 100,000,000 VVV genesis supply (default: deployer).")
@click.option("--capacity", default="181480", show_default=True, help="Initial daily capacity in VCU.")
@click.option("--overwrite", is_flag=True, help="Replace an existing deployment record (live networks).")
def cli(
    ecosystem: EcosystemAPI,
    network: NetworkAPI,
    provider: ProviderAPI,
    account: AccountAPI,
    treasury: str | None,
    oracle_address: str | None,
    guardian: str | None,
    genesis_holder: str | None,
    capacity: str,
    overwrite: bool,
) -> None:
    """Deploy VVVToken, VVVStaking, EpochOracle and EmissionsController."""
    roles = {"treasury": treasury, "oracle": oracle_address, "guardian": guardian}
    if network.name == "local":
        roles = {k: v or local_role_defaults()[k] for k, v in roles.items()}
    missing = [k for k, v in roles.items() if not v]
    if missing:
        fail(f"missing --{', --'.join(missing)} (required on {network.name})")
    try:
        system = deploy_system(
            account, genesis_holder=genesis_holder, capacity=parse_vcu(capacity), overwrite=overwrite, **roles
        )
    except (DeploymentError, ValueError) as err:
        fail(str(err))
    for name, address in system.record["contracts"].items():
        click.echo(f"{name:20} {address}")
    record = system.record
    click.echo(f"genesis epoch {record['genesis_epoch']}; recorded in deployments/{record['network']}.json")
