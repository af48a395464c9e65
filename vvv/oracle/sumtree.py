"""The active set's sorted Merkle-sum tree (SPEC, "EpochOracle") and its proofs file.

Tree: leaves `(account, stake)` sorted by account, strictly ascending, at positions `0 .. n-1`;
a complete binary tree of depth `ceil(log2(n))` (0 for one leaf), padded on the right with empty
leaves (hash 0, sum 0). A leaf's hash is `keccak256(bytes.concat(keccak256(abi.encode(account,
stake))))` (the OpenZeppelin StandardMerkleTree leaf) and its sum is `stake`; an inner node's hash
is `keccak256(abi.encode(leftHash, leftSum, rightHash, rightSum))` and its sum `leftSum +
rightSum`. Padding is literal: two empty leaves make an inner node of hash
`keccak256(abi.encode(0, 0, 0, 0))` (not 0), and so on up. The empty set has root 0, sum 0,
count 0.

Storage: one `bytearray` per level of 64-byte records `hash || sum` (sum as a 32-byte big-endian
word), holding only the nodes that cover at least one real leaf (the all-padding nodes of a level
are one precomputed record). A record pair is then exactly the 128-byte `abi.encode` preimage of
its parent. 1,000,000 leaves take about 150 MB (two levels' worth of records plus 20-byte
accounts).

Proofs file (`FORMAT`): JSON `{"format", "leafEncoding", "report", "leaves": [[account, "stake"],
...]}` with the leaves in tree order, written in chunks. Inner nodes are not stored: any client
rebuilds the tree from the leaves (about 6 s for 1,000,000 here in Python, 30 s in
`web/src/sumtree.mjs` with pure-JS keccak), and that rebuild is also the check that the leaves
match the report: stored nodes would have to be checked against the leaves anyway, and ~2n of
them would make the file about 4x larger (66 MB for 1,000,000 leaves now)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sha3 import keccak_256  # safe-pysha3: ~5x faster than pycryptodome's keccak here

FORMAT = "vvv-sorted-merkle-sum-v1"
LEAF_ENCODING = ["address", "uint256"]
# The report's JSON fields, as `vvv.oracle.proofs.ReportData.to_json()` names them.
REPORT_FIELDS = (
    "chain_id", "oracle", "epoch", "snapshot", "utilization_bps", "consumed_vcu", "capacity_of_epoch",
    "capacity", "active_root", "total_active_stake", "active_count",
)  # fmt: skip
UINT256 = 2**256
ZERO_HASH = bytes(32)
_RECORD = 64  # hash (32) || sum (32, big-endian)
_PAD = bytes(12)  # abi.encode's left padding of an address


class SumTreeError(ValueError):
    """A leaf set, a proof or a proofs file is malformed or inconsistent."""


def _zero_records(levels: int) -> list[bytes]:
    """The record of an all-padding node at each level: 0 at the leaves, then hashed up."""
    records = [bytes(_RECORD)]
    for _ in range(levels):
        records.append(keccak_256(records[-1] * 2).digest() + bytes(32))
    return records


_ZERO = _zero_records(256)


def depth_for(count: int) -> int:
    """The tree depth `count` leaves imply: ceil(log2(count)), 0 for zero or one leaf."""
    return (count - 1).bit_length() if count > 1 else 0


def leaf_hash(account: str, stake: int) -> bytes:
    """keccak256(bytes.concat(keccak256(abi.encode(account, stake))))."""
    return _leaf(_address(account, "account"), _uint(stake, "stake"))


def _leaf(address20: bytes, stake: int) -> bytes:
    return keccak_256(keccak_256(_PAD + address20 + stake.to_bytes(32, "big")).digest()).digest()


def node_hash(left_hash: bytes, left_sum: int, right_hash: bytes, right_sum: int) -> bytes:
    """keccak256(abi.encode(leftHash, leftSum, rightHash, rightSum))."""
    return keccak_256(left_hash + left_sum.to_bytes(32, "big") + right_hash + right_sum.to_bytes(32, "big")).digest()


@dataclass(frozen=True)
class SumProof:
    """A leaf's position and the sibling `(hash, sum)` pairs from the leaf up."""

    position: int
    siblings: tuple[tuple[bytes, int], ...]

    def to_json(self) -> dict[str, Any]:
        return {"position": self.position, "siblings": [["0x" + h.hex(), str(s)] for h, s in self.siblings]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SumProof:
        try:
            position, raw = data["position"], data["siblings"]
            siblings = tuple(
                (_bytes32(h, "sibling hash"), _uint(_decimal(s, "sibling sum"), "sibling sum")) for h, s in raw
            )
        except (KeyError, TypeError, ValueError) as err:
            raise SumTreeError(f"malformed proof: {err}") from None
        if type(position) is not int or position < 0:
            raise SumTreeError(f"malformed proof: position {position!r} is not a non-negative integer")
        return cls(position, siblings)


def process_proof(leaf: bytes, leaf_sum: int, proof: SumProof) -> tuple[bytes, int] | None:
    """The top `(hash, sum)` that `proof` leads to from the node `(leaf, leaf_sum)`; None when a
    sum overflows uint256 (the contract reverts there). Position bits above the path are ignored."""
    node, total = leaf, leaf_sum
    for level, (sibling, sibling_sum) in enumerate(proof.siblings):
        if (proof.position >> level) & 1:
            node = node_hash(sibling, sibling_sum, node, total)
        else:
            node = node_hash(node, total, sibling, sibling_sum)
        total += sibling_sum
        if total >= UINT256:
            return None
    return node, total


def verify_proof(account: str, stake: int, proof: SumProof, root: bytes | str, total: int, count: int) -> bool:
    """Whether `proof` shows leaf `(account, stake)` at `proof.position` of the tree with top hash
    `root`, top sum `total` and `count` leaves: the position is below `count`, the path has the
    length `count` implies, and it leads to exactly `(root, total)`. Malformed arguments (not an
    address, not a uint256) raise SumTreeError; a wrong proof returns False."""
    leaf = leaf_hash(account, stake)
    if type(proof.position) is not int:
        raise SumTreeError(f"proof position {proof.position!r} is not an integer")
    root_bytes, total, count = _bytes32(root, "root"), _uint(total, "total"), _uint(count, "count")
    if not 0 <= proof.position < count or len(proof.siblings) != depth_for(count):
        return False
    return process_proof(leaf, stake, proof) == (root_bytes, total)


class SumTree:
    """A built tree. `SumTree.build(leaves)` takes leaves already sorted strictly ascending by
    account; `SumTree.from_stakes({account: stake})` sorts them first."""

    __slots__ = ("_accounts", "_levels", "count", "total")

    def __init__(self, accounts: bytes | bytearray, levels: list[bytearray], count: int, total: int) -> None:
        self._accounts = accounts  # 20 bytes per leaf, in order
        self._levels = levels  # levels[0] = leaves ... levels[-1] = [top]; real-covering nodes only
        self.count = count
        self.total = total

    @classmethod
    def build(cls, leaves: Iterable[tuple[str, int]]) -> SumTree:
        """Build from `(account, stake)` pairs sorted strictly ascending by account (hex address,
        any case), each stake in 1 .. 2**256-1, their total below 2**256."""
        accounts, level = bytearray(), bytearray()
        k, prev, total, n = keccak_256, b"", 0, 0
        for n, (account, stake) in enumerate(leaves, start=1):
            raw = _address(account, f"leaf {n - 1}: account")
            if raw <= prev:
                what = "duplicate account" if raw == prev else "account below the previous one"
                raise SumTreeError(f"leaf {n - 1}: {what} 0x{raw.hex()} (leaves must be sorted strictly ascending)")
            if type(stake) is not int or not 0 < stake < UINT256:
                raise SumTreeError(f"leaf {n - 1}: stake {stake!r} of 0x{raw.hex()} is not in 1 .. 2**256-1")
            word = stake.to_bytes(32, "big")
            level += k(k(_PAD + raw + word).digest()).digest()
            level += word
            accounts += raw
            prev = raw
            total += stake
        if total >= UINT256:
            raise SumTreeError(f"total stake {total} does not fit in uint256")
        levels = [level]
        for depth in range(depth_for(n)):
            levels.append(_parent_level(levels[-1], _ZERO[depth]))
        return cls(accounts, levels, n, total)

    @classmethod
    def from_stakes(cls, stakes: Mapping[str, int]) -> SumTree:
        """Build from `{account: stake}` in any order. Two keys differing only in case are one
        account given twice: refused as a duplicate."""
        order = sorted(stakes, key=lambda account: account.lower() if isinstance(account, str) else "")
        return cls.build((account, stakes[account]) for account in order)

    @property
    def depth(self) -> int:
        return depth_for(self.count)

    @property
    def root(self) -> bytes:
        return bytes(self._levels[-1][:32]) if self.count else ZERO_HASH

    @property
    def root_hex(self) -> str:
        return "0x" + self.root.hex()

    def node(self, level: int, index: int) -> tuple[bytes, int]:
        """`(hash, sum)` of node `index` of `level` (0 = leaves), padding included."""
        if not 0 <= level <= self.depth or not 0 <= index < (1 << (self.depth - level)):
            raise SumTreeError(f"no node {index} at level {level} in a tree of depth {self.depth}")
        records = self._levels[level] if self.count else b""
        o = _RECORD * index
        record = records[o : o + _RECORD] if o < len(records) else _ZERO[level]
        return bytes(record[:32]), int.from_bytes(record[32:], "big")

    def account(self, position: int) -> str:
        self._check_position(position)
        return "0x" + self._accounts[20 * position : 20 * position + 20].hex()

    def stake(self, position: int) -> int:
        self._check_position(position)
        return int.from_bytes(self._levels[0][_RECORD * position + 32 : _RECORD * position + 64], "big")

    def leaves(self) -> Iterator[tuple[str, int]]:
        """`(lower-case account, stake)` in tree order."""
        accounts, records = self._accounts, self._levels[0]
        for i in range(self.count):
            yield "0x" + accounts[20 * i : 20 * i + 20].hex(), int.from_bytes(records[64 * i + 32 : 64 * i + 64], "big")

    def insertion_point(self, account: str) -> int:
        """How many leaves have an account below `account` (its position, if it is a leaf)."""
        raw, accounts = _address(account, "account"), self._accounts
        lo, hi = 0, self.count
        while lo < hi:
            mid = (lo + hi) // 2
            if accounts[20 * mid : 20 * mid + 20] < raw:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def position_of(self, account: str) -> int | None:
        """The leaf position of `account`, or None when it is not in the set."""
        position = self.insertion_point(account)
        found = position < self.count and self._accounts[20 * position : 20 * position + 20] == _address(account, "")
        return position if found else None

    def proof(self, position: int) -> SumProof:
        """The proof of the leaf at `position`."""
        self._check_position(position)
        return SumProof(position, tuple(self.node(level, (position >> level) ^ 1) for level in range(self.depth)))

    def json_leaves(self, chunk: int) -> Iterator[str]:
        """The leaves as the inside of a JSON list, `["0x…","stake"],…`, `chunk` leaves per piece."""
        accounts, records, fb = self._accounts, self._levels[0], int.from_bytes
        for start in range(0, self.count, chunk):
            end = min(start + chunk, self.count)
            hexes = accounts[20 * start : 20 * end].hex()
            yield ("," if start else "") + ",".join(
                f'["0x{hexes[40 * j : 40 * j + 40]}","{fb(records[64 * i + 32 : 64 * i + 64], "big")}"]'
                for j, i in enumerate(range(start, end))
            )

    def _check_position(self, position: int) -> None:
        if type(position) is not int or not 0 <= position < self.count:
            raise SumTreeError(f"no leaf at position {position!r} (the tree has {self.count} leaves)")


def _parent_level(child: bytearray, zero: bytes) -> bytearray:
    """The parent records of a level: each is keccak of a 128-byte record pair || the sum."""
    k, fb = keccak_256, int.from_bytes
    full = len(child) // (2 * _RECORD)
    odd = len(child) % (2 * _RECORD) != 0
    out = bytearray(_RECORD * (full + odd))
    view = memoryview(child)
    for i in range(full):
        pair = view[128 * i : 128 * i + 128]
        o = _RECORD * i
        out[o : o + 32] = k(pair).digest()
        out[o + 32 : o + 64] = (fb(pair[32:64], "big") + fb(pair[96:128], "big")).to_bytes(32, "big")
    if odd:
        pair = bytes(view[-_RECORD:]) + zero
        out[-_RECORD:-32] = k(pair).digest()
        out[-32:] = pair[32:64]  # the padding's sum is 0
    view.release()
    return out


# ---------------------------------------------------------------------------------------------
# The proofs file


@dataclass(frozen=True)
class SumProofsFile:
    """A read proofs file: the report's JSON fields as written, and the rebuilt tree."""

    report: dict[str, Any]
    tree: SumTree

    def proof(self, account: str) -> tuple[int, SumProof] | None:
        """`(stake, proof)` of `account`, or None when it is not in the active set."""
        position = self.tree.position_of(account)
        return None if position is None else (self.tree.stake(position), self.tree.proof(position))


def check_report(report: Mapping[str, Any], tree: SumTree) -> None:
    """Raise SumTreeError unless `report` has exactly REPORT_FIELDS and its root, total and count
    are the tree's."""
    if set(report) != set(REPORT_FIELDS):
        missing = [f for f in REPORT_FIELDS if f not in report]
        extra = sorted(set(report) - set(REPORT_FIELDS))
        raise SumTreeError(f"report fields: missing {missing}, unexpected {extra}")
    root = report["active_root"]
    if not isinstance(root, str) or root.lower() != tree.root_hex:
        raise SumTreeError(f"report's active_root {root} is not the tree's root {tree.root_hex}")
    for field, actual in (("total_active_stake", tree.total), ("active_count", tree.count)):
        if _decimal(report[field], f"report's {field}") != actual:
            raise SumTreeError(f"report's {field} {report[field]} is not the tree's {actual}")


def write_proofs_file(path: Path, tree: SumTree, report: Mapping[str, Any], chunk: int = 8_192) -> Path:
    """Write the proofs file of `tree` and `report` (e.g. `ReportData.to_json()`) to `path`
    atomically (temporary file, fsync, rename), `chunk` leaves per write. Refuses, writing
    nothing, a report whose root, total or count is not the tree's."""
    check_report(report, tree)
    if type(chunk) is not int or chunk < 1:
        raise SumTreeError(f"chunk must be a positive integer, got {chunk!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    try:
        with tmp.open("w", encoding="ascii", buffering=1 << 20) as handle:
            handle.write(f'{{"format":"{FORMAT}","leafEncoding":["address","uint256"],"report":')
            handle.write(json.dumps(dict(report), separators=(",", ":")))
            handle.write(',"leaves":[')
            for text in tree.json_leaves(chunk):
                handle.write(text)
            handle.write("]}")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_proofs_file(path: Path) -> SumProofsFile:
    """Read a proofs file, rebuild its tree from the leaves and check the report against it."""
    path = Path(path)
    if not path.is_file():
        raise SumTreeError(f"{path}: no proofs file")
    try:
        with path.open("rb") as handle:
            data = json.load(handle)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SumTreeError(f"{path}: not JSON ({err})") from None
    try:
        return _parse(data)
    except SumTreeError as err:
        raise SumTreeError(f"{path}: {err}") from None


def _parse(data: Any) -> SumProofsFile:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise SumTreeError(f"format is {found!r}, expected {FORMAT!r}")
    if data.get("leafEncoding") != LEAF_ENCODING:
        raise SumTreeError(f"leafEncoding is {data.get('leafEncoding')!r}, expected {LEAF_ENCODING}")
    report, raw_leaves = data.get("report"), data.get("leaves")
    if not isinstance(report, dict):
        raise SumTreeError("no report object")
    if not isinstance(raw_leaves, list):
        raise SumTreeError("no leaves list")
    tree = SumTree.build(_leaf_pairs(raw_leaves))
    check_report(report, tree)
    return SumProofsFile(report, tree)


def _leaf_pairs(raw_leaves: list[Any]) -> Iterator[tuple[str, int]]:
    for i, leaf in enumerate(raw_leaves):
        if not (isinstance(leaf, list) and len(leaf) == 2 and isinstance(leaf[0], str) and isinstance(leaf[1], str)):
            raise SumTreeError(f"leaf {i} is not [account, decimal stake string]: {leaf!r}"[:200])
        yield leaf[0], _decimal(leaf[1], f"leaf {i}: stake")


# ---------------------------------------------------------------------------------------------
# Argument checks


def _address(account: object, what: str) -> bytes:
    if isinstance(account, str) and len(account) == 42 and account[:2] in ("0x", "0X"):
        try:
            raw = bytes.fromhex(account[2:])
        except ValueError:
            raw = b""
        if len(raw) == 20:  # bytes.fromhex skips whitespace: a shorter result is not an address
            return raw
    raise SumTreeError(f"{what} {account!r} is not a 20-byte hex address"[:200])


def _uint(value: object, what: str) -> int:
    if type(value) is not int or not 0 <= value < UINT256:
        raise SumTreeError(f"{what} {value!r} is not a uint256"[:200])
    return value


def _bytes32(value: object, what: str) -> bytes:
    if isinstance(value, str):
        try:
            raw = bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else "!")
        except ValueError:
            raw = b""
        if len(raw) == 32 and len(value) == 66:
            return raw
    elif isinstance(value, bytes | bytearray) and len(value) == 32:
        return bytes(value)
    raise SumTreeError(f"{what} {value!r} is not 32 bytes (0x + 64 hex digits)"[:200])


def _decimal(value: object, what: str) -> int:
    """An int, or a canonical decimal string ("0" or no leading zero, ASCII digits only)."""
    if type(value) is int:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and (value == "0" or value[0] != "0"):
        return int(value)
    raise SumTreeError(f"{what} {value!r} is not a decimal integer"[:200])
