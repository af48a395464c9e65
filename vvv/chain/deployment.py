"""Deploy and wire the whole system; record the addresses in `deployments/<network>.json`.

Order (one account, consecutive nonces): token, staking, oracle (which creates its
DataRequests contract), controller, ComputeRights. The token's minter and the staking
contract's notifier are the controller, and the staking contract's locker is ComputeRights,
all fixed in their constructors, so the controller's and the rights contract's addresses are
computed from the deployer's nonce beforehand and checked after. Then, if there is an
activity signer (the meter's key for activity receipts), the admin grants
it `ACTIVITY_SIGNER_ROLE` on the oracle.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ape import chain, networks, project
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from ape.exceptions import ContractNotFoundError
from eth_utils import is_address

from vvv.chain.epochs import epoch_of
from vvv.chain.units import AmountError, format_amount, parse_amount

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENTS_DIR = ROOT / "deployments"
DAY = 86_400
LOCAL_NETWORKS = {"local"}
GENESIS_SUPPLY = 100_000_000 * 10**18  # minted to the genesis holder by VVVToken's constructor
EPHEMERAL_PROVIDERS = {"test", "foundry"}  # chains that ape starts for one command and stops after it
NO_LOCKER = "0x" + "00" * 20  # VVVStaking's locker when no stake may ever be locked
RIGHTS_QUOTA_DIVISOR = 20  # ComputeRights: QUOTA = RCAP / 20, so RCAP is a multiple of 20 wei
MAX_RIGHTS_CAP = 2**104 - 1  # ComputeRights stores R in 104 bits

DEFAULTS: dict[str, Any] = {
    "admin_delay": 3 * 86_400,
    "dispute_window": 2 * 3_600,
    "min_capacity": 1_000 * 10**18,
    "max_capacity": 100_000_000 * 10**18,
    "max_capacity_change_bps": 5_000,
    # ComputeRights' RCAP (immutable): at most 500 VCU of rights outstanding, 25 VCU mintable a
    # day (RCAP / 20). A mint also needs R + n <= minCapacity / 2: 500 is half the default
    # minimum capacity, so the whole cap can be reached with the defaults.
    "rights_cap": 500 * 10**18,
    "genesis_epoch": None,  # default: the first epoch after deployment
    "admin": None,  # default: the deployer
}


class DeploymentError(RuntimeError):
    """The deployment could not be done or recorded as asked."""


@dataclass
class System:
    token: ContractInstance
    staking: ContractInstance
    emissions: ContractInstance
    oracle: ContractInstance
    record: dict[str, Any] = field(default_factory=dict)
    data_requests: ContractInstance | None = None  # created by the oracle's constructor
    compute_rights: ContractInstance | None = None  # None in records made before issue 23


def parse_vcu(text: str) -> int:
    """A positive VCU amount with up to 18 decimals, in 18-decimal fixed point."""
    try:
        return parse_amount(text, allow_zero=False)
    except AmountError as err:
        raise ValueError(f"capacity {err}") from None


def local_role_defaults() -> dict[str, str]:
    """On local chains: treasury, oracle, guardian and activity signer are ape test accounts 7,
    6, 4 and 9 (the deployer is usually 0)."""
    from ape import accounts

    test = accounts.test_accounts
    return {"treasury": test[7].address, "oracle": test[6].address, "guardian": test[4].address,
            "activity_signer": test[9].address}  # fmt: skip


def _address(who: Any) -> str:
    return str(getattr(who, "address", who))


def network_name() -> str:
    """File name stem of the connected network: `<ecosystem>-<network>`, plus the provider on
    local networks (each local provider is its own chain)."""
    provider = networks.provider
    parts = [provider.network.ecosystem.name, provider.network.name]
    if provider.network.name in LOCAL_NETWORKS:
        parts.append(provider.name)
    return "-".join(parts)


def is_local() -> bool:
    """The connected network is a local chain (not a live network)."""
    return networks.provider.network.name in LOCAL_NETWORKS


def is_ephemeral() -> bool:
    """The connected chain was started by ape for this command and stops with it."""
    return is_local() and networks.provider.name in EPHEMERAL_PROVIDERS


def ephemeral_note() -> str:
    """What to say about a chain that ape started for this command only."""
    return (f"ape starts a new chain for every command on {networks.provider.network_choice}; for one that "
            "persists: `make chain` and --network ethereum:local:node")  # fmt: skip


def record_path(directory: Path | None = None) -> Path:
    """`deployments/<network>.json` (the folder can be moved with VVV_DEPLOYMENTS_DIR)."""
    folder = directory or Path(os.environ.get("VVV_DEPLOYMENTS_DIR", DEPLOYMENTS_DIR))
    return folder / f"{network_name()}.json"


def shown(path: Path) -> str:
    """A path as a user would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def deploy_system(
    deployer: AccountAPI,
    *,
    treasury: Any,
    oracle: Any,
    guardian: Any,
    genesis_holder: Any = None,
    activity_signer: Any = None,
    capacity: int = 181_480 * 10**18,
    overwrite: bool = False,
    record: bool = True,
    deployments_dir: Path | None = None,
    **overrides: Any,
) -> System:
    """Deploy VVVToken, VVVStaking, EpochOracle, EmissionsController and ComputeRights, wired
    together.

    Overrides: admin, admin_delay, dispute_window, min_capacity, max_capacity,
    max_capacity_change_bps, rights_cap (VCU in 18 decimals), genesis_epoch. On a live network an
    existing record is never overwritten unless `overwrite` is true. An `activity_signer` (never the oracle) is granted
    `ACTIVITY_SIGNER_ROLE` by the admin, which must then be the deployer or an account.
    """
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise DeploymentError(f"unknown deployment options: {', '.join(sorted(unknown))}")
    params = {**DEFAULTS, **overrides}
    admin = params["admin"] or deployer
    for name, who in (("treasury", treasury), ("oracle", oracle), ("guardian", guardian)):
        if not is_address(_address(who)):
            raise DeploymentError(f"{name}: not an address: {_address(who)!r}")
    if _address(guardian).lower() == _address(oracle).lower():
        raise DeploymentError(
            f"the guardian {_address(guardian)} is the oracle: the key that posts reports can never be the one "
            "that rejects them"
        )
    if activity_signer is not None:
        if not is_address(_address(activity_signer)):
            raise DeploymentError(f"activity signer: not an address: {_address(activity_signer)!r}")
        if _address(activity_signer).lower() == _address(oracle).lower():
            raise DeploymentError(
                f"the activity signer {_address(activity_signer)} is the oracle: receipts must be signed by another key"
            )
        if not isinstance(admin, AccountAPI):
            raise DeploymentError("an activity signer is granted its role by the admin: the admin must be an account")
    rights_cap = params["rights_cap"]
    if not isinstance(rights_cap, int) or not 0 < rights_cap <= MAX_RIGHTS_CAP or rights_cap % RIGHTS_QUOTA_DIVISOR:
        raise DeploymentError(
            f"rights cap {rights_cap!r}: must be a positive multiple of {RIGHTS_QUOTA_DIVISOR} wei below 2**104"
        )
    path = record_path(deployments_dir)
    if record and path.exists() and not is_local() and not overwrite:
        raise DeploymentError(f"{path} exists: a system is already deployed on this network (use --overwrite)")

    genesis_epoch = params["genesis_epoch"] or epoch_of(chain.pending_timestamp) + 1
    nonce = deployer.nonce
    controller_address = deployer.get_deployment_address(nonce + 3)
    rights_address = deployer.get_deployment_address(nonce + 4)
    holder = genesis_holder or deployer

    token = project.VVVToken.deploy(holder, controller_address, sender=deployer)
    # The locker, fixed at construction like the notifier: the ComputeRights contract deployed last.
    staking = project.VVVStaking.deploy(
        token, admin, params["admin_delay"], guardian, controller_address, rights_address, sender=deployer
    )
    epoch_oracle = project.EpochOracle.deploy(
        staking,
        admin,
        params["admin_delay"],
        oracle,
        guardian,
        treasury,
        genesis_epoch,
        capacity,
        [params["min_capacity"], params["max_capacity"], params["max_capacity_change_bps"]],
        params["dispute_window"],
        sender=deployer,
    )
    emissions = project.EmissionsController.deploy(
        token, staking, epoch_oracle, treasury, admin, params["admin_delay"], genesis_epoch, sender=deployer
    )
    if emissions.address != controller_address:
        raise DeploymentError(
            f"controller deployed at {emissions.address}, expected {controller_address}: another "
            "transaction from the deployer got in between; the token and staking contracts are unusable, "
            "deploy again"
        )
    rights = project.ComputeRights.deploy(
        staking, epoch_oracle, rights_cap, admin, params["admin_delay"], guardian, sender=deployer
    )
    if rights.address != rights_address:
        raise DeploymentError(
            f"ComputeRights deployed at {rights.address}, expected {rights_address} (the staking contract's "
            "locker): another transaction from the deployer got in between; deploy again"
        )
    data_requests = project.DataRequests.at(epoch_oracle.dataRequests())
    if activity_signer is not None:
        epoch_oracle.grantRole(epoch_oracle.ACTIVITY_SIGNER_ROLE(), activity_signer, sender=admin)
    data = {
        "network": network_name(),
        "chain_id": chain.chain_id,
        "deployed_at": int(time.time()),
        "block": chain.blocks.head.number,
        "genesis_epoch": genesis_epoch,
        "contracts": {
            "VVVToken": token.address,
            "VVVStaking": staking.address,
            "EpochOracle": epoch_oracle.address,
            "EmissionsController": emissions.address,
            "DataRequests": data_requests.address,
            "ComputeRights": rights.address,
        },
        "roles": {
            "admin": str(getattr(admin, "address", admin)),
            "treasury": str(getattr(treasury, "address", treasury)),
            "oracle": str(getattr(oracle, "address", oracle)),
            "guardian": str(getattr(guardian, "address", guardian)),
            "genesis_holder": str(getattr(holder, "address", holder)),
            "activity_signer": None if activity_signer is None else _address(activity_signer),
        },
        "parameters": {k: v for k, v in params.items() if k not in ("admin", "genesis_epoch")} | {"capacity": capacity},
    }
    if record:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n")
    return System(
        token=token, staking=staking, emissions=emissions, oracle=epoch_oracle, record=data,
        data_requests=data_requests, compute_rights=rights,
    )  # fmt: skip


