"""Compute rights (SPEC.md, "ComputeRights"): the staker's quote, mint, repay, activate,
deactivate, reclaim and the rights position, each checked first against the chain so that a
mistake gets a one-line error and nothing is sent.

A mint proves the caller's leaf in the report of yesterday, read from that report's proofs file
(as `status` reads it for `vcuAllocation`) and checked against the root on chain."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ape import chain
from ape.contracts import ContractInstance

from vvv.chain.deployment import System
from vvv.chain.epochs import EPOCH_LENGTH, Source, allotment_source, epoch_start, read_day_facts
from vvv.chain.units import format_amount
from vvv.oracle.proofs import ProofsError, proofs_path, read_proofs
from vvv.staker.transactions import Outcome, StakerError, _send, utc, vvv

ZERO_ADDRESS = "0x" + "00" * 20


def vcr(wei: int) -> str:
    return f"{format_amount(wei)} VCR"


def rights_of(system: System) -> ContractInstance:
    """The deployment's ComputeRights contract, or a clear error for a record made without one."""
    if system.compute_rights is None:
        raise StakerError(
            "this deployment has no ComputeRights contract (its record names none): deploy again with "
            "`ape run deploy`; nothing was sent"
        )
    return system.compute_rights


@dataclass(frozen=True)
class Leaf:
    """The account's leaf in the report of `epoch - 1` (stake 0: not in it)."""

    account: str
    stake: int
    position: int
    siblings: list[Any]

    def proof(self) -> tuple[str, int, int, list[Any]]:
        return (self.account, self.stake, self.position, self.siblings)


@dataclass
class Quote:
    """What minting `rights` now would lock, or why it cannot be done (`refusals`, the first is
    the contract's first check that fails)."""

    account: str | None
    epoch: int
    rights: int
    price: int | None  # None: no final report to price against
    paused: bool
    source: str
    report_final: bool
    final_at: int | None  # when the report of epoch - 1 is final (None: none posted)
    allowance: int | None  # None: the account (or its leaf) is not known
    minted_against_report: int | None
    outstanding: int
    limit: int  # min(RCAP, minCapacity / 2)
    free_stake: int | None
    refusals: list[str] = field(default_factory=list)
    leaf: Leaf | None = None

    @property
    def allowance_left(self) -> int | None:
        if self.allowance is None or self.minted_against_report is None:
            return None
        return max(0, self.allowance - self.minted_against_report)

    @property
    def cap_left(self) -> int:
        return max(0, self.limit - self.outstanding)


def _leaf(system: System, account: str, epoch: int, reports_dir: Path | None) -> Leaf:
    """The account's leaf in the report of `epoch - 1`, from that report's proofs file, checked
    against the root on chain."""
    path = proofs_path(system.record["chain_id"], epoch - 1, reports_dir)
    if not path.exists():
        raise StakerError(
            f"no proofs file for the report of epoch {epoch - 1} ({path}): a mint proves your leaf in it "
            "(give --reports-dir); nothing was sent"
        )
    proofs = read_proofs(path)
    root = "0x" + bytes(system.oracle.report(epoch - 1).activeRoot).hex()
    if proofs.report.active_root.lower() != root:
        raise ProofsError(
            f"{path} does not match the chain: its root is {proofs.report.active_root}, the report of epoch "
            f"{epoch - 1} on chain has {root}"
        )
    stake, position, siblings = proofs.proof(account)
    return Leaf(account, int(stake), int(position), siblings)


