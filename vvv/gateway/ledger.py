"""The gateway's ledger: reservations and charges of VCU, atomic across gateway processes that
share one database.

A request first *reserves* its worst case. The check (allotment left today and the key's cap
left today, counting every reservation not yet settled) and the reservation are one transaction
under the lock of (account, epoch) (`UsageStore.locked`: an advisory lock on Postgres, the write
lock on SQLite), so no number of concurrent requests or processes can reserve more than is left.
After the upstream answered, the request is *settled*: in one transaction under the same lock
its reservation is deleted and the usage row (the oracle's input) is written with the actual
cost, never more than was reserved; at the account's first charged call of the epoch the
activity receipt is signed and stored in that same transaction, so a receipt always has its
usage row. The charge keeps the reservation's epoch and its start time, even when it settles
after midnight.

A reservation holds until it is settled. One that is still there at its expiry (its gateway was
killed, or lost the store while the request was in flight) is *charged in full* by `expire`
(each gateway runs it every minute): a usage row of the reserved amount, never a release. Until
then it counts as reserved, and after it as spent, so an account never spends its allotment
twice; a settlement that arrives after its reservation was charged in full changes nothing.

The checks read running totals, never sums over the day's rows: `gateway_totals` holds per
account and epoch the VCU wei spent and reserved, `gateway_key_totals` the same per key with a
daily cap (an uncapped key's spend is not needed), both updated in the transactions that
reserve, settle, release or expire; so a check costs the same at the end of a busy day as at
its start. A totals row starts, at its first use, from what the store holds already (the
account's usage rows of the epoch, the older `gateway_key_spend` counter, reservations made
before the totals existed), so a store written by an older gateway keeps its counts.

Tables, in the usage store's database: `gateway_reservations` (one row per request in flight;
defined in `vvv.oracle.usage`, which the oracle reads it through),
`gateway_totals`, `gateway_key_totals`. Amounts are VCU wei kept as decimal strings (SQLite has
no exact wide integer type)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    MetaData,
    Numeric,
    String,
    Table,
    cast,
    delete,
    inspect,
    literal,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from vvv.chain.epochs import EPOCH_LENGTH, epoch_start, snapshot_time
from vvv.chain.units import format_amount
from vvv.oracle.receipts import Receipt, ReceiptSigner
from vvv.oracle.usage import (
    ApiCall,
    UsageError,
    UsageStore,
    UsageView,
    normalize_account,
    reservation_metadata,
    reservations,
)

RESERVATION_TTL = 600  # seconds a request may last (SPEC): its reservation is charged in full after
EXPIRE_BATCH = 200  # expired reservations charged per `expire` call

metadata = MetaData()

# A request's two writes on PostgreSQL, each one statement (one round trip), built once: the
# reservation's insert with the account's totals (the values read under the lock); the
# reservation's delete with the charge added to the totals by exact NUMERIC arithmetic, only if
# the reservation was still there (the counts: deleted, and totals rows updated).
RESERVE_ON_POSTGRES = text(
    "WITH moved AS (UPDATE gateway_totals SET spent_wei = :spent, reserved_wei = :reserved "
    "WHERE account = :account AND epoch = :epoch) "
    "INSERT INTO gateway_reservations (request_id, account, key_hash, epoch, amount_wei, expires_at, model, started, "
    "key_cap_wei) VALUES (:request_id, :account, :key_hash, :epoch, :amount_wei, :expires_at, :model, :started, "
    ":key_cap_wei)"
)
SETTLE_ON_POSTGRES = text(
    "WITH gone AS (DELETE FROM gateway_reservations WHERE request_id = :request_id RETURNING request_id), "
    "moved AS (UPDATE gateway_totals SET "
    "spent_wei = CAST(CAST(spent_wei AS NUMERIC) + CAST(:spent AS NUMERIC) AS VARCHAR), "
    "reserved_wei = CAST(CAST(reserved_wei AS NUMERIC) + CAST(:reserved AS NUMERIC) AS VARCHAR) "
    "WHERE account = :account AND epoch = :epoch AND EXISTS (SELECT 1 FROM gone) RETURNING 1) "
    "SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM moved)"
)

NEW_COLUMNS = ("model", "started", "key_cap_wei")  # added to an older store's table


def _totals_table(name: str, owner: Column) -> Table:
    """VCU wei spent and reserved per owner (an account, or a capped key) and epoch."""
    return Table(
        name,
        metadata,
        owner,
        Column("epoch", BigInteger, primary_key=True, autoincrement=False),
        Column("spent_wei", String(80), nullable=False),
        Column("reserved_wei", String(80), nullable=False),
    )


totals = _totals_table("gateway_totals", Column("account", String(42), primary_key=True))
key_totals = _totals_table("gateway_key_totals", Column("key_hash", String(66), primary_key=True))

legacy_key_spend = Table(  # an older gateway's counter of a capped key's spend, read once per (key, epoch)
    "gateway_key_spend",
    MetaData(),
    Column("key_hash", String(66), primary_key=True),
    Column("epoch", BigInteger, primary_key=True),
    Column("spent_wei", String(80), nullable=False),
)


class Exhausted(Exception):
    """The request's worst case does not fit in what is left (HTTP 402). `active`: the refusal
    counts as API activity (the account has a stake and only its VCU were short), and
    `receipt` is the activity receipt it made, if this was the account's first of the epoch."""

    def __init__(self, message: str, left: int, needed: int, resets_at: int, *, active: bool = False,
                 no_allotment: bool = False, receipt: Receipt | None = None, request_id: str = "") -> None:  # fmt: skip
        super().__init__(message)
        self.left = left
        self.needed = needed
        self.resets_at = resets_at
        self.active = active
        self.no_allotment = no_allotment
        self.receipt = receipt
        self.request_id = request_id


