"""The meter signs one activity receipt per account and epoch, at the account's first charged
call of the epoch, with a key that holds ACTIVITY_SIGNER_ROLE on the deployed oracle; the
receipt is the one `EpochOracle.challengeOmission` accepts (recovered from `activityDigest`).
On SQLite and Postgres (`usage_url`)."""

import pytest
from ape import chain
from eth_account import Account

from vvv.chain.deployment import deploy_system
from vvv.oracle.meter import EpochAllotments, Meter, Refused
from vvv.oracle.pricing import load_prices
from vvv.oracle.receipts import Receipt, ReceiptSigner, check
from vvv.oracle.usage import UsageStore

E18 = 10**18
DAY = 86_400
A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
EPOCH = 20_100


@pytest.fixture(scope="module")
def signed_system(deployer, treasury, oracle, guardian, accounts):
    return deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian,
                         activity_signer=accounts[9], record=False)  # fmt: skip


@pytest.fixture
def signer(signed_system, accounts):
    return ReceiptSigner(accounts[9], chain.chain_id, signed_system.oracle.address)


def meter_of(url, epoch, signer):
    return Meter(UsageStore(url, create=True), load_prices(), EpochAllotments(epoch, 181_480 * E18, {A: 1_000 * E18},
                                                                               "report"), signer)  # fmt: skip


def on_chain_signer(system, receipt):
    """Who signed the receipt, by the contract's own digest."""
    digest = bytes(system.oracle.activityDigest(receipt.account, receipt.epoch))
    return Account._recover_hash(digest, signature=receipt.signature).lower()


def test_the_first_call_of_an_epoch_gets_the_receipt(signed_system, signer, accounts, usage_url):
    meter = meter_of(usage_url, EPOCH, signer)
    t = EPOCH * DAY + 100
    first = meter.charge_with_receipt(A, "llama-3.2-3b", t, 1, 0)
    receipt = first.receipt
    key = accounts[9].address.lower()
    assert (receipt.account, receipt.epoch, receipt.signer, len(receipt.signature)) == (A, EPOCH, key, 65)
    check(receipt, chain.chain_id, signed_system.oracle.address)
    assert on_chain_signer(signed_system, receipt) == key
    assert signed_system.oracle.hasRole(signed_system.oracle.ACTIVITY_SIGNER_ROLE(), key)
    assert first.call.vcu_cost == 150_000_000_000  # 1 input token x 0.15 VCU / 1M
    # later calls of the epoch get none, whichever method charges them
    assert meter.charge_with_receipt(A, "llama-3.2-3b", t + 1, 1, 0).receipt is None
    assert meter.charge(A, "llama-3.2-3b", t + 2, 1, 0).account == A
    assert meter.store.receipts(0, 2**63 - 1) == [receipt]
    # the next epoch: a new receipt
    later = meter_of(usage_url, EPOCH + 1, signer).charge_with_receipt(A, "llama-3.2-3b", t + DAY, 1, 0).receipt
    assert (later.account, later.epoch, later.signer) == (A, EPOCH + 1, key)
    assert on_chain_signer(signed_system, later) == key
    assert meter.store.receipts(0, 2**63 - 1) == [receipt, later]


def test_a_refused_call_gets_no_receipt(signer, usage_url):
    meter = meter_of(usage_url, EPOCH, signer)
    with pytest.raises(Refused):
        meter.charge_with_receipt(B, "llama-3.2-3b", EPOCH * DAY, 1, 0)  # B has no allotment
    with pytest.raises(Refused):
        meter.charge_with_receipt(A, "deepseek-r1-671b", EPOCH * DAY, 100_000_000, 100_000_000)  # 1,100 VCU
    assert meter.store.receipts(0, 2**63 - 1) == []
    assert meter.store.count() == 0
    # the first call that is charged gets it: the call of the same second after the refusals
    assert meter.charge_with_receipt(A, "llama-3.2-3b", EPOCH * DAY, 1, 0).receipt.epoch == EPOCH


def test_a_meter_without_a_signer_signs_nothing(usage_url):
    meter = meter_of(usage_url, EPOCH, None)
    assert meter.charge_with_receipt(A, "llama-3.2-3b", EPOCH * DAY, 1, 0).receipt is None
    assert meter.store.receipts(0, 2**63 - 1) == []
    assert meter.store.count() == 1


def test_an_eth_account_key_signs_too():
    key = Account.from_key("0x" + "5a" * 32)
    oracle = "0x" + "11" * 20
    receipt = ReceiptSigner(key, 1337, oracle).sign("0x" + "AB" * 20, 3)
    assert receipt == Receipt("0x" + "ab" * 20, 3, key.address.lower(), receipt.signature)
    check(receipt, 1337, oracle)
