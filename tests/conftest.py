"""Session-scoped roles and module-scoped deployments shared by the whole suite.

ape snapshots the chain around every test, so module fixtures deploy once per module and each
test starts from the same state."""

import pytest

from tests.helpers import DAY


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
