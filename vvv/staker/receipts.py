"""A staker's activity receipts (`receipts`): what the usage store keeps for an account, each
checked against the chain (is the signature the named signer's for this chain and oracle, and
does that signer hold `ACTIVITY_SIGNER_ROLE` now), and exported as JSONL for a challenge."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from vvv.chain.deployment import System
from vvv.oracle.receipts import Receipt, ReceiptError, signer_of
from vvv.oracle.usage import CREATE_HINT, StoreMissing, UsageStore, normalize_account

LAST_EPOCH = 2**63 - 1  # the store's epochs are 64-bit integers


class ReceiptsError(ValueError):
    """The receipts cannot be listed or exported as asked."""


@dataclass(frozen=True)
class CheckedReceipt:
    receipt: Receipt
    valid: bool  # signed by `receipt.signer` for this chain and oracle
    signer_has_role: bool  # the signer holds ACTIVITY_SIGNER_ROLE on the oracle now


def epoch_range(from_epoch: int | None, to_epoch: int | None) -> tuple[int, int]:
    """The epochs asked for (all of them by default); `ReceiptsError` when empty."""
    start, end = from_epoch or 0, LAST_EPOCH if to_epoch is None else to_epoch
    if start > end:
        raise ReceiptsError(f"--from-epoch {start} is after --to-epoch {end}")
    return start, end


def read_receipts(system: System, account: str, usage_db: str, start: int, end: int) -> list[CheckedReceipt]:
    """The account's receipts of epochs start..end in the store at `usage_db`, by epoch."""
    try:
        store = UsageStore(usage_db)
    except StoreMissing as err:  # a staker's command creates no store: no hint to create one
        raise ReceiptsError(str(err).replace(f" ({CREATE_HINT})", "")) from None
    receipts = store.receipts(start, end, normalize_account(account))
    oracle, chain_id = system.oracle, system.record["chain_id"]
    role = oracle.ACTIVITY_SIGNER_ROLE()
    holders: dict[str, bool] = {}
    checked = []
    for receipt in receipts:
        if receipt.signer not in holders:
            holders[receipt.signer] = bool(oracle.hasRole(role, receipt.signer))
        try:
            valid = signer_of(receipt, chain_id, oracle.address) == receipt.signer
        except ReceiptError:
            valid = False
        checked.append(CheckedReceipt(receipt, valid, holders[receipt.signer]))
    return checked


def check_export(path: Path) -> None:
    """`ReceiptsError` unless a file can be written at `path` (checked before anything is read)."""
    if not path.parent.is_dir():
        raise ReceiptsError(f"--export {path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise ReceiptsError(f"--export {path} is a folder")


def export_receipts(receipts: list[CheckedReceipt], path: Path) -> None:
    """Write the receipts to `path`, one `Receipt.to_json` object a line."""
    check_export(path)
    lines = "".join(json.dumps(c.receipt.to_json()) + "\n" for c in receipts)
    try:
        path.write_text(lines)
    except OSError as err:
        raise ReceiptsError(f"--export {path}: {err.strerror or err}") from None


def receipts_data(account: str, receipts: list[CheckedReceipt], export: Path | None) -> dict[str, Any]:
    return {
        "account": account,
        "receipts": [c.receipt.to_json() | {"valid": c.valid, "signer_has_role": c.signer_has_role} for c in receipts],
        "export": None if export is None else str(export),
    }


def show_receipts(account: str, receipts: list[CheckedReceipt], export: Path | None, console: Console) -> None:
    if not receipts:
        console.print(f"no activity receipts of {account} in the usage store", soft_wrap=True)
    else:
        table = Table(title=f"activity receipts of {account}")
        for name in ("epoch", "signer", "signature", "valid", "signer has the role now"):
            table.add_column(name, overflow="fold")
        for c in receipts:
            r = c.receipt
            table.add_row(str(r.epoch), r.signer, "0x" + r.signature.hex(), _yes(c.valid), _yes(c.signer_has_role))
        console.print(table)
    if export is not None:
        console.print(f"exported {len(receipts)} receipt(s) to {export}", soft_wrap=True)


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"
