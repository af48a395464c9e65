"""A local chain as a user runs one: the shell finds anvil after activating the venv, `make chain`
keeps deployments across restarts, and a chain that does not match (anvil's own chain id, a
chain that ape stopped with the last command) is one line, with nothing sent.

Each test runs `ape run ...` in its own process (stdout, exit codes and `--network` as a user
sees them), against a chain of its own: it does not use the session's chain, so it runs once,
in the anvil pass of `make test`."""

import importlib.util
import os
import shutil
import subprocess

import pytest

from tests.cli_runner import ROOT, ape_run, json_output, once_per_suite_run, one_error_line, plain_anvil, rpc
from tests.helpers import E18

# ape's test accounts (the test mnemonic), as anvil lists them
TEST_ACCOUNTS = [
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
    "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
]
# the first four contracts of TEST::0 on a fresh chain (nonces 0..3)
TOKEN, STAKING, ORACLE, CONTROLLER = (
    "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
    "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
)
# created by the oracle's constructor (the oracle's first CREATE, nonce 1)
DATA_REQUESTS = "0x75537828f2ce51be7289709686A69CbFDbB714F1"
COMPUTE_RIGHTS = "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9"  # TEST::0's fifth contract (nonce 4)


@pytest.fixture(autouse=True)
def once():
    once_per_suite_run()


def balance_of(uri: str, token: str, account: str) -> int:
    data = "0x70a08231" + account[2:].lower().rjust(64, "0")  # balanceOf(address)
    return int(rpc(uri, "eth_call", {"to": token, "data": data}, "latest"), 16)


