"""The per-epoch proofs file `reports/<chain id>/<epoch>.json`: the report's fields and the
active set's leaves in order (`vvv.oracle.sumtree`'s format), from which any client rebuilds the
sorted Merkle-sum tree and any proof. Written atomically (temporary file, then rename)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from vvv.oracle.sumtree import SumTree, SumTreeError, read_proofs_file, write_proofs_file

ROOT = Path(__file__).resolve().parents[2]
REPORTS_DIR = ROOT / "reports"
ZERO_ROOT = "0x" + "00" * 32


class ProofsError(ValueError):
    """A proofs file is missing, malformed, or does not match the chain."""


@dataclass(frozen=True)
class ReportData:
    chain_id: int
    oracle: str  # EpochOracle address
    epoch: int
    snapshot: int
    utilization_bps: int
    consumed_vcu: int
    capacity_of_epoch: int
    capacity: int  # for epoch + 1
    active_root: str
    total_active_stake: int
    active_count: int

    def to_json(self) -> dict:
        data = asdict(self)
        for key in ("consumed_vcu", "capacity_of_epoch", "capacity", "total_active_stake"):
            data[key] = str(data[key])
        return data

    @classmethod
    def from_json(cls, data: dict) -> ReportData:
        try:
            return cls(**{k: (int(v) if k not in ("oracle", "active_root") else v) for k, v in data.items()})
        except (TypeError, ValueError) as err:
            raise ProofsError(f"malformed report fields: {err}") from None


@dataclass(frozen=True)
class ProofsFile:
    """A report and its active-set tree (empty set: a tree of no leaves)."""

    report: ReportData
    tree: SumTree

    def stakes(self) -> dict[str, int]:
        """Active account (lower case) -> stake at the snapshot."""
        return {account.lower(): stake for account, stake in self.tree.leaves()}

    def proof(self, account: str) -> tuple[int, int, list[tuple[bytes, int]]]:
        """`(stake, position, siblings)` of `account`, the arguments `vcuAllocation` takes after
        the account; `(0, 0, [])` when it is not in the active set."""
        position = self.tree.position_of(account)
        if position is None:
            return 0, 0, []
        return self.tree.stake(position), position, list(self.tree.proof(position).siblings)


def proofs_path(chain_id: int, epoch: int, directory: Path | None = None) -> Path:
    return (directory or REPORTS_DIR) / str(chain_id) / f"{epoch}.json"


def sent_path(chain_id: int, epoch: int, directory: Path | None = None) -> Path:
    """The record of the transactions sent for an epoch's report (beside its proofs file)."""
    return (directory or REPORTS_DIR) / str(chain_id) / f"{epoch}.sent.json"


def write_proofs(proofs: ProofsFile, directory: Path | None = None) -> Path:
    """Write the proofs file atomically, streamed (a 1,000,000-account file never exists as one
    Python object)."""
    path = proofs_path(proofs.report.chain_id, proofs.report.epoch, directory)
    try:
        return write_proofs_file(path, proofs.tree, proofs.report.to_json())
    except SumTreeError as err:
        raise ProofsError(str(err)) from None


def read_proofs(path: Path) -> ProofsFile:
    """Read a proofs file, rebuild its tree from the leaves and check the report against it."""
    try:
        data = read_proofs_file(Path(path))
    except SumTreeError as err:
        raise ProofsError(str(err)) from None
    return ProofsFile(ReportData.from_json(data.report), data.tree)
