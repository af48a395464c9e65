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
_rights: dict[str, Any] = {}  # rights address -> its contract object


def rights_of(system: System) -> Any | None:
    """The ComputeRights contract whose activations the oracle counts, or None. The address is
    read from the oracle at each call (callers keep what they read per account and epoch): a
    cache keyed by the oracle's address alone went stale on a chain reverted to a snapshot."""
    address = str(system.oracle.rights())
    if int(address, 16) == 0:
        return None
    if address not in _rights:
        _rights[address] = project.ComputeRights.at(address)
    return _rights[address]


def pool(capacity: int, total_activated: int) -> int:
    """The day's pool, as `Allotment.pool`: what the activated rights leave of the capacity."""
    return capacity - total_activated if capacity > total_activated else 0


def activations(system: System, account: str, epoch: int) -> tuple[int, int]:
    """`(activatedAt(account, epoch), totalActivatedAt(epoch))`; (0, 0) without rights."""
    rights = rights_of(system)
    if rights is None:
        return 0, 0
    return int(rights.activatedAt(account, epoch)), int(rights.totalActivatedAt(epoch))