@dataclass(frozen=True)
class Reservation:
    request_id: str
    account: str
    key_hash: str
    epoch: int
    amount: int
    expires_at: int
    key_cap: int = 0  # the key's daily cap (0: none, and its spend need not be counted)
    model: str = ""
    started: int = 0  # the request's time
    receipt: Receipt | None = None  # the activity receipt made with this reservation (the epoch's first)


@dataclass(frozen=True)
class Settled:
    call: ApiCall  # what was charged
    receipt: Receipt | None
    late: bool = False  # the reservation had expired and was charged in full already


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
    def account_left(self) -> int:
        return max(0, self.allotment - self.spent - self.reserved)

    @property
    def left(self) -> int:
        if self.key_cap == 0:
            return self.account_left
        return min(self.account_left, max(0, self.key_cap - self.key_spent - self.key_reserved))


def _lock_key(account: str, epoch: int) -> str:
    return f"gateway:{account}:{epoch}"


class Ledger:
    """Reservations and charges over a usage store (see the module's notes)."""

    def __init__(self, store: UsageStore, signer: ReceiptSigner | None = None) -> None:
        self.store = store
        self.signer = signer
        self.has_receipt: set[tuple[str, int]] = set()  # (account, epoch) known to hold a receipt
        self.has_activity: set[tuple[str, int]] = set()  # (account, epoch) known to be API-active
        try:
            with store.engine.begin() as conn:
                reservation_metadata.create_all(conn, checkfirst=True)
                metadata.create_all(conn, checkfirst=True)
                _upgrade(conn)
        except SQLAlchemyError as err:
            reason = err.__class__.__name__
            raise UsageError(f"usage store {store.url}: cannot add the gateway's tables ({reason})") from None

    # ------------------------------------------------------------ running totals

    def _totals(self, view: UsageView, conn: Connection, account: str, epoch: int) -> tuple[int, int]:
        """(spent, reserved) of the account in the epoch; the row is made at its first use."""
        t = totals.c
        row = conn.execute(select(t.spent_wei, t.reserved_wei).where(t.account == account, t.epoch == epoch)).first()
        if row is not None:
            return int(row[0]), int(row[1])
        spent = view.consumed(epoch_start(epoch), snapshot_time(epoch), account)
        r = reservations.c
        held = select(r.amount_wei).where(r.account == account, r.epoch == epoch)
        reserved = sum(int(v) for (v,) in conn.execute(held))
        conn.execute(totals.insert().values(account=account, epoch=epoch, spent_wei=str(spent),
                                            reserved_wei=str(reserved)))  # fmt: skip
        return spent, reserved

    def _key_totals(self, conn: Connection, key: str, epoch: int) -> tuple[int, int]:
        """(spent, reserved) of a capped key in the epoch; the row is made at its first use."""
        t = key_totals.c
        row = conn.execute(select(t.spent_wei, t.reserved_wei).where(t.key_hash == key, t.epoch == epoch)).first()
        if row is not None:
            return int(row[0]), int(row[1])
        spent = 0
        if inspect(conn).has_table(legacy_key_spend.name):
            old = legacy_key_spend.c
            spent = sum(int(v) for (v,) in conn.execute(
                select(old.spent_wei).where(old.key_hash == key, old.epoch == epoch)))  # fmt: skip
        r = reservations.c
        reserved = sum(int(v) for (v,) in conn.execute(select(r.amount_wei).where(r.key_hash == key, r.epoch == epoch)))
        conn.execute(key_totals.insert().values(key_hash=key, epoch=epoch, spent_wei=str(spent),
                                                reserved_wei=str(reserved)))  # fmt: skip
        return spent, reserved

    def _move(self, view: UsageView, conn: Connection, r: Reservation, spent: int, reserved: int,
              budget: Budget | None = None, account: bool = True) -> None:  # fmt: skip
        """Add `spent` and `reserved` (either may be negative) to the totals of r's account
        (unless `account` is False: done already) and, if capped, of its key (from the values
        `budget` read in this transaction, if given)."""
        if account:
            _add(conn, totals, totals.c.account == r.account, r.epoch,
                 (budget.spent, budget.reserved) if budget else None, spent, reserved,
                 lambda: self._totals(view, conn, r.account, r.epoch))  # fmt: skip
        if r.key_cap:
            _add(conn, key_totals, key_totals.c.key_hash == r.key_hash, r.epoch,
                 (budget.key_spent, budget.key_reserved) if budget else None, spent, reserved,
                 lambda: self._key_totals(conn, r.key_hash, r.epoch))  # fmt: skip

    def totals(self, account: str, epoch: int) -> tuple[int, int]:
        """(spent, reserved) VCU wei of an account in an epoch, as the checks read them."""
        account = normalize_account(account)
        with self.store.locked(_lock_key(account, epoch)) as view, view._connect() as conn:
            return self._totals(view, conn, account, epoch)

    def budget(self, view: UsageView, conn: Connection, account: str, key: str, cap: int, allotment: int,
               epoch: int) -> Budget:  # fmt: skip
        """What is left, from the running totals (one row each)."""
        spent, reserved = self._totals(view, conn, account, epoch)
        key_spent, key_reserved = self._key_totals(conn, key, epoch) if cap else (0, 0)
        return Budget(allotment, spent, reserved, cap, key_spent, key_reserved)

    # ------------------------------------------------------------ a request's life

    def reserve(self, request_id: str, account: str, key: str, cap: int, allotment: int, amount: int, now: int,
                model: str = "", ttl: int = RESERVATION_TTL, staked: bool | None = None) -> Reservation:  # fmt: skip
        """Reserve `amount` VCU wei of today for `account` and its key `key` (daily cap `cap`,
        0: none) for at most `ttl` seconds, or raise `Exhausted` saying what is left and when
        it resets.

        Activity (SPEC, "What counts as an API call"): a request of an account with a stake
        (`staked`; default: it has an allotment) that is served, or refused only because the
        account has no VCU left today, makes the account API-active in the request's epoch: its
        first such request of the epoch stores a zero-cost usage row and the activity receipt in
        the transaction that reserves, or that refuses it (the refusal is committed, then
        raised). A refusal by the key's own cap is not activity and writes nothing."""
        account = normalize_account(account)
        epoch = now // EPOCH_LENGTH
        resets = epoch_start(epoch + 1)
        staked = allotment > 0 if staked is None else staked
        refusal: Exhausted | None = None
        with self.store.locked(_lock_key(account, epoch)) as view, view._connect() as conn:
            budget = self.budget(view, conn, account, key, cap, allotment, epoch)
            key_left = max(0, budget.key_cap - budget.key_spent - budget.key_reserved)
            if budget.key_cap and amount > key_left and allotment > 0:
                raise Exhausted(
                    f"this request may cost up to {format_amount(amount)} VCU but {format_amount(key_left)} VCU "
                    f"are left of this key's daily cap (epoch {epoch}); it resets at midnight UTC",
                    key_left, amount, resets, request_id=request_id,
                )  # fmt: skip
            receipt = self._activity(view, account, epoch, now, model, request_id) if staked else None
            if allotment == 0:
                why = ("it is not API-active yet (an API call in the 7 days before the snapshot makes it active)"
                       if staked else "it has no stake")  # fmt: skip
                refusal = Exhausted(
                    f"{account} has no VCU allotment today (epoch {epoch}): {why}",
                    0, amount, resets, active=staked, no_allotment=True, receipt=receipt, request_id=request_id,
                )  # fmt: skip
            elif amount > budget.account_left:
                refusal = Exhausted(
                    f"this request may cost up to {format_amount(amount)} VCU but {format_amount(budget.account_left)} "
                    f"VCU are left of today's allotment (epoch {epoch}); it resets at midnight UTC",
                    budget.account_left, amount, resets, active=staked, receipt=receipt, request_id=request_id,
                )  # fmt: skip
            else:
                r = Reservation(request_id, account, key, epoch, amount, now + ttl, cap, model, now, receipt)
                row = {"request_id": r.request_id, "account": r.account, "key_hash": r.key_hash, "epoch": r.epoch,
                       "amount_wei": str(r.amount), "expires_at": r.expires_at, "model": model, "started": now,
                       "key_cap_wei": str(cap)}  # fmt: skip
                if conn.dialect.name == "postgresql":  # the insert and the account's totals in one statement
                    conn.execute(RESERVE_ON_POSTGRES, row | {"spent": str(budget.spent),
                                                             "reserved": str(budget.reserved + amount)})  # fmt: skip
                    self._move(view, conn, r, 0, amount, budget, account=False)
                else:
                    conn.execute(reservations.insert().values(row))
                    self._move(view, conn, r, 0, amount, budget)
        if staked:
            self.has_activity.add((account, epoch))  # committed: the account is active in the epoch
        if refusal is not None:
            raise refusal
        return r

    def _activity(self, view: UsageView, account: str, epoch: int, now: int, model: str,
                  request_id: str) -> Receipt | None:  # fmt: skip
        """The account's API activity of the epoch, once: a zero-cost usage row and (with a
        signer) its receipt, in the caller's transaction; the receipt when one was made now."""
        if (account, epoch) in self.has_activity or (self.signer is not None and (account, epoch) in self.has_receipt):
            return None
        if self.signer is not None:
            if view.receipts(epoch, epoch, account):
                return None
        elif view.is_active(account, epoch_start(epoch), snapshot_time(epoch)):
            return None
        view.add([ApiCall(now, account, model or "unknown", 0, 0, 0, 0, f"{request_id}:activity")])
        return self._receipt(view, account, epoch)

    def release(self, r: Reservation) -> None:
        """Drop a reservation whose request did no work (the upstream refused it or could not be
        reached); a reservation charged in full already stays charged."""
        with self.store.locked(_lock_key(r.account, r.epoch)) as view, view._connect() as conn:
            gone = conn.execute(delete(reservations).where(reservations.c.request_id == r.request_id)).rowcount
            if gone == 1:
                self._move(view, conn, r, 0, -r.amount)

    def _receipt(self, view: UsageView, account: str, epoch: int) -> Receipt | None:
        """Sign and store the account's receipt of the epoch unless it has one (a receipt,
        once stored, stays: the answer is kept in this process)."""
        if self.signer is None or (account, epoch) in self.has_receipt:
            return None
        if view.receipts(epoch, epoch, account):
            return None
        receipt = self.signer.sign(account, epoch)
        return receipt if view.add_receipt(receipt) else None

    def _charge(self, view: UsageView, conn: Connection, r: Reservation, call: ApiCall) -> bool:
        """Turn the reservation into the charge `call` (at most the reservation); False when
        the reservation is gone (charged in full at its expiry already)."""
        if conn.dialect.name != "postgresql":
            if conn.execute(delete(reservations).where(reservations.c.request_id == r.request_id)).rowcount != 1:
                return False
            view.add_fresh(call)  # the request id is the gateway's own, made for this request
            self._move(view, conn, r, call.vcu_cost, -r.amount)
            return True
        # PostgreSQL: the reservation's delete and the account's totals in one statement
        params = {"request_id": r.request_id, "account": r.account, "epoch": r.epoch, "spent": str(call.vcu_cost),
                  "reserved": str(-r.amount)}  # fmt: skip
        deleted, updated = conn.execute(SETTLE_ON_POSTGRES, params).one()
        if deleted != 1:
            return False
        view.add_fresh(call)
        if updated != 1:
            self._totals(view, conn, r.account, r.epoch)  # no row yet: made now, this charge included
        self._move(view, conn, r, call.vcu_cost, -r.amount, account=False)
        return True

    def settle(self, r: Reservation, call: ApiCall) -> Settled:
        """Charge `call` (its cost capped at the reservation) and drop the reservation, in one
        transaction; with a signer, the account's first charged call of the epoch gets its
        receipt in that transaction. A reservation that expired meanwhile was charged in full:
        then nothing changes (`late`)."""
        cost = min(call.vcu_cost, r.amount)
        # the charge keeps its reservation's epoch and start time, even when it settles after midnight
        charged = ApiCall(r.started or call.timestamp, r.account, call.model, call.input_tokens, call.output_tokens,
                          call.images, cost, r.request_id)  # fmt: skip
        with self.store.locked(_lock_key(r.account, r.epoch)) as view, view._connect() as conn:
            if not self._charge(view, conn, r, charged):
                return Settled(_in_full(r), None, late=True)
            receipt = self._receipt(view, r.account, r.epoch)
        if self.signer is not None:
            self.has_receipt.add((r.account, r.epoch))  # committed: the account holds its receipt
        return Settled(charged, receipt)

    def expire(self, now: int, limit: int = EXPIRE_BATCH) -> int:
        """Charge in full up to `limit` reservations that expired at or before `now` (of any
        account and epoch), each in its account's transaction; how many were charged."""
        r = reservations.c
        with self.store.view._connect() as conn:
            due = conn.execute(select(r.account, r.epoch).where(r.expires_at <= now).order_by(r.expires_at)
                               .limit(limit)).all()  # fmt: skip
        charged = 0
        for account, epoch in dict.fromkeys((row.account, int(row.epoch)) for row in due):
            with self.store.locked(_lock_key(account, epoch)) as view, view._connect() as conn:
                rows = conn.execute(select(reservations).where(r.account == account, r.epoch == epoch,
                                                               r.expires_at <= now)).all()  # fmt: skip
                for held in _reservations(rows):
                    charged += self._charge(view, conn, held, _in_full(held))
                if rows:
                    self._receipt(view, account, epoch)
        return charged


