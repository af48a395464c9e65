"""The day's consumed VCU and the 7-day active set are computed by the database (SUM over the
split cost columns, GROUP BY account) and equal a plain Python sum of the stored rows, to the
wei, on SQLite and Postgres: costs above 2**63 wei per row and per sum, costs too wide for
SQLite's 64-bit high part (2**95 wei and more), a window whose high parts overflow SQLite's SUM,
and a store made before the split columns, migrated when opened."""

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    inspect,
    select,
)

from tests.passes import IN_PROCESS
from vvv.oracle.usage import ApiCall, UsageStore, api_calls

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)

A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
C = "0x" + "cc" * 20
DAY = 86_400


# The table as the store created it before split costs (vvv/oracle/usage.py before issue 16).
before_split = Table(
    "api_calls",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("timestamp", BigInteger, nullable=False),
    Column("account", String(42), nullable=False),
    Column("model", String(128), nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("images", BigInteger, nullable=False),
    Column("vcu_cost_wei", String(80), nullable=False),
    Column("request_id", String(128), nullable=True),
    Column("call_key", String(160), nullable=False),
    Index("ix_api_calls_timestamp", "timestamp"),
    Index("ix_api_calls_account_timestamp", "account", "timestamp"),
    Index("ux_api_calls_call_key", "call_key", unique=True),
)


def call(timestamp, account, cost, n=0):
    return ApiCall(timestamp, account, "m", n, 0, 0, cost)


def python_sum(store, start, end, account=None):
    """The plain sum of the stored rows' decimal costs."""
    t = api_calls.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.timestamp, t.account, t.vcu_cost_wei)).all()
    return sum(int(r.vcu_cost_wei) for r in rows if start <= r.timestamp <= end and account in (None, r.account))


def test_sums_and_active_set_in_the_database(usage_url):
    store = UsageStore(usage_url, create=True)
    calls = [
        call(DAY, A, 2**63 + 5),  # above 2**63 wei: high part 2**31, low part 5
        call(DAY + 1, A, 2**64 - 1, 1),  # high 2**32 - 1, low 2**32 - 1
        call(DAY + 2, B, 12_345),  # low part only
        call(2 * DAY - 1, B, 2**94 + 7),  # the widest SQLite high part here: 2**62
        call(2 * DAY - 1, C, 2**200 + 3),  # too wide for SQLite's high part: summed from its text
        call(2 * DAY, C, 9),  # the next day
        call(DAY - 1, C, 0),  # a free call the day before still makes C active
    ]
    assert store.add(calls) == 7
    day = (DAY, 2 * DAY - 1)
    expected_day = (2**63 + 5) + (2**64 - 1) + 12_345 + (2**94 + 7) + (2**200 + 3)
    assert store.consumed(*day) == expected_day == python_sum(store, *day)
    assert store.consumed(*day, A) == 2**63 + 5 + 2**64 - 1 == python_sum(store, *day, A)
    assert store.consumed(*day, C) == 2**200 + 3 == python_sum(store, *day, C)
    assert store.consumed(0, 3 * DAY) == expected_day + 9 == python_sum(store, 0, 3 * DAY)
    assert store.consumed(3 * DAY, 4 * DAY) == 0
    assert store.active_accounts(*day) == [A, B, C]
    assert store.active_accounts(2 * DAY, 3 * DAY) == [C]
    assert store.active_accounts(0, DAY - 1) == [C]
    assert store.is_active(C, 0, DAY - 1) and not store.is_active(A, 0, DAY - 1)
    assert store.is_active(A.upper().replace("0X", "0x"), DAY, DAY)

    t = api_calls.c
    with store.engine.connect() as conn:
        parts = [(int(h) if h is not None else None, lo) for h, lo in conn.execute(
            select(t.vcu_hi, t.vcu_lo).order_by(t.timestamp, t.account))]  # fmt: skip
    wide = (None, None) if store.engine.dialect.name == "sqlite" else (2**168, 3)
    # by timestamp: C's free call, A, A, B, then B and C at the same second, then C
    assert parts == [(0, 0), (2**31, 5), (2**32 - 1, 2**32 - 1), (0, 12_345), (2**62, 7), wide, (0, 9)]


def test_a_window_past_sqlite_sum_is_exact(usage_url):
    """Three calls of 2**94 wei: their high parts (2**62 each) pass 2**63 together, so SQLite's
    SUM raises integer overflow and the total is summed from the decimal strings."""
    store = UsageStore(usage_url, create=True)
    assert store.add([call(100 + i, A, 2**94 + i) for i in range(3)]) == 3
    assert store.consumed(0, 1_000) == 3 * 2**94 + 3 == python_sum(store, 0, 1_000)
    assert store.consumed(0, 101) == 2 * 2**94 + 1


def test_store_before_split_costs_is_migrated(usage_url):
    engine = create_engine(usage_url)
    before_split.create(engine)
    rows = [(10, A, 2**63 + 1), (20, B, 2**200), (30, A, 4_294_967_297)]
    with engine.begin() as conn:
        conn.execute(insert(before_split), [
            {"timestamp": ts, "account": a, "model": "m", "input_tokens": 0, "output_tokens": 0, "images": 0,
             "vcu_cost_wei": str(cost), "request_id": None, "call_key": f"req:{ts}"} for ts, a, cost in rows
        ])  # fmt: skip
    engine.dispose()

    store = UsageStore(usage_url)
    columns = {c["name"] for c in inspect(store.engine).get_columns("api_calls")}
    assert {"vcu_hi", "vcu_lo"} <= columns
    assert "ix_api_calls_timestamp_cost" in {i["name"] for i in inspect(store.engine).get_indexes("api_calls")}
    assert store.consumed(0, 100) == 2**63 + 1 + 2**200 + 4_294_967_297 == python_sum(store, 0, 100)
    assert store.consumed(0, 100, A) == 2**63 + 4_294_967_298
    with store.engine.connect() as conn:
        parts = conn.execute(select(api_calls.c.vcu_hi, api_calls.c.vcu_lo).order_by(api_calls.c.timestamp)).all()
    wide = (None, None) if store.engine.dialect.name == "sqlite" else (2**168, 0)
    assert [(None if h is None else int(h), lo) for h, lo in parts] == [(2**31, 1), wide, (1, 1)]
    assert store.add([call(40, B, 5)]) == 1  # a migrated store takes new calls
    assert store.consumed(0, 100, B) == 2**200 + 5
