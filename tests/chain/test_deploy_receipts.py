"""The deployment grants the activity signer (the meter's key for activity receipts)
ACTIVITY_SIGNER_ROLE, from the admin, and records it; the oracle's key is refused as activity
signer before anything is sent. On local chains `ape run deploy` makes test account 9 the
activity signer (neither the deployer, 0, nor the oracle, 6)."""

import json

import pytest

from tests.cli_runner import invoke_script
from tests.helpers import DAY, at
from vvv.chain.deployment import DeploymentError, deploy_system, network_name


def test_deploy_system_grants_the_activity_signer_its_role(deployer, treasury, oracle, guardian, accounts):
    system = deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian,
                           activity_signer=accounts[9], record=False)  # fmt: skip
    o = system.oracle
    role = o.ACTIVITY_SIGNER_ROLE()
    assert o.hasRole(role, accounts[9])
    assert not o.hasRole(role, oracle) and not o.hasRole(role, deployer)
    assert system.record["roles"]["activity_signer"] == accounts[9].address


def test_without_an_activity_signer_nobody_holds_the_role(deployer, treasury, oracle, guardian, accounts):
    system = deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian, record=False)
    role = system.oracle.ACTIVITY_SIGNER_ROLE()
    assert not any(system.oracle.hasRole(role, a) for a in accounts[:10])
    assert system.record["roles"]["activity_signer"] is None


def test_the_oracle_is_refused_as_activity_signer_and_nothing_is_sent(deployer, treasury, oracle, guardian):
    nonce = deployer.nonce
    with pytest.raises(DeploymentError) as err:
        deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian,
                      activity_signer=oracle.address.lower(), record=False)  # fmt: skip
    assert str(err.value) == (f"the activity signer {oracle.address.lower()} is the oracle: receipts must be "
                              "signed by another key")  # fmt: skip
    with pytest.raises(DeploymentError, match="^activity signer: not an address: '0x12'$"):
        deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian, activity_signer="0x12",
                      record=False)  # fmt: skip
    with pytest.raises(DeploymentError, match="^an activity signer is granted its role by the admin: the admin must"):
        deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian, activity_signer=guardian,
                      admin=guardian.address, record=False)  # fmt: skip
    assert deployer.nonce == nonce


def test_deploy_script_makes_test_account_9_the_activity_signer(accounts, tmp_path, monkeypatch, project, chain):
    monkeypatch.setenv("VVV_DEPLOYMENTS_DIR", str(tmp_path))
    at((chain.pending_timestamp // DAY + 1) * DAY + 3_600)
    result = invoke_script("deploy", "--account", "TEST::0")
    assert result.exit_code == 0, result.output + result.stderr
    assert f"activity signer {accounts[9].address} (ACTIVITY_SIGNER_ROLE)\n" in result.output
    record = json.loads((tmp_path / f"{network_name()}.json").read_text())
    assert record["roles"]["activity_signer"] == accounts[9].address
    oracle = project.EpochOracle.at(record["contracts"]["EpochOracle"])
    assert oracle.hasRole(oracle.ACTIVITY_SIGNER_ROLE(), accounts[9])


def test_deploy_script_takes_an_activity_signer(accounts, tmp_path, monkeypatch, project):
    monkeypatch.setenv("VVV_DEPLOYMENTS_DIR", str(tmp_path))
    result = invoke_script("deploy", "--account", "TEST::0", "--activity-signer", accounts[3].address, "--json")
    assert result.exit_code == 0, result.output + result.stderr
    record = json.loads(result.stdout)
    assert record["roles"]["activity_signer"] == accounts[3].address
    oracle = project.EpochOracle.at(record["contracts"]["EpochOracle"])
    assert oracle.hasRole(oracle.ACTIVITY_SIGNER_ROLE(), accounts[3])
    assert not oracle.hasRole(oracle.ACTIVITY_SIGNER_ROLE(), accounts[9])


def test_deploy_script_refuses_the_oracle_as_activity_signer(accounts, tmp_path, monkeypatch):
    monkeypatch.setenv("VVV_DEPLOYMENTS_DIR", str(tmp_path))
    nonce = accounts[0].nonce
    result = invoke_script("deploy", "--account", "TEST::0", "--activity-signer", accounts[6].address)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (f"Error: the activity signer {accounts[6].address} is the oracle: receipts must be "
                             "signed by another key\n")  # fmt: skip
    assert accounts[0].nonce == nonce
    assert not list(tmp_path.iterdir())
