// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EmissionsController} from "../contracts/EmissionsController.sol";
import {IEpochOracle, IVVVMintable, IVVVStaking} from "../contracts/interfaces/IVVV.sol";
import {FinalReportOracle, MintRecorder, NotifyRecorder} from "./EmissionsMocks.sol";
import {SymTest} from "./Sym.sol";

/// @notice Proofs about the emission split of `EmissionsController` (halmos), for every
///         utilization 0..10,000 bps: the real `distribute` against recording mocks of the token,
///         the staking contract and the oracle (whose report of the epoch is final).
contract EmissionsControllerProofs is SymTest {
    uint256 internal constant DAY = 1 days;
    uint256 internal constant GENESIS = 100;
    address internal constant TREASURY = address(0x7EA5);
    address internal constant ADMIN = address(0xAD);

    EmissionsController internal controller;
    MintRecorder internal token;
    NotifyRecorder internal staking;
    FinalReportOracle internal oracle;

    function setUp() public {
        vm.warp(GENESIS * DAY - 1);
        token = new MintRecorder();
        staking = new NotifyRecorder();
        oracle = new FinalReportOracle();
        controller = new EmissionsController(
            IVVVMintable(address(token)),
            IVVVStaking(address(staking)),
            IEpochOracle(address(oracle)),
            TREASURY,
            ADMIN,
            1 days,
            GENESIS
        );
    }

    /// @dev SPEC.md's stakers' share of the default curve through (0, 8000), (5000, 2000),
    ///      (10000, 8000), written as the SPEC writes it.
    function _specShare(uint256 u) internal pure returns (uint256) {
        return u <= 5000 ? 8000 - 6000 * u / 5000 : 2000 + 6000 * (u - 5000) / 5000;
    }

    /// @dev `distribute(epoch)` at utilization `u`: what went to staking and to the treasury.
    function _distribute(uint256 epoch, uint256 u) internal returns (uint256 toStakers, uint256 toTreasury) {
        oracle.set(u);
        controller.distribute(epoch);
        toStakers = token.minted(address(staking));
        toTreasury = token.minted(TREASURY);
        assert(staking.notified() == toStakers); // what is minted to staking is streamed
    }

    /// @notice Default curve: `stakerShareBps(u)` is SPEC's piecewise formula for every
    ///         u in [0, 10000], and above 10000 it reverts.
    function check_defaultCurve_matchesSpec(uint256 u) public {
        vm.warp((GENESIS + 1) * DAY);
        if (u > 10_000) {
            try controller.stakerShareBps(u) returns (uint256) {
                assert(false);
            } catch {}
            return;
        }
        assert(controller.stakerShareBps(u) == _specShare(u));
    }

    /// @notice Default curve: `distribute` of a final report with any utilization u in
    ///         [0, 10000] mints `epochEmission * share(u) / 10000` (floor) to staking and the
    ///         rest to the treasury: the two add up to `epochEmission()` exactly.
    function check_defaultCurve_splitAddsUp(uint256 u) public {
        vm.assume(u <= 10_000);
        vm.warp((GENESIS + 1) * DAY);
        (uint256 toStakers, uint256 toTreasury) = _distribute(GENESIS, u);
        uint256 emission = controller.epochEmission();
        assert(toStakers == emission * _specShare(u) / 10_000);
        assert(toStakers + toTreasury == emission);
    }
}
