"""`ape run staker receipts ADDRESS`: a staker's activity receipts from the usage store, each
checked against the chain (signature of the named signer for this chain and oracle; the signer
holds ACTIVITY_SIGNER_ROLE now), exported as JSONL; every mistake one line, nothing written."""

import json

import pytest
from ape import chain

from vvv.oracle.receipts import Receipt, ReceiptSigner
from vvv.oracle.usage import UsageStore


@pytest.fixture
def receipts(system, deployer, accounts, alice, bob, staker_cli):
    """alice: epochs 20,001 and 20,003 signed by test account 9 (which holds the role), 20,002 by
    account 8 (which does not), and 20,004 claiming account 9 but signed by account 8; bob: 20,001."""
    o = system.oracle
    if not o.hasRole(o.ACTIVITY_SIGNER_ROLE(), accounts[9]):
        o.grantRole(o.ACTIVITY_SIGNER_ROLE(), accounts[9], sender=deployer)
    good, other = (ReceiptSigner(accounts[i], chain.chain_id, o.address) for i in (9, 8))
    forged = other.sign(alice.address, 20_004)
    made = {
        "alice": [good.sign(alice.address, 20_001), other.sign(alice.address, 20_002), good.sign(alice.address, 20_003),
                  Receipt(forged.account, 20_004, accounts[9].address.lower(), forged.signature)],
        "bob": [good.sign(bob.address, 20_001)],
    }  # fmt: skip
    store = UsageStore(staker_cli.usage_db, create=True)
    for r in made["alice"] + made["bob"]:
        assert store.add_receipt(r)
    return made


def run(staker_cli, *args):
    return staker_cli("receipts", *args, "--usage-db", staker_cli.usage_db)


def test_lists_a_stakers_receipts_checked_against_the_chain(staker_cli, receipts, alice, accounts, monkeypatch):
    result = run(staker_cli, alice.address, "--json")
    assert result.exit_code == 0, result.output + result.stderr
    monkeypatch.setenv("VVV_USAGE_DB", staker_cli.usage_db)  # the store from the oracle bot's variable
    assert staker_cli("receipts", alice.address, "--json").stdout == result.stdout
    out = json.loads(result.stdout)
    k9, k8 = accounts[9].address.lower(), accounts[8].address.lower()
    assert out["account"] == alice.address and out["export"] is None
    rows = [(r["epoch"], r["signer"], r["valid"], r["signer_has_role"]) for r in out["receipts"]]
    assert rows == [(20_001, k9, True, True), (20_002, k8, True, False), (20_003, k9, True, True),
                    (20_004, k9, False, True)]  # fmt: skip
    assert [r["signature"] for r in out["receipts"]] == ["0x" + r.signature.hex() for r in receipts["alice"]]
    assert all(r["account"] == alice.address.lower() for r in out["receipts"])
    between = json.loads(
        run(staker_cli, alice.address, "--from-epoch", "20002", "--to-epoch", "20003", "--json").stdout
    )
    assert [r["epoch"] for r in between["receipts"]] == [20_002, 20_003]
    text = run(staker_cli, alice.address).output
    assert f"activity receipts of {alice.address}" in text and "NO" in text


def test_exports_the_receipts_as_jsonl(staker_cli, receipts, bob, tmp_path):
    path = tmp_path / "bob.jsonl"
    result = run(staker_cli, bob.address, "--export", str(path))
    assert result.exit_code == 0, result.output + result.stderr
    assert f"exported 1 receipt(s) to {path}" in result.output
    lines = path.read_text().splitlines()
    assert [Receipt.from_json(json.loads(line)) for line in lines] == receipts["bob"]
    assert json.loads(lines[0]) == receipts["bob"][0].to_json()


def test_an_account_without_receipts(staker_cli, receipts, accounts):
    out = json.loads(run(staker_cli, accounts[3].address, "--json").stdout)
    assert out["receipts"] == []
    assert (
        f"no activity receipts of {accounts[3].address} in the usage store"
        in run(staker_cli, accounts[3].address).output
    )


def test_mistakes_are_one_line_and_write_nothing(staker_cli, receipts, alice, tmp_path):
    assert staker_cli.error("receipts", "nope", "--usage-db", staker_cli.usage_db) == "Error: not an address: 'nope'\n"
    # no default store: a ./usage.db that happens to be in the folder may be another one
    assert staker_cli.error("receipts", alice.address) == (
        "Error: give the gateway's usage store: --usage-db URL (or VVV_USAGE_DB)\n"
    )
    missing = f"sqlite:///{tmp_path / 'none.db'}"
    assert staker_cli.error("receipts", alice.address, "--usage-db", missing) == (
        f"Error: usage store {missing} does not exist\n"
    )
    assert not (tmp_path / "none.db").exists()
    assert staker_cli.error("receipts", alice.address, "--usage-db", staker_cli.usage_db, "--from-epoch", "5",
                            "--to-epoch", "4") == "Error: --from-epoch 5 is after --to-epoch 4\n"  # fmt: skip
    nowhere = tmp_path / "no" / "r.jsonl"
    assert staker_cli.error("receipts", alice.address, "--usage-db", staker_cli.usage_db, "--export", str(nowhere)) == (
        f"Error: --export {nowhere}: the folder {nowhere.parent} does not exist\n"
    )
    assert staker_cli.error(
        "receipts", alice.address, "--usage-db", staker_cli.usage_db, "--export", str(tmp_path)
    ) == (f"Error: --export {tmp_path} is a folder\n")
