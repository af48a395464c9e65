"""The deployment routine: wiring, the record file, and refusing to overwrite on live networks."""

import json

import ape
import pytest
import rlp
from eth_utils import keccak, to_checksum_address

import vvv.chain.deployment as deployment
from tests.helpers import DAY, at


@pytest.fixture
def fresh_time(chain):
    at((chain.pending_timestamp // DAY + 1) * DAY + 3_600)


def test_record_written(deployer, treasury, oracle, guardian, chain, tmp_path, fresh_time):
    system = deployment.deploy_system(
        deployer, treasury=treasury, oracle=oracle, guardian=guardian, deployments_dir=tmp_path
    )
    path = tmp_path / f"{deployment.network_name()}.json"
    data = json.loads(path.read_text())
    assert data["chain_id"] == chain.chain_id
    assert data["contracts"] == {
        "VVVToken": system.token.address,
        "VVVStaking": system.staking.address,
        "EpochOracle": system.oracle.address,
        "EmissionsController": system.emissions.address,
        # created by the oracle's constructor: the first CREATE of the oracle (nonce 1)
        "DataRequests": to_checksum_address(keccak(rlp.encode([bytes.fromhex(system.oracle.address[2:]), 1]))[12:]),
        "ComputeRights": system.compute_rights.address,
    }
    assert data["parameters"]["rights_cap"] == 500 * 10**18
    assert system.data_requests.oracle() == system.oracle.address
    assert system.data_requests.treasury() == treasury.address
    assert data["roles"]["treasury"] == treasury.address
    assert data["genesis_epoch"] == system.emissions.genesisEpoch()
    loaded = deployment.load_system(tmp_path)
    assert loaded.staking.address == system.staking.address
    assert loaded.compute_rights.address == system.compute_rights.address
    # a record made before ComputeRights was deployed loads without it
    del data["contracts"]["ComputeRights"]
    path.write_text(json.dumps(data))
    assert deployment.load_system(tmp_path).compute_rights is None


def test_compute_rights_is_the_stakings_locker(deployer, treasury, oracle, guardian, alice, accounts, fresh_time):
    # ComputeRights is deployed last, at the address the staking contract was given as its
    # locker (nonce + 4: token, staking, oracle, controller before it); nobody else can lock,
    # and the role can never be granted to anyone else.
    nonce = deployer.nonce
    system = deployment.deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian, record=False)
    staking, rights = system.staking, system.compute_rights
    assert rights.address == deployer.get_deployment_address(nonce + 4)
    assert staking.locker() == rights.address
    assert rights.staking() == staking.address and rights.oracle() == system.oracle.address
    assert rights.RCAP() == 500 * 10**18 and rights.QUOTA() == 25 * 10**18
    assert rights.hasRole(rights.GUARDIAN_ROLE(), guardian) and rights.defaultAdmin() == deployer.address
    role = staking.LOCKER_ROLE()
    assert staking.hasRole(role, rights)
    assert not any(staking.hasRole(role, who) for who in (*accounts, deployment.NO_LOCKER))
    with ape.reverts(staking.AccessControlUnauthorizedAccount, account=deployer, neededRole=role):
        staking.lock(alice, 10**18, sender=deployer)
    with ape.reverts(staking.AccessControlUnauthorizedAccount, account=deployer, neededRole=staking.getRoleAdmin(role)):
        staking.grantRole(role, deployer, sender=deployer)


@pytest.mark.parametrize("cap", [0, 19, 10**18 + 1, 2**104, "500"])
def test_a_bad_rights_cap_is_refused_before_anything_is_sent(deployer, treasury, oracle, guardian, cap):
    nonce = deployer.nonce
    with pytest.raises(deployment.DeploymentError) as err:
        deployment.deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian, rights_cap=cap)
    assert str(err.value) == f"rights cap {cap!r}: must be a positive multiple of 20 wei below 2**104"
    assert deployer.nonce == nonce


def test_live_network_record_is_not_overwritten(
    deployer, treasury, oracle, guardian, tmp_path, fresh_time, monkeypatch
):
    monkeypatch.setattr(deployment, "LOCAL_NETWORKS", set())  # behave as on a live network
    deployment.deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian, deployments_dir=tmp_path)
    assert (tmp_path / "ethereum-local.json").exists()
    nonce = deployer.nonce
    with pytest.raises(deployment.DeploymentError, match="already deployed"):
        deployment.deploy_system(
            deployer, treasury=treasury, oracle=oracle, guardian=guardian, deployments_dir=tmp_path
        )
    assert deployer.nonce == nonce  # nothing was sent
    deployment.deploy_system(
        deployer,
        treasury=treasury,
        oracle=oracle,
        guardian=guardian,
        deployments_dir=tmp_path,
        overwrite=True,
    )


def test_unknown_option_and_missing_record(deployer, treasury, oracle, guardian, tmp_path):
    with pytest.raises(deployment.DeploymentError, match="unknown deployment options: colour"):
        deployment.deploy_system(deployer, treasury=treasury, oracle=oracle, guardian=guardian, colour=1)
    with pytest.raises(deployment.DeploymentError, match="no deployment record"):
        deployment.load_system(tmp_path)


def test_overrides_reach_the_contracts(deployer, treasury, oracle, guardian, fresh_time, chain):
    g = chain.pending_timestamp // DAY + 5
    system = deployment.deploy_system(
        deployer,
        treasury=treasury,
        oracle=oracle,
        guardian=guardian,
        record=False,
        genesis_epoch=g,
        dispute_window=3_600,
        admin_delay=DAY,
        capacity=200_000 * 10**18,
        rights_cap=40,
    )
    assert system.compute_rights.RCAP() == 40 and system.compute_rights.QUOTA() == 2
    assert system.emissions.genesisEpoch() == g
    assert system.oracle.firstEpoch() == g
    assert system.oracle.disputeWindow() == 3_600
    assert system.oracle.lastCapacity() == 200_000 * 10**18
    assert system.staking.defaultAdminDelay() == DAY
