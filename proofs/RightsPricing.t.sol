// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {RightsPricing} from "../contracts/utils/RightsPricing.sol";
import {SymTest} from "./Sym.sol";

// Not proved here yet (docs/security.md): quoteMint additive and non-decreasing in R (halmos did
// not finish its mulDiv queries in 4 minutes even at 8-bit inputs), and unlockOf <= its share
// for any position (timed out at 100 s); tests/contracts/test_compute_rights.py checks them.

/// @notice Proofs about the price and the repay share of compute rights (SPEC.md
///         "ComputeRights"), on `RightsPricing` itself (the library `ComputeRights` calls), for
///         every value within the widths of each function's parameters (docs/security.md).
contract RightsPricingProofs is SymTest {
    /// @notice A mint of `n` rights into an empty position, locking `lock`, then repays of
    ///         `r1` and the rest `n - r1` of the same rights: together they unlock exactly
    ///         `lock`, and the first never more than its share of it.
    function check_mintThenRepay_neverUnlocksMoreThanLocked(
        uint128 lock,
        uint128 free,
        uint128 n,
        uint128 r1,
        uint128 minStake
    ) public pure {
        vm.assume(n > 0 && r1 > 0 && r1 < n && minStake <= lock);
        vm.assume(free == 0 || free >= minStake);
        uint256 first = RightsPricing.unlockOf(lock, free, r1, n, minStake);
        assert(first <= uint256(lock) * r1 / n);
        uint256 rest = RightsPricing.unlockOf(lock - first, free + first, n - r1, n - r1, minStake);
        assert(first + rest == lock);
    }
}
