"""Each account's VCU allotment of an epoch, as the chain computes it: `EpochOracle.vcuAllocation`
with the account's leaf and siblings from the proofs file of the report of the day before (or
no leaf: then the contract answers 0 for an account outside a valid report's set, or the
fallback share of every staker when that day has no valid report). The gateway keeps each
answer a minute (`vvv.gateway.app`); this reads the chain every time it is asked."""

from __future__ import annotations

import threading
from pathlib import Path

from ape import chain

from vvv.chain.deployment import System
from vvv.oracle.proofs import ProofsError, ProofsFile, proofs_path, read_proofs
from vvv.oracle.usage import normalize_account


class ChainAllotments:
    def __init__(self, system: System, reports_dir: Path) -> None:
        self.system = system
        self.reports_dir = reports_dir
        self.lock = threading.Lock()  # ape's provider is shared by the server's threads
        self.files: dict[int, ProofsFile | None] = {}

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
        with self.lock:
            proofs = self._proofs(epoch - 1) if epoch > 0 else None
            stake, position, siblings = proofs.proof(account) if proofs is not None else (0, 0, [])
            return int(self.system.oracle.vcuAllocation(epoch, account, stake, position, siblings))
