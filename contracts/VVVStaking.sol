// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {MinDelayAdminRules} from "./access/MinDelayAdminRules.sol";
import {AccountWord, TotalWord, StakeWords} from "./utils/StakeWords.sol";
import {HeadTrace} from "./utils/HeadTrace.sol";
import {IVVVStaking} from "./interfaces/IVVV.sol";

/// @title VVVStaking
/// @notice Stake VVV, earn the stakers' part of the daily emission, leave through a 7-day
///         unbonding queue.
/// @dev Rewards use the Synthetix accumulator with these changes:
///      - the stream rate is kept scaled by `PRECISION`, and the remainder of
///        `(amount * PRECISION + rest) / REWARDS_DURATION` is carried into the next stream;
///      - what streams while nothing is staked is carried into the next stream;
///      - stakes live in OpenZeppelin timestamp checkpoints (`stakeAt`, `totalStakedAt`) whose
///        values carry the reward state in their high bits, so that a stake change writes one
///        fresh slot per trace and nothing else (bit diagrams in utils/StakeWords.sol):
///          total trace:   key = last accumulator update, value = `TotalWord`
///                         (rewardPerToken << 96 | totalStaked);
///          account trace: value = `AccountWord` (field << 96 | stake), where field is, for
///                         stake > 0, the signed reward-per-token origin `o` (`rewardOrigin`)
///                         with earned = stake * (rpt - o) / PRECISION, and for stake == 0 the
///                         earned amount itself (`earnedWithoutStake`);
///      - every non-zero stake is at least `MIN_STAKE`, which bounds the accumulator (< 2^111);
///        with stakes < 2^96 and the accumulator < 2^112, `stake * rpt` and `earned * PRECISION`
///        fit in 256 bits, so plain checked arithmetic replaces `mulDiv`;
///      - the three stake functions carry no reentrancy guard: their only external calls go to
///        the immutable VVV token (OpenZeppelin ERC20, no hooks), after every state change;
///      - the pause flag lives in the stream's slot (OpenZeppelin's `Pausable` with `paused`,
///        `_pause` and `_unpause` overridden), which every stake reads anyway: one cold storage
///        read less per stake.
///      - locked stake (compute rights, SPEC.md "ComputeRights") is out of the reward weight:
///        the account and total words hold the *free* stake, and the locked stake lives in
///        traces of its own (`lockedAt`, `totalLockedAt`) that only `lock` and `unlock` write.
///        A lock moves stake from the free word to the lock trace the way an unstake request
///        moves it to the queue, so stakes, unstakes and rewards read and write what they did
///        before (no extra gas), and `stakeAt`/`totalStakedAt` are the two traces' sum.
///      The accumulator and re-basing `o` floor; the dust is bounded in docs/security.md.
contract VVVStaking is MinDelayAdminRules, Pausable, ReentrancyGuardTransient, IVVVStaking {
    using SafeERC20 for IERC20;
    using Checkpoints for Checkpoints.Trace208;
    using HeadTrace for HeadTrace.Trace;

    /// @notice Pauses and unpauses.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Starts reward streams: the EmissionsController, granted once at construction.
    bytes32 public constant NOTIFIER_ROLE = keccak256("NOTIFIER_ROLE");
    /// @notice Locks and unlocks stake: the ComputeRights contract, granted once at construction
    ///         (or nobody, for ever, when deployed without one).
    bytes32 public constant LOCKER_ROLE = keccak256("LOCKER_ROLE");
    /// @dev Admin role of NOTIFIER_ROLE and LOCKER_ROLE that nobody holds: neither can ever be
    ///      changed.
    bytes32 private constant LOCKED_ROLE = keccak256("LOCKED_ROLE");

    /// @inheritdoc IVVVStaking
    uint256 public constant UNBONDING_PERIOD = 7 days;
    /// @inheritdoc IVVVStaking
    uint256 public constant REWARDS_DURATION = 1 days;
    /// @inheritdoc IVVVStaking
    uint256 public constant PRECISION = 1e18;
    /// @inheritdoc IVVVStaking
    uint256 public constant MIN_STAKE = 1e15;

    /// @inheritdoc IVVVStaking
    IERC20 public immutable token;
    /// @inheritdoc IVVVStaking
    address public immutable locker;

    /// @dev One slot: rewardsEnd (48 bits) | rateScaled (200) | paused (8).
    struct Stream {
        uint48 rewardsEnd;
        uint200 rateScaled; // reward wei per second x PRECISION
        bool paused; // Pausable's flag, here because every stake reads this slot
    }

    struct UnstakeRequest {
        address owner;
        uint96 amount;
        uint48 unlockTime; // cleared (0) once the request is settled
    }

    struct Queue {
        uint120 totalUnbonding;
        uint128 lastRequestId;
        bool initialized; // keeps the slot non-zero so the first request pays no fresh-slot cost
    }

    Stream private _stream;
    /// @dev Reward wei x PRECISION owed to the next stream.
    uint256 private _carryScaled;
    /// @dev key: last accumulator update; value: a `TotalWord`.
    Checkpoints.Trace208 private _totals;
    /// @dev value: an `AccountWord` (see the contract's notes).
    mapping(address account => Checkpoints.Trace208) private _stakes;
    mapping(uint256 requestId => UnstakeRequest) private _requests;
    Queue private _queue;
    /// @dev key: timestamp; value: the locked stake of the account; written only by `lock` and
    ///      `unlock`. A `HeadTrace`: the latest value is one storage read, and an account's first
    ///      lock writes one fresh slot.
    mapping(address account => HeadTrace.Trace) private _locks;
    /// @dev key: timestamp; value: the total locked stake; written only by `lock` and `unlock`.
    HeadTrace.Trace private _totalLocks;

    /// @param token_ The VVV token.
    /// @param admin The default admin (two-step transfer after `adminDelay`).
    /// @param adminDelay Delay of the default admin transfer, in seconds.
    /// @param guardian Holder of GUARDIAN_ROLE.
    /// @param notifier Holder of NOTIFIER_ROLE (the EmissionsController), fixed for ever.
    /// @param locker_ Holder of LOCKER_ROLE (the ComputeRights contract), fixed for ever; the zero
    ///        address for none: then no stake can ever be locked.
    constructor(IERC20 token_, address admin, uint48 adminDelay, address guardian, address notifier, address locker_)
        MinDelayAdminRules(adminDelay, admin)
    {
        if (address(token_) == address(0) || guardian == address(0) || notifier == address(0)) {
            revert ZeroAddress();
        }
        token = token_;
        locker = locker_;
        _grantRole(GUARDIAN_ROLE, guardian);
        _grantRole(NOTIFIER_ROLE, notifier);
        // NOTIFIER_ROLE is administered by LOCKED_ROLE, which administers itself and is held by
        // nobody: the notifier can never be granted, revoked or changed, not even by the admin.
        _setRoleAdmin(NOTIFIER_ROLE, LOCKED_ROLE);
        // LOCKER_ROLE likewise: granted here or never.
        if (locker_ != address(0)) _grantRole(LOCKER_ROLE, locker_);
        _setRoleAdmin(LOCKER_ROLE, LOCKED_ROLE);
        _setRoleAdmin(LOCKED_ROLE, LOCKED_ROLE);
        // Non-zero from the start, so the first stream and the first request pay no fresh-slot
        // cost (no stream is running: the rate is 0).
        _queue.initialized = true;
        _stream.rewardsEnd = SafeCast.toUint48(block.timestamp);
    }

    // ---------------------------------------------------------------- staking

    /// @inheritdoc IVVVStaking
    function stake(uint256 amount) external whenNotPaused {
        _stake(msg.sender, msg.sender, amount);
    }

    /// @inheritdoc IVVVStaking
    function stakeFor(address account, uint256 amount) external whenNotPaused {
        _stake(msg.sender, account, amount);
    }

    /// @inheritdoc IVVVStaking
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        whenNotPaused
    {
        try IERC20Permit(address(token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _stake(msg.sender, msg.sender, amount);
    }

    /// @inheritdoc IVVVStaking
    function requestUnstake(uint256 amount) external nonReentrant whenNotPaused returns (uint256 requestId) {
        if (amount == 0) revert ZeroAmount();
        (uint256 rpt, uint256 total, uint48 totalKey) = _moveAccumulator();
        (uint256 staked, uint256 earnedSoFar, uint48 accountKey) = _account(msg.sender, rpt);
        if (amount > staked) revert InsufficientStake(amount, staked);
        if (amount != staked && amount < MIN_STAKE) revert BelowMinimumStake(amount, MIN_STAKE);
        _write(msg.sender, accountKey, staked - amount, earnedSoFar, rpt, totalKey, total - amount);
        Queue memory queue = _queue;
        requestId = uint256(queue.lastRequestId) + 1;
        uint256 unlockTime = block.timestamp + UNBONDING_PERIOD;
        _requests[requestId] = UnstakeRequest({
            owner: msg.sender,
            amount: SafeCast.toUint96(amount),
            unlockTime: SafeCast.toUint48(unlockTime)
        });
        queue.lastRequestId = SafeCast.toUint128(requestId);
        queue.totalUnbonding += uint120(amount);
        _queue = queue;
        emit UnstakeRequested(msg.sender, requestId, amount, unlockTime);
    }

    /// @inheritdoc IVVVStaking
    function cancelUnstake(uint256 requestId) external nonReentrant {
        UnstakeRequest storage request = _pendingRequestOf(requestId);
        uint256 amount = request.amount;
        request.unlockTime = 0;
        _queue.totalUnbonding -= uint120(amount);
        (uint256 rpt, uint256 total, uint48 totalKey) = _moveAccumulator();
        (uint256 staked, uint256 earnedSoFar, uint48 accountKey) = _account(msg.sender, rpt);
        _write(msg.sender, accountKey, staked + amount, earnedSoFar, rpt, totalKey, total + amount);
        emit UnstakeCancelled(msg.sender, requestId, amount);
    }

    /// @inheritdoc IVVVStaking
    function withdraw(uint256 requestId) external nonReentrant {
        UnstakeRequest storage request = _pendingRequestOf(requestId);
        uint256 unlockTime = request.unlockTime;
        if (block.timestamp < unlockTime) revert RequestNotMatured(requestId, unlockTime);
        uint256 amount = request.amount;
        request.unlockTime = 0;
        _queue.totalUnbonding -= uint120(amount);
        emit Withdrawn(msg.sender, requestId, amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- rewards

    /// @inheritdoc IVVVStaking
    function claimRewards() external nonReentrant returns (uint256 amount) {
        // The accumulator is read, not moved: the total stake does not change, and a later
        // update computes the same (or a larger) reward per token from the stored point.
        (uint256 rpt,,) = _accumulator();
        uint256 staked;
        (staked, amount,) = _account(msg.sender, rpt);
        if (amount == 0) revert NoRewards();
        _stakes[msg.sender].push(SafeCast.toUint48(block.timestamp), AccountWord.unwrap(_accountWord(staked, 0, rpt)));
        emit RewardsClaimed(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IVVVStaking
    function restakeRewards() external nonReentrant whenNotPaused returns (uint256 amount) {
        (uint256 rpt, uint256 total, uint48 totalKey) = _moveAccumulator();
        uint256 staked;
        uint48 accountKey;
        (staked, amount, accountKey) = _account(msg.sender, rpt);
        if (amount == 0) revert NoRewards();
        _write(msg.sender, accountKey, staked + amount, 0, rpt, totalKey, total + amount);
        emit RewardsRestaked(msg.sender, amount);
    }

    /// @inheritdoc IVVVStaking
    function notifyRewards(uint256 amount) external onlyRole(NOTIFIER_ROLE) {
        if (amount == 0) revert ZeroAmount();
        (uint256 rpt, uint256 total, uint256 unstaked) = _accumulator();
        Stream memory stream = _stream;
        uint256 scaled = amount * PRECISION + _carryScaled + unstaked;
        if (unstaked != 0) emit UnstakedRewardsCarried(unstaked);
        if (block.timestamp < stream.rewardsEnd) {
            scaled += (stream.rewardsEnd - block.timestamp) * stream.rateScaled;
        }
        uint256 rate = scaled / REWARDS_DURATION;
        uint256 carry = scaled - rate * REWARDS_DURATION;
        uint256 end = block.timestamp + REWARDS_DURATION;
        _stream = Stream({rewardsEnd: SafeCast.toUint48(end), rateScaled: SafeCast.toUint200(rate), paused: stream.paused});
        _carryScaled = carry;
        _totals.push(SafeCast.toUint48(block.timestamp), TotalWord.unwrap(StakeWords.packTotal(rpt, total)));
        emit RewardsNotified(amount, rate, end, carry);
    }

    // ---------------------------------------------------------------- locks

    /// @inheritdoc IVVVStaking
    function lock(address account, uint256 amount) external whenNotPaused {
        _checkLocker();
        if (amount == 0) revert ZeroAmount();
        (uint256 rpt, uint256 total, uint48 totalKey) = _moveAccumulator();
        (uint256 free, uint256 earnedSoFar, uint48 accountKey) = _account(account, rpt);
        if (amount > free) revert InsufficientFreeStake(account, amount, free);
        _write(account, accountKey, free - amount, earnedSoFar, rpt, totalKey, total - amount);
        uint256 lockedAfter = _locks[account].latest() + amount;
        // a locked stake is 0 or at least MIN_STAKE: its full unlock leaves a valid free stake
        if (lockedAfter < MIN_STAKE) revert BelowMinimumStake(lockedAfter, MIN_STAKE);
        _recordLocks(account, lockedAfter, _totalLocks.latest() + amount);
        emit StakeLocked(account, amount, lockedAfter);
    }

    /// @inheritdoc IVVVStaking
    function unlock(address account, uint256 amount) external {
        _checkLocker();
        if (amount == 0) revert ZeroAmount();
        uint256 locked = _locks[account].latest();
        if (amount > locked) revert InsufficientLockedStake(account, amount, locked);
        (uint256 rpt, uint256 total, uint48 totalKey) = _moveAccumulator();
        (uint256 free, uint256 earnedSoFar, uint48 accountKey) = _account(account, rpt);
        _write(account, accountKey, free + amount, earnedSoFar, rpt, totalKey, total + amount);
        uint256 lockedAfter = locked - amount;
        _recordLocks(account, lockedAfter, _totalLocks.latest() - amount);
        emit StakeUnlocked(account, amount, lockedAfter);
    }

    /// @notice AccessControl's `renounceRole`, refused for LOCKER_ROLE as its grant and revoke
    ///         are (`AccessControlUnauthorizedAccount` for `LOCKED_ROLE`, held by nobody): the
    ///         locker is fixed for ever, and `lock` and `unlock` check the immutable `locker`.
    function renounceRole(bytes32 role, address account) public override {
        if (role == LOCKER_ROLE) revert AccessControlUnauthorizedAccount(msg.sender, LOCKED_ROLE);
        super.renounceRole(role, account);
    }

    // ---------------------------------------------------------------- guardian

    /// @notice Stops new stakes, unstake requests and restakes. Never stops withdraw of
    ///         matured requests, cancelUnstake or claimRewards.
    ///
    /// Requirements:
    /// - the caller holds `GUARDIAN_ROLE` (`AccessControlUnauthorizedAccount`);
    /// - staking is not paused (`EnforcedPause`).
    ///
    /// Emits a {Paused} event.
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    /// @notice Lifts the pause.
    ///
    /// Requirements:
    /// - the caller holds `GUARDIAN_ROLE` (`AccessControlUnauthorizedAccount`);
    /// - staking is paused (`ExpectedPause`).
    ///
    /// Emits an {Unpaused} event.
    function unpause() external onlyRole(GUARDIAN_ROLE) {
        _unpause();
    }

    /// @inheritdoc Pausable
    function paused() public view override returns (bool) {
        return _stream.paused;
    }

    /// @dev Pausable's `_pause`, on the flag in the stream's slot.
    function _pause() internal override whenNotPaused {
        _stream.paused = true;
        emit Paused(msg.sender);
    }

    /// @dev Pausable's `_unpause`, on the flag in the stream's slot.
    function _unpause() internal override whenPaused {
        _stream.paused = false;
        emit Unpaused(msg.sender);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IVVVStaking
    function stakeOf(address account) external view returns (uint256) {
        return AccountWord.wrap(_stakes[account].latest()).stake() + _locks[account].latest();
    }

    /// @inheritdoc IVVVStaking
    function totalStaked() external view returns (uint256) {
        return TotalWord.wrap(_totals.latest()).totalStaked() + _totalLocks.latest();
    }

    /// @inheritdoc IVVVStaking
    function freeStakeOf(address account) external view returns (uint256) {
        return AccountWord.wrap(_stakes[account].latest()).stake();
    }

    /// @inheritdoc IVVVStaking
    function totalFreeStaked() external view returns (uint256) {
        return TotalWord.wrap(_totals.latest()).totalStaked();
    }

    /// @inheritdoc IVVVStaking
    function lockedOf(address account) external view returns (uint256) {
        return _locks[account].latest();
    }

    /// @inheritdoc IVVVStaking
    function totalLocked() external view returns (uint256) {
        return _totalLocks.latest();
    }

    /// @inheritdoc IVVVStaking
    function totalUnbonding() external view returns (uint256) {
        return _queue.totalUnbonding;
    }

    /// @inheritdoc IVVVStaking
    function stakeAt(address account, uint256 timestamp) external view returns (uint256) {
        return freeStakeAt(account, timestamp) + lockedAt(account, timestamp);
    }

    /// @inheritdoc IVVVStaking
    function totalStakedAt(uint256 timestamp) external view returns (uint256) {
        return totalFreeStakedAt(timestamp) + totalLockedAt(timestamp);
    }

    /// @inheritdoc IVVVStaking
    function freeStakeAt(address account, uint256 timestamp) public view returns (uint256) {
        return AccountWord.wrap(_stakes[account].upperLookupRecent(_key(timestamp))).stake();
    }

    /// @inheritdoc IVVVStaking
    function totalFreeStakedAt(uint256 timestamp) public view returns (uint256) {
        return TotalWord.wrap(_totals.upperLookupRecent(_key(timestamp))).totalStaked();
    }

    /// @inheritdoc IVVVStaking
    function lockedAt(address account, uint256 timestamp) public view returns (uint256) {
        return _locks[account].at(timestamp);
    }

    /// @inheritdoc IVVVStaking
    function totalLockedAt(uint256 timestamp) public view returns (uint256) {
        return _totalLocks.at(timestamp);
    }

    /// @inheritdoc IVVVStaking
    function earned(address account) external view returns (uint256 amount) {
        (uint256 rpt,,) = _accumulator();
        (, amount,) = _account(account, rpt);
    }

    /// @inheritdoc IVVVStaking
    function rewardPerToken() external view returns (uint256 rpt) {
        (rpt,,) = _accumulator();
    }

    /// @inheritdoc IVVVStaking
    function rewardRate() external view returns (uint256) {
        Stream memory stream = _stream;
        return block.timestamp < stream.rewardsEnd ? stream.rateScaled / PRECISION : 0;
    }

    /// @inheritdoc IVVVStaking
    function rewardRateScaled() external view returns (uint256) {
        Stream memory stream = _stream;
        return block.timestamp < stream.rewardsEnd ? stream.rateScaled : 0;
    }

    /// @inheritdoc IVVVStaking
    function rewardsEnd() external view returns (uint256) {
        return _stream.rewardsEnd;
    }

    /// @inheritdoc IVVVStaking
    function carriedRewardsScaled() external view returns (uint256) {
        (,, uint256 unstaked) = _accumulator();
        return _carryScaled + unstaked;
    }

    /// @inheritdoc IVVVStaking
    function unstreamedRewards() external view returns (uint256) {
        Stream memory stream = _stream;
        (,, uint256 unstaked) = _accumulator();
        uint256 scaled = _carryScaled + unstaked;
        if (block.timestamp < stream.rewardsEnd) scaled += (stream.rewardsEnd - block.timestamp) * stream.rateScaled;
        return scaled / PRECISION;
    }

    /// @inheritdoc IVVVStaking
    function unstakeRequest(uint256 requestId)
        external
        view
        returns (address owner, uint256 amount, uint256 unlockTime, bool settled)
    {
        UnstakeRequest memory request = _requests[requestId];
        return (request.owner, request.amount, request.unlockTime, request.owner != address(0) && request.unlockTime == 0);
    }

    /// @inheritdoc IVVVStaking
    function lastRequestId() external view returns (uint256) {
        return _queue.lastRequestId;
    }

    // ---------------------------------------------------------------- internals

    function _stake(address payer, address account, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        if (account == address(0)) revert ZeroAddress();
        if (account == address(this)) revert InvalidAccount(account);
        (uint256 rpt, uint256 total, uint48 totalKey) = _moveAccumulator();
        (uint256 staked, uint256 earnedSoFar, uint48 accountKey) = _account(account, rpt);
        _write(account, accountKey, staked + amount, earnedSoFar, rpt, totalKey, total + amount);
        emit Staked(payer, account, amount);
        token.safeTransferFrom(payer, address(this), amount);
    }

    /// @dev Writes the new stake and rewards of `account` and the new total, both at now;
    ///      `accountKey` and `totalKey` are the keys of the traces' last checkpoints.
    function _write(
        address account,
        uint48 accountKey,
        uint256 stakeAfter,
        uint256 earnedAfter,
        uint256 rpt,
        uint48 totalKey,
        uint256 totalAfter
    ) private {
        if (stakeAfter != 0 && stakeAfter < MIN_STAKE) revert BelowMinimumStake(stakeAfter, MIN_STAKE);
        _record(_stakes[account], accountKey, AccountWord.unwrap(_accountWord(stakeAfter, earnedAfter, rpt)));
        _record(_totals, totalKey, TotalWord.unwrap(StakeWords.packTotal(rpt, totalAfter)));
    }

    /// @dev `Checkpoints.push(trace, now, value)` for a caller that has just read the trace's last
    ///      key (`lastKey`, 0 for an empty trace): appends a checkpoint, or replaces the last one
    ///      when it is of this block. OpenZeppelin's `push` reads the last checkpoint again to
    ///      learn its key. Keys are block timestamps, so they never decrease.
    function _record(Checkpoints.Trace208 storage trace, uint48 lastKey, uint208 value) private {
        Checkpoints.Checkpoint208[] storage points = trace._checkpoints;
        uint48 now_ = SafeCast.toUint48(block.timestamp);
        if (lastKey == now_) points[points.length - 1]._value = value;
        else points.push(Checkpoints.Checkpoint208({_key: now_, _value: value}));
    }

    /// @dev Writes the lock traces at now: the locked stake of `account` and the total.
    function _recordLocks(address account, uint256 lockedAfter, uint256 totalAfter) private {
        uint48 now_ = SafeCast.toUint48(block.timestamp);
        _locks[account].push(now_, SafeCast.toUint104(lockedAfter));
        _totalLocks.push(now_, SafeCast.toUint104(totalAfter));
    }

    /// @dev `onlyRole(LOCKER_ROLE)` without its storage read: the role is held by the immutable
    ///      `locker` alone, granted at construction, and can never be granted or revoked (its
    ///      admin role is held by nobody) nor renounced (`renounceRole`).
    function _checkLocker() private view {
        if (msg.sender != locker) {
            revert AccessControlUnauthorizedAccount(msg.sender, LOCKER_ROLE);
        }
    }

    /// @dev The accumulator brought to now, for an operation that then writes the total trace
    ///      at now: what streamed while nothing was staked goes to the carry.
    ///      `lastUpdate` is the key of the total trace's last checkpoint.
    function _moveAccumulator() private returns (uint256 rpt, uint256 total, uint48 lastUpdate) {
        uint256 unstaked;
        (rpt, total, unstaked, lastUpdate) = _accumulatorFrom();
        if (unstaked != 0) {
            _carryScaled += unstaked;
            emit UnstakedRewardsCarried(unstaked);
        }
    }

    /// @dev The accumulator brought to now (not written): reward per token, total stake, and
    ///      the scaled rewards that streamed since the last update while nothing was staked.
    function _accumulator() private view returns (uint256 rpt, uint256 total, uint256 unstaked) {
        (rpt, total, unstaked,) = _accumulatorFrom();
    }

    /// @dev `_accumulator`, and the key of the total trace's last checkpoint (the last update).
    function _accumulatorFrom()
        private
        view
        returns (uint256 rpt, uint256 total, uint256 unstaked, uint48 lastUpdate)
    {
        uint208 word;
        (, lastUpdate, word) = _totals.latestCheckpoint();
        (rpt, total) = TotalWord.wrap(word).unpack();
        Stream memory stream = _stream;
        uint256 until = Math.min(block.timestamp, stream.rewardsEnd);
        if (until > lastUpdate) {
            uint256 streamed = (until - lastUpdate) * stream.rateScaled;
            if (total == 0) unstaked = streamed;
            else rpt += streamed / total;
        }
    }

    /// @dev Stake of `account`, what it has earned up to reward-per-token `rpt`, and the key of
    ///      its trace's last checkpoint (0 if none).
    function _account(address account, uint256 rpt)
        private
        view
        returns (uint256 staked, uint256 amount, uint48 key)
    {
        uint208 raw;
        (, key, raw) = _stakes[account].latestCheckpoint();
        AccountWord word = AccountWord.wrap(raw);
        staked = word.stake();
        if (staked == 0) return (0, word.earnedWithoutStake(), key);
        // < 2^96 x 2^113: no overflow
        amount = staked * uint256(int256(rpt) - word.rewardOrigin()) / PRECISION;
    }

    /// @dev Account word holding `staked` and `earnedAmount` at reward-per-token `rpt`.
    ///      For a non-zero stake the earned amount is folded into the origin, flooring to at
    ///      most 1 + staked / PRECISION wei.
    function _accountWord(uint256 staked, uint256 earnedAmount, uint256 rpt) private pure returns (AccountWord) {
        if (staked == 0) return StakeWords.withoutStake(earnedAmount);
        int256 origin = int256(rpt) - int256(earnedAmount * PRECISION / staked); // earned < 2^112
        return StakeWords.withStake(staked, origin);
    }

    function _pendingRequestOf(uint256 requestId) private view returns (UnstakeRequest storage request) {
        request = _requests[requestId];
        address owner = request.owner;
        if (owner == address(0)) revert UnknownRequest(requestId);
        if (owner != msg.sender) revert NotRequestOwner(requestId, msg.sender);
        if (request.unlockTime == 0) revert RequestSettled(requestId);
    }

    function _key(uint256 timestamp) private pure returns (uint48) {
        return timestamp > type(uint48).max ? type(uint48).max : uint48(timestamp);
    }
}
