"""Activity receipts (SPEC, "Activity receipts"): the API side signs the EIP-712 message
`Activity(address account, uint256 epoch)` at an account's first metered call of an epoch, with a
key that holds `ACTIVITY_SIGNER_ROLE` on the EpochOracle (domain "VVV Activity", version "1",
the chain id, the oracle's address). A receipt lets anyone prove that a report left out an
account that used the API (`EpochOracle.challengeOmission`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from eth_account import Account
from eth_account.messages import encode_typed_data

DOMAIN_NAME = "VVV Activity"
DOMAIN_VERSION = "1"
TYPES = {"Activity": [{"name": "account", "type": "address"}, {"name": "epoch", "type": "uint256"}]}


class ReceiptError(ValueError):
    """A receipt that is malformed or not signed by the key it names."""


@dataclass(frozen=True)
class Receipt:
    """A signed receipt: `account` (lower case) used the API in `epoch`; `signature` is the
    65-byte r || s || v signature of `signer` (lower case)."""

    account: str
    epoch: int
    signer: str
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "epoch": self.epoch, "signer": self.signer,
                "signature": "0x" + self.signature.hex()}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Receipt:
        try:
            return cls(str(data["account"]).lower(), int(data["epoch"]), str(data["signer"]).lower(),
                       bytes.fromhex(str(data["signature"]).removeprefix("0x")))  # fmt: skip
        except (KeyError, TypeError, ValueError) as err:
            raise ReceiptError(f"malformed receipt: {err}") from None


def typed_data(account: str, epoch: int, chain_id: int, oracle: str) -> dict[str, Any]:
    """The EIP-712 message of a receipt, as `eth_account` and wallets take it."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            **TYPES,
        },
        "primaryType": "Activity",
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id, "verifyingContract": oracle},
        "message": {"account": account, "epoch": epoch},
    }


def signer_of(receipt: Receipt, chain_id: int, oracle: str) -> str:
    """The (lower-case) address that signed `receipt` for this chain and oracle."""
    message = encode_typed_data(full_message=typed_data(receipt.account, receipt.epoch, chain_id, oracle))
    try:
        return Account.recover_message(message, signature=receipt.signature).lower()
    except Exception as err:  # eth_account raises several kinds for a malformed signature
        raise ReceiptError(f"receipt of {receipt.account} for epoch {receipt.epoch}: bad signature ({err})") from None


def check(receipt: Receipt, chain_id: int, oracle: str) -> None:
    """Raise `ReceiptError` unless `receipt.signer` signed it for this chain and oracle."""
    if signer_of(receipt, chain_id, oracle) != receipt.signer:
        raise ReceiptError(f"receipt of {receipt.account} for epoch {receipt.epoch} is not signed by {receipt.signer}")


class MessageSigner(Protocol):
    """An account that signs an EIP-712 message given as an `eth_account` `SignableMessage`:
    an ape account (test accounts; keyfile accounts, which ask for their passphrase unless
    unlocked with autosign) or an `eth_account` `LocalAccount`."""

    @property
    def address(self) -> Any: ...

    def sign_message(self, message: Any) -> Any: ...


class ReceiptSigner:
    """Signs the receipts of one chain and oracle with `account`, whose address should hold
    `ACTIVITY_SIGNER_ROLE` on that oracle. Every signature is checked before it is returned."""

    def __init__(self, account: MessageSigner, chain_id: int, oracle: str) -> None:
        self.account = account
        self.address = str(account.address).lower()
        self.chain_id = chain_id
        self.oracle = oracle

    def sign(self, account: str, epoch: int) -> Receipt:
        """The receipt of `account` (lower-cased) for `epoch`."""
        message = encode_typed_data(full_message=typed_data(account, epoch, self.chain_id, self.oracle))
        signed = self.account.sign_message(message)
        if signed is None:
            raise ReceiptError(f"{self.address} declined to sign the receipt of {account} for epoch {epoch}")
        # ape returns a MessageSignature (encode_rsv), eth_account a SignedMessage (signature)
        signature = signed.encode_rsv() if hasattr(signed, "encode_rsv") else bytes(signed.signature)
        receipt = Receipt(account.lower(), epoch, self.address, bytes(signature))
        check(receipt, self.chain_id, self.oracle)
        return receipt
