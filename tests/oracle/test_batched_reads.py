"""The report built with batched reads (Multicall3, small batches here) is the report built with
one call per account, to the wei, at one pinned block; the batched path makes one `eth_call`
per batch, the per-account path one per account. Also the watchdog's check of the posted
report through both paths. On ape's in-process chain Multicall3 is deployed by a transaction
(no `set_code` there); on anvil it is injected at its canonical address by ape."""

import pytest
from ape import chain
from ape_ethereum.multicall.constants import MULTICALL3_ADDRESS

from tests.helpers import DAY, E18, at, mine_at
from vvv.bench.rpc import count_requests
from vvv.chain.multicall import Multicall, MulticallError, View, ensure_multicall
from vvv.oracle.proofs import proofs_path, read_proofs
from vvv.oracle.reads import BATCHED, PER_ACCOUNT, chain_reads
from vvv.oracle.report import build_report, post_reports
from vvv.oracle.usage import ApiCall, UsageStore
from vvv.oracle.watchdog import find_lie, read_published

N = 13
BATCH = 4


def account(i):
    return "0x" + f"{i:02x}" * 20


@pytest.fixture
def staked(system, deployer, tmp_path):
    """Accounts 1..13 stake i VVV before genesis and each spends i x 1,000 VCU on the genesis day;
    account 3 stakes 5 more after the snapshot; account 15 calls the API but never stakes."""
    g = system.emissions.genesisEpoch()
    t = g * DAY - 1_000
    at(t)
    system.token.approve(system.staking, 200 * E18, sender=deployer)
    for i in range(1, N + 1):
        at(t + i)
        system.staking.stakeFor(account(i), i * E18, sender=deployer)
    at((g + 1) * DAY + 100)  # after the snapshot (g+1)*DAY - 1
    system.staking.stakeFor(account(3), 5 * E18, sender=deployer)
    mine_at((g + 1) * DAY + 300)
    store = UsageStore(f"sqlite:///{tmp_path / 'usage.db'}", create=True)
    calls = [ApiCall(g * DAY + 60 * i, account(i), "m", 0, 0, 0, i * 1_000 * E18) for i in range(1, N + 1)]
    store.add([*calls, ApiCall(g * DAY + 5, account(15), "m", 0, 0, 0, 0)])
    return g, store


def test_both_paths_build_the_same_report(system, deployer, staked):
    g, store = staked
    address = ensure_multicall(deployer)
    if chain.provider.name == "test":
        assert address != MULTICALL3_ADDRESS  # deployed by a transaction
    else:
        assert address == MULTICALL3_ADDRESS  # injected by ape (anvil_setCode)
    with count_requests() as per_account_requests:
        one_by_one = build_report(system, store, g, reads=chain_reads(system, PER_ACCOUNT))
    with count_requests() as batched_requests:
        reads = chain_reads(system, BATCHED, batch_size=BATCH, multicall_address=address)
        batched = build_report(system, store, g, reads=reads)
    assert batched.report == one_by_one.report
    assert list(batched.tree.leaves()) == list(one_by_one.tree.leaves())
    # by hand: 13 stakers of 1..13 VVV (account 3 at its snapshot stake), 91,000 VCU of 181,480
    assert list(batched.tree.leaves()) == [(account(i), i * E18) for i in range(1, N + 1)]
    r = batched.report
    assert (r.active_count, r.total_active_stake, r.consumed_vcu) == (13, 91 * E18, 91_000 * E18)
    assert r.utilization_bps == 5_014  # 91,000 * 10,000 // 181,480
    # round trips: 14 active accounts' stakes (account 15's is 0) in batches of 4 (4 calls) and the
    # oracle's six fields in one (report, lastCapacity, firstEpoch, reportRecord, reportDeadlineOf,
    # fallbackCapacity), against one call per account and per field (14 + 6)
    assert batched_requests["eth_call"] == 5 and reads.multicall.round_trips == 5
    assert per_account_requests["eth_call"] == 20


def test_reads_are_pinned_to_one_block(system, deployer, staked):
    g, _ = staked
    address = ensure_multicall(deployer)
    before = chain.blocks.head.number
    reads = chain_reads(system, BATCHED, batch_size=BATCH, multicall_address=address)
    system.staking.stakeFor(account(1), 7 * E18, sender=deployer)  # a later block changes the stake now
    now = chain.blocks.head.timestamp
    assert reads.block == before
    assert reads.free_stakes_at([account(1), account(3)], now) == [1 * E18, 8 * E18]
    assert chain_reads(system, PER_ACCOUNT, block=before).free_stakes_at([account(1)], now) == [1 * E18]
    assert chain_reads(system, BATCHED, multicall_address=address).free_stakes_at([account(1)], now) == [8 * E18]


def test_the_watchdog_checks_the_same_through_both_paths(system, oracle, deployer, staked, tmp_path):
    g, store = staked
    address = ensure_multicall(deployer)
    reports = tmp_path / "reports"
    (outcome,) = post_reports(system, store, oracle, reports_dir=reports, until_epoch=g, echo=lambda _: None)
    assert outcome.action == "posted" and outcome.report.active_count == 13
    published = read_published(proofs_path(chain.chain_id, g, reports))
    with count_requests() as per_account_requests:
        plain = find_lie(system, g, published, [], reads=chain_reads(system, PER_ACCOUNT))
    with count_requests() as batched_requests:
        batched = find_lie(system, g, published, [], reads=chain_reads(system, BATCHED, batch_size=BATCH,
                                                                       multicall_address=address))  # fmt: skip
    assert plain == batched
    assert (batched.lie, batched.detail) == ("", "13 leaves checked")
    assert batched_requests["eth_call"] == 1 + 4  # the report, then 13 stakes in batches of 4
    assert per_account_requests["eth_call"] == 1 + 13
    assert read_proofs(proofs_path(chain.chain_id, g, reports)).report == outcome.report


def test_bad_batch_settings_are_one_line_errors(system, deployer):
    with pytest.raises(MulticallError, match=r"^batch size must be at least 1, got 0$"):
        Multicall(ensure_multicall(deployer), chain.blocks.head.number, batch_size=0)
    with pytest.raises(MulticallError, match=r"^unknown read mode 'fast' \(use auto, batched, per-account\)$"):
        chain_reads(system, "fast")
    with pytest.raises(MulticallError, match=r"no single view method named 'stake'$"):
        View.of(system.staking, "stake")
