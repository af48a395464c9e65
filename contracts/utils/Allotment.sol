// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Allotment
/// @notice The arithmetic of a day's VCU allotment, the same under both of SPEC.md's sources:
///         the rights activated to the account plus its share of the pool
///         `pool(capacity, totalActivated)`:
///         - report source: `stake * pool / totalActiveStake` of the report of `epoch - 1`
///           (the account's leaf, the report's capacity and total; free stakes);
///         - fallback source: `freeStakeAt(account, snapshot) * pool /
///           totalFreeStakedAt(snapshot)` with the day's fallback capacity.
///         Kept apart from `EpochOracle.vcuAllocation` so that the formula is proven on its own
///         (proofs/Allotment.t.sol): the factors are below 2^128, so the product is exact and
///         the result is the exact floor of the rational `stake * capacity / total`.
library Allotment {
    /// @notice The pool of a day: what the activated rights leave of the capacity,
    ///         `capacity > activated ? capacity - activated : 0` (never above `capacity`).
    function pool(uint128 capacity, uint256 activated) internal pure returns (uint128) {
        unchecked {
            return capacity > activated ? uint128(capacity - activated) : 0;
        }
    }

    /// @notice `stake * capacity / total`, rounded down; 0 when `total` is 0.
    /// @dev Two factors below 2^128 have a product below 2^256: no overflow, no `mulDiv`.
    function share(uint128 stake, uint128 capacity, uint128 total) internal pure returns (uint256) {
        if (total == 0) return 0;
        unchecked {
            return (uint256(stake) * capacity) / total;
        }
    }
}
