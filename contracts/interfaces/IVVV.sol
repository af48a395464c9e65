// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice The VVV token as the EmissionsController needs it: an ERC-20 that it alone mints.
interface IVVVMintable is IERC20 {
    /// @notice Mints new VVV. Only the EmissionsController can call it.
    ///
    /// Requirements:
    /// - the caller is `minter`, the EmissionsController (`NotMinter`).
    ///
    /// Emits a {Transfer} event from the zero address.
    /// @param to Receiver of the new tokens.
    /// @param amount Amount in wei.
    function mint(address to, uint256 amount) external;

    /// @notice The genesis supply, minted once to the genesis holder: 100,000,000 VVV.
    // solhint-disable-next-line func-name-mixedcase
    function GENESIS_SUPPLY() external view returns (uint256);
}

/// @notice The EmissionsController: mints each UTC day's VVV emission once, and splits it
///         between the stakers (streamed through VVVStaking) and the treasury by the day's
///         network utilization (SPEC.md, "EmissionsController").
interface IEmissionsController {
    /// @notice Epoch `epoch` was distributed: `stakerAmount` to staking, `treasuryAmount` to the
    ///         treasury, at `utilizationBps` (`fallbackUsed`: no final report, utilization 0).
    event Distributed(
        uint256 indexed epoch,
        uint256 utilizationBps,
        uint256 stakerBps,
        uint256 stakerAmount,
        uint256 treasuryAmount,
        bool fallbackUsed
    );
    /// @notice The split curve changes to these points from epoch `fromEpoch` on.
    event CurveUpdated(uint256 y0, uint256 x1, uint256 y1, uint256 y2, uint256 fromEpoch);

    /// @notice The epoch is before the first emission epoch.
    error EpochBeforeGenesis(uint256 epoch, uint256 genesisEpoch);
    /// @notice The epoch has not ended yet.
    error EpochNotClosed(uint256 epoch, uint256 currentEpoch);
    /// @notice The epoch was already distributed.
    error AlreadyDistributed(uint256 epoch);
    /// @notice The epoch's report is missing or not final, and the fallback time has not come.
    error ReportNotFinal(uint256 epoch, uint256 fallbackTime);
    /// @notice The fallback time has come but the epoch's report is pending: its dispute window
    ///         (until `finalAt`) decides, final or rejected, never the fallback.
    error ReportPending(uint256 epoch, uint256 finalAt);
    /// @notice Utilization above 10,000 bps.
    error InvalidUtilization(uint256 utilizationBps);
    /// @notice The curve's points are not a valid curve.
    error InvalidCurve(uint256 y0, uint256 x1, uint256 y1, uint256 y2);
    /// @notice The genesis epoch is not in the future.
    error InvalidGenesisEpoch(uint256 genesisEpoch, uint256 currentEpoch);

    /// @notice Mints epoch `epoch`'s emission and splits it by the epoch's final utilization.
    ///         Anyone may call it, once per closed epoch at or after genesis, in any order.
    ///         With no final report `FALLBACK_DELAY_EPOCHS` full epochs after the epoch ended,
    ///         utilization 0 is used (stakers get the most), unless a report of the epoch is
    ///         pending then: its window decides (final: its utilization; rejected: the fallback).
    ///
    /// Requirements:
    /// - `epoch` is at or after `genesisEpoch()` (`EpochBeforeGenesis`), closed (`EpochNotClosed`)
    ///   and not distributed yet (`AlreadyDistributed`);
    /// - its report is final, or the fallback time `(epoch + 3) * 86400` has come
    ///   (`ReportNotFinal`) and no report of the epoch is pending (`ReportPending`).
    ///
    /// Emits a {Distributed} event (and the token's {Transfer}s, the staking contract's
    /// {RewardsNotified}).
    /// @param epoch The epoch (UTC day number).
    function distribute(uint256 epoch) external;

