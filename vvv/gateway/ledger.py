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
account and epoch the VCU wei spent and reserved, `gateway_key_totals` the same per key (every
key, so that its spend can be told), `gateway_key_periods` per key with a cap on a UTC month or
on its life (a period's row starts from the key's day totals), all updated in the transactions
that reserve, settle, release or expire; `gateway_key_minutes` counts a rated key's requests of
its latest minute; so a check costs the same at the end of a busy day as at
its start. A totals row starts, at its first use, from what the store holds already (the
account's usage rows of the epoch, the older `gateway_key_spend` counter, reservations made
before the totals existed), so a store written by an older gateway keeps its counts.

Tables, in the usage store's database: `gateway_reservations` (one row per request in flight;
defined in `vvv.oracle.usage`, which the oracle reads it through), `gateway_totals`,
`gateway_key_totals`, `gateway_key_periods`, `gateway_key_minutes`. Amounts are VCU wei kept as
decimal strings (SQLite has no exact wide integer type)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache, partial

from sqlalchemy import (
    CTE,
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    MetaData,
    Numeric,
    Select,
    String,
    Table,
    Update,
    and_,
    bindparam,
    cast,
    delete,
    inspect,
    literal,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql.dml import ReturningUpdate

from vvv.chain.epochs import EPOCH_LENGTH, epoch_start, snapshot_time
from vvv.chain.units import format_amount
from vvv.oracle.receipts import Receipt, ReceiptSigner
from vvv.oracle.usage import (
    CONTENT,
    ApiCall,
    UsageError,
    UsageStore,
    UsageView,
    api_calls,
    cost_parts,
    keyed_rows,
    normalize_account,
    reservation_metadata,
    reservations,
)

RESERVATION_TTL = 600  # seconds a request may last (SPEC): its reservation is charged in full after
EXPIRE_BATCH = 200  # expired reservations charged per `expire` call

metadata = MetaData()

NEW_COLUMNS = ("model", "started", "key_cap_wei", "key_periods")  # added to an older store's table
LIFE = "life"  # the period of a key's lifetime totals (a month's is "YYYY-MM")
MINUTE = 60  # seconds of a key's requests-per-minute window (a minute of the chain's clock)
WEI = Numeric(78, 0)  # exact on PostgreSQL: the totals' sums are done in the UPDATE there
Totals = tuple[int, int] | Callable[[], tuple[int, int]]  # (spent, reserved), or how to read them


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

key_periods = Table(  # a key's totals of a UTC month ("2030-03") or of its life ("life"), kept for a capped key
    "gateway_key_periods",
    metadata,
    Column("key_hash", String(66), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("spent_wei", String(80), nullable=False),
    Column("reserved_wei", String(80), nullable=False),
)
key_minutes = Table(  # a key's requests admitted in its latest minute, kept for a key with a rate
    "gateway_key_minutes",
    metadata,
    Column("key_hash", String(66), primary_key=True),
    Column("minute", BigInteger, nullable=False),  # unix time // 60 (the chain's clock)
    Column("requests", BigInteger, nullable=False),
)

legacy_key_spend = Table(  # an older gateway's counter of a capped key's spend, read once per (key, epoch)
    "gateway_key_spend",
    MetaData(),
    Column("key_hash", String(66), primary_key=True),
    Column("epoch", BigInteger, primary_key=True),
    Column("spent_wei", String(80), nullable=False),
)


@dataclass(frozen=True)
class KeyLimits:
    """A key's own limits (each 0: none): VCU wei a day, a UTC month and its whole life, and
    requests admitted a minute (the chain's clock)."""

    key_hash: str
    daily: int = 0
    monthly: int = 0
    lifetime: int = 0
    per_minute: int = 0

    @property
    def periods(self) -> str:
        """The periods beyond the day whose totals a request of this key moves: "m", "l", "ml" or ""."""
        return ("m" if self.monthly else "") + ("l" if self.lifetime else "")


@dataclass(frozen=True)
class Budget:
    """What an account and one of its keys have spent and reserved (VCU wei), read in one
    transaction: the account's day, the key's day, and (when capped) its month and life;
    `requests`: the key's requests admitted in the current minute (when it has a rate)."""

    allotment: int
    spent: int
    reserved: int
    limits: KeyLimits = field(default_factory=lambda: KeyLimits(""))
    day: tuple[int, int] = (0, 0)  # the key's (spent, reserved) of the epoch
    month: tuple[int, int] = (0, 0)
    life: tuple[int, int] = (0, 0)
    requests: int = 0
    epoch: int = 0
    minute: int = 0  # of `requests` (unix time // 60)

    @property
    def account_left(self) -> int:
        return max(0, self.allotment - self.spent - self.reserved)

    def caps_left(self) -> list[tuple[str, int, int]]:
        """(name, cap, left) of each cap the key has, in the order day, month, life."""
        caps = [("daily", self.limits.daily, self.day), ("monthly", self.limits.monthly, self.month),
                ("lifetime", self.limits.lifetime, self.life)]  # fmt: skip
        return [(name, cap, max(0, cap - used[0] - used[1])) for name, cap, used in caps if cap]

    @property
    def key_left(self) -> int:
        """What the key may still spend today: the least of the account's left and its caps' left."""
        return min([self.account_left, *(left for _, _, left in self.caps_left())])

    @property
    def requests_left(self) -> int:
        return max(0, self.limits.per_minute - self.requests)


class Exhausted(Exception):
    """The request's worst case does not fit in what is left (HTTP 402). `active`: the refusal
    counts as API activity (the account has a stake and only its VCU were short), and
    `receipt` is the activity receipt it made, if this was the account's first of the epoch.
    `budget`: what was left, as the refusal read it."""

    def __init__(self, message: str, left: int, needed: int, resets_at: int, *, active: bool = False,
                 no_allotment: bool = False, receipt: Receipt | None = None, request_id: str = "",
                 budget: Budget | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.left = left
        self.needed = needed
        self.resets_at = resets_at
        self.active = active
        self.no_allotment = no_allotment
        self.receipt = receipt
        self.request_id = request_id
        self.budget = budget


class RateLimited(Exception):
    """The key admitted its requests per minute already (HTTP 429); `resets_at` the next minute."""

    def __init__(self, message: str, resets_at: int, budget: Budget, request_id: str = "") -> None:
        super().__init__(message)
        self.resets_at = resets_at
        self.budget = budget
        self.request_id = request_id


@dataclass(frozen=True)
class Reservation:
    request_id: str
    account: str
    key_hash: str
    epoch: int
    amount: int
    expires_at: int
    key_cap: int = 0  # the key's daily cap (0: none)
    model: str = ""
    started: int = 0  # the request's time
    receipt: Receipt | None = None  # the activity receipt made with this reservation (the epoch's first)
    periods: str = ""  # the key's capped periods beyond the day ("m": its month, "l": its life)
    budget: Budget | None = None  # what was left once this was reserved


@dataclass(frozen=True)
class Settled:
    call: ApiCall  # what was charged
    receipt: Receipt | None
    late: bool = False  # the reservation had expired and was charged in full already
    budget: Budget | None = None  # what is left once charged (its spent and reserved; None: late)


def month_of(epoch: int) -> str:
    """The UTC month ("2030-03") of an epoch's day."""
    return datetime.fromtimestamp(epoch_start(epoch), UTC).strftime("%Y-%m")


def month_bounds(month: str) -> tuple[int, int]:
    """(first epoch, first epoch of the next month) of a month "YYYY-MM"."""
    year, number = int(month[:4]), int(month[5:7])
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp()) // EPOCH_LENGTH, int(end.timestamp()) // EPOCH_LENGTH


def _row_of(table: Table) -> ColumnElement[bool]:
    """A totals row, by its primary key bound as `k_<column>`."""
    return and_(*(column == bindparam(f"k_{column.name}") for column in table.primary_key.columns))


@cache
def _read(table: Table) -> Select:
    """The SELECT of a totals row's (spent, reserved), built once."""
    return select(table.c.spent_wei, table.c.reserved_wei).where(_row_of(table))


@cache
def _read_both() -> Select:
    """The account's and its key's totals rows of an epoch in one statement (bound as
    `k_account`, `k_key_hash`, `k_epoch`): a row of four values, None where a row is missing."""
    one = select(literal(1).label("one")).subquery()
    t, k = totals.c, key_totals.c
    account = and_(t.account == bindparam("k_account"), t.epoch == bindparam("k_epoch"))
    key = and_(k.key_hash == bindparam("k_key_hash"), k.epoch == bindparam("k_epoch"))
    return select(t.spent_wei, t.reserved_wei, k.spent_wei, k.reserved_wei).select_from(
        one.outerjoin(totals, account).outerjoin(key_totals, key)
    )


@cache
def _updates(table: Table) -> tuple[Update, ReturningUpdate]:
    """The UPDATEs of a totals table's row (bound by `k_<primary key column>`): one setting
    `d_spent` and `d_reserved`, one adding them (PostgreSQL: NUMERIC) and returning the row."""
    c, where = table.c, _row_of(table)
    plain = table.update().where(where).values(spent_wei=bindparam("d_spent"), reserved_wei=bindparam("d_reserved"))
    summed = (
        table.update()
        .where(where)
        .values(
            spent_wei=cast(cast(c.spent_wei, WEI) + bindparam("d_spent", type_=WEI), String),
            reserved_wei=cast(cast(c.reserved_wei, WEI) + bindparam("d_reserved", type_=WEI), String),
        )
        .returning(c.spent_wei, c.reserved_wei)
    )
    return plain, summed


@cache
def _charge_statement() -> Select:
    """A settlement's writes on PostgreSQL in one statement (bound as `rid`, `k_account`,
    `k_key_hash`, `k_epoch`, `d_spent`, `d_reserved` and the usage row's `c_<column>`): the
    reservation's DELETE, only while both totals rows exist, and, as data-modifying CTEs that
    run only when it deleted a row, the usage row's INSERT and the account's and the key's totals
    UPDATEs, which add in exact NUMERIC; the totals after (one row), or no row when nothing was
    deleted. Built once: a settlement binds values, it builds and compiles nothing."""
    r = reservations.c
    both = (
        select(literal(1)).where(_row_of(totals)).exists(),
        select(literal(1)).where(_row_of(key_totals)).exists(),
    )
    gone = delete(reservations).where(r.request_id == bindparam("rid"), *both).returning(r.request_id).cte("gone")
    deleted = select(gone.c.request_id).exists()
    columns = [*CONTENT, "request_id", "call_key", "vcu_hi", "vcu_lo"]
    row = select(*(bindparam(f"c_{name}", type_=api_calls.c[name].type) for name in columns)).where(deleted)
    usage_row = postgresql.insert(api_calls).from_select(columns, row)
    usage_row = usage_row.on_conflict_do_nothing(index_elements=["call_key"])
    return _totals_after(usage_row.cte("usage_row"), deleted)


HELD = ("request_id", "account", "key_hash", "epoch", "amount_wei", "expires_at", "model", "started", "key_cap_wei",
        "key_periods")  # fmt: skip


@cache
def _hold_statement() -> Select:
    """A reservation's writes on PostgreSQL in one statement (bound as `h_<column>` of the
    reservation, `k_account`, `k_key_hash`, `k_epoch`, `d_spent` 0 and `d_reserved`): its
    INSERT and, as data-modifying CTEs, the account's and the key's totals UPDATEs, which add in
    exact NUMERIC; the totals after (one row). Built once, like `_charge_statement`."""
    held = reservations.insert().values({name: bindparam(f"h_{name}") for name in HELD})
    return _totals_after(held.cte("held"))


def _totals_after(first: CTE, *when: ColumnElement[bool]) -> Select:
    """`first` (a data-modifying CTE), then the account's and the key's totals UPDATEs (bound
    as `k_account`, `k_key_hash`, `k_epoch`, `d_spent`, `d_reserved`; only `when` holds) as
    data-modifying CTEs, in one statement that returns the totals after: (account spent,
    reserved, key spent, reserved), one row when they ran."""
    account = _updates(totals)[1].where(*when).cte("account_totals")
    key = _updates(key_totals)[1].where(*when).cte("key_day_totals")
    after = select(account.c.spent_wei, account.c.reserved_wei, key.c.spent_wei, key.c.reserved_wei)
    return after.select_from(account.join(key, true())).add_cte(first)


def _lock_key(account: str, epoch: int) -> str:
    return f"gateway:{account}:{epoch}"


def _lock_periods(conn: Connection, key: str) -> None:
    """The lock of a key's month and life totals and its minute's count, which requests of two
    epochs (around midnight) both move: an advisory lock on Postgres (taken after the account's), the write
    lock already held on SQLite."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"gateway-key:{key}"})


class Ledger:
    """Reservations and charges over a usage store (see the module's notes)."""

    def __init__(self, store: UsageStore, signer: ReceiptSigner | None = None) -> None:
        self.store = store
        self.signer = signer
        self.has_receipt: set[tuple[str, int]] = set()  # (account, epoch) known to hold a receipt
        self.has_activity: set[tuple[str, int]] = set()  # (account, epoch) known to be API-active
        try:  # one process at a time: gateways started together on a new store race to create the tables
            with store.locked("vvv-gateway-schema") as view, view._connect() as conn:
                reservation_metadata.create_all(conn, checkfirst=True)
                metadata.create_all(conn, checkfirst=True)
                _upgrade(conn)
        except SQLAlchemyError as err:
            reason = err.__class__.__name__
            raise UsageError(f"usage store {store.url}: cannot add the gateway's tables ({reason})") from None

    # ------------------------------------------------------------ running totals

    def _totals(self, view: UsageView, conn: Connection, account: str, epoch: int) -> tuple[int, int]:
        """(spent, reserved) of the account in the epoch; the row is made at its first use."""
        row = conn.execute(_read(totals), {"k_account": account, "k_epoch": epoch}).first()
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
        """(spent, reserved) of a key in the epoch; the row is made at its first use."""
        row = conn.execute(_read(key_totals), {"k_key_hash": key, "k_epoch": epoch}).first()
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

    def _days(self, conn: Connection, key: str, period: str) -> tuple[int, int]:
        """(spent, reserved) of a key summed over its day totals of a month, or of its life
        (`LIFE`): a period's row starts from it, and a key with no cap on it is read from it."""
        k = key_totals.c
        days = select(k.spent_wei, k.reserved_wei).where(k.key_hash == key)
        if period != LIFE:
            first, end = month_bounds(period)
            days = days.where(k.epoch >= first, k.epoch < end)
        rows = conn.execute(days).all()
        return sum(int(row[0]) for row in rows), sum(int(row[1]) for row in rows)

    def _period_totals(self, conn: Connection, key: str, period: str) -> tuple[int, int]:
        """(spent, reserved) of a key with a cap on a month ("YYYY-MM") or on its life; the row
        is made at its first use (from the key's day totals), under `_lock_periods`."""
        row = conn.execute(_read(key_periods), {"k_key_hash": key, "k_period": period}).first()
        if row is not None:
            return int(row[0]), int(row[1])
        spent, reserved = self._days(conn, key, period)
        conn.execute(key_periods.insert().values(key_hash=key, period=period, spent_wei=str(spent),
                                                 reserved_wei=str(reserved)))  # fmt: skip
        return spent, reserved

    @staticmethod
    def _requests(conn: Connection, key: str, minute: int) -> int:
        """The key's requests admitted in `minute` (unix time // 60)."""
        m = key_minutes.c
        row = conn.execute(select(m.minute, m.requests).where(m.key_hash == key)).first()
        return int(row.requests) if row is not None and int(row.minute) == minute else 0

    @staticmethod
    def _count_request(conn: Connection, key: str, minute: int, requests: int) -> None:
        m = key_minutes.c
        counted = key_minutes.update().where(m.key_hash == key).values(minute=minute, requests=requests)
        if conn.execute(counted).rowcount == 0:
            conn.execute(key_minutes.insert().values(key_hash=key, minute=minute, requests=requests))

    @staticmethod
    def _add(conn: Connection, table: Table, row: dict[str, object], old: Totals, spent: int, reserved: int,
             made_holds: tuple[bool, bool] = (True, True)) -> tuple[int, int]:  # fmt: skip
        """Add `spent` and `reserved` to the totals row of `table` whose primary key is `row`;
        its values after. `old` is the row as read in this transaction, or how to read it
        (making it at its first use): then on PostgreSQL the row is not read first, the UPDATE
        adds exactly (NUMERIC) and returns it. The statements are built once (`_updates`).

        A row made now is made from what the store holds after the caller's change (the usage
        row added, the reservation deleted): `made_holds` says which of the two changes
        (spent, reserved) it already holds, and only the others are added to it, so a change
        is never counted twice."""
        plain, summed = _updates(table)
        keys = {f"k_{name}": value for name, value in row.items()}
        if callable(old):
            if conn.dialect.name == "postgresql":
                added = conn.execute(summed, keys | {"d_spent": spent, "d_reserved": reserved}).first()
                if added is not None:
                    return int(added[0]), int(added[1])
            else:
                stored = conn.execute(_read(table), keys).first()
                if stored is not None:
                    after = int(stored[0]) + spent, int(stored[1]) + reserved
                    conn.execute(plain, keys | {"d_spent": str(after[0]), "d_reserved": str(after[1])})
                    return after
            made = old()
            spent, reserved = (0 if made_holds[0] else spent), (0 if made_holds[1] else reserved)
            if spent == 0 and reserved == 0:
                return made
            old = made
        after = old[0] + spent, old[1] + reserved
        conn.execute(plain, keys | {"d_spent": str(after[0]), "d_reserved": str(after[1])})
        return after

    def _move(self, view: UsageView, conn: Connection, r: Reservation, spent: int, reserved: int,
              budget: Budget | None = None) -> Budget:  # fmt: skip
        """Add `spent` and `reserved` (either may be negative) to the totals of r's account and
        key (its day, and its capped month and life), as `budget` read them in this transaction
        (else as they stand); the totals after. (On PostgreSQL a key with no month or life cap
        has its reservation's and its settlement's writes in one statement instead:
        `_hold_at_once`, `_charge_at_once`.)"""
        account = self._add(conn, totals, {"account": r.account, "epoch": r.epoch},
                            (budget.spent, budget.reserved) if budget else
                            lambda: self._totals(view, conn, r.account, r.epoch), spent, reserved)  # fmt: skip
        day = self._add(
            conn,
            key_totals,
            {"key_hash": r.key_hash, "epoch": r.epoch},
            budget.day if budget else lambda: self._key_totals(conn, r.key_hash, r.epoch),
            spent,
            reserved,
            made_holds=(False, True),  # a key's spend is in no usage row
        )
        after: dict[str, tuple[int, int]] = {}
        if r.periods and budget is None:
            _lock_periods(conn, r.key_hash)
        for flag, name, period in (("m", "month", month_of(r.epoch)), ("l", "life", LIFE)):
            if flag in r.periods:
                old = getattr(budget, name) if budget else partial(self._period_totals, conn, r.key_hash, period)
                after[name] = self._add(conn, key_periods, {"key_hash": r.key_hash, "period": period}, old,
                                        spent, reserved)  # fmt: skip
        was = budget or r.budget or Budget(0, 0, 0, KeyLimits(r.key_hash, r.key_cap), epoch=r.epoch)
        return replace(was, spent=account[0], reserved=account[1], day=day, month=after.get("month", was.month),
                       life=after.get("life", was.life))  # fmt: skip

    def totals(self, account: str, epoch: int) -> tuple[int, int]:
        """(spent, reserved) VCU wei of an account in an epoch, as the checks read them."""
        account = normalize_account(account)
        with self.store.locked(_lock_key(account, epoch)) as view, view._connect() as conn:
            return self._totals(view, conn, account, epoch)

    def budget(self, view: UsageView, conn: Connection, account: str, limits: KeyLimits, allotment: int,
               epoch: int, minute: int = -1) -> Budget:  # fmt: skip
        """What is spent and reserved, from the running totals (one row each, both read in
        one statement; a row missing is made by `_totals` or `_key_totals`)."""
        key = limits.key_hash
        row = conn.execute(_read_both(), {"k_account": account, "k_key_hash": key, "k_epoch": epoch}).one()
        if row[0] is not None:
            spent, reserved = int(row[0]), int(row[1])
        else:
            spent, reserved = self._totals(view, conn, account, epoch)
        day = (int(row[2]), int(row[3])) if row[2] is not None else self._key_totals(conn, key, epoch)
        if limits.periods or limits.per_minute:  # rows that requests of two epochs may both move
            _lock_periods(conn, key)
        month = self._period_totals(conn, key, month_of(epoch)) if limits.monthly else (0, 0)
        life = self._period_totals(conn, key, LIFE) if limits.lifetime else (0, 0)
        requests = self._requests(conn, key, minute) if limits.per_minute else 0
        return Budget(allotment, spent, reserved, limits, day, month, life, requests, epoch, minute)

    def status(self, account: str, limits: KeyLimits, allotment: int, now: int) -> tuple[Budget, int, int]:
        """What a key has left at `now` and its spend (VCU wei charged) of the month and of its
        life: (budget, month's spend, life's spend). A key with no cap on a period has its spend
        of it summed from its day totals (kept since this gateway version)."""
        account = normalize_account(account)
        epoch = now // EPOCH_LENGTH
        with self.store.locked(_lock_key(account, epoch)) as view, view._connect() as conn:
            budget = self.budget(view, conn, account, limits, allotment, epoch, now // MINUTE)
            month = budget.month if limits.monthly else self._days(conn, limits.key_hash, month_of(epoch))
            life = budget.life if limits.lifetime else self._days(conn, limits.key_hash, LIFE)
        return budget, month[0], life[0]

    # ------------------------------------------------------------ a request's life

    def reserve(self, request_id: str, account: str, key: str, cap: int | KeyLimits, allotment: int, amount: int,
                now: int, model: str = "", ttl: int = RESERVATION_TTL,
                staked: bool | None = None) -> Reservation:  # fmt: skip
        """Reserve `amount` VCU wei of today for `account` and its key `key` (its limits `cap`:
        a `KeyLimits`, or its daily cap, 0: none) for at most `ttl` seconds, or raise
        `Exhausted` saying what is left and when it resets (`RateLimited`: the key admitted its
        requests of this minute already).

        Activity (SPEC, "What counts as an API call"): a request of an account with a stake
        (`staked`; default: it has an allotment) that is served, or refused only because the
        account has no VCU left today, makes the account API-active in the request's epoch: its
        first such request of the epoch stores a zero-cost usage row and the activity receipt in
        the transaction that reserves, or that refuses it (the refusal is committed, then
        raised). A refusal by the key's own limits (rate, caps) is not activity and writes
        nothing."""
        account = normalize_account(account)
        limits = cap if isinstance(cap, KeyLimits) else KeyLimits(key, cap)
        epoch, minute = now // EPOCH_LENGTH, now // MINUTE
        resets = epoch_start(epoch + 1)
        staked = allotment > 0 if staked is None else staked
        refusal: Exhausted | None = None
        with self.store.locked(_lock_key(account, epoch)) as view, view._connect() as conn:
            budget = self.budget(view, conn, account, limits, allotment, epoch, minute)
            if limits.per_minute and budget.requests >= limits.per_minute:
                next_minute = (minute + 1) * MINUTE
                at = datetime.fromtimestamp(next_minute, UTC)
                raise RateLimited(
                    f"this key's limit of {limits.per_minute} requests a minute is reached; the next minute "
                    f"starts at {at:%H:%M:%S} UTC", next_minute, budget, request_id,
                )  # fmt: skip
            for name, _cap, left in budget.caps_left() if allotment > 0 else []:
                if amount > left:
                    when, at = _cap_reset(name, epoch)
                    raise Exhausted(
                        f"this request may cost up to {format_amount(amount)} VCU but {format_amount(left)} VCU "
                        f"are left of this key's {name} cap {when}", left, amount, at, request_id=request_id,
                        budget=budget,
                    )  # fmt: skip
            receipt = self._activity(view, account, epoch, now, model, request_id) if staked else None
            if allotment == 0:
                why = ("it is not API-active yet (an API call in the 7 days before the snapshot makes it active)"
                       if staked else "it has no stake")  # fmt: skip
                refusal = Exhausted(
                    f"{account} has no VCU allotment today (epoch {epoch}): {why}",
                    0, amount, resets, active=staked, no_allotment=True, receipt=receipt, request_id=request_id,
                    budget=budget,
                )  # fmt: skip
            elif amount > budget.account_left:
                refusal = Exhausted(
                    f"this request may cost up to {format_amount(amount)} VCU but {format_amount(budget.account_left)} "
                    f"VCU are left of today's allotment (epoch {epoch}); it resets at midnight UTC",
                    budget.account_left, amount, resets, active=staked, receipt=receipt, request_id=request_id,
                    budget=budget,
                )  # fmt: skip
            else:
                r = Reservation(request_id, account, key, epoch, amount, now + ttl, limits.daily, model, now, receipt,
                                limits.periods)  # fmt: skip
                if limits.per_minute:
                    self._count_request(conn, key, minute, budget.requests + 1)
                    budget = replace(budget, requests=budget.requests + 1)
                if conn.dialect.name == "postgresql" and not limits.periods:
                    r = replace(r, budget=self._hold_at_once(conn, r, budget))
                else:
                    held = reservations.insert().values(
                        request_id=r.request_id, account=r.account, key_hash=r.key_hash, epoch=r.epoch,
                        amount_wei=str(r.amount), expires_at=r.expires_at, model=model, started=now,
                        key_cap_wei=str(limits.daily), key_periods=limits.periods,
                    )  # fmt: skip
                    conn.execute(held)
                    r = replace(r, budget=self._move(view, conn, r, 0, amount, budget))
        if staked:
            self.has_activity.add((account, epoch))  # committed: the account is active in the epoch
        if refusal is not None:
            raise refusal
        return r

    @staticmethod
    def _hold_at_once(conn: Connection, r: Reservation, budget: Budget) -> Budget:
        """The reservation's row and its totals' updates in one round trip (PostgreSQL, a key
        with no month or life cap: `_hold_statement`, the totals rows read in this transaction
        exist); the totals after."""
        values = {"request_id": r.request_id, "account": r.account, "key_hash": r.key_hash, "epoch": r.epoch,
                  "amount_wei": str(r.amount), "expires_at": r.expires_at, "model": r.model, "started": r.started,
                  "key_cap_wei": str(r.key_cap), "key_periods": r.periods}  # fmt: skip
        after = conn.execute(_hold_statement(), {
            "k_account": r.account, "k_key_hash": r.key_hash, "k_epoch": r.epoch, "d_spent": 0,
            "d_reserved": r.amount, **{f"h_{name}": value for name, value in values.items()},
        }).one()  # fmt: skip
        return replace(budget, spent=int(after[0]), reserved=int(after[1]), day=(int(after[2]), int(after[3])))

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

    def _charge(self, view: UsageView, conn: Connection, r: Reservation, call: ApiCall) -> Budget | None:
        """Turn the reservation into the charge `call` (at most the reservation); the totals
        after, or None when the reservation is gone (charged in full at its expiry already)."""
        if conn.execute(delete(reservations).where(reservations.c.request_id == r.request_id)).rowcount != 1:
            return None
        view.add_fresh(call)  # the request id is the gateway's own, made for this request
        return self._move(view, conn, r, call.vcu_cost, -r.amount)

    def _charge_at_once(self, conn: Connection, r: Reservation, call: ApiCall) -> Budget | None:
        """`_charge` in one round trip (PostgreSQL, a key with no month or life cap:
        `_charge_statement`); None when it changed nothing: the reservation is gone, or a totals
        row is missing (made by `_charge` then)."""
        (row,), _ = keyed_rows([call])
        row["vcu_hi"], row["vcu_lo"] = cost_parts(call.vcu_cost, "postgresql")
        after = conn.execute(_charge_statement(), {
            "rid": r.request_id, "k_account": r.account, "k_key_hash": r.key_hash, "k_epoch": r.epoch,
            "d_spent": call.vcu_cost, "d_reserved": -r.amount, **{f"c_{name}": value for name, value in row.items()},
        }).first()  # fmt: skip
        if after is None:
            return None
        was = r.budget or Budget(0, 0, 0, KeyLimits(r.key_hash, r.key_cap), epoch=r.epoch)
        return replace(was, spent=int(after[0]), reserved=int(after[1]), day=(int(after[2]), int(after[3])))

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
            at_once = conn.dialect.name == "postgresql" and not r.periods
            after = (at_once and self._charge_at_once(conn, r, charged)) or self._charge(view, conn, r, charged)
            if after is None:
                return Settled(_in_full(r), None, late=True)
            receipt = self._receipt(view, r.account, r.epoch)
        if self.signer is not None:
            self.has_receipt.add((r.account, r.epoch))  # committed: the account holds its receipt
        return Settled(charged, receipt, budget=after)

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
                    charged += self._charge(view, conn, held, _in_full(held)) is not None
                if rows:
                    self._receipt(view, account, epoch)
        return charged


def _reservations(rows: list) -> Iterator[Reservation]:
    for row in rows:
        started = int(row.started) if row.started is not None else int(row.expires_at) - RESERVATION_TTL
        yield Reservation(row.request_id, row.account, row.key_hash, int(row.epoch), int(row.amount_wei),
                          int(row.expires_at), int(row.key_cap_wei or 0), row.model or "", started,
                          periods=row.key_periods or "")  # fmt: skip


def _cap_reset(name: str, epoch: int) -> tuple[str, int]:
    """How a key's cap refusal ends its message, and when the cap resets (0: never)."""
    if name == "daily":
        return f"(epoch {epoch}); it resets at midnight UTC", epoch_start(epoch + 1)
    if name == "monthly":
        month = month_of(epoch)
        end = epoch_start(month_bounds(month)[1])
        return f"({month}); it resets at {datetime.fromtimestamp(end, UTC):%Y-%m-%d} 00:00 UTC", end
    return "(the key's whole life); it never resets", 0


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
