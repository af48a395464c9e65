"""The staker's dashboard (`status`): the position, the APR, and today's VCU allotment from the
proofs file of yesterday's report (checked against the on-chain root) minus the metered spend.

A figure that would puzzle a reader comes with a note that says why: an allotment of 0 (no stake
at the snapshot, not in the active set), the allotment of a day whose source is not yet known (the
gateway's bridge, `vvv.oracle.bridge`, read from the usage store), an APR of 1,000 % or more (a
small total stake next to the stream), and a spend that is unknown because no usage store was
given. A usage store that was given but does not exist is an error, never a 0."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vvv.chain.deployment import System
from vvv.chain.epochs import EPOCH_LENGTH, activity_window, epoch_start, snapshot_time
from vvv.chain.units import format_amount
from vvv.oracle.bridge import bridge_allotment
from vvv.oracle.proofs import ProofsError, proofs_path, read_proofs
from vvv.oracle.usage import CREATE_HINT, StoreMissing, UsageError, UsageStore
from vvv.staker.market import (
    APR_PLACES,
    EXTREME_APR,
    PRECISION,
    Market,
    apr_at_last_utilization,
    apr_now,
    read_market,
)
from vvv.staker.positions import Position, position_of

USAGE_DB_VARIABLE = "VVV_USAGE_DB"  # the oracle bot's variable for the same store
NO_STORE_NOTE = (
    f"no usage store given (--usage-db URL or {USAGE_DB_VARIABLE}): today's spend and API calls are not known here"
)


@dataclass(frozen=True)
class VcuToday:
    epoch: int
    source: str  # "report", "fallback" or "not yet known"
    allotment: int | None  # None: yesterday's proofs file is not available here
    spent: int | None  # None: no usage store was given
    api_active: bool | None  # in today's active set (None: unknown without the proofs file)
    call_in_window: bool | None  # an API call in the 7 days up to now: counts for tomorrow's set
    notes: list[str]
    usage_store: str | None  # the store the spend was read from (password masked), None: none given

    @property
    def remaining(self) -> int | None:
        if self.allotment is None or self.spent is None:
            return None
        return max(0, self.allotment - self.spent)


@dataclass(frozen=True)
class Status:
    position: Position
    market: Market
    apr_now: int | None  # micro-percent
    apr_at_last_utilization: int | None
    vcu: VcuToday
    apr_notes: list[str]


def open_usage_store(url: str | None) -> UsageStore | None:
    """The usage store at `url` (opened, never created), or None when no URL was given. A store
    that does not exist is an error that names it: reading another file, or none, as a spend of
    0 would be a silent lie."""
    if not url:
        return None
    try:
        return UsageStore(url)
    except StoreMissing as err:  # a staker's command creates no store: no hint to create one
        hint = f"give the gateway's store, or no --usage-db (nor {USAGE_DB_VARIABLE}) to leave the spend unknown"
        raise UsageError(str(err).replace(CREATE_HINT, hint)) from None


def _day(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _why_zero(system: System, market: Market, account: str, in_report: bool, store: UsageStore | None) -> str:
    """Why today's allotment of `account` is 0, under the report or the fallback."""
    epoch = market.epoch
    snapshot = snapshot_time(epoch - 1)
    stake = int(system.staking.freeStakeAt(account, snapshot))  # a share is of the free stake
    if stake == 0:
        return (
            f"allotment 0: no stake at the snapshot of epoch {epoch - 1} ({_day(snapshot)}), which today's "
            f"{market.source} shares by; a stake counts from the first snapshot after it is made"
        )
    if market.source == "report" and not in_report:
        today = store is not None and store.is_active(account, epoch_start(epoch), snapshot_time(epoch))
        call = "today's API call counts" if today else "an API call today counts"
        return (
            f"allotment 0: not in the active set of the report of epoch {epoch - 1} (no API call in epochs "
            f"{epoch - 7}..{epoch - 1} while staked); {call} for tomorrow's report"
        )
    return (
        f"allotment 0: the stake at the snapshot ({format_amount(stake)} VVV) is too small a share of "
        f"{format_amount(market.active_stake)} VVV to come to 1 VCU wei"
    )