    /// @notice Sets the split curve from the next epoch on: stakers' share y0 at 0%, y1 at x1,
    ///         y2 at 100% utilization. Each share <= 10,000 bps and 0 < x1 < 10,000. Epochs that
    ///         have started keep their curve, distributed or not.
    ///
    /// Requirements:
    /// - the caller holds `DEFAULT_ADMIN_ROLE` (`AccessControlUnauthorizedAccount`);
    /// - the points make a valid curve (`InvalidCurve`).
    ///
    /// Emits a {CurveUpdated} event.
    /// @param y0 Stakers' share (bps) at 0% utilization.
    /// @param x1 Utilization (bps) of the middle point.
    /// @param y1 Stakers' share (bps) at x1.
    /// @param y2 Stakers' share (bps) at 100% utilization.
    function setCurve(uint256 y0, uint256 x1, uint256 y1, uint256 y2) external;

    /// @notice Stakers' share in basis points at utilization `utilizationBps`, by the curve of
    ///         the current epoch.
    ///
    /// Requirements:
    /// - `utilizationBps` is at most 10,000 (`InvalidUtilization`).
    function stakerShareBps(uint256 utilizationBps) external view returns (uint256);

    /// @notice Stakers' share in basis points at utilization `utilizationBps` by the curve of `epoch`.
    ///
    /// Requirements:
    /// - `utilizationBps` is at most 10,000 (`InvalidUtilization`).
    function stakerShareBpsAt(uint256 epoch, uint256 utilizationBps) external view returns (uint256);

    /// @notice The newest split curve's points (0, y0), (x1, y1), (10000, y2), and the first
    ///         epoch it applies to.
    function curve() external view returns (uint256 y0, uint256 x1, uint256 y1, uint256 y2, uint256 fromEpoch);

    /// @notice The split curve of `epoch`.
    function curveAt(uint256 epoch) external view returns (uint256 y0, uint256 x1, uint256 y1, uint256 y2);

    /// @notice Whether epoch `epoch` was distributed.
    function distributed(uint256 epoch) external view returns (bool);

    /// @notice Emission of one epoch in wei.
    function epochEmission() external view returns (uint256);

    /// @notice The current epoch: block.timestamp / 86,400.
    function currentEpoch() external view returns (uint256);

    /// @notice First epoch that emits.
    function genesisEpoch() external view returns (uint256);

    /// @notice Receiver of the treasury's part.
    function treasury() external view returns (address);

    /// @notice Total minted by emissions so far (= EPOCH_EMISSION x distributed epochs). This
    ///         contract is the token's only minter, so it is the supply above the genesis supply.
    function totalEmitted() external view returns (uint256);

    /// @notice The VVV token (this contract is its only minter).
    function token() external view returns (IVVVMintable);

    /// @notice The staking contract (this contract is its only notifier).
    function staking() external view returns (IVVVStaking);

    /// @notice The epoch oracle.
    function oracle() external view returns (IEpochOracle);

    /// @notice Length of an epoch: one UTC day.
    // solhint-disable-next-line func-name-mixedcase
    function EPOCH_LENGTH() external view returns (uint256);

    /// @notice Full epochs after an epoch's end with no final report before the fallback applies.
    // solhint-disable-next-line func-name-mixedcase
    function FALLBACK_DELAY_EPOCHS() external view returns (uint256);
}

