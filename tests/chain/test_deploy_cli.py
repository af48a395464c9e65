"""`ape run deploy` through ape's CLI on the session's chain, and the Base networks it targets."""

import json

from ape import networks

from tests.cli_runner import invoke_script
from tests.helpers import DAY, at
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
    assert f"recorded in deployments/{network_name()}.json" in result.output
    assert token.minter() == emissions.address
    assert token.balanceOf(accounts[0]) == token.totalSupply() == 100_000_000 * 10**18
    assert staking.token() == token.address
    assert oracle.lastCapacity() == 200_000_500_000_000_000_000_000
    # on a local chain the roles default to test accounts 7 (treasury), 6 (oracle), 4 (guardian)
    assert emissions.treasury() == accounts[7].address == record["roles"]["treasury"]
    assert oracle.hasRole(oracle.ORACLE_ROLE(), accounts[6]) and staking.hasRole(staking.GUARDIAN_ROLE(), accounts[4])
    assert record["genesis_epoch"] == emissions.genesisEpoch() == chain.blocks.head.timestamp // DAY + 1
    assert record["chain_id"] == chain.chain_id


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
