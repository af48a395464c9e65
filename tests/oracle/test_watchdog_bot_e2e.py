"""The watchdog bot run as docs/oracle.md runs it: `silverback run watchdog --network ...` from
the repository root, as a separate process against an anvil this test starts (the fixtures and
helpers of tests/oracle/test_bot_e2e.py), with a keyfile signer unlocked from
APE_ACCOUNTS_watchdog_PASSPHRASE. The oracle posts a report of day g whose total (999 VVV) is not
its tree's (alice's 1,000 VVV) and publishes the file; the bot's start-up check sends
challengeTotal and the report is rejected. Runs in the anvil pass of the suite."""

import json
import subprocess

import httpx

from tests.cli_runner import free_port
from tests.helpers import DAY, E18
from tests.oracle.test_bot_e2e import (  # noqa: F401 (fixtures)
    BIN,
    MNEMONIC,
    ROOT,
    _contract,
    _import_signer,
    _set_time,
    _stop,
    _wait,
    anvil,
    anvil_pass_only,
    env,
)
from tests.sumtree_reference import ref_levels

REJECTED = 3


def test_watchdog_bot_rejects_a_wrong_total(anvil, env, tmp_path):  # noqa: F811
    uri, web3 = anvil
    network = f"ethereum:local:{uri}"
    environ, passphrase = env
    command = [str(BIN / "ape"), "run", "deploy", "--network", network, "--account", "TEST::0"]
    deploy = subprocess.run(command, env=environ, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    c = json.loads((tmp_path / "deployments" / "ethereum-local-node.json").read_text())["contracts"]
    token, staking = _contract(web3, "VVVToken", c["VVVToken"]), _contract(web3, "VVVStaking", c["VVVStaking"])
    oracle = _contract(web3, "EpochOracle", c["EpochOracle"])
    em = _contract(web3, "EmissionsController", c["EmissionsController"])
    deployer, alice, oracle_key = web3.eth.accounts[0], web3.eth.accounts[1], web3.eth.accounts[6]
    watchdog = _import_signer(environ, passphrase, alias="watchdog", index=8)  # no role
    assert watchdog == web3.eth.accounts[8]
    g = em.functions.genesisEpoch().call()
    for call, sender in ((token.functions.transfer(alice, 1_000 * E18), deployer),
                         (token.functions.approve(staking.address, 1_000 * E18), alice),
                         (staking.functions.stake(1_000 * E18), alice)):  # fmt: skip
        assert web3.eth.wait_for_transaction_receipt(call.transact({"from": sender})).status == 1
    _set_time(web3, (g + 1) * DAY + 300)

    # the lying oracle: alice's leaf (1,000 VVV), a total of 999 VVV
    root = ref_levels([(alice, 1_000 * E18)])[-1][0][0]
    capacity = oracle.functions.lastCapacity().call()
    post = oracle.functions.postReport(g, 0, capacity, root, 999 * E18, 1).transact({"from": oracle_key})
    assert web3.eth.wait_for_transaction_receipt(post).status == 1
    report = {
        "chain_id": 1337, "oracle": oracle.address, "epoch": g, "snapshot": (g + 1) * DAY - 1, "utilization_bps": 0,
        "consumed_vcu": "0", "capacity_of_epoch": str(capacity), "capacity": str(capacity),
        "active_root": "0x" + root.hex(), "total_active_stake": str(999 * E18), "active_count": 1,
    }  # fmt: skip
    (tmp_path / "reports" / "1337").mkdir()
    (tmp_path / "reports" / "1337" / f"{g}.json").write_text(json.dumps({
        "format": "vvv-sorted-merkle-sum-v1", "leafEncoding": ["address", "uint256"], "report": report,
        "leaves": [[alice, str(1_000 * E18)]],
    }))  # fmt: skip
    assert oracle.functions.reportStatus(g).call() == 1

    metrics_port = free_port()
    unlocked = {**environ, "SILVERBACK_SIGNER_ALIAS": "watchdog", "APE_ACCOUNTS_watchdog_PASSPHRASE": passphrase,
                "VVV_METRICS_PORT": str(metrics_port)}  # fmt: skip
    argv = [str(BIN / "silverback"), "run", "watchdog", "--network", network]
    log = tmp_path / "bot.log"
    with log.open("w") as out:
        bot = subprocess.Popen(argv, env=unlocked, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out,
                               stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        _wait("the start-up check", lambda: "Startup complete" in log.read_text() or bot.poll() is not None, 120, log)
        assert bot.poll() is None, log.read_text()
        assert oracle.functions.reportStatus(g).call() == REJECTED
        assert web3.eth.get_transaction_count(watchdog) == 1
        # its Prometheus metrics say what the start-up check did: one pending report, one lie, one
        # challenge sent
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        for line in ("vvv_watchdog_pending 1.0", "vvv_watchdog_lies_total 1.0", "vvv_watchdog_sent_total 1.0",
                     "vvv_watchdog_runs_total 1.0"):  # fmt: skip
            assert line in scraped.splitlines(), scraped
    finally:
        _stop(bot)
    text = log.read_text()
    assert f"epoch {g}: lie (total): the leaves add up to {1_000 * E18}, the report says {999 * E18}; sent " \
           "challengeTotal: 0x" in text, text  # fmt: skip
    for noise in ("Traceback", "Cannot convert datapoint", "ERROR", "Using cached key"):
        assert noise not in text, text
    assert bot.returncode == 0 and "Shutdown started" in text, text