/// @notice VVVStaking: stake VVV, earn the stakers' part of the daily emission, leave through a
///         7-day unbonding queue (SPEC.md, "VVVStaking"). The EmissionsController calls
///         `notifyRewards`; the EpochOracle reads `stakeAt` and `totalStakedAt`.
interface IVVVStaking {
    /// @notice `payer` added `amount` to the stake of `account`.
    event Staked(address indexed payer, address indexed account, uint256 amount);
    /// @notice `amount` left the stake of `account`; withdrawable at `unlockTime`.
    event UnstakeRequested(address indexed account, uint256 indexed requestId, uint256 amount, uint256 unlockTime);
    /// @notice A pending request went back into the stake of `account`.
    event UnstakeCancelled(address indexed account, uint256 indexed requestId, uint256 amount);
    /// @notice A matured request was paid to `account`.
    event Withdrawn(address indexed account, uint256 indexed requestId, uint256 amount);
    /// @notice `account` was paid `amount` of rewards.
    event RewardsClaimed(address indexed account, uint256 amount);
    /// @notice `amount` of rewards of `account` was added to its stake.
    event RewardsRestaked(address indexed account, uint256 amount);
    /// @notice A new stream started: `amount` new rewards plus the rest of the previous stream and
    ///         the carry, at `rewardRateScaled` (wei per second x PRECISION) until `rewardsEnd`;
    ///         `carryScaled` (wei x PRECISION) is carried to the next one.
    event RewardsNotified(uint256 amount, uint256 rewardRateScaled, uint256 rewardsEnd, uint256 carryScaled);
    /// @notice Rewards that streamed while nothing was staked (`amountScaled`, wei x PRECISION)
    ///         were set aside for the next stream.
    event UnstakedRewardsCarried(uint256 amountScaled);
    /// @notice `amount` of the free stake of `account` was locked by the locker (the
    ///         ComputeRights contract): it leaves the reward weight and can no longer be
    ///         unstaked. `lockedAfter` is the account's locked stake after it.
    event StakeLocked(address indexed account, uint256 amount, uint256 lockedAfter);
    /// @notice `amount` of the locked stake of `account` became free again (earning, unstakeable).
    event StakeUnlocked(address indexed account, uint256 amount, uint256 lockedAfter);

    /// @notice An amount is zero.
    error ZeroAmount();
    /// @notice The account cannot hold a stake (the staking contract itself).
    error InvalidAccount(address account);
    /// @notice Unstaking more than the stake.
    error InsufficientStake(uint256 requested, uint256 staked);
    /// @notice A stake would be non-zero but below `minimum`, or a partial unstake below it.
    error BelowMinimumStake(uint256 amount, uint256 minimum);
    /// @notice No request has this id.
    error UnknownRequest(uint256 requestId);
    /// @notice The caller does not own the request.
    error NotRequestOwner(uint256 requestId, address caller);
    /// @notice The request was already withdrawn or cancelled.
    error RequestSettled(uint256 requestId);
    /// @notice The request unlocks at `unlockTime`.
    error RequestNotMatured(uint256 requestId, uint256 unlockTime);
    /// @notice Nothing was earned.
    error NoRewards();
    /// @notice Locking more than the free stake of `account`.
    error InsufficientFreeStake(address account, uint256 requested, uint256 free);
    /// @notice Unlocking more than the locked stake of `account`.
    error InsufficientLockedStake(address account, uint256 requested, uint256 locked);

    // ---------------------------------------------------------------- staking

    /// @notice Stakes `amount` VVV of the caller (needs an allowance).
    ///
    /// Requirements:
    /// - staking is not paused (`EnforcedPause`);
    /// - `amount` is not zero (`ZeroAmount`);
    /// - the caller's stake after it is at least `MIN_STAKE` (`BelowMinimumStake`);
    /// - the caller has approved and holds `amount` (the token's `ERC20InsufficientAllowance`,
    ///   `ERC20InsufficientBalance`).
    ///
    /// Emits a {Staked} event (payer and account: the caller), the token's {Transfer}, and an
    /// {UnstakedRewardsCarried} event when rewards streamed while nothing was staked.
    /// @param amount Amount in wei.
    function stake(uint256 amount) external;

    /// @notice Stakes `amount` VVV of the caller for `account`.
    ///
    /// Requirements:
    /// - those of {stake}, with `account`'s stake after it at least `MIN_STAKE`;
    /// - `account` is not the zero address (`ZeroAddress`) nor this contract (`InvalidAccount`).
    ///
    /// Emits a {Staked} event (payer: the caller), the token's {Transfer}, and an
    /// {UnstakedRewardsCarried} event when rewards streamed while nothing was staked.
    /// @param account Receiver of the stake.
    /// @param amount Amount in wei.
    function stakeFor(address account, uint256 amount) external;

