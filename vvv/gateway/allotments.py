"""Each account's VCU allotment of an epoch, as the chain computes it: `EpochOracle.vcuAllocation`
with the account's leaf and siblings from the proofs file of the report of the day before (or
no leaf: then the contract answers 0 for an account outside a valid report's set, or the
fallback share of every staker when that day has no valid report). Answers are kept for
`ttl` seconds (a rejected report turns the day to the fallback within that time)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from ape import chain

from vvv.chain.deployment import System
from vvv.oracle.proofs import ProofsError, ProofsFile, proofs_path, read_proofs
from vvv.oracle.usage import normalize_account


class ChainAllotments:
    def __init__(self, system: System, reports_dir: Path, ttl: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.system = system
        self.reports_dir = reports_dir
        self.ttl = ttl
        self.clock = clock
        self.lock = threading.Lock()  # ape's provider is shared by the server's threads
        self.files: dict[int, ProofsFile | None] = {}
        self.answers: dict[tuple[str, int], tuple[float, int]] = {}

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

    def __call__(self, account: str, epoch: int) -> int:
        account = normalize_account(account)
        now = self.clock()
        with self.lock:
            cached = self.answers.get((account, epoch))
            if cached is not None and now - cached[0] < self.ttl:
                return cached[1]
            proofs = self._proofs(epoch - 1) if epoch > 0 else None
            stake, position, siblings = proofs.proof(account) if proofs is not None else (0, 0, [])
            value = int(self.system.oracle.vcuAllocation(epoch, account, stake, position, siblings))
            self.answers[(account, epoch)] = (now, value)
            return value
