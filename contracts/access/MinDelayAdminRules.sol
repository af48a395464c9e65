// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IVVVErrors} from "../interfaces/IVVVErrors.sol";

/// @title MinDelayAdminRules
/// @notice OpenZeppelin's `AccessControlDefaultAdminRules` (the default admin changes in two
///         steps, after a delay) with a floor under that delay: `MIN_ADMIN_DELAY`, 1 day, at
///         construction and at every later change. OpenZeppelin's `changeDefaultAdminDelay`
///         accepts any value, 0 included, which would let a stolen admin key hand the role over
///         at once.
abstract contract MinDelayAdminRules is AccessControlDefaultAdminRules, IVVVErrors {
    /// @notice Smallest delay of a default admin transfer, ever.
    uint256 public constant MIN_ADMIN_DELAY = 1 days;

    /// @param adminDelay Delay of the default admin transfer, in seconds (>= MIN_ADMIN_DELAY).
    /// @param admin The default admin.
    constructor(uint48 adminDelay, address admin) AccessControlDefaultAdminRules(adminDelay, admin) {
        _requireMinAdminDelay(adminDelay);
    }

    /// @dev The one path of every delay change (`changeDefaultAdminDelay` calls it).
    ///
    /// Requirements:
    /// - `newDelay` is at least `MIN_ADMIN_DELAY`, else `AdminDelayTooShort`.
    function _changeDefaultAdminDelay(uint48 newDelay) internal virtual override {
        _requireMinAdminDelay(newDelay);
        super._changeDefaultAdminDelay(newDelay);
    }

    function _requireMinAdminDelay(uint256 delay) private pure {
        if (delay < MIN_ADMIN_DELAY) revert AdminDelayTooShort(delay, MIN_ADMIN_DELAY);
    }
}
