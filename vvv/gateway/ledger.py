"""The gateway's ledger: reservations and charges of VCU, atomic across gateway processes that
share one database.

A request first *reserves* its worst case. The check (allotment left today and the key's cap
left today, counting every live reservation) and the reservation row are one transaction under
the lock of (account, epoch) (`UsageStore.locked`: an advisory lock on Postgres, the write lock
on SQLite), so no number of concurrent requests or processes can reserve more than is left.
After the upstream answered, the request is *settled*: in one transaction under the same lock
its reservation is deleted and the usage row (the oracle's input) is written with the actual
cost, never more than was reserved; at the account's first charged call of the epoch the
activity receipt is signed and stored in that same transaction, so a receipt always has its
usage row. A reservation carries an expiry: a gateway killed mid-request leaves a row that
stops counting at its expiry and is purged by the next reservation of that account.

Tables, in the usage store's database: `gateway_reservations` (one row per request in flight)
and `gateway_key_spend` (VCU wei charged per key with a daily cap and epoch). Amounts
are VCU wei kept as decimal strings (SQLite has no exact wide integer type); the rows summed per
check are one account's reservations in flight and one key's counter."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Connection, Index, MetaData, String, Table, delete, select
from sqlalchemy.exc import SQLAlchemyError

from vvv.chain.epochs import EPOCH_LENGTH, epoch_start, snapshot_time
from vvv.chain.units import format_amount
from vvv.oracle.receipts import Receipt, ReceiptSigner
from vvv.oracle.usage import ApiCall, UsageError, UsageStore, UsageView, normalize_account

RESERVATION_TTL = 600  # seconds a reservation counts: longer than any upstream call may take

metadata = MetaData()

reservations = Table(
    "gateway_reservations",
    metadata,
    Column("request_id", String(128), primary_key=True),
    Column("account", String(42), nullable=False),
    Column("key_hash", String(66), nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("amount_wei", String(80), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_gateway_reservations_account_epoch", "account", "epoch"),
    Index("ix_gateway_reservations_key_epoch", "key_hash", "epoch"),
)

key_spend = Table(
    "gateway_key_spend",
    metadata,
    Column("key_hash", String(66), primary_key=True),
    Column("epoch", BigInteger, primary_key=True),
    Column("spent_wei", String(80), nullable=False),
)


class Exhausted(Exception):
    """The request's worst case does not fit in what is left (HTTP 402)."""

    def __init__(self, message: str, left: int, needed: int, resets_at: int) -> None:
        super().__init__(message)
        self.left = left
        self.needed = needed
        self.resets_at = resets_at


@dataclass(frozen=True)
class Reservation:
    request_id: str
    account: str
    key_hash: str
    epoch: int
    amount: int
    expires_at: int
    key_cap: int = 0  # the key's daily cap (0: none, and its spend need not be counted)


@dataclass(frozen=True)
class Settled:
    call: ApiCall
    receipt: Receipt | None


@dataclass(frozen=True)
class Budget:
    """What an account and one of its keys have left of an epoch (VCU wei)."""

    allotment: int
    spent: int
    reserved: int
    key_cap: int  # 0: the key has no cap of its own
    key_spent: int
    key_reserved: int

    @property
    def left(self) -> int:
        account_left = max(0, self.allotment - self.spent - self.reserved)
        if self.key_cap == 0:
            return account_left
        return min(account_left, max(0, self.key_cap - self.key_spent - self.key_reserved))


def _lock_key(account: str, epoch: int) -> str:
    return f"gateway:{account}:{epoch}"


