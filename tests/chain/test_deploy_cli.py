"""`ape run deploy` through ape's CLI on the session's chain, and the Base networks it targets."""

import json

import pytest
from ape import networks

from tests.cli_runner import invoke_script
from tests.helpers import DAY, E18, at
from vvv.chain.deployment import network_name


def test_deploy_script_deploys_and_records_the_system(accounts, tmp_path, monkeypatch, project, chain):
    monkeypatch.setenv("VVV_DEPLOYMENTS_DIR", str(tmp_path))
    at((chain.pending_timestamp // DAY + 1) * DAY + 3_600)
    result = invoke_script("deploy", "--account", "TEST::0", "--capacity", "200000.5")
    assert result.exit_code == 0, result.output + result.stderr
    record = json.loads((tmp_path / f"{network_name()}.json").read_text())
    c = record["contracts"]
    token, staking = project.VVVToken.at(c["VVVToken"]), project.VVVStaking.at(c["VVVStaking"])
    oracle, emissions = (
        project.EpochOracle.at(c["EpochOracle"]),
        project.EmissionsController.at(c["EmissionsController"]),
    )
    assert f"recorded in {tmp_path / network_name()}.json" in result.output
    assert token.minter() == emissions.address
    assert token.balanceOf(accounts[0]) == token.totalSupply() == 100_000_000 * 10**18
    assert staking.token() == token.address
    assert oracle.lastCapacity() == 200_000_500_000_000_000_000_000
    # on a local chain the roles default to test accounts 7 (treasury), 6 (oracle), 4 (guardian)
    assert emissions.treasury() == accounts[7].address == record["roles"]["treasury"]
    assert oracle.hasRole(oracle.ORACLE_ROLE(), accounts[6]) and staking.hasRole(staking.GUARDIAN_ROLE(), accounts[4])
    assert record["genesis_epoch"] == emissions.genesisEpoch() == chain.blocks.head.timestamp // DAY + 1
    assert record["chain_id"] == chain.chain_id
    rights = project.ComputeRights.at(c["ComputeRights"])
    assert f"ComputeRights        {rights.address}" in result.output
    assert staking.locker() == rights.address
    assert (rights.staking(), rights.oracle(), rights.RCAP()) == (staking.address, oracle.address, 500 * E18)


def test_deploy_script_takes_a_rights_cap(tmp_path, monkeypatch, project):
    monkeypatch.setenv("VVV_DEPLOYMENTS_DIR", str(tmp_path))
    result = invoke_script("deploy", "--account", "TEST::0", "--rights-cap", "1000.00000000000000002")
    assert result.exit_code == 0, result.output + result.stderr
    record = json.loads((tmp_path / f"{network_name()}.json").read_text())
    assert project.ComputeRights.at(record["contracts"]["ComputeRights"]).RCAP() == 1_000 * E18 + 20
    assert record["parameters"]["rights_cap"] == 1_000 * E18 + 20


def test_deploy_funds_every_other_test_account(accounts, tmp_path, monkeypatch, project, chain):
    """--fund 10000: test accounts 1..9 get 10,000 VVV each from the genesis holder (the
    deployer, account 0); --json prints the record and the funding, and nothing else."""
    monkeypatch.setenv("VVV_DEPLOYMENTS_DIR", str(tmp_path))
    at((chain.pending_timestamp // DAY + 1) * DAY + 3_600)
    result = invoke_script("deploy", "--account", "TEST::0", "--fund", "10000", "--json")
    assert result.exit_code == 0, result.output + result.stderr
    out = json.loads(result.stdout)
    assert out["funded"] == {"amount": "10000", "accounts": [a.address for a in accounts[1:10]]}
    assert out["record"] == str(tmp_path / f"{network_name()}.json")
    assert out["contracts"] == json.loads((tmp_path / f"{network_name()}.json").read_text())["contracts"]
    token = project.VVVToken.at(out["contracts"]["VVVToken"])
    assert [token.balanceOf(a) for a in accounts[1:10]] == [10_000 * E18] * 9
    assert token.balanceOf(accounts[0]) == 99_910_000 * E18


@pytest.mark.parametrize(
    "args, message",
    [
        (("--fund", "-1"), "Error: --fund must be positive: '-1'"),
        (("--fund", "0"), "Error: --fund must be positive: '0'"),
        (("--fund", "ten"), "Error: --fund not a number: 'ten'"),
        # 9 x 11,111,112 = 100,000,008 VVV: more than the genesis supply
        (
            ("--fund", "11111112"),
            "Error: --fund: cannot give 9 test accounts 11111112 VVV each: the genesis supply "
            "is 100000000 VVV; nothing was sent",
        ),  # fmt: skip
        (
            ("--fund", "1", "--genesis-holder", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            "Error: --fund pays from the deployer's wallet: it cannot be used with another --genesis-holder",
        ),
    ],
)
def test_fund_errors_send_and_write_nothing(accounts, tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("VVV_DEPLOYMENTS_DIR", str(tmp_path))
    nonce = accounts[0].nonce
    result = invoke_script("deploy", "--account", "TEST::0", *args)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == message + "\n"
    assert accounts[0].nonce == nonce
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("cap", "message"),
    [
        ("0", "Error: --rights-cap must be positive: '0'"),
        ("0.000000000000000001", "Error: rights cap 1: must be a positive multiple of 20 wei below 2**104"),
    ],
)
def test_deploy_script_rejects_a_bad_rights_cap(accounts, tmp_path, monkeypatch, cap, message):
    monkeypatch.setenv("VVV_DEPLOYMENTS_DIR", str(tmp_path))
    nonce = accounts[0].nonce
    result = invoke_script("deploy", "--account", "TEST::0", "--rights-cap", cap)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message + "\n")
    assert accounts[0].nonce == nonce and not list(tmp_path.iterdir())


def test_deploy_script_rejects_a_bad_capacity(tmp_path, monkeypatch):
    monkeypatch.setenv("VVV_DEPLOYMENTS_DIR", str(tmp_path))
    result = invoke_script("deploy", "--account", "TEST::0", "--capacity", "-5")
    assert result.exit_code == 1 and "Error: capacity must be positive: '-5'" in result.stderr
    assert not list(tmp_path.iterdir())


def test_base_mainnet_and_sepolia_are_configured():
    base = networks.get_ecosystem("base")
    assert type(base).__module__.startswith("ape_base")  # the ape-base plugin's ecosystem
    for name, chain_id, uri in (("mainnet", 8453, "https://mainnet.base.org"),
                                ("sepolia", 84532, "https://sepolia.base.org")):  # fmt: skip
        network = base.get_network(name)
        assert (network.chain_id, network.get_provider("node").uri) == (chain_id, uri)


def test_the_local_node_is_the_chain_of_make_chain():
    """`--network ethereum:local:node` talks to `make chain` (anvil on 127.0.0.1:8545, chain id
    1337, which is what ape signs for on the local network)."""
    local = networks.get_ecosystem("ethereum").get_network("local")
    node = local.get_provider("node")
    assert (node.uri, node.chain_id) == ("http://127.0.0.1:8545", 1337)
