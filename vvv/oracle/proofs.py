"""The per-epoch proofs file `reports/<chain id>/<epoch>.json`: the OpenZeppelin `standard-v1`
tree dump (so any OZ merkle-tree client reads it) plus a `report` object with the report's
fields. Written atomically (temporary file, then rename)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

from vvv.oracle.merkle import LEAF_ENCODING, StandardMerkleTree

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
    report: ReportData
    tree: StandardMerkleTree | None

    def stakes(self) -> dict[str, int]:
        """Active account (lower case) -> stake at the snapshot."""
        if self.tree is None:
            return {}
        return {account.lower(): stake for account, stake in self.tree.values}

    def proof(self, account: str) -> tuple[int, list[str]]:
        """(stake, proof) of `account`; (0, []) when it is not in the active set."""
        if self.tree is not None:
            for index, (acct, stake) in enumerate(self.tree.values):
                if acct.lower() == account.lower():
                    return stake, self.tree.proof_hex(index)
        return 0, []

    def to_json(self) -> dict:
        dump = self.tree.dump() if self.tree else {"format": "standard-v1", "leafEncoding": LEAF_ENCODING,
                                                     "tree": [], "values": []}  # fmt: skip
        return dump | {"report": self.report.to_json()}


def proofs_path(chain_id: int, epoch: int, directory: Path | None = None) -> Path:
    return (directory or REPORTS_DIR) / str(chain_id) / f"{epoch}.json"


def sent_path(chain_id: int, epoch: int, directory: Path | None = None) -> Path:
    """The record of the transactions sent for an epoch's report (beside its proofs file)."""
    return (directory or REPORTS_DIR) / str(chain_id) / f"{epoch}.sent.json"


def write_proofs(proofs: ProofsFile, directory: Path | None = None) -> Path:
    path = proofs_path(proofs.report.chain_id, proofs.report.epoch, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".json.tmp{os.getpid()}")
    with tmp.open("w", buffering=1 << 20) as handle:
        _write_json(handle, proofs)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


_CHUNK = 4_096  # tree nodes per write


def _write_json(handle: TextIO, proofs: ProofsFile) -> None:
    """The same JSON as `json.dump(proofs.to_json())`, streamed: a 1,000,000-account file never
    exists as one Python object (that would need ~600 MB more)."""
    tree = proofs.tree
    report = json.dumps(proofs.report.to_json(), separators=(",", ":"))
    if tree is None:
        json.dump(proofs.to_json(), handle, separators=(",", ":"))
        return
    handle.write('{"format":"standard-v1","leafEncoding":["address","uint256"],"tree":[')
    nodes = tree.tree
    for start in range(0, len(nodes), _CHUNK):  # in chunks: the joined list would be ~140 MB at 1M accounts
        prefix = "," if start else ""
        handle.write(prefix + ",".join(f'"0x{node.hex()}"' for node in nodes[start : start + _CHUNK]))
    handle.write('],"values":[')
    for i, ((account, stake), index) in enumerate(zip(tree.values, tree.tree_index, strict=True)):
        handle.write(f'{"," if i else ""}{{"value":["{account}","{stake}"],"treeIndex":{index}}}')
    handle.write(f'],"report":{report}}}')


def read_proofs(path: Path) -> ProofsFile:
    path = Path(path)
    if not path.exists():
        raise ProofsError(f"{path}: no proofs file")
    try:
        data = json.loads(path.read_text())
        report = ReportData.from_json(data["report"])
        tree = StandardMerkleTree.load(data) if data.get("tree") else None
    except (json.JSONDecodeError, KeyError, ValueError) as err:
        raise ProofsError(f"{path}: malformed proofs file ({err})") from None
    root = tree.root_hex if tree else ZERO_ROOT
    if root != report.active_root.lower():
        raise ProofsError(f"{path}: tree root {root} differs from the report's root {report.active_root}")
    return ProofsFile(report, tree)
