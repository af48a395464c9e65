"""Receipt gas of each staking operation, in a realistic state (other stakers, a live stream).

Receipt gas (`gas_used`, including the 21,000 base and after refunds) is deterministic for a given
EVM, so the same numbers come out on ape's test provider and on anvil; `bench/gas.py` prints them
and the test suite checks them against `STAKING_BUDGETS`."""

from dataclasses import dataclass

from ape import chain, project

DAY = 86_400
E18 = 10**18

STAKING_BUDGETS: dict[str, int] = {
    "stake (first of an account)": 160_000,
    "stake (later block)": 110_000,
    "requestUnstake": 150_000,
    "cancelUnstake": 100_000,
    "withdraw": 70_000,
    "claimRewards": 90_000,
    "restakeRewards": 100_000,
}


@dataclass(frozen=True)
class GasRow:
    operation: str
    gas_used: int
    budget: int | None

    @property
    def within_budget(self) -> bool:
        return self.budget is None or self.gas_used <= self.budget


def _at(timestamp: int) -> None:
    chain.pending_timestamp = timestamp


def measure_staking(accounts: list) -> list[GasRow]:
    """Deploy a token and staking contract (accounts[5] as notifier and minter), put two
    stakers and a live stream in place, then measure each operation of a third account."""
    deployer, user, other, other2, guardian, notifier = accounts[:6]
    token = project.VVVToken.deploy(deployer, notifier, sender=deployer)
    staking = project.VVVStaking.deploy(token, deployer, 3 * DAY, guardian, notifier, sender=deployer)
    t = (chain.pending_timestamp // DAY + 2) * DAY
    for acct in (user, other, other2):
        token.transfer(acct, 10_000 * E18, sender=deployer)
    for acct in (other, other2):
        token.approve(staking, 1_000 * E18, sender=acct)
        _at(t)
        t += 60
        staking.stake(1_000 * E18, sender=acct)
    token.mint(staking, 38_000 * E18, sender=notifier)
    _at(t)
    staking.notifyRewards(38_000 * E18, sender=notifier)

    rows: list[tuple[str, object]] = []

    def step(name: str, fn) -> None:  # noqa: ANN001
        nonlocal t
        t += 600
        _at(t)
        rows.append((name, fn()))

    token.approve(staking, 100 * E18, sender=user)
    step("stake (first of an account)", lambda: staking.stake(100 * E18, sender=user))
    token.approve(staking, 50 * E18, sender=user)
    step("stake (later block)", lambda: staking.stake(50 * E18, sender=user))
    step("requestUnstake", lambda: staking.requestUnstake(40 * E18, sender=user))
    first = staking.lastRequestId()
    step("requestUnstake (second)", lambda: staking.requestUnstake(30 * E18, sender=user))
    step("cancelUnstake", lambda: staking.cancelUnstake(first, sender=user))
    step("claimRewards", lambda: staking.claimRewards(sender=user))
    step("restakeRewards", lambda: staking.restakeRewards(sender=user))
    t += 7 * DAY
    step("withdraw", lambda: staking.withdraw(first + 1, sender=user))
    return [GasRow(name, tx.gas_used, STAKING_BUDGETS.get(name)) for name, tx in rows]
