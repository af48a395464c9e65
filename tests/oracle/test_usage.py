"""Usage store: imports from CSV and JSONL, all-or-nothing with file and line, exact sums, and
the 7-day activity window at its edges."""

import json

import pytest

from vvv.chain.epochs import activity_window, snapshot_time
from vvv.oracle.usage import ApiCall, UsageError, UsageStore

A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
HEADER = "timestamp,account,model,input_tokens,output_tokens,images,vcu_cost\n"


@pytest.fixture
def store(tmp_path):
    return UsageStore(f"sqlite:///{tmp_path / 'usage.db'}")


def test_import_csv_and_jsonl_exact_sums(store, tmp_path):
    csv_file = tmp_path / "u.csv"
    csv_file.write_text(
        HEADER + f"100,{A},llama-3.3-70b,1000,500,0,0.0021\n200,{B.upper().replace('0X', '0x')},flux-dev,0,0,3,0.24\n"
    )
    jsonl = tmp_path / "u.jsonl"
    jsonl.write_text(json.dumps({"timestamp": 150, "account": A, "model": "m", "input_tokens": 1, "output_tokens": 0,
                                 "images": 0, "vcu_cost": "0.000000000000000001"}) + "\n\n")  # fmt: skip
    assert store.import_file(csv_file) == 2
    assert store.import_file(jsonl) == 1
    # 0.0021 + 1 wei for A; 0.24 for B; all three in [100, 200]
    assert store.consumed(100, 200, A) == 2_100_000_000_000_001
    assert store.consumed(100, 200, B) == 240_000_000_000_000_000
    assert store.consumed(0, 10**12) == 2_100_000_000_000_001 + 240_000_000_000_000_000
    assert store.consumed(101, 149) == 0
    assert store.active_accounts(0, 10**12) == [A, B]


@pytest.mark.parametrize(
    "rows, expected",
    [
        (f"100,{A},m,1,1,0,0.1\n100,0x12,m,1,1,0,0.1\n", ["u.csv:4: not an address"]),
        (f"100,{A},m,-1,1,0,0.1\n", ["u.csv:3: input_tokens must be >= 0"]),
        (f"100,{A},m,1,1,0,-0.1\n", ["u.csv:3: vcu_cost must be non-negative"]),
        (f"x,{A},m,1,1,0,0.1\n{A},1,m,1,1,0,0.1\n", ["u.csv:3: timestamp", "u.csv:4: timestamp"]),
        (f"100,{A},m,1,1\n", ["u.csv:3: expected 7 fields"]),
        (f"100,{A},,1,1,0,0.1\n", ["u.csv:3: missing model"]),
    ],
)
def test_bad_csv_imports_nothing(store, tmp_path, rows, expected):
    path = tmp_path / "u.csv"
    path.write_text(HEADER + f"50,{B},m,1,1,0,1\n" + rows)  # line 2 is good and is not imported either
    with pytest.raises(UsageError) as err:
        store.import_file(path)
    for message in expected:
        assert message in str(err.value)
    assert "not imported" in str(err.value)
    assert store.count() == 0


def test_bad_jsonl_imports_nothing(store, tmp_path):
    path = tmp_path / "u.jsonl"
    good = {"timestamp": 1, "account": A, "model": "m", "input_tokens": 1, "output_tokens": 1, "images": 0,
            "vcu_cost": "1"}  # fmt: skip
    path.write_text("\n".join([json.dumps(good), "{not json", json.dumps([1]), json.dumps(good | {"colour": 1})]))
    with pytest.raises(UsageError) as err:
        store.import_file(path)
    text = str(err.value)
    assert "u.jsonl:2: not JSON" in text and "u.jsonl:3: not a JSON object" in text
    assert "u.jsonl:4: unknown field(s) colour" in text
    assert store.count() == 0


def test_unknown_file_type_and_missing_file(store, tmp_path):
    (tmp_path / "u.txt").write_text("x")
    with pytest.raises(UsageError, match="unknown file type"):
        store.import_file(tmp_path / "u.txt")
    with pytest.raises(UsageError, match="no such file"):
        store.import_file(tmp_path / "nope.csv")


def test_activity_window_edges(store):
    # For the allotments of epoch e+1 the window is epochs e-6 .. e: from (e-6)*86400 to
    # (e+1)*86400 - 1, both included.
    e = 20_000
    start, end = activity_window(e)
    assert (start, end) == ((e - 6) * 86_400, (e + 1) * 86_400 - 1)
    assert end == snapshot_time(e)
    first, last, early, late = (f"0x{i:040x}" for i in (1, 2, 3, 4))
    store.add([
        ApiCall(start, first, "m", 1, 0, 0, 1),  # first second of the window: counts
        ApiCall(end, last, "m", 1, 0, 0, 1),  # last second: counts
        ApiCall(start - 1, early, "m", 1, 0, 0, 1),  # one second before: does not
        ApiCall(end + 1, late, "m", 1, 0, 0, 1),  # one second after: does not
    ])  # fmt: skip
    assert store.active_accounts(start, end) == [first, last]
