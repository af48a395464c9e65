"""Today's numbers every staker shares, read from the chain: the epoch, its VCU capacity, the
stake that shares it (the active stake of yesterday's report, or every staker under the
fallback), the reward stream and the APR they give."""

from __future__ import annotations

from dataclasses import dataclass

from ape import chain

from vvv.chain.deployment import System
from vvv.chain.epochs import EPOCH_LENGTH, Source, allotment_source, epoch_start, read_day_facts, snapshot_time
from vvv.chain.units import format_fixed
from vvv.oracle.report import BPS, is_valid
from vvv.oracle.rights import activations, pool

ZERO = "0x" + "00" * 20  # an account with no rights: `activations` then reads the day's total alone

SECONDS_PER_YEAR = 365 * EPOCH_LENGTH
PRECISION = 10**18
APR_PLACES = 6  # APR in percent, floored to 6 decimals
EXTREME_APR = 1_000 * 10**APR_PLACES  # an APR of 1,000 % or more comes with a note that says why


@dataclass(frozen=True)
class Market:
    now: int  # timestamp of the block read
    epoch: int  # today
    capacity: int  # VCU wei for today
    # "report" (yesterday's report, posted by the deadline, never rejected), "fallback" (every
    # staker counts), or "not yet known" (before the deadline with no report yet: no allotments)
    source: str
    source_known_at: int  # when a "not yet known" day gets its source (its report deadline)
    report_root: str | None  # root of yesterday's report when source == "report"
    active_stake: int  # the free stake sharing today's pool
    all_stake: int  # every staker's free stake at yesterday's snapshot
    total_staked: int  # now, free and locked
    rewarded_stake: int  # the free stake now: the rewards' weight (locked stake earns none)
    pool: int  # today's capacity less today's activated compute rights: what the stakes share
    reward_rate_scaled: int  # reward wei per second x 1e18, now
    last_reported_epoch: int | None  # the newest report not rejected (within a week)
    last_utilization_bps: int | None
    stakers_daily_at_last_utilization: int | None  # stakers' part of one epoch at that utilization


def apr_micro_percent(yearly_rewards_scaled: int, staked: int) -> int | None:
    """APR in millionths of a percent, floored: yearly rewards (wei x 1e18) over the stake."""
    if staked == 0:
        return None
    return yearly_rewards_scaled * 100 * 10**APR_PLACES // (PRECISION * staked)


def format_apr(micro_percent: int | None) -> str | None:
    if micro_percent is None:
        return None
    return format_fixed(micro_percent, APR_PLACES)


def read_market(system: System) -> Market:
    oracle, staking, emissions = system.oracle, system.staking, system.emissions
    now = chain.blocks.head.timestamp
    epoch = now // EPOCH_LENGTH
    all_stake = staking.totalFreeStakedAt(snapshot_time(epoch - 1))  # the fallback's total: free stake
    facts = read_day_facts(oracle, epoch)
    source = allotment_source(facts, now)
    report = oracle.report(epoch - 1)
    if source == Source.REPORT:
        capacity, active = report.capacity, report.totalActiveStake
        root: str | None = "0x" + bytes(report.activeRoot).hex()
    else:
        # the fallback's capacity, fixed at the day's start (also what a not-yet-known day
        # would have under the fallback)
        capacity, active, root = oracle.fallbackCapacity(epoch), all_stake, None
    last_epoch = utilization = daily = None
    # the newest report that is pending or final (a rejected one says nothing), within a week
    first, newest = oracle.firstEpoch(), oracle.nextEpochToReport() - 1
    for candidate in range(newest, max(first, newest - 7) - 1, -1):
        if is_valid(oracle.reportStatus(candidate)):
            last_epoch, utilization = candidate, int(oracle.report(candidate).utilizationBps)
            daily = emissions.epochEmission() * emissions.stakerShareBps(utilization) // BPS
            break
    return Market(
        now=now,
        epoch=epoch,
        capacity=int(capacity),
        source=source.label,
        source_known_at=epoch_start(epoch) + facts.deadline,
        report_root=root,
        active_stake=int(active),
        all_stake=int(all_stake),
        total_staked=staking.totalStaked(),
        rewarded_stake=staking.totalFreeStaked(),
        pool=pool(int(capacity), activations(system, ZERO, epoch)[1]),
        reward_rate_scaled=staking.rewardRateScaled(),
        last_reported_epoch=last_epoch,
        last_utilization_bps=utilization,
        stakers_daily_at_last_utilization=daily,
    )


def apr_now(market: Market) -> int | None:
    """APR from the current stream rate and the total stake (micro-percent)."""
    return apr_micro_percent(market.reward_rate_scaled * SECONDS_PER_YEAR, market.rewarded_stake)


def apr_at_last_utilization(market: Market) -> int | None:
    """APR if every day paid the stakers' part at the last reported utilization (micro-percent)."""
    if market.stakers_daily_at_last_utilization is None:
        return None
    return apr_micro_percent(market.stakers_daily_at_last_utilization * 365 * PRECISION, market.rewarded_stake)
