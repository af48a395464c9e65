// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Allotment} from "../contracts/utils/Allotment.sol";
import {SymTest} from "./Sym.sol";

/// @dev `Allotment.share` is internal: this contract calls it, so that a proof can see a revert.
contract AllotmentHarness {
    function share(uint128 stake, uint128 capacity, uint128 total) external pure returns (uint256) {
        return Allotment.share(stake, capacity, total);
    }
}

/// @notice Proofs about `Allotment.share`, the formula of both allotment sources (halmos), for
///         every `stake`, `capacity` and `total` below 2^128 (the types of its arguments). In
///         these proofs `a * b / c` is EVM arithmetic; with factors below 2^128 the product
///         does not wrap, so it is the exact floor of the rational `a * b / c`.
contract AllotmentProofs is SymTest {
    AllotmentHarness internal harness;

    function setUp() public {
        harness = new AllotmentHarness();
    }

    /// @dev `share` through the harness: whether it returned, and what.
    function _share(uint128 stake, uint128 capacity, uint128 total) internal view returns (bool ok, uint256 value) {
        bytes memory ret;
        (ok, ret) = address(harness).staticcall(abi.encodeCall(AllotmentHarness.share, (stake, capacity, total)));
        if (ok) value = abi.decode(ret, (uint256));
    }

    /// @notice The formula as SPEC.md writes it: `stake * capacity / total` rounded down, 0 when
    ///         `total` is 0; and `share` never reverts.
    function check_share_isSpecFormula(uint128 stake, uint128 capacity, uint128 total) public view {
        (bool ok, uint256 value) = _share(stake, capacity, total);
        assert(ok);
        if (total == 0) {
            assert(value == 0);
        } else {
            assert(value == (uint256(stake) * uint256(capacity)) / uint256(total));
        }
    }

    /// @notice A report-source allotment never exceeds `capacity * stake / totalActiveStake`
    ///         (in that order of the factors, as the issue writes it).
    function check_share_atMostCapacityTimesStakeOverTotal(uint128 stake, uint128 capacity, uint128 total)
        public
        view
    {
        vm.assume(total > 0);
        (, uint256 value) = _share(stake, capacity, total);
        assert(value <= (uint256(capacity) * uint256(stake)) / uint256(total));
    }
}