    /// @notice Stakes with an EIP-2612 permit instead of a prior approval. A permit that fails
    ///         (e.g. front-run and already used) is ignored when the allowance is there anyway.
    ///
    /// Requirements:
    /// - those of {stake}, the allowance coming from the permit or from before.
    ///
    /// Emits the events of {stake}, and the token's {Approval} when the permit is applied.
    /// @param amount Amount in wei (also the permit's value).
    /// @param deadline Permit deadline.
    /// @param v Permit signature.
    /// @param r Permit signature.
    /// @param s Permit signature.
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Takes `amount` out of the caller's free stake at once (it stops earning and
    ///         stops counting for VCU); it can be withdrawn `UNBONDING_PERIOD` later. A partial
    ///         unstake must be at least `MIN_STAKE` and leave at least `MIN_STAKE` free. Locked
    ///         stake cannot be unstaked: it is freed by repaying its compute rights.
    ///
    /// Requirements:
    /// - staking is not paused (`EnforcedPause`);
    /// - `amount` is not zero (`ZeroAmount`) and at most the caller's free stake
    ///   (`InsufficientStake`, with the free stake);
    /// - `amount` is the whole free stake, or both it and the free stake left are at least
    ///   `MIN_STAKE` (`BelowMinimumStake`).
    ///
    /// Emits an {UnstakeRequested} event, and an {UnstakedRewardsCarried} event when rewards
    /// streamed while nothing was staked.
    /// @param amount Amount in wei.
    /// @return requestId Id of the new request (ids start at 1).
    function requestUnstake(uint256 amount) external returns (uint256 requestId);

    /// @notice Puts a pending request of the caller back into its stake. Works while paused.
    ///
    /// Requirements:
    /// - the request exists (`UnknownRequest`), is the caller's (`NotRequestOwner`) and is
    ///   neither withdrawn nor cancelled (`RequestSettled`).
    ///
    /// Emits an {UnstakeCancelled} event, and an {UnstakedRewardsCarried} event when rewards
    /// streamed while nothing was staked.
    /// @param requestId The request.
    function cancelUnstake(uint256 requestId) external;

    /// @notice Pays a matured request to its owner (the caller), once. Works while paused.
    ///
    /// Requirements:
    /// - the request exists (`UnknownRequest`), is the caller's (`NotRequestOwner`) and is
    ///   neither withdrawn nor cancelled (`RequestSettled`);
    /// - its unlock time has come (`RequestNotMatured`).
    ///
    /// Emits a {Withdrawn} event and the token's {Transfer}.
    /// @param requestId The request.
    function withdraw(uint256 requestId) external;

    // ---------------------------------------------------------------- rewards

    /// @notice Pays the caller everything it has earned so far. Works while paused.
    ///
    /// Requirements:
    /// - the caller has earned something (`NoRewards`).
    ///
    /// Emits a {RewardsClaimed} event and the token's {Transfer}.
    /// @return amount Rewards paid, in wei.
    function claimRewards() external returns (uint256 amount);

    /// @notice Adds everything the caller has earned so far to its stake (no token moves).
    ///
    /// Requirements:
    /// - staking is not paused (`EnforcedPause`);
    /// - the caller has earned something (`NoRewards`);
    /// - the stake after it is at least `MIN_STAKE` (`BelowMinimumStake`: an account with no
    ///   stake and less than `MIN_STAKE` earned claims instead).
    ///
    /// Emits a {RewardsRestaked} event, and an {UnstakedRewardsCarried} event when rewards
    /// streamed while nothing was staked.
    /// @return amount Rewards restaked, in wei.
    function restakeRewards() external returns (uint256 amount);

