"""The Silverback bot run as the README runs it: `silverback run oracle --network
ethereum:local:node` from the repository root, as a separate process, against an anvil this test
starts (`--chain-id 1337` on a free port: the network is given as `ethereum:local:<its URI>`, as
the README says for a chain on another port than ape-config.yaml's), with a keyfile signer
imported without a terminal and unlocked from APE_ACCOUNTS_<alias>_PASSPHRASE.

The system is deployed with `ape run deploy`; alice stakes 1,000 VVV before genesis and calls
the API for 18,148 VCU on day g (10 % of the 181,480 VCU capacity). The chain's clock is then
moved so that days g and g+1 are over: started, the bot posts both at once (utilization 1,000 and
0 bps, alice the one active staker). Moved a day on, its next check posts day g+2 and
distributes g and g+1, whose 2-hour dispute windows are over: stakers get 6,800 and 8,000 bps
of each day's emission (the curve through (0 %, 80 %) and (50 %, 20 %)), the treasury the rest.
Ctrl-C stops it cleanly. Without the passphrase in the environment it refuses to start (one
line); restarted with a proofs file that disagrees with the chain, it stops (one line).

It starts its own chain, so it does not use the suite's provider; it needs anvil and runs in
the anvil pass of the suite (`--network ethereum:local:foundry`)."""

import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ape import networks, project
from eth_account import Account
from web3 import Web3

from tests.cli_runner import stop_group
from tests.helpers import DAY, E18
from vvv.oracle.usage import ApiCall, UsageStore

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ANVIL = ROOT / "node_modules" / ".bin" / "anvil"
MNEMONIC = "test test test test test test test test test test test junk"  # anvil's and ape-config's
BOT_NAME = "vvv-oracle-e2e-test"
EMISSION = 14_000_000 * E18 // 365
STATUS_PENDING = 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, condition, timeout: float, log: Path | None = None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    tail = log.read_text()[-4000:] if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}\n{tail}")


def _stop(process: subprocess.Popen) -> None:
    """Ctrl-C; Silverback's event loop sees it when it next wakes, at the latest at the next minute."""
    stop_group(process, 80)


