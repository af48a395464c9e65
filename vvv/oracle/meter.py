"""The meter: the API side of VCU allotments. Per account and epoch: allotment (from the report
of the day before and the account's leaf), minus what was spent; a request is recorded only if
it fits, and a request that does not fit is refused with the reason and nothing is recorded.
With a receipt signer, an account's first charged request of the epoch also gets its activity
receipt (`vvv.oracle.receipts`), stored with the charge."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from vvv.chain.epochs import epoch_start, snapshot_time
from vvv.chain.units import format_amount
from vvv.oracle.pricing import PriceTable, PricingError
from vvv.oracle.proofs import ProofsFile
from vvv.oracle.receipts import Receipt, ReceiptSigner
from vvv.oracle.usage import ApiCall, RequestIdConflict, UsageStore, normalize_account


class Refused(Exception):
    """A request that was not recorded, and why."""


@dataclass(frozen=True)
class EpochAllotments:
    """VCU allotments of `epoch` (VCU wei per lower-case account)."""

    epoch: int
    capacity: int
    allotments: dict[str, int]
    source: str  # "report" (from the report of epoch - 1), "fallback" (every staker), "not yet known"

    def of(self, account: str) -> int:
        return self.allotments.get(normalize_account(account), 0)


def allotments_from_proofs(proofs: ProofsFile) -> EpochAllotments:
    """Allotments of epoch `report.epoch + 1`, exactly as `EpochOracle.vcuAllocation` computes
    them: stake * capacity // totalActiveStake per leaf."""
    r = proofs.report
    total = r.total_active_stake
    allotments = {a: (s * r.capacity // total if total and s <= total else 0) for a, s in proofs.stakes().items()}
    return EpochAllotments(r.epoch + 1, r.capacity, allotments, "report")


def fallback_allotments(epoch: int, capacity: int, stakes: dict[str, int]) -> EpochAllotments:
    """Allotments of `epoch` with no valid report for `epoch - 1`: every staker counts, by its
    stake at the snapshot (`stakes`, read from the chain) over their total."""
    total = sum(stakes.values())
    allotments = {normalize_account(a): (s * capacity // total if total else 0) for a, s in stakes.items()}
    return EpochAllotments(epoch, capacity, allotments, "fallback")


@dataclass(frozen=True)
class Usage:
    account: str
    epoch: int
    allotment: int
    spent: int

    @property
    def remaining(self) -> int:
        return max(0, self.allotment - self.spent)


@dataclass(frozen=True)
class Charged:
    """A recorded request, and the account's activity receipt when this request was its first
    charged one of the epoch (and the meter signs receipts): for the API response."""

    call: ApiCall
    receipt: Receipt | None


class Meter:
    """Charges requests against one epoch's allotments. The check and the record of a request
    are one database transaction that holds a lock on (account, epoch) for every process using
    the store (`UsageStore.locked`: an advisory lock on Postgres, the write lock on SQLite), so
    any number of meter processes never spend more than an allotment together. With a
    `signer`, the first charged request of an account in the epoch also signs and stores its
    receipt in that transaction, so every account gets exactly one receipt per epoch."""

    def __init__(
        self, store: UsageStore, prices: PriceTable, allotments: EpochAllotments, signer: ReceiptSigner | None = None
    ) -> None:
        self.store = store
        self.prices = prices
        self.allotments = allotments
        self.signer = signer

    @property
    def epoch(self) -> int:
        return self.allotments.epoch

    def _window(self) -> tuple[int, int]:
        return epoch_start(self.epoch), snapshot_time(self.epoch)

    def usage(self, account: str) -> Usage:
        start, end = self._window()
        account = normalize_account(account)
        return Usage(account, self.epoch, self.allotments.of(account), self.store.consumed(start, end, account))

    def charge(
        self,
        account: str,
        model: str,
        timestamp: int,
        input_tokens: int = 0,
        output_tokens: int = 0,
        images: int = 0,
        *,
        request_id: str | None = None,
    ) -> ApiCall:
        """Record the request if it fits in what is left of the account's allotment; otherwise
        raise `Refused` with the reason (and record nothing). `request_id` is the request's
        identity in the store (a random one when not given); a request id that is recorded
        already is refused, so a retried request is never charged twice."""
        return self.charge_with_receipt(account, model, timestamp, input_tokens, output_tokens, images,
                                        request_id=request_id).call  # fmt: skip

    def charge_with_receipt(
        self,
        account: str,
        model: str,
        timestamp: int,
        input_tokens: int = 0,
        output_tokens: int = 0,
        images: int = 0,
        *,
        request_id: str | None = None,
    ) -> Charged:
        """`charge`, returning the recorded call with the receipt it got: the account's first
        charged call of the epoch gets one when the meter has a signer, later ones get None."""
        account = normalize_account(account)
        start, end = self._window()
        if not start <= timestamp <= end:
            raise Refused(f"timestamp {timestamp} is outside epoch {self.epoch} ({start}..{end})")
        try:
            cost = self.prices.cost(model, input_tokens, output_tokens, images)
        except PricingError as err:
            raise Refused(str(err)) from None
        allotment = self.allotments.of(account)
        if allotment == 0:
            raise Refused(
                f"{account} has no VCU allotment for epoch {self.epoch}: it is not an active staker "
                "(a stake at the snapshot and an API call in the 7 days before it)"
            )
        request_id = request_id if request_id is not None else uuid.uuid4().hex
        call = ApiCall(timestamp, account, model, input_tokens, output_tokens, images, cost, request_id)
        with self.store.locked(f"meter:{account}:{self.epoch}") as tx:
            spent = tx.consumed(start, end, account)
            if spent + cost > allotment:
                raise Refused(
                    f"request costs {format_amount(cost)} VCU but only {format_amount(allotment - spent)} "
                    f"of {format_amount(allotment)} VCU are left for epoch {self.epoch}"
                )
            try:
                added = tx.add([call])
            except RequestIdConflict as err:
                raise Refused(str(err)) from None
            if not added:
                raise Refused(f"request id {request_id!r} is recorded already: not charged again")
            receipt = None
            if self.signer is not None and not tx.receipts(self.epoch, self.epoch, account):
                receipt = self.signer.sign(account, self.epoch)
                if not tx.add_receipt(receipt):  # under the (account, epoch) lock no other can be there
                    receipt = None
        return Charged(call, receipt)
