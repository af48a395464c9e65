// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title RightsPricing
/// @notice The immutable price of compute rights (SPEC.md, "ComputeRights"): the VVV of free
///         stake that minting `n` rights locks.
///
///         The marginal price of the `r`-th right outstanding is `base * (1 + 3 * r / RCAP)`
///         (it quadruples at the cap), with `base = T_eff / (capacity - R_start)`: a right costs
///         what the stake that earns one VCU of the day's pool is worth, so taking the
///         capacity as rights is never cheaper than staking for it. Its integral over the
///         `n` rights after the `R_start + mintedToday` already out is
///
///           quoteMint(n) = T_eff * (2*RCAP*n + 3*n*(2*R_start + 2*mintedToday + n))
///                          / (2*RCAP*(capacity - R_start))
///
///         with `T_eff = max(totalActiveStake, totalFreeStaked * FLOOR_BPS / 10_000)` (the
///         floor keeps rights from being near free while little stake is active, at launch).
///
///         Rounding: one rounding, up, at the end. `T_eff` enters as the exact rational
///         `max(totalActiveStake * 10_000, totalFreeStaked * FLOOR_BPS) / 10_000`, so the
///         floor's division is inside the one `Math.mulDiv(..., Math.Rounding.Ceil)` and no
///         intermediate step rounds in the minter's favour. The integral is exactly additive
///         (`quote(a, m) + quote(b, m + a) = quote(a + b, m)` before rounding), so splitting a mint
///         in two never costs less, and costs at most one wei more per extra rounding.
///
///         Domain: every amount below 2^100 (VCU and VVV are 18-decimal: 10^12 tokens); above
///         it the checked products may overflow and revert.
library RightsPricing {
    /// @notice The floor of the base stake, in basis points of the free stake.
    uint256 internal constant FLOOR_BPS = 500;
    /// @notice Basis points in one.
    uint256 internal constant BPS = 10_000;

    /// @notice The cap on rights outstanding is zero.
    error ZeroRightsCap();
    /// @notice No pool is left to price against: the report's `capacity` is at most the rights
    ///         outstanding at the epoch's start, `rightsAtStart`.
    error CapacityNotAboveRights(uint256 capacity, uint256 rightsAtStart);

    /// @notice The base stake in basis points: `T_eff * 10_000`, exact.
    /// @param totalActiveStake The report's total active stake.
    /// @param totalFreeStaked The free stake the report read at its snapshot.
    function baseStakeBps(uint256 totalActiveStake, uint256 totalFreeStaked) internal pure returns (uint256) {
        return Math.max(totalActiveStake * BPS, totalFreeStaked * FLOOR_BPS);
    }

    /// @notice What the price of a mint depends on besides the rights minted: the day's report
    ///         and the rights already out.
    struct Market {
        uint256 rightsAtStart; // `R_start`: rights outstanding at the epoch's start
        uint256 mintedToday; // rights minted earlier in the epoch
        uint256 rightsCap; // `RCAP`, immutable
        uint256 capacity; // the report's capacity (VCU, 18 decimals)
        uint256 totalActiveStake; // the report's total active stake
        uint256 totalFreeStaked; // the free stake the report read at its snapshot
    }

    /// @notice The VVV (wei) that minting `rights` in `market` locks, rounded up.
    ///
    /// Requirements:
    /// - `market.rightsCap` is not zero (`ZeroRightsCap`);
    /// - `market.capacity > market.rightsAtStart` (`CapacityNotAboveRights`).
    /// @param market The report's numbers and the rights already out.
    /// @param rights The rights to mint, `n` (0 costs 0).
    function quoteMint(Market memory market, uint256 rights) internal pure returns (uint256) {
        uint256 rcap = market.rightsCap;
        uint256 rStart = market.rightsAtStart;
        if (rcap == 0) revert ZeroRightsCap();
        if (market.capacity <= rStart) revert CapacityNotAboveRights(market.capacity, rStart);
        uint256 integral = 2 * rcap * rights + 3 * rights * (2 * rStart + 2 * market.mintedToday + rights);
        return Math.mulDiv(
            baseStakeBps(market.totalActiveStake, market.totalFreeStaked),
            integral,
            BPS * 2 * rcap * (market.capacity - rStart),
            Math.Rounding.Ceil
        );
    }

    /// @notice The VVV a repay of `rights` of a position (`minted` rights locking `locked`)
    ///         unlocks, for an account with `free` free stake: its share
    ///         `locked * rights / minted` rounded down (all of `locked` when `rights == minted`),
    ///         less when the share would leave a partial position with less than `minStake`
    ///         locked (it keeps `minStake`), and 0 when the free stake after it would be in
    ///         (0, `minStake`). So a repay is always possible, never unlocks more than its share,
    ///         and never leaves a stake below the minimum (given `locked >= minStake`).
    ///
    /// Requirements: `0 < rights <= minted`, `minStake <= locked` (the caller's to ensure).
    function unlockOf(uint256 locked, uint256 free, uint256 rights, uint256 minted, uint256 minStake)
        internal
        pure
        returns (uint256 unlocked)
    {
        if (rights == minted) return locked;
        unlocked = Math.min(locked * rights / minted, locked - minStake);
        if (free + unlocked < minStake) unlocked = 0;
    }
}
