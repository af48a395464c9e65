// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IVVVErrors} from "./interfaces/IVVVErrors.sol";
import {IVVVMintable} from "./interfaces/IVVV.sol";

/// @title VVVToken
/// @notice The Venice Token: a fixed genesis supply minted once at deployment, and new supply
///         only through the EmissionsController, which is fixed at construction and can never
///         be changed.
contract VVVToken is ERC20, ERC20Permit, IVVVErrors, IVVVMintable {
    /// @inheritdoc IVVVMintable
    uint256 public constant GENESIS_SUPPLY = 100_000_000e18;

    /// @notice The only address that can ever mint: the EmissionsController.
    address public immutable minter;

    /// @notice The caller of `mint` is not the minter.
    error NotMinter(address caller);

    /// @param genesisHolder Receives the genesis supply.
    /// @param minter_ The EmissionsController (its address is known before it is deployed).
    constructor(address genesisHolder, address minter_) ERC20("Venice Token", "VVV") ERC20Permit("Venice Token") {
        if (genesisHolder == address(0) || minter_ == address(0)) revert ZeroAddress();
        minter = minter_;
        _mint(genesisHolder, GENESIS_SUPPLY);
    }

    /// @inheritdoc IVVVMintable
    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert NotMinter(msg.sender);
        _mint(to, amount);
    }
}
