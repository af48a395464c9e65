"""Demo driver (staking-core placeholder): deploy with test accounts and report."""

from collections.abc import Callable

from ape import accounts, project

DAY = 86_400


def run_placeholder(echo: Callable[[str], None]) -> dict[str, str]:
    """Deploy VVVToken and VVVStaking from the first test account and print the addresses."""
    deployer, guardian, notifier = (
        accounts.test_accounts[0],
        accounts.test_accounts[4],
        accounts.test_accounts[5],
    )
    token = project.VVVToken.deploy(deployer, notifier, sender=deployer)
    staking = project.VVVStaking.deploy(token, deployer, 3 * DAY, guardian, notifier, sender=deployer)
    deployed = {"VVVToken": token.address, "VVVStaking": staking.address}
    for name, address in deployed.items():
        echo(f"{name:12} {address}")
    echo(f"genesis supply {token.totalSupply() / 10**18:,.0f} VVV held by {deployer.address}")
    echo(f"unbonding period {staking.UNBONDING_PERIOD() // DAY} days")
    return deployed
