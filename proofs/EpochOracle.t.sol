// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EpochOracle} from "../contracts/EpochOracle.sol";
import {IVVVStaking} from "../contracts/interfaces/IVVV.sol";
import {MerkleSumTree} from "../contracts/utils/MerkleSumTree.sol";
import {Allotment} from "../contracts/utils/Allotment.sol";
import {StakingMock, RightsMock} from "./StakingMock.sol";
import {SymTest} from "./Sym.sol";

/// @notice No challenge succeeds against an honest report (halmos). The real `EpochOracle`, over
///         a staking mock whose stakers are 1..4 symbolic accounts with symbolic free stakes and
///         symbolic locked stakes beside them; the oracle posts the honest sorted Merkle-sum
///         tree of exactly these accounts and their FREE stakes (depth 0..2); then each
///         challenge, called with symbolic proof inputs, reverts. The staking mock's locker is a
///         rights mock with symbolic activations, which the allotment checks read.
///
///         Assumptions: keccak256 is injective, inputs of different lengths never collide and no
///         output is 0 (halmos' model of keccak); stakes are in (0, 2^96); proof paths have at
///         most MAX_PATH siblings; the challenged epoch is the reported one (any other has no
///         report: `NoReport`). Where a check below fixes part of the input by `vm.assume`, the
///         inputs it leaves out are refused by one plain check of the contract, named there.
contract EpochOracleProofs is SymTest {
    uint256 internal constant DAY = 1 days;
    uint256 internal constant EPOCH = 20_000;
    uint256 internal constant CAPACITY = 181_480e18;
    /// @dev The report's capacity in `check_reportAllotment`: not the fallback's (CAPACITY).
    uint256 internal constant REPORT_CAPACITY = 200_000e18;
    uint256 internal constant MAX_PATH = 2;
    uint256 internal constant MAX_STAKE = 2 ** 96;
    address internal constant ADMIN = address(0xAD);
    address internal constant ORACLE = address(0x0AC1E);
    address internal constant GUARDIAN = address(0x6A4D);
    address internal constant TREASURY = address(0x7EA5);
    /// @dev Holds ACTIVITY_SIGNER_ROLE: halmos' ecrecover is an uninterpreted function, so a
    ///      symbolic signature may recover to this address: receipts for any account and epoch
    ///      are possible, and still no omission can be shown (every staker is in the set).
    address internal constant SIGNER = address(0x5163E);

    EpochOracle internal oracle;
    /// @dev Activations below 2^104 (ComputeRights' cap is below it).
    uint256 internal constant MAX_RIGHTS = 2 ** 104;

    StakingMock internal staking;
    RightsMock internal rights;

    function setUp() public {
        vm.warp((EPOCH + 1) * DAY + 1 hours); // EPOCH closed, its report's window open
        staking = new StakingMock();
        rights = new RightsMock();
        staking.setLocker(address(rights));
        oracle = _deployOracle(staking);
        bytes32 signerRole = oracle.ACTIVITY_SIGNER_ROLE();
        vm.prank(ADMIN);
        oracle.grantRole(signerRole, SIGNER);
    }

    /// @dev The one place that deploys the oracle (adapt it when the constructor changes):
    ///      reports from EPOCH on, any capacity change, a 2-hour dispute window.
    function _deployOracle(StakingMock staking_) internal returns (EpochOracle) {
        return new EpochOracle(
            IVVVStaking(address(staking_)),
            ADMIN,
            1 days,
            ORACLE,
            GUARDIAN,
            TREASURY,
            EPOCH,
            CAPACITY,
            [uint256(1), type(uint104).max, 10_000],
            2 hours
        );
    }

    /// @dev A symbolic value in [lo, hi], returned as a concrete number on each branch.
    function _choose(string memory name, uint256 lo, uint256 hi) internal returns (uint256) {
        uint256 value = svm.createUint256(name);
        vm.assume(lo <= value && value <= hi);
        for (uint256 v = lo; v < hi; ++v) {
            if (value == v) return v;
        }
        return hi;
    }

    /// @dev The honest report of EPOCH: 1..4 accounts, strictly ascending, with stakes in
    ///      (0, 2^96) that the staking mock returns; their tree built as SPEC.md says (leaves
    ///      in order, padded with empty leaves to 2^depth, inner node = keccak256(abi.encode(
    ///      leftHash, leftSum, rightHash, rightSum)), sum = leftSum + rightSum). Returns the count.
    function _postHonestReport() internal returns (uint256 count) {
        return _postHonestReport(_honestSet(), CAPACITY).count;
    }

    function _postHonestReport(HonestSet memory set, uint256 capacity) internal returns (HonestSet memory) {
        vm.prank(ORACLE);
        oracle.postReport(EPOCH, 0, capacity, set.root, set.total, set.count);
        return set;
    }

    /// @dev The honest stakers, their tree's root and sum, and each leaf's path (`_twoStakers`
    ///      only).
    struct HonestSet {
        uint256 count;
        address[] accounts;
        uint256[] stakes;
        bytes32 root;
        uint256 total;
        MerkleSumTree.Node[][] paths;
        uint256[] activated;
        uint256 totalActivated;
    }

    /// @dev 1..4 symbolic stakers (ascending, free stakes in (0, 2^96), each with a locked stake
    ///      in [0, 2^96) beside it) set in the staking mock, and the root and sum of their honest
    ///      tree of free stakes.
    function _honestSet() internal returns (HonestSet memory set) {
        uint256 count = _choose("count", 1, 4);
        address[] memory accounts = new address[](count);
        uint256[] memory stakes = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            accounts[i] = svm.createAddress("account");
            stakes[i] = svm.createUint256("stake");
            vm.assume(0 < stakes[i] && stakes[i] < MAX_STAKE);
            if (i > 0) vm.assume(accounts[i - 1] < accounts[i]);
        }
        staking.set(accounts, stakes);
        uint256[] memory locked = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            locked[i] = svm.createUint256("locked");
            vm.assume(locked[i] < MAX_STAKE);
        }
        staking.setLocked(locked);
        uint256 width = count == 1 ? 1 : count == 2 ? 2 : 4;
        bytes32[] memory hashes = new bytes32[](width);
        uint256[] memory sums = new uint256[](width);
        for (uint256 i = 0; i < count; ++i) {
            (hashes[i], sums[i]) = (MerkleSumTree.leafHash(accounts[i], stakes[i]), stakes[i]);
        }
        for (; width > 1; width /= 2) {
            for (uint256 i = 0; i < width / 2; ++i) {
                hashes[i] = keccak256(abi.encode(hashes[2 * i], sums[2 * i], hashes[2 * i + 1], sums[2 * i + 1]));
                sums[i] = sums[2 * i] + sums[2 * i + 1];
            }
        }
        set = HonestSet(
            count, accounts, stakes, hashes[0], sums[0], new MerkleSumTree.Node[][](0), new uint256[](0), 0
        );
    }

    function _siblings(string memory tag, uint256 length) internal returns (MerkleSumTree.Node[] memory siblings) {
        siblings = new MerkleSumTree.Node[](length);
        for (uint256 i = 0; i < length; ++i) {
            siblings[i] = MerkleSumTree.Node(svm.createBytes32(tag), svm.createUint256(tag));
        }
    }

    /// @dev A symbolic leaf proof with a path of `length` siblings.
    function _leaf(string memory tag, uint256 length) internal returns (EpochOracle.LeafProof memory leaf) {
        leaf.account = svm.createAddress(tag);
        leaf.stake = svm.createUint256(tag);
        leaf.position = svm.createUint256(tag);
        leaf.siblings = _siblings(tag, length);
    }

    /// @dev The call reverts.
    function _reverts(bytes memory data) internal {
        (bool ok,) = address(oracle).call(data);
        assert(!ok);
    }

    /// @notice Wrong stake: no leaf proof (path of 0..MAX_PATH siblings) rejects the report.
    function check_challengeStake_honest() public {
        _postHonestReport();
        _reverts(abi.encodeCall(EpochOracle.challengeStake, (EPOCH, _leaf("leaf", _choose("len", 0, MAX_PATH)))));
    }

    /// @notice Wrong total: no leaf proof (path of 0..MAX_PATH siblings) rejects the report.
    function check_challengeTotal_honest() public {
        _postHonestReport();
        _reverts(abi.encodeCall(EpochOracle.challengeTotal, (EPOCH, _leaf("leaf", _choose("len", 0, MAX_PATH)))));
    }

    /// @notice Wrong count (real leaf): no leaf proof (path of 0..MAX_PATH siblings) rejects it.
    function check_challengeCount_honest() public {
        _postHonestReport();
        _reverts(abi.encodeCall(EpochOracle.challengeCount, (EPOCH, _leaf("leaf", _choose("len", 0, MAX_PATH)))));
    }

    /// @notice Wrong count (empty leaf): no position and path (0..MAX_PATH siblings) rejects it.
    function check_challengeEmptyLeaf_honest() public {
        _postHonestReport();
        uint256 position = svm.createUint256("position");
        MerkleSumTree.Node[] memory siblings = _siblings("sibling", _choose("len", 0, MAX_PATH));
        _reverts(abi.encodeCall(EpochOracle.challengeEmptyLeaf, (EPOCH, position, siblings)));
    }

    /// @notice Wrong order: no two leaf proofs reject the report. Explored: paths of the same
    ///         length 0..MAX_PATH at positions p and p + 1; any other pair is refused by the
    ///         contract's `NotAdjacent` check.
    function check_challengeOrder_honest() public {
        _postHonestReport();
        uint256 length = _choose("len", 0, MAX_PATH);
        EpochOracle.LeafProof memory left = _leaf("left", length);
        EpochOracle.LeafProof memory right = _leaf("right", length);
        vm.assume(left.position < type(uint256).max && right.position == left.position + 1);
        _reverts(abi.encodeCall(EpochOracle.challengeOrder, (EPOCH, left, right)));
    }

    /// @notice Omission: no receipt (any 65-byte signature, which may recover to the activity
    ///         signer), account, activity epoch and bracket of 0..2 leaves rejects the report.
    ///         Explored: bracket paths of exactly the depth the count implies; any other length
    ///         is refused by the contract's `InvalidProof` length check; a bracket of 3 or more
    ///         leaves, or of 2 leaves not at positions p and p + 1, by its `NotOmitted` (only 0,
    ///         1 or 2 adjacent leaves can show an omission).
    function check_challengeOmission_honest() public {
        uint256 count = _postHonestReport();
        uint256 depth = MerkleSumTree.depth(count);
        EpochOracle.LeafProof[] memory bracket = new EpochOracle.LeafProof[](_choose("brackets", 0, 2));
        for (uint256 i = 0; i < bracket.length; ++i) {
            bracket[i] = _leaf("bracket", depth);
        }
        if (bracket.length == 2) vm.assume(bracket[1].position == bracket[0].position + 1);
        address account = svm.createAddress("account");
        uint256 activityEpoch = svm.createUint256("activityEpoch");
        bytes memory signature = svm.createBytes(65, "signature");
        _reverts(abi.encodeCall(EpochOracle.challengeOmission, (EPOCH, account, activityEpoch, signature, bracket)));
    }

    // ------------------------------------------------------------ the day's allotment sources

    /// @notice Not yet known (before the deadline, no report posted): for any input, the rights
    ///         activated to the account and nothing of the pool.
    function check_notYetKnownAllotment() public {
        HonestSet memory set = _twoStakers();
        vm.warp((EPOCH + 1) * DAY + svm.createUint(12, "seconds") % 1 hours);
        assert(oracle.allotmentSource(EPOCH + 1) == EpochOracle.Source.NotYetKnown);
        EpochOracle.LeafProof memory leaf = _leaf("leaf", _choose("len", 0, MAX_PATH));
        uint256 got = oracle.vcuAllocation(EPOCH + 1, leaf.account, leaf.stake, leaf.position, leaf.siblings);
        uint256 activated = rights.activatedAt(leaf.account, EPOCH + 1);
        assert(activated == 0 || activated == set.activated[0] || activated == set.activated[1]);
        assert(got == activated);
    }

    /// @dev Two stakers with concrete accounts and symbolic free stakes in (0, 2^96), set in the
    ///      staking mock with symbolic locked stakes beside them; their honest tree (depth 1) and
    ///      each leaf's path; symbolic rights
    ///      activated to each (below 2^104) and a symbolic total activated (below 2^104, above
    ///      or below any capacity), set in the rights mock.
    function _twoStakers() internal returns (HonestSet memory set) {
        set.count = 2;
        set.accounts = new address[](2);
        set.stakes = new uint256[](2);
        (set.accounts[0], set.accounts[1]) = (address(0xA11CE), address(0xB0B0B)); // ascending
        for (uint256 i = 0; i < 2; ++i) {
            set.stakes[i] = svm.createUint256("stake");
            vm.assume(0 < set.stakes[i] && set.stakes[i] < MAX_STAKE);
        }
        staking.set(set.accounts, set.stakes);
        uint256[] memory locked = new uint256[](2);
        for (uint256 i = 0; i < 2; ++i) {
            locked[i] = svm.createUint256("locked");
            vm.assume(locked[i] < MAX_STAKE);
        }
        staking.setLocked(locked); // whole stakes differ from free ones: only the free count
        set.activated = new uint256[](2);
        for (uint256 i = 0; i < 2; ++i) {
            set.activated[i] = svm.createUint256("activated");
            vm.assume(set.activated[i] < MAX_RIGHTS);
        }
        set.totalActivated = svm.createUint256("totalActivated");
        vm.assume(set.totalActivated < MAX_RIGHTS);
        rights.set(set.accounts, set.activated, set.totalActivated, set.totalActivated);
        bytes32[2] memory leaves = [
            MerkleSumTree.leafHash(set.accounts[0], set.stakes[0]),
            MerkleSumTree.leafHash(set.accounts[1], set.stakes[1])
        ];
        set.total = set.stakes[0] + set.stakes[1];
        set.root = keccak256(abi.encode(leaves[0], set.stakes[0], leaves[1], set.stakes[1]));
        set.paths = new MerkleSumTree.Node[][](2);
        for (uint256 i = 0; i < 2; ++i) {
            set.paths[i] = new MerkleSumTree.Node[](1);
            set.paths[i][0] = MerkleSumTree.Node(leaves[1 - i], set.stakes[1 - i]);
        }
    }

    /// @notice Report source, on one concrete timeline (the honest report of EPOCH, two stakers
    ///         with symbolic stakes, posted 10 minutes into EPOCH + 1, before the 1-hour
    ///         deadline, with a capacity other than the fallback's): `vcuAllocation` routes each
    ///         leaf with its path to SPEC's `activatedAt + stake * pool / totalActiveStake`
    ///         (`Allotment.share`, `AllotmentProofs`), `pool = capacity > A ? capacity - A : 0`
    ///         with the report's capacity and the total activated `A`. (Any other proof input
    ///         gets the rights alone: a path fixes its leaf, `MerkleSumTreeProofs`.)
    function check_reportAllotment() public {
        HonestSet memory set = _twoStakers();
        vm.warp((EPOCH + 1) * DAY + 10 minutes);
        oracle = _deployOracle(staking); // deployed now: its capacity history starts before the report
        _postHonestReport(set, REPORT_CAPACITY);
        assert(oracle.allotmentSource(EPOCH + 1) == EpochOracle.Source.Report);
        for (uint256 i = 0; i < 2; ++i) {
            uint256 vcu = oracle.vcuAllocation(EPOCH + 1, set.accounts[i], set.stakes[i], i, set.paths[i]);
            // stakes below 2^96: the casts drop nothing
            uint256 pool = REPORT_CAPACITY > set.totalActivated ? REPORT_CAPACITY - set.totalActivated : 0;
            assert(vcu == set.activated[i] + Allotment.share(uint128(set.stakes[i]), uint128(pool), uint128(set.total)));
        }
    }

    /// @notice Fallback source, on one concrete timeline (two stakers with symbolic stakes, no
    ///         report of EPOCH posted by the 1-hour deadline; the honest report, with another
    ///         capacity, posted late, 2 hours into EPOCH + 1): any account, whatever proof it
    ///         passes, gets SPEC's `activatedAt + freeStakeAt(account, snapshot) * pool /
    ///         totalFreeStakedAt(snapshot)` (`Allotment.share`), `pool = capacity > A ?
    ///         capacity - A : 0` with the day's fallback capacity, fixed at the day's start (the
    ///         initial one here), not the late report's.
    function check_fallbackAllotment() public {
        HonestSet memory set = _twoStakers();
        vm.warp((EPOCH + 1) * DAY + 2 hours);
        _postHonestReport(set, REPORT_CAPACITY);
        assert(oracle.allotmentSource(EPOCH + 1) == EpochOracle.Source.Fallback);
        assert(oracle.fallbackCapacity(EPOCH + 1) == CAPACITY);
        EpochOracle.LeafProof memory leaf = _leaf("leaf", 1);
        uint256 got = oracle.vcuAllocation(EPOCH + 1, leaf.account, leaf.stake, leaf.position, leaf.siblings);
        uint256 snapshot = oracle.snapshotTime(EPOCH);
        uint256 stake = staking.freeStakeAt(leaf.account, snapshot);
        assert(stake == 0 || stake == set.stakes[0] || stake == set.stakes[1]);
        uint256 activated = rights.activatedAt(leaf.account, EPOCH + 1);
        uint256 pool = CAPACITY > set.totalActivated ? CAPACITY - set.totalActivated : 0;
        assert(got == activated + Allotment.share(uint128(stake), uint128(pool), uint128(set.total)));
    }
}
