"""The protocol's history per epoch, for the page's charts: from the `Distributed` and
`ReportPosted` / `ReportRejected` events since the deployment's block, read once and then
extended from the last block read (each call reads only the new blocks)."""

from __future__ import annotations

from typing import Any

from ape import chain

from vvv.chain.deployment import System
from vvv.chain.epochs import snapshot_time
from vvv.staker.market import PRECISION, apr_micro_percent


class EpochHistory:
    """One row per distributed epoch, oldest first. A row's report fields (the active set of
    the next day's allotments) come from the epoch's newest report that was not rejected."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.next_block = int(system.record.get("block", 0))
        self.distributed: dict[int, Any] = {}
        self.reports: dict[int, Any] = {}
        self.rows_by_epoch: dict[int, dict[str, Any]] = {}

    def _read_new_blocks(self) -> None:
        head = chain.blocks.head.number
        if head < self.next_block:
            return
        start, stop = self.next_block, head + 1
        oracle, emissions = self.system.oracle, self.system.emissions
        streams = (
            ("posted", oracle.ReportPosted),
            ("rejected", oracle.ReportRejected),
            ("distributed", emissions.Distributed),
        )
        events = [(log.block_number, log.log_index, kind, log) for kind, e in streams for log in e.range(start, stop)]
        for _, _, kind, log in sorted(events, key=lambda e: (e[0], e[1])):
            epoch = int(log.epoch)
            if kind == "posted":
                self.reports[epoch] = log
            elif kind == "rejected":
                self.reports.pop(epoch, None)
            else:
                self.distributed[epoch] = log
            self.rows_by_epoch.pop(epoch, None)
        self.next_block = stop

    def _row(self, epoch: int) -> dict[str, Any]:
        d = self.distributed[epoch]
        staked = int(self.system.staking.totalStakedAt(snapshot_time(epoch)))
        yearly_scaled = int(d.stakerAmount) * 365 * PRECISION
        row: dict[str, Any] = {
            "epoch": epoch,
            "utilizationBps": int(d.utilizationBps),
            "stakersBps": int(d.stakerBps),
            "stakersMinted": str(int(d.stakerAmount)),
            "companyMinted": str(int(d.treasuryAmount)),
            "fallbackUsed": bool(d.fallbackUsed),
            "totalStaked": str(staked),
            # the APR this epoch's stakers' part pays if every day paid it, on the stake at its snapshot
            "aprMicroPercent": apr_micro_percent(yearly_scaled, staked),
            "capacity": None,
            "totalActiveStake": None,
            "activeCount": None,
        }
        report = self.reports.get(epoch)
        if report is not None:
            row |= {
                "capacity": str(int(report.capacity)),
                "totalActiveStake": str(int(report.totalActiveStake)),
                "activeCount": int(report.activeCount),
            }
        return row

    def rows(self) -> list[dict[str, Any]]:
        self._read_new_blocks()
        for epoch in self.distributed:
            if epoch not in self.rows_by_epoch:
                self.rows_by_epoch[epoch] = self._row(epoch)
        return [self.rows_by_epoch[e] for e in sorted(self.rows_by_epoch)]
