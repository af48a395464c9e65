"""The compute rights as the allotments see them (SPEC, "ComputeRights"): the EpochOracle reads its
rights contract from the staking contract's locker at construction (`EpochOracle.rights()`, zero
for none), and a day's allotment is the rights activated to the account plus its share of the pool
`capacity - totalActivatedAt(epoch)` (0 when the activations reach the capacity).

`System` carries no rights contract yet (deploy_system deploys none), so it is found through the
oracle here, once per oracle."""

from __future__ import annotations

from typing import Any

from ape import project

from vvv.chain.deployment import System

ZERO_ADDRESS = "0x" + "00" * 20
_rights: dict[str, Any] = {}  # oracle address -> its ComputeRights (None: it has none)


def rights_of(system: System) -> Any | None:
    """The ComputeRights contract whose activations the oracle counts, or None."""
    key = str(system.oracle.address)
    if key not in _rights:
        address = str(system.oracle.rights())
        _rights[key] = None if int(address, 16) == 0 else project.ComputeRights.at(address)
    return _rights[key]


def pool(capacity: int, total_activated: int) -> int:
    """The day's pool, as `Allotment.pool`: what the activated rights leave of the capacity."""
    return capacity - total_activated if capacity > total_activated else 0


def activations(system: System, account: str, epoch: int) -> tuple[int, int]:
    """`(activatedAt(account, epoch), totalActivatedAt(epoch))`; (0, 0) without rights."""
    rights = rights_of(system)
    if rights is None:
        return 0, 0
    return int(rights.activatedAt(account, epoch)), int(rights.totalActivatedAt(epoch))
