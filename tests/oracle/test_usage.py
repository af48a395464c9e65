"""Usage store: imports from CSV and JSONL, all-or-nothing with file and line, checked against the
price table, idempotent (a call's identity is its request id, else its row), exact sums, and the
7-day activity window at its edges. Tests that reach the database run on SQLite and Postgres
(`usage_url`); tests of the file checks, which fail before any database work, on SQLite only."""

import hashlib
import json

import pytest
from sqlalchemy import select

from tests.passes import IN_PROCESS
from vvv.chain.epochs import activity_window, snapshot_time
from vvv.oracle.pricing import load_prices
from vvv.oracle.usage import ApiCall, ImportResult, UsageError, UsageStore, api_calls

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)

A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
HEADER = "timestamp,account,model,input_tokens,output_tokens,images,vcu_cost\n"
E18 = 10**18
# 1,000 in x 0.70 / 1M + 500 out x 2.80 / 1M = 0.0007 + 0.0014 = 0.0021 VCU (data/prices.csv)
LLAMA = "llama-3.3-70b,1000,500,0,0.0021"
LLAMA_WEI = 2_100_000_000_000_000


@pytest.fixture(scope="module")
def prices():
    return load_prices()


@pytest.fixture
def store(usage_url):
    return UsageStore(usage_url, create=True)


@pytest.fixture
def sqlite_store(tmp_path):
    return UsageStore(f"sqlite:///{tmp_path / 'usage.db'}", create=True)


def keys(store):
    with store.engine.connect() as conn:
        return sorted(k for (k,) in conn.execute(select(api_calls.c.call_key)))


def test_import_csv_and_jsonl_exact_sums(store, prices, tmp_path):
    csv_file = tmp_path / "u.csv"
    # 3 flux-dev images x 0.08 = 0.24 VCU
    csv_file.write_text(HEADER + f"100,{A},{LLAMA}\n200,{B.upper().replace('0X', '0x')},flux-dev,0,0,3,0.24\n")
    jsonl = tmp_path / "u.jsonl"
    # 1 input token of llama-3.2-3b at 0.15 VCU per 1M = 0.00000015 VCU = 150,000,000,000 wei
    jsonl.write_text(json.dumps({"timestamp": 150, "account": A, "model": "llama-3.2-3b", "input_tokens": 1,
                                 "output_tokens": 0, "images": 0, "vcu_cost": "0.00000015"}) + "\n\n")  # fmt: skip
    assert store.import_file(csv_file, prices) == ImportResult(read=2, added=2, duplicates=0)
    assert store.import_file(jsonl, prices) == ImportResult(read=1, added=1, duplicates=0)
    assert store.consumed(100, 200, A) == LLAMA_WEI + 150_000_000_000
    assert store.consumed(100, 200, B) == 240_000_000_000_000_000
    assert store.consumed(0, 10**12) == LLAMA_WEI + 150_000_000_000 + 240_000_000_000_000_000
    assert store.consumed(101, 149) == 0
    assert store.active_accounts(0, 10**12) == [A, B]
    assert store.count() == 3


@pytest.mark.parametrize(
    "rows, expected",
    [
        (f"100,{A},{LLAMA}\n100,0x12,{LLAMA}\n", ["u.csv:4: not an address"]),
        (f"100,{A},llama-3.3-70b,-1,1,0,0.1\n", ["u.csv:3: input_tokens must be >= 0"]),
        (f"100,{A},llama-3.3-70b,1,1,0,-0.1\n", ["u.csv:3: vcu_cost must be non-negative"]),
        (f"x,{A},{LLAMA}\n{A},1,{LLAMA}\n", ["u.csv:3: timestamp", "u.csv:4: timestamp"]),
        (f"100,{A},m,1,1\n", ["u.csv:3: expected 7 fields"]),
        (f"100,{A},,1,1,0,0.1\n", ["u.csv:3: missing model"]),
    ],
)
def test_bad_csv_imports_nothing(sqlite_store, prices, tmp_path, rows, expected):
    path = tmp_path / "u.csv"
    path.write_text(HEADER + f"50,{B},{LLAMA}\n" + rows)  # line 2 is good and is not imported either
    with pytest.raises(UsageError) as err:
        sqlite_store.import_file(path, prices)
    for message in expected:
        assert message in str(err.value)
    assert "not imported" in str(err.value)
    assert sqlite_store.count() == 0


