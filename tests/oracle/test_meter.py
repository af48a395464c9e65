"""Meter: allotments from a report's proofs, spent and remaining, refusals that record nothing.
The tests that charge run on SQLite and on Postgres (`usage_url`)."""

import pytest

from tests.passes import IN_PROCESS
from tests.sumtree_reference import ref_proof_args, ref_root
from vvv.oracle.meter import Meter, Refused, allotments_from_proofs, fallback_allotments
from vvv.oracle.pricing import load_prices
from vvv.oracle.proofs import ProofsFile, ReportData, read_proofs, write_proofs
from vvv.oracle.sumtree import SumTree
from vvv.oracle.usage import ApiCall, UsageStore

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)

E18 = 10**18
A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
C = "0x" + "cc" * 20
EPOCH = 20_000  # the report's epoch; the allotments are for EPOCH + 1
DAY = 86_400
LEAVES = [(A, 100 * E18), (B, 300 * E18)]


@pytest.fixture
def proofs():
    # A has 100 VVV, B 300 VVV active; capacity 181,480 VCU -> A 45,370, B 136,110 VCU.
    tree = SumTree.from_stakes({A: 100 * E18, B: 300 * E18})
    report = ReportData(chain_id=1337, oracle="0x" + "11" * 20, epoch=EPOCH, snapshot=(EPOCH + 1) * DAY - 1,
                        utilization_bps=0, consumed_vcu=0, capacity_of_epoch=181_480 * E18,
                        capacity=181_480 * E18, active_root=ref_root(LEAVES), total_active_stake=400 * E18,
                        active_count=2)  # fmt: skip
    return ProofsFile(report, tree)


@pytest.fixture
def meter(proofs, usage_url):
    return Meter(UsageStore(usage_url, create=True), load_prices(), allotments_from_proofs(proofs))


def test_allotments_and_usage(meter):
    assert meter.epoch == EPOCH + 1
    usage = meter.usage(A)
    assert (usage.allotment, usage.spent, usage.remaining) == (45_370 * E18, 0, 45_370 * E18)
    assert meter.usage(B).allotment == 136_110 * E18
    assert meter.usage(C).allotment == 0


def test_charge_records_until_the_allotment_is_used(meter):
    t = (EPOCH + 1) * DAY + 10
    # deepseek: 1M in + 1M out = 11 VCU a request; A can afford 45,370 / 11 = 4,124.5 -> 4,124
    call = meter.charge(A, "deepseek-r1-671b", t, 1_000_000, 1_000_000)
    assert call.vcu_cost == 11 * E18
    assert meter.usage(A).spent == 11 * E18
    # 4,123 more such requests, recorded in one row (charging them one by one is slow)
    meter.store.add([ApiCall(t, A, "deepseek-r1-671b", 4_123_000_000, 4_123_000_000, 0, 4_123 * 11 * E18)])
    assert meter.usage(A).remaining == 45_370 * E18 - 4_124 * 11 * E18  # 6 VCU left
    with pytest.raises(Refused, match="costs 11 VCU but only 6 of 45370 VCU are left"):
        meter.charge(A, "deepseek-r1-671b", t + 1, 1_000_000, 1_000_000)
    assert meter.usage(A).spent == 4_124 * 11 * E18  # nothing recorded
    # a smaller request still fits: 75 images x 0.08 = 6 VCU exactly
    meter.charge(A, "flux-dev", t + 2, images=75)
    assert meter.usage(A).remaining == 0


def test_refusals_record_nothing(meter):
    t = (EPOCH + 1) * DAY + 10
    with pytest.raises(Refused, match="not an active staker"):
        meter.charge(C, "llama-3.3-70b", t, 10, 10)
    with pytest.raises(Refused, match="unknown model"):
        meter.charge(A, "gpt-9", t, 10, 10)
    with pytest.raises(Refused, match="outside epoch"):
        meter.charge(A, "llama-3.3-70b", (EPOCH + 2) * DAY, 10, 10)
    assert meter.store.count() == 0


def test_yesterdays_spend_does_not_count_today(meter):
    meter.store.add([ApiCall((EPOCH + 1) * DAY - 1, A, "m", 0, 0, 0, 10**30)])  # last second of yesterday
    meter.charge(A, "llama-3.2-3b", (EPOCH + 1) * DAY, 1, 0)  # first second of today
    assert meter.usage(A).spent == 150_000_000_000  # only today's call (1 token x 0.15/1M)


def test_a_request_id_is_charged_once(meter):
    t = (EPOCH + 1) * DAY + 10
    call = meter.charge(A, "llama-3.3-70b", t, 1_000, 500, request_id="req-1")
    assert (call.request_id, call.vcu_cost) == ("req-1", 2_100_000_000_000_000)  # 0.0007 + 0.0014 VCU
    with pytest.raises(Refused, match="^request id 'req-1' is recorded already: not charged again$"):
        meter.charge(A, "llama-3.3-70b", t, 1_000, 500, request_id="req-1")
    with pytest.raises(Refused, match="^request id 'req-1' is already recorded with other contents$"):
        meter.charge(A, "llama-3.3-70b", t + 1, 1_000, 500, request_id="req-1")
    assert meter.usage(A).spent == 2_100_000_000_000_000
    # without a request id, each charge is a call of its own, even the same request in the same second
    meter.charge(A, "llama-3.3-70b", t, 1_000, 500)
    meter.charge(A, "llama-3.3-70b", t, 1_000, 500)
    assert meter.usage(A).spent == 3 * 2_100_000_000_000_000
    assert meter.store.count() == 3


def test_fallback_allotments():
    # no report: every staker counts, 100 : 300 : 600 of 181,480 -> 18,148 / 54,444 / 108,888
    allot = fallback_allotments(EPOCH + 1, 181_480 * E18, {A: 100 * E18, B: 300 * E18, C: 600 * E18})
    assert [allot.of(x) for x in (A, B, C)] == [18_148 * E18, 54_444 * E18, 108_888 * E18]
    assert allot.source == "fallback"


def test_proofs_file_round_trip(proofs, tmp_path):
    path = write_proofs(proofs, tmp_path)
    assert path == tmp_path / "1337" / f"{EPOCH}.json"
    loaded = read_proofs(path)
    assert loaded.report == proofs.report
    assert loaded.proof(B) == ref_proof_args(LEAVES, B)
    assert loaded.proof(B)[:2] == (300 * E18, 1)
    assert loaded.proof(C) == (0, 0, [])
