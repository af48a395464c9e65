"""`ape run deploy --network ... --account ...`: deploy and wire the whole system.

On local networks the roles default to ape's test accounts, and `--fund AMOUNT` gives every
other test account AMOUNT VVV from the genesis supply; on any other network the roles are
required, and an existing `deployments/<network>.json` is never overwritten without --overwrite."""

import json

import click
from ape.api import AccountAPI, NetworkAPI
from ape.cli import account_option

from vvv.chain.cli import ChainCommand, fail
from vvv.chain.deployment import (
    DeploymentError,
    deploy_system,
    ephemeral_note,
    fund_test_accounts,
    funding_recipients,
    is_ephemeral,
    local_role_defaults,
    parse_vcu,
    record_path,
    shown,
)
from vvv.chain.units import AmountError, format_amount, parse_amount


def funding(text: str | None, account: AccountAPI, genesis_holder: str | None) -> int:
    """The VVV amount of --fund in wei (0: no funding), checked before anything is sent."""
    if text is None:
        return 0
    try:
        amount = parse_amount(text, allow_zero=False)
    except AmountError as err:
        fail(f"--fund {err}")
    if genesis_holder is not None and genesis_holder.lower() != account.address.lower():
        fail("--fund pays from the deployer's wallet: it cannot be used with another --genesis-holder")
    try:
        funding_recipients(account, amount)
    except DeploymentError as err:
        fail(f"--fund: {err}; nothing was sent")
    return amount


@click.command(cls=ChainCommand)
@account_option()
@click.option("--treasury", help="Receiver of the treasury's part of the emission.")
@click.option("--oracle", "oracle_address", help="Holder of the oracle role (posts daily reports).")
@click.option("--guardian", help="Holder of the guardian role (rejects reports, pauses).")
@click.option("--activity-signer", help="Key that signs activity receipts (gets ACTIVITY_SIGNER_ROLE; not the oracle).")
@click.option("--genesis-holder", help="Receiver of the 100,000,000 VVV genesis supply (default: deployer).")
@click.option("--capacity", default="181480", show_default=True, help="Initial daily capacity in VCU.")
@click.option(
    "--rights-cap",
    default="500",
    show_default=True,
    help="ComputeRights' immutable cap RCAP in VCU (a mint also needs R + n <= minCapacity / 2).",
)
@click.option("--fund", "fund_text", metavar="VVV", help="Local chains: give every other test account this much VVV.")
@click.option("--overwrite", is_flag=True, help="Replace an existing deployment record (live networks).")
@click.option("--json", "as_json", is_flag=True, help="Print the deployment record as one JSON object.")
def cli(
    network: NetworkAPI,
    account: AccountAPI,
    treasury: str | None,
    oracle_address: str | None,
    guardian: str | None,
    activity_signer: str | None,
    genesis_holder: str | None,
    capacity: str,
    rights_cap: str,
    fund_text: str | None,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Deploy VVVToken, VVVStaking, EpochOracle, EmissionsController and ComputeRights."""
    roles = {"treasury": treasury, "oracle": oracle_address, "guardian": guardian}
    if network.name == "local":
        roles = {k: v or local_role_defaults()[k] for k, v in roles.items()}
    missing = [k for k, v in roles.items() if not v]
    if missing:
        fail(f"missing --{', --'.join(missing)} (required on {network.name})")
    if activity_signer is None and network.name == "local":
        activity_signer = local_role_defaults()["activity_signer"]
    amount = funding(fund_text, account, genesis_holder)
    try:
        cap = parse_amount(rights_cap, allow_zero=False)
    except AmountError as err:
        fail(f"--rights-cap {err}")
    try:
        vcu = parse_vcu(capacity)
        system = deploy_system(account, genesis_holder=genesis_holder, activity_signer=activity_signer, capacity=vcu,
                               overwrite=overwrite, rights_cap=cap, **roles)  # fmt: skip
    except (DeploymentError, ValueError) as err:
        fail(str(err))
    funded = fund_test_accounts(system, account, amount) if amount else []
    path = shown(record_path())
    if is_ephemeral():
        click.echo(f"note: {ephemeral_note()}", err=True)
    if as_json:
        data = {**system.record, "record": path, "funded": {"amount": format_amount(amount), "accounts": funded}}
        click.echo(json.dumps(data, indent=2))
        return
    for name, address in system.record["contracts"].items():
        click.echo(f"{name:20} {address}")
    if funded:
        click.echo(f"funded {len(funded)} test accounts with {format_amount(amount)} VVV each")
    if system.record["roles"]["activity_signer"]:
        click.echo(f"activity signer {system.record['roles']['activity_signer']} (ACTIVITY_SIGNER_ROLE)")
    click.echo(f"genesis epoch {system.record['genesis_epoch']}; recorded in {path}")