    /// @notice Starts a new stream of `amount` (already transferred here) plus what is left
    ///         of the current stream and the carried rest, over the next `REWARDS_DURATION`.
    ///
    /// Requirements:
    /// - the caller holds `NOTIFIER_ROLE`, the EmissionsController
    ///   (`AccessControlUnauthorizedAccount`);
    /// - `amount` is not zero (`ZeroAmount`).
    ///
    /// Emits a {RewardsNotified} event, and an {UnstakedRewardsCarried} event when rewards
    /// streamed while nothing was staked.
    /// @param amount New rewards in wei.
    function notifyRewards(uint256 amount) external;

    // ---------------------------------------------------------------- locks

    /// @notice Locks `amount` of the free stake of `account` (for compute rights minted by the
    ///         locker). From this block the locked stake earns nothing (what the account earned
    ///         until now stays its own; the locked share of the stream goes to the other
    ///         stakers) and cannot be unstaked; it still counts in `stakeOf` and `stakeAt`.
    ///         Writes the lock checkpoints and the account's and total free stake, like an
    ///         unstake request, and moves no token.
    ///
    /// Requirements:
    /// - the caller holds `LOCKER_ROLE`, the ComputeRights contract (`AccessControlUnauthorizedAccount`);
    /// - staking is not paused (`EnforcedPause`);
    /// - `amount` is not zero (`ZeroAmount`) and at most the free stake of `account`
    ///   (`InsufficientFreeStake`);
    /// - the free stake left is 0 or at least `MIN_STAKE`, and the locked stake after it at
    ///   least `MIN_STAKE` (`BelowMinimumStake`: so that unlocking it all never leaves a free
    ///   stake below the minimum).
    ///
    /// Emits a {StakeLocked} event, and an {UnstakedRewardsCarried} event when rewards streamed
    /// while nothing was staked.
    /// @param account The staker whose stake is locked.
    /// @param amount Amount in wei.
    function lock(address account, uint256 amount) external;

    /// @notice Frees `amount` of the locked stake of `account`: it earns again from this
    ///         block and can be unstaked. Works while paused.
    ///
    /// Requirements:
    /// - the caller holds `LOCKER_ROLE`, the ComputeRights contract (`AccessControlUnauthorizedAccount`);
    /// - `amount` is not zero (`ZeroAmount`) and at most the locked stake of `account`
    ///   (`InsufficientLockedStake`);
    /// - the free stake after it is at least `MIN_STAKE` (`BelowMinimumStake`: a free stake
    ///   below it would unbound the reward accumulator; stake more, or free more at once).
    ///
    /// Emits a {StakeUnlocked} event, and an {UnstakedRewardsCarried} event when rewards streamed
    /// while nothing was staked.
    /// @param account The staker whose stake is freed.
    /// @param amount Amount in wei.
    function unlock(address account, uint256 amount) external;

    // ---------------------------------------------------------------- views

    /// @notice Current stake of `account`, free and locked.
    function stakeOf(address account) external view returns (uint256);

    /// @notice Current total stake, free and locked.
    function totalStaked() external view returns (uint256);

    /// @notice Current free stake of `account`: what earns rewards and can be unstaked.
    function freeStakeOf(address account) external view returns (uint256);

    /// @notice Current total free stake (the reward weight).
    function totalFreeStaked() external view returns (uint256);

    /// @notice Current locked stake of `account`.
    function lockedOf(address account) external view returns (uint256);

    /// @notice Current total locked stake.
    function totalLocked() external view returns (uint256);

    /// @notice Free stake of `account` after the last change in a block whose timestamp is
    ///         <= `timestamp` (`stakeAt - lockedAt`, read from one trace).
    function freeStakeAt(address account, uint256 timestamp) external view returns (uint256);

    /// @notice Total free stake after the last change in a block whose timestamp is <= `timestamp`.
    function totalFreeStakedAt(uint256 timestamp) external view returns (uint256);

