"""The usage store: API calls `(timestamp, account, model, input_tokens, output_tokens, images,
vcu_cost)` in any SQLAlchemy database (a SQLite file by default, Postgres in production).

VCU costs are 18-decimal fixed point, kept exactly as decimal strings of wei (SQLite has no exact
wide decimal type) and summed in Python. Imports from CSV or JSONL are all-or-nothing: every
row is validated first, and the first bad rows are reported with file and line."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Connection, Engine

from vvv.chain.units import AmountError, parse_amount

DEFAULT_URL = "sqlite:///usage.db"
FIELDS = ["timestamp", "account", "model", "input_tokens", "output_tokens", "images", "vcu_cost"]

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
    Index("ix_api_calls_timestamp", "timestamp"),
    Index("ix_api_calls_account_timestamp", "account", "timestamp"),
)


class UsageError(ValueError):
    """A usage file or record is malformed."""


@dataclass(frozen=True)
class ApiCall:
    timestamp: int
    account: str
    model: str
    input_tokens: int
    output_tokens: int
    images: int
    vcu_cost: int  # VCU wei


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


def parse_call(record: dict) -> ApiCall:
    """Validate one record (from CSV or JSON). `vcu_cost` is a VCU decimal ('0.0021')."""
    missing = [f for f in FIELDS if record.get(f) in (None, "")]
    if missing:
        raise UsageError(f"missing {', '.join(missing)}")
    unknown = set(record) - set(FIELDS)
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
    )


def read_usage_file(path: Path) -> list[ApiCall]:
    """Parse a whole CSV (with a header) or JSONL file; raise `UsageError` naming every bad
    line (up to 20) if any row is malformed, so that nothing of a bad file is imported."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    errors: list[str] = []
    calls: list[ApiCall] = []
    for line_no, record in _records(path, errors):
        try:
            calls.append(parse_call(record))
        except UsageError as err:
            errors.append(f"{path.name}:{line_no}: {err}")
    if errors:
        shown = "\n  ".join(errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise UsageError(f"{path} not imported, {len(errors)} bad line(s):\n  {shown}{more}")
    return calls


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
            if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != FIELDS:
                errors.append(f"{path.name}:1: expected the header {','.join(FIELDS)}")
                return
            for record in reader:
                if None in record or None in record.values():
                    errors.append(f"{path.name}:{reader.line_num}: expected {len(FIELDS)} fields")
                    continue
                yield reader.line_num, record
    else:
        raise UsageError(f"{path}: unknown file type (use .csv or .jsonl)")


class UsageStore:
    """API calls in a database. Safe to share between processes (each write is one transaction)."""

    def __init__(self, url: str = DEFAULT_URL, engine: Engine | None = None) -> None:
        self.engine = engine or create_engine(url, future=True)
        metadata.create_all(self.engine)

    def add(self, calls: Iterable[ApiCall], connection: Connection | None = None) -> int:
        rows = [
            {
                "timestamp": c.timestamp,
                "account": normalize_account(c.account),
                "model": c.model,
                "input_tokens": c.input_tokens,
                "output_tokens": c.output_tokens,
                "images": c.images,
                "vcu_cost_wei": str(c.vcu_cost),
            }
            for c in calls
        ]
        if not rows:
            return 0
        if connection is not None:
            connection.execute(insert(api_calls), rows)
        else:
            with self.engine.begin() as conn:
                conn.execute(insert(api_calls), rows)
        return len(rows)

    def import_file(self, path: Path) -> int:
        """Import a CSV or JSONL file in one transaction; nothing is imported if any line is bad."""
        return self.add(read_usage_file(path))

    def consumed(self, start: int, end: int, account: str | None = None, connection: Connection | None = None) -> int:
        """Total VCU wei of calls with start <= timestamp <= end (of one account if given)."""
        query = select(api_calls.c.vcu_cost_wei).where(api_calls.c.timestamp.between(start, end))
        if account is not None:
            query = query.where(api_calls.c.account == normalize_account(account))
        if connection is not None:
            return sum(int(v) for (v,) in connection.execute(query))
        with self.engine.connect() as conn:
            return sum(int(v) for (v,) in conn.execute(query))

    def active_accounts(self, start: int, end: int) -> list[str]:
        """Accounts with at least one call with start <= timestamp <= end, sorted."""
        query = (
            select(api_calls.c.account)
            .where(api_calls.c.timestamp.between(start, end))
            .group_by(api_calls.c.account)
            .order_by(api_calls.c.account)
        )
        with self.engine.connect() as conn:
            return [a for (a,) in conn.execute(query)]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(api_calls)).scalar_one()
