"""What the staking page's JSON API answers, as plain data: the deployment, an account's proof
for an epoch (from the proofs files the oracle writes), its metered spend today (from the usage
store), the price table and the per-epoch history (`vvv.dashboard.history`). Reads only: no key,
no transaction. Bad input raises `BadRequest`, a missing thing `NotFound`, each with one line."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ape import chain

from vvv.chain.deployment import System
from vvv.chain.epochs import EPOCH_LENGTH, epoch_start, snapshot_time
from vvv.dashboard.history import EpochHistory
from vvv.oracle.pricing import PriceTable
from vvv.oracle.proofs import ProofsError, proofs_path, read_proofs
from vvv.oracle.usage import UsageError, UsageStore, normalize_account

ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
MAX_EPOCH = 10**9  # far beyond any real epoch (year 2.7 million): a bigger one is a typo


class BadRequest(ValueError):
    """The request is malformed (HTTP 400)."""


class NotFound(LookupError):
    """The thing asked for does not exist (HTTP 404)."""


def parse_account(text: str) -> str:
    if not ADDRESS.match(text):
        raise BadRequest(f"not an account address: {text[:60]!r} (want 0x and 40 hex digits)")
    return normalize_account(text)


def parse_epoch(text: str | None, default: int) -> int:
    if text is None or text == "":
        return default
    if not text.isdigit() or int(text) > MAX_EPOCH:
        raise BadRequest(f"not an epoch: {text[:30]!r} (want a whole number of days since 1970-01-01 UTC)")
    return int(text)


@dataclass
class Dashboard:
    """The read side the server answers from. Chain reads are serialized by one lock: ape's
    provider is shared by the server's worker threads."""

    system: System
    prices: PriceTable
    rpc_url: str
    local: bool
    network: str
    reports_dir: Path | None = None
    usage_url: str | None = None
    gateway_url: str | None = None  # the metered API, whose key routes the page's keys panel uses

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.history_cache = EpochHistory(self.system)
        self._usage: UsageStore | None = None

    def now(self) -> int:
        """The chain's clock: the newest block's timestamp (tests and the demo move it)."""
        return chain.blocks.head.timestamp

    def config(self) -> dict[str, Any]:
        s = self.system
        with self.lock:
            return {
                "chainId": chain.chain_id,
                "rpcUrl": self.rpc_url,
                "local": self.local,
                "network": self.network,
                "contracts": {
                    "token": s.token.address,
                    "staking": s.staking.address,
                    "oracle": s.oracle.address,
                    "emissions": s.emissions.address,
                }
                | ({"rights": s.compute_rights.address} if s.compute_rights is not None else {}),
                "deployment": s.record,
                "minStake": str(s.staking.MIN_STAKE()),
                "unbondingPeriod": int(s.staking.UNBONDING_PERIOD()),
                "epochLength": EPOCH_LENGTH,
                "genesisEpoch": int(s.emissions.genesisEpoch()),
                "gateway": self.gateway_url is not None,
            }

    def proof(self, account_text: str, epoch_text: str | None) -> dict[str, Any]:
        """The account's leaf and siblings in the active set that gives the allotments of
        `epoch` (default today): the set of the report of `epoch - 1`."""
        account = parse_account(account_text)
        with self.lock:
            today = self.now() // EPOCH_LENGTH
        epoch = parse_epoch(epoch_text, today)
        if epoch == 0:
            raise BadRequest("epoch 0 has no report before it")
        if self.reports_dir is None:
            raise NotFound("this server has no --reports-dir: it serves no proofs")
        path = proofs_path(chain.chain_id, epoch - 1, self.reports_dir)
        if not path.is_file():
            raise NotFound(f"no proofs file for the report of epoch {epoch - 1} ({path.name} in {path.parent})")
        try:
            proofs = read_proofs(path)
        except (ProofsError, OSError, ValueError) as err:
            raise NotFound(f"the proofs file of epoch {epoch - 1} cannot be read: {err}") from None
        stake, position, siblings = proofs.proof(account)
        if stake == 0:
            raise NotFound(f"{account} is not in the active set of the report of epoch {epoch - 1}")
        r = proofs.report
        allotment = stake * r.capacity // r.total_active_stake if r.total_active_stake else 0
        return {
            "epoch": epoch,
            "account": account,
            "stake": str(stake),
            "position": position,
            "siblings": [{"hash": "0x" + bytes(h).hex(), "sum": str(s)} for h, s in siblings],
            "reportEpoch": epoch - 1,
            "root": r.active_root,
            "capacity": str(r.capacity),
            "totalActiveStake": str(r.total_active_stake),
            "activeCount": r.active_count,
            "allotment": str(allotment),
        }

    def _store(self) -> UsageStore:
        if self._usage is None:
            self._usage = UsageStore(self.usage_url)  # opened, never created
        return self._usage

    def spend(self, account_text: str) -> dict[str, Any]:
        """VCU the account spent today (chain clock), and when today's allotment resets."""
        account = parse_account(account_text)
        with self.lock:
            epoch = self.now() // EPOCH_LENGTH
        resets = epoch_start(epoch + 1)
        if self.usage_url is None:
            return {"epoch": epoch, "spent": "0", "resetsAt": resets, "source": "none"}
        try:
            spent = self._store().consumed(epoch_start(epoch), snapshot_time(epoch), account)
        except UsageError as err:
            raise NotFound(f"the usage store cannot be read: {err}") from None
        return {"epoch": epoch, "spent": str(spent), "resetsAt": resets, "source": "usage-db"}

    def price_table(self) -> dict[str, Any]:
        return {
            "models": [
                {
                    "model": p.model,
                    "kind": p.kind,
                    "per1mInput": str(p.per_1m_input),
                    "per1mOutput": str(p.per_1m_output),
                    "perImage": str(p.per_image),
                }
                for p in sorted(self.prices.models.values(), key=lambda p: p.model)
            ]
        }

    def history(self) -> dict[str, Any]:
        with self.lock:
            return {"epochs": self.history_cache.rows()}
