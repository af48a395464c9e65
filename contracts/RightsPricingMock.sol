// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {RightsPricing} from "./utils/RightsPricing.sol";

/// @dev Test helper: RightsPricing's pure functions as external views.
contract RightsPricingMock {
    function quoteMint(RightsPricing.Market calldata market, uint256 rights) external pure returns (uint256) {
        return RightsPricing.quoteMint(market, rights);
    }

    function baseStakeBps(uint256 totalActiveStake, uint256 totalFreeStaked) external pure returns (uint256) {
        return RightsPricing.baseStakeBps(totalActiveStake, totalFreeStaked);
    }

    function unlockOf(uint256 locked, uint256 free, uint256 rights, uint256 minted, uint256 minStake)
        external
        pure
        returns (uint256)
    {
        return RightsPricing.unlockOf(locked, free, rights, minted, minStake);
    }
}
