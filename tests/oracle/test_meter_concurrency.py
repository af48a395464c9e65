"""Several meter PROCESSES charging one account at once never spend more than its allotment
together: the check and the record of each request are one transaction under a lock on
(account, epoch) that every process sees (Postgres: an advisory lock; SQLite: the write lock)."""

import multiprocessing

import pytest

from tests.passes import IN_PROCESS
from vvv.oracle.meter import EpochAllotments, Meter, Refused
from vvv.oracle.pricing import load_prices
from vvv.oracle.usage import UsageStore

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)

E18 = 10**18
A = "0x" + "aa" * 20
EPOCH = 20_791
T = EPOCH * 86_400 + 3_600
PROCESSES, REQUESTS = 4, 50
# 1,000 VCU for A; one request (deepseek-r1-671b, 1M tokens in and out) costs 2.20 + 8.80 = 11 VCU,
# so the allotment admits floor(1000 / 11) = 90 requests (990 VCU) of the 4 x 50 = 200 sent.
ALLOTMENT = 1_000 * E18
ADMITTED = 90


def charge_many(url, worker, barrier, results):
    """One meter process: REQUESTS requests for A, all started together with the others."""
    store = UsageStore(url, lock_timeout=120)  # SQLite's 5 s busy wait can starve a process under load
    meter = Meter(store, load_prices(), EpochAllotments(EPOCH, 181_480 * E18, {A: ALLOTMENT}, "report"))
    barrier.wait()
    charged = 0
    for i in range(REQUESTS):
        try:
            meter.charge(A, "deepseek-r1-671b", T + i, 1_000_000, 1_000_000, request_id=f"p{worker}-{i}")
            charged += 1
        except Refused:
            pass
    results.put((worker, charged))


def test_meter_processes_never_overspend(usage_url):
    store = UsageStore(usage_url, create=True)
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no connection is shared
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=charge_many, args=(usage_url, w, barrier, results)) for w in range(PROCESSES)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=300)
        assert process.exitcode == 0  # a worker that failed (e.g. "database is locked") fails the test
    charged = dict(results.get(timeout=10) for _ in workers)
    assert sum(charged.values()) == ADMITTED
    assert store.count() == ADMITTED
    assert store.consumed(EPOCH * 86_400, (EPOCH + 1) * 86_400 - 1, A) == ADMITTED * 11 * E18 == 990 * E18
