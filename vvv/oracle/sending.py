"""Sending the oracle's transactions so that nothing is sent that the chain will refuse, every
transaction that may be on chain is known by its hash, and a stuck one is replaced.

The record of a send (`<epoch>.sent.json` beside the proofs file) is written after signing and
before broadcasting, so a run killed at any point leaves either no transaction at all or one
whose hash is recorded. On the next run, a recorded transaction that is still pending is
replaced (same nonce, higher fees); one the node does not know never landed, so the report is
rebuilt freely."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests
from ape import chain
from ape.api import ReceiptAPI
from ape.exceptions import (
    ContractLogicError,
    ProviderError,
    ProviderNotConnectedError,
    SignatureError,
    TransactionError,
)
from web3.exceptions import CannotHandleRequest, ProviderConnectionError, TransactionNotFound

# what a node that went away raises
NODE_ERRORS: tuple[type[BaseException], ...] = (
    ProviderError,
    ProviderNotConnectedError,
    requests.RequestException,
    ConnectionError,
    TimeoutError,
    CannotHandleRequest,  # web3, when every way to the node failed
    ProviderConnectionError,
)
FEE_BUMP_BPS = 12_500  # a replacement pays 125% of the fees it replaces (nodes ask for >= 110%)


class RefusedError(RuntimeError):
    """The chain would refuse the transaction (found by a gas estimate): nothing was sent."""


class SendError(RuntimeError):
    """A transaction failed at or after broadcast: it may be on chain (its hash is named)."""


@dataclass(frozen=True)
class Attempt:
    """One signed transaction: its hash, nonce and fees (wei)."""

    txn_hash: str
    nonce: int
    max_fee: int
    max_priority_fee: int


@dataclass
class SendRecord:
    """What was signed for one epoch's report, oldest first."""

    sender: str
    attempts: list[Attempt] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> SendRecord | None:
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
            return cls(data["sender"], [Attempt(**a) for a in data["attempts"]])
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise SendError(f"{path}: malformed send record ({err}); check its transactions by hand") from None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"sender": self.sender, "attempts": [asdict(a) for a in self.attempts]}))
        os.replace(tmp, path)

    def hashes(self) -> str:
        return ", ".join(a.txn_hash for a in self.attempts)


@dataclass(frozen=True)
class TxState:
    """What the node says of a recorded transaction."""

    attempt: Attempt
    state: str  # "mined", "reverted", "pending", "unknown"


def error_name(err: ContractLogicError) -> str:
    """`Name(args)` of a decoded custom error, else the revert message."""
    abi = getattr(err, "abi", None)
    if abi is not None:
        inputs = getattr(err, "inputs", {}) or {}
        return f"{abi.name}({', '.join(f'{k}={v}' for k, v in inputs.items())})"
    return str(err) or type(err).__name__


def is_node_error(err: BaseException) -> bool:
    """Whether `err` comes from a node that cannot be reached (ape sometimes wraps that in a
    `VirtualMachineError`: the chain of causes is searched)."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, NODE_ERRORS):
            return True
        seen.add(id(current))
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return False


def state_of(attempt: Attempt) -> TxState:
    web3 = chain.provider.web3
    try:
        receipt = web3.eth.get_transaction_receipt(attempt.txn_hash)
    except TransactionNotFound:
        receipt = None
    if receipt is not None and receipt.get("blockNumber") is not None:
        return TxState(attempt, "mined" if receipt["status"] == 1 else "reverted")
    try:
        web3.eth.get_transaction(attempt.txn_hash)
    except TransactionNotFound:
        return TxState(attempt, "unknown")
    return TxState(attempt, "pending")


def recorded_states(record: SendRecord | None) -> list[TxState]:
    return [state_of(a) for a in record.attempts] if record else []


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def estimate_or_refuse(method: Any, args: tuple, *, sender: Any, what: str, value: int = 0) -> int:
    """The gas `method(*args)` needs from `sender` (sending `value` wei); `RefusedError` naming the
    contract's error when the chain would refuse it (nothing is sent)."""
    extra = {"value": value} if value else {}
    try:
        return int(method.estimate_gas_cost(*args, sender=sender, **extra))
    except ContractLogicError as err:
        raise RefusedError(f"the chain would refuse {what}: {error_name(err)}; nothing was sent") from None


