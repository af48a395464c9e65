"""Demo driver (placeholder until the demo issue): deploy the whole system on the connected
(local) chain with ape's test accounts and print what was deployed."""

from collections.abc import Callable

from ape import accounts

from vvv.deployment import DAY, deploy_system, local_role_defaults


def run_placeholder(echo: Callable[[str], None]) -> dict[str, str]:
    """Deploy with test account 0 and roles from the other test accounts; print the result."""
    deployer = accounts.test_accounts[0]
    system = deploy_system(deployer, **local_role_defaults())
    for name, address in system.record["contracts"].items():
        echo(f"{name:20} {address}")
    for role, address in system.record["roles"].items():
        echo(f"{role:20} {address}")
    echo(f"genesis supply       {system.token.totalSupply() / 10**18:,.0f} VVV")
    echo(f"epoch emission       {system.emissions.epochEmission() / 10**18:,.6f} VVV")
    echo(f"genesis epoch        {system.emissions.genesisEpoch()} (UTC day)")
    echo(f"unbonding period     {system.staking.UNBONDING_PERIOD() // DAY} days")
    echo(f"dispute window       {system.oracle.disputeWindow() // 3600} hours")
    echo(f"record               deployments/{system.record['network']}.json")
    return system.record["contracts"]
