"""Session-scoped roles and module-scoped deployments shared by the whole suite.

ape snapshots the chain around every test, so module fixtures deploy once per module and each
test starts from the same state."""

import pytest
from ape import chain

from tests.helpers import DAY, at


@pytest.fixture(scope="session")
def deployer(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def carol(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def guardian(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def notifier(accounts):
    """Stands in for the EmissionsController in the staking-only tests: it is the token's
    minter and the staking contract's notifier."""
    return accounts[5]


@pytest.fixture(scope="session")
def oracle(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def treasury(accounts):
    return accounts[7]


@pytest.fixture(scope="session")
def attacker(accounts):
    return accounts[8]


@pytest.fixture(scope="module")
def token(project, deployer, notifier):
    return project.VVVToken.deploy(deployer, notifier, sender=deployer)


@pytest.fixture(scope="module")
def staking(project, token, deployer, guardian, notifier):
    return project.VVVStaking.deploy(token, deployer, 3 * DAY, guardian, notifier, sender=deployer)


@pytest.fixture(scope="module")
def system(deployer, treasury, oracle, guardian):
    """The whole system, deployed and wired by the deployment routine (no record written)."""
    from vvv.deployment import deploy_system

    # Deploy one hour into a UTC day, so that the genesis epoch starts ~23 h later whatever the
    # wall-clock time: tests have room for set-up before genesis.
    at((chain.pending_timestamp // DAY + 1) * DAY + 3_600)
    return deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian, record=False)
