// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The few cheat codes the proofs use, declared here: halmos-cheatcodes is in no
///         registry this project installs from, and npm's `forge-std` is an old unofficial copy
///         (1.1.2). halmos answers calls to these two addresses itself; a plain EVM would not.
/// @dev halmos' svm cheat codes: each call returns a fresh symbolic value.
interface SVM {
    function createUint256(string calldata name) external returns (uint256);
    function createUint(uint256 bits, string calldata name) external returns (uint256);
    function createAddress(string calldata name) external returns (address);
    function createBytes32(string calldata name) external returns (bytes32);
    function createBytes(uint256 length, string calldata name) external returns (bytes memory);
}

/// @dev The hevm / forge cheat codes halmos supports and the proofs use.
interface Vm {
    function assume(bool condition) external pure;
    function prank(address sender) external;
    function warp(uint256 timestamp) external;
}

/// @notice Base of the proof contracts: `svm` for symbolic values, `vm` for assumptions,
///         pranks and time. halmos runs every `check_*` function for all values of its symbolic
///         inputs (function parameters included) and reports any input that fails an assert.
abstract contract SymTest {
    SVM internal constant svm = SVM(address(uint160(uint256(keccak256("svm cheat code")))));
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
}
