// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {IVVVStaking, IEpochOracle, IRightsActivations} from "./interfaces/IVVV.sol";
import {MinDelayAdminRules} from "./access/MinDelayAdminRules.sol";
import {MerkleSumTree} from "./utils/MerkleSumTree.sol";
import {Allotment} from "./utils/Allotment.sol";
import {DataRequests} from "./DataRequests.sol";

/// @title EpochOracle
/// @notice Daily reports of the off-chain oracle: epoch `e`'s utilization (drives its emission
///         split) and, for the VCU allotments of epoch `e+1`, the capacity and a Merkle root of
///         the API-active stakers with their stake at the snapshot `(e+1)*86400 - 1`.
/// @dev A report is pending for `disputeWindow` after it is posted, then final. The active set
///      is a sorted Merkle-sum tree (`MerkleSumTree`), so that every field of the report can be
///      proven wrong by anyone: during the window the guardian can reject a report, and anyone
///      can reject it with a proof of a lie (`challengeStake`, `challengeTotal`,
///      `challengeOrder`, `challengeCount`, `challengeOmission`; the last with an EIP-712
///      activity receipt signed by a holder of `ACTIVITY_SIGNER_ROLE`).
///
///      Reports form a chain: each report's capacity is checked against the one before it. So a
///      rejected report takes the reports posted after it down with it (they are all still
///      pending: a report never becomes final before the one before it), the chain's head goes
///      back to the rejected epoch, and the oracle posts from there again. This keeps two rules
///      whatever order reports are posted and rejected in: `lastCapacity` is the capacity of the
///      newest non-rejected report (or the initial one), and every non-rejected report is within
///      the allowed step of the non-rejected report before it. A rejected report's slot is
///      overwritten when its epoch is posted again (its `version` goes up); nothing else is
///      ever overwritten.
///
///      One allotment source per day (`allotmentSource`): the allotments of epoch `E` come from
///      the report of `E - 1` only when its first version was posted before `E`'s report
///      deadline and was never rejected; otherwise from the fallback, whose capacity is read
///      from `_capacityHistory` at the day's start, so it never changes once the day started.
///
///      Withheld data: during a report's dispute window anyone may post a bonded data request
///      for an account's leaf or a position's leaf (`DataRequests.requestLeaf`,
///      `requestLeafAt`; the bonds live in that contract, created with this one, so that this
///      one stays under the code size limit). An open request on `e` keeps `e` and every later
///      report from final (`Head.lowestOpen`) until it is answered (`answerLeaf`, checked here
///      by `answers`; at least `MIN_WINDOW_AFTER_ANSWER` is left for challenges) or resolved
///      after its response window (`resolveRequest`: unanswered, the report is rejected).
///
///      Compute rights (`rights`, the staking contract's locker, read at construction; zero for
///      none): every stake the reports and their checks read is the FREE stake (`stakeAt -
///      lockedAt`, totals alike), and a day's allotment is the rights activated to the account
///      (`activatedAt`, under every source) plus its share of the pool `capacity - A`
///      (`A = totalActivatedAt(epoch)`, 0 when A reaches the capacity). `minCapacity` stays at
///      least twice the rights outstanding, so the pool is at least half of the capacity.
contract EpochOracle is MinDelayAdminRules, Pausable, EIP712, IEpochOracle {
    using Checkpoints for Checkpoints.Trace208;

    /// @notice Posts reports.
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");
    /// @notice Rejects reports during their dispute window, pauses and unpauses.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Signs activity receipts (the API side's key; never the oracle's).
    bytes32 public constant ACTIVITY_SIGNER_ROLE = keccak256("ACTIVITY_SIGNER_ROLE");
    /// @notice EIP-712 type of an activity receipt: `account` made a metered call in `epoch`.
    bytes32 public constant ACTIVITY_TYPEHASH = keccak256("Activity(address account,uint256 epoch)");
    /// @notice Epochs of activity that count for a report of epoch `e`: `e-6 .. e`.
    uint256 public constant ACTIVITY_WINDOW_EPOCHS = 7;

    /// @notice Length of an epoch: one UTC day.
    uint256 public constant EPOCH_LENGTH = 1 days;
    /// @notice Basis points in one.
    uint256 public constant BPS = 10_000;
    /// @notice Bounds of the dispute window.
    uint256 public constant MIN_DISPUTE_WINDOW = 15 minutes;
    uint256 public constant MAX_DISPUTE_WINDOW = 1 days;
    /// @notice Largest allowed per-report capacity change bound (bps of the last capacity).
    uint256 public constant MAX_CAPACITY_CHANGE_LIMIT_BPS = 10_000;
    /// @notice Bounds of the report deadline (seconds after the start of the allotment day).
    uint256 public constant MIN_REPORT_DEADLINE = 30 minutes;
    uint256 public constant MAX_REPORT_DEADLINE = 6 hours;
    /// @notice Time an answer leaves for challenges: the report is not final before it.
    uint256 public constant MIN_WINDOW_AFTER_ANSWER = 15 minutes;

    /// @dev A report in three slots. It is rejected when its epoch is at or after the head's
    ///      `nextEpoch` (see the contract's notes), so it needs no flag of its own.
    ///      Second slot: capacity (104) | totalActiveStake (104) | openRequests (32, unanswered
    ///      and unresolved data requests on this version) | version (16: 1 for the first report
    ///      of the epoch, +1 for each re-post after a rejection).
    ///      Third slot: totalFreeStaked (104, `totalFreeStakedAt(snapshot)` as `postReport` read
    ///      it) | utilizationBps (16) | activeCount (32) | postedAt (40) | finalAt (40) |
    ///      disputeWindow (24, of this version: data requests are taken before postedAt + it).
    ///      104 bits hold 2 * 10^13 tokens of 18 decimals: VCU and VVV amounts stay far below.
    struct Report {
        bytes32 activeRoot;
        uint104 capacity;
        uint104 totalActiveStake;
        uint32 openRequests;
        uint16 version;
        uint104 totalFreeStaked;
        uint16 utilizationBps;
        uint32 activeCount;
        uint40 postedAt;
        uint40 finalAt;
        uint24 disputeWindow;
    }

    /// @notice Where the VCU allotments of a day come from (see `allotmentSource`).
    enum Source {
        NotYetKnown,
        Report,
        Fallback
    }

    /// @notice What a data request asks for: an account's leaf (or the leaves that show it
    ///         absent), or the leaf (real or empty) at a position.
    enum LeafQuery {
        Account,
        Position
    }

    /// @dev The report deadline, one slot: in force before epoch `deadlineFrom` (32) and from
    ///      it on (32) | deadlineFrom (64).
    struct Params {
        uint32 deadlineBefore;
        uint32 deadlineAfter;
        uint64 deadlineFrom;
    }

    /// @notice The lie a successful challenge proved.
    enum Lie {
        Stake,
        Total,
        Order,
        Count,
        Omission,
        WithheldData
    }

    /// @notice A leaf of the active-set tree and its proof: `position` and the sibling nodes
    ///         from the leaf up (see `MerkleSumTree`).
    struct LeafProof {
        address account;
        uint256 stake;
        uint256 position;
        MerkleSumTree.Node[] siblings;
    }

    /// @dev The head of the chain of reports, one slot: nextEpoch (40 bits) | lastCapacity (128)
    ///      | lastFinalAt (40) | lowestOpen (40). `lastCapacity` and `lastFinalAt` are those of
    ///      the report of `nextEpoch - 1` (the initial capacity and 0 before any report);
    ///      `lowestOpen` is the lowest live epoch with an open data request (`NO_OPEN_REQUEST`
    ///      when none): no report at or after it is final.
    struct Head {
        uint40 nextEpoch;
        uint128 lastCapacity;
        uint40 lastFinalAt;
        uint40 lowestOpen;
    }

    uint40 private constant NO_OPEN_REQUEST = type(uint40).max;

    /// @notice The staking contract whose checkpoints the reports commit to.
    IVVVStaking public immutable staking;
    /// @notice The compute rights whose activations add to the allotments: the staking
    ///         contract's `locker()` at construction; the zero address when it has none (then no
    ///         right is activated and the pool is the whole capacity).
    IRightsActivations public immutable rights;
    /// @notice First epoch that can be reported.
    uint256 public immutable firstEpoch;

    /// @notice Capacity before any report.
    uint256 public immutable initialCapacity;
    /// @notice The data requests' contract (bonds, deadlines), created with this one; the only
    ///      caller of `openRequest` and `closeRequest`.
    DataRequests public immutable dataRequests;

    mapping(uint256 epoch => Report) private _reports;
    Head private _head;
    Params private _params;
    /// @dev `lastCapacity` over time (a checkpoint at each change): the fallback capacity of a
    ///      day is its value at the day's start.
    Checkpoints.Trace208 private _capacityHistory;
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
    /// @notice `challenger` proved `lie` in the report of `epoch` (about `account`, at leaf
    ///         `position` of the tree; for an omission, the omitted account and the position of
    ///         the first bracketing leaf); the report is rejected.
    event ReportChallenged(
        uint256 indexed epoch, address indexed challenger, Lie indexed lie, address account, uint256 position
    );
    /// @notice The dispute window changed (applies to reports posted from now on).
    event DisputeWindowUpdated(uint256 disputeWindow);
    /// @notice The capacity bounds changed.
    event CapacityBoundsUpdated(uint256 minCapacity, uint256 maxCapacity, uint256 maxCapacityChangeBps);
    /// @notice The report deadline becomes `reportDeadline` seconds from epoch `fromEpoch` on.
    event ReportDeadlineUpdated(uint256 reportDeadline, uint256 fromEpoch);
    /// @notice An answered data request holds the report of `epoch` and every report after it
    ///         from final until `finalAt` (room for challenges against what it showed).
    event FinalityHeld(uint256 indexed epoch, uint256 finalAt);

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
    /// @notice The active stake exceeds the total free stake at the snapshot.
    error ActiveStakeTooHigh(uint256 totalActiveStake, uint256 totalFreeStaked);
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
    /// @notice The proof does not lead from the leaf at `position` to the report's root.
    error InvalidProof(uint256 epoch, uint256 position);
    /// @notice The leaf's stake matches the checkpoint and is not 0: the challenge fails.
    error LeafMatchesStake(uint256 epoch, address account, uint256 stake);
    /// @notice The path's top sum equals `totalActiveStake`: the challenge fails.
    error TotalMatches(uint256 epoch, uint256 totalActiveStake);
    /// @notice The two leaves are not at positions `p` and `p + 1`.
    error NotAdjacent(uint256 leftPosition, uint256 rightPosition);
    /// @notice The two leaves are strictly ascending: the challenge fails.
    error LeavesInOrder(uint256 epoch, address left, address right);
    /// @notice The leaf is where `activeCount` says it may be, on a path of the right length.
    error CountMatches(uint256 epoch, uint256 position, uint256 pathLength, uint256 activeCount);
    /// @notice The receipt's signer does not hold ACTIVITY_SIGNER_ROLE.
    error InvalidReceipt(address signer);
    /// @notice The receipt's epoch is outside `epoch - 6 .. epoch`.
    error ReceiptOutsideWindow(uint256 epoch, uint256 activityEpoch);
    /// @notice The account had no stake at the snapshot: leaving it out is right.
    error NoStakeAtSnapshot(uint256 epoch, address account);
    /// @notice The leaves given do not show `account` missing from the set.
    error NotOmitted(uint256 epoch, address account);
    /// @notice The oracle's key cannot sign receipts, nor a receipt signer post reports.
    error OracleAndSignerMustDiffer(address account);
    /// @notice The oracle's key cannot be a guardian, nor a guardian post reports.
    error OracleAndGuardianMustDiffer(address account);
    /// @notice The report deadline is outside [MIN_REPORT_DEADLINE, MAX_REPORT_DEADLINE].
    error InvalidReportDeadline(uint256 reportDeadline, uint256 minimum, uint256 maximum);
    /// @notice Data requests are taken only before `postedAt + disputeWindow` of the report.
    error RequestWindowClosed(uint256 epoch, uint256 requestsUntil);
    /// @notice The position is not below `2^depth` of the report's tree.
    error PositionOutOfRange(uint256 epoch, uint256 position, uint256 depth);
    /// @notice Only the data requests' contract opens and closes data requests.
    error NotDataRequests(address caller);
    /// @notice The first epoch must be after epoch 0.
    error InvalidFirstEpoch(uint256 firstEpoch);
    /// @notice The dispute window is outside [MIN_DISPUTE_WINDOW, MAX_DISPUTE_WINDOW].
    error InvalidDisputeWindow(uint256 disputeWindow, uint256 minimum, uint256 maximum);
    /// @notice Capacity bounds need 0 < min <= max < 2^104 and 0 < maxChangeBps <= 10,000.
    error InvalidCapacityBounds(uint256 minCapacity, uint256 maxCapacity, uint256 maxChangeBps);
    /// @notice New capacity bounds must keep the last capacity reachable.
    error LastCapacityOutOfBounds(uint256 lastCapacity, uint256 minCapacity, uint256 maxCapacity);
    /// @notice The minimum capacity must stay at least twice the rights outstanding (`floor`),
    ///         so that the pool is always at least half of the capacity.
    error MinCapacityBelowRights(uint256 minCapacity, uint256 floor);

    /// @param staking_ The staking contract.
    /// @param admin The default admin.
    /// @param adminDelay Delay of the default admin transfer, in seconds.
    /// @param oracle Holder of ORACLE_ROLE (never a guardian or an activity signer).
    /// @param guardian Holder of GUARDIAN_ROLE.
    /// @param treasury Receives the bonds of answered data requests (`DataRequests`).
    /// @param firstEpoch_ First epoch that can be reported (the emissions' genesis epoch).
    /// @param initialCapacity_ Capacity (VCU, 18 decimals) before any report; also the fallback's.
    /// @param capacityBounds Lowest and highest capacity a report may carry, and the largest
    ///        change of capacity from one report to the next (bps).
    /// @param disputeWindow_ Dispute window of new reports, in seconds.
    /// @dev The report deadline starts at 1 hour (the admin can change it within its bounds).
    ///      Creates `dataRequests` (its admin: `admin`, with the same delay).
    constructor(
        IVVVStaking staking_,
        address admin,
        uint48 adminDelay,
        address oracle,
        address guardian,
        address treasury,
        uint256 firstEpoch_,
        uint256 initialCapacity_,
        uint256[3] memory capacityBounds,
        uint256 disputeWindow_
    ) MinDelayAdminRules(adminDelay, admin) EIP712("VVV Activity", "1") {
        if (
            address(staking_) == address(0) || oracle == address(0) || guardian == address(0)
                || treasury == address(0)
        ) revert ZeroAddress();
        if (firstEpoch_ == 0) revert InvalidFirstEpoch(firstEpoch_);
        staking = staking_;
        rights = IRightsActivations(staking_.locker());
        firstEpoch = firstEpoch_;
        dataRequests = new DataRequests(admin, adminDelay, treasury);
        _grantRole(ORACLE_ROLE, oracle);
        _grantRole(GUARDIAN_ROLE, guardian);
        (uint256 minCapacity, uint256 maxCapacity) = (capacityBounds[0], capacityBounds[1]);
        _setCapacityBounds(minCapacity, maxCapacity, capacityBounds[2]);
        if (initialCapacity_ < minCapacity || initialCapacity_ > maxCapacity) {
            revert CapacityOutOfBounds(initialCapacity_, minCapacity, maxCapacity);
        }
        initialCapacity = initialCapacity_;
        _head = Head({
            nextEpoch: SafeCast.toUint40(firstEpoch_),
            lastCapacity: uint128(initialCapacity_),
            lastFinalAt: 0,
            lowestOpen: NO_OPEN_REQUEST
        });
        _capacityHistory.push(SafeCast.toUint48(block.timestamp), uint208(initialCapacity_));
        _setDisputeWindow(disputeWindow_);
        _params = Params({deadlineBefore: uint32(1 hours), deadlineAfter: uint32(1 hours), deadlineFrom: 0});
        emit ReportDeadlineUpdated(1 hours, 0);
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
    /// - `totalActiveStake <= totalFreeStakedAt(snapshotTime(epoch))` (`ActiveStakeTooHigh`),
    ///   the free total that the report stores (`reportedFreeStake`).
    ///
    /// Emits a {ReportPosted} event.
    /// @param epoch The reported epoch.
    /// @param utilizationBps Epoch `epoch`'s VCU consumed / capacity, in bps (<= 10,000).
    /// @param capacity VCU capacity (18 decimals) of epoch `epoch + 1`.
    /// @param activeRoot StandardMerkleTree root of (account, stake) of the API-active stakers.
    /// @param totalActiveStake Sum of the leaves' (free) stakes.
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
        uint256 free = staking.totalFreeStakedAt(snapshotTime(epoch));
        if (totalActiveStake > free) revert ActiveStakeTooHigh(totalActiveStake, free);

        // 1 for the epoch's first report, the rejected version's + 1 for a corrected one
        uint256 version = uint256(_reports[epoch].version) + 1;
        uint256 finalAt = Math.max(block.timestamp + _disputeWindow, head.lastFinalAt);
        _reports[epoch] = Report({
            activeRoot: activeRoot,
            capacity: uint104(capacity), // <= maxCapacity < 2^104
            totalActiveStake: uint104(totalActiveStake), // <= free
            openRequests: 0,
            version: SafeCast.toUint16(version),
            totalFreeStaked: SafeCast.toUint104(free),
            utilizationBps: uint16(utilizationBps),
            activeCount: SafeCast.toUint32(activeCount),
            postedAt: SafeCast.toUint40(block.timestamp),
            finalAt: SafeCast.toUint40(finalAt),
            disputeWindow: uint24(_disputeWindow) // <= MAX_DISPUTE_WINDOW
        });
        _head = Head({
            nextEpoch: SafeCast.toUint40(next + 1),
            lastCapacity: uint128(capacity),
            lastFinalAt: SafeCast.toUint40(finalAt),
            lowestOpen: head.lowestOpen
        });
        _recordCapacity(capacity);
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

    /// @notice Wrong stake: rejects a pending report by showing a leaf whose stake differs from
    ///         the free stake `freeStakeAt(account, snapshot)`, or is 0. Anyone may call it
    ///         during the window.
    ///
    /// Requirements:
    /// - the report is pending (`NoReport`, `ReportAlreadyRejected`, `DisputeWindowClosed`);
    /// - `leaf`'s path reaches the report's root (`InvalidProof`);
    /// - its stake is 0 or differs from the checkpoint (else `LeafMatchesStake`).
    ///
    /// Emits {ReportChallenged} (and {ReportsVoided} when later reports go with it).
    function challengeStake(uint256 epoch, LeafProof calldata leaf) external {
        Report storage r = _requirePending(epoch);
        _verifyLeaf(epoch, r, leaf);
        uint256 actual = staking.freeStakeAt(leaf.account, snapshotTime(epoch));
        if (leaf.stake == actual && actual != 0) revert LeafMatchesStake(epoch, leaf.account, leaf.stake);
        _challenged(epoch, Lie.Stake, leaf.account, leaf.position);
    }

    /// @notice Wrong total: rejects a pending report by showing a leaf whose path adds up to a
    ///         top sum other than `totalActiveStake`.
    ///
    /// Requirements: pending report; `leaf`'s path reaches the root (`InvalidProof`); its top
    /// sum differs from `totalActiveStake` (else `TotalMatches`).
    ///
    /// Emits {ReportChallenged}.
    function challengeTotal(uint256 epoch, LeafProof calldata leaf) external {
        Report storage r = _requirePending(epoch);
        uint256 topSum = _verifyLeaf(epoch, r, leaf);
        if (topSum == r.totalActiveStake) revert TotalMatches(epoch, topSum);
        _challenged(epoch, Lie.Total, leaf.account, leaf.position);
    }

    /// @notice Wrong order or duplicate: rejects a pending report by showing the leaves at
    ///         positions `p` and `p + 1` whose accounts are not strictly ascending.
    ///
    /// Requirements: pending report; both paths reach the root (`InvalidProof`); positions
    /// `p`, `p + 1` on paths of the same length (`NotAdjacent`); `left.account >=
    /// right.account` (else `LeavesInOrder`).
    ///
    /// Emits {ReportChallenged}.
    function challengeOrder(uint256 epoch, LeafProof calldata left, LeafProof calldata right) external {
        Report storage r = _requirePending(epoch);
        _verifyLeaf(epoch, r, left);
        _verifyLeaf(epoch, r, right);
        if (right.position != left.position + 1 || left.siblings.length != right.siblings.length) {
            revert NotAdjacent(left.position, right.position);
        }
        if (left.account < right.account) revert LeavesInOrder(epoch, left.account, right.account);
        _challenged(epoch, Lie.Order, right.account, left.position);
    }

    /// @notice Wrong count, with a real leaf: rejects a pending report by showing a leaf at a
    ///         position `>= activeCount`, or on a path whose length is not the depth that
    ///         `activeCount` implies.
    ///
    /// Requirements: pending report; the path reaches the root (`InvalidProof`); the position
    /// or the length is wrong (else `CountMatches`).
    ///
    /// Emits {ReportChallenged}.
    function challengeCount(uint256 epoch, LeafProof calldata leaf) external {
        Report storage r = _requirePending(epoch);
        _verifyLeaf(epoch, r, leaf);
        uint256 count = r.activeCount;
        uint256 length = leaf.siblings.length;
        if (leaf.position < count && length == MerkleSumTree.depth(count)) {
            revert CountMatches(epoch, leaf.position, length, count);
        }
        _challenged(epoch, Lie.Count, leaf.account, leaf.position);
    }

    /// @notice Wrong count, with an empty leaf: rejects a pending report by showing an empty
    ///         leaf (hash 0, sum 0) at a position `< activeCount` (every position below the
    ///         count holds a real leaf), or on a path whose length is not the implied depth.
    ///
    /// Requirements: pending report; the path reaches the root (`InvalidProof`); the position
    /// or the length is wrong (else `CountMatches`).
    ///
    /// Emits {ReportChallenged}.
    function challengeEmptyLeaf(uint256 epoch, uint256 position, MerkleSumTree.Node[] calldata siblings) external {
        Report storage r = _requirePending(epoch);
        _reach(epoch, r, 0, 0, position, siblings);
        uint256 count = r.activeCount;
        if (position >= count && siblings.length == MerkleSumTree.depth(count)) {
            revert CountMatches(epoch, position, siblings.length, count);
        }
        _challenged(epoch, Lie.Count, address(0), position);
    }

    /// @notice Omission: rejects a pending report of epoch `e` by showing that `account` made a
    ///         metered call in `e-6 .. e` (an activity receipt), had a stake at the snapshot, and
    ///         is not in the set: `bracket` holds the leaves at `p` and `p + 1` with
    ///         `a_p < account < a_{p+1}`, or the first leaf (position 0) above it, or the last
    ///         leaf (position `activeCount - 1`) below it, or nothing for an empty set.
    ///
    /// Requirements:
    /// - pending report;
    /// - `signature` is an EIP-712 `Activity(account, activityEpoch)` signed by a holder of
    ///   `ACTIVITY_SIGNER_ROLE` (`InvalidReceipt`), `e - 6 <= activityEpoch <= e`
    ///   (`ReceiptOutsideWindow`);
    /// - `freeStakeAt(account, snapshot) > 0` (`NoStakeAtSnapshot`);
    /// - the bracket's paths reach the root with the implied depth (`InvalidProof`) and show the
    ///   account missing (`NotOmitted`).
    ///
    /// Emits {ReportChallenged}.
    function challengeOmission(
        uint256 epoch,
        address account,
        uint256 activityEpoch,
        bytes calldata signature,
        LeafProof[] calldata bracket
    ) external {
        Report storage r = _requirePending(epoch);
        if (activityEpoch > epoch || activityEpoch + ACTIVITY_WINDOW_EPOCHS <= epoch) {
            revert ReceiptOutsideWindow(epoch, activityEpoch);
        }
        address signer = ECDSA.recover(activityDigest(account, activityEpoch), signature);
        if (!hasRole(ACTIVITY_SIGNER_ROLE, signer)) revert InvalidReceipt(signer);
        if (staking.freeStakeAt(account, snapshotTime(epoch)) == 0) revert NoStakeAtSnapshot(epoch, account);
        if (!_showsAbsent(epoch, r, account, bracket)) revert NotOmitted(epoch, account);
        _challenged(epoch, Lie.Omission, account, bracket.length == 0 ? 0 : bracket[0].position);
    }

    // ---------------------------------------------------------------- data requests

    /// @notice Opens a data request (see `DataRequests`) on the report of `epoch` as posted:
    ///         from now until it is closed, neither it nor any report after it is final.
    ///
    /// Requirements:
    /// - the caller is `dataRequests` (`NotDataRequests`);
    /// - the report is live (`NoReport`, `ReportAlreadyRejected`) and in its dispute window as
    ///   posted: before `postedAt + disputeWindow` (`RequestWindowClosed`);
    /// - for a position, `target < 2^depth` of the report's tree (`PositionOutOfRange`).
    /// @return version The version of the report the request is tied to.
    function openRequest(uint256 epoch, LeafQuery query, uint256 target) external returns (uint256 version) {
        _onlyDataRequests();
        Report storage r = _reports[epoch];
        uint256 postedAt = r.postedAt;
        if (postedAt == 0) revert NoReport(epoch);
        Head memory head = _head;
        if (epoch >= head.nextEpoch) revert ReportAlreadyRejected(epoch);
        uint256 until = postedAt + r.disputeWindow;
        if (block.timestamp >= until) revert RequestWindowClosed(epoch, until);
        if (query == LeafQuery.Position) {
            uint256 depth_ = MerkleSumTree.depth(r.activeCount);
            if (target >> depth_ != 0) revert PositionOutOfRange(epoch, target, depth_);
        }
        r.openRequests += 1;
        if (epoch < head.lowestOpen) _head.lowestOpen = uint40(epoch);
        return r.version;
    }

    /// @notice Closes a data request on version `version` of the report of `epoch`. Answered:
    ///         the report and every report after it are not final before `now +
    ///         MIN_WINDOW_AFTER_ANSWER`. Unanswered in its window: the report (and every report
    ///         after it) is rejected. A request whose version was rejected otherwise holds
    ///         nothing any more: closing it changes nothing here.
    ///
    /// Requirements: the caller is `dataRequests` (`NotDataRequests`).
    ///
    /// Emits {FinalityHeld} (answered), or {ReportChallenged} with `Lie.WithheldData` and
    /// {ReportsVoided} (unanswered).
    /// @return live Whether the version was live (not rejected).
    function closeRequest(uint256 epoch, uint256 version, bool answered, address requester, uint256 target)
        external
        returns (bool live)
    {
        _onlyDataRequests();
        Report storage r = _reports[epoch];
        live = r.version == version && epoch < _head.nextEpoch;
        if (!live) return false;
        if (!answered) {
            emit ReportChallenged(epoch, requester, Lie.WithheldData, address(0), target);
            // the rejection clears every open request at or after `epoch` from `lowestOpen`
            _rejectFrom(epoch);
            return true;
        }
        uint256 finalAt = _holdAfterAnswer(epoch);
        emit FinalityHeld(epoch, finalAt);
        uint256 open = r.openRequests - 1;
        r.openRequests = uint32(open);
        if (open != 0 || epoch != _head.lowestOpen) return true;
        // the lowest epoch with open requests has none left: the next live one with some
        // (a walk over the pending reports after it), or none
        uint256 next = _head.nextEpoch;
        uint256 e = epoch + 1;
        while (e < next && _reports[e].openRequests == 0) ++e;
        _head.lowestOpen = e < next ? uint40(e) : NO_OPEN_REQUEST;
    }

    /// @notice Whether `leaves` answer a data request on the live report of `epoch`: for an
    ///         account, its leaf or the leaves that show it absent (as `challengeOmission`
    ///         takes them; none for an empty set); for a position, the leaf at it (an empty
    ///         leaf is account 0 and stake 0). Every path must reach the root with the depth
    ///         `activeCount` implies (else it reverts with `InvalidProof`, or returns false).
    function answers(uint256 epoch, LeafQuery query, uint256 target, LeafProof[] calldata leaves)
        external
        view
        returns (bool)
    {
        Report storage r = _reports[epoch];
        if (query == LeafQuery.Position) {
            if (leaves.length != 1) return false;
            LeafProof calldata leaf = leaves[0];
            if (leaf.position != target || leaf.siblings.length != MerkleSumTree.depth(r.activeCount)) return false;
            bool empty = leaf.account == address(0) && leaf.stake == 0;
            bytes32 hash = empty ? bytes32(0) : MerkleSumTree.leafHash(leaf.account, leaf.stake);
            _reach(epoch, r, hash, leaf.stake, target, leaf.siblings);
            return true;
        }
        address account = address(uint160(target));
        if (leaves.length == 1 && leaves[0].account == account) {
            _verifyLeaf(epoch, r, leaves[0]);
            return leaves[0].siblings.length == MerkleSumTree.depth(r.activeCount);
        }
        return _showsAbsent(epoch, r, account, leaves);
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

    /// @notice Sets the capacity bounds of reports. `minCapacity` can move only within
    ///         `[2 * R, lastCapacity()]` (`R`: the compute rights outstanding), so the pool of a
    ///         day stays at least half of its capacity and no report is ever shut out.
    ///
    /// Requirements:
    /// - the caller holds `DEFAULT_ADMIN_ROLE`;
    /// - `0 < minCapacity <= maxCapacity < 2^104`, `0 < maxCapacityChangeBps <= 10,000`
    ///   (`InvalidCapacityBounds`);
    /// - `minCapacity >= 2 * rights.totalSupply()` (`MinCapacityBelowRights`; no floor without
    ///   rights);
    /// - `minCapacity <= lastCapacity() <= maxCapacity` (`LastCapacityOutOfBounds`).
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
        if (address(rights) != address(0)) {
            uint256 floor = 2 * rights.totalSupply();
            if (minCapacity < floor) revert MinCapacityBelowRights(minCapacity, floor);
        }
        // the last capacity must stay reachable, or no report could ever be posted again
        uint256 last = _head.lastCapacity;
        if (last < minCapacity || last > maxCapacity) revert LastCapacityOutOfBounds(last, minCapacity, maxCapacity);
    }

    /// @notice Sets the report deadline: from the next epoch on, the allotments of a day come
    ///         from the report of the day before only if it was posted within `reportDeadline_`
    ///         seconds of the day's start. The deadline of a day that has started never changes.
    ///
    /// Requirements: the caller holds `DEFAULT_ADMIN_ROLE`; the deadline is within
    /// [MIN_REPORT_DEADLINE, MAX_REPORT_DEADLINE] (`InvalidReportDeadline`).
    ///
    /// Emits a {ReportDeadlineUpdated} event.
    function setReportDeadline(uint256 reportDeadline_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (reportDeadline_ < MIN_REPORT_DEADLINE || reportDeadline_ > MAX_REPORT_DEADLINE) {
            revert InvalidReportDeadline(reportDeadline_, MIN_REPORT_DEADLINE, MAX_REPORT_DEADLINE);
        }
        uint256 from = block.timestamp / EPOCH_LENGTH + 1;
        Params memory p = _params;
        p.deadlineBefore = uint32(_deadlineOf(p, from - 1)); // today's, whichever was in force
        p.deadlineAfter = uint32(reportDeadline_);
        p.deadlineFrom = uint64(from);
        _params = p;
        emit ReportDeadlineUpdated(reportDeadline_, from);
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

    /// @notice The total free stake (`totalFreeStakedAt(snapshotTime(epoch))`) that the live
    ///         report of `epoch` read when it was posted (the base of the rights' price floor);
    ///         0 when no report of `epoch` was posted.
    function reportedFreeStake(uint256 epoch) external view returns (uint256) {
        return _reports[epoch].totalFreeStaked;
    }

    /// @notice Dispute window of new reports, in seconds.
    function disputeWindow() external view returns (uint256) {
        return _disputeWindow;
    }

    /// @notice Capacity bounds: min, max, largest change per report (bps).
    function capacityBounds() external view returns (uint256 minCapacity, uint256 maxCapacity, uint256 maxChangeBps) {
        return (_minCapacity, _maxCapacity, _maxCapacityChangeBps);
    }

    /// @notice Where the allotments of epoch `epoch` come from: `Report` when the first report
    ///         of `epoch - 1` was posted before `epochStart(epoch) + reportDeadlineOf(epoch)`
    ///         and was never rejected; `Fallback` when no report of `epoch - 1` was posted
    ///         before that deadline, or one was ever rejected (a corrected report never moves
    ///         the day back), or `epoch - 1` precedes `firstEpoch`; `NotYetKnown` before the
    ///         deadline with no report posted yet, and for a day that has not started.
    function allotmentSource(uint256 epoch) public view returns (Source) {
        return _source(epoch, _reports[epoch == 0 ? 0 : epoch - 1], _head.nextEpoch);
    }

    /// @notice Capacity of the fallback allotments of epoch `epoch`: `lastCapacity()` as it was
    ///         when the day started (the newest non-rejected report's then, or the initial
    ///         capacity, also for a day that started before deployment); 0 for a day that has
    ///         not started.
    function fallbackCapacity(uint256 epoch) public view returns (uint256) {
        uint256 start = epoch * EPOCH_LENGTH;
        if (start > block.timestamp) return 0;
        uint256 capacity = _capacityHistory.upperLookupRecent(SafeCast.toUint48(start - 1));
        return capacity == 0 ? initialCapacity : capacity; // a day that started before deployment
    }

    /// @notice Report deadline of today's allotments, in seconds after the day's start.
    function reportDeadline() external view returns (uint256) {
        return _deadlineOf(_params, block.timestamp / EPOCH_LENGTH);
    }

    /// @notice Report deadline of the allotments of epoch `epoch` (fixed once the day started).
    function reportDeadlineOf(uint256 epoch) external view returns (uint256) {
        return _deadlineOf(_params, epoch);
    }

    /// @notice Bookkeeping of the report of `epoch`: its version (1 for the first report, +1 for
    ///         each corrected one; 0 when none was posted), until when data requests are taken
    ///         (`postedAt + disputeWindow` of the version), and its open data requests.
    function reportRecord(uint256 epoch)
        external
        view
        returns (uint256 version, uint256 requestsUntil, uint256 openRequests)
    {
        Report storage r = _reports[epoch];
        return (r.version, r.postedAt == 0 ? 0 : uint256(r.postedAt) + r.disputeWindow, r.openRequests);
    }

    /// @notice Lowest epoch with an open data request on its live report (no report at or after
    ///         it is final), or `type(uint40).max` when there is none.
    function lowestOpenRequestEpoch() external view returns (uint256) {
        return _head.lowestOpen;
    }

    /// @notice Snapshot time of the report of `epoch`: the last second of the epoch.
    function snapshotTime(uint256 epoch) public pure returns (uint256) {
        return (epoch + 1) * EPOCH_LENGTH - 1;
    }

    /// @notice Hash of the active-set leaf of `(account, stake)` (see `MerkleSumTree`).
    function leafHash(address account, uint256 stake) public pure returns (bytes32) {
        return MerkleSumTree.leafHash(account, stake);
    }

    /// @notice Depth of the active-set tree of a report with `activeCount` leaves.
    function treeDepth(uint256 activeCount) external pure returns (uint256) {
        return MerkleSumTree.depth(activeCount);
    }

    /// @notice The EIP-712 digest an activity signer signs for `Activity(account, epoch)`
    ///         (domain: "VVV Activity", version "1", this chain, this contract).
    function activityDigest(address account, uint256 epoch) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ACTIVITY_TYPEHASH, account, epoch)));
    }

    /// @notice VCU of `account` for epoch `epoch`: the rights activated to it for the epoch
    ///         (`rights.activatedAt`, under every source, also while the source is not yet
    ///         known) plus its share of the day's pool `pool = capacity > A ? capacity - A : 0`
    ///         (`A = rights.totalActivatedAt(epoch)`), from the day's one source
    ///         (`allotmentSource`):
    ///         - `Report`: `stake * pool / totalActiveStake` with the capacity of the report of
    ///           `epoch - 1`, when the proof shows the leaf `(account, stake)` at `position <
    ///           activeCount` in its tree, with the implied depth and a top sum equal to
    ///           `totalActiveStake`, else 0 (the leaves are free stakes);
    ///         - `Fallback`: every staker counts, `freeStakeAt(account, snapshot) * pool /
    ///           totalFreeStakedAt(snapshot)` with the capacity `fallbackCapacity(epoch)`
    ///           (snapshot: the last second of `epoch - 1`); the proof is ignored; reverts
    ///           (`SafeCastOverflowedUintDowncast`) only for a stake of 2^128 or more;
    ///         - `NotYetKnown`: no pool share.
    ///         A day that has not started gets 0. The pool shares are `Allotment.share`
    ///         (rounded down), so the allotments of a day, rights plus pool, add up to at most
    ///         its capacity under either source (`A <= minCapacity / 2 <= capacity / 2`).
    /// @param epoch The epoch whose allotment is asked.
    /// @param account The staker (or any account rights are activated to).
    /// @param stake The (free) stake in the account's leaf.
    /// @param position The leaf's position in the tree (0-based, sorted by account).
    /// @param siblings The sibling nodes (hash, sum) from the leaf up to the root.
    function vcuAllocation(
        uint256 epoch,
        address account,
        uint256 stake,
        uint256 position,
        MerkleSumTree.Node[] calldata siblings
    ) external view returns (uint256) {
        if (epoch == 0 || epoch * EPOCH_LENGTH > block.timestamp) return 0;
        Report storage r = _reports[epoch - 1];
        Source source = _source(epoch, r, _head.nextEpoch);
        IRightsActivations rights_ = rights;
        if (address(rights_) == address(0)) {
            if (source == Source.NotYetKnown) return 0;
            if (source == Source.Report) return _reportShare(r, account, stake, position, siblings, 0);
            return _fallbackShare(epoch, account, 0);
        }
        uint256 activated = rights_.activatedAt(account, epoch);
        if (source == Source.NotYetKnown) return activated;
        uint256 totalActivated = rights_.totalActivatedAt(epoch);
        if (source == Source.Report) {
            return activated + _reportShare(r, account, stake, position, siblings, totalActivated);
        }
        return activated + _fallbackShare(epoch, account, totalActivated);
    }

    // ---------------------------------------------------------------- internals

    /// @dev The oracle's key can hold neither the guardian role nor the activity signer's,
    ///      whatever order roles are granted in: a receipt signed by the oracle could not hold
    ///      it to account for an omission, and the party that posts a report is never the one
    ///      that can let it through.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (
            (role == ACTIVITY_SIGNER_ROLE && hasRole(ORACLE_ROLE, account))
                || (role == ORACLE_ROLE && hasRole(ACTIVITY_SIGNER_ROLE, account))
        ) revert OracleAndSignerMustDiffer(account);
        if (
            (role == GUARDIAN_ROLE && hasRole(ORACLE_ROLE, account))
                || (role == ORACLE_ROLE && hasRole(GUARDIAN_ROLE, account))
        ) revert OracleAndGuardianMustDiffer(account);
        return super._grantRole(role, account);
    }

    /// @dev Report source: `stake * pool / totalActiveStake` of the report `r` when the leaf
    ///      `(account, stake)` at `position < activeCount` reaches its root through `siblings` with
    ///      the implied depth and a top sum equal to `totalActiveStake`, else 0.
    function _reportShare(
        Report storage r,
        address account,
        uint256 stake,
        uint256 position,
        MerkleSumTree.Node[] calldata siblings,
        uint256 totalActivated
    ) private view returns (uint256) {
        uint256 count = r.activeCount;
        if (stake == 0 || position >= count || siblings.length != MerkleSumTree.depth(count)) return 0;
        (bool ok, bytes32 topHash, uint256 topSum) =
            MerkleSumTree.top(MerkleSumTree.leafHash(account, stake), stake, position, siblings);
        // every leaf that can be shown adds up to at most the top sum, so the pool shares of the
        // epoch add up to at most the pool
        uint104 totalActive = r.totalActiveStake;
        if (!ok || topHash != r.activeRoot || topSum != totalActive) return 0;
        // `top` sums the path without overflow, so stake <= topSum = totalActive < 2^104
        return Allotment.share(uint128(stake), Allotment.pool(r.capacity, totalActivated), totalActive);
    }

    /// @dev Fallback source: `freeStakeAt(account, snapshot) * pool / totalFreeStakedAt(snapshot)`
    ///      with the day's fallback capacity (snapshot: the last second of `epoch - 1`).
    function _fallbackShare(uint256 epoch, address account, uint256 totalActivated) private view returns (uint256) {
        uint256 snapshot = snapshotTime(epoch - 1);
        uint256 total = staking.totalFreeStakedAt(snapshot);
        if (total == 0) return 0;
        // stakes are far below 2^128 (VVV's genesis supply is below 2^87); capacities are at most
        // `maxCapacity` < 2^104 (`_setCapacityBounds`)
        return Allotment.share(
            SafeCast.toUint128(staking.freeStakeAt(account, snapshot)),
            Allotment.pool(uint128(fallbackCapacity(epoch)), totalActivated),
            SafeCast.toUint128(total)
        );
    }

    /// @dev The day's source (see `allotmentSource`) from the report slot of `epoch - 1` and the
    ///      head's `nextEpoch` (a posted report at or after it is rejected).
    function _source(uint256 epoch, Report storage r, uint256 nextEpoch) private view returns (Source) {
        uint256 start = epoch * EPOCH_LENGTH;
        if (epoch == 0 || start > block.timestamp) return Source.NotYetKnown;
        if (epoch - 1 < firstEpoch) return Source.Fallback; // no report of it can ever exist
        uint256 postedAt = r.postedAt;
        uint256 deadline = start + _deadlineOf(_params, epoch);
        if (postedAt == 0) return block.timestamp < deadline ? Source.NotYetKnown : Source.Fallback;
        // version 1 was never rejected before; `epoch - 1 < nextEpoch`: not rejected now
        if (r.version == 1 && postedAt < deadline && epoch - 1 < nextEpoch) return Source.Report;
        return Source.Fallback;
    }

    function _onlyDataRequests() private view {
        if (msg.sender != address(dataRequests)) revert NotDataRequests(msg.sender);
    }

    /// @dev Report deadline of the allotments of `epoch`.
    function _deadlineOf(Params memory p, uint256 epoch) private pure returns (uint256) {
        return epoch >= p.deadlineFrom ? p.deadlineAfter : p.deadlineBefore;
    }

    /// @dev A checkpoint of `lastCapacity` when it changes.
    function _recordCapacity(uint256 capacity) private {
        if (_capacityHistory.latest() != capacity) {
            _capacityHistory.push(SafeCast.toUint48(block.timestamp), uint208(capacity));
        }
    }

    /// @dev Whether `bracket` shows `account` absent from the report's set: the leaves at `p`
    ///      and `p + 1` around it, the first leaf above it, the last leaf below it, or nothing
    ///      for an empty set; each path reaching the root with the implied depth (else
    ///      `InvalidProof`).
    function _showsAbsent(uint256 epoch, Report storage r, address account, LeafProof[] calldata bracket)
        private
        view
        returns (bool)
    {
        uint256 count = r.activeCount;
        uint256 depth_ = MerkleSumTree.depth(count);
        for (uint256 i = 0; i < bracket.length; ++i) {
            _verifyLeaf(epoch, r, bracket[i]);
            if (bracket[i].siblings.length != depth_) revert InvalidProof(epoch, bracket[i].position);
        }
        if (bracket.length == 0) return count == 0;
        if (bracket.length == 1) {
            LeafProof calldata only = bracket[0];
            return (only.position == 0 && account < only.account)
                || (only.position + 1 == count && only.account < account);
        }
        return bracket.length == 2 && bracket[1].position == bracket[0].position + 1
            && bracket[0].account < account && account < bracket[1].account;
    }

    /// @dev After an answer: the report of `epoch` and every report after it are not final
    ///      before `now + MIN_WINDOW_AFTER_ANSWER`. The reports' `finalAt` never decreases along
    ///      the chain, so the walk stops at the first report that is already final late enough
    ///      (it visits only reports posted within one window of each other: the pending ones).
    function _holdAfterAnswer(uint256 epoch) private returns (uint256 hold) {
        hold = block.timestamp + MIN_WINDOW_AFTER_ANSWER;
        uint256 next = _head.nextEpoch;
        uint256 e = epoch;
        for (; e < next; ++e) {
            Report storage later = _reports[e];
            if (later.finalAt >= hold) return later.finalAt;
            later.finalAt = uint40(hold);
        }
        _head.lastFinalAt = uint40(hold);
    }

    /// @dev Checks that `leaf`'s path reaches the root of the report of `epoch`; its top sum.
    function _verifyLeaf(uint256 epoch, Report storage r, LeafProof calldata leaf) private view returns (uint256) {
        return _reach(
            epoch, r, MerkleSumTree.leafHash(leaf.account, leaf.stake), leaf.stake, leaf.position, leaf.siblings
        );
    }

    /// @dev Checks that the node `(hash, sum)` at `position` reaches the root of the report of
    ///      `epoch` through `siblings` (else `InvalidProof`); the top sum.
    function _reach(
        uint256 epoch,
        Report storage r,
        bytes32 hash,
        uint256 sum,
        uint256 position,
        MerkleSumTree.Node[] calldata siblings
    ) private view returns (uint256) {
        (bool ok, bytes32 topHash, uint256 topSum) = MerkleSumTree.top(hash, sum, position, siblings);
        if (!ok || topHash != r.activeRoot) revert InvalidProof(epoch, position);
        return topSum;
    }

    /// @dev A successful challenge: the report and those after it are rejected.
    function _challenged(uint256 epoch, Lie lie, address account, uint256 position) private {
        emit ReportChallenged(epoch, msg.sender, lie, account, position);
        _rejectFrom(epoch);
    }

    /// @dev Rejects the (pending) report of `epoch` and every report after it: the head goes
    ///      back to `epoch`, with the capacity and finality time of the report before it. All
    ///      of the later reports are pending too (none is final before the report before it).
    function _rejectFrom(uint256 epoch) private {
        Head memory head = _head;
        uint256 newest = uint256(head.nextEpoch) - 1;
        (uint256 capacity, uint256 finalAt) = (initialCapacity, 0);
        if (epoch > firstEpoch) {
            Report storage previous = _reports[epoch - 1];
            (capacity, finalAt) = (previous.capacity, previous.finalAt);
        }
        // open requests on the rejected reports no longer hold anything: they can be resolved
        // for a refund; those below `epoch` still hold
        _head = Head({
            nextEpoch: uint40(epoch),
            lastCapacity: uint128(capacity),
            lastFinalAt: uint40(finalAt),
            lowestOpen: head.lowestOpen >= epoch ? NO_OPEN_REQUEST : head.lowestOpen
        });
        _recordCapacity(capacity);
        if (newest > epoch) emit ReportsVoided(epoch + 1, newest);
    }

    /// @dev The report of `epoch`, which must be pending (posted, not rejected, in its window).
    function _requirePending(uint256 epoch) private view returns (Report storage r) {
        r = _reports[epoch];
        uint256 finalAt = r.finalAt;
        Head memory head = _head;
        if (r.postedAt == 0) revert NoReport(epoch);
        if (epoch >= head.nextEpoch) revert ReportAlreadyRejected(epoch);
        if (block.timestamp >= finalAt && epoch < head.lowestOpen) revert DisputeWindowClosed(epoch, finalAt);
    }

    /// @dev A posted report is rejected when its epoch is at or after the chain's head; it is
    ///      final once its window is over and no open data request holds it (one on its epoch
    ///      or an earlier one).
    function _status(uint256 epoch, uint256 postedAt, uint256 finalAt) private view returns (Status) {
        if (postedAt == 0) return Status.None;
        Head memory head = _head;
        if (epoch >= head.nextEpoch) return Status.Rejected;
        return block.timestamp >= finalAt && epoch < head.lowestOpen ? Status.Final : Status.Pending;
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
            minCapacity == 0 || maxCapacity < minCapacity || maxCapacity > type(uint104).max || maxChangeBps == 0
                || maxChangeBps > MAX_CAPACITY_CHANGE_LIMIT_BPS
        ) revert InvalidCapacityBounds(minCapacity, maxCapacity, maxChangeBps);
        _minCapacity = minCapacity;
        _maxCapacity = maxCapacity;
        _maxCapacityChangeBps = maxChangeBps;
        emit CapacityBoundsUpdated(minCapacity, maxCapacity, maxChangeBps);
    }
}