@pytest.fixture
def anvil(tmp_path):
    port = _free_port()
    process = subprocess.Popen(
        [str(ANVIL), "--chain-id", "1337", "--port", str(port), "--quiet"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    uri = f"http://127.0.0.1:{port}"
    try:
        web3 = Web3(Web3.HTTPProvider(uri))
        _wait("anvil", web3.is_connected, 30)
        yield uri, web3
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture
def env(tmp_path):
    """The bot's environment: its own ape data folder (accounts), deployments, store, proofs."""
    for name in ("ape", "deployments", "reports"):
        (tmp_path / name).mkdir()
    passphrase = secrets.token_hex(16)
    environ = {
        **os.environ,
        "APE_DATA_FOLDER": str(tmp_path / "ape"),
        "VVV_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
        "VVV_USAGE_DB": f"sqlite:///{tmp_path / 'usage.db'}",
        "VVV_REPORTS_DIR": str(tmp_path / "reports"),
        "SILVERBACK_BOT_NAME": BOT_NAME,
    }
    for name in ("SILVERBACK_NETWORK_CHOICE", "APE_NETWORK"):
        environ.pop(name, None)
    yield environ, passphrase
    shutil.rmtree(ROOT / ".silverback-sessions" / BOT_NAME, ignore_errors=True)


def readme_bot_command() -> tuple[dict[str, str], list[str]]:
    """The README's line that starts the bot: its environment assignments and its argv."""
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("As a daemon, the Silverback bot") :]
    line = next(x for x in block.splitlines() if "silverback run" in x)
    words = shlex.split(line, comments=True)
    assignments = dict(w.split("=", 1) for w in words if "=" in w and w.index("=") > 0 and w[0].isupper())
    argv = [w for w in words if w.split("=", 1)[0] not in assignments]
    assert argv[0] == "silverback"
    return assignments, [str(BIN / "silverback"), *argv[1:]]


def _import_signer(environ: dict, passphrase: str, alias: str = "oracle", index: int = 6) -> str:
    """`alias`: anvil's test account `index` (6: the deployment's oracle role), as an encrypted
    keyfile, imported with no terminal (key and passphrase on stdin)."""
    Account.enable_unaudited_hdwallet_features()
    key = Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").key.hex()
    code = (
        "import sys; from ape_accounts import import_account_from_private_key as imp; "
        "key, passphrase = sys.stdin.read().split(); print(imp(sys.argv[1], passphrase, key).address)"
    )
    done = subprocess.run([sys.executable, "-c", code, alias], input=f"{key} {passphrase}",
                          env=environ, cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def _contract(web3: Web3, name: str, address: str):
    abi = getattr(project, name).contract_type.model_dump(mode="json", by_alias=True)["abi"]
    return web3.eth.contract(address=address, abi=abi)


def _set_time(web3: Web3, timestamp: int) -> None:
    web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
    web3.provider.make_request("evm_mine", [])


@pytest.fixture(autouse=True)
def anvil_pass_only():
    if networks.provider.name == "test":
        pytest.skip("runs the bot against an anvil (an RPC endpoint) it starts: runs in the anvil pass of the suite")


def test_bot_started_by_silverback_posts_and_distributes(anvil, env, tmp_path):
    uri, web3 = anvil
    network = f"ethereum:local:{uri}"  # ethereum:local:node on this test's port
    environ, passphrase = env
    command = [str(BIN / "ape"), "run", "deploy", "--network", network, "--account", "TEST::0"]
    deploy = subprocess.run(command, env=environ, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    c = json.loads((tmp_path / "deployments" / "ethereum-local-node.json").read_text())["contracts"]
    token, staking = _contract(web3, "VVVToken", c["VVVToken"]), _contract(web3, "VVVStaking", c["VVVStaking"])
    oracle = _contract(web3, "EpochOracle", c["EpochOracle"])
    em = _contract(web3, "EmissionsController", c["EmissionsController"])
    deployer, alice, treasury = web3.eth.accounts[0], web3.eth.accounts[1], web3.eth.accounts[7]
    assert _import_signer(environ, passphrase) == web3.eth.accounts[6]
    g = em.functions.genesisEpoch().call()

    # alice stakes 1,000 VVV before genesis and uses 10 % of day g's capacity
    for call, sender in ((token.functions.transfer(alice, 1_000 * E18), deployer),
                         (token.functions.approve(staking.address, 1_000 * E18), alice),
                         (staking.functions.stake(1_000 * E18), alice)):  # fmt: skip
        assert web3.eth.wait_for_transaction_receipt(call.transact({"from": sender})).status == 1
    store = UsageStore(environ["VVV_USAGE_DB"], create=True)
    store.add([ApiCall(g * DAY + 100, alice, "llama-3.3-70b", 1, 1, 0, 18_148 * E18)])
    _set_time(web3, (g + 2) * DAY + 600)  # days g and g+1 are over; the bot is not running

    assignments, argv = readme_bot_command()
    assert assignments == {"SILVERBACK_SIGNER_ALIAS": "oracle"}
    assert argv[1:] == ["run", "oracle", "--network", "ethereum:local:node"]
    argv[-1] = network
    # without the passphrase in the environment: one line, no prompt, nothing sent
    refused = subprocess.run(argv, env={**environ, **assignments}, cwd=ROOT, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stderr.strip().splitlines()[-1] == (
        "Error: the passphrase of account 'oracle' is not set: the bot has no terminal to ask on; put it in the "
        "environment variable APE_ACCOUNTS_oracle_PASSPHRASE"
    )
    assert "Traceback" not in refused.stdout + refused.stderr
    assert oracle.functions.reportStatus(g).call() == 0

    unlocked = {**environ, **assignments, "APE_ACCOUNTS_oracle_PASSPHRASE": passphrase}
    log = tmp_path / "bot.log"
    with log.open("w") as out:
        bot = subprocess.Popen(argv, env=unlocked, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out,
                               stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        # catch-up at start-up: both closed days are posted before the bot's first scheduled check
        _wait("the start-up catch-up", lambda: "Startup complete" in log.read_text() or bot.poll() is not None,
              120, log)  # fmt: skip
        assert bot.poll() is None, log.read_text()
        reports = [oracle.functions.report(e).call() for e in (g, g + 1)]
        # (utilizationBps, capacity, activeRoot, totalActiveStake, activeCount, postedAt, finalAt, status)
        assert [(r[0], r[1], r[3], r[4], r[7]) for r in reports] == [
            (1_000, 181_480 * E18, 1_000 * E18, 1, STATUS_PENDING),
            (0, 181_480 * E18, 1_000 * E18, 1, STATUS_PENDING),
        ]
        assert (tmp_path / "reports" / "1337" / f"{g}.json").exists()
        assert em.functions.distributed(g).call() is False

        # a day later by the chain's clock: day g+2 is posted, g and g+1 (final) are distributed
        _set_time(web3, (g + 3) * DAY + 600)
        _wait("the distribution of days g and g+1 and the report of g+2",
              lambda: em.functions.distributed(g + 1).call() and oracle.functions.reportStatus(g + 2).call(),
              150, log)  # fmt: skip
        assert [em.functions.distributed(e).call() for e in (g, g + 1, g + 2)] == [True, True, False]
        assert oracle.functions.reportStatus(g + 2).call() == STATUS_PENDING
        assert token.functions.balanceOf(treasury).call() == sum(EMISSION - EMISSION * bps // 10_000
                                                                 for bps in (6_800, 8_000))  # fmt: skip
        assert bot.poll() is None, log.read_text()
    finally:
        _stop(bot)
    text = log.read_text()
    for noise in ("Traceback", "Cannot convert datapoint", "ERROR", "Using cached key"):
        assert noise not in text, text
    startup = text[: text.index("Startup complete")]
    assert f"epoch {g}: utilization 1,000 bps" in startup and f"epoch {g + 1}: utilization 0 bps" in startup, text
    assert "posted: 2" in startup, text
    assert f"epoch {g}: distributed by its final report" in text, text
    assert bot.returncode == 0 and "Shutdown started" in text, text  # a clean stop

    # restarted with a proofs file that disagrees with the chain: it stops at start-up, one line why
    path = tmp_path / "reports" / "1337" / f"{g + 2}.json"
    data = json.loads(path.read_text())
    data["report"]["utilization_bps"] = 5  # the chain has 0
    path.write_text(json.dumps(data))
    sent = web3.eth.get_transaction_count(web3.eth.accounts[6])
    stopped = subprocess.run(argv, env=unlocked, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=120)  # fmt: skip
    output = stopped.stdout + stopped.stderr
    assert stopped.returncode == 1 and "Traceback" not in output, output
    assert f"ERROR:    stopping: the proofs file of epoch {g + 2} does not match the report on chain" in output, output
    assert web3.eth.get_transaction_count(web3.eth.accounts[6]) == sent  # nothing sent