def send_plain(method: Any, args: tuple, *, sender: Any, what: str, value: int = 0) -> str:
    """Send a transaction that is safe to repeat (e.g. `distribute`, once only on chain), with
    `value` wei: refused when the gas estimate reverts (nothing sent); after that any failure may
    have left it on chain, and says so. Returns the transaction's hash."""
    estimate_or_refuse(method, args, sender=sender, what=what, value=value)
    extra = {"value": value} if value else {}
    try:
        receipt = method(*args, sender=sender, **extra)
    except ContractLogicError as err:
        txn = getattr(err, "txn", None)
        where = f"transaction {txn.txn_hash} reverted on chain" if isinstance(txn, ReceiptAPI) else "it failed"
        raise SendError(f"{what}: {where} ({error_name(err)}); check {sender.address}'s transactions") from None
    except Exception as err:
        if not is_node_error(err) and not isinstance(err, TransactionError):
            raise
        raise SendError(
            f"{what}: sent but not confirmed ({_first_line(err)}); it may be on chain: check {sender.address}'s "
            "transactions before retrying"
        ) from None
    return str(receipt.txn_hash)


def send_with_record(
    method: Any,
    args: tuple,
    *,
    sender: Any,
    record_path: Path,
    what: str,
    replace_nonce: int | None = None,
    replace_fees: tuple[int, int] | None = None,
    timeout: float = 120.0,
    max_replacements: int = 3,
    echo: Callable[[str], None] = print,
) -> str:
    """Send `method(*args)` from `sender`, recording each signed transaction in `record_path`
    before it is broadcast, and wait up to `timeout` seconds for it to be mined; a transaction
    not mined by then is replaced (same nonce, fees x1.25) up to `max_replacements` times.
    `replace_nonce`/`replace_fees`: a pending transaction of an earlier run to replace.
    Returns the hash of the mined transaction.

    Raises `RefusedError` (nothing sent) when the gas estimate reverts, `SendError` (it may be on
    chain; hashes named) for anything that fails after signing."""
    estimate_or_refuse(method, args, sender=sender, what=what)
    record = SendRecord.load(record_path) or SendRecord(str(sender.address))
    if replace_nonce is None:
        record = SendRecord(str(sender.address))  # a fresh send: earlier attempts are settled
    nonce, fees = replace_nonce, replace_fees
    for round_ in range(max_replacements + 1):
        txn = method.as_transaction(*args, sender=sender)
        if nonce is not None:
            txn.nonce = nonce
        if fees is not None:
            txn.max_fee = max(int(txn.max_fee or 0), fees[0] * FEE_BUMP_BPS // 10_000)
            txn.max_priority_fee = max(int(txn.max_priority_fee or 0), fees[1] * FEE_BUMP_BPS // 10_000)
        try:
            signed = sender.sign_transaction(txn)
        except SignatureError as err:
            raise RefusedError(f"the oracle's key did not sign {what} ({_first_line(err)}); nothing was sent") from None
        if signed is None:
            raise RefusedError(f"the oracle's key did not sign {what}; nothing was sent")
        attempt = Attempt("0x" + bytes(signed.txn_hash).hex(), int(signed.nonce), int(signed.max_fee or 0),
                          int(signed.max_priority_fee or 0))  # fmt: skip
        record.attempts.append(attempt)
        record.save(record_path)
        try:
            chain.provider.web3.eth.send_raw_transaction(signed.serialize_transaction())
        except Exception as err:  # the node's words; the transaction may or may not be in its pool
            text = _first_line(err)
            if "already known" not in text and "already imported" not in text:
                raise SendError(
                    f"{what}: broadcasting {attempt.txn_hash} (nonce {attempt.nonce}) failed ({text}); it may "
                    f"still be on chain: the next run checks the recorded transactions ({record.hashes()})"
                ) from None
        verb = "sent" if round_ == 0 and replace_nonce is None else "sent replacement"
        echo(f"{what}: {verb} {attempt.txn_hash} (nonce {attempt.nonce})")
        deadline = time.monotonic() + timeout
        while True:
            try:
                state = state_of(attempt).state
            except Exception as err:
                if not is_node_error(err):
                    raise
                raise SendError(
                    f"{what}: sent {attempt.txn_hash} (nonce {attempt.nonce}), then lost the node "
                    f"({_first_line(err)}); it may be on chain: the next run checks the recorded transactions "
                    f"({record.hashes()})"
                ) from None
            if state == "mined":
                return attempt.txn_hash
            if state == "reverted":
                raise SendError(f"{what}: transaction {attempt.txn_hash} reverted on chain; nothing more was sent")
            if time.monotonic() >= deadline:
                break
            time.sleep(0.25)
        nonce, fees = attempt.nonce, (attempt.max_fee, attempt.max_priority_fee)
    raise SendError(
        f"{what}: not mined after {max_replacements + 1} tries of {timeout:g} s (nonce {nonce}); it may still be "
        f"mined: the next run checks and replaces it ({record.hashes()})"
    )


__all__ = [
    "Attempt",
    "RefusedError",
    "SendError",
    "SendRecord",
    "TxState",
    "NODE_ERRORS",
    "error_name",
    "is_node_error",
    "estimate_or_refuse",
    "recorded_states",
    "send_plain",
    "send_with_record",
    "state_of",
]
