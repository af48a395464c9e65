// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice What the EmissionsController needs of the token.
interface IVVVMintable {
    function mint(address to, uint256 amount) external;
    function totalSupply() external view returns (uint256);
    // solhint-disable-next-line func-name-mixedcase
    function GENESIS_SUPPLY() external view returns (uint256);
}

/// @notice What the EmissionsController and the EpochOracle need of the staking contract.
interface IVVVStaking {
    function notifyRewards(uint256 amount) external;
    function stakeAt(address account, uint256 timestamp) external view returns (uint256);
    function totalStakedAt(uint256 timestamp) external view returns (uint256);
}

/// @notice What the EmissionsController needs of the oracle.
interface IEpochOracle {
    /// @notice A report's status: none posted, pending (in its dispute window), final, rejected.
    enum Status {
        None,
        Pending,
        Final,
        Rejected
    }

    /// @return isFinal_ Whether a final (not rejected, dispute window over) report exists.
    /// @return utilizationBps The report's utilization (0 when not final).
    function finalUtilization(uint256 epoch) external view returns (bool isFinal_, uint256 utilizationBps);

    /// @notice The status of the report of `epoch`, its utilization (0 unless final) and the end
    ///         of its dispute window (0 when none is posted).
    function utilizationOf(uint256 epoch)
        external
        view
        returns (Status status, uint256 utilizationBps, uint256 finalAt);
}
