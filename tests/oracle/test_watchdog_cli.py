"""`ape run watchdog` as an operator runs it: one line per pending report (the lie and the
challenge's transaction), a dry run that sends nothing, one-line errors for a bad receipts file."""

import json

import pytest
from ape import chain
from eth_account import Account

from tests.cli_runner import invoke_script
from tests.helpers import DAY, E18, mine_at
from tests.oracle.test_watchdog import day_g, publish, receipt_key, watcher  # noqa: F401 (fixtures)
from vvv.oracle.receipts import Receipt, typed_data

REJECTED = 3


def watchdog_cli(*args):
    return invoke_script("watchdog", "--account", "TEST::8", *map(str, args))


@pytest.fixture
def omitted_carol(system, oracle, alice, bob, carol, day_g, g, receipt_key, tmp_path):  # noqa: F811
    """A report of epoch g that leaves carol out, and her receipt in a JSONL file."""
    data = typed_data(carol.address, g, chain.chain_id, system.oracle.address)
    signature = bytes(Account.sign_typed_data(receipt_key.private_key, full_message=data).signature)
    path = tmp_path / "receipts.jsonl"
    receipt = Receipt(carol.address.lower(), g, receipt_key.address.lower(), signature)
    path.write_text("\n" + json.dumps(receipt.to_json()) + "\n")
    publish(system, oracle, day_g["reports"], g, [(bob.address, 300 * E18), (alice.address, 100 * E18)])
    mine_at((g + 1) * DAY + 400)
    return path


def test_dry_run_then_challenge(system, watcher, carol, day_g, g, omitted_carol, deployments):  # noqa: F811
    nonce = watcher.nonce
    dry = watchdog_cli("--reports-dir", day_g["reports"], "--receipts", omitted_carol, "--dry-run")
    assert dry.exit_code == 0, dry.output + dry.stderr
    assert dry.output.startswith(f"epoch {g}: lie (omission): {carol.address.lower()} used the API in epoch {g}")
    assert dry.output.endswith("; would send challengeOmission\n") and dry.output.count("\n") == 1
    assert watcher.nonce == nonce and int(system.oracle.reportStatus(g)) == 1
    real = watchdog_cli("--reports-dir", day_g["reports"], "--receipts", omitted_carol)
    assert real.exit_code == 0, real.output + real.stderr
    assert "; sent challengeOmission: 0x" in real.output and real.output.count("\n") == 1
    assert watcher.nonce == nonce + 1 and int(system.oracle.reportStatus(g)) == REJECTED
    again = watchdog_cli("--reports-dir", day_g["reports"], "--receipts", omitted_carol)
    assert (again.exit_code, again.output) == (0, "no pending report\n")


def test_receipts_from_the_usage_store(system, watcher, carol, day_g, g, omitted_carol, deployments):  # noqa: F811
    # the meter's store keeps carol's receipt; the watchdog reads it there
    (receipt,) = (Receipt.from_json(json.loads(line)) for line in omitted_carol.read_text().splitlines() if line)
    assert day_g["store"].add_receipt(receipt)
    url = str(day_g["store"].engine.url)
    result = watchdog_cli("--reports-dir", day_g["reports"], "--usage-db", url)
    assert result.exit_code == 0, result.output + result.stderr
    assert result.output.startswith(f"epoch {g}: lie (omission): {carol.address.lower()} used the API in epoch {g}")
    assert "; sent challengeOmission: 0x" in result.output
    assert int(system.oracle.reportStatus(g)) == REJECTED


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"account": "0x01"}\n', "line 1: not a receipt (malformed receipt: 'epoch')"),
        ("\nnot json\n", "line 2: not a receipt (Expecting value: line 1 column 1 (char 0))"),
    ],
)
def test_a_bad_receipts_file_is_one_line_and_sends_nothing(system, watcher, day_g, omitted_carol, deployments,  # noqa: F811
                                                           tmp_path, content, expected, g):  # fmt: skip
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    nonce = watcher.nonce
    result = watchdog_cli("--reports-dir", day_g["reports"], "--receipts", path)
    assert result.exit_code == 1 and result.output == ""
    assert result.stderr == f"Error: {path}, {expected}\n"
    missing = watchdog_cli("--reports-dir", day_g["reports"], "--receipts", tmp_path / "none.jsonl")
    assert missing.exit_code == 1 and missing.stderr.startswith(f"Error: {tmp_path / 'none.jsonl'}: cannot read")
    assert missing.stderr.count("\n") == 1
    assert watcher.nonce == nonce and int(system.oracle.reportStatus(g)) == 1
