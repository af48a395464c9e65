// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccountWord, TotalWord, StakeWords} from "./utils/StakeWords.sol";

/// @dev Test helper: StakeWords' pack and unpack helpers, on raw uint208 checkpoint values.
contract StakeWordsMock {
    function withStake(uint256 staked, int256 origin) external pure returns (uint208) {
        return AccountWord.unwrap(StakeWords.withStake(staked, origin));
    }

    function withoutStake(uint256 earnedAmount) external pure returns (uint208) {
        return AccountWord.unwrap(StakeWords.withoutStake(earnedAmount));
    }

    function account(uint208 raw) external pure returns (uint256 stake, int256 origin, uint256 earnedWithoutStake) {
        AccountWord word = AccountWord.wrap(raw);
        return (word.stake(), word.rewardOrigin(), word.earnedWithoutStake());
    }

    function packTotal(uint256 rpt, uint256 totalStaked) external pure returns (uint208) {
        return TotalWord.unwrap(StakeWords.packTotal(rpt, totalStaked));
    }

    function total(uint208 raw) external pure returns (uint256 rpt, uint256 totalStaked) {
        return TotalWord.wrap(raw).unpack();
    }
}