def load_system(directory: Path | None = None) -> System:
    """The system recorded for the connected network. A record for another chain, or one whose
    addresses hold no code (a local chain that was restarted), is an error."""
    path = record_path(directory)
    if not path.exists():
        raise DeploymentError(f"no deployment record for network {network_name()} ({path}); run `ape run deploy`")
    data = json.loads(path.read_text())
    if data.get("chain_id") != chain.chain_id:
        raise DeploymentError(f"{path} is for chain {data.get('chain_id')}, connected to chain {chain.chain_id}")
    c = data["contracts"]
    for name, address in c.items():
        if not chain.provider.get_code(address):
            hint = f" ({ephemeral_note()})" if is_ephemeral() else ""
            raise DeploymentError(
                f"{shown(path)} points at {address} ({name}), which has no code on this chain "
                f"(was the chain restarted?); deploy again with `ape run deploy`{hint}"
            )
    try:
        return System(
            token=project.VVVToken.at(c["VVVToken"]),
            staking=project.VVVStaking.at(c["VVVStaking"]),
            emissions=project.EmissionsController.at(c["EmissionsController"]),
            oracle=project.EpochOracle.at(c["EpochOracle"]),
            record=data,
            data_requests=project.DataRequests.at(c["DataRequests"]) if "DataRequests" in c else None,
            compute_rights=project.ComputeRights.at(c["ComputeRights"]) if "ComputeRights" in c else None,
        )
    except ContractNotFoundError as err:
        raise DeploymentError(f"{path} is stale: {err} (a local chain restarted? run `ape run deploy`)") from None


def funding_recipients(holder: Any, amount: int) -> list[AccountAPI]:
    """The test accounts that `fund_test_accounts` pays: every one but the holder. Refused,
    before anything is sent, on a live network and when the genesis supply cannot cover it."""
    from ape import accounts

    if not is_local():
        raise DeploymentError(f"test accounts are funded on local chains only, not on {networks.provider.network.name}")
    holder_address = str(getattr(holder, "address", holder))
    recipients = [a for a in accounts.test_accounts if a.address != holder_address]
    if amount * len(recipients) > GENESIS_SUPPLY:
        raise DeploymentError(
            f"cannot give {len(recipients)} test accounts {format_amount(amount)} VVV each: the genesis "
            f"supply is {format_amount(GENESIS_SUPPLY)} VVV"
        )
    return recipients


def fund_test_accounts(system: System, holder: AccountAPI, amount: int) -> list[str]:
    """On a local chain, give every test account but `holder` `amount` VVV from `holder`;
    returns the funded addresses."""
    recipients = funding_recipients(holder, amount)
    for recipient in recipients:
        system.token.transfer(recipient, amount, sender=holder)
    return [a.address for a in recipients]
