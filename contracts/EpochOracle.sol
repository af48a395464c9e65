// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IVVVStaking, IEpochOracle} from "./interfaces/IVVV.sol";
import {MinDelayAdminRules} from "./access/MinDelayAdminRules.sol";

/// @title EpochOracle
/// @notice Daily reports of the off-chain oracle: epoch `e`'s utilization (drives its emission
///         split) and, for the VCU allotments of epoch `e+1`, the capacity and a Merkle root of
///         the API-active stakers with their stake at the snapshot `(e+1)*86400 - 1`.
/// @dev A report is pending for `disputeWindow` after it is posted, then final. During the
///      window the guardian can reject it, and anyone can reject it with a leaf of the root whose
///      stake differs from the staking contract's checkpoint. Leaves are OpenZeppelin
///      StandardMerkleTree leaves of `(address account, uint256 stake)`.
///
///      Reports form a chain: each report's capacity is checked against the one before it. So a
///      rejected report takes the reports posted after it down with it (they are all still
///      pending: a report never becomes final before the one before it), the chain's head goes
///      back to the rejected epoch, and the oracle posts from there again. This keeps two rules
///      whatever order reports are posted and rejected in: `lastCapacity` is the capacity of the
///      newest non-rejected report (or the initial one), and every non-rejected report is within
///      the allowed step of the non-rejected report before it. A rejected report's slot is
///      overwritten when its epoch is posted again; nothing else is ever overwritten.
contract EpochOracle is MinDelayAdminRules, Pausable, IEpochOracle {
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

    /// @dev A report in three slots. It is rejected when its epoch is at or after the head's
    ///      `nextEpoch` (see the contract's notes), so it needs no flag of its own.
    struct Report {
        bytes32 activeRoot;
        uint128 capacity;
        uint128 totalActiveStake;
        uint16 utilizationBps;
        uint64 activeCount;
        uint48 postedAt;
        uint48 finalAt;
    }

    /// @dev The head of the chain of reports, one slot: nextEpoch (64 bits) | lastCapacity (128)
    ///      | lastFinalAt (48). `lastCapacity` and `lastFinalAt` are those of the report of
    ///      `nextEpoch - 1` (the initial capacity and 0 before any report).
    struct Head {
        uint64 nextEpoch;
        uint128 lastCapacity;
        uint48 lastFinalAt;
    }

    /// @notice The staking contract whose checkpoints the reports commit to.
    IVVVStaking public immutable staking;
    /// @notice First epoch that can be reported.
    uint256 public immutable firstEpoch;

    /// @notice Capacity before any report.
    uint256 public immutable initialCapacity;

    mapping(uint256 epoch => Report) private _reports;
    Head private _head;
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
    /// @notice The reports of `fromEpoch .. toEpoch` were rejected with the report before them
    ///         (their capacities were checked against it); the oracle posts them again.
    event ReportsVoided(uint256 indexed fromEpoch, uint256 toEpoch);
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
    /// @notice The first epoch must be after epoch 0.
    error InvalidFirstEpoch(uint256 firstEpoch);
    /// @notice The dispute window is outside [MIN_DISPUTE_WINDOW, MAX_DISPUTE_WINDOW].
    error InvalidDisputeWindow(uint256 disputeWindow, uint256 minimum, uint256 maximum);
    /// @notice Capacity bounds need 0 < min <= max < 2^128 and 0 < maxChangeBps <= 10,000.
    error InvalidCapacityBounds(uint256 minCapacity, uint256 maxCapacity, uint256 maxChangeBps);
    /// @notice New capacity bounds must keep the last capacity reachable.
    error LastCapacityOutOfBounds(uint256 lastCapacity, uint256 minCapacity, uint256 maxCapacity);

    /// @param staking_ The staking contract.
    /// @param admin The default admin.
    /// @param adminDelay Delay of the default admin transfer, in seconds.
    /// @param oracle Holder of ORACLE_ROLE.
    /// @param guardian Holder of GUARDIAN_ROLE.
    /// @param firstEpoch_ First epoch that can be reported (the emissions' genesis epoch).
    /// @param initialCapacity_ Capacity (VCU, 18 decimals) before any report; also the fallback's.
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
        uint256 initialCapacity_,
        uint256 minCapacity,
        uint256 maxCapacity,
        uint256 maxCapacityChangeBps,
        uint256 disputeWindow_
    ) MinDelayAdminRules(adminDelay, admin) {
        if (address(staking_) == address(0) || oracle == address(0) || guardian == address(0)) revert ZeroAddress();
        if (firstEpoch_ == 0) revert InvalidFirstEpoch(firstEpoch_);
        staking = staking_;
        firstEpoch = firstEpoch_;
        _grantRole(ORACLE_ROLE, oracle);
        _grantRole(GUARDIAN_ROLE, guardian);
        _setCapacityBounds(minCapacity, maxCapacity, maxCapacityChangeBps);
        if (initialCapacity_ < minCapacity || initialCapacity_ > maxCapacity) {
            revert CapacityOutOfBounds(initialCapacity_, minCapacity, maxCapacity);
        }
        initialCapacity = initialCapacity_;
        _head = Head({nextEpoch: SafeCast.toUint64(firstEpoch_), lastCapacity: uint128(initialCapacity_), lastFinalAt: 0});
        _setDisputeWindow(disputeWindow_);
    }

    // ---------------------------------------------------------------- oracle

    /// @notice Posts the report of closed epoch `epoch`: the next epoch of the chain (after a
    ///         rejection, the rejected epoch again, corrected). Checks every bound that can be
    ///         checked on-chain. The report is final at `max(now + disputeWindow, finalAt of the
    ///         report before it)`: never before the report before it.
    ///
    /// Requirements:
    /// - the caller holds `ORACLE_ROLE`, and the oracle is not paused (`EnforcedPause`);
    /// - `epoch` is closed (`EpochNotClosed`) and is `nextEpochToReport()` (`ReportExists` for an
    ///   epoch with a live report, else `EpochOutOfOrder`);
    /// - `utilizationBps <= 10000` (`InvalidUtilization`);
    /// - root, total and count all zero or all non-zero (`InconsistentActiveSet`);
    /// - `capacity` within the admin's bounds (`CapacityOutOfBounds`) and within
    ///   `maxCapacityChangeBps` of `lastCapacity()` (`CapacityChangeTooLarge`);
    /// - `totalActiveStake <= totalStakedAt(snapshotTime(epoch))` (`ActiveStakeTooHigh`).
    ///
    /// Emits a {ReportPosted} event.
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
        Head memory head = _head;
        uint256 next = head.nextEpoch;
        if (epoch != next) {
            if (epoch < next && _reports[epoch].postedAt != 0) revert ReportExists(epoch);
            revert EpochOutOfOrder(epoch, next);
        }
        if (utilizationBps > BPS) revert InvalidUtilization(utilizationBps);
        if ((activeRoot == bytes32(0)) != (totalActiveStake == 0) || (totalActiveStake == 0) != (activeCount == 0)) {
            revert InconsistentActiveSet(activeRoot, totalActiveStake, activeCount);
        }
        _checkCapacity(capacity, head.lastCapacity);
        uint256 staked = staking.totalStakedAt(snapshotTime(epoch));
        if (totalActiveStake > staked) revert ActiveStakeTooHigh(totalActiveStake, staked);

        uint256 finalAt = Math.max(block.timestamp + _disputeWindow, head.lastFinalAt);
        _reports[epoch] = Report({
            activeRoot: activeRoot,
            capacity: SafeCast.toUint128(capacity),
            totalActiveStake: SafeCast.toUint128(totalActiveStake),
            utilizationBps: uint16(utilizationBps),
            activeCount: SafeCast.toUint64(activeCount),
            postedAt: SafeCast.toUint48(block.timestamp),
            finalAt: SafeCast.toUint48(finalAt)
        });
        _head = Head({
            nextEpoch: SafeCast.toUint64(next + 1),
            lastCapacity: uint128(capacity),
            lastFinalAt: uint48(finalAt)
        });
        emit ReportPosted(epoch, utilizationBps, capacity, activeRoot, totalActiveStake, activeCount, finalAt);
    }

    // ---------------------------------------------------------------- disputes

    /// @notice Rejects a pending report (guardian, during its dispute window), and with it the
    ///         reports posted after it.
    ///
    /// Requirements:
    /// - the caller holds `GUARDIAN_ROLE`;
    /// - the report is pending: posted (`NoReport`), not rejected (`ReportAlreadyRejected`), in
    ///   its window (`DisputeWindowClosed`).
    ///
    /// Emits a {ReportRejected} event, and {ReportsVoided} when later reports go with it.
    /// @param epoch The report's epoch.
    function reject(uint256 epoch) external onlyRole(GUARDIAN_ROLE) {
        _requirePending(epoch);
        emit ReportRejected(epoch, msg.sender);
        _rejectFrom(epoch);
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
        emit ReportChallenged(epoch, msg.sender, account, stake, actual);
        _rejectFrom(epoch);
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
    ///
    /// Requirements: the caller holds `DEFAULT_ADMIN_ROLE`; the window is within bounds
    /// (`InvalidDisputeWindow`).
    ///
    /// Emits a {DisputeWindowUpdated} event.
    /// @param disputeWindow_ Seconds, within [MIN_DISPUTE_WINDOW, MAX_DISPUTE_WINDOW].
    function setDisputeWindow(uint256 disputeWindow_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDisputeWindow(disputeWindow_);
    }

    /// @notice Sets the capacity bounds of reports.
    ///
    /// Requirements: the caller holds `DEFAULT_ADMIN_ROLE`; valid bounds
    /// (`InvalidCapacityBounds`) that keep `lastCapacity()` reachable (`LastCapacityOutOfBounds`).
    ///
    /// Emits a {CapacityBoundsUpdated} event.
    /// @param minCapacity Lowest capacity (> 0).
    /// @param maxCapacity Highest capacity (>= minCapacity).
    /// @param maxCapacityChangeBps Largest change from one report to the next, in bps (1..10,000).
    function setCapacityBounds(uint256 minCapacity, uint256 maxCapacity, uint256 maxCapacityChangeBps)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _setCapacityBounds(minCapacity, maxCapacity, maxCapacityChangeBps);
        // the last capacity must stay reachable, or no report could ever be posted again
        uint256 last = _head.lastCapacity;
        if (last < minCapacity || last > maxCapacity) revert LastCapacityOutOfBounds(last, minCapacity, maxCapacity);
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
        Report storage r = _reports[epoch];
        (postedAt, finalAt) = (r.postedAt, r.finalAt);
        status = _status(epoch, postedAt, finalAt);
        (utilizationBps, capacity, activeRoot) = (r.utilizationBps, r.capacity, r.activeRoot);
        (totalActiveStake, activeCount) = (r.totalActiveStake, r.activeCount);
    }

    /// @notice Status of the report of `epoch`.
    function reportStatus(uint256 epoch) external view returns (Status) {
        Report storage r = _reports[epoch];
        return _status(epoch, r.postedAt, r.finalAt);
    }

    /// @notice Whether the report of `epoch` is final (posted, not rejected, window over).
    function isFinal(uint256 epoch) public view returns (bool) {
        Report storage r = _reports[epoch];
        return _status(epoch, r.postedAt, r.finalAt) == Status.Final;
    }

    /// @inheritdoc IEpochOracle
    function finalUtilization(uint256 epoch) external view returns (bool isFinal_, uint256 utilizationBps) {
        Report storage r = _reports[epoch];
        if (_status(epoch, r.postedAt, r.finalAt) != Status.Final) return (false, 0);
        return (true, r.utilizationBps);
    }

    /// @inheritdoc IEpochOracle
    function utilizationOf(uint256 epoch) external view returns (Status status, uint256 utilizationBps, uint256 finalAt) {
        Report storage r = _reports[epoch];
        finalAt = r.finalAt;
        status = _status(epoch, r.postedAt, finalAt);
        if (status == Status.Final) utilizationBps = r.utilizationBps;
    }

    /// @notice Last epoch with a live (pending or final) report (`firstEpoch - 1` before any).
    function lastReportedEpoch() external view returns (uint256) {
        return uint256(_head.nextEpoch) - 1;
    }

    /// @notice Next epoch to report: the one after the newest live report.
    function nextEpochToReport() external view returns (uint256) {
        return _head.nextEpoch;
    }

    /// @notice Capacity of the newest non-rejected report (the initial capacity before any).
    function lastCapacity() external view returns (uint256) {
        return _head.lastCapacity;
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
    ///         (Then the report of `epoch - 1` is missing or rejected, so `lastCapacity` is that
    ///         of the newest non-rejected report before it, or the initial capacity.)
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
        if (epoch - 1 < _head.nextEpoch && r.postedAt != 0) {
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
        return Math.mulDiv(staking.stakeAt(account, snapshot), _head.lastCapacity, total);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Rejects the (pending) report of `epoch` and every report after it: the head goes
    ///      back to `epoch`, with the capacity and finality time of the report before it. All
    ///      of the later reports are pending too (none is final before the report before it).
    function _rejectFrom(uint256 epoch) private {
        uint256 newest = uint256(_head.nextEpoch) - 1;
        (uint256 capacity, uint256 finalAt) = (initialCapacity, 0);
        if (epoch > firstEpoch) {
            Report storage previous = _reports[epoch - 1];
            (capacity, finalAt) = (previous.capacity, previous.finalAt);
        }
        _head = Head({nextEpoch: uint64(epoch), lastCapacity: uint128(capacity), lastFinalAt: uint48(finalAt)});
        if (newest > epoch) emit ReportsVoided(epoch + 1, newest);
    }

    /// @dev The report of `epoch`, which must be pending (posted, not rejected, in its window).
    function _requirePending(uint256 epoch) private view returns (Report storage r) {
        r = _reports[epoch];
        uint256 finalAt = r.finalAt;
        if (r.postedAt == 0) revert NoReport(epoch);
        if (epoch >= _head.nextEpoch) revert ReportAlreadyRejected(epoch);
        if (block.timestamp >= finalAt) revert DisputeWindowClosed(epoch, finalAt);
    }

    /// @dev A posted report is rejected when its epoch is at or after the chain's head.
    function _status(uint256 epoch, uint256 postedAt, uint256 finalAt) private view returns (Status) {
        if (postedAt == 0) return Status.None;
        if (epoch >= _head.nextEpoch) return Status.Rejected;
        return block.timestamp >= finalAt ? Status.Final : Status.Pending;
    }

    function _checkCapacity(uint256 capacity, uint256 last) private view {
        if (capacity < _minCapacity || capacity > _maxCapacity) {
            revert CapacityOutOfBounds(capacity, _minCapacity, _maxCapacity);
        }
        uint256 change = capacity > last ? capacity - last : last - capacity;
        if (change * BPS > last * _maxCapacityChangeBps) {
            revert CapacityChangeTooLarge(capacity, last, _maxCapacityChangeBps);
        }
    }

    function _setDisputeWindow(uint256 disputeWindow_) private {
        if (disputeWindow_ < MIN_DISPUTE_WINDOW || disputeWindow_ > MAX_DISPUTE_WINDOW) {
            revert InvalidDisputeWindow(disputeWindow_, MIN_DISPUTE_WINDOW, MAX_DISPUTE_WINDOW);
        }
        _disputeWindow = disputeWindow_;
        emit DisputeWindowUpdated(disputeWindow_);
    }

    function _setCapacityBounds(uint256 minCapacity, uint256 maxCapacity, uint256 maxChangeBps) private {
        if (
            minCapacity == 0 || maxCapacity < minCapacity || maxCapacity > type(uint128).max || maxChangeBps == 0
                || maxChangeBps > MAX_CAPACITY_CHANGE_LIMIT_BPS
        ) revert InvalidCapacityBounds(minCapacity, maxCapacity, maxChangeBps);
        _minCapacity = minCapacity;
        _maxCapacity = maxCapacity;
        _maxCapacityChangeBps = maxChangeBps;
        emit CapacityBoundsUpdated(minCapacity, maxCapacity, maxChangeBps);
    }
}
