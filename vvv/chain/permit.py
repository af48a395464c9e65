"""EIP-2612 permits for `VVVStaking.stakeWithPermit`, signed through the ape account (so a
keyfile account asks for its passphrase and shows what it signs; no key is ever handled here)."""

from __future__ import annotations

from typing import Any

from eip712.messages import EIP712Message
from eth_pydantic_types import abi


class Permit(EIP712Message):
    owner: abi.address
    spender: abi.address
    value: abi.uint256
    nonce: abi.uint256
    deadline: abi.uint256


class PermitRefused(RuntimeError):
    """The account did not sign the permit."""


def sign_permit(token: Any, owner: Any, spender: str, value: int, deadline: int) -> tuple[int, bytes, bytes]:
    """(v, r, s) of a permit letting `spender` take `value` of `owner`'s tokens until `deadline`.
    The domain is read from the token itself (ERC-5267 `eip712Domain`)."""
    domain = token.eip712Domain()
    message = Permit(
        owner=owner.address,
        spender=str(spender),
        value=value,
        nonce=token.nonces(owner.address),
        deadline=deadline,
        eip712_name=domain.name,
        eip712_version=domain.version,
        eip712_chainId=domain.chainId,
        eip712_verifyingContract=domain.verifyingContract,
    )
    signature = owner.sign_message(message)
    if signature is None:
        raise PermitRefused("the account did not sign the permit; nothing was sent")
    # ape's signers build r and s from integers: one with leading zero bytes comes out shorter
    # than 32 bytes, and a bytes32 argument is padded on the right; pad on the left instead
    return signature.v, _word(signature.r), _word(signature.s)


def _word(value: bytes) -> bytes:
    raw = bytes(value)
    if len(raw) > 32:
        raise ValueError(f"signature part longer than 32 bytes: 0x{raw.hex()}")
    return raw.rjust(32, b"\x00")
