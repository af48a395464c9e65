"""Receipt gas of each staking operation against the budgets of the staking issue.

Receipt gas is deterministic, so this runs on both providers; `bench/gas.py` prints the table."""

import pytest

from vvv.gasprofile import STAKING_BUDGETS, measure_staking


@pytest.fixture(scope="module")
def staking_gas(accounts):
    return {row.operation: row.gas_used for row in measure_staking(list(accounts))}


@pytest.mark.parametrize("operation", sorted(STAKING_BUDGETS))
def test_staking_operation_within_budget(staking_gas, operation):
    assert operation in staking_gas
    assert 21_000 < staking_gas[operation] <= STAKING_BUDGETS[operation]
