// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The staking contract as the EpochOracle proofs see it: the accounts set here have
///         their stakes at every timestamp, every other account has none, and the total is the
///         sum. So the honest active set is exactly these accounts (every staker is active).
///         Only the two views the oracle calls (`IVVVStaking` has many more).
contract StakingMock {
    address[] internal _accounts;
    uint256[] internal _stakes;

    function set(address[] memory accounts, uint256[] memory stakes) external {
        _accounts = accounts;
        _stakes = stakes;
    }

    function stakeAt(address account, uint256) external view returns (uint256) {
        for (uint256 i = 0; i < _accounts.length; ++i) {
            if (_accounts[i] == account) return _stakes[i];
        }
        return 0;
    }

    function totalStakedAt(uint256) external view returns (uint256 total) {
        for (uint256 i = 0; i < _stakes.length; ++i) {
            total += _stakes[i];
        }
    }
}
