// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {MinDelayAdminRules} from "./access/MinDelayAdminRules.sol";
import {EpochOracle} from "./EpochOracle.sol";
import {IEpochOracle, IVVVStaking} from "./interfaces/IVVV.sol";
import {HeadTrace} from "./utils/HeadTrace.sol";
import {MerkleSumTree} from "./utils/MerkleSumTree.sol";
import {RightsPricing} from "./utils/RightsPricing.sol";

/// @title ComputeRights
/// @notice Venice Compute Rights (VCR, SPEC.md "ComputeRights"): compute a staker can keep and
///         trade. A staker locks part of its free stake in VVVStaking and mints VCR on an
///         immutable curve (`quoteMint`); one VCR activated to an account for an epoch is meant
///         to add 1 VCU to that account's allotment of the day.
///
///         The EpochOracle adds `activatedAt` to each allotment and shares the pool
///         `capacity - totalActivatedAt` by free stake. `deploy_system` deploys no ComputeRights
///         yet (its staking contract has no locker, so no stake can be locked).
///
///         - Mint: only while the current epoch's allotment source is the report of the epoch
///           before and that report is final; the caller proves its leaf in that report. The
///           rights an account mints against one report add up to at most
///           `QUOTA * leaf.stake / totalActiveStake` (`QUOTA = RCAP / 20`: at most 5% of the cap
///           a day, shared by stake, no race), and all rights out stay within `RCAP` and within
///           half of the oracle's `minCapacity`.
///         - Repay: burns the caller's VCR against its own position and unlocks
///           `locked * rights / minted` of it (rounded down: toward the protocol); a holder
///           with no position (a buyer) cannot repay.
///         - Activate / deactivate: from the next epoch (00:00 UTC) on; `activatedAt` and
///           `totalActivatedAt` of an epoch are fixed once it starts. Active VCR are held by
///           this contract (so cannot be transferred) until deactivated and reclaimed.
///         - VCR sent to this contract by `transfer` or `transferFrom` is refused
///           (`ERC20InvalidReceiver`): only `activate` puts VCR here, and only `reclaim` takes
///           them out.
///         - No admin can change the curve, the cap, the quota, the floor or a position; the
///           guardian can pause new mints only.
contract ComputeRights is ERC20, ERC20Permit, MinDelayAdminRules, Pausable {
    using HeadTrace for HeadTrace.Trace;

    /// @notice Pauses and unpauses new mints (never repay, activate, deactivate or reclaim).
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Length of an epoch: one UTC day.
    uint256 public constant EPOCH_LENGTH = 1 days;
    /// @notice The daily quota, as a divisor of the cap: `QUOTA = RCAP / QUOTA_DIVISOR`.
    uint256 public constant QUOTA_DIVISOR = 20;
    /// @notice The price floor, in basis points of the free stake (see `RightsPricing`).
    uint256 public constant FLOOR_BPS = RightsPricing.FLOOR_BPS;

    /// @notice The staking contract, whose locker this contract must be.
    IVVVStaking public immutable staking;
    /// @notice The oracle whose final reports mints are made against.
    EpochOracle public immutable oracle;
    /// @notice The staking contract's smallest non-zero stake, also the smallest locked stake.
    uint256 public immutable MIN_STAKE; // solhint-disable-line var-name-mixedcase
    /// @notice The cap on rights outstanding (VCU, 18 decimals), immutable.
    uint256 public immutable RCAP; // solhint-disable-line var-name-mixedcase
    /// @notice Rights that can be minted per epoch, by all accounts together: `RCAP / 20`.
    uint256 public immutable QUOTA; // solhint-disable-line var-name-mixedcase

    /// @dev An account's position and allowance, one slot (a first mint writes one fresh slot
    ///      here): the rights it minted and has not repaid, and what it minted against the
    ///      report of `epoch - 1`. The stake the position locks is the staking contract's
    ///      `lockedOf(account)` (this contract is its only locker, and only the account's own
    ///      mints and repays lock and unlock it), so it is not stored twice. `RCAP < 2^96`.
    struct Position {
        uint96 minted;
        uint32 epoch;
        uint96 mintedInEpoch;
    }

    /// @dev The rights outstanding at the start of `epoch` (set at the epoch's first mint or
    ///      repay) and the rights minted in it, one slot.
    struct Day {
        uint48 epoch;
        uint104 rightsAtStart;
        uint104 mintedToday;
    }

    /// @dev Deactivated VCR of a caller: `ready` can be reclaimed now, `pending` from `fromEpoch`.
    struct Reclaim {
        uint112 ready;
        uint112 pending;
        uint32 fromEpoch;
    }

    mapping(address account => Position) private _positions;
    Day private _day;
    /// @dev key: the epoch from which a value holds; value: rights activated to the account.
    mapping(address account => HeadTrace.Trace) private _activated;
    /// @dev key: the epoch from which a value holds; value: rights activated in total.
    HeadTrace.Trace private _totalActivated;
    mapping(address caller => mapping(address account => uint256)) private _activatedBy;
    mapping(address caller => Reclaim) private _reclaims;

    /// @notice `account` minted `rights` in `epoch`, locking `locked` VVV of its free stake.
    event RightsMinted(address indexed account, uint256 indexed epoch, uint256 rights, uint256 locked);
    /// @notice `account` repaid `rights` of its position, unlocking `unlocked` VVV.
    event RightsRepaid(address indexed account, uint256 rights, uint256 unlocked);
    /// @notice `caller` activated `rights` to `account` from epoch `fromEpoch` on.
    event RightsActivated(address indexed caller, address indexed account, uint256 rights, uint256 fromEpoch);
    /// @notice `caller` deactivated `rights` of `account` from epoch `fromEpoch` on; the VCR can
    ///         be reclaimed from then.
    event RightsDeactivated(address indexed caller, address indexed account, uint256 rights, uint256 fromEpoch);
    /// @notice `caller` took back `rights` deactivated VCR.
    event RightsReclaimed(address indexed caller, uint256 rights);

    /// @notice An amount is zero.
    error ZeroAmount();
    /// @notice The cap is zero or not a multiple of `QUOTA_DIVISOR`.
    error InvalidRightsCap(uint256 rightsCap);
    /// @notice The current epoch's allotments do not come from a final report of the epoch
    ///         before (`source`: the oracle's `Source`, `final_`: whether that report is final).
    error NoFinalReport(uint256 epoch, uint8 source, bool final_);
    /// @notice The leaf is not the caller's, or its path does not reach the report's root with
    ///         the depth its count implies.
    error InvalidLeaf(address account, uint256 position);
    /// @notice Minting `rights` would take the account past its allowance against this report.
    error AllowanceExceeded(address account, uint256 rights, uint256 mintedBefore, uint256 allowance);
    /// @notice Minting `rights` would take the rights outstanding past `limit` (the cap, or half
    ///         of the oracle's minimum capacity).
    error CapExceeded(uint256 rights, uint256 outstanding, uint256 limit);
    /// @notice The price is above the caller's `maxLock`.
    error PriceAboveMaxLock(uint256 price, uint256 maxLock);
    /// @notice Repaying more rights than the caller's position holds.
    error ExceedsPosition(address account, uint256 rights, uint256 minted);
    /// @notice Deactivating more than the caller activated to `account`.
    error ExceedsActivation(address caller, address account, uint256 rights, uint256 activated);
    /// @notice Nothing to reclaim now.
    error NothingToReclaim(address caller);
    /// @notice The staking contract does not name this contract as its locker (`locker`).
    error NotTheLocker(address locker);
    /// @notice The oracle reads another staking contract (`oracleStaking`) than this one's.
    error OracleStakingMismatch(address oracleStaking);

    /// @param staking_ The staking contract, deployed with this contract's address as its locker
    ///        (`NotTheLocker` otherwise).
    /// @param oracle_ The epoch oracle (reads its reports; never writes to it), reading
    ///        `staking_` (`OracleStakingMismatch` otherwise).
    /// @param rightsCap The cap on rights outstanding, `RCAP` (a non-zero multiple of 20 below
    ///        2^96).
    /// @param admin The default admin (two-step transfer after `adminDelay`).
    /// @param adminDelay Delay of the default admin transfer, in seconds.
    /// @param guardian Holder of GUARDIAN_ROLE.
    constructor(
        IVVVStaking staking_,
        EpochOracle oracle_,
        uint256 rightsCap,
        address admin,
        uint48 adminDelay,
        address guardian
    ) ERC20("Venice Compute Right", "VCR") ERC20Permit("Venice Compute Right") MinDelayAdminRules(adminDelay, admin) {
        if (address(staking_) == address(0) || address(oracle_) == address(0) || guardian == address(0)) {
            revert ZeroAddress();
        }
        if (rightsCap == 0 || rightsCap % QUOTA_DIVISOR != 0 || rightsCap >= 2 ** 96) {
            revert InvalidRightsCap(rightsCap);
        }
        address oracleStaking = address(oracle_.staking());
        if (oracleStaking != address(staking_)) revert OracleStakingMismatch(oracleStaking);
        address locker = staking_.locker();
        if (locker != address(this)) revert NotTheLocker(locker);
        staking = staking_;
        oracle = oracle_;
        MIN_STAKE = staking_.MIN_STAKE();
        RCAP = rightsCap;
        QUOTA = rightsCap / QUOTA_DIVISOR;
        _grantRole(GUARDIAN_ROLE, guardian);
        // Non-zero from the start, so the first mint and the first activation pay no fresh-slot
        // cost: the day record of the deployment's epoch (nothing out), and a first checkpoint
        // "0 activated in total from this epoch on" (what the empty trace said).
        uint256 epoch = block.timestamp / EPOCH_LENGTH;
        _day.epoch = uint48(epoch);
        _totalActivated.push(epoch, 0);
    }

    // ---------------------------------------------------------------- positions

    /// @notice Mints `rights` VCR to the caller, locking `quoteMint(rights)` VVV of its free stake.
    ///
    /// Requirements:
    /// - mints are not paused (`EnforcedPause`); `rights` is not zero (`ZeroAmount`);
    /// - the current epoch's allotment source is the report of the epoch before, and that
    ///   report is final (`NoFinalReport`);
    /// - `leaf` is the caller's leaf in that report, with a path of the depth its count implies
    ///   reaching its root and total (`InvalidLeaf`);
    /// - the caller's rights minted against this report stay within
    ///   `QUOTA * leaf.stake / totalActiveStake` (`AllowanceExceeded`);
    /// - the rights outstanding stay within `RCAP` and `minCapacity / 2` (`CapExceeded`);
    /// - the price is at most `maxLock` (`PriceAboveMaxLock`) and at most the caller's free
    ///   stake, leaving 0 or at least `MIN_STAKE` free, and the caller's locked stake after it
    ///   is at least `MIN_STAKE` (the staking contract's `InsufficientFreeStake`,
    ///   `BelowMinimumStake`); staking is not paused.
    ///
    /// Emits {RightsMinted}, {Transfer} from zero, and the staking contract's {StakeLocked}.
    /// @param rights VCR to mint (18 decimals).
    /// @param maxLock The most VVV the caller accepts to lock.
    /// @param leaf The caller's leaf and proof in the report of the epoch before.
    /// @return locked The VVV locked.
    function mint(uint256 rights, uint256 maxLock, EpochOracle.LeafProof calldata leaf)
        external
        whenNotPaused
        returns (uint256 locked)
    {
        if (rights == 0) revert ZeroAmount();
        uint256 epoch = block.timestamp / EPOCH_LENGTH;
        (uint256 capacity, uint256 totalActive) = _checkLeaf(epoch, leaf);
        _spendAllowance(epoch, leaf.stake, totalActive, rights);
        Day memory day = _today(epoch);
        _checkCap(rights);
        locked = RightsPricing.quoteMint(_market(day, capacity, totalActive, epoch), rights);
        if (locked > maxLock) revert PriceAboveMaxLock(locked, maxLock);
        day.mintedToday += uint104(rights); // within RCAP < 2^96 (_checkCap)
        _day = day;
        emit RightsMinted(msg.sender, epoch, rights, locked);
        _mint(msg.sender, rights);
        staking.lock(msg.sender, locked);
    }

    /// @notice Burns `rights` VCR of the caller against its own position and unlocks
    ///         `locked * rights / minted` of the position's stake (rounded down; all of it when
    ///         the whole position is repaid). Works while mints are paused, and is never
    ///         refused for the minimum stake: a partial repay unlocks less than its share when
    ///         its share would leave less than `MIN_STAKE` locked (it keeps `MIN_STAKE`), or
    ///         a free stake in (0, `MIN_STAKE`) (it unlocks nothing); what it keeps locked stays
    ///         in the position and comes back with the later repays (the last returns it all).
    ///
    /// Requirements:
    /// - `rights` is not zero (`ZeroAmount`) and at most the caller's position (`ExceedsPosition`:
    ///   a holder who bought VCR has no position) and balance (`ERC20InsufficientBalance`).
    ///
    /// Emits {RightsRepaid}, {Transfer} to zero, and the staking contract's {StakeUnlocked}
    /// (when something is unlocked).
    /// @param rights VCR to repay.
    /// @return unlocked The VVV unlocked.
    function repay(uint256 rights) external returns (uint256 unlocked) {
        if (rights == 0) revert ZeroAmount();
        Position storage position = _positions[msg.sender];
        uint256 minted = position.minted;
        if (rights > minted) revert ExceedsPosition(msg.sender, rights, minted);
        _today(block.timestamp / EPOCH_LENGTH); // fixes the day's R_start before the burn
        uint256 locked = staking.lockedOf(msg.sender); // >= MIN_STAKE while minted != 0
        uint256 free = rights == minted ? 0 : staking.freeStakeOf(msg.sender); // unread for a full repay
        unlocked = RightsPricing.unlockOf(locked, free, rights, minted, MIN_STAKE);
        position.minted = uint96(minted - rights);
        emit RightsRepaid(msg.sender, rights, unlocked);
        _burn(msg.sender, rights);
        if (unlocked != 0) staking.unlock(msg.sender, unlocked);
    }

    // ---------------------------------------------------------------- transfers

    /// @notice ERC-20 `transfer`, refused to this contract (`ERC20InvalidReceiver`): VCR sent
    ///         here would be stranded (only `activate` puts VCR here).
    function transfer(address to, uint256 value) public override returns (bool) {
        if (to == address(this)) revert ERC20InvalidReceiver(to);
        return super.transfer(to, value);
    }

    /// @notice ERC-20 `transferFrom`, refused to this contract (`ERC20InvalidReceiver`).
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (to == address(this)) revert ERC20InvalidReceiver(to);
        return super.transferFrom(from, to, value);
    }

    // ---------------------------------------------------------------- activation

    /// @notice Moves `rights` VCR of the caller into this contract, activated to `account` from
    ///         the next epoch (00:00 UTC) on. The same caller alone can deactivate them.
    ///
    /// Requirements:
    /// - `rights` is not zero (`ZeroAmount`), `account` is not zero (`ZeroAddress`);
    /// - the caller holds `rights` VCR (`ERC20InsufficientBalance`).
    ///
    /// Emits {RightsActivated} and {Transfer}.
    function activate(uint256 rights, address account) external {
        if (rights == 0) revert ZeroAmount();
        if (account == address(0)) revert ZeroAddress();
        uint256 from = block.timestamp / EPOCH_LENGTH + 1;
        _transfer(msg.sender, address(this), rights);
        _activatedBy[msg.sender][account] += rights;
        _move(_activated[account], from, rights, true);
        _move(_totalActivated, from, rights, true);
        emit RightsActivated(msg.sender, account, rights, from);
    }

    /// @notice Ends `rights` of the caller's activation to `account` from the next epoch on;
    ///         the VCR can be reclaimed (`reclaim`) once that epoch has started.
    ///
    /// Requirements:
    /// - `rights` is not zero (`ZeroAmount`) and at most what the caller activated to `account`
    ///   (`ExceedsActivation`).
    ///
    /// Emits {RightsDeactivated}.
    function deactivate(uint256 rights, address account) external {
        if (rights == 0) revert ZeroAmount();
        uint256 activated = _activatedBy[msg.sender][account];
        if (rights > activated) revert ExceedsActivation(msg.sender, account, rights, activated);
        uint256 now_ = block.timestamp / EPOCH_LENGTH;
        uint256 from = now_ + 1;
        _activatedBy[msg.sender][account] = activated - rights;
        _move(_activated[account], from, rights, false);
        _move(_totalActivated, from, rights, false);
        Reclaim memory r = _settled(_reclaims[msg.sender], now_);
        r.pending += SafeCast.toUint112(rights);
        r.fromEpoch = SafeCast.toUint32(from);
        _reclaims[msg.sender] = r;
        emit RightsDeactivated(msg.sender, account, rights, from);
    }

    /// @notice Sends the caller its deactivated VCR whose epoch has started.
    ///
    /// Requirements:
    /// - some are ready (`NothingToReclaim`).
    ///
    /// Emits {RightsReclaimed} and {Transfer}.
    /// @return rights The VCR sent back.
    function reclaim() external returns (uint256 rights) {
        Reclaim memory r = _settled(_reclaims[msg.sender], block.timestamp / EPOCH_LENGTH);
        rights = r.ready;
        if (rights == 0) revert NothingToReclaim(msg.sender);
        r.ready = 0;
        _reclaims[msg.sender] = r;
        emit RightsReclaimed(msg.sender, rights);
        _transfer(address(this), msg.sender, rights);
    }

    // ---------------------------------------------------------------- guardian

    /// @notice Stops new mints (repay, activate, deactivate and reclaim go on).
    ///
    /// Requirements: the caller holds `GUARDIAN_ROLE`; not paused (`EnforcedPause`).
    ///
    /// Emits a {Paused} event.
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    /// @notice Lets mints go on again.
    ///
    /// Requirements: the caller holds `GUARDIAN_ROLE`; paused (`ExpectedPause`).
    ///
    /// Emits an {Unpaused} event.
    function unpause() external onlyRole(GUARDIAN_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------- views

    /// @notice The VVV that minting `rights` would lock now (the current epoch's report, the
    ///         rights out at its start and minted earlier in it).
    ///
    /// Requirements:
    /// - the current epoch's allotment source is the report of the epoch before, and that
    ///   report is final (`NoFinalReport`, as `mint`: no price is quoted that nobody can mint
    ///   at);
    /// - those of `RightsPricing.quoteMint` on that report.
    function quoteMint(uint256 rights) external view returns (uint256) {
        uint256 epoch = block.timestamp / EPOCH_LENGTH;
        (uint256 capacity,, uint256 totalActive,) = _finalReport(epoch);
        Day memory day = _day;
        if (day.epoch != epoch) day = Day({epoch: uint48(epoch), rightsAtStart: uint104(totalSupply()), mintedToday: 0});
        return RightsPricing.quoteMint(_market(day, capacity, totalActive, epoch), rights);
    }

    /// @notice The position of `account`: rights minted and not repaid, and the VVV they lock.
    function positionOf(address account) external view returns (uint256 minted, uint256 locked) {
        return (_positions[account].minted, staking.lockedOf(account));
    }

    /// @notice What `account` minted against the report of `epoch - 1` (the rights of `epoch`).
    function mintedInEpoch(address account, uint256 epoch) external view returns (uint256) {
        Position memory position = _positions[account];
        return position.epoch == epoch ? position.mintedInEpoch : 0;
    }

    /// @notice The rights outstanding at the start of the current epoch, and minted in it.
    function today() external view returns (uint256 rightsAtStart, uint256 mintedToday) {
        uint256 epoch = block.timestamp / EPOCH_LENGTH;
        Day memory day = _day;
        if (day.epoch != epoch) return (totalSupply(), 0);
        return (day.rightsAtStart, day.mintedToday);
    }

    /// @notice Rights activated to `account` for `epoch` (fixed once the epoch has started).
    function activatedAt(address account, uint256 epoch) external view returns (uint256) {
        return _activated[account].at(epoch);
    }

    /// @notice Rights activated to all accounts for `epoch` (fixed once the epoch has started).
    function totalActivatedAt(uint256 epoch) external view returns (uint256) {
        return _totalActivated.at(epoch);
    }

    /// @notice Rights `caller` has activated to `account` (including any not active yet).
    function activatedBy(address caller, address account) external view returns (uint256) {
        return _activatedBy[caller][account];
    }

    /// @notice Deactivated VCR of `caller`: reclaimable now, and not yet (from `fromEpoch`).
    function reclaimable(address caller) external view returns (uint256 ready, uint256 pending, uint256 fromEpoch) {
        Reclaim memory r = _settled(_reclaims[caller], block.timestamp / EPOCH_LENGTH);
        return (r.ready, r.pending, r.pending == 0 ? 0 : r.fromEpoch);
    }

    // ---------------------------------------------------------------- internals

    /// @dev The report of `epoch - 1`, checked as the source of mints of `epoch` (two calls:
    ///      the source, and the report with its status).
    function _finalReport(uint256 epoch)
        private
        view
        returns (uint256 capacity, bytes32 root, uint256 totalActive, uint256 count)
    {
        EpochOracle.Source source = oracle.allotmentSource(epoch);
        IEpochOracle.Status status;
        (, capacity, root, totalActive, count,,, status) = oracle.report(epoch - 1);
        bool final_ = status == IEpochOracle.Status.Final;
        if (source != EpochOracle.Source.Report || !final_) revert NoFinalReport(epoch, uint8(source), final_);
    }

    /// @dev `_finalReport` of `epoch`, and the caller's leaf checked in it; its capacity and
    ///      total active stake.
    function _checkLeaf(uint256 epoch, EpochOracle.LeafProof calldata leaf)
        private
        view
        returns (uint256 capacity, uint256 totalActive)
    {
        bytes32 root;
        uint256 count;
        (capacity, root, totalActive, count) = _finalReport(epoch);
        // the checks of the oracle's vcuAllocation: the caller's leaf, a real position, the
        // depth the count implies, a path to the root and the total
        if (
            leaf.account != msg.sender || leaf.stake == 0 || leaf.position >= count
                || leaf.siblings.length != MerkleSumTree.depth(count)
        ) revert InvalidLeaf(msg.sender, leaf.position);
        (bool ok, bytes32 topHash, uint256 topSum) = MerkleSumTree.top(
            MerkleSumTree.leafHash(leaf.account, leaf.stake), leaf.stake, leaf.position, leaf.siblings
        );
        if (!ok || topHash != root || topSum != totalActive) revert InvalidLeaf(msg.sender, leaf.position);
    }

    /// @dev Adds `rights` to what the caller minted against the report of `epoch - 1`, within
    ///      `QUOTA * stake / totalActive` (floored), and to its position.
    function _spendAllowance(uint256 epoch, uint256 stake, uint256 totalActive, uint256 rights) private {
        uint256 allowance = QUOTA * stake / totalActive; // stake <= totalActive < 2^128, QUOTA < 2^96
        Position memory position = _positions[msg.sender];
        uint256 before = position.epoch == epoch ? position.mintedInEpoch : 0;
        if (before + rights > allowance) revert AllowanceExceeded(msg.sender, rights, before, allowance);
        // all below QUOTA or RCAP < 2^96 (the cap is checked next, in the same transaction)
        position.minted += uint96(rights);
        position.epoch = uint32(epoch);
        position.mintedInEpoch = uint96(before + rights);
        _positions[msg.sender] = position;
    }

    /// @dev The rights out after minting `rights` stay within the cap and half the oracle's
    ///      minimum capacity.
    function _checkCap(uint256 rights) private view {
        (uint256 minCapacity,,) = oracle.capacityBounds();
        uint256 limit = minCapacity / 2 < RCAP ? minCapacity / 2 : RCAP;
        uint256 outstanding = totalSupply();
        if (outstanding + rights > limit) revert CapExceeded(rights, outstanding, limit);
    }

    /// @dev The day record of `epoch`: a new one (R_start = the rights out now) at its first use.
    function _today(uint256 epoch) private returns (Day memory day) {
        day = _day;
        if (day.epoch != epoch) {
            day = Day({epoch: uint48(epoch), rightsAtStart: uint104(totalSupply()), mintedToday: 0});
            _day = day;
        }
    }

    /// @dev The pricing inputs of a mint in `epoch`: the free stake at the report's snapshot (the
    ///      last second of `epoch - 1`), as `postReport` read and stored it.
    function _market(Day memory day, uint256 capacity, uint256 totalActive, uint256 epoch)
        private
        view
        returns (RightsPricing.Market memory)
    {
        return RightsPricing.Market({
            rightsAtStart: day.rightsAtStart,
            mintedToday: day.mintedToday,
            rightsCap: RCAP,
            capacity: capacity,
            totalActiveStake: totalActive,
            totalFreeStaked: oracle.reportedFreeStake(epoch - 1)
        });
    }

    /// @dev Adds (or takes) `rights` to the trace's value from epoch `from` on (the trace's last
    ///      key is at most `from`: activations only ever write the next epoch). Values stay
    ///      within the rights out (< RCAP < 2^96), epochs below 2^32.
    function _move(HeadTrace.Trace storage trace, uint256 from, uint256 rights, bool add) private {
        uint256 latest = trace.latest();
        trace.push(SafeCast.toUint32(from), add ? latest + rights : latest - rights);
    }

    /// @dev `r` with its pending VCR moved to ready once their epoch has started.
    function _settled(Reclaim memory r, uint256 epoch) private pure returns (Reclaim memory) {
        if (r.pending != 0 && r.fromEpoch <= epoch) {
            r.ready += r.pending;
            r.pending = 0;
        }
        return r;
    }
}
