"""OpenZeppelin StandardMerkleTree for `(address account, uint256 stake)` leaves.

Same root, proofs and `standard-v1` JSON dump as `@openzeppelin/merkle-tree`'s
`StandardMerkleTree.of(values, ["address", "uint256"])` (leaves sorted by hash), and the same
leaf hash as the EpochOracle: `keccak256(bytes.concat(keccak256(abi.encode(account, stake))))`.
Values are kept as `[lower-case address, decimal string]`, the form the JS library is given
(the library keeps values as given, so both dumps are byte-identical)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sha3 import keccak_256  # safe-pysha3: C keccak, ~8x faster than eth-hash's backends

LEAF_ENCODING = ["address", "uint256"]
_HEX = set("0123456789abcdefABCDEF")


class MerkleError(ValueError):
    """A tree, a dump or a value is malformed."""


def keccak(data: bytes) -> bytes:
    return keccak_256(data).digest()


def leaf_hash(account: str, stake: int) -> bytes:
    """The leaf of `(account, stake)`: keccak256(keccak256(abi.encode(account, stake)))."""
    if not 0 <= stake < 2**256:
        raise MerkleError(f"stake out of uint256 range: {stake}")
    return _leaf(bytes.fromhex(account[2:]), stake)


def _leaf(address20: bytes, stake: int) -> bytes:
    return keccak_256(keccak_256(b"\x00" * 12 + address20 + stake.to_bytes(32, "big")).digest()).digest()


def node_hash(a: bytes, b: bytes) -> bytes:
    """An inner node: keccak256 of the two children, smaller first."""
    return keccak_256(a + b).digest() if a <= b else keccak_256(b + a).digest()


def process_proof(leaf: bytes, proof: Iterable[bytes]) -> bytes:
    node = leaf
    for sibling in proof:
        node = node_hash(node, sibling)
    return node


def verify(root: bytes | str, account: str, stake: int, proof: Sequence[bytes | str]) -> bool:
    """Whether `proof` shows `(account, stake)` in the tree of `root`."""
    return process_proof(leaf_hash(account, stake), [_b32(p) for p in proof]) == _b32(root)


@dataclass(frozen=True)
class StandardMerkleTree:
    """A built tree: `tree[0]` is the root; `tree_index[i]` is where value `i`'s leaf sits."""

    tree: list[bytes]
    values: list[tuple[str, int]]
    tree_index: list[int]

    @classmethod
    def of(cls, values: Sequence[tuple[str, int]]) -> StandardMerkleTree:
        """Build the tree of `values` (input order is kept for the values and the dump)."""
        if not values:
            raise MerkleError("a Merkle tree needs at least one leaf")
        normalized = [(_lower_address(account), _uint256(stake)) for account, stake in values]
        hashes = [_leaf(bytes.fromhex(account[2:]), stake) for account, stake in normalized]
        order = sorted(range(len(hashes)), key=hashes.__getitem__)
        n = len(hashes)
        size = 2 * n - 1
        tree: list[bytes] = [b""] * size
        tree_index = [0] * n
        for leaf_pos, value_index in enumerate(order):
            tree[size - 1 - leaf_pos] = hashes[value_index]
            tree_index[value_index] = size - 1 - leaf_pos
        h = keccak_256
        for i in range(size - 1 - n, -1, -1):
            a, b = tree[2 * i + 1], tree[2 * i + 2]
            tree[i] = h(a + b).digest() if a <= b else h(b + a).digest()
        return cls(tree=tree, values=normalized, tree_index=tree_index)

    @property
    def root(self) -> bytes:
        return self.tree[0]

    @property
    def root_hex(self) -> str:
        return "0x" + self.root.hex()

    def proof(self, value_index: int) -> list[bytes]:
        """Proof of the value at `value_index` (input order)."""
        i = self.tree_index[value_index]
        proof = []
        while i > 0:
            proof.append(self.tree[i - 1 if i % 2 == 0 else i + 1])
            i = (i - 1) // 2
        return proof

    def proof_hex(self, value_index: int) -> list[str]:
        return ["0x" + p.hex() for p in self.proof(value_index)]

    def dump(self) -> dict:
        """The `standard-v1` dump, as `StandardMerkleTree.dump()` of the JS library."""
        return {
            "format": "standard-v1",
            "leafEncoding": LEAF_ENCODING,
            "tree": ["0x" + node.hex() for node in self.tree],
            "values": [
                {"value": [account, str(stake)], "treeIndex": index}
                for (account, stake), index in zip(self.values, self.tree_index, strict=True)
            ],
        }

    @classmethod
    def load(cls, data: dict) -> StandardMerkleTree:
        """Load a `standard-v1` dump and check it (every leaf, every node)."""
        if data.get("format") != "standard-v1":
            raise MerkleError(f"unknown format {data.get('format')!r}")
        if data.get("leafEncoding") != LEAF_ENCODING:
            raise MerkleError(f"expected leaf encoding {LEAF_ENCODING}, got {data.get('leafEncoding')}")
        tree = [_b32(node) for node in data["tree"]]
        values = [(_lower_address(v["value"][0]), int(v["value"][1])) for v in data["values"]]
        tree_index = [int(v["treeIndex"]) for v in data["values"]]
        for (account, stake), index in zip(values, tree_index, strict=True):
            if not 0 <= index < len(tree) or 2 * index + 1 < len(tree) or tree[index] != leaf_hash(account, stake):
                raise MerkleError(f"value {account} {stake} does not match leaf {index}")
        for i in range(len(tree)):
            if 2 * i + 2 < len(tree) and tree[i] != node_hash(tree[2 * i + 1], tree[2 * i + 2]):
                raise MerkleError(f"node {i} is not the hash of its children")
        return cls(tree=tree, values=values, tree_index=tree_index)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.dump()))


def _lower_address(account: str) -> str:
    lower = account.lower() if isinstance(account, str) else ""
    if len(lower) != 42 or lower[:2] != "0x" or not set(lower[2:]) <= _HEX:
        raise MerkleError(f"not an address: {account!r}")
    return lower


def _uint256(stake: int | str) -> int:
    value = int(stake)
    if not 0 <= value < 2**256:
        raise MerkleError(f"stake out of uint256 range: {stake}")
    return value


def _b32(value: bytes | str) -> bytes:
    raw = bytes.fromhex(value[2:] if value.startswith("0x") else value) if isinstance(value, str) else bytes(value)
    if len(raw) != 32:
        raise MerkleError(f"expected 32 bytes, got {len(raw)}")
    return raw