def test_bad_jsonl_imports_nothing(sqlite_store, prices, tmp_path):
    path = tmp_path / "u.jsonl"
    good = {"timestamp": 1, "account": A, "model": "flux-dev", "input_tokens": 0, "output_tokens": 0, "images": 1,
            "vcu_cost": "0.08"}  # fmt: skip
    path.write_text("\n".join([json.dumps(good), "{not json", json.dumps([1]), json.dumps(good | {"colour": 1})]))
    with pytest.raises(UsageError) as err:
        sqlite_store.import_file(path, prices)
    assert str(err.value) == (
        f"{path} not imported, 3 bad line(s):\n  u.jsonl:2: not JSON (Expecting property name enclosed in double "
        "quotes)\n  u.jsonl:3: not a JSON object\n  u.jsonl:4: unknown field(s) colour"
    )
    assert sqlite_store.count() == 0


def test_unknown_file_type_and_missing_file(sqlite_store, prices, tmp_path):
    (tmp_path / "u.txt").write_text("x")
    with pytest.raises(UsageError, match="unknown file type"):
        sqlite_store.import_file(tmp_path / "u.txt", prices)
    with pytest.raises(UsageError, match="no such file"):
        sqlite_store.import_file(tmp_path / "nope.csv", prices)


def test_rows_are_checked_against_the_price_table(sqlite_store, prices, tmp_path):
    path = tmp_path / "usage.csv"
    path.write_text(
        HEADER
        + f"1,{A},{LLAMA}\n"  # 2: good
        + f"2,{A},foo,1,1,0,0.1\n"  # 3: unknown model
        + f"3,{A},llama-3.3-70b,1000,500,0,0.5\n"  # 4: 0.5 charged, the table says 0.0021
        + f"4,{A},flux-dev,0,0,3,0.25\n"  # 5: 3 images are 0.24
        + f"5,{A},llama-3.3-70b,1000,500,1,0.0021\n"  # 6: a chat model makes no images
        + f"6,{A},flux-dev,10,0,1,0.08\n"  # 7: an image model bills no tokens
        + f"7,{A},deepseek-r1-671b,1,0,0,0.0000022\n"  # 8: 1 token x 2.20 / 1M = 0.0000022: good
        + f"8,{A},llama-3.2-3b,1,0,0,0.00000015\n"  # 9: good
        + f"9,{A},llama-3.2-3b,1,1,0,0.00000075\n"  # 10: 0.15/1M + 0.60/1M = 0.00000075: good
        + f"10,{A},llama-3.2-3b,3,0,0,0.00000045\n"  # 11: good
        + f"11,{A},llama-3.2-3b,1,0,0,0.0000001\n"  # 12: 0.0000001 is 50 nano-VCU short
    )
    with pytest.raises(UsageError) as err:
        sqlite_store.import_file(path, prices)
    assert str(err.value).splitlines() == [
        f"{path} not imported, 6 bad line(s):",
        "  usage.csv:3: model 'foo' is not in the price table",
        "  usage.csv:4: vcu_cost 0.5 VCU differs from the price table's 0.0021 VCU for 1000 input + 500 output "
        "tokens of llama-3.3-70b",
        "  usage.csv:5: vcu_cost 0.25 VCU differs from the price table's 0.24 VCU for 3 image(s) of flux-dev",
        "  usage.csv:6: llama-3.3-70b is a chat model: it makes no images",
        "  usage.csv:7: flux-dev is an image model: it bills images, not tokens",
        "  usage.csv:12: vcu_cost 0.0000001 VCU differs from the price table's 0.00000015 VCU for 1 input + 0 "
        "output tokens of llama-3.2-3b",
    ]
    assert sqlite_store.count() == 0


def test_at_most_20_bad_lines_are_named(sqlite_store, prices, tmp_path):
    path = tmp_path / "u.csv"
    path.write_text(HEADER + "".join(f"{t},{A},foo,1,1,0,0.1\n" for t in range(25)))
    with pytest.raises(UsageError) as err:
        sqlite_store.import_file(path, prices)
    lines = str(err.value).splitlines()
    assert lines[0] == f"{path} not imported, 25 bad line(s):"
    assert lines[1] == "  u.csv:2: model 'foo' is not in the price table"
    assert lines[20] == "  u.csv:21: model 'foo' is not in the price table"
    assert lines[21:] == ["  ... and 5 more"]


def test_second_import_of_the_same_file_adds_nothing(store, prices, tmp_path):
    path = tmp_path / "day.csv"
    path.write_text(HEADER + f"100,{A},{LLAMA}\n100,{A},{LLAMA}\n101,{B},{LLAMA}\n")
    # two identical rows without request id are two calls (the same call twice in one second)
    assert store.import_file(path, prices) == ImportResult(read=3, added=3, duplicates=0)
    assert store.import_file(path, prices) == ImportResult(read=3, added=0, duplicates=3)
    assert store.count() == 3
    assert store.consumed(0, 200) == 3 * LLAMA_WEI
    # the same rows in another file, with a value written differently, are the same calls
    other = tmp_path / "again.jsonl"
    row = {"timestamp": "101", "account": B.upper().replace("0X", "0x"), "model": "llama-3.3-70b",
           "input_tokens": 1000, "output_tokens": 500, "images": 0, "vcu_cost": "0.00210"}  # fmt: skip
    other.write_text(json.dumps(row) + "\n" + json.dumps(row | {"timestamp": 102}) + "\n")
    assert store.import_file(other, prices) == ImportResult(read=2, added=1, duplicates=1)
    assert store.count() == 4


