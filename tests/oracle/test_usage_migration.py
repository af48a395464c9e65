"""A store made before call keys is migrated when opened: its rows keep their values and get the
key of a call without a request id; two identical old rows stay two calls; re-importing the
calls it holds adds nothing."""

import hashlib

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
from vvv.oracle.pricing import load_prices
from vvv.oracle.usage import ApiCall, ImportResult, UsageStore, api_calls

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)

A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
LLAMA_WEI = 2_100_000_000_000_000  # 1,000 in + 500 out tokens of llama-3.3-70b

# The table as the store created it before call keys (vvv/oracle/usage.py before issue 12).
legacy = MetaData()
legacy_calls = Table(
    "api_calls",
    legacy,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("timestamp", BigInteger, nullable=False),
    Column("account", String(42), nullable=False),
    Column("model", String(128), nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("images", BigInteger, nullable=False),
    Column("vcu_cost_wei", String(80), nullable=False),
    Index("ix_api_calls_timestamp", "timestamp"),
    Index("ix_api_calls_account_timestamp", "account", "timestamp"),
)


def legacy_row(timestamp, account, cost=LLAMA_WEI):
    return {"timestamp": timestamp, "account": account, "model": "llama-3.3-70b", "input_tokens": 1000,
            "output_tokens": 500, "images": 0, "vcu_cost_wei": str(cost)}  # fmt: skip


def test_legacy_store_is_migrated_on_open(usage_url, tmp_path):
    engine = create_engine(usage_url)
    legacy.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(legacy_calls), [legacy_row(100, A), legacy_row(100, A), legacy_row(200, B, 2**200)])
    engine.dispose()

    store = UsageStore(usage_url)  # no create: an existing store is migrated, not created
    columns = {c["name"] for c in inspect(store.engine).get_columns("api_calls")}
    assert {"request_id", "call_key"} <= columns
    assert store.count() == 3
    assert store.consumed(0, 300) == 2 * LLAMA_WEI + 2**200
    digest_a = hashlib.sha256(f"100|{A}|llama-3.3-70b|1000|500|0|{LLAMA_WEI}".encode()).hexdigest()
    digest_b = hashlib.sha256(f"200|{B}|llama-3.3-70b|1000|500|0|{2**200}".encode()).hexdigest()
    with store.engine.connect() as conn:
        rows = conn.execute(select(api_calls.c.id, api_calls.c.call_key, api_calls.c.request_id).order_by("id")).all()
    assert [tuple(r) for r in rows] == [
        (1, f"row:{digest_a}:0", None), (2, f"row:{digest_a}:1", None), (3, f"row:{digest_b}:0", None),
    ]  # fmt: skip

    # the day's file imported again (it had the two identical calls): nothing is added
    day = tmp_path / "day.csv"
    day.write_text(
        "timestamp,account,model,input_tokens,output_tokens,images,vcu_cost\n"
        + f"100,{A},llama-3.3-70b,1000,500,0,0.0021\n" * 2
        + f"150,{A},llama-3.3-70b,1000,500,0,0.0021\n"
    )
    assert store.import_file(day, load_prices()) == ImportResult(read=3, added=1, duplicates=2)
    assert UsageStore(usage_url).count() == 4  # opening a migrated store again changes nothing
    assert store.add([ApiCall(200, B, "llama-3.3-70b", 1000, 500, 0, 2**200)]) == 0
