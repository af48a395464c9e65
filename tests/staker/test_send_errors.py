"""What the staker commands say when a send fails: "nothing was sent" only when that is true
(a revert found by the gas estimate); a revert on chain or an unconfirmed send names what may
be on chain, so that a retry does not stake twice."""

from unittest.mock import MagicMock

import pytest
from ape.api import ReceiptAPI
from ape.exceptions import ContractLogicError, ProviderError

from vvv.staker.transactions import Outcome, SendError, StakerError, _send


def raising(err):
    def method(*args, sender):
        raise err

    return method


def test_revert_found_by_the_gas_estimate_sent_nothing():
    with pytest.raises(
        StakerError, match=r"the transaction would revert \(ContractLogicError: NoRewards\); nothing was sent$"
    ):
        _send(Outcome("claim", "0xabc"), raising(ContractLogicError("NoRewards")), sender=None)


def test_revert_on_chain_names_the_transaction_and_what_was_sent_before():
    receipt = MagicMock(spec=ReceiptAPI)
    receipt.txn_hash = "0xfeed"
    outcome = Outcome("withdraw", "0xabc", transactions=["0xbeef"])
    with pytest.raises(
        SendError, match=r"transaction 0xfeed reverted on chain .*nothing more was sent; sent before it: 0xbeef$"
    ):
        _send(outcome, raising(ContractLogicError("RequestSettled", txn=receipt)), sender=None)


def test_unconfirmed_send_may_be_on_chain():
    with pytest.raises(
        SendError, match=r"may have been sent but was not confirmed .*check 0xabc's transactions before retrying$"
    ):
        _send(Outcome("stake", "0xabc"), raising(ProviderError("receipt timeout")), sender=None)


def test_a_sent_transaction_is_recorded():
    tx = MagicMock()
    tx.txn_hash = "0x01"
    outcome = Outcome("claim", "0xabc")
    assert _send(outcome, lambda *args, sender: tx, sender=None) is tx
    assert outcome.transactions == ["0x01"]
