"""Fixtures of the oracle end-to-end tests: a staked system and a usage store."""

import pytest

from tests.helpers import DAY, E18, at
from vvv.oracle.usage import ApiCall, UsageStore


@pytest.fixture
def g(system):
    return system.emissions.genesisEpoch()


@pytest.fixture
def world(system, deployer, alice, bob, carol, g, tmp_path):
    """alice 100, bob 300, carol 600 VVV staked before genesis. API use: alice 18,148 VCU on day
    g (10% of capacity), bob 90,740 VCU on day g+1 (50%), nobody on day g+2. carol never calls."""
    t = g * DAY - 1_000
    for who, amount in ((alice, 100), (bob, 300), (carol, 600)):
        for call in (
            lambda w=who, a=amount: system.token.transfer(w, a * E18, sender=deployer),
            lambda w=who, a=amount: system.token.approve(system.staking, a * E18, sender=w),
            lambda w=who, a=amount: system.staking.stake(a * E18, sender=w),
        ):
            at(t)
            t += 1
            call()
    store = UsageStore(f"sqlite:///{tmp_path / 'usage.db'}", create=True)
    store.add([
        ApiCall(g * DAY + 100, alice.address, "llama-3.3-70b", 1, 1, 0, 18_148 * E18),
        ApiCall((g + 1) * DAY + 100, bob.address, "deepseek-r1-671b", 1, 1, 0, 90_740 * E18),
    ])  # fmt: skip
    return {"store": store, "reports": tmp_path / "reports"}
