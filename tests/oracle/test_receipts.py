"""Activity receipts: the message signed off-chain is the one `EpochOracle` checks (its
`activityDigest`, an independent implementation), and a receipt names its true signer."""

import pytest
from ape import chain
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data

from vvv.oracle.receipts import Receipt, ReceiptError, check, signer_of, typed_data

KEY = "0x" + "5a" * 32  # a throwaway key of this test


def test_the_signed_digest_is_the_contracts(system, alice):
    for epoch in (0, 1, 20_787, 2**255):
        data = typed_data(alice.address, epoch, chain.chain_id, system.oracle.address)
        digest = _hash_eip191_message(encode_typed_data(full_message=data))
        assert digest == bytes(system.oracle.activityDigest(alice.address, epoch))


def test_a_receipt_names_its_signer():
    signer = Account.from_key(KEY)
    oracle = "0x" + "11" * 20
    data = typed_data("0x" + "22" * 20, 7, 1337, oracle)
    signed = Account.sign_message(encode_typed_data(full_message=data), KEY)
    receipt = Receipt("0x" + "22" * 20, 7, signer.address.lower(), bytes(signed.signature))
    assert signer_of(receipt, 1337, oracle) == signer.address.lower()
    check(receipt, 1337, oracle)
    assert Receipt.from_json(receipt.to_json()) == receipt
    with pytest.raises(ReceiptError, match="is not signed by"):
        check(receipt, 31337, oracle)  # another chain: another message
    with pytest.raises(ReceiptError, match="is not signed by"):
        check(Receipt(receipt.account, 8, receipt.signer, receipt.signature), 1337, oracle)
