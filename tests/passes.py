"""The two passes of `make test`: the suite runs on ape's in-process chain and on anvil
(tools/run_suites.sh, side by side). A test that does not use the session's chain (pure Python,
a database, its own processes and chains) gains nothing from the second run: its module says
which pass runs it,

    pytestmark = pytest.mark.one_pass(IN_PROCESS)  # or ANVIL

(or the decorator on the one test of a module that is otherwise on the chain), and the other
pass skips it before any fixture is set up (tests/conftest.py). Put such a module in the pass
that is the shorter one (tools/run_suites.sh prints each pass's time);
the browser tests need anvil."""

import pytest
from ape import networks

IN_PROCESS = "in-process"
ANVIL = "anvil"
PASSES = (IN_PROCESS, ANVIL)


def current_pass() -> str:
    """The pass this session is: anvil (`--network ethereum:local:foundry`) or in-process."""
    return ANVIL if networks.provider.name == "foundry" else IN_PROCESS


def only_in(name: str, why: str = "does not use the session's chain") -> None:
    """Skip the calling test or fixture unless this session is the pass `name` (for a fixture
    that some tests share; a whole module uses the `one_pass` marker); `why` it runs once."""
    if current_pass() != name:
        pytest.skip(f"{why}: runs once, in the {name} pass of `make test`")