def vcu_today(system: System, market: Market, account: str, reports_dir: Path | None, usage_db: str | None) -> VcuToday:
    """Today's allotment as the chain computes it (`vcuAllocation` with the account's proof)."""
    oracle, epoch, notes = system.oracle, market.epoch, []
    api_active: bool | None
    in_report = False
    if market.source == "report":
        path = proofs_path(system.record["chain_id"], epoch - 1, reports_dir)
        if not path.exists():
            allotment, api_active = None, None
            notes.append(f"no proofs file for epoch {epoch - 1} ({path}): today's allotment is unknown here")
        else:
            proofs = read_proofs(path)
            if proofs.report.active_root.lower() != market.report_root:
                raise ProofsError(
                    f"{path} does not match the chain: its root is {proofs.report.active_root}, the report of "
                    f"epoch {epoch - 1} on chain has {market.report_root}"
                )
            stake, position, siblings = proofs.proof(account)
            allotment = oracle.vcuAllocation(epoch, account, stake, position, siblings)
            api_active = in_report = stake > 0
    elif market.source == "fallback":
        allotment = oracle.vcuAllocation(epoch, account, 0, 0, [])
        api_active = None  # the fallback counts every staker, active or not
        notes.append(
            f"no report of epoch {epoch - 1} by today's deadline (or it was rejected): the fallback shares "
            f"today's capacity among every staker, by stake at the snapshot of epoch {epoch - 1}"
        )
    else:
        allotment, api_active = None, None
        known = datetime.fromtimestamp(market.source_known_at, UTC).strftime("%H:%M UTC")
        notes.append(
            f"the report of epoch {epoch - 1} is not posted yet: until it is (or {known}, when the fallback "
            f"takes the day) the gateway serves min(expected, fallback): the fallback share to an account with "
            f"an API call in epochs {epoch - 7}..{epoch - 1} and a stake at the snapshot, 0 to others"
        )
    store = open_usage_store(usage_db)
    spent: int | None = None
    call_in_window: bool | None = None
    if store is not None and market.source == "not yet known":
        allotment = bridge_allotment(system, store, account, epoch)
    if store is None:
        notes.append(NO_STORE_NOTE)
    else:
        spent = store.consumed(epoch_start(epoch), snapshot_time(epoch), account)
        start, _ = activity_window(epoch)
        call_in_window = store.is_active(account, start, snapshot_time(epoch))  # one indexed lookup
    if allotment == 0 and market.source != "not yet known":
        notes.append(_why_zero(system, market, account, in_report, store))
    url = None if store is None else store.url
    return VcuToday(epoch, market.source, allotment, spent, api_active, call_in_window, notes, url)


def apr_notes(position: Position, market: Market, now: int | None, at_last: int | None) -> list[str]:
    """Why an APR is missing, or extreme (EXTREME_APR or more): the rewards over a small stake."""
    if market.rewarded_stake == 0:
        return ["APR -: no free stake, so there is no stake to pay a rate on"]
    if now is not None and now >= EXTREME_APR:
        daily = market.reward_rate_scaled * EPOCH_LENGTH // PRECISION
        stream = f"the whole stream ({format_amount(daily, 2)} VVV a day)"
    elif at_last is not None and at_last >= EXTREME_APR and market.stakers_daily_at_last_utilization is not None:
        daily = market.stakers_daily_at_last_utilization
        stream = f"the stakers' part of a day at the last utilization ({format_amount(daily, 2)} VVV)"
    else:
        return []
    extreme = f"APR of {EXTREME_APR // 10**APR_PLACES:,} % or more"
    if position.staked == market.total_staked:
        mine = format_amount(position.staked)
        return [f"{extreme}: you are the only staker, so {stream} goes to your {mine} VVV; it falls as others stake"]
    total = format_amount(market.rewarded_stake)
    return [f"{extreme}: {stream} is shared by only {total} VVV staked; it falls as more is staked"]


def read_status(system: System, account: Any, reports_dir: Path | None = None, usage_db: str | None = None) -> Status:
    market = read_market(system)
    position = position_of(system, account)
    now, at_last = apr_now(market), apr_at_last_utilization(market)
    return Status(
        position=position,
        market=market,
        apr_now=now,
        apr_at_last_utilization=at_last,
        vcu=vcu_today(system, market, position.account, reports_dir, usage_db),
        apr_notes=apr_notes(position, market, now, at_last),
    )
