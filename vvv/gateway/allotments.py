"""Each account's VCU allotment of an epoch, by the day's one source (`EpochOracle.allotmentSource`,
`vvv.chain.epochs.allotment_source`):

One daily budget per account: the compute rights activated to it for the day (`activatedAt`,
under every source) plus its share of the pool `capacity - totalActivatedAt(epoch)`:

- report: `EpochOracle.vcuAllocation` with the account's leaf and siblings from the proofs file of
  the report of the day before (no leaf: its rights alone);
- fallback: `vcuAllocation` with no leaf (every staker by free stake, at the day's fallback
  capacity, plus its rights);
- not yet known (from 00:00 until the report of the day before is posted, at most the report
  deadline): its rights + `min(expected, fallback)` of the pool per account (SPEC),
  `vvv.oracle.bridge`, which also says why that keeps every account within its final allotment
  and the day within its capacity. The two rights values are fixed once the day has started:
  read once per account and epoch (`rights`).

Under the report and fallback sources the contract computes the budget itself (one call, so the
gateway's number is the contract's exactly).

When a report is posted, the expected one is built once (in a thread, from this store and the
chain, by the oracle's own code, `vvv.oracle.report.build_report`) and an ALERT is logged when
its root differs from the one on chain. The gateway keeps each answer a minute
(`vvv.gateway.app`); this reads the chain every time it is asked."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from ape import chain

from vvv.chain.deployment import System
from vvv.chain.epochs import Source, allotment_source, read_day_facts, snapshot_time
from vvv.oracle.bridge import bridge_allotment
from vvv.oracle.proofs import ProofsError, ProofsFile, proofs_path, read_proofs
from vvv.oracle.rights import pool, rights_of
from vvv.oracle.usage import UsageStore, normalize_account

log = logging.getLogger("vvv.gateway")
CLOCK_SECONDS = 1.0  # how often the chain's clock is read


class ChainAllotments:
    def __init__(self, system: System, reports_dir: Path, store: UsageStore | None = None) -> None:
        self.system = system
        self.reports_dir = reports_dir
        self.store = store
        self.lock = threading.Lock()  # ape's provider is shared by the server's threads
        self.files: dict[int, ProofsFile | None] = {}
        self.compared: set[int] = set()  # reports whose expected root was compared
        self.alerts: list[str] = []  # the ALERT lines logged (for operators' metrics and tests)
        self._head_time = 0  # the chain's clock, as `clock` last read it
        self._head_read = 0.0  # when (monotonic)
        self._clock_thread: threading.Thread | None = None
        self._activated: dict[tuple[str, int], int] = {}  # (account, epoch) -> activatedAt
        self._total_activated: dict[int, int] = {}  # epoch -> totalActivatedAt

    def clock(self) -> float:
        """The chain's clock: the latest block's timestamp (SPEC: "today" is the chain's day, for
        allotments, reservations, receipts and keys alike). Read at once the first time, then
        kept fresh by a thread that reads it every `CLOCK_SECONDS`, so that a request never
        waits for the node."""
        if self._clock_thread is None:
            self._read_head()
            self._clock_thread = threading.Thread(target=self._tick_forever, name="chain-clock", daemon=True)
            self._clock_thread.start()
        return float(self._head_time)

    def _read_head(self) -> None:
        with self.lock:
            self._head_time = int(chain.blocks.head.timestamp)
        self._head_read = time.monotonic()

    def _tick_forever(self) -> None:
        while True:
            time.sleep(CLOCK_SECONDS)
            try:
                self._read_head()
            except Exception as err:  # a node that hiccups: keep the last time, say so, read again
                log.warning("chain clock: %s", str(err).splitlines()[0] if str(err) else type(err).__name__)

    def stake_of(self, account: str) -> int:
        """The account's stake now (`stakeOf`): whether its refused call makes it API-active."""
        with self.lock:
            return int(self.system.staking.stakeOf(normalize_account(account)))

    def estimate(self, account: str, epoch: int) -> int:
        """About how many VCU of the pool a staker who becomes API-active today gets tomorrow, at
        today's pool (SPEC): `stake * pool / (totalActiveStake + stake)`, its free stake (locked
        stake has rights instead, and no pool share), the pool today's capacity less today's
        activated rights, and the active free stake of the report of the day before (every
        staker's free stake at its snapshot when there is none)."""
        account = normalize_account(account)
        with self.lock:
            oracle, staking = self.system.oracle, self.system.staking
            stake = int(staking.freeStakeOf(account))
            report = oracle.report(epoch - 1)
            if int(report.postedAt) and int(report.status) != 3:
                capacity, active = int(report.capacity), int(report.totalActiveStake)
            else:
                capacity = int(oracle.fallbackCapacity(epoch))
                active = int(staking.totalFreeStakedAt(snapshot_time(epoch - 1)))
            today = pool(capacity, self.rights(account, epoch)[1])
        return stake * today // (active + stake) if stake else 0

    def _proofs(self, report_epoch: int) -> ProofsFile | None:
        if report_epoch not in self.files:
            path = proofs_path(chain.chain_id, report_epoch, self.reports_dir)
            try:
                self.files[report_epoch] = read_proofs(path) if path.is_file() else None
            except (ProofsError, OSError):
                self.files[report_epoch] = None
            if self.files[report_epoch] is None:  # not published yet: look again next time
                return self.files.pop(report_epoch)
        return self.files[report_epoch]

    def source(self, epoch: int) -> Source:
        """The epoch's source now, by the chain's clock (the latest block's time)."""
        return allotment_source(read_day_facts(self.system.oracle, epoch), int(chain.blocks.head.timestamp))

    def __call__(self, account: str, epoch: int) -> int:
        account = normalize_account(account)
        with self.lock:
            source = self.source(epoch)
            if source == Source.NOT_YET_KNOWN:
                return self._bridge(account, epoch)
            if source == Source.REPORT:
                self._compare_later(epoch - 1)
                proofs = self._proofs(epoch - 1)
                stake, position, siblings = proofs.proof(account) if proofs is not None else (0, 0, [])
                return int(self.system.oracle.vcuAllocation(epoch, account, stake, position, siblings))
            return int(self.system.oracle.vcuAllocation(epoch, account, 0, 0, []))

    def rights(self, account: str, epoch: int) -> tuple[int, int]:
        """`(activatedAt(account, epoch), totalActivatedAt(epoch))` of a started epoch (fixed from
        its start: read once, then kept); (0, 0) when the oracle counts no rights. The caller
        holds `lock`."""
        contract = rights_of(self.system)
        if contract is None:
            return 0, 0
        key = (account, epoch)
        if key not in self._activated:
            self._activated[key] = int(contract.activatedAt(account, epoch))
        if epoch not in self._total_activated:
            self._total_activated[epoch] = int(contract.totalActivatedAt(epoch))
        return self._activated[key], self._total_activated[epoch]

    def _bridge(self, account: str, epoch: int) -> int:
        """Rights + `min(expected, fallback)` of the pool before the day's source is known
        (`vvv.oracle.bridge`); the rights alone without a usage store."""
        rights = self.rights(account, epoch)
        if self.store is None:
            return rights[0]
        return bridge_allotment(self.system, self.store, account, epoch, rights)

    def _compare_later(self, report_epoch: int) -> None:
        if self.store is None or report_epoch in self.compared:
            return
        self.compared.add(report_epoch)
        threading.Thread(target=self.compare, args=(report_epoch,), daemon=True).start()

    def compare(self, report_epoch: int) -> str | None:
        """Build the report of `report_epoch` this gateway expects and compare its root with the
        one on chain; the ALERT line when they differ (also logged)."""
        from vvv.oracle.report import build_report  # the oracle's own builder

        assert self.store is not None
        with self.lock:
            on_chain = self.system.oracle.report(report_epoch)
            expected = build_report(self.system, self.store, report_epoch, int(on_chain.capacity)).report
        posted = "0x" + bytes(on_chain.activeRoot).hex()
        if posted.lower() == expected.active_root.lower():
            return None
        line = (
            f"ALERT: the report of epoch {report_epoch} on chain (root {posted}, {int(on_chain.activeCount)} "
            f"accounts) differs from the one expected from this gateway's store (root {expected.active_root}, "
            f"{expected.active_count} accounts): check it with the watchdog"
        )
        log.warning(line)
        self.alerts.append(line)
        return line
