"""The watchdog's side of data requests (`DataRequests`; SPEC, "withheld data"): the open requests
on a report, their answers from a published tree (the path the proofs file already holds), a
request filed against a report whose tree is not published, and the resolution of requests left
unanswered. Every transaction is estimated before it is sent (`vvv.oracle.sending`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ape import chain

from vvv.chain.deployment import System
from vvv.oracle.sending import send_plain

ACCOUNT, POSITION = 0, 1  # EpochOracle.LeafQuery
OPEN = 1  # DataRequests.RequestState.Open
ZERO_ADDRESS = "0x" + "00" * 20


class Tree(Protocol):
    """What an answer needs of a tree (the watchdog's `RawTree`)."""

    leaves: list[tuple[str, int]]
    count: int

    def leaf_proof(self, position: int) -> tuple: ...

    def proof(self, position: int) -> Any: ...


@dataclass(frozen=True)
class OpenRequest:
    epoch: int
    query: int
    target: int
    requester: str
    deadline: int
    version: int

    def describe(self) -> str:
        what = f"account 0x{self.target:040x}" if self.query == ACCOUNT else f"position {self.target}"
        return f"data request for {what} on epoch {self.epoch}"


def open_requests(system: System, epoch: int) -> list[OpenRequest]:
    """The requests on the live version of the report of `epoch` that are still open."""
    dr = system.data_requests
    if dr is None:
        return []
    version = int(system.oracle.reportRecord(epoch).version)
    start = int(system.record.get("block", 0))
    seen: dict[tuple[int, int], OpenRequest] = {}
    for log in dr.LeafRequested.range(start, chain.blocks.head.number + 1, search_topics={"epoch": epoch}):
        if int(log.version) != version:
            continue
        key = (int(log.query), int(log.target))
        state = dr.dataRequest(epoch, *key)
        if int(state.state) == OPEN and int(state.version) == version:
            seen[key] = OpenRequest(epoch, key[0], key[1], str(state.requester), int(state.deadline), version)
    return list(seen.values())


def answer_of(tree: Tree, request: OpenRequest) -> list[tuple]:
    """The leaves that answer `request` from `tree`: the account's leaf or the leaves around it,
    or the leaf (real or empty) at the position."""
    if request.query == POSITION:
        p = request.target
        if p < tree.count:
            return [tree.leaf_proof(p)]
        return [(ZERO_ADDRESS, 0, p, [(h, s) for h, s in tree.proof(p).siblings])]
    account = f"0x{request.target:040x}"
    accounts = [a for a, _ in tree.leaves]
    if account in accounts:
        return [tree.leaf_proof(accounts.index(account))]
    p = sum(a < account for a in accounts)  # the leaves are sorted: the insertion point
    return [tree.leaf_proof(i) for i in (p - 1, p) if 0 <= i < len(accounts)]


def answer(system: System, request: OpenRequest, tree: Tree, sender: Any) -> str:
    """Answer `request` from `tree`; the transaction's hash (`RefusedError`: nothing sent)."""
    dr = system.data_requests
    args = (request.epoch, request.query, request.target, answer_of(tree, request))
    return send_plain(dr.answerLeaf, args, sender=sender, what=f"the answer to the {request.describe()}")


def file_request(system: System, epoch: int, sender: Any) -> str | None:
    """A request for the leaf at position 0 of a report whose tree is not published (none when one
    is already open on it or its request window is over); the transaction's hash."""
    dr, o = system.data_requests, system.oracle
    if dr is None:
        return None
    record = o.reportRecord(epoch)
    if int(record.openRequests) or chain.blocks.head.timestamp >= int(record.requestsUntil):
        return None
    state = dr.dataRequest(epoch, POSITION, 0)
    if int(state.version) == int(record.version) and int(state.state) != 0:
        return None  # asked and answered (or resolved) already
    return send_plain(dr.requestLeafAt, (epoch, 0), sender=sender, value=int(dr.dataRequestBond()),
                      what=f"a data request on epoch {epoch}")  # fmt: skip


def resolve_expired(system: System, epoch: int, sender: Any) -> list[str]:
    """Resolve every open request on `epoch` whose response window is over (its report is then
    rejected); the transactions' hashes."""
    dr, now, sent = system.data_requests, chain.blocks.head.timestamp, []
    for request in open_requests(system, epoch):
        if now >= request.deadline:
            args = (epoch, request.query, request.target)
            sent.append(send_plain(dr.resolveRequest, args, sender=sender, what=f"resolving the {request.describe()}"))
    return sent
