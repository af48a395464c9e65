// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BitMaps} from "@openzeppelin/contracts/utils/structs/BitMaps.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IVVVMintable, IVVVStaking, IEpochOracle, IEmissionsController} from "./interfaces/IVVV.sol";
import {MinDelayAdminRules} from "./access/MinDelayAdminRules.sol";

/// @title EmissionsController
/// @notice Mints each UTC day's VVV emission once, and splits it between the stakers (streamed
///         through VVVStaking) and the treasury by the day's network utilization.
/// @dev The stakers' share is piecewise linear in utilization through three points
///      (0, y0), (x1, y1), (10000, y2), in basis points; admin-settable within bounds.
///      Each segment is `y_a + (y_b - y_a) * (u - x_a) / (x_b - x_a)` with the division applied
///      to the magnitude of the change (so 8000 - 6000*u/5000 and 2000 + 6000*(u-5000)/5000 for
///      the default curve, as the seed writes them). A new curve applies from the next epoch
///      on, never to an epoch that has started, so closed epochs keep the curve they ran under.
contract EmissionsController is MinDelayAdminRules, IEmissionsController {
    using BitMaps for BitMaps.BitMap;
    using Checkpoints for Checkpoints.Trace208;

    /// @inheritdoc IEmissionsController
    uint256 public constant EPOCH_LENGTH = 1 days;
    /// @notice Yearly emission: 14,000,000 VVV.
    uint256 public constant YEARLY_EMISSION = 14_000_000e18;
    /// @notice Emission of one epoch: YEARLY_EMISSION / 365, floored.
    uint256 public constant EPOCH_EMISSION = YEARLY_EMISSION / 365;
    /// @notice Basis points in one.
    uint256 public constant BPS = 10_000;
    /// @inheritdoc IEmissionsController
    uint256 public constant FALLBACK_DELAY_EPOCHS = 2;

    /// @inheritdoc IEmissionsController
    IVVVMintable public immutable token;
    /// @inheritdoc IEmissionsController
    IVVVStaking public immutable staking;
    /// @inheritdoc IEmissionsController
    IEpochOracle public immutable oracle;

    address private immutable _treasury;
    uint256 private immutable _genesisEpoch;

    struct Curve {
        uint16 y0; // stakers' share at 0% utilization
        uint16 x1; // utilization of the middle point
        uint16 y1; // stakers' share at x1
        uint16 y2; // stakers' share at 100% utilization
    }

    /// @dev key: first epoch a curve applies to; value: y0 | x1 << 16 | y1 << 32 | y2 << 48.
    Checkpoints.Trace208 private _curves;
    BitMaps.BitMap private _distributed;

    /// @param token_ The VVV token.
    /// @param staking_ The staking contract.
    /// @param oracle_ The epoch oracle.
    /// @param treasury_ Receiver of the treasury's part (fixed).
    /// @param admin The default admin.
    /// @param adminDelay Delay of the default admin transfer, in seconds.
    /// @param genesisEpoch_ First epoch that emits; must be after the current one.
    constructor(
        IVVVMintable token_,
        IVVVStaking staking_,
        IEpochOracle oracle_,
        address treasury_,
        address admin,
        uint48 adminDelay,
        uint256 genesisEpoch_
    ) MinDelayAdminRules(adminDelay, admin) {
        if (
            address(token_) == address(0) || address(staking_) == address(0) || address(oracle_) == address(0)
                || treasury_ == address(0)
        ) revert ZeroAddress();
        if (genesisEpoch_ <= block.timestamp / EPOCH_LENGTH) {
            revert InvalidGenesisEpoch(genesisEpoch_, block.timestamp / EPOCH_LENGTH);
        }
        token = token_;
        staking = staking_;
        oracle = oracle_;
        _treasury = treasury_;
        _genesisEpoch = genesisEpoch_;
        _setCurve(8000, 5000, 2000, 8000, 0);
    }

    /// @inheritdoc IEmissionsController
    function distribute(uint256 epoch) external {
        if (epoch < _genesisEpoch) revert EpochBeforeGenesis(epoch, _genesisEpoch);
        uint256 current = block.timestamp / EPOCH_LENGTH;
        if (epoch >= current) revert EpochNotClosed(epoch, current);
        if (_distributed.get(epoch)) revert AlreadyDistributed(epoch);

        (IEpochOracle.Status status, uint256 utilizationBps, uint256 finalAt) = oracle.utilizationOf(epoch);
        bool fallbackUsed = false;
        if (status != IEpochOracle.Status.Final) {
            uint256 fallbackTime = (epoch + 1 + FALLBACK_DELAY_EPOCHS) * EPOCH_LENGTH;
            if (block.timestamp < fallbackTime) revert ReportNotFinal(epoch, fallbackTime);
            if (status == IEpochOracle.Status.Pending) revert ReportPending(epoch, finalAt);
            utilizationBps = 0;
            fallbackUsed = true;
        }
        uint256 stakerBps = stakerShareBpsAt(epoch, utilizationBps);
        uint256 stakerAmount = EPOCH_EMISSION * stakerBps / BPS;
        uint256 treasuryAmount = EPOCH_EMISSION - stakerAmount;

        _distributed.set(epoch);
        emit Distributed(epoch, utilizationBps, stakerBps, stakerAmount, treasuryAmount, fallbackUsed);

        if (stakerAmount != 0) {
            token.mint(address(staking), stakerAmount);
            staking.notifyRewards(stakerAmount);
        }
        if (treasuryAmount != 0) token.mint(_treasury, treasuryAmount);
    }

    /// @inheritdoc IEmissionsController
    function setCurve(uint256 y0, uint256 x1, uint256 y1, uint256 y2) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setCurve(y0, x1, y1, y2, block.timestamp / EPOCH_LENGTH + 1);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IEmissionsController
    function stakerShareBps(uint256 utilizationBps) external view returns (uint256) {
        return stakerShareBpsAt(block.timestamp / EPOCH_LENGTH, utilizationBps);
    }

    /// @inheritdoc IEmissionsController
    function stakerShareBpsAt(uint256 epoch, uint256 utilizationBps) public view returns (uint256) {
        if (utilizationBps > BPS) revert InvalidUtilization(utilizationBps);
        Curve memory c = _curveAt(epoch);
        if (utilizationBps <= c.x1) return _segment(c.y0, c.y1, utilizationBps, c.x1);
        return _segment(c.y1, c.y2, utilizationBps - c.x1, BPS - c.x1);
    }

    /// @inheritdoc IEmissionsController
    function curve() external view returns (uint256 y0, uint256 x1, uint256 y1, uint256 y2, uint256 fromEpoch) {
        (, uint48 key, uint208 packed) = _curves.latestCheckpoint();
        Curve memory c = _unpack(packed);
        return (c.y0, c.x1, c.y1, c.y2, key);
    }

    /// @inheritdoc IEmissionsController
    function curveAt(uint256 epoch) external view returns (uint256 y0, uint256 x1, uint256 y1, uint256 y2) {
        Curve memory c = _curveAt(epoch);
        return (c.y0, c.x1, c.y1, c.y2);
    }

    /// @inheritdoc IEmissionsController
    function distributed(uint256 epoch) external view returns (bool) {
        return _distributed.get(epoch);
    }

    /// @inheritdoc IEmissionsController
    function epochEmission() external pure returns (uint256) {
        return EPOCH_EMISSION;
    }

    /// @inheritdoc IEmissionsController
    function currentEpoch() external view returns (uint256) {
        return block.timestamp / EPOCH_LENGTH;
    }

    /// @inheritdoc IEmissionsController
    function genesisEpoch() external view returns (uint256) {
        return _genesisEpoch;
    }

    /// @inheritdoc IEmissionsController
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @inheritdoc IEmissionsController
    function totalEmitted() external view returns (uint256) {
        return token.totalSupply() - token.GENESIS_SUPPLY();
    }

    // ---------------------------------------------------------------- internals

    function _setCurve(uint256 y0, uint256 x1, uint256 y1, uint256 y2, uint256 fromEpoch) private {
        if (y0 > BPS || y1 > BPS || y2 > BPS || x1 == 0 || x1 >= BPS) revert InvalidCurve(y0, x1, y1, y2);
        _curves.push(SafeCast.toUint48(fromEpoch), uint208(y0 | x1 << 16 | y1 << 32 | y2 << 48));
        emit CurveUpdated(y0, x1, y1, y2, fromEpoch);
    }

    function _curveAt(uint256 epoch) private view returns (Curve memory) {
        uint48 key = epoch > type(uint48).max ? type(uint48).max : uint48(epoch);
        return _unpack(_curves.upperLookupRecent(key));
    }

    function _unpack(uint256 packed) private pure returns (Curve memory) {
        return Curve(uint16(packed), uint16(packed >> 16), uint16(packed >> 32), uint16(packed >> 48));
    }

    /// @dev From `ya` towards `yb` over a run of `width`, at `dx` into it.
    function _segment(uint256 ya, uint256 yb, uint256 dx, uint256 width) private pure returns (uint256) {
        return yb >= ya ? ya + (yb - ya) * dx / width : ya - (ya - yb) * dx / width;
    }
}
