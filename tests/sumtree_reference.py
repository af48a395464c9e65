"""An independent sorted Merkle-sum tree, written from SPEC's words with eth_abi (imports nothing
of `vvv`): the expected roots and proofs of the tests come from here, never from the code under
test."""

from eth_abi import encode
from eth_utils import keccak

Z = b"\x00" * 32
E = (Z, 0)  # an empty leaf


def ref_leaf(account, stake):
    return keccak(keccak(encode(["address", "uint256"], [account, stake])))


def ref_node(left, right):
    """(hash, sum) of the inner node over two (hash, sum) children."""
    return keccak(encode(["bytes32", "uint256", "bytes32", "uint256"], [left[0], left[1], right[0], right[1]])), (
        left[1] + right[1]
    )


def ref_depth(count):
    depth = 0
    while 2**depth < count:
        depth += 1
    return depth


def ref_levels(leaves):
    """Every level of the full padded tree, leaves first."""
    level = [(ref_leaf(a, s), s) for a, s in leaves] + [E] * (2 ** ref_depth(len(leaves)) - len(leaves))
    levels = [level]
    while len(level) > 1:
        level = [ref_node(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        levels.append(level)
    return levels


def ref_proof(levels, position):
    return [levels[level][(position >> level) ^ 1] for level in range(len(levels) - 1)]


def ref_verify(account, stake, position, siblings, root, total, count):
    if not 0 <= position < count or len(siblings) != ref_depth(count):
        return False
    node = (ref_leaf(account, stake), stake)
    for level, sibling in enumerate(siblings):
        node = ref_node(sibling, node) if (position >> level) & 1 else ref_node(node, sibling)
        if node[1] >= 2**256:
            return False
    return node == (root, total)


def ref_root(leaves):
    """`0x` root of (account, stake) pairs, sorted here by account; the zero root when empty."""
    if not leaves:
        return "0x" + Z.hex()
    return "0x" + ref_levels(sorted(leaves, key=lambda p: p[0].lower()))[-1][0][0].hex()


def ref_proof_args(leaves, account):
    """(stake, position, siblings) of `account` for `vcuAllocation`, from the sorted leaves."""
    ordered = sorted(leaves, key=lambda p: p[0].lower())
    position = next(i for i, (a, _) in enumerate(ordered) if a.lower() == account.lower())
    return ordered[position][1], position, ref_proof(ref_levels(ordered), position)
