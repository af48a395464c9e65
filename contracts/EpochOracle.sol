// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IVVVStaking, IEpochOracle} from "./interfaces/IVVV.sol";

/// @title EpochOracle
/// @notice Daily reports of the off-chain oracle: epoch `e`'s utilization (drives its emission
///         split) and, for the VCU allotments of epoch `e+1`, the capacity and a Merkle root of
///         the API-active stakers with their stake at the snapshot `(e+1)*86400 - 1`.
/// @dev A report is pending for `disputeWindow` after it is posted, then final. During the
///      window the guardian can reject it, and anyone can reject it with a leaf of the root whose
///      stake differs from the staking contract's checkpoint. A rejected report can be posted
///      again, corrected; nothing else is ever overwritten. Leaves are OpenZeppelin
///      StandardMerkleTree leaves of `(address account, uint256 stake)`.
contract EpochOracle is AccessControlDefaultAdminRules, Pausable, IEpochOracle {
    /// @notice Posts reports.
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");
    /// @notice Rejects reports during their dispute window, pauses and unpauses.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @notice Length of an epoch: one UTC day.
    uint256 public constant EPOCH_LENGTH = 1 days;
    /// @notice Basis points in one.
    uint256 public constant BPS = 10_000;
    /// @notice Bounds of the dispute window.
    uint256 public constant MIN_DISPUTE_WINDOW = 15 minutes;
    uint256 public constant MAX_DISPUTE_WINDOW = 1 days;
    /// @notice Largest allowed per-report capacity change bound (bps of the last capacity).
    uint256 public constant MAX_CAPACITY_CHANGE_LIMIT_BPS = 10_000;
    /// @notice Smallest delay of a default admin transfer.
    uint256 public constant MIN_ADMIN_DELAY = 1 days;

    enum Status {
        None,
        Pending,
        Final,
        Rejected
    }

    struct Report {
        bytes32 activeRoot;
        uint128 capacity;
        uint128 totalActiveStake;
        uint16 utilizationBps;
        uint64 activeCount;
        uint48 postedAt;
        uint48 finalAt;
        bool rejected;
    }

    /// @notice The staking contract whose checkpoints the reports commit to.
    IVVVStaking public immutable staking;
    /// @notice First epoch that can be reported.
    uint256 public immutable firstEpoch;

    mapping(uint256 epoch => Report) private _reports;
    uint256 private _nextEpoch;
    uint256 private _lastCapacity;
    /// @dev Capacity before the newest report, restored if that report is rejected.
    uint256 private _previousCapacity;
    uint256 private _disputeWindow;
    uint256 private _minCapacity;
    uint256 private _maxCapacity;
    uint256 private _maxCapacityChangeBps;

    /// @notice A report for `epoch` was posted; final at `finalAt` unless rejected before.
    event ReportPosted(
        uint256 indexed epoch,
        uint256 utilizationBps,
        uint256 capacity,
        bytes32 activeRoot,
        uint256 totalActiveStake,
        uint256 activeCount,
        uint256 finalAt
    );
    /// @notice The guardian rejected the report of `epoch`.
    event ReportRejected(uint256 indexed epoch, address indexed guardian);
    /// @notice `challenger` proved that the report of `epoch` holds `account` with `claimedStake`
    ///         while its stake at the snapshot was `actualStake`; the report is rejected.
    event ReportChallenged(
        uint256 indexed epoch, address indexed challenger, address account, uint256 claimedStake, uint256 actualStake
    );
    /// @notice The dispute window changed (applies to reports posted from now on).
    event DisputeWindowUpdated(uint256 disputeWindow);
    /// @notice The capacity bounds changed.
    event CapacityBoundsUpdated(uint256 minCapacity, uint256 maxCapacity, uint256 maxCapacityChangeBps);

    /// @notice The epoch has not ended yet.
    error EpochNotClosed(uint256 epoch, uint256 currentEpoch);
    /// @notice Reports must be posted in order: `expected` is the next epoch.
    error EpochOutOfOrder(uint256 epoch, uint256 expected);
    /// @notice A (not rejected) report for the epoch exists.
    error ReportExists(uint256 epoch);
    /// @notice Utilization above 10,000 bps.
    error InvalidUtilization(uint256 utilizationBps);
    /// @notice Root, total active stake and count must be all zero or all non-zero.
    error InconsistentActiveSet(bytes32 activeRoot, uint256 totalActiveStake, uint256 activeCount);
    /// @notice The active stake exceeds the total stake at the snapshot.
    error ActiveStakeTooHigh(uint256 totalActiveStake, uint256 totalStaked);
    /// @notice The capacity is outside the admin's bounds.
    error CapacityOutOfBounds(uint256 capacity, uint256 minCapacity, uint256 maxCapacity);
    /// @notice The capacity moved more than the allowed change from the last report.
    error CapacityChangeTooLarge(uint256 capacity, uint256 lastCapacity, uint256 maxChangeBps);
    /// @notice No report exists for the epoch.
    error NoReport(uint256 epoch);
    /// @notice The report was already rejected.
    error ReportAlreadyRejected(uint256 epoch);
    /// @notice The report's dispute window is over.
    error DisputeWindowClosed(uint256 epoch, uint256 finalAt);
    /// @notice The proof does not show the leaf in the report's root.
    error InvalidProof(uint256 epoch, address account, uint256 stake);
    /// @notice The leaf's stake matches the checkpoint: the challenge fails.
    error LeafMatchesStake(uint256 epoch, address account, uint256 stake);
    /// @notice A parameter is outside its bounds.
    error InvalidParameter();
    /// @notice An address is zero.
    error ZeroAddress();

    /// @param staking_ The staking contract.
    /// @param admin The default admin.
    /// @param adminDelay Delay of the default admin transfer, in seconds.
    /// @param oracle Holder of ORACLE_ROLE.
    /// @param guardian Holder of GUARDIAN_ROLE.
    /// @param firstEpoch_ First epoch that can be reported (the emissions' genesis epoch).
    /// @param initialCapacity Capacity (VCU, 18 decimals) before any report; also the fallback's.
    /// @param minCapacity Lowest capacity a report may carry.
    /// @param maxCapacity Highest capacity a report may carry.
    /// @param maxCapacityChangeBps Largest change of capacity from one report to the next (bps).
    /// @param disputeWindow_ Dispute window of new reports, in seconds.
    constructor(
        IVVVStaking staking_,
        address admin,
        uint48 adminDelay,
        address oracle,
        address guardian,
        uint256 firstEpoch_,
        uint256 initialCapacity,
        uint256 minCapacity,
        uint256 maxCapacity,
        uint256 maxCapacityChangeBps,
        uint256 disputeWindow_
    ) AccessControlDefaultAdminRules(adminDelay, admin) {
        if (address(staking_) == address(0) || oracle == address(0) || guardian == address(0)) revert ZeroAddress();
        if (firstEpoch_ == 0 || adminDelay < MIN_ADMIN_DELAY) revert InvalidParameter();
        staking = staking_;
        firstEpoch = firstEpoch_;
        _nextEpoch = firstEpoch_;
        _grantRole(ORACLE_ROLE, oracle);
        _grantRole(GUARDIAN_ROLE, guardian);
        _setCapacityBounds(minCapacity, maxCapacity, maxCapacityChangeBps);
        if (initialCapacity < minCapacity || initialCapacity > maxCapacity) {
            revert CapacityOutOfBounds(initialCapacity, minCapacity, maxCapacity);
        }
        _lastCapacity = initialCapacity;
        _previousCapacity = initialCapacity;
        _setDisputeWindow(disputeWindow_);
    }

    // ---------------------------------------------------------------- oracle

    /// @notice Posts the report of closed epoch `epoch`: the next unreported epoch, or a
    ///         rejected one again (corrected). Checks every bound that can be checked on-chain.
    /// @param epoch The reported epoch.
    /// @param utilizationBps Epoch `epoch`'s VCU consumed / capacity, in bps (<= 10,000).
    /// @param capacity VCU capacity (18 decimals) of epoch `epoch + 1`.
    /// @param activeRoot StandardMerkleTree root of (account, stake) of the API-active stakers.
    /// @param totalActiveStake Sum of the leaves' stakes.
    /// @param activeCount Number of leaves.
    function postReport(
        uint256 epoch,
        uint256 utilizationBps,
        uint256 capacity,
        bytes32 activeRoot,
        uint256 totalActiveStake,
        uint256 activeCount
    ) external onlyRole(ORACLE_ROLE) whenNotPaused {
        uint256 current = block.timestamp / EPOCH_LENGTH;
        if (epoch >= current) revert EpochNotClosed(epoch, current);
        Report storage slot = _reports[epoch];
        uint256 next = _nextEpoch;
        if (slot.postedAt != 0) {
            if (!slot.rejected) revert ReportExists(epoch);
        } else if (epoch != next) {
            revert EpochOutOfOrder(epoch, next);
        }
        if (utilizationBps > BPS) revert InvalidUtilization(utilizationBps);
        if ((activeRoot == bytes32(0)) != (totalActiveStake == 0) || (totalActiveStake == 0) != (activeCount == 0)) {
            revert InconsistentActiveSet(activeRoot, totalActiveStake, activeCount);
        }
        _checkCapacity(capacity);
        uint256 staked = staking.totalStakedAt(snapshotTime(epoch));
        if (totalActiveStake > staked) revert ActiveStakeTooHigh(totalActiveStake, staked);

        uint256 finalAt = block.timestamp + _disputeWindow;
        _reports[epoch] = Report({
            activeRoot: activeRoot,
            capacity: SafeCast.toUint128(capacity),
            totalActiveStake: SafeCast.toUint128(totalActiveStake),
            utilizationBps: uint16(utilizationBps),
            activeCount: SafeCast.toUint64(activeCount),
            postedAt: SafeCast.toUint48(block.timestamp),
            finalAt: SafeCast.toUint48(finalAt),
            rejected: false
        });
        if (epoch == next) {
            _nextEpoch = next + 1;
            _previousCapacity = _lastCapacity;
            _lastCapacity = capacity;
        } else if (epoch + 1 == next) {
            _lastCapacity = capacity; // the newest report, posted again
        }
        emit ReportPosted(epoch, utilizationBps, capacity, activeRoot, totalActiveStake, activeCount, finalAt);
    }

    // ---------------------------------------------------------------- disputes

    /// @notice Rejects a pending report (guardian, during its dispute window).
    /// @param epoch The report's epoch.
    function reject(uint256 epoch) external onlyRole(GUARDIAN_ROLE) {
        _requirePending(epoch).rejected = true;
        _restoreCapacity(epoch);
        emit ReportRejected(epoch, msg.sender);
    }

    /// @notice Rejects a pending report by showing a leaf of its root whose stake differs from
    ///         `stakeAt(account, snapshot)`. Anyone may call it during the dispute window.
    /// @param epoch The report's epoch.
    /// @param account The leaf's account.
    /// @param stake The leaf's stake.
    /// @param proof Merkle proof of the leaf in the report's root.
    function challenge(uint256 epoch, address account, uint256 stake, bytes32[] calldata proof) external {
        Report storage r = _requirePending(epoch);
        if (!MerkleProof.verifyCalldata(proof, r.activeRoot, leafHash(account, stake))) {
            revert InvalidProof(epoch, account, stake);
        }
        uint256 actual = staking.stakeAt(account, snapshotTime(epoch));
        if (actual == stake) revert LeafMatchesStake(epoch, account, stake);
        r.rejected = true;
        _restoreCapacity(epoch);
        emit ReportChallenged(epoch, msg.sender, account, stake, actual);
    }

    /// @notice Stops new reports.
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    /// @notice Lifts the pause.
    function unpause() external onlyRole(GUARDIAN_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------- admin

    /// @notice Sets the dispute window of reports posted from now on.
    /// @param disputeWindow_ Seconds, within [MIN_DISPUTE_WINDOW, MAX_DISPUTE_WINDOW].
    function setDisputeWindow(uint256 disputeWindow_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDisputeWindow(disputeWindow_);
    }

    /// @notice Sets the capacity bounds of reports.
    /// @param minCapacity Lowest capacity (> 0).
    /// @param maxCapacity Highest capacity (>= minCapacity).
    /// @param maxCapacityChangeBps Largest change from one report to the next, in bps (1..10,000).
    function setCapacityBounds(uint256 minCapacity, uint256 maxCapacity, uint256 maxCapacityChangeBps)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        // the last capacity must stay reachable, or no report could ever be posted again
        if (_lastCapacity < minCapacity || _lastCapacity > maxCapacity) revert InvalidParameter();
        _setCapacityBounds(minCapacity, maxCapacity, maxCapacityChangeBps);
    }

    // ---------------------------------------------------------------- views

    /// @notice The report of `epoch` and its status (None, Pending, Final, Rejected).
    function report(uint256 epoch)
        external
        view
        returns (
            uint256 utilizationBps,
            uint256 capacity,
            bytes32 activeRoot,
            uint256 totalActiveStake,
            uint256 activeCount,
            uint256 postedAt,
            uint256 finalAt,
            Status status
        )
    {
        Report memory r = _reports[epoch];
        return (
            r.utilizationBps,
            r.capacity,
            r.activeRoot,
            r.totalActiveStake,
            r.activeCount,
            r.postedAt,
            r.finalAt,
            _status(r)
        );
    }

    /// @notice Status of the report of `epoch`.
    function reportStatus(uint256 epoch) external view returns (Status) {
        return _status(_reports[epoch]);
    }

    /// @notice Whether the report of `epoch` is final (posted, not rejected, window over).
    function isFinal(uint256 epoch) public view returns (bool) {
        return _status(_reports[epoch]) == Status.Final;
    }

    /// @inheritdoc IEpochOracle
    function finalUtilization(uint256 epoch) external view returns (bool isFinal_, uint256 utilizationBps) {
        Report memory r = _reports[epoch];
        if (_status(r) != Status.Final) return (false, 0);
        return (true, r.utilizationBps);
    }

    /// @notice Last epoch with a posted report (`firstEpoch - 1` before any).
    function lastReportedEpoch() external view returns (uint256) {
        return _nextEpoch - 1;
    }

    /// @notice Next epoch to report.
    function nextEpochToReport() external view returns (uint256) {
        return _nextEpoch;
    }

    /// @notice Capacity of the newest posted, not rejected report (the initial capacity before any).
    function lastCapacity() external view returns (uint256) {
        return _lastCapacity;
    }

    /// @notice Dispute window of new reports, in seconds.
    function disputeWindow() external view returns (uint256) {
        return _disputeWindow;
    }

    /// @notice Capacity bounds: min, max, largest change per report (bps).
    function capacityBounds() external view returns (uint256 minCapacity, uint256 maxCapacity, uint256 maxChangeBps) {
        return (_minCapacity, _maxCapacity, _maxCapacityChangeBps);
    }

    /// @notice Snapshot time of the report of `epoch`: the last second of the epoch.
    function snapshotTime(uint256 epoch) public pure returns (uint256) {
        return (epoch + 1) * EPOCH_LENGTH - 1;
    }

    /// @notice The StandardMerkleTree leaf of `(account, stake)`.
    function leafHash(address account, uint256 stake) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, stake))));
    }

    /// @notice VCU of `account` for epoch `epoch`, from the report of `epoch - 1` (pending or
    ///         final, not rejected): `stake * capacity / totalActiveStake` when the proof shows
    ///         `(account, stake)` in its root, else 0. With no valid report for `epoch - 1`,
    ///         every staker counts: `stakeAt(account, snapshot) * lastCapacity / totalStakedAt(snapshot)`.
    /// @param epoch The epoch whose allotment is asked.
    /// @param account The staker.
    /// @param stake The stake in the account's leaf.
    /// @param proof The leaf's Merkle proof.
    function vcuAllocation(uint256 epoch, address account, uint256 stake, bytes32[] calldata proof)
        external
        view
        returns (uint256)
    {
        if (epoch == 0) return 0;
        Report storage r = _reports[epoch - 1];
        if (r.postedAt != 0 && !r.rejected) {
            uint256 totalActive = r.totalActiveStake;
            // a leaf above the total cannot be right: it would exceed the capacity alone
            if (stake > totalActive || !MerkleProof.verifyCalldata(proof, r.activeRoot, leafHash(account, stake))) {
                return 0;
            }
            return Math.mulDiv(stake, r.capacity, totalActive);
        }
        uint256 snapshot = snapshotTime(epoch - 1);
        if (snapshot >= block.timestamp) return 0; // the stakes of that snapshot are not known yet
        uint256 total = staking.totalStakedAt(snapshot);
        if (total == 0) return 0;
        return Math.mulDiv(staking.stakeAt(account, snapshot), _lastCapacity, total);
    }

    // ---------------------------------------------------------------- internals

    /// @dev A rejected newest report's capacity no longer counts: back to the one before it.
    function _restoreCapacity(uint256 epoch) private {
        if (epoch + 1 == _nextEpoch) _lastCapacity = _previousCapacity;
    }

    /// @dev The report of `epoch`, which must be pending (posted, not rejected, in its window).
    function _requirePending(uint256 epoch) private view returns (Report storage r) {
        r = _reports[epoch];
        uint256 finalAt = r.finalAt;
        if (r.postedAt == 0) revert NoReport(epoch);
        if (r.rejected) revert ReportAlreadyRejected(epoch);
        if (block.timestamp >= finalAt) revert DisputeWindowClosed(epoch, finalAt);
    }

    function _status(Report memory r) private view returns (Status) {
        if (r.postedAt == 0) return Status.None;
        if (r.rejected) return Status.Rejected;
        return block.timestamp >= r.finalAt ? Status.Final : Status.Pending;
    }

    function _checkCapacity(uint256 capacity) private view {
        if (capacity < _minCapacity || capacity > _maxCapacity) {
            revert CapacityOutOfBounds(capacity, _minCapacity, _maxCapacity);
        }
        uint256 last = _lastCapacity;
        uint256 change = capacity > last ? capacity - last : last - capacity;
        if (change * BPS > last * _maxCapacityChangeBps) {
            revert CapacityChangeTooLarge(capacity, last, _maxCapacityChangeBps);
        }
    }

    function _setDisputeWindow(uint256 disputeWindow_) private {
        if (disputeWindow_ < MIN_DISPUTE_WINDOW || disputeWindow_ > MAX_DISPUTE_WINDOW) revert InvalidParameter();
        _disputeWindow = disputeWindow_;
        emit DisputeWindowUpdated(disputeWindow_);
    }

    function _setCapacityBounds(uint256 minCapacity, uint256 maxCapacity, uint256 maxChangeBps) private {
        if (minCapacity == 0 || maxCapacity < minCapacity || maxCapacity > type(uint128).max) revert InvalidParameter();
        if (maxChangeBps == 0 || maxChangeBps > MAX_CAPACITY_CHANGE_LIMIT_BPS) revert InvalidParameter();
        _minCapacity = minCapacity;
        _maxCapacity = maxCapacity;
        _maxCapacityChangeBps = maxChangeBps;
        emit CapacityBoundsUpdated(minCapacity, maxCapacity, maxChangeBps);
    }
}
