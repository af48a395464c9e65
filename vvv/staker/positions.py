"""What the chain says about one account: wallet, stake, rewards and its unstake requests.

An account's requests are found from its `UnstakeRequested` events (indexed by account) since
the deployment block, and each one's current state is then read from `unstakeRequest`, so
nothing loops over all users or all requests on chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ape import chain

from vvv.chain.deployment import System


@dataclass(frozen=True)
class Request:
    request_id: int
    amount: int
    unlock_time: int

    def seconds_left(self, now: int) -> int:
        return max(0, self.unlock_time - now)

    def matured(self, now: int) -> bool:
        return now >= self.unlock_time

    def as_dict(self) -> dict[str, int]:
        return {"id": self.request_id, "amount": self.amount, "unlock_time": self.unlock_time}


@dataclass(frozen=True)
class Position:
    account: str
    now: int  # timestamp of the block the values were read at
    wallet: int
    allowance: int  # what the staking contract may take from the wallet
    staked: int
    earned: int
    pending: list[Request]  # unsettled requests, oldest first (empty unless asked for)

    @property
    def unbonding(self) -> int:
        return sum(r.amount for r in self.pending)

    def withdrawable(self) -> list[Request]:
        return [r for r in self.pending if r.matured(self.now)]

    @property
    def withdrawable_now(self) -> int:
        return sum(r.amount for r in self.withdrawable())


def request_ids_of(system: System, account: str) -> list[int]:
    """Ids of every unstake request `account` ever made, oldest first."""
    start = int(system.record.get("block", 0))
    stop = chain.blocks.head.number
    if stop < start:
        return []
    logs = system.staking.UnstakeRequested.range(start, stop + 1, search_topics={"account": account})
    return sorted({int(log.requestId) for log in logs})


def pending_requests(system: System, account: str) -> list[Request]:
    requests = []
    for request_id in request_ids_of(system, account):
        owner, amount, unlock_time, settled = system.staking.unstakeRequest(request_id)
        if not settled and owner.lower() == account.lower():
            requests.append(Request(request_id, int(amount), int(unlock_time)))
    return requests


def position_of(system: System, account: Any, *, with_requests: bool = True) -> Position:
    """The account's position; its requests (found from events) only `with_requests`."""
    address = str(getattr(account, "address", account))
    staking, token = system.staking, system.token
    return Position(
        account=address,
        now=chain.blocks.head.timestamp,
        wallet=token.balanceOf(address),
        allowance=token.allowance(address, staking.address),
        staked=staking.stakeOf(address),
        earned=staking.earned(address),
        pending=pending_requests(system, address) if with_requests else [],
    )
