"""Several meter PROCESSES charging the same accounts at once sign exactly one receipt per
account and epoch between them: the receipt is signed and stored in the charge's transaction,
under the (account, epoch) lock every process sees."""

import multiprocessing

import pytest
from eth_account import Account

from tests.passes import IN_PROCESS
from vvv.oracle.meter import EpochAllotments, Meter
from vvv.oracle.pricing import load_prices
from vvv.oracle.receipts import Receipt, ReceiptSigner, check
from vvv.oracle.usage import UsageStore

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)

E18 = 10**18
KEY = "0x" + "5a" * 32  # a throwaway key of this test (an eth_account key signs like an ape account)
CHAIN_ID, ORACLE = 1337, "0x" + "11" * 20
ACCOUNTS = ["0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20]
EPOCHS = [20_791, 20_792]
PROCESSES, REQUESTS = 4, 5


def charge_many(url, worker, barrier, results):
    """One meter process: REQUESTS requests per account and epoch, started with the others."""
    signer = ReceiptSigner(Account.from_key(KEY), CHAIN_ID, ORACLE)
    store = UsageStore(url, lock_timeout=120)  # SQLite's 5 s busy wait can starve a process under load
    meters = [Meter(store, load_prices(), EpochAllotments(e, 181_480 * E18, dict.fromkeys(ACCOUNTS, E18), "report"),
                    signer) for e in EPOCHS]  # fmt: skip
    barrier.wait()
    got = []
    for i in range(REQUESTS):
        for meter in meters:
            for account in ACCOUNTS:
                charged = meter.charge_with_receipt(account, "llama-3.2-3b", meter.epoch * 86_400 + i, 1, 0,
                                                    request_id=f"p{worker}-{meter.epoch}-{account}-{i}")  # fmt: skip
                if charged.receipt is not None:
                    got.append(charged.receipt.to_json())
    results.put(got)


def test_one_receipt_per_account_and_epoch_across_processes(usage_url):
    store = UsageStore(usage_url, create=True)
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no connection is shared
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=charge_many, args=(usage_url, w, barrier, results)) for w in range(PROCESSES)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=300)
        assert process.exitcode == 0
    returned = [Receipt.from_json(r) for _ in workers for r in results.get(timeout=10)]
    stored = store.receipts(0, 2**63 - 1)
    assert [(r.epoch, r.account) for r in stored] == [(e, a) for e in EPOCHS for a in ACCOUNTS]  # 6, sorted
    assert sorted(returned, key=lambda r: (r.epoch, r.account)) == stored  # each returned by one process
    for receipt in stored:
        check(receipt, CHAIN_ID, ORACLE)
    assert store.count() == PROCESSES * REQUESTS * len(EPOCHS) * len(ACCOUNTS) == 120