def window(system: System, account: str | None, reports_dir: Path | None = None) -> Quote:
    """Whether a mint is possible today and within what (for `account`, when given: its leaf,
    allowance and free stake); no amount yet (`rights` 0, no price)."""
    cr = rights_of(system)
    now = chain.blocks.head.timestamp
    epoch = now // EPOCH_LENGTH
    facts = read_day_facts(system.oracle, epoch)
    source = allotment_source(facts, now)
    final = source == Source.REPORT and bool(system.oracle.isFinal(epoch - 1))
    final_at = facts.posted_at + int(system.oracle.disputeWindow()) if facts.posted_at else None
    min_capacity = int(system.oracle.capacityBounds()[0])
    q = Quote(account=account, epoch=epoch, rights=0, price=None, paused=bool(cr.paused()),
              source=source.label, report_final=final, final_at=final_at, allowance=None,
              minted_against_report=None, outstanding=int(cr.totalSupply()),
              limit=min(int(cr.RCAP()), min_capacity // 2), free_stake=None)  # fmt: skip
    if q.paused:
        q.refusals.append("mints are paused by the guardian")
    if not final:
        q.refusals.append(_why_no_report(q, facts.posted_at))
    if account is not None:
        q.free_stake = int(system.staking.freeStakeOf(account))
        q.minted_against_report = int(cr.mintedInEpoch(account, epoch))
        if final:
            q.leaf = _leaf(system, account, epoch, reports_dir)
            q.allowance = int(cr.QUOTA()) * q.leaf.stake // int(system.oracle.report(epoch - 1).totalActiveStake)
            if q.leaf.stake == 0:
                q.refusals.append(
                    f"{account} is not in the active set of the report of epoch {epoch - 1}: only its stakers "
                    "can mint today"
                )
    return q


def quote(system: System, account: str | None, rights: int, reports_dir: Path | None = None) -> Quote:
    """The price of `rights` now, and everything that would refuse their mint."""
    if rights <= 0:
        raise StakerError("the number of rights must be positive")
    q = window(system, account, reports_dir)
    q.rights = rights
    if q.report_final:
        q.price = int(rights_of(system).quoteMint(rights))
    minted = q.minted_against_report
    if q.allowance is not None and minted is not None and q.leaf and q.leaf.stake and minted + rights > q.allowance:
        q.refusals.append(
            f"{vcr(rights)} is above your allowance left today: {vcr(q.allowance_left or 0)} (your allowance "
            f"against the report of epoch {q.epoch - 1} is {vcr(q.allowance)}, {vcr(minted)} minted)"
        )
    if q.outstanding + rights > q.limit:
        q.refusals.append(
            f"{vcr(rights)} is above the cap left: {vcr(q.cap_left)} ({vcr(q.outstanding)} out of at most "
            f"{vcr(q.limit)}: min(RCAP, minCapacity / 2))"
        )
    if q.price is not None and q.free_stake is not None and q.price > q.free_stake:
        q.refusals.append(f"the price, {vvv(q.price)}, is above your free stake: {vvv(q.free_stake)}")
    return q


def _why_no_report(q: Quote, posted_at: int) -> str:
    last = q.epoch - 1
    if q.source == "report":  # posted in time, within its dispute window
        return (
            f"no final report: the report of epoch {last} is final at {utc(q.final_at or 0)} ({q.final_at}); "
            "mints open then"
        )
    if q.source == "fallback":
        return f"no final report: today's (epoch {q.epoch}) allotments come from the fallback; no mint until tomorrow"
    if not posted_at:
        return f"no final report: the report of epoch {last} is not posted yet"
    return f"no final report: today's (epoch {q.epoch}) allotment source is not yet known"


def mint(system: System, account: Any, rights: int, max_lock: int | None, reports_dir: Path | None) -> Outcome:
    """Mint `rights` VCR, locking at most `max_lock` VVV (default: the quote read now)."""
    q = quote(system, account.address, rights, reports_dir)
    if q.refusals:
        raise StakerError(f"{q.refusals[0]}; nothing was sent")
    assert q.price is not None and q.leaf is not None  # a quote without refusals has both
    limit = q.price if max_lock is None else max_lock
    if q.price > limit:
        raise StakerError(f"the price, {vvv(q.price)}, is above --max-lock {vvv(limit)}; nothing was sent")
    outcome = Outcome("mint", account.address, {"rights": rights, "max_lock": limit})
    cr = rights_of(system)
    tx = _send(outcome, cr.mint, rights, limit, q.leaf.proof(), sender=account)
    (event,) = tx.decode_logs(cr.RightsMinted)
    outcome.amounts["locked"] = int(event.locked)
    return outcome


def repay(system: System, account: Any, rights: int) -> Outcome:
    """Burn `rights` VCR against the account's own position and unlock its share of the stake."""
    if rights <= 0:
        raise StakerError("the number of rights must be positive")
    cr = rights_of(system)
    minted, locked = (int(x) for x in cr.positionOf(account.address))
    if rights > minted:
        raise StakerError(
            f"{vcr(rights)} is more than your position: {vcr(minted)} minted and not repaid (only the minter "
            "can repay, against its own position); nothing was sent"
        )
    balance = int(cr.balanceOf(account.address))
    if rights > balance:
        raise StakerError(
            f"the wallet holds {vcr(balance)}, the repay burns {vcr(rights)} (activated rights come back with "
            "`rights deactivate` and `rights reclaim`); nothing was sent"
        )
    outcome = Outcome("repay", account.address, {"rights": rights})
    tx = _send(outcome, cr.repay, rights, sender=account)
    (event,) = tx.decode_logs(cr.RightsRepaid)
    outcome.amounts["unlocked"] = int(event.unlocked)
    outcome.amounts["locked_before"] = locked
    return outcome


def _target(who: str | None, account: Any) -> str:
    target = who or account.address
    if target.lower() == ZERO_ADDRESS:
        raise StakerError("--for: the zero address cannot be given rights; nothing was sent")
    return target


def activate(system: System, account: Any, rights: int, who: str | None) -> Outcome:
    """Activate `rights` VCR of the wallet to `who` (default: the account) from tomorrow on."""
    if rights <= 0:
        raise StakerError("the number of rights must be positive")
    cr, target = rights_of(system), _target(who, account)
    balance = int(cr.balanceOf(account.address))
    if rights > balance:
        raise StakerError(f"the wallet holds {vcr(balance)}, asked to activate {vcr(rights)}; nothing was sent")
    outcome = Outcome("activate", account.address, {"rights": rights})
    tx = _send(outcome, cr.activate, rights, target, sender=account)
    (event,) = tx.decode_logs(cr.RightsActivated)
    outcome.details = {"for": target, "from_epoch": int(event.fromEpoch)}
    return outcome


def deactivate(system: System, account: Any, rights: int, who: str | None) -> Outcome:
    """End `rights` of the account's activation to `who` (default: the account) from tomorrow."""
    if rights <= 0:
        raise StakerError("the number of rights must be positive")
    cr, target = rights_of(system), _target(who, account)
    activated = int(cr.activatedBy(account.address, target))
    if rights > activated:
        raise StakerError(
            f"you activated {vcr(activated)} to {target}, asked to deactivate {vcr(rights)}; nothing was sent"
        )
    outcome = Outcome("deactivate", account.address, {"rights": rights})
    tx = _send(outcome, cr.deactivate, rights, target, sender=account)
    (event,) = tx.decode_logs(cr.RightsDeactivated)
    outcome.details = {"for": target, "from_epoch": int(event.fromEpoch)}
    return outcome


def reclaim(system: System, account: Any) -> Outcome:
    """Take back the deactivated VCR whose epoch has started."""
    cr = rights_of(system)
    ready, pending, from_epoch = (int(x) for x in cr.reclaimable(account.address))
    if ready == 0:
        later = (
            f": {vcr(pending)} deactivated come back from epoch {from_epoch} ({utc(epoch_start(from_epoch))})"
            if pending
            else ""
        )
        raise StakerError(f"nothing to reclaim now{later}; nothing was sent")
    outcome = Outcome("reclaim", account.address, {"rights": ready})
    _send(outcome, cr.reclaim, sender=account)
    return outcome


@dataclass(frozen=True)
class Activation:
    """Rights the caller activated to `account`: now in force (`today`) and from tomorrow."""

    account: str
    by_you: int  # activated by the caller and not deactivated (some may start tomorrow)
    since_epoch: int  # the epoch of the caller's first activation to the account still counted
    account_today: int  # rights active for the account today (from every caller)
    account_tomorrow: int


@dataclass(frozen=True)
class RightsStatus:
    account: str
    epoch: int
    minted: int
    locked: int
    balance: int
    activations: list[Activation]
    reclaim_ready: int
    reclaim_pending: int
    reclaim_from_epoch: int
    active_for_you_today: int  # VCU a day the rights add to the account's own allotment today
    active_for_you_tomorrow: int
    quote: Quote


def _activations(system: System, cr: ContractInstance, account: str, epoch: int) -> list[Activation]:
    """Every account the caller has rights activated to now, and since when (the epoch from which
    its activations to it have not fallen back to 0), from the contract's events."""
    start, stop = int(system.record.get("block", 0)), chain.blocks.head.number + 1
    logs = [(log, 1) for log in cr.RightsActivated.range(start, stop, search_topics={"caller": account})]
    logs += [(log, -1) for log in cr.RightsDeactivated.range(start, stop, search_topics={"caller": account})]
    logs.sort(key=lambda pair: (pair[0].block_number, pair[0].log_index))
    running: dict[str, int] = {}
    since: dict[str, int] = {}
    for log, sign in logs:
        target = str(log.account)
        if running.get(target, 0) == 0 and sign > 0:
            since[target] = int(log.fromEpoch)
        running[target] = running.get(target, 0) + sign * int(log.rights)
    found = []
    for target, first in since.items():
        by_you = int(cr.activatedBy(account, target))
        if by_you:
            found.append(Activation(target, by_you, first, int(cr.activatedAt(target, epoch)),
                                    int(cr.activatedAt(target, epoch + 1))))  # fmt: skip
    return found


def rights_status(system: System, account: str, reports_dir: Path | None = None) -> RightsStatus:
    cr = rights_of(system)
    epoch = chain.blocks.head.timestamp // EPOCH_LENGTH
    minted, locked = (int(x) for x in cr.positionOf(account))
    ready, pending, from_epoch = (int(x) for x in cr.reclaimable(account))
    try:
        q = window(system, account, reports_dir)
    except (StakerError, ProofsError) as err:  # no proofs file: the allowance is not known here
        q = window(system, None, reports_dir)
        q.refusals.append(str(err).removesuffix("; nothing was sent"))
    return RightsStatus(
        account=account,
        epoch=epoch,
        minted=minted,
        locked=locked,
        balance=int(cr.balanceOf(account)),
        activations=_activations(system, cr, account, epoch),
        reclaim_ready=ready,
        reclaim_pending=pending,
        reclaim_from_epoch=from_epoch,
        active_for_you_today=int(cr.activatedAt(account, epoch)),
        active_for_you_tomorrow=int(cr.activatedAt(account, epoch + 1)),
        quote=q,
    )
