"""The staker's dashboard (`status`): the position, the APR, and today's VCU allotment from the
proofs file of yesterday's report (checked against the on-chain root) minus the metered spend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from vvv.chain.deployment import System
from vvv.chain.epochs import activity_window, epoch_start, snapshot_time
from vvv.oracle.proofs import ProofsError, proofs_path, read_proofs
from vvv.oracle.usage import UsageStore
from vvv.staker.market import Market, apr_at_last_utilization, apr_now, read_market
from vvv.staker.positions import Position, position_of


@dataclass(frozen=True)
class VcuToday:
    epoch: int
    source: str  # "report", "fallback" or "not yet known"
    allotment: int | None  # None: yesterday's proofs file is not available here
    spent: int
    api_active: bool | None  # in today's active set (None: unknown without the proofs file)
    call_in_window: bool  # an API call in the 7 days up to now: counts for tomorrow's set
    notes: list[str]

    @property
    def remaining(self) -> int | None:
        return None if self.allotment is None else max(0, self.allotment - self.spent)


@dataclass(frozen=True)
class Status:
    position: Position
    market: Market
    apr_now: int | None  # micro-percent
    apr_at_last_utilization: int | None
    vcu: VcuToday


def _usage_store(url: str | None) -> UsageStore | None:
    """The usage store at `url`, or None when it is a SQLite file that does not exist (a
    dashboard never creates one)."""
    if not url:
        return None
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database and not Path(parsed.database).exists():
        return None
    return UsageStore(url)


def vcu_today(system: System, market: Market, account: str, reports_dir: Path | None, usage_db: str | None) -> VcuToday:
    """Today's allotment as the chain computes it (`vcuAllocation` with the account's proof)."""
    oracle, epoch, notes = system.oracle, market.epoch, []
    api_active: bool | None
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
            api_active = stake > 0
    elif market.source == "fallback":
        allotment = oracle.vcuAllocation(epoch, account, 0, 0, [])
        api_active = None  # the fallback counts every staker, active or not
        notes.append(
            f"no report of epoch {epoch - 1} by today's deadline (or it was rejected): the fallback shares "
            "today's capacity among every staker, by stake"
        )
    else:
        allotment, api_active = 0, None
        known = datetime.fromtimestamp(market.source_known_at, UTC).strftime("%H:%M UTC")
        notes.append(
            f"the report of epoch {epoch - 1} is not posted yet: today's allotments start when it is, or at "
            f"{known} under the fallback"
        )
    store = _usage_store(usage_db)
    spent, call_in_window = 0, False
    if store is None:
        notes.append("no usage store: metered spend counted as 0")
    else:
        spent = store.consumed(epoch_start(epoch), snapshot_time(epoch), account)
        start, _ = activity_window(epoch)
        call_in_window = store.is_active(account, start, snapshot_time(epoch))  # one indexed lookup
    return VcuToday(epoch, market.source, allotment, spent, api_active, call_in_window, notes)


def read_status(system: System, account: Any, reports_dir: Path | None = None, usage_db: str | None = None) -> Status:
    market = read_market(system)
    position = position_of(system, account)
    return Status(
        position=position,
        market=market,
        apr_now=apr_now(market),
        apr_at_last_utilization=apr_at_last_utilization(market),
        vcu=vcu_today(system, market, position.account, reports_dir, usage_db),
    )
