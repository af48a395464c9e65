"""The protocol's history per epoch, for the page's charts: from the `Distributed` and
`ReportPosted` / `ReportRejected` events since the deployment's block, read once and then
extended from the last block read (each call reads only the new blocks). When the last block read
is no longer on the chain (a reorg, or a local chain reverted to a snapshot, as tests and
`evm_revert` do), everything is read again from the deployment's block."""

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
        self._forget()

    def _forget(self) -> None:
        self.next_block = int(self.system.record.get("block", 0))
        self.last_hash: Any = None  # the hash of block next_block - 1 when it was read
        self.distributed: dict[int, Any] = {}
        self.reports: dict[int, Any] = {}
        self.rows_by_epoch: dict[int, dict[str, Any]] = {}

    def _read_new_blocks(self) -> None:
        head = chain.blocks.head.number
        if self.last_hash is not None and (
            head < self.next_block - 1 or chain.blocks[self.next_block - 1].hash != self.last_hash
        ):
            self._forget()  # the chain went back: what was read may be gone
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
        self.last_hash = chain.blocks[head].hash

    def _row(self, epoch: int) -> dict[str, Any]:
        d = self.distributed[epoch]
        staked = int(self.system.staking.totalStakedAt(snapshot_time(epoch)))
        rewarded = int(self.system.staking.totalFreeStakedAt(snapshot_time(epoch)))  # locked stake earns none
        yearly_scaled = int(d.stakerAmount) * 365 * PRECISION
        row: dict[str, Any] = {
            "epoch": epoch,
            "utilizationBps": int(d.utilizationBps),
            "stakersBps": int(d.stakerBps),
            "stakersMinted": str(int(d.stakerAmount)),
            "companyMinted": str(int(d.treasuryAmount)),
            "fallbackUsed": bool(d.fallbackUsed),
            "totalStaked": str(staked),
            # the APR this epoch's stakers' part pays if every day paid it, on the stake that earns it
            # at its snapshot (the free stake: the rewards' weight)
            "aprMicroPercent": apr_micro_percent(yearly_scaled, rewarded),
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
