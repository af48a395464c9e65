"""The usage store keeps at most one activity receipt per account and epoch, on SQLite and on
Postgres (`usage_url`), and adds the receipts table to a store made before it."""

import pytest
from sqlalchemy import create_engine, inspect

from tests.passes import IN_PROCESS
from vvv.oracle.receipts import Receipt
from vvv.oracle.usage import ApiCall, UsageError, UsageStore, api_calls, metadata

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)

A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
SIGNER = "0x" + "5e" * 20


def receipt(account, epoch, fill=1):
    return Receipt(account, epoch, SIGNER, bytes([fill]) * 64 + b"\x1b")


def test_one_receipt_per_account_and_epoch(usage_url):
    store = UsageStore(usage_url, create=True)
    assert store.add_receipt(receipt(A, 20_001)) is True
    assert store.add_receipt(receipt(A, 20_001, fill=2)) is False  # another signature: not stored
    assert store.add_receipt(receipt(B, 20_001)) is True
    assert store.add_receipt(receipt(A, 20_002)) is True
    assert store.receipts(20_001, 20_001, A) == [receipt(A, 20_001)]
    assert store.receipts(20_001, 20_001, A)[0].signature == b"\x01" * 64 + b"\x1b"


def test_receipts_are_sorted_by_epoch_then_account_and_filtered(usage_url):
    store = UsageStore(usage_url, create=True)
    for r in (receipt(B, 7), receipt(A, 9), receipt(A, 7), receipt(B, 8), receipt(A, 2**62)):
        assert store.add_receipt(r)
    assert store.receipts(0, 2**63 - 1) == [receipt(A, 7), receipt(B, 7), receipt(B, 8), receipt(A, 9),
                                            receipt(A, 2**62)]  # fmt: skip
    assert store.receipts(8, 9) == [receipt(B, 8), receipt(A, 9)]
    assert store.receipts(0, 100, "0x" + "AA" * 20) == [receipt(A, 7), receipt(A, 9)]  # any case
    assert store.receipts(10, 100, B) == []


def test_a_malformed_receipt_is_refused_and_nothing_stored(usage_url):
    store = UsageStore(usage_url, create=True)
    with pytest.raises(UsageError, match="^receipt of 0xaa.* for epoch 5: not a 65-byte signature of an epoch >= 0$"):
        store.add_receipt(Receipt(A, 5, SIGNER, b"\x01" * 64))
    with pytest.raises(UsageError, match="^not an address: '0x12'$"):
        store.add_receipt(Receipt("0x12", 5, SIGNER, b"\x01" * 65))
    assert store.receipts(0, 10) == []


def test_opening_a_store_made_before_receipts_adds_the_table(usage_url):
    engine = create_engine(usage_url)
    metadata.create_all(engine, tables=[api_calls])  # the store as it was before receipts
    engine.dispose()
    call = ApiCall(1_728_000_000, A, "llama-3.3-70b", 10, 10, 0, 12 * 10**12, "req-1")
    store = UsageStore(usage_url)
    assert store.add([call]) == 1
    assert "activity_receipts" in inspect(store.engine).get_table_names()
    assert store.add_receipt(receipt(A, 20_000)) is True
    assert UsageStore(usage_url).receipts(20_000, 20_000) == [receipt(A, 20_000)]  # opens as current
    assert store.count() == 1