def _reservations(rows: list) -> Iterator[Reservation]:
    for row in rows:
        started = int(row.started) if row.started is not None else int(row.expires_at) - RESERVATION_TTL
        yield Reservation(row.request_id, row.account, row.key_hash, int(row.epoch), int(row.amount_wei),
                          int(row.expires_at), int(row.key_cap_wei or 0), row.model or "", started)  # fmt: skip


def _add(conn: Connection, table: Table, owner: ColumnElement, epoch: int, read: tuple[int, int] | None, spent: int,
         reserved: int, made: Callable[[], tuple[int, int]]) -> None:  # fmt: skip
    """Add to one totals row: to the values `read` in this transaction, else by PostgreSQL's
    arithmetic (no read), else to the row read now. A row not made yet is made by `made()`
    from what the store holds, the caller's change included (it is made after the change, so
    nothing is added to it)."""
    this = (owner, table.c.epoch == epoch)
    if read is None and conn.dialect.name != "postgresql":
        row = conn.execute(select(table.c.spent_wei, table.c.reserved_wei).where(*this)).first()
        if row is None:
            made()
            return
        read = int(row[0]), int(row[1])
    if conn.execute(table.update().where(*this).values(_moved(table.c, read, spent, reserved))).rowcount == 0:
        made()


def _moved(columns: ReadOnlyColumnCollection, read: tuple[int, int] | None, spent: int,
           reserved: int) -> dict[str, object]:  # fmt: skip
    """A totals row's new values: `read` plus the changes, or (None) the stored values plus the
    changes, added by PostgreSQL as exact NUMERIC (the amounts are decimal strings)."""
    if read is not None:
        return {"spent_wei": str(read[0] + spent), "reserved_wei": str(read[1] + reserved)}

    def plus(column: Column, change: int) -> ColumnElement:
        return cast(cast(column, Numeric) + cast(literal(str(change)), Numeric), String)

    return {"spent_wei": plus(columns.spent_wei, spent), "reserved_wei": plus(columns.reserved_wei, reserved)}


def _in_full(r: Reservation) -> ApiCall:
    """The charge of a reservation that expired unsettled: its whole amount, at its start."""
    timestamp = min(max(r.started, epoch_start(r.epoch)), snapshot_time(r.epoch))  # in the reservation's epoch
    return ApiCall(timestamp, r.account, r.model or "unknown", 0, 0, 0, r.amount, r.request_id)


def _upgrade(conn: Connection) -> None:
    """Give an older store's reservations table the columns and index this ledger uses."""
    have = {c["name"] for c in inspect(conn).get_columns(reservations.name)}
    preparer = conn.dialect.identifier_preparer
    for name in NEW_COLUMNS:
        if name not in have:
            kind = reservations.c[name].type.compile(dialect=conn.dialect)
            conn.execute(text(f"ALTER TABLE {reservations.name} ADD COLUMN {preparer.quote(name)} {kind}"))
    indexes = {i["name"] for i in inspect(conn).get_indexes(reservations.name)}
    for index in reservations.indexes:
        if index.name not in indexes:
            conn.execute(CreateIndex(index))
