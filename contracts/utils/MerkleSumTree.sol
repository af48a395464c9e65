// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title MerkleSumTree
/// @notice The active-set tree of SPEC.md: a complete binary Merkle-sum tree over the active
///         stakers, sorted strictly ascending by account, padded on the right with empty leaves.
///
///         leaf:   hash = keccak256(bytes.concat(keccak256(abi.encode(account, stake)))), sum = stake
///         empty:  hash = 0, sum = 0
///         inner:  hash = keccak256(abi.encode(leftHash, leftSum, rightHash, rightSum)),
///                 sum  = leftSum + rightSum
///
///         The root's hash is the report's `activeRoot`, its sum must be `totalActiveStake`.
///         Every node's (hash, sum) is committed by its parent's hash, so a path that reaches the
///         root proves the sums along it too. A leaf hash is a hash of 32 bytes and an inner hash
///         a hash of 128 bytes, so neither can pass for the other.
///
///         A proof is the leaf's position and its siblings from the leaf up; bit `i` of the
///         position says whether the node at height `i` is a right child (1) or a left one (0).
library MerkleSumTree {
    /// @notice A node of the tree: its hash and the sum of the stakes below it.
    struct Node {
        bytes32 hash;
        uint256 sum;
    }

    /// @notice Hash of the leaf of `(account, stake)` (OpenZeppelin's StandardMerkleTree leaf).
    function leafHash(address account, uint256 stake) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, stake))));
    }

    /// @notice Depth of the complete tree of `count` leaves: ceil(log2(count)), 0 for 0 or 1.
    function depth(uint256 count) internal pure returns (uint256) {
        return count <= 1 ? 0 : Math.log2(count - 1) + 1;
    }

    /// @notice The top node reached from the node `(hash, sum)` at `position` through
    ///         `siblings`. `ok` is false when the position does not fit the path
    ///         (`position >= 2^siblings.length`) or a sum overflows; then no tree holds the path.
    function top(bytes32 hash, uint256 sum, uint256 position, Node[] calldata siblings)
        internal
        pure
        returns (bool ok, bytes32 topHash, uint256 topSum)
    {
        uint256 length = siblings.length;
        if (length < 256 && position >> length != 0) return (false, 0, 0);
        for (uint256 i = 0; i < length; ++i) {
            Node calldata sibling = siblings[i];
            uint256 siblingSum = sibling.sum;
            uint256 parentSum;
            unchecked {
                parentSum = sum + siblingSum;
            }
            if (parentSum < sum) return (false, 0, 0);
            hash = (position >> i) & 1 == 0
                ? keccak256(abi.encode(hash, sum, sibling.hash, siblingSum))
                : keccak256(abi.encode(sibling.hash, siblingSum, hash, sum));
            sum = parentSum;
        }
        return (true, hash, sum);
    }
}