class Ledger:
    """Reservations and charges over a usage store (see the module's notes)."""

    def __init__(self, store: UsageStore, signer: ReceiptSigner | None = None) -> None:
        self.store = store
        self.signer = signer
        self.has_receipt: set[tuple[str, int]] = set()  # (account, epoch) known to hold a receipt
        try:
            with store.engine.begin() as conn:
                metadata.create_all(conn, checkfirst=True)
        except SQLAlchemyError as err:
            reason = err.__class__.__name__
            raise UsageError(f"usage store {store.url}: cannot add the gateway's tables ({reason})") from None

    def budget(self, view: UsageView, conn: Connection, account: str, key: str, cap: int, allotment: int,
               epoch: int, now: int) -> Budget:  # fmt: skip
        """What is left; expired reservations of the account are deleted on the way."""
        r = reservations.c
        held = conn.execute(
            select(r.request_id, r.key_hash, r.amount_wei, r.expires_at).where(r.account == account)
        ).all()  # this account's requests in flight: a handful
        expired = [row.request_id for row in held if row.expires_at <= now]
        if expired:
            conn.execute(delete(reservations).where(r.request_id.in_(expired)))
        live = [row for row in held if row.expires_at > now]
        spent_of_key = select(key_spend.c.spent_wei).where(key_spend.c.key_hash == key, key_spend.c.epoch == epoch)
        return Budget(
            allotment=allotment,
            spent=view.consumed(epoch_start(epoch), snapshot_time(epoch), account),
            reserved=sum(int(row.amount_wei) for row in live),
            key_cap=cap,
            key_spent=sum(int(v) for (v,) in conn.execute(spent_of_key)) if cap else 0,
            key_reserved=sum(int(row.amount_wei) for row in live if row.key_hash == key),
        )

    def reserve(self, request_id: str, account: str, key: str, cap: int, allotment: int, amount: int,
                now: int) -> Reservation:  # fmt: skip
        """Reserve `amount` VCU wei of today for `account` and its key `key` (daily cap `cap`,
        0: none), or raise `Exhausted` saying what is left and when it resets."""
        account = normalize_account(account)
        epoch = now // EPOCH_LENGTH
        resets = epoch_start(epoch + 1)
        with self.store.locked(_lock_key(account, epoch)) as view, view._connect() as conn:
            budget = self.budget(view, conn, account, key, cap, allotment, epoch, now)
            if allotment == 0:
                raise Exhausted(
                    f"{account} has no VCU allotment today (epoch {epoch}): it is not an active staker "
                    "(a stake at the snapshot and an API call in the 7 days before it)",
                    0, amount, resets,
                )  # fmt: skip
            if amount > budget.left:
                whose = "this key's daily cap" if budget.key_cap and budget.left < (
                    budget.allotment - budget.spent - budget.reserved) else "today's allotment"  # fmt: skip
                raise Exhausted(
                    f"this request may cost up to {format_amount(amount)} VCU but {format_amount(budget.left)} VCU "
                    f"are left of {whose} (epoch {epoch}); it resets at midnight UTC",
                    budget.left, amount, resets,
                )  # fmt: skip
            r = Reservation(request_id, account, key, epoch, amount, now + RESERVATION_TTL, cap)
            conn.execute(reservations.insert().values(
                request_id=r.request_id, account=r.account, key_hash=r.key_hash, epoch=r.epoch,
                amount_wei=str(r.amount), expires_at=r.expires_at,
            ))  # fmt: skip
        return r

    def release(self, r: Reservation) -> None:
        """Drop a reservation whose request was not charged (the upstream failed)."""
        with self.store.locked(_lock_key(r.account, r.epoch)) as view, view._connect() as conn:
            conn.execute(delete(reservations).where(reservations.c.request_id == r.request_id))

    def _receipt(self, view: UsageView, account: str, epoch: int) -> Receipt | None:
        """Sign and store the account's receipt of the epoch unless it has one (a receipt,
        once stored, stays: the answer is kept in this process)."""
        if self.signer is None or (account, epoch) in self.has_receipt:
            return None
        if view.receipts(epoch, epoch, account):
            return None
        receipt = self.signer.sign(account, epoch)
        return receipt if view.add_receipt(receipt) else None

    def mark_active(self, r: Reservation, timestamp: int, model: str) -> Receipt | None:
        """For a stream, whose headers leave before its usage is known: if the account has no
        receipt for the epoch yet, store a zero-cost usage row (API activity) and the receipt
        together, and return the receipt for the response's header."""
        if self.signer is None or (r.account, r.epoch) in self.has_receipt:
            return None
        with self.store.locked(_lock_key(r.account, r.epoch)) as view:
            if view.receipts(r.epoch, r.epoch, r.account):
                return None
            view.add([ApiCall(timestamp, r.account, model, 0, 0, 0, 0, f"{r.request_id}:start")])
            receipt = self._receipt(view, r.account, r.epoch)
        self.has_receipt.add((r.account, r.epoch))  # committed: the account holds its receipt
        return receipt

    def settle(self, r: Reservation, call: ApiCall) -> Settled:
        """Charge `call` (its cost capped at the reservation) and drop the reservation, in one
        transaction; with a signer, the account's first charged call of the epoch gets its
        receipt in that transaction."""
        cost = min(call.vcu_cost, r.amount)
        charged = ApiCall(call.timestamp, r.account, call.model, call.input_tokens, call.output_tokens,
                          call.images, cost, r.request_id)  # fmt: skip
        with self.store.locked(_lock_key(r.account, r.epoch)) as view, view._connect() as conn:
            conn.execute(delete(reservations).where(reservations.c.request_id == r.request_id))
            view.add_fresh(charged)  # the request id is the gateway's own, made for this request
            if cost and r.key_cap:  # a key's cap never changes: an uncapped key's spend is not needed
                this_key = (key_spend.c.key_hash == r.key_hash, key_spend.c.epoch == r.epoch)
                row = conn.execute(select(key_spend.c.spent_wei).where(*this_key)).first()
                if row is None:
                    conn.execute(key_spend.insert().values(key_hash=r.key_hash, epoch=r.epoch, spent_wei=str(cost)))
                else:
                    conn.execute(key_spend.update().where(*this_key).values(spent_wei=str(int(row[0]) + cost)))
            receipt = self._receipt(view, r.account, r.epoch)
        if self.signer is not None:
            self.has_receipt.add((r.account, r.epoch))  # committed: the account holds its receipt
        return Settled(charged, receipt)