    /// @notice Locked stake of `account` after the last lock or unlock in a block whose
    ///         timestamp is <= `timestamp`.
    function lockedAt(address account, uint256 timestamp) external view returns (uint256);

    /// @notice Total locked stake after the last lock or unlock in a block whose timestamp is
    ///         <= `timestamp`.
    function totalLockedAt(uint256 timestamp) external view returns (uint256);

    /// @notice Total of pending (not withdrawn, not cancelled) unstake requests.
    function totalUnbonding() external view returns (uint256);

    /// @notice Stake of `account`, free and locked, after the last change in a block whose
    ///         timestamp is <= `timestamp` (for a future timestamp: the current stake, which may
    ///         still change).
    function stakeAt(address account, uint256 timestamp) external view returns (uint256);

    /// @notice Total stake, free and locked, after the last change in a block whose timestamp
    ///         is <= `timestamp`.
    function totalStakedAt(uint256 timestamp) external view returns (uint256);

    /// @notice Rewards earned by `account` and not yet claimed or restaked, in wei.
    function earned(address account) external view returns (uint256 amount);

    /// @notice Accumulated reward per staked wei, scaled by PRECISION.
    function rewardPerToken() external view returns (uint256 rpt);

    /// @notice Current stream rate in reward wei per second (floored; see `rewardRateScaled`).
    function rewardRate() external view returns (uint256);

    /// @notice Current stream rate in reward wei per second, scaled by PRECISION.
    function rewardRateScaled() external view returns (uint256);

    /// @notice End of the current stream.
    function rewardsEnd() external view returns (uint256);

    /// @notice Rewards set aside for the next stream (wei x PRECISION), including what has
    ///         streamed while nothing is staked since the last update.
    function carriedRewardsScaled() external view returns (uint256);

    /// @notice Rewards not yet streamed to stakers, in wei (floored): the rest of the current
    ///         stream plus the carry.
    function unstreamedRewards() external view returns (uint256);

    /// @notice An unstake request. `settled` is true once withdrawn or cancelled; a settled
    ///         request's `unlockTime` reads 0 (its `UnstakeRequested` event keeps it).
    function unstakeRequest(uint256 requestId)
        external
        view
        returns (address owner, uint256 amount, uint256 unlockTime, bool settled);

    /// @notice Id of the last unstake request made (ids start at 1).
    function lastRequestId() external view returns (uint256);

    /// @notice The staked and rewarded token (VVV).
    function token() external view returns (IERC20);

    /// @notice The holder of LOCKER_ROLE (the ComputeRights contract), fixed at construction;
    ///         the zero address when this staking contract has none (no stake can be locked).
    function locker() external view returns (address);

    /// @notice Time between an unstake request and its withdrawal.
    // solhint-disable-next-line func-name-mixedcase
    function UNBONDING_PERIOD() external view returns (uint256);

    /// @notice Length of a reward stream.
    // solhint-disable-next-line func-name-mixedcase
    function REWARDS_DURATION() external view returns (uint256);

    /// @notice Fixed-point scale of the reward rate and of the reward per staked token.
    // solhint-disable-next-line func-name-mixedcase
    function PRECISION() external view returns (uint256);

    /// @notice Smallest non-zero stake of an account (0.001 VVV), and smallest partial unstake.
    // solhint-disable-next-line func-name-mixedcase
    function MIN_STAKE() external view returns (uint256);
}

/// @notice What the EpochOracle reads of the compute rights (`ComputeRights`): the activations
///         that add to a day's allotments, and the rights outstanding (the floor of `minCapacity`).
interface IRightsActivations {
    /// @notice Rights activated to `account` for `epoch` (fixed once the epoch has started).
    function activatedAt(address account, uint256 epoch) external view returns (uint256);

    /// @notice Rights activated to all accounts for `epoch` (fixed once the epoch has started).
    function totalActivatedAt(uint256 epoch) external view returns (uint256);

    /// @notice Rights outstanding, `R`.
    function totalSupply() external view returns (uint256);
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
