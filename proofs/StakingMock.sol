// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The staking contract as the EpochOracle proofs see it: the accounts set here have
///         their free stakes at every timestamp, every other account has none, and the total is
///         the sum. So the honest active set is exactly these accounts (every staker is active).
///         Each account may also hold a locked stake (`setLocked`): it counts in `stakeAt` and
///         `totalStakedAt` only, so a report or a check that read whole stakes instead of free
///         ones would fail the proofs. Only the views the oracle calls (`IVVVStaking` has many
///         more), and `locker()`, the rights contract the oracle reads at construction.
contract StakingMock {
    address[] internal _accounts;
    uint256[] internal _stakes;
    uint256[] internal _locked;
    address public locker;

    function set(address[] memory accounts, uint256[] memory stakes) external {
        _accounts = accounts;
        _stakes = stakes;
        delete _locked;
        for (uint256 i = 0; i < accounts.length; ++i) {
            _locked.push(0);
        }
    }

    function setLocked(uint256[] memory locked) external {
        _locked = locked;
    }

    function setLocker(address locker_) external {
        locker = locker_;
    }

    function freeStakeAt(address account, uint256) public view returns (uint256) {
        for (uint256 i = 0; i < _accounts.length; ++i) {
            if (_accounts[i] == account) return _stakes[i];
        }
        return 0;
    }

    function totalFreeStakedAt(uint256) public view returns (uint256 total) {
        for (uint256 i = 0; i < _stakes.length; ++i) {
            total += _stakes[i];
        }
    }

    function stakeAt(address account, uint256 t) external view returns (uint256) {
        for (uint256 i = 0; i < _accounts.length; ++i) {
            if (_accounts[i] == account) return _stakes[i] + _locked[i];
        }
        return freeStakeAt(account, t);
    }

    function totalStakedAt(uint256 t) external view returns (uint256 total) {
        total = totalFreeStakedAt(t);
        for (uint256 i = 0; i < _locked.length; ++i) {
            total += _locked[i];
        }
    }
}

/// @notice The compute rights as the EpochOracle proofs see them: the rights activated to each
///         account set here and their total, at every epoch (every other account has none).
contract RightsMock {
    address[] internal _accounts;
    uint256[] internal _activated;
    uint256 public totalActivated;
    uint256 public totalSupply;

    function set(address[] memory accounts, uint256[] memory activated, uint256 total, uint256 supply) external {
        (_accounts, _activated, totalActivated, totalSupply) = (accounts, activated, total, supply);
    }

    function activatedAt(address account, uint256) external view returns (uint256) {
        for (uint256 i = 0; i < _accounts.length; ++i) {
            if (_accounts[i] == account) return _activated[i];
        }
        return 0;
    }

    function totalActivatedAt(uint256) external view returns (uint256) {
        return totalActivated;
    }
}
