// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @notice The value of a checkpoint in an account's stake trace (`Checkpoints.Trace208`):
///         the stake in the low 96 bits, and above it a 112-bit field whose meaning depends on
///         the stake.
///
///         ```
///           | [112 bits]: stake != 0: the signed reward-per-token origin (int112), `rewardOrigin`
///           |             stake == 0: the earned amount (uint112), `earnedWithoutStake`
///           ↓                           ↓ [uint96]: stake
///         0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFSSSSSSSSSSSSSSSSSSSSSSSS
///         ```
///
///         With a stake, what the account has earned is `stake * (rpt - origin) / PRECISION` at
///         reward per token `rpt`: the origin moves down as rewards are folded in, and may be
///         negative. Without a stake nothing accrues, so the field holds the earned amount itself.
type AccountWord is uint208;

/// @notice The value of a checkpoint in the total trace (`Checkpoints.Trace208`, keyed by the
///         accumulator's last update): the reward per staked token and the total stake.
///
///         ```
///           | [uint112]: rewardPerToken (scaled by PRECISION)
///           ↓                           ↓ [uint96]: totalStaked
///         0xRRRRRRRRRRRRRRRRRRRRRRRRRRRRTTTTTTTTTTTTTTTTTTTTTTTT
///         ```
type TotalWord is uint208;

using StakeWords for AccountWord global;
using StakeWords for TotalWord global;

/// @title StakeWords
/// @notice Pack and unpack VVVStaking's checkpoint values (`AccountWord`, `TotalWord`), as
///         OpenZeppelin's `Time` does for `Time.Delay`. Packing checks every part's range
///         (SafeCast); unpacking is shifts and truncations.
library StakeWords {
    uint256 private constant STAKE_BITS = 96;

    // ---------------------------------------------------------------- account

    /// @notice The word of an account with a non-zero stake `staked` and reward origin `origin`.
    function withStake(uint256 staked, int256 origin) internal pure returns (AccountWord) {
        uint256 field = uint112(SafeCast.toInt112(origin));
        return AccountWord.wrap(uint208((field << STAKE_BITS) | SafeCast.toUint96(staked)));
    }

    /// @notice The word of an account with no stake that has earned `earnedAmount`.
    function withoutStake(uint256 earnedAmount) internal pure returns (AccountWord) {
        return AccountWord.wrap(uint208(uint256(SafeCast.toUint112(earnedAmount)) << STAKE_BITS));
    }

    /// @notice The account's stake.
    function stake(AccountWord self) internal pure returns (uint256) {
        return uint96(AccountWord.unwrap(self));
    }

    /// @notice The reward-per-token origin; meaningful only when `stake(self) != 0`.
    function rewardOrigin(AccountWord self) internal pure returns (int256) {
        return int112(uint112(AccountWord.unwrap(self) >> STAKE_BITS));
    }

    /// @notice The earned amount; meaningful only when `stake(self) == 0`.
    function earnedWithoutStake(AccountWord self) internal pure returns (uint256) {
        return AccountWord.unwrap(self) >> STAKE_BITS;
    }

    // ---------------------------------------------------------------- total

    /// @notice The word of reward per token `rpt` and total stake `totalStaked_`.
    function packTotal(uint256 rpt, uint256 totalStaked_) internal pure returns (TotalWord) {
        return TotalWord.wrap(
            uint208((uint256(SafeCast.toUint112(rpt)) << STAKE_BITS) | SafeCast.toUint96(totalStaked_))
        );
    }

    /// @notice The reward per token and the total stake.
    function unpack(TotalWord self) internal pure returns (uint256 rpt, uint256 totalStaked_) {
        return (rewardPerToken(self), totalStaked(self));
    }

    /// @notice The reward per staked token, scaled by PRECISION.
    function rewardPerToken(TotalWord self) internal pure returns (uint256) {
        return TotalWord.unwrap(self) >> STAKE_BITS;
    }

    /// @notice The total stake.
    function totalStaked(TotalWord self) internal pure returns (uint256) {
        return uint96(TotalWord.unwrap(self));
    }
}
