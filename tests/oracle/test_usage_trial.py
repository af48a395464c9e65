"""A trial import (`--dry-run`): the result a real import would have, and a view that reads as
if the file were imported, while the store is left exactly as it was: the same bytes of a
SQLite file, the same rows (and id sequence) in Postgres."""

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from tests.passes import IN_PROCESS
from vvv.oracle.pricing import load_prices
from vvv.oracle.usage import ApiCall, ImportResult, UsageError, UsageStore, api_calls

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)

A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
C = "0x" + "cc" * 20
HEADER = "timestamp,account,model,input_tokens,output_tokens,images,vcu_cost,request_id\n"
LLAMA_WEI = 2_100_000_000_000_000  # 1,000 in + 500 out tokens of llama-3.3-70b: 0.0021 VCU
FLUX_WEI = 80_000_000_000_000_000  # one flux-dev image: 0.08 VCU


def snapshot(store):
    """Everything a write could change: the file's bytes (SQLite), or every row and the id
    sequence (Postgres)."""
    url = make_url(str(store.engine.url))
    if url.get_backend_name() == "sqlite":
        folder = Path(url.database).parent
        return Path(url.database).read_bytes(), sorted(p.name for p in folder.iterdir())
    with store.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(api_calls).order_by(api_calls.c.id))]
        sequence = conn.execute(text("SELECT last_value, is_called FROM api_calls_id_seq")).one()
    return rows, tuple(sequence)


@pytest.fixture
def store(usage_url):
    store = UsageStore(usage_url, create=True)
    store.add([
        ApiCall(1_000, A, "llama-3.3-70b", 1000, 500, 0, LLAMA_WEI, "r-1"),
        ApiCall(1_500, B, "flux-dev", 0, 0, 1, FLUX_WEI, "r-2"),
    ])  # fmt: skip
    return store


def test_trial_import_writes_nothing(store, tmp_path):
    prices = load_prices()
    path = tmp_path / "day.csv"
    path.write_text(
        HEADER
        + f"1000,{A},llama-3.3-70b,1000,500,0,0.0021,r-1\n"  # stored already
        + f"1200,{C},llama-3.3-70b,1000,500,0,0.0021,r-3\n"  # new: a new account
        + f"2000,{A},flux-dev,0,0,2,0.16,\n"  # new, no request id
        + f"2000,{A},flux-dev,0,0,2,0.16,\n"  # new: the same call again
        + f"1200,{C},llama-3.3-70b,1000,500,0,0.0021,r-3\n"  # repeats line 3
    )
    before = snapshot(store)
    with store.trial_import(path, prices) as (result, view):
        assert result == ImportResult(read=5, added=3, duplicates=2)
        assert view.count() == 5
        assert view.consumed(0, 10_000) == 2 * LLAMA_WEI + FLUX_WEI + 2 * 2 * FLUX_WEI
        assert view.consumed(1_000, 1_999) == 2 * LLAMA_WEI + FLUX_WEI
        assert view.consumed(0, 10_000, A) == LLAMA_WEI + 4 * FLUX_WEI
        assert view.consumed(0, 10_000, C.upper().replace("0X", "0x")) == LLAMA_WEI
        assert view.active_accounts(0, 10_000) == [A, B, C]
        assert view.active_accounts(1_100, 1_999) == [B, C]
        assert view.active_accounts(2_000, 2_000) == [A]
        assert store.count() == 2  # the store itself does not see them
        with pytest.raises(UsageError, match="read-only"):
            view.add([ApiCall(1, A, "m", 0, 0, 0, 0)])
    assert snapshot(store) == before

    # the real import does what the trial said, and the store then reads as the view did
    assert store.import_file(path, prices) == ImportResult(read=5, added=3, duplicates=2)
    assert store.count() == 5
    assert store.consumed(0, 10_000) == 2 * LLAMA_WEI + 5 * FLUX_WEI
    assert store.active_accounts(1_100, 1_999) == [B, C]
    with store.trial_import(path, prices) as (result, view):  # and a trial of it again finds nothing new
        assert result == ImportResult(read=5, added=0, duplicates=5)
        assert view.count() == 5


def test_trial_import_of_a_bad_file_writes_nothing(store, tmp_path):
    path = tmp_path / "day.csv"
    path.write_text(HEADER + f"1000,{A},llama-3.3-70b,1000,500,0,0.0021,r-1\n1001,{A},foo,1,1,0,1,r-9\n")
    changed = tmp_path / "changed.csv"  # r-2 is stored with other contents
    changed.write_text(HEADER + f"1500,{B},flux-dev,0,0,2,0.16,r-2\n")
    before = snapshot(store)
    with (
        pytest.raises(UsageError, match="day.csv:3: model 'foo' is not in the price table"),
        store.trial_import(path, load_prices()),
    ):
        pass
    conflict = "changed.csv:2: request id 'r-2' is already recorded with other contents"
    with pytest.raises(UsageError, match=conflict), store.trial_import(changed, load_prices()):
        pass
    assert snapshot(store) == before
