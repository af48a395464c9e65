"""The oracle's inputs read the same from SQLite and Postgres for the same calls, and equal what
plain Python makes of those calls: `consumed` over an epoch (the utilization) and
`active_accounts` over the 7-day window (the active set), with costs near 2**200 wei and calls
on the edges of the windows."""

import pytest

from tests.passes import IN_PROCESS
from vvv.chain.epochs import activity_window, epoch_start, snapshot_time
from vvv.oracle.usage import ApiCall, UsageStore

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)

E = 20_790  # an epoch (2026-12-03)
DAY = 86_400
BIG = 2**200


def account(i):
    return "0x" + f"{i:040x}".upper()  # upper-case hex: the store keeps lower case


def awkward_calls():
    start, end = epoch_start(E), snapshot_time(E)
    window_start, _ = activity_window(E)
    calls = [
        ApiCall(start, account(1), "m", 0, 0, 0, BIG - 1),  # first second of the epoch
        ApiCall(end, account(2), "m", 0, 0, 0, BIG + 1),  # last second (the snapshot)
        ApiCall(start - 1, account(3), "m", 0, 0, 0, BIG),  # last second of the day before
        ApiCall(end + 1, account(4), "m", 0, 0, 0, BIG),  # first second of the next day
        ApiCall(window_start, account(5), "m", 0, 0, 0, 1),  # first second of the 7-day window
        ApiCall(window_start - 1, account(6), "m", 0, 0, 0, 1),  # one second before it
        ApiCall(start + 1, account(7), "m", 0, 0, 0, 0),  # a free call still makes its account active
        ApiCall(2**62, account(8), "m", 0, 0, 0, 2**255),  # far future, a cost of 2**255 wei
    ]
    # 300 calls of one account through the day, each near 2**200 wei: the sum passes 2**208
    calls += [ApiCall(start + 60 * i, account(9), "m", i, 0, 0, BIG + i) for i in range(300)]
    calls += [ApiCall(start + 60 * i, account(9), "m", i, 0, 0, BIG + i) for i in range(3)]  # the same 3 calls again
    return calls


@pytest.fixture
def stores(tmp_path, postgres_url):
    stores = [UsageStore(f"sqlite:///{tmp_path / 'usage.db'}", create=True), UsageStore(postgres_url, create=True)]
    calls = awkward_calls()
    for store in stores:
        assert store.add(calls) == len(calls)  # identical calls of one batch are distinct calls
    return stores


def python_consumed(calls, start, end):
    return sum(c.vcu_cost for c in calls if start <= c.timestamp <= end)


def python_active(calls, start, end):
    return sorted({c.account.lower() for c in calls if start <= c.timestamp <= end})


def test_oracle_inputs_are_the_same_on_both_stores(stores):
    sqlite, postgres = stores
    calls = awkward_calls()
    start, end = epoch_start(E), snapshot_time(E)
    window = activity_window(E)

    # by hand: accounts 1, 2, 7 and 9 in the epoch; 9 made 303 calls, BIG + i for i < 300 and again for i < 3
    utilization_input = (BIG - 1) + (BIG + 1) + 0 + 300 * BIG + sum(range(300)) + 3 * BIG + sum(range(3))
    assert utilization_input == 305 * BIG + 44_853
    assert sqlite.consumed(start, end) == postgres.consumed(start, end) == utilization_input
    assert python_consumed(calls, start, end) == utilization_input
    active = [account(i).lower() for i in (1, 2, 3, 5, 7, 9)]  # 4 is after, 6 before the window
    assert sqlite.active_accounts(*window) == postgres.active_accounts(*window) == active
    assert python_active(calls, *window) == active

    windows = [(start, end), window, (start - 1, start - 1), (end + 1, end + 1), (0, 2**62), (0, 2**62 - 1),
               (epoch_start(E - 1), snapshot_time(E - 1)), (end + 2, 2**62 - 1)]  # fmt: skip
    for low, high in windows:
        expected = python_consumed(calls, low, high)
        assert sqlite.consumed(low, high) == postgres.consumed(low, high) == expected
        active = python_active(calls, low, high)
        assert sqlite.active_accounts(low, high) == postgres.active_accounts(low, high) == active
        for i in (1, 9):
            mine = [c for c in calls if c.account == account(i)]
            assert sqlite.consumed(low, high, account(i)) == postgres.consumed(low, high, account(i))
            assert sqlite.consumed(low, high, account(i)) == python_consumed(mine, low, high)
    assert sqlite.consumed(0, 2**62) == postgres.consumed(0, 2**62) == sum(c.vcu_cost for c in calls)
    assert sqlite.count() == postgres.count() == len(calls) == 311
