"""The demo's synthetic world, drawn from one seed: stakers with varied behaviour and the daily
API load. Pure data; `vvv.demo.run` plays it on a chain."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

E18 = 10**18


@dataclass
class StakerPlan:
    """What one staker does. Days count from the genesis epoch (day 0); day -1 is before it."""

    index: int
    label: str  # "large" or "small"
    stake: int  # wei staked on `join_day`
    wallet_extra: int  # wei kept in the wallet besides the stake
    join_day: int
    api_user: bool  # never calls the API when False
    unstake_day: int | None = None
    unstake_share_bps: int = 0
    cancel_day: int | None = None  # cancels that unstake
    withdraw_day: int | None = None  # withdraws it (unlocked 7 days after the request)
    restake_days: list[int] = field(default_factory=list)
    claim_days: list[int] = field(default_factory=list)

    def actions_on(self, day: int) -> list[str]:
        """The actions of `day`, in the order they happen."""
        actions = []
        if day == self.join_day:
            actions.append("stake")
        if day == self.unstake_day:
            actions.append("unstake")
        if day == self.cancel_day:
            actions.append("cancel")
        if day == self.withdraw_day:
            actions.append("withdraw")
        if day in self.restake_days:
            actions.append("restake")
        if day in self.claim_days:
            actions.append("claim")
        return actions


def plan_stakers(count: int, days: int, seed: int) -> list[StakerPlan]:
    """`count` stakers: about one in five large (rarely an API user: a holder staking for
    yield), two in five joining late, four in ten small ones never using the API; some unstake
    (and of those some cancel, and some withdraw after 7 days), some restake or claim every few
    days."""
    rng = random.Random(seed)
    plans = []
    for i in range(count):
        large = rng.random() < 0.2
        whole = rng.randint(200_000, 2_500_000) if large else rng.randint(100, 20_000)
        stake = whole * E18 + rng.randint(0, E18 - 1)
        late = days > 2 and rng.random() < 0.4
        join = rng.randint(1, max(1, days - 2)) if late else -1
        plan = StakerPlan(i, "large" if large else "small", stake, rng.randint(10, 1_000) * E18, join,
                          api_user=rng.random() < (0.1 if large else 0.6))  # fmt: skip
        if rng.random() < 0.35 and join + 1 < days:
            plan.unstake_day = rng.randint(join + 1, days - 1)
            plan.unstake_share_bps = rng.choice([2_500, 5_000, 10_000])
            if rng.random() < 0.4 and plan.unstake_day + 1 < days:
                plan.cancel_day = rng.randint(plan.unstake_day + 1, days - 1)
            elif plan.unstake_day + 7 < days:
                plan.withdraw_day = plan.unstake_day + 7
        every = rng.choice([0, 0, 2, 3, 4])
        if every:
            days_after = list(range(max(join, 0) + every, days, every))
            if rng.random() < 0.5:
                plan.restake_days = days_after
            else:
                plan.claim_days = days_after
        plans.append(plan)
    return plans


def target_utilization_bps(day: int, days: int) -> int:
    """The day's load as a share of capacity: a sweep from 2% on the first day to 98% on the last."""
    if days <= 1:
        return 5_000
    return 200 + 9_600 * day // (days - 1)


@dataclass
class RightsPlan:
    """A staker that mints compute rights on `mint_day` (a share of its day's allowance) and
    activates them all for an agent of its own (an address that holds nothing)."""

    index: int  # the staker's
    mint_day: int
    share_bps: int  # of the allowance against that day's report
    agent_index: int


def plan_rights(plans: list[StakerPlan], days: int, seed: int) -> list[RightsPlan]:
    """About half of the API users that staked before day 0 mint once, on a day from 1 to the one
    before the last (their leaf is in the report of a day they called the API; the rights count
    from the next day, within the run), a quarter to all of their allowance.
    Drawn from a generator of its own, so that the stakers' plans stay as they were."""
    rng = random.Random(seed * 7 + 23)
    out = []
    for plan in plans:
        if days < 3 or not plan.api_user or plan.join_day >= 0 or rng.random() < 0.5:
            continue
        out.append(RightsPlan(plan.index, rng.randint(1, days - 2), rng.choice([2_500, 5_000, 10_000]), len(out)))
    return out


def capacity_split(capacity: int, activated: int) -> tuple[int, int]:
    """A day's capacity as rights and pool (SPEC.md, ComputeRights): the rights activated for the
    day are served first (senior); the pool is what is left, `capacity - A` (0 if none)."""
    return activated, capacity - activated if capacity > activated else 0
