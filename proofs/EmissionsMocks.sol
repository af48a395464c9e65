// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IEpochOracle} from "../contracts/interfaces/IVVV.sol";

/// @notice Token, staking and oracle stand-ins for the EmissionsController proofs: they record
///         what the controller mints and notifies, and the oracle reports any utilization.
contract MintRecorder {
    mapping(address => uint256) public minted;

    function mint(address to, uint256 amount) external {
        minted[to] += amount;
    }

    function totalSupply() external pure returns (uint256) {
        return 0;
    }

    function GENESIS_SUPPLY() external pure returns (uint256) {
        return 0;
    }
}

contract NotifyRecorder {
    uint256 public notified;

    function notifyRewards(uint256 amount) external {
        notified += amount;
    }

    function stakeAt(address, uint256) external pure returns (uint256) {
        return 0;
    }

    function totalStakedAt(uint256) external pure returns (uint256) {
        return 0;
    }
}

/// @dev Every epoch's report is final with utilization `utilization`.
contract FinalReportOracle {
    uint256 public utilization;

    function set(uint256 utilization_) external {
        utilization = utilization_;
    }

    function utilizationOf(uint256) external view returns (IEpochOracle.Status, uint256, uint256) {
        return (IEpochOracle.Status.Final, utilization, 0);
    }

    function finalUtilization(uint256) external view returns (bool, uint256) {
        return (true, utilization);
    }
}
