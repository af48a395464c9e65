// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MerkleSumTree} from "../contracts/utils/MerkleSumTree.sol";
import {SymTest} from "./Sym.sol";

/// @dev `MerkleSumTree.top` takes its path in calldata: this contract puts it there.
contract MerkleSumTreeHarness {
    function top(bytes32 hash, uint256 sum, uint256 position, MerkleSumTree.Node[] calldata siblings)
        external
        pure
        returns (bool ok, bytes32 topHash, uint256 topSum)
    {
        return MerkleSumTree.top(hash, sum, position, siblings);
    }

    function leafHash(address account, uint256 stake) external pure returns (bytes32) {
        return MerkleSumTree.leafHash(account, stake);
    }
}

/// @notice Proofs about `MerkleSumTree` (halmos). halmos models keccak256 as an injective
///         function whose inputs of different lengths never collide, whose output is never 0
///         (and below 2^256 - 2^64): that is the assumption behind every "equal hash, so equal
///         contents" below. Paths have at most `_maxPath()` siblings (the loop in `top` is
///         unrolled that far; halmos runs with --loop above it, so no path is cut).
contract MerkleSumTreeProofs is SymTest {
    /// @dev Longest path explored: 3 here, 4 in `MerkleSumTreeDepth4Proofs` (both run by
    ///      `make prove`).
    function _maxPath() internal pure virtual returns (uint256) {
        return 3;
    }

    /// @dev Whether a case whose longest path has `longest` siblings is explored here (every case
    ///      in this contract; the depth-4 contract leaves the shorter ones to this one).
    function _explored(uint256 longest) internal pure virtual returns (bool) {
        return longest <= _maxPath();
    }
    MerkleSumTreeHarness internal tree;

    function setUp() public {
        tree = new MerkleSumTreeHarness();
    }

    /// @dev A path of `length` symbolic siblings, named after `tag`.
    function _path(uint256 length, string memory tag) internal returns (MerkleSumTree.Node[] memory siblings) {
        siblings = new MerkleSumTree.Node[](length);
        for (uint256 i = 0; i < length; ++i) {
            siblings[i] = MerkleSumTree.Node(
                svm.createBytes32(string.concat(tag, "_hash")), svm.createUint256(string.concat(tag, "_sum"))
            );
        }
    }

    /// @dev A symbolic start node (or leaf), position and path, and what `top` makes of them.
    struct Path {
        address account;
        bytes32 hash;
        uint256 sum;
        uint256 position;
        uint256 length;
        MerkleSumTree.Node[] siblings;
        bool ok;
        bytes32 topHash;
        uint256 topSum;
    }

    /// @dev From any node `(hash, sum)`; `_climb` runs it.
    function _nodePath(uint256 length, string memory tag) internal returns (Path memory p) {
        p.hash = svm.createBytes32(string.concat(tag, "_hash"));
        p.sum = svm.createUint256(string.concat(tag, "_sum"));
        _start(p, length, tag);
    }

    /// @dev From a leaf `(account, stake)`: hash `leafHash(account, stake)`, sum `stake`.
    function _leafPath(uint256 length, string memory tag) internal returns (Path memory p) {
        p.account = svm.createAddress(string.concat(tag, "_account"));
        p.sum = svm.createUint256(string.concat(tag, "_stake"));
        p.hash = tree.leafHash(p.account, p.sum);
        _start(p, length, tag);
    }

    function _start(Path memory p, uint256 length, string memory tag) internal {
        p.position = svm.createUint256(string.concat(tag, "_position"));
        p.length = length;
        p.siblings = _path(length, tag);
    }

    function _climb(Path memory p) internal view {
        (p.ok, p.topHash, p.topSum) = tree.top(p.hash, p.sum, p.position, p.siblings);
    }

    /// @dev A symbolic path length in [0, _maxPath()], as one concrete length per branch.
    function _length(string memory name) internal returns (uint256) {
        uint256 length = svm.createUint256(name);
        uint256 maxPath = _maxPath();
        vm.assume(length <= maxPath);
        // branch on each value, so that each path allocates a concrete array
        for (uint256 l = 0; l < maxPath; ++l) {
            if (length == l) return l;
        }
        return maxPath;
    }

    /// @notice A position fixes the node: two paths of the same length 1.._maxPath(), from any
    ///         nodes at the same position, that reach the same top hash start from the same node
    ///         (hash and sum), pass the same siblings and give the same top sum. (Different
    ///         positions can of course reach the same top: they are different leaves of one tree.)
    function check_positionFixesNode() public {
        uint256 length = _length("length");
        vm.assume(_explored(length));
        vm.assume(length >= 1); // a top hash commits its children's sums, not its own
        Path memory a = _nodePath(length, "a");
        Path memory b = _nodePath(length, "b");
        b.position = a.position;
        _climb(a);
        _climb(b);
        vm.assume(a.ok && b.ok && a.topHash == b.topHash);
        // every difference in one word, one assert: one solver query per path (`&&` would branch)
        uint256 diff = uint256(a.hash ^ b.hash) | (a.sum ^ b.sum) | (a.topSum ^ b.topSum);
        for (uint256 i = 0; i < length; ++i) {
            diff |= uint256(a.siblings[i].hash ^ b.siblings[i].hash) | (a.siblings[i].sum ^ b.siblings[i].sum);
        }
        assert(diff == 0);
    }

    /// @notice The same for leaves `(account, stake)`: the same position and path length give
    ///         the same account, stake and top sum.
    function check_positionFixesLeaf() public {
        uint256 length = _length("length");
        vm.assume(_explored(length));
        Path memory a = _leafPath(length, "a");
        Path memory b = _leafPath(length, "b");
        b.position = a.position;
        _climb(a);
        _climb(b);
        vm.assume(a.ok && b.ok && a.topHash == b.topHash);
        // one assert, no branch (see check_positionFixesNode)
        assert(((uint160(a.account) ^ uint160(b.account)) | (a.sum ^ b.sum) | (a.topSum ^ b.topSum)) == 0);
    }

    /// @notice A leaf is never an inner node: no leaf `B` with a path of length `Lb` sits where
    ///         leaf `A`'s longer path (`La > Lb`) has an inner node (the position `pa >> (La - Lb)`)
    ///         under the same top hash. A leaf hash hashes 32 bytes, an inner hash 128: keccak's
    ///         length separation. So a proof cannot stop above the leaves nor run below them.
    function check_leafIsNeverAnInnerNode() public {
        Path memory a = _leafPath(_length("lengthA"), "a");
        Path memory b = _leafPath(_length("lengthB"), "b");
        vm.assume(b.length < a.length && _explored(a.length));
        b.position = a.position >> (a.length - b.length);
        _climb(a);
        _climb(b);
        vm.assume(a.ok && b.ok);
        assert(a.topHash != b.topHash);
    }

    /// @notice When `top` accepts a path (ok), the top sum is the node's sum plus the siblings'
    ///         sums (no overflow: ok is false when a sum overflows), and the position fits the
    ///         path (`position < 2^length`).
    function check_topSum_isSumOfPath() public {
        uint256 length = _length("length");
        vm.assume(_explored(length));
        (bytes32 hash, uint256 sum, uint256 position) =
            (svm.createBytes32("hash"), svm.createUint256("sum"), svm.createUint256("position"));
        MerkleSumTree.Node[] memory siblings = _path(length, "s");
        (bool ok,, uint256 topSum) = tree.top(hash, sum, position, siblings);
        vm.assume(ok);
        uint256 total = sum;
        for (uint256 i = 0; i < length; ++i) {
            total += siblings[i].sum; // reverts on overflow: then the assert below is not reached
        }
        assert(topSum == total);
        assert(position < 2 ** length);
    }

    /// @notice And `top` rejects exactly the paths whose sums overflow or whose position does not
    ///         fit: a path with no overflow and a fitting position is ok.
    function check_top_okUnlessOverflowOrBadPosition() public {
        uint256 length = _length("length");
        vm.assume(_explored(length));
        (bytes32 hash, uint256 sum, uint256 position) =
            (svm.createBytes32("hash"), svm.createUint256("sum"), svm.createUint256("position"));
        MerkleSumTree.Node[] memory siblings = _path(length, "s");
        vm.assume(position < 2 ** length);
        uint256 total = sum;
        for (uint256 i = 0; i < length; ++i) {
            vm.assume(siblings[i].sum <= type(uint256).max - total);
            total += siblings[i].sum;
        }
        (bool ok,,) = tree.top(hash, sum, position, siblings);
        assert(ok);
    }
}

/// @notice The same proofs with paths of 4 siblings (a tree of up to 16 leaves): each case whose
///         longest path has exactly 4 siblings (the shorter ones are `MerkleSumTreeProofs`'), so
///         that together they prove every length 0..4 once.
contract MerkleSumTreeDepth4Proofs is MerkleSumTreeProofs {
    function _maxPath() internal pure override returns (uint256) {
        return 4;
    }

    function _explored(uint256 longest) internal pure override returns (bool) {
        return longest == 4;
    }
}
