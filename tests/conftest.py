"""Session-scoped roles and module-scoped deployments shared by the whole suite.

ape snapshots the chain around every test, so module fixtures deploy once per module and each
test starts from the same state."""

import ast

import ape
import pytest
from ape import chain
from ape.exceptions import CustomError
from ape.pytest.contextmanagers import RevertsContextManager
from eth_utils import keccak

from tests.helpers import DAY, at
from tests.passes import ANVIL, IN_PROCESS, PASSES, only_in
from tests.postgres import postgres_server, postgres_url, usage_url  # noqa: F401 (fixtures)
from vvv.chain.deployment import NO_LOCKER


def _revert_data(error: Exception) -> bytes:
    """The raw revert data (at least its selector) of an error ape did not decode: ape keeps it
    as text, the repr of the bytes on the in-process chain, "custom error 0x..." on anvil."""
    text = str(getattr(error, "revert_message", "") or "")
    if text.startswith("custom error 0x"):  # anvil: "custom error 0x<selector>: <data>"
        return bytes.fromhex(text[len("custom error 0x") :][:8])
    if text.startswith(("b'", 'b"')):
        return ast.literal_eval(text)
    if text.startswith("0x"):
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            return b""
    return b""


class StrictReverts(RevertsContextManager):
    """`ape.reverts(SomeContract.SomeError, ...)` that fails unless that very error was raised.
    ape's own accepts any revert that is not a decoded custom error (a panic such as an
    arithmetic underflow, a bare `revert()`) as matching an expected custom error, so a broken
    contract could pass a test that names the error it expects. A custom error ape leaves
    undecoded (a reverting view call on the in-process chain) must carry the expected selector."""

    def __exit__(self, exc_type, exc_value, traceback) -> bool:
        handled = super().__exit__(exc_type, exc_value, traceback)
        expected = self.expected_message
        if isinstance(expected, type) and issubclass(expected, CustomError) and not isinstance(exc_value, expected):
            if isinstance(exc_value, CustomError):  # decoded: the same error (a deployment's class may differ)
                matches = exc_value.abi.selector == expected.abi.selector
            else:
                matches = _revert_data(exc_value).startswith(keccak(text=expected.abi.selector)[:4])
            if not matches:
                raise AssertionError(f"expected the error {expected.__name__}, the revert was {exc_value!r}")
        return handled


ape.reverts = StrictReverts  # every `ape.reverts(...)` in the suite is the strict one


# ------------------------------------------------------------------ tests that run in one pass (tests/passes.py)

# ape's fixtures that reach the session's chain: a one-pass test must not request them
_CHAIN_FIXTURES = {"chain", "accounts", "networks"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"one_pass(name): the test does not use the session's chain, so `make test` runs it once, in the "
        f"pass named ({IN_PROCESS!r} or {ANVIL!r}); the other pass skips it (tests/passes.py)",
    )


def _one_pass(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("one_pass")
    if marker is None:
        return None
    if len(marker.args) != 1 or marker.args[0] not in PASSES:
        raise pytest.UsageError(f"{item.nodeid}: one_pass takes one pass name, {IN_PROCESS!r} or {ANVIL!r}")
    return marker.args[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A one-pass test that requests a fixture of the session's chain is a mistake: refused."""
    for item in items:
        if _one_pass(item) is not None:
            used = _CHAIN_FIXTURES.intersection(getattr(item, "fixturenames", ()))
            if used:
                names = ", ".join(sorted(used))
                raise pytest.UsageError(f"{item.nodeid} is marked one_pass but uses the chain: {names}")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    name = _one_pass(item)
    if name is not None:
        only_in(name)


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
    return project.VVVStaking.deploy(token, deployer, 3 * DAY, guardian, notifier, NO_LOCKER, sender=deployer)


@pytest.fixture(scope="module")
def system(deployer, treasury, oracle, guardian):
    """The whole system, deployed and wired by the deployment routine (no record written)."""
    from vvv.chain.deployment import deploy_system

    # Deploy one hour into a UTC day, so that the genesis epoch starts ~23 h later whatever the
    # wall-clock time: tests have room for set-up before genesis.
    at((chain.pending_timestamp // DAY + 1) * DAY + 3_600)
    return deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian, record=False)
