"""The usage store: API calls `(timestamp, account, model, input_tokens, output_tokens, images,
vcu_cost, request_id)` in a SQLAlchemy database (a SQLite file by default, PostgreSQL in
production).

- A store is opened, never created by accident: `UsageStore(url)` fails with one line when the
  SQLite file or the `api_calls` table does not exist; `create=True` creates the tables.
- Every call has an identity, `call_key` (unique): `req:<request id>` when it has one, else
  `row:<sha256 of the normalized row>:<n>`, `n` counting identical rows before it in the same
  batch (file). Adding a call whose key is stored already adds nothing, so importing a file
  twice counts it once; a request id stored with other contents is an error.
- VCU costs are exact integers of VCU wei (up to uint256), kept as decimal strings (the call's
  identity) and, for aggregation in the database, split at bit 32: `vcu_hi = cost >> 32` and
  `vcu_lo = cost & (2**32 - 1)`, so that `cost = vcu_hi * 2**32 + vcu_lo` and a window's total
  is `SUM(vcu_hi) * 2**32 + SUM(vcu_lo)`. On PostgreSQL `vcu_hi` is NUMERIC(78,0), whose SUM is
  exact for any row count. On SQLite (64-bit signed INTEGER; no exact wide type, no decimal
  extension in Python's sqlite3) `vcu_hi` is an INTEGER, NULL for a cost of 2**95 wei (~4e10
  VCU) or more, whose rows are summed from their decimal strings; `SUM(vcu_lo)` is exact for up
  to 2**31 rows per window; `SUM(vcu_hi)` is exact until the window's total passes ~2**95 wei,
  and SQLite raises "integer overflow" (never wraps) past it, when the total is summed from the
  decimal strings instead. Either way the result is exact, with flat memory (rows streamed).
- Activity receipts (`vvv.oracle.receipts`), at most one per account and epoch, are kept in
  the table `activity_receipts` (added when an older store is opened).
- Imports from CSV or JSONL are all-or-nothing: every row is validated (also against the price
  table) first, and the first bad rows are reported with file and line."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql import Select

from vvv.chain.units import AmountError, format_amount, parse_amount
from vvv.oracle.pricing import PriceTable, PricingError
from vvv.oracle.receipts import Receipt

DEFAULT_URL = "sqlite:///usage.db"
FIELDS = ["timestamp", "account", "model", "input_tokens", "output_tokens", "images", "vcu_cost"]
OPTIONAL_FIELDS = ["request_id"]
MAX_REQUEST_ID = 128
CREATE_HINT = "pass --create-usage-db to create it"
MAX_REPORTED = 20  # bad lines named in an import error
CHUNK = 500  # rows per statement

metadata = MetaData()
api_calls = Table(
    "api_calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("timestamp", BigInteger, nullable=False),
    Column("account", String(42), nullable=False),  # lower-case 0x address
    Column("model", String(128), nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("images", BigInteger, nullable=False),
    Column("vcu_cost_wei", String(80), nullable=False),
    Column("request_id", String(MAX_REQUEST_ID), nullable=True),
    Column("call_key", String(160), nullable=False),
    # the cost split for SUM in the database (see the module's notes); NULL high part: see vcu_cost_wei
    Column("vcu_hi", Numeric(78, 0).with_variant(BigInteger, "sqlite"), nullable=True),
    Column("vcu_lo", BigInteger, nullable=True),
    Index("ix_api_calls_timestamp", "timestamp"),
    Index("ix_api_calls_account_timestamp", "account", "timestamp"),
    Index("ux_api_calls_call_key", "call_key", unique=True),
    Index("ix_api_calls_timestamp_cost", "timestamp", "vcu_hi", "vcu_lo"),  # the day's SUM from the index alone
)
COST_SPLIT = 32  # bits of vcu_lo
LOW_MASK = (1 << COST_SPLIT) - 1
SQLITE_MAX = 2**63 - 1  # SQLite's largest INTEGER
STREAM_ROWS = 10_000  # rows fetched at a time when rows are streamed
POOL_CONNECTIONS = 15  # a gateway's connections to a PostgreSQL store, kept open (SQLAlchemy's default most: 5 + 10)
# One activity receipt per account and epoch (vvv.oracle.receipts): the meter's signature,
# kept so that a staker left out of a report can get it back and prove the omission.
activity_receipts = Table(
    "activity_receipts",
    metadata,
    Column("account", String(42), primary_key=True),  # lower-case 0x address
    Column("epoch", BigInteger, primary_key=True, autoincrement=False),
    Column("signer", String(42), nullable=False),  # lower-case 0x address
    Column("signature", String(132), nullable=False),  # 0x + 65 bytes in hex
)
CONTENT = ["timestamp", "account", "model", "input_tokens", "output_tokens", "images", "vcu_cost_wei"]
# The gateway's requests in flight (`vvv.gateway.ledger` writes them): here, beside the usage rows,
# so that the oracle reads a day only once every reservation of the day has settled or expired,
# without importing the gateway. Created by the gateway (not with the store: a store no gateway
# used has none).
reservation_metadata = MetaData()
reservations = Table(
    "gateway_reservations",
    reservation_metadata,
    Column("request_id", String(128), primary_key=True),
    Column("account", String(42), nullable=False),
    Column("key_hash", String(66), nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("amount_wei", String(80), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("model", String(128), nullable=True),  # NULL in rows of an older gateway
    Column("started", BigInteger, nullable=True),  # the request's time (its charge's timestamp)
    Column("key_cap_wei", String(80), nullable=True),  # the key's daily cap; "0": none
    Column("key_periods", String(8), nullable=True),  # the key's capped periods beyond the day: "m", "l", "ml"
    Index("ix_gateway_reservations_account_epoch", "account", "epoch"),
    Index("ix_gateway_reservations_key_epoch", "key_hash", "epoch"),
    Index("ix_gateway_reservations_expires_at", "expires_at"),
)


@dataclass(frozen=True)
class InFlight:
    """The gateway's reservations of one epoch not settled yet: those that may still settle
    (`live`, with the latest expiry) and those that expired unsettled, which the gateway's sweep
    charges in full (their amount)."""

    live: int
    last_expiry: int
    expired_amount: int


class UsageError(ValueError):
    """A usage file or record is malformed, or the usage store cannot be used."""


class StoreMissing(UsageError):
    """The usage store does not exist (and was not to be created)."""


class RequestIdConflict(UsageError):
    """Calls whose request ids are stored already with other contents."""

    def __init__(self, request_ids: Sequence[str]) -> None:
        self.request_ids = list(request_ids)
        more = f" (and {len(self.request_ids) - 1} more)" if len(self.request_ids) > 1 else ""
        super().__init__(f"request id {self.request_ids[0]!r} {_CONFLICT}{more}")


_CONFLICT = "is already recorded with other contents"


@dataclass(frozen=True)
class ApiCall:
    timestamp: int
    account: str
    model: str
    input_tokens: int
    output_tokens: int
    images: int
    vcu_cost: int  # VCU wei
    request_id: str | None = None


@dataclass(frozen=True)
class ImportResult:
    read: int  # calls in the file
    added: int  # calls new to the store
    duplicates: int  # calls the store had already (or that repeat a call of the same file)


class UsageReader(Protocol):
    """What the report builder and the status read: a store, or a trial import's view."""

    def consumed(self, start: int, end: int, account: str | None = None) -> int: ...

    def active_accounts(self, start: int, end: int) -> list[str]: ...

    def count(self) -> int: ...

    def in_flight(self, epoch: int, now: int) -> InFlight: ...


