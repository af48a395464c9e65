// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IVVVStaking} from "./interfaces/IVVV.sol";

/// @dev Test helper: the views the EpochOracle reads of the compute rights, set by hand (so that
///      states the real ComputeRights never reaches, such as more rights activated than the
///      capacity, can be tested), and, as the staking contract's locker, a plain lock.
contract RightsActivationsMock {
    mapping(address account => uint256) private _activated;
    uint256 public totalActivated;
    uint256 public totalSupply;

    function set(address account, uint256 rights) external {
        _activated[account] = rights;
    }

    function setTotals(uint256 totalActivated_, uint256 totalSupply_) external {
        (totalActivated, totalSupply) = (totalActivated_, totalSupply_);
    }

    function lock(IVVVStaking staking, address account, uint256 amount) external {
        staking.lock(account, amount);
    }

    function activatedAt(address account, uint256) external view returns (uint256) {
        return _activated[account];
    }

    function totalActivatedAt(uint256) external view returns (uint256) {
        return totalActivated;
    }
}