def test_the_activated_venv_puts_anvil_and_cast_on_the_shells_path():
    """`. .venv/bin/activate` in a shell with a bare PATH: anvil and cast are found and run."""
    bare_path = os.pathsep.join([os.path.dirname(shutil.which("node")), "/usr/bin", "/bin"])
    out = subprocess.run(
        ["env", "-i", f"HOME={os.environ['HOME']}", f"PATH={bare_path}", "bash", "-c",
         ". .venv/bin/activate && command -v anvil cast && anvil --version && cast --version"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[:2] == [str(ROOT / ".venv" / "bin" / "anvil"), str(ROOT / ".venv" / "bin" / "cast")]
    assert lines[2] == "anvil Version: 1.7.1" and "cast Version: 1.7.1" in out.stdout


def test_setup_links_the_tools_again_and_keeps_a_real_file(tmp_path):
    spec = importlib.util.spec_from_file_location("write_env_pth", ROOT / "tools" / "write_env_pth.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert [p.name for p in tool.link_tools(tmp_path)] == ["anvil", "cast"]
    assert [p.name for p in tool.link_tools(tmp_path)] == ["anvil", "cast"]  # a second setup: same links
    assert (tmp_path / "anvil").readlink() == ROOT / "node_modules" / ".bin" / "anvil"
    (tmp_path / "cast").unlink()
    (tmp_path / "cast").write_text("mine")
    assert [p.name for p in tool.link_tools(tmp_path)] == ["anvil"]
    assert (tmp_path / "cast").read_text() == "mine"


def test_make_chain_keeps_a_funded_deployment_across_a_restart(tmp_path, local_chain):
    """The README's local flow: `make chain`, deploy with --fund, stake, status; stop the chain
    (Ctrl-C), start it again: the deployment, the balances and the stake are still there. Every
    `--json` output is the whole of stdout."""
    deployments, chain = tmp_path / "deployments", local_chain
    assert int(rpc(chain.uri, "eth_chainId"), 16) == 1337
    net = ("--network", chain.network)
    deployed = json_output(ape_run("deploy", *net, "--account", "TEST::0", "--fund", "10000", "--json",
                                   deployments=deployments))  # fmt: skip
    assert deployed["contracts"] == {"VVVToken": TOKEN, "VVVStaking": STAKING, "EpochOracle": ORACLE,
                                     "EmissionsController": CONTROLLER, "DataRequests": DATA_REQUESTS,
                                     "ComputeRights": COMPUTE_RIGHTS}  # fmt: skip
    assert deployed["funded"] == {"amount": "10000", "accounts": TEST_ACCOUNTS[1:]}
    assert (deployed["chain_id"], deployed["record"]) == (1337, str(deployments / "ethereum-local-node.json"))
    for account in TEST_ACCOUNTS[1:]:
        assert balance_of(chain.uri, TOKEN, account) == 10_000 * E18
    assert balance_of(chain.uri, TOKEN, TEST_ACCOUNTS[0]) == (100_000_000 - 9 * 10_000) * E18

    staked = json_output(ape_run("staker", "stake", "250", *net, "--account", "TEST::1", "--json",
                                 deployments=deployments))  # fmt: skip
    assert (staked["action"], staked["amount"], staked["used_permit"]) == ("stake", "250", True)
    status = ("staker", "status", TEST_ACCOUNTS[1], *net, "--json", "--reports-dir", tmp_path / "reports")
    before = json_output(ape_run(*status, deployments=deployments))
    assert (before["wallet"], before["staked"], before["total_staked"]) == ("9750", "250", "250")

    chain.stop()
    assert (chain.folder / "anvil-state.json").exists()
    chain.start()
    after = json_output(ape_run(*status, deployments=deployments))
    assert (after["wallet"], after["staked"], after["total_staked"]) == ("9750", "250", "250")
    assert balance_of(chain.uri, TOKEN, TEST_ACCOUNTS[2]) == 10_000 * E18


def test_anvil_with_its_own_chain_id_is_one_line_and_nothing_is_sent(tmp_path):
    deployments = tmp_path / "deployments"
    node = plain_anvil(tmp_path).start()
    try:
        net = ("--network", f"ethereum:local:{node.uri}")
        expected = (f"Error: the node at {node.uri} runs chain id 31337, but ape signs for chain id 1337 on "
                    "ethereum:local: start it with `make chain` (anvil --chain-id 1337); nothing was sent")  # fmt: skip
        for args in (("deploy", *net, "--account", "TEST::0", "--json"),
                     ("staker", "stake", "1", *net, "--account", "TEST::1", "--json")):  # fmt: skip
            assert one_error_line(ape_run(*args, deployments=deployments)) == expected
        assert rpc(node.uri, "eth_blockNumber") == "0x0"
        assert rpc(node.uri, "eth_getTransactionCount", TEST_ACCOUNTS[0], "latest") == "0x0"
    finally:
        node.stop()
    assert not deployments.exists()


def test_a_deployment_gone_with_its_chain_is_one_line(tmp_path):
    """On ethereum:local:foundry ape starts anvil for one command: the next command finds a
    record whose addresses hold no code, and says so in one line."""
    deployments = tmp_path / "deployments"
    net = ("--network", "ethereum:local:foundry")
    deployed = ape_run("deploy", *net, "--account", "TEST::0", "--json", deployments=deployments)
    assert json_output(deployed)["contracts"]["VVVToken"] == TOKEN
    assert deployed.stderr == (
        "note: ape starts a new chain for every command on ethereum:local:foundry; for one that persists: "
        "`make chain` and --network ethereum:local:node\n"
    )
    record = deployments / "ethereum-local-foundry.json"
    expected = (
        f"Error: {record} points at {TOKEN} (VVVToken), which has no code on this chain (was the chain "
        "restarted?); deploy again with `ape run deploy` (ape starts a new chain for every command on "
        "ethereum:local:foundry; for one that persists: `make chain` and --network ethereum:local:node)"
    )
    for args in (("status", *net, "--account", "TEST::1", "--json"), ("stake", "1", *net, "--account", "TEST::1")):
        assert one_error_line(ape_run("staker", *args, deployments=deployments)) == expected


def test_apes_log_goes_to_stderr_even_when_asked_for(tmp_path):
    """With `-v INFO` ape logs every transaction: on stderr, so that --json stays the whole stdout."""
    result = ape_run("deploy", "--network", "ethereum:local:foundry", "--account", "TEST::0", "--json", "-v", "INFO",
                     deployments=tmp_path)  # fmt: skip
    assert json_output(result)["contracts"]["EmissionsController"] == CONTROLLER
    assert f"SUCCESS:  Contract 'VVVToken' deployed to: {TOKEN}" in result.stderr.splitlines()
    # five contracts (ComputeRights last), and the admin's grant of ACTIVITY_SIGNER_ROLE to the
    # local receipt signer
    assert sum(line.startswith("INFO:     Confirmed 0x") for line in result.stderr.splitlines()) == 6


def test_funding_is_refused_on_a_live_network(tmp_path):
    """--fund on a network that is not local (a node that says it is Sepolia): one line, before
    anything is sent or written."""
    deployments = tmp_path / "deployments"
    node = plain_anvil(tmp_path, "--chain-id", "11155111").start()
    roles = [arg for role in ("--treasury", "--oracle", "--guardian") for arg in (role, TEST_ACCOUNTS[7])]
    try:
        result = ape_run("deploy", "--network", f"ethereum:sepolia:{node.uri}", "--account", "TEST::0", *roles,
                         "--fund", "10", deployments=deployments)  # fmt: skip
        assert one_error_line(result) == (
            "Error: --fund: test accounts are funded on local chains only, not on sepolia; nothing was sent"
        )
        assert rpc(node.uri, "eth_getTransactionCount", TEST_ACCOUNTS[0], "latest") == "0x0"
    finally:
        node.stop()
    assert not deployments.exists()


def test_make_chain_on_a_taken_port_says_why(tmp_path, local_chain):
    argv = ["make", "--no-print-directory", "chain", f"CHAIN_PORT={local_chain.port}", f"CHAIN_DIR={tmp_path / 'b'}"]
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "anvil stopped: Error: Address already in use (os error 98)" in out.stderr
