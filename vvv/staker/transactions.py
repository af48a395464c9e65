"""The staker's transactions, each checked first against the chain so that a mistake gets a
clear error and nothing is sent: stake (with a permit when the allowance is short), unstake,
cancel, withdraw, claim and restake."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ape import chain
from ape.api import ReceiptAPI
from ape.exceptions import ContractLogicError, ProviderError, SignatureError, TransactionError

from vvv.chain.deployment import System
from vvv.chain.permit import sign_permit
from vvv.chain.units import format_amount
from vvv.staker.positions import Position, Request, position_of

PERMIT_LIFETIME = 3_600  # a permit signed for a stake is valid for an hour


class StakerError(RuntimeError):
    """The transaction was not sent, and why."""


class SendError(RuntimeError):
    """A transaction failed at or after broadcast: it may be on chain. Carries the hashes of
    the transactions known to be sent, so the user can check before retrying."""


@dataclass
class Outcome:
    """What a command did: the transactions sent and the amounts moved (wei)."""

    action: str
    account: str
    amounts: dict[str, int] = field(default_factory=dict)
    requests: list[dict[str, int]] = field(default_factory=list)
    transactions: list[str] = field(default_factory=list)
    used_permit: bool = False
    details: dict[str, Any] = field(default_factory=dict)  # what else a command reports (not amounts)


def _send(outcome: Outcome, method: Any, *args: Any, sender: Any) -> Any:
    """Send one transaction and record its hash. A revert found by the gas estimate means
    nothing was sent (`StakerError`); any failure after that (a revert on chain, a receipt that
    never came) may have left a transaction on chain (`SendError`)."""
    try:
        tx = method(*args, sender=sender)
    except SignatureError:
        raise StakerError(_sent_note(outcome, "the account did not sign the transaction")) from None
    except ContractLogicError as err:
        if isinstance(err.txn, ReceiptAPI):  # mined and reverted
            failed = f"transaction {err.txn.txn_hash} reverted on chain ({type(err).__name__}: {err})"
            raise SendError(_sent_note(outcome, failed)) from None
        raise StakerError(_sent_note(outcome, f"the transaction would revert ({type(err).__name__}: {err})")) from None
    except (ProviderError, TransactionError) as err:
        raise SendError(
            f"the transaction may have been sent but was not confirmed ({type(err).__name__}: {err}); check "
            f"{outcome.account}'s transactions before retrying" + _hashes(outcome)
        ) from None
    outcome.transactions.append(tx.txn_hash)
    return tx


def _hashes(outcome: Outcome) -> str:
    return f"; sent before it: {', '.join(str(t) for t in outcome.transactions)}" if outcome.transactions else ""


def _sent_note(outcome: Outcome, what: str) -> str:
    """`what`, plus what was sent before it (a withdraw of several requests sends several)."""
    if not outcome.transactions:
        return f"{what}; nothing was sent"
    return f"{what}; nothing more was sent" + _hashes(outcome)


def utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def vvv(wei: int) -> str:
    return f"{format_amount(wei)} VVV"


def _require_not_paused(system: System, what: str) -> None:
    if system.staking.paused():
        raise StakerError(f"staking is paused by the guardian: {what} is not possible now; nothing was sent")


def _check_stake_after(system: System, stake_after: int) -> None:
    minimum = system.staking.MIN_STAKE()
    if 0 < stake_after < minimum:
        raise StakerError(f"the stake would be {vvv(stake_after)}, below the minimum stake of {vvv(minimum)}")


def stake(system: System, account: Any, amount: int, *, use_permit: bool = True) -> Outcome:
    """Stake `amount` wei from the account's wallet. When the staking contract's allowance is
    short, a permit for exactly `amount` is signed and sent with the stake (one transaction)."""
    if amount <= 0:
        raise StakerError("the amount must be positive")
    _require_not_paused(system, "staking")
    pos = position_of(system, account, with_requests=False)
    if pos.wallet < amount:
        raise StakerError(f"insufficient balance: the wallet holds {vvv(pos.wallet)}, the stake needs {vvv(amount)}")
    _check_stake_after(system, pos.staked + amount)
    outcome = Outcome("stake", pos.account, {"amount": amount})
    if pos.allowance >= amount:
        _send(outcome, system.staking.stake, amount, sender=account)
    elif not use_permit:
        raise StakerError(
            f"insufficient allowance: the staking contract may take {vvv(pos.allowance)} of your VVV, the stake "
            f"needs {vvv(amount)} (run without --no-permit to sign a permit, or approve first)"
        )
    else:
        deadline = chain.pending_timestamp + PERMIT_LIFETIME
        v, r, s = sign_permit(system.token, account, system.staking.address, amount, deadline)
        outcome.used_permit = True
        _send(outcome, system.staking.stakeWithPermit, amount, deadline, v, r, s, sender=account)
    return outcome


def unstake(system: System, account: Any, amount: int) -> Outcome:
    """Ask to unstake `amount` wei: it stops earning now and can be withdrawn 7 days later."""
    if amount <= 0:
        raise StakerError("the amount must be positive")
    _require_not_paused(system, "unstaking")
    pos = position_of(system, account, with_requests=False)
    if amount > pos.staked:
        raise StakerError(f"insufficient stake: {vvv(pos.staked)} staked, asked to unstake {vvv(amount)}")
    minimum = system.staking.MIN_STAKE()
    if amount < pos.staked and (amount < minimum or pos.staked - amount < minimum):
        raise StakerError(
            f"a partial unstake must be at least {vvv(minimum)} and leave at least {vvv(minimum)} staked "
            f"(or unstake all {vvv(pos.staked)})"
        )
    outcome = Outcome("unstake", pos.account, {"amount": amount})
    tx = _send(outcome, system.staking.requestUnstake, amount, sender=account)
    (event,) = tx.decode_logs(system.staking.UnstakeRequested)
    outcome.requests.append({"id": int(event.requestId), "amount": amount, "unlock_time": int(event.unlockTime)})
    return outcome


def _own_pending(system: System, pos: Position, request_id: int) -> Request:
    """The account's pending request `request_id`, or a clear error."""
    if request_id <= 0 or request_id > system.staking.lastRequestId():
        raise StakerError(f"unknown request id {request_id}")
    owner, amount, unlock_time, settled = system.staking.unstakeRequest(request_id)
    if owner.lower() != pos.account.lower():
        raise StakerError(f"request {request_id} belongs to {owner}, not to {pos.account}")
    if settled:
        raise StakerError(f"request {request_id} is already settled (withdrawn or cancelled)")
    return Request(request_id, int(amount), int(unlock_time))


