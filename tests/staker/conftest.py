"""Fixtures of the staker command-line tests (the CLI runner's, and the world of the staker's
status and rights tests)."""

import pytest

from tests.cli_runner import deployments, staker_cli  # noqa: F401 (pytest fixtures)
from tests.helpers import DAY, E18, at, mine_at
from vvv.oracle.report import run_oracle
from vvv.oracle.usage import ApiCall, UsageStore


@pytest.fixture
def g(system):
    return system.emissions.genesisEpoch()


@pytest.fixture
def funded(system, deployer, alice, bob, carol, g):
    """alice, bob and carol hold 1,000 VVV each (no allowance), before genesis."""
    t = g * DAY - 20_000
    for who in (alice, bob, carol):
        at(t)
        system.token.transfer(who, 1_000 * E18, sender=deployer)
        t += 1
    mine_at(t)
    return t + 1


@pytest.fixture
def reported(system, deployer, alice, bob, carol, oracle, staker_cli, g, funded, tmp_path):  # noqa: F811
    """alice 300, bob 100, carol 100 VVV staked. On day g alice uses 18,148 VCU (10% of the
    capacity) and carol 1 VCU; bob never calls. The oracle posts epoch g's report (proofs file
    in the CLI's reports folder); on day g+1 alice spends 1,000 VCU more."""
    s, t = system.staking, funded
    for who, amount in ((alice, 300), (bob, 100), (carol, 100)):
        at(t)
        system.token.approve(s, amount * E18, sender=who)
        at(t + 1)
        s.stake(amount * E18, sender=who)
        t += 2
    store = UsageStore(staker_cli.usage_db, create=True)
    store.add([
        ApiCall(g * DAY + 100, alice.address, "llama-3.3-70b", 1, 1, 0, 18_147 * E18),
        ApiCall(g * DAY + 200, carol.address, "llama-3.3-70b", 1, 1, 0, 1 * E18),
        ApiCall((g + 1) * DAY + 300, alice.address, "llama-3.3-70b", 1, 1, 0, 1_000 * E18),
    ])  # fmt: skip
    mine_at((g + 1) * DAY + 600)  # the oracle sees epoch g closed
    at((g + 1) * DAY + 601)
    run_oracle(system, store, oracle, reports_dir=staker_cli.reports, echo=lambda _: None)
    mine_at((g + 1) * DAY + 3_600)
    return store
