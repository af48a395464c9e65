// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

interface IStaking {
    function stake(uint256 amount) external;
    function requestUnstake(uint256 amount) external returns (uint256);
    function claimRewards() external returns (uint256);
    function earned(address account) external view returns (uint256);
}

/// @notice Test-only attacker (never deployed by deploy_system): stakes and unstakes in one
///         transaction, a flash stake. At the top of contracts/ because ape test only lists
///         top-level sources of a fresh build.
contract FlashStaker {
    /// @notice Stakes `amount` of `token` held here and requests it back in the same call;
    ///         returns what it earned in between.
    function flash(IERC20 token, IStaking staking, uint256 amount) external returns (uint256 earnedInBetween) {
        token.approve(address(staking), amount);
        staking.stake(amount);
        staking.requestUnstake(amount);
        earnedInBetween = staking.earned(address(this));
    }
}