def cancel(system: System, account: Any, request_id: int) -> Outcome:
    """Put a pending request back into the stake."""
    pos = position_of(system, account, with_requests=False)
    request = _own_pending(system, pos, request_id)
    outcome = Outcome("cancel", pos.account, {"amount": request.amount})
    _send(outcome, system.staking.cancelUnstake, request_id, sender=account)
    outcome.requests.append(request.as_dict())
    return outcome


def withdraw(system: System, account: Any, request_ids: list[int] | None = None) -> Outcome:
    """Withdraw the given requests, or every matured one when none is given. All are checked
    before the first is sent."""
    pos = position_of(system, account, with_requests=not request_ids)
    now = chain.pending_timestamp
    if request_ids:
        if len(set(request_ids)) != len(request_ids):
            raise StakerError("a request id is given twice")
        chosen = [_own_pending(system, pos, i) for i in request_ids]
        for request in chosen:
            if not request.matured(now):
                raise StakerError(
                    f"request {request.request_id} is not matured: it unlocks at {utc(request.unlock_time)} "
                    f"({request.unlock_time}), in {request.unlock_time - now} s"
                )
    else:
        chosen = [r for r in pos.pending if r.matured(now)]
        if not chosen:
            upcoming = min((r.unlock_time for r in pos.pending), default=None)
            when = f"; the next unlocks at {utc(upcoming)} ({upcoming})" if upcoming else ""
            raise StakerError(f"nothing to withdraw: no matured request{when}")
    outcome = Outcome("withdraw", pos.account, {"amount": sum(r.amount for r in chosen)})
    for request in chosen:
        _send(outcome, system.staking.withdraw, request.request_id, sender=account)
        outcome.requests.append(request.as_dict())
    return outcome


def _rewards_event_amount(tx: Any, event_type: Any) -> int:
    (event,) = tx.decode_logs(event_type)
    return int(event.amount)


def claim(system: System, account: Any) -> Outcome:
    """Pay everything earned so far to the wallet."""
    pos = position_of(system, account, with_requests=False)
    if pos.earned == 0 and (pos.staked == 0 or system.staking.rewardRateScaled() == 0):
        raise StakerError("nothing to claim: no rewards earned")
    outcome = Outcome("claim", pos.account)
    tx = _send(outcome, system.staking.claimRewards, sender=account)
    outcome.amounts["amount"] = _rewards_event_amount(tx, system.staking.RewardsClaimed)
    return outcome


def restake(system: System, account: Any) -> Outcome:
    """Add everything earned so far to the stake (no token moves)."""
    _require_not_paused(system, "restaking")
    pos = position_of(system, account, with_requests=False)
    if pos.earned == 0 and (pos.staked == 0 or system.staking.rewardRateScaled() == 0):
        raise StakerError("nothing to restake: no rewards earned")
    _check_stake_after(system, pos.staked + pos.earned)
    outcome = Outcome("restake", pos.account)
    tx = _send(outcome, system.staking.restakeRewards, sender=account)
    outcome.amounts["amount"] = _rewards_event_amount(tx, system.staking.RewardsRestaked)
    return outcome
