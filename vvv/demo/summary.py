"""The demo's results, read back from the chain (events and views) and the run's books: one row
per day and one per staker, as plain data (the JSON summary; tables and plots are drawn from
it). Amounts are exact decimal strings. Days are numbered from 1 (the genesis epoch); day 0 is
the day before, when the system is deployed and the first stakers join."""

from __future__ import annotations

from typing import Any

from ape import chain

from vvv.chain.deployment import GENESIS_SUPPLY
from vvv.chain.epochs import snapshot_time
from vvv.chain.units import format_amount, format_fixed
from vvv.demo.run import DemoRun, StakerBook
from vvv.demo.simulation import capacity_split
from vvv.staker.market import APR_PLACES, PRECISION, apr_micro_percent, format_apr

RATIO_PLACES = 6


def ratio(numerator: int, denominator: int) -> str | None:
    """numerator / denominator with 6 decimals, floored."""
    if denominator == 0:
        return None
    return format_fixed(numerator * 10**RATIO_PLACES // denominator, RATIO_PLACES)


def day_rows(run: DemoRun) -> list[dict[str, Any]]:
    s = run.system
    events = run.distributions
    rows = []
    for log in run.logs:
        e, allot = log.epoch, log.allotments
        report, dist = s.oracle.report(e), events[e]
        active_stake = sum(
            s.staking.stakeAt(b.account, snapshot_time(e - 1)) for b in run.books if allot.of(b.account.address)
        )
        all_stake = s.staking.totalStakedAt(snapshot_time(e - 1))
        rewarded_now = s.staking.totalFreeStakedAt(snapshot_time(e))  # the rewards' weight: locked stake earns none
        daily_rewards_scaled = int(dist.stakerAmount) * 365 * PRECISION
        activated = int(s.compute_rights.totalActivatedAt(e)) if s.compute_rights is not None else 0
        rights_vcu, pool_vcu = capacity_split(allot.capacity, activated)
        rows.append({
            "day": log.day + 1,
            "epoch": e,
            "target_utilization_bps": log.target_bps,
            "utilization_bps": int(report.utilizationBps),
            "fallback_used": bool(dist.fallbackUsed),
            "staker_bps": int(dist.stakerBps),
            "staker_amount": format_amount(int(dist.stakerAmount)),
            "treasury_amount": format_amount(int(dist.treasuryAmount)),
            "vcu_source": allot.source,
            "active_stakers": sum(1 for v in allot.allotments.values() if v),
            "capacity": format_amount(allot.capacity),
            "vcu_granted": format_amount(sum(allot.allotments.values())),
            "vcu_used": format_amount(log.vcu_used),
            "rights_vcu": format_amount(rights_vcu),
            "pool_vcu": format_amount(pool_vcu),
            "vcu_per_vvv_active": ratio(allot.capacity, active_stake),
            "vcu_per_vvv_all": ratio(allot.capacity, all_stake),
            "apr_percent": format_apr(apr_micro_percent(daily_rewards_scaled, rewarded_now)),
        })  # fmt: skip
    return rows


def unbonding(run: DemoRun, book: StakerBook) -> int:
    """The staker's pending unstake (a demo staker makes at most one request)."""
    if book.request_id is None:
        return 0
    _, amount, _, settled = run.system.staking.unstakeRequest(book.request_id)
    return 0 if settled else int(amount)


def staker_rows(run: DemoRun) -> list[dict[str, Any]]:
    s = run.system
    rows = []
    for b in run.books:
        address = b.account.address
        earned = s.staking.earned(address)
        rewards = b.rewards + earned
        stakes = [s.staking.stakeAt(address, snapshot_time(log.epoch)) for log in run.logs]
        average = sum(stakes) // len(stakes) if stakes else 0
        yearly_scaled = rewards * 365 * PRECISION // max(1, run.days)
        rows.append({
            "index": b.plan.index,
            "address": address,
            "kind": b.plan.label,
            "api_user": b.plan.api_user,
            "joined_day": b.plan.join_day + 1,
            "wallet": format_amount(s.token.balanceOf(address)),
            "staked": format_amount(s.staking.stakeOf(address)),
            "unbonding": format_amount(unbonding(run, b)),
            "earned": format_amount(earned),
            "rewards": format_amount(rewards),
            "vcu_granted": format_amount(b.vcu_granted),
            "vcu_used": format_amount(b.vcu_used),
            "average_stake": format_amount(average),
            "realised_apr_percent": format_apr(apr_micro_percent(yearly_scaled, average)),
            "rights_minted": format_amount(b.rights_minted),
            "rights_locked": format_amount(b.rights_locked),
            "rights_agent": b.agent,
            "skipped": b.skipped,
        })  # fmt: skip
    return rows


def summarize(run: DemoRun) -> dict[str, Any]:
    s = run.system
    supply = s.token.totalSupply()
    expected = GENESIS_SUPPLY + run.days * s.emissions.epochEmission()
    return {
        "seed": run.seed,
        "days": run.days,
        "stakers": len(run.books),
        "chain_id": chain.chain_id,
        "genesis_epoch": run.genesis_epoch,
        "contracts": run.system.record["contracts"],
        "total_supply": format_amount(supply),
        "expected_supply": format_amount(expected),
        "supply_check": supply == expected,
        "total_staked": format_amount(s.staking.totalStaked()),
        "treasury_balance": format_amount(s.token.balanceOf(s.emissions.treasury())),
        "apr_places": APR_PLACES,
        "per_day": day_rows(run),
        "per_staker": staker_rows(run),
    }