def normalize_account(value: object) -> str:
    text = str(value).strip()
    if len(text) != 42 or not text.startswith("0x") or not all(c in "0123456789abcdefABCDEF" for c in text[2:]):
        raise UsageError(f"not an address: {text!r}")
    return text.lower()


def _count(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise UsageError(f"{name} must be a whole number >= 0, got {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise UsageError(f"{name} must be a whole number >= 0, got {value!r}") from None
    if number < 0:
        raise UsageError(f"{name} must be >= 0, got {number}")
    return number


def _request_id(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise UsageError(f"request_id must be text, got {value!r}")
    text = str(value).strip()
    if not text:
        return None
    if len(text) > MAX_REQUEST_ID or not text.isprintable():
        raise UsageError(f"request_id must be printable text of at most {MAX_REQUEST_ID} characters")
    return text


def parse_call(record: dict) -> ApiCall:
    """Validate one record (from CSV or JSON). `vcu_cost` is a VCU decimal ('0.0021');
    `request_id` is optional."""
    missing = [f for f in FIELDS if record.get(f) in (None, "")]
    if missing:
        raise UsageError(f"missing {', '.join(missing)}")
    unknown = set(record) - set(FIELDS) - set(OPTIONAL_FIELDS)
    if unknown:
        raise UsageError(f"unknown field(s) {', '.join(sorted(unknown))}")
    try:
        cost = parse_amount(record["vcu_cost"])
    except AmountError as err:
        raise UsageError(f"vcu_cost {err}") from None
    return ApiCall(
        timestamp=_count("timestamp", record["timestamp"]),
        account=normalize_account(record["account"]),
        model=str(record["model"]).strip(),
        input_tokens=_count("input_tokens", record["input_tokens"]),
        output_tokens=_count("output_tokens", record["output_tokens"]),
        images=_count("images", record["images"]),
        vcu_cost=cost,
        request_id=_request_id(record.get("request_id")),
    )


def check_price(call: ApiCall, prices: PriceTable) -> None:
    """The call's model is in the price table and its cost is the table's, to the wei."""
    if call.model not in prices.models:
        raise UsageError(f"model {call.model!r} is not in the price table")
    try:
        expected = prices.cost(call.model, call.input_tokens, call.output_tokens, call.images)
    except PricingError as err:
        raise UsageError(str(err)) from None
    if call.vcu_cost != expected:
        what = (f"{call.images} image(s)" if prices.models[call.model].kind == "image"
                else f"{call.input_tokens} input + {call.output_tokens} output tokens")  # fmt: skip
        raise UsageError(
            f"vcu_cost {format_amount(call.vcu_cost)} VCU differs from the price table's "
            f"{format_amount(expected)} VCU for {what} of {call.model}"
        )


def _bad_file(path: Path, errors: list[str]) -> UsageError:
    shown = "\n  ".join(errors[:MAX_REPORTED])
    more = f"\n  ... and {len(errors) - MAX_REPORTED} more" if len(errors) > MAX_REPORTED else ""
    return UsageError(f"{path} not imported, {len(errors)} bad line(s):\n  {shown}{more}")


def _read_lines(path: Path, prices: PriceTable) -> list[tuple[int, ApiCall]]:
    """Every call of the file with its line number; `UsageError` naming up to 20 bad lines if
    any line is bad (malformed, unpriced, mispriced, or a request id repeated with other
    contents)."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    errors: list[str] = []
    calls: list[tuple[int, ApiCall]] = []
    first_line: dict[str, tuple[int, ApiCall]] = {}
    for line_no, record in _records(path, errors):
        try:
            call = parse_call(record)
            check_price(call, prices)
        except UsageError as err:
            errors.append(f"{path.name}:{line_no}: {err}")
            continue
        if call.request_id is not None:
            seen = first_line.setdefault(call.request_id, (line_no, call))
            if seen[1] != call:
                errors.append(f"{path.name}:{line_no}: request id {call.request_id!r} is on line {seen[0]} "
                              "with other contents")  # fmt: skip
                continue
        calls.append((line_no, call))
    if errors:
        raise _bad_file(path, errors)
    return calls


def read_usage_file(path: Path, prices: PriceTable) -> list[ApiCall]:
    """Parse and check a whole CSV (with a header) or JSONL file; raise `UsageError` naming
    every bad line (up to 20) if any row is bad, so that nothing of a bad file is imported."""
    return [call for _, call in _read_lines(path, prices)]


def _records(path: Path, errors: list[str]) -> Iterator[tuple[int, dict]]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        with path.open() as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    errors.append(f"{path.name}:{line_no}: not JSON ({err.msg})")
                    continue
                if not isinstance(record, dict):
                    errors.append(f"{path.name}:{line_no}: not a JSON object")
                    continue
                yield line_no, record
    elif path.suffix.lower() == ".csv":
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            names = [f.strip() for f in reader.fieldnames or []]
            if names not in (FIELDS, FIELDS + OPTIONAL_FIELDS):
                errors.append(f"{path.name}:1: expected the header {','.join(FIELDS)} (then optionally ,request_id)")
                return
            reader.fieldnames = names
            for record in reader:
                if None in record or None in record.values():
                    errors.append(f"{path.name}:{reader.line_num}: expected {len(names)} fields")
                    continue
                yield reader.line_num, record
    else:
        raise UsageError(f"{path}: unknown file type (use .csv or .jsonl)")


def _content(call: ApiCall) -> dict[str, object]:
    return {
        "timestamp": call.timestamp,
        "account": normalize_account(call.account),
        "model": call.model,
        "input_tokens": call.input_tokens,
        "output_tokens": call.output_tokens,
        "images": call.images,
        "vcu_cost_wei": str(call.vcu_cost),
    }


def row_digest(content: dict[str, object]) -> str:
    """sha256 of a normalized row: its seven values (lower-case account, cost in wei) joined
    by '|' in the order of `CONTENT`."""
    return hashlib.sha256("|".join(str(content[c]) for c in CONTENT).encode()).hexdigest()


def keyed_rows(calls: Iterable[ApiCall]) -> tuple[list[dict[str, object]], int]:
    """The rows to store for a batch, each with its `call_key`, and how many calls of the batch
    repeat an earlier one (same request id and contents). A request id given twice with other
    contents raises `RequestIdConflict`. Identical rows without a request id are distinct calls,
    numbered by their order in the batch."""
    rows: dict[str, dict[str, object]] = {}
    occurrences: Counter[str] = Counter()
    repeats = 0
    for call in calls:
        content = _content(call)
        if call.request_id is not None:
            key = f"req:{call.request_id}"
            if key in rows:
                if {c: rows[key][c] for c in CONTENT} != content:
                    raise RequestIdConflict([call.request_id])
                repeats += 1
                continue
        else:
            digest = row_digest(content)
            key = f"row:{digest}:{occurrences[digest]}"
            occurrences[digest] += 1
        rows[key] = content | {"request_id": call.request_id, "call_key": key}
    return list(rows.values()), repeats


def _chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def cost_parts(cost: int, dialect: str) -> tuple[int | None, int | None]:
    """`(vcu_hi, vcu_lo)` of a cost in VCU wei for a store on `dialect` ("sqlite" or
    "postgresql"); both None on SQLite when the high part does not fit a 64-bit INTEGER (the
    row is then summed from its decimal string)."""
    high = cost >> COST_SPLIT
    if dialect == "sqlite" and high > SQLITE_MAX:
        return None, None
    return high, cost & LOW_MASK


def _is_overflow(err: DBAPIError) -> bool:
    return "integer overflow" in str(err.orig)


class UsageView:
    """Reads of the store (and `add`), each on a connection from `connect`: one transaction's
    connection (`UsageStore.locked`), or a fresh one per read (the store itself, and a trial
    import, whose `extra` rows are counted as if they were stored)."""

    def __init__(
        self, connect: Callable[[], AbstractContextManager[Connection]], extra: Sequence[dict[str, object]] = ()
    ) -> None:
        self._connect = connect
        self._extra = list(extra)

    @classmethod
    def on(cls, connection: Connection) -> UsageView:
        """A view whose reads and writes all go through `connection` (and its transaction)."""
        return cls(lambda: nullcontext(connection))

    def _in_window(self, start: int, end: int, account: str | None) -> list[dict[str, object]]:
        return [r for r in self._extra if start <= int(str(r["timestamp"])) <= end and account in (None, r["account"])]

    def consumed(self, start: int, end: int, account: str | None = None) -> int:
        """Total VCU wei of calls with start <= timestamp <= end (of one account if given),
        summed by the database (see the module's notes), exact to the wei."""
        t = api_calls.c
        where = [t.timestamp.between(start, end)]
        if account is not None:
            account = normalize_account(account)
            where.append(t.account == account)
        parts = select(func.sum(t.vcu_hi), func.sum(t.vcu_lo), func.count(), func.count(t.vcu_hi)).where(*where)
        with self._connect() as conn:
            try:
                high, low, rows, split_rows = conn.execute(parts).one()
            except DBAPIError as err:  # SQLite: SUM(vcu_hi) passed 2**63 (a total of ~2**95 wei or more)
                if not _is_overflow(err):
                    raise
                stored = _streamed_sum(conn, select(t.vcu_cost_wei).where(*where))
            else:
                stored = (int(high or 0) << COST_SPLIT) + int(low or 0)
                if split_rows != rows:  # SQLite rows of 2**95 wei or more: no split parts
                    stored += _streamed_sum(conn, select(t.vcu_cost_wei).where(*where, t.vcu_hi.is_(None)))
        return stored + sum(int(str(r["vcu_cost_wei"])) for r in self._in_window(start, end, account))

    def active_accounts(self, start: int, end: int) -> list[str]:
        """Accounts with at least one call with start <= timestamp <= end, sorted (found by the
        database: GROUP BY over the time range; sorted here, whatever the database's collation)."""
        t = api_calls.c
        query = select(t.account).where(t.timestamp.between(start, end)).group_by(t.account)
        with self._connect() as conn:
            stored = set(conn.execute(query.execution_options(yield_per=STREAM_ROWS)).scalars())
        return sorted(stored | {str(r["account"]) for r in self._in_window(start, end, None)})

    def in_flight(self, epoch: int, now: int) -> InFlight:
        """The gateway's reservations of `epoch` not settled at `now` (none when no gateway
        ever used this store)."""
        r = reservations.c
        with self._connect() as conn:
            if not inspect(conn).has_table(reservations.name):
                return InFlight(0, 0, 0)
            rows = conn.execute(select(r.expires_at, r.amount_wei).where(r.epoch == epoch)).all()
        live = [int(row.expires_at) for row in rows if int(row.expires_at) > now]
        expired = sum(int(row.amount_wei) for row in rows if int(row.expires_at) <= now)
        return InFlight(len(live), max(live, default=0), expired)

    def is_active(self, account: str, start: int, end: int) -> bool:
        """Whether `account` made a call with start <= timestamp <= end (one indexed lookup)."""
        account = normalize_account(account)
        t = api_calls.c
        query = select(t.id).where(t.account == account, t.timestamp.between(start, end)).limit(1)
        with self._connect() as conn:
            found = conn.execute(query).first() is not None
        return found or bool(self._in_window(start, end, account))

    def count(self) -> int:
        """The number of calls stored."""
        with self._connect() as conn:
            stored = conn.execute(select(func.count()).select_from(api_calls)).scalar_one()
        return stored + len(self._extra)

    def stored(self, keys: Sequence[str]) -> dict[str, dict[str, object]]:
        """The stored rows (contents, request id and key) of those call keys that are stored."""
        found: dict[str, dict[str, object]] = {}
        columns = [api_calls.c[c] for c in [*CONTENT, "request_id", "call_key"]]
        with self._connect() as conn:
            for chunk in _chunks(keys):
                for row in conn.execute(select(*columns).where(api_calls.c.call_key.in_(chunk))):
                    found[row.call_key] = dict(row._mapping)
        return found

    def new_rows(self, calls: Iterable[ApiCall]) -> tuple[list[dict[str, object]], int]:
        """The rows of `calls` the store does not have, and how many calls it has (or that
        repeat a call of the batch). Raises `RequestIdConflict` for request ids stored with
        other contents."""
        rows, repeats = keyed_rows(calls)
        stored = self.stored([str(r["call_key"]) for r in rows])
        conflicts = [
            str(r["request_id"])
            for r in rows
            if str(r["call_key"]) in stored and _content_of(stored[str(r["call_key"])]) != _content_of(r)
        ]
        if conflicts:
            raise RequestIdConflict(conflicts)
        new = [r for r in rows if r["call_key"] not in stored]
        return new, repeats + len(rows) - len(new)

    def add(self, calls: Iterable[ApiCall]) -> int:
        """Store the calls the store does not have yet; returns how many were added. A call
        whose key is stored already is skipped, also when another process stores it at the same
        moment (INSERT ... ON CONFLICT DO NOTHING)."""
        if self._extra:
            raise UsageError("a trial import's view is read-only")
        new, _ = self.new_rows(calls)
        return self._insert_rows(new)

    def add_fresh(self, call: ApiCall) -> bool:
        """Store one call whose request id was made for it (a random one: no stored call can
        hold it), without first looking for it; whether it was stored (a clash stores nothing)."""
        if self._extra:
            raise UsageError("a trial import's view is read-only")
        if call.request_id is None:
            raise UsageError("add_fresh needs a call with its own request id")
        rows, _ = keyed_rows([call])
        return self._insert_rows(rows) == 1

    def _insert_rows(self, new: list[dict[str, object]]) -> int:
        added = 0
        with self._connect() as conn:
            for row in new:
                row["vcu_hi"], row["vcu_lo"] = cost_parts(int(str(row["vcu_cost_wei"])), conn.dialect.name)
            statement = _insert(conn)(api_calls).on_conflict_do_nothing(index_elements=["call_key"])
            for chunk in _chunks(new):
                added += len(conn.execute(statement.returning(api_calls.c.call_key), list(chunk)).all())
        return added

    def add_receipt(self, receipt: Receipt) -> bool:
        """Store the receipt unless its account has one for its epoch already (also when
        another process stores one at the same moment); whether it was stored."""
        if self._extra:
            raise UsageError("a trial import's view is read-only")
        if len(receipt.signature) != 65 or receipt.epoch < 0:
            raise UsageError(f"receipt of {receipt.account} for epoch {receipt.epoch}: not a 65-byte signature "
                             "of an epoch >= 0")  # fmt: skip
        row = {"account": normalize_account(receipt.account), "epoch": receipt.epoch,
               "signer": normalize_account(receipt.signer), "signature": "0x" + receipt.signature.hex()}  # fmt: skip
        with self._connect() as conn:
            statement = _insert(conn)(activity_receipts).on_conflict_do_nothing(index_elements=["account", "epoch"])
            return conn.execute(statement.returning(activity_receipts.c.account), row).first() is not None

    def receipts(self, start_epoch: int, end_epoch: int, account: str | None = None) -> list[Receipt]:
        """The receipts of epochs start_epoch..end_epoch (of one account if given), sorted by
        (epoch, account)."""
        t = activity_receipts.c
        query = select(t.account, t.epoch, t.signer, t.signature).where(t.epoch.between(start_epoch, end_epoch))
        if account is not None:
            query = query.where(t.account == normalize_account(account))
        with self._connect() as conn:
            rows = conn.execute(query.order_by(t.epoch, t.account)).all()
        return [Receipt(r.account, int(r.epoch), r.signer, bytes.fromhex(r.signature.removeprefix("0x"))) for r in rows]


def _insert(conn: Connection) -> Callable:
    """The dialect's INSERT, which has ON CONFLICT DO NOTHING."""
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(conn.dialect.name)
    if insert is None:
        raise UsageError(f"usage stores on {conn.dialect.name} are not supported (use SQLite or PostgreSQL)")
    return insert


def _content_of(row: dict[str, object]) -> dict[str, object]:
    return {c: row[c] for c in CONTENT}


def _streamed_sum(conn: Connection, query: Select) -> int:
    """The exact sum of a query's decimal strings, fetched STREAM_ROWS at a time."""
    return sum(int(v) for v in conn.execute(query.execution_options(yield_per=STREAM_ROWS)).scalars())


def mask_url(url: str) -> str:
    """The URL as given, with any password replaced by ***."""
    url = re.sub(r"(://[^:/@?]*:)[^?]*@", r"\1***@", url)  # up to the last @: a password may hold one
    return re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", url)


def _one_line(err: BaseException) -> str:
    """A database error as one line, without SQLAlchemy's SQL echo and background link."""
    if isinstance(err, DBAPIError) and err.orig is not None:
        message = str(err.orig)
    elif isinstance(err, SQLAlchemyError) and err.args:
        message = str(err.args[0])
    else:
        message = str(err)
    return " ".join(message.split()) or type(err).__name__


def _timeouts(backend: str, lock_timeout: float | None) -> dict[str, object]:
    """The driver's arguments that bound waits: SQLite's busy timeout (its write lock); on
    PostgreSQL the server's `lock_timeout` (advisory and row locks) and the connect timeout
    (libpq's least is 2 s)."""
    if lock_timeout is None:
        return {}
    if backend == "sqlite":
        return {"timeout": lock_timeout}
    if backend == "postgresql":
        return {"options": f"-c lock_timeout={max(1, round(lock_timeout * 1000))}",
                "connect_timeout": max(2, math.ceil(lock_timeout))}  # fmt: skip
    return {}


def _pool(backend: str, lock_timeout: float | None) -> dict[str, object]:
    """A server's store (PostgreSQL) opened by a server (a lock timeout: the gateway) keeps all
    its connections open: SQLAlchemy's default pool keeps 5 and closes the 10 it may add each
    time one is returned, so that under 50 concurrent requests most transactions paid a new
    connection (a new server process): as many connections at most as before, all kept."""
    if lock_timeout is None or backend != "postgresql":
        return {}
    return {"pool_size": POOL_CONNECTIONS, "max_overflow": 0}


def _use_explicit_begin(engine: Engine) -> None:
    """Make SQLite transactions real: pysqlite's own BEGIN is lazy and skips DDL; emit BEGIN
    ourselves (BEGIN IMMEDIATE, which takes the write lock at once, when a connection asks
    for it with the execution option `sqlite_immediate`)."""
    if engine.dialect.name != "sqlite" or event.contains(engine, "begin", _sqlite_begin):
        return
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)


def _sqlite_connect(dbapi_connection: object, _record: object) -> None:
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class UsageStore:
    """API calls in a database. Safe to share between processes: each write is one transaction,
    and `locked` serialises a check-and-record across processes. `url` is the store's URL with
    any password masked, for messages.

    `lock_timeout` (seconds; the gateway's is 2) makes a store that is slow fail instead of
    wait: a lock (`locked`'s, or a row's) not taken within it, or a server not connected within
    it, is a `UsageError`. None: wait as the database does by default. A SQLite store opened
    with a lock timeout is put in WAL mode, so that its reads never wait for its writes."""

    def __init__(self, url: str = DEFAULT_URL, *, create: bool = False, engine: Engine | None = None,
                 lock_timeout: float | None = None) -> None:  # fmt: skip
        if engine is not None:
            self.url = engine.url.render_as_string(hide_password=True)
            self.engine = engine
        else:
            self.url = mask_url(url)
            self.engine = self._engine(url, create, lock_timeout)
        self.lock_timeout = lock_timeout
        # SQLite: this process's writers queue here, not in SQLite's busy loop (which starves some)
        self._sqlite_writers = threading.Lock()
        _use_explicit_begin(self.engine)
        self.view = UsageView(self._connection)
        self._open(create)
        if lock_timeout is not None and self.engine.dialect.name == "sqlite":
            with self._errors():  # reads never wait for a write (kept in the file); outside a transaction
                raw = self.engine.raw_connection()
                try:
                    raw.cursor().execute("PRAGMA journal_mode=WAL")
                finally:
                    raw.close()

    def _fail(self, reason: str) -> UsageError:
        return UsageError(f"usage store {self.url}: {reason}")

    def _engine(self, url: str, create: bool, lock_timeout: float | None) -> Engine:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise self._fail(
                "not a database URL (e.g. sqlite:///usage.db, postgresql+psycopg://user@host/db)"
            ) from None
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            path = Path(parsed.database)
            if not path.parent.is_dir():
                raise self._fail(f"the folder {path.parent} does not exist")
            if not create and not path.exists():
                raise StoreMissing(f"usage store {self.url} does not exist ({CREATE_HINT})")
        try:
            return create_engine(parsed, connect_args=_timeouts(parsed.get_backend_name(), lock_timeout),
                                 **_pool(parsed.get_backend_name(), lock_timeout))  # fmt: skip
        except NoSuchModuleError:
            raise self._fail(f"unknown kind of database {parsed.drivername!r}") from None
        except ImportError as err:
            raise self._fail(f"its database driver is not installed ({err})") from None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Database failures (unreachable server, missing database, a file that is not a
        database, ...) as one `UsageError` line naming the store."""
        try:
            yield
        except UsageError:
            raise
        except (SQLAlchemyError, OSError) as err:
            raise self._fail(_one_line(err)) from None

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        with self._errors(), self.engine.connect() as conn:
            yield conn

    def _open(self, create: bool) -> None:
        with self._connection() as conn:
            state = _schema_state(conn)
        if state == "current":
            return
        if state == "missing" and not create:
            raise StoreMissing(f"usage store {self.url} has no usage table (api_calls) ({CREATE_HINT})")
        with self.locked("vvv-usage-schema") as view, view._connect() as conn:  # one process at a time
            state = _schema_state(conn)
            if state == "missing":
                metadata.create_all(conn)
            elif state != "current":  # a store made before call keys, split costs or activity receipts
                if state == "legacy":
                    _migrate(conn)
                if state in ("legacy", "no-split-costs"):
                    _migrate_costs(conn)
                activity_receipts.create(conn, checkfirst=True)

    @contextmanager
    def locked(self, key: str) -> Iterator[UsageView]:
        """A view on one transaction that holds an exclusive lock named `key` against every
        process using this store: a transaction-scoped advisory lock on Postgres; on SQLite the
        database's write lock (BEGIN IMMEDIATE), taken by one thread of this process at a time.
        Committed at exit, rolled back on an exception."""
        sqlite = self.engine.dialect.name == "sqlite"
        if sqlite and not self._sqlite_writers.acquire(timeout=-1 if self.lock_timeout is None else self.lock_timeout):
            raise self._fail(f"its write lock was not taken within {self.lock_timeout:g} s")
        try:
            with self._connection() as conn:
                if sqlite:
                    conn.execution_options(sqlite_immediate=True)
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
                    yield UsageView.on(conn)
        finally:
            if sqlite:
                self._sqlite_writers.release()

    def add(self, calls: Iterable[ApiCall]) -> int:
        """Store the calls the store does not have yet, in one transaction; returns how many
        were added. A request id stored with other contents raises `RequestIdConflict` and adds
        nothing."""
        with self._connection() as conn, conn.begin():
            return UsageView.on(conn).add(calls)

    def import_file(self, path: Path, prices: PriceTable) -> ImportResult:
        """Import a CSV or JSONL file in one transaction; nothing is imported if any line is bad.
        Calls the store has already are counted as duplicates, not added again."""
        lines = _read_lines(path, prices)
        with self._connection() as conn, conn.begin():
            try:
                added = UsageView.on(conn).add(call for _, call in lines)
            except RequestIdConflict as err:
                raise _conflict(path, lines, err) from None
        return ImportResult(len(lines), added, len(lines) - added)

    @contextmanager
    def trial_import(self, path: Path, prices: PriceTable) -> Iterator[tuple[ImportResult, UsageView]]:
        """What `import_file` would do, writing nothing: its result, and a read-only view of the
        store that counts the file's new calls as if they were imported. The view reads the store
        afresh at each call (and holds no lock in between)."""
        lines = _read_lines(path, prices)
        try:
            new, duplicates = self.view.new_rows(call for _, call in lines)
        except RequestIdConflict as err:
            raise _conflict(path, lines, err) from None
        yield ImportResult(len(lines), len(new), duplicates), UsageView(self._connection, new)

    def consumed(self, start: int, end: int, account: str | None = None) -> int:
        """Total VCU wei of calls with start <= timestamp <= end (of one account if given)."""
        return self.view.consumed(start, end, account)

    def active_accounts(self, start: int, end: int) -> list[str]:
        """Accounts with at least one call with start <= timestamp <= end, sorted."""
        return self.view.active_accounts(start, end)

    def is_active(self, account: str, start: int, end: int) -> bool:
        """Whether `account` made a call with start <= timestamp <= end."""
        return self.view.is_active(account, start, end)

    def in_flight(self, epoch: int, now: int) -> InFlight:
        """The gateway's reservations of `epoch` not settled at `now`."""
        return self.view.in_flight(epoch, now)

    def count(self) -> int:
        """The number of calls stored."""
        return self.view.count()

    def add_receipt(self, receipt: Receipt) -> bool:
        """Store an activity receipt, in its own transaction; False (and nothing stored) when
        its account has one for its epoch already."""
        with self._connection() as conn, conn.begin():
            return UsageView.on(conn).add_receipt(receipt)

    def receipts(self, start_epoch: int, end_epoch: int, account: str | None = None) -> list[Receipt]:
        """The activity receipts of epochs start_epoch..end_epoch (of one account if given),
        sorted by (epoch, account)."""
        return self.view.receipts(start_epoch, end_epoch, account)


def _conflict(path: Path, lines: list[tuple[int, ApiCall]], err: RequestIdConflict) -> UsageError:
    bad, name = set(err.request_ids), Path(path).name
    return _bad_file(Path(path), [f"{name}:{n}: request id {c.request_id!r} {_CONFLICT}" for n, c in lines
                                  if c.request_id in bad])  # fmt: skip


def _schema_state(conn: Connection) -> str:
    inspector = inspect(conn)
    if not inspector.has_table("api_calls"):
        return "missing"
    columns = {c["name"] for c in inspector.get_columns("api_calls")}
    if "call_key" not in columns:
        return "legacy"
    if "vcu_lo" not in columns:
        return "no-split-costs"
    return "current" if inspector.has_table("activity_receipts") else "no-receipts"


def _migrate(conn: Connection) -> None:
    """Give a store made before call keys its `request_id` and `call_key` columns: every
    existing row gets the key of a call without a request id, identical rows numbered in the
    order of their ids (so two identical old rows stay two calls), then the unique index."""
    preparer = conn.dialect.identifier_preparer
    for name in ("request_id", "call_key"):
        column = api_calls.c[name]
        kind = column.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE api_calls ADD COLUMN {preparer.quote(name)} {kind}"))
    occurrences: Counter[str] = Counter()
    updates = []
    for row in conn.execute(select(api_calls.c.id, *[api_calls.c[c] for c in CONTENT]).order_by(api_calls.c.id)):
        digest = row_digest(dict(row._mapping))
        updates.append({"row_id": row.id, "key": f"row:{digest}:{occurrences[digest]}"})
        occurrences[digest] += 1
    if updates:
        conn.execute(
            update(api_calls).where(api_calls.c.id == bindparam("row_id")).values(call_key=bindparam("key")), updates
        )
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE api_calls ALTER COLUMN call_key SET NOT NULL"))
    index = next(i for i in api_calls.indexes if i.name == "ux_api_calls_call_key")
    conn.execute(CreateIndex(index))


def _migrate_costs(conn: Connection) -> None:
    """Give a store made before split costs its `vcu_hi` and `vcu_lo` columns, filled from
    `vcu_cost_wei` (on Postgres by one UPDATE in SQL; on SQLite STREAM_ROWS rows at a time, by
    id, so memory stays flat whatever the row count), then the aggregation's index."""
    preparer = conn.dialect.identifier_preparer
    for name in ("vcu_hi", "vcu_lo"):
        kind = api_calls.c[name].type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE api_calls ADD COLUMN {preparer.quote(name)} {kind}"))
    if conn.dialect.name == "postgresql":
        conn.execute(text(
            "UPDATE api_calls SET vcu_hi = div(vcu_cost_wei::numeric, :base), "
            "vcu_lo = mod(vcu_cost_wei::numeric, :base)::bigint"
        ), {"base": 1 << COST_SPLIT})  # fmt: skip
    else:
        t, last = api_calls.c, 0
        statement = update(api_calls).where(t.id == bindparam("row_id")).values(vcu_hi=bindparam("hi"),
                                                                                vcu_lo=bindparam("lo"))  # fmt: skip
        while True:
            rows = conn.execute(select(t.id, t.vcu_cost_wei).where(t.id > last).order_by(t.id).limit(STREAM_ROWS)).all()
            if not rows:
                break
            values = []
            for row in rows:
                high, low = cost_parts(int(row.vcu_cost_wei), "sqlite")
                values.append({"row_id": row.id, "hi": high, "lo": low})
            conn.execute(statement, values)
            last = rows[-1].id
    index = next(i for i in api_calls.indexes if i.name == "ix_api_calls_timestamp_cost")
    conn.execute(CreateIndex(index))