def test_call_keys(store, prices, tmp_path):
    path = tmp_path / "u.csv"
    path.write_text(HEADER.strip() + ",request_id\n" + f"100,{A},{LLAMA},r-1\n100,{A},{LLAMA},\n100,{A},{LLAMA},\n")
    assert store.import_file(path, prices) == ImportResult(read=3, added=3, duplicates=0)
    row = f"100|{A}|llama-3.3-70b|1000|500|0|2100000000000000"
    digest = hashlib.sha256(row.encode()).hexdigest()
    assert keys(store) == sorted(["req:r-1", f"row:{digest}:0", f"row:{digest}:1"])


def test_request_ids(store, prices, tmp_path):
    csv_file = tmp_path / "u.csv"
    csv_file.write_text(HEADER.strip() + ",request_id\n" + f"100,{A},{LLAMA},r-1\n100,{A},{LLAMA},r-2\n")
    assert store.import_file(csv_file, prices) == ImportResult(read=2, added=2, duplicates=0)
    # a later export with the same request ids: only r-3 is new (r-1 repeated in it, same contents)
    jsonl = tmp_path / "u.jsonl"
    call = {"timestamp": 100, "account": A, "model": "llama-3.3-70b", "input_tokens": 1000, "output_tokens": 500,
            "images": 0, "vcu_cost": "0.0021"}  # fmt: skip
    jsonl.write_text("\n".join(json.dumps(call | {"request_id": r}) for r in ("r-1", "r-2", "r-3", "r-1")))
    assert store.import_file(jsonl, prices) == ImportResult(read=4, added=1, duplicates=3)
    assert store.count() == 3
    # a stored request id with other contents is an error naming it and its line; nothing is added
    changed = tmp_path / "changed.jsonl"
    changed.write_text("\n".join([json.dumps(call | {"request_id": "r-4"}),
                                  json.dumps(call | {"request_id": "r-2", "timestamp": 101})]))  # fmt: skip
    with pytest.raises(UsageError) as err:
        store.import_file(changed, prices)
    assert str(err.value) == (
        f"{changed} not imported, 1 bad line(s):\n  changed.jsonl:2: request id 'r-2' is already recorded with "
        "other contents"
    )
    assert store.count() == 3
    # add() skips a stored call, and refuses a request id with other contents
    assert store.add([ApiCall(100, A, "llama-3.3-70b", 1000, 500, 0, LLAMA_WEI, "r-3")]) == 0
    with pytest.raises(UsageError, match="^request id 'r-3' is already recorded with other contents$"):
        store.add([ApiCall(100, A, "llama-3.3-70b", 1000, 500, 0, LLAMA_WEI + 1, "r-3")])
    assert store.count() == 3


def test_request_id_twice_in_a_file_with_other_contents(sqlite_store, prices, tmp_path):
    path = tmp_path / "u.csv"
    path.write_text(HEADER.strip() + ",request_id\n" + f"100,{A},{LLAMA},r-1\n101,{A},{LLAMA},r-1\n")
    with pytest.raises(UsageError, match="u.csv:3: request id 'r-1' is on line 2 with other contents"):
        sqlite_store.import_file(path, prices)
    assert sqlite_store.count() == 0


def test_activity_window_edges(store):
    # For the allotments of epoch e+1 the window is epochs e-6 .. e: from (e-6)*86400 to
    # (e+1)*86400 - 1, both included.
    e = 20_000
    start, end = activity_window(e)
    assert (start, end) == ((e - 6) * 86_400, (e + 1) * 86_400 - 1)
    assert end == snapshot_time(e)
    first, last, early, late = (f"0x{i:040x}" for i in (1, 2, 3, 4))
    assert store.add([
        ApiCall(start, first, "m", 1, 0, 0, 1),  # first second of the window: counts
        ApiCall(end, last, "m", 1, 0, 0, 1),  # last second: counts
        ApiCall(start - 1, early, "m", 1, 0, 0, 1),  # one second before: does not
        ApiCall(end + 1, late, "m", 1, 0, 0, 1),  # one second after: does not
    ]) == 4  # fmt: skip
    assert store.active_accounts(start, end) == [first, last]
