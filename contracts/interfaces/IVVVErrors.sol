// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IVVVErrors
/// @notice Errors that several VVV contracts raise, declared once (as OpenZeppelin's
///         draft-IERC6093 does for the token standards), with the values that explain them.
interface IVVVErrors {
    /// @notice An address that must be set is zero.
    error ZeroAddress();
    /// @notice A default-admin transfer delay of `adminDelay` seconds is below `minimum`.
    error AdminDelayTooShort(uint256 adminDelay, uint256 minimum);
}
