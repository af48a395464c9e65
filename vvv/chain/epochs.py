"""Epoch arithmetic: epoch `e` covers timestamps [e*86400, (e+1)*86400); and the rule that gives
each day its one allotment source."""

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

EPOCH_LENGTH = 86_400
REPORT_REJECTED = 3  # IEpochOracle.Status.Rejected


def epoch_of(timestamp: int) -> int:
    """The epoch (UTC day number) containing `timestamp`."""
    return timestamp // EPOCH_LENGTH


def epoch_start(epoch: int) -> int:
    return epoch * EPOCH_LENGTH


def snapshot_time(epoch: int) -> int:
    """Snapshot of the report of `epoch`: its last second, (epoch + 1) * 86400 - 1."""
    return (epoch + 1) * EPOCH_LENGTH - 1


def activity_window(epoch: int, days: int = 7) -> tuple[int, int]:
    """The API-activity window for the allotments of `epoch + 1`: epochs `epoch-6 .. epoch`,
    as timestamps [start, end] inclusive."""
    return epoch_start(epoch - days + 1), snapshot_time(epoch)


class Source(IntEnum):
    """Where the VCU allotments of a day come from (`EpochOracle.allotmentSource`)."""

    NOT_YET_KNOWN = 0
    REPORT = 1
    FALLBACK = 2

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


@dataclass(frozen=True)
class DayFacts:
    """What the chain stores that decides the source of the allotments of `epoch`: the report of
    `epoch - 1` (when it was posted, its version, whether it is rejected now) and the day's
    report deadline (seconds after the day's start)."""

    epoch: int
    first_epoch: int
    posted_at: int  # 0: no report of epoch - 1 posted
    version: int  # 1: the first report of epoch - 1; more: a corrected one (one was rejected)
    rejected: bool
    deadline: int


def allotment_source(facts: DayFacts, now: int) -> Source:
    """The day's one source, by the rule of `EpochOracle.allotmentSource` (SPEC.md): the report
    when the first report of the day before was posted before the day's deadline and was never
    rejected; the fallback when none was posted by the deadline, or one was ever rejected, or no
    report of that day can exist; not yet known before the deadline with none posted (and for a
    day that has not started)."""
    start = epoch_start(facts.epoch)
    if facts.epoch == 0 or start > now:
        return Source.NOT_YET_KNOWN
    if facts.epoch - 1 < facts.first_epoch:
        return Source.FALLBACK
    deadline = start + facts.deadline
    if facts.posted_at == 0:
        return Source.NOT_YET_KNOWN if now < deadline else Source.FALLBACK
    if facts.version == 1 and facts.posted_at < deadline and not facts.rejected:
        return Source.REPORT
    return Source.FALLBACK


def read_day_facts(oracle: Any, epoch: int) -> DayFacts:
    """The facts that decide the source of epoch `epoch`'s allotments, read from the EpochOracle
    (`report`, `reportRecord`, `reportDeadlineOf`, `firstEpoch`)."""
    first = int(oracle.firstEpoch())
    posted_at, version, rejected = 0, 0, False
    if epoch > 0 and epoch - 1 >= first:
        report = oracle.report(epoch - 1)
        posted_at, rejected = int(report.postedAt), int(report.status) == REPORT_REJECTED
        version = int(oracle.reportRecord(epoch - 1).version)
    return DayFacts(epoch, first, posted_at, version, rejected, int(oracle.reportDeadlineOf(epoch)))
