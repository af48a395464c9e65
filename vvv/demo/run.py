"""The demo: the whole protocol for a number of simulated days on a local chain.

Deploys with `deploy_system`, funds the planned stakers (`vvv.demo.simulation`), and then, day by
day, as in production: just after midnight the oracle posts yesterday's report
(`vvv.oracle.report.post_reports`); once its dispute window is over, yesterday's epoch is distributed
(`distribute_final_epochs`); during the day stakers act through `vvv.staker.transactions` (stake with a
permit, unstake, cancel, withdraw, restake, claim) and API users spend VCU through the meter
(`vvv.oracle.meter.Meter`) into the usage store. Users without an allotment pay for their calls
another way: those calls are recorded at 0 VCU and still count as API activity."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ape import accounts, chain

from vvv.chain.deployment import System, deploy_system, local_role_defaults
from vvv.chain.epochs import EPOCH_LENGTH as DAY
from vvv.chain.epochs import Source, allotment_source, read_day_facts, snapshot_time
from vvv.demo.simulation import RightsPlan, StakerPlan, plan_rights, plan_stakers, target_utilization_bps
from vvv.oracle.meter import EpochAllotments, Meter, Refused, allotments_from_proofs, fallback_allotments
from vvv.oracle.pricing import PriceTable, load_prices
from vvv.oracle.proofs import proofs_path, read_proofs
from vvv.oracle.report import BPS, SanityBounds, distribute_final_epochs, post_reports
from vvv.oracle.usage import ApiCall, UsageStore
from vvv.staker import transactions as staker

GAS_MONEY = 10 * 10**18  # ETH for each staker's transactions
FIRST_STAKER_INDEX = 1_000  # stakers are test accounts generated from this index of the mnemonic
FIRST_AGENT_INDEX = 5_000  # the agents stakers activate rights for, generated from this index
REQUESTS_PER_USER = 3
# The load sweeps from 2 % to 98 % on purpose: over a few days it moves faster than the oracle's
# sanity bounds allow (2 days: 2 % -> 98 %), so the demo's oracle posts such moves.
SWEEP = SanityBounds(allow_outlier=True)


@dataclass
class StakerBook:
    """What happened to one staker (wei)."""

    plan: StakerPlan
    account: Any
    rewards: int = 0  # claimed + restaked (earned-but-unclaimed is added at the end)
    vcu_granted: int = 0
    vcu_used: int = 0
    request_id: int | None = None
    skipped: list[str] = field(default_factory=list)
    rights: RightsPlan | None = None
    agent: str | None = None  # the address its rights are activated for
    rights_minted: int = 0
    rights_locked: int = 0


@dataclass
class DayLog:
    day: int
    epoch: int
    target_bps: int
    allotments: EpochAllotments
    vcu_used: int = 0


@dataclass
class DemoRun:
    system: System
    genesis_epoch: int
    days: int
    seed: int
    books: list[StakerBook]
    logs: list[DayLog]
    distributions: dict[int, Any]  # epoch -> its `Distributed` event
    out: Path


class Clock:
    """Sets each transaction's time; never goes back, and moves past the newest block."""

    def __init__(self) -> None:
        self.t = 0

    def at(self, timestamp: int) -> None:
        self.t = max(timestamp, self.t + 1, chain.blocks.head.timestamp + 1)
        chain.pending_timestamp = self.t

    def mine(self, timestamp: int) -> None:
        self.t = max(timestamp, self.t + 1, chain.blocks.head.timestamp + 1)
        chain.mine(timestamp=self.t)


def _act(system: System, book: StakerBook, action: str) -> None:
    """One planned action through the staker commands' functions; an action the chain would
    refuse (nothing earned yet, ...) is skipped and noted."""
    plan, account = book.plan, book.account
    try:
        if action == "stake":
            staker.stake(system, account, plan.stake)
        elif action == "unstake":
            staked = system.staking.stakeOf(account)
            outcome = staker.unstake(system, account, staked * plan.unstake_share_bps // BPS)
            book.request_id = outcome.requests[0]["id"]
        elif action == "cancel" and book.request_id is not None:
            staker.cancel(system, account, book.request_id)
        elif action == "withdraw" and book.request_id is not None:
            staker.withdraw(system, account, [book.request_id])
        elif action == "restake":
            book.rewards += staker.restake(system, account).amounts["amount"]
        elif action == "claim":
            book.rewards += staker.claim(system, account).amounts["amount"]
    except staker.StakerError as err:
        book.skipped.append(f"{action}: {err}")


def _mint_and_activate(system: System, book: StakerBook, epoch: int, reports: Path) -> None:
    """The staker mints its planned share of today's allowance (its leaf from the proofs file of
    yesterday's report, final by now) and activates all of it for its agent from tomorrow; a mint
    the rules refuse (not in the active set, the cap, too little free stake) is skipped and noted."""
    rights, plan = system.compute_rights, book.rights
    assert rights is not None and plan is not None and book.agent is not None
    path = proofs_path(chain.chain_id, epoch - 1, reports)
    if not path.exists():
        book.skipped.append(f"mint: no proofs file of the report of epoch {epoch - 1}")
        return
    proofs = read_proofs(path)
    stake, position, siblings = proofs.proof(book.account.address)
    if stake == 0:
        book.skipped.append(f"mint: not in the active set of the report of epoch {epoch - 1}")
        return
    allowance = int(rights.QUOTA()) * stake // proofs.report.total_active_stake
    min_capacity = int(system.oracle.capacityBounds()[0])
    cap_left = min(int(rights.RCAP()), min_capacity // 2) - int(rights.totalSupply())
    n = min(allowance * plan.share_bps // BPS, cap_left)
    if n <= 0:
        book.skipped.append("mint: nothing left under the allowance or the cap")
        return
    price = int(rights.quoteMint(n))
    if price > int(system.staking.freeStakeOf(book.account)):
        book.skipped.append(f"mint: {n} rights lock {price} VVV wei, above the free stake")
        return
    rights.mint(n, price, (book.account.address, stake, position, siblings), sender=book.account)
    rights.activate(n, book.agent, sender=book.account)
    book.rights_minted += n
    book.rights_locked += price


def _allotments(system: System, books: list[StakerBook], epoch: int, reports: Path) -> EpochAllotments:
    """Today's allotments by the day's one source (`vvv.chain.epochs.allotment_source`): from
    the proofs file of yesterday's report, or the fallback at the day's fallback capacity; none
    while the source is not yet known."""
    source = allotment_source(read_day_facts(system.oracle, epoch), chain.blocks.head.timestamp)
    path = proofs_path(chain.chain_id, epoch - 1, reports)
    if source == Source.REPORT and path.exists():
        return allotments_from_proofs(read_proofs(path))
    if source == Source.NOT_YET_KNOWN:
        return EpochAllotments(epoch, int(system.oracle.fallbackCapacity(epoch)), {}, source.label)
    snapshot = snapshot_time(epoch - 1)
    stakes = {b.account.address: system.staking.stakeAt(b.account, snapshot) for b in books}
    return fallback_allotments(epoch, int(system.oracle.fallbackCapacity(epoch)), stakes)


def _traffic(books: list[StakerBook], log: DayLog, store: UsageStore, prices: PriceTable) -> None:
    """The day's API load: users with an allotment spend their part of the target utilization
    through the meter; users without one make a call paid another way (0 VCU)."""
    allot, epoch = log.allotments, log.epoch
    target = log.target_bps * allot.capacity // BPS
    users = [b for b in books if b.plan.api_user and log.day >= b.plan.join_day]
    pool = sum(allot.of(b.account.address) for b in users)
    meter = Meter(store, prices, allot)
    chat = sorted(m for m, p in prices.models.items() if p.kind == "chat" and p.per_1m_input + p.per_1m_output)
    for b in users:
        address, share = b.account.address, allot.of(b.account.address)
        t = epoch * DAY + 12 * 3_600 + b.plan.index * (10 * 3_600 // len(books))
        model = chat[(b.plan.index + log.day) % len(chat)]
        if share == 0:
            store.add([ApiCall(t, address, model, 1_000, 500, 0, 0)])
            continue
        price = prices.price(model)
        want = min(share, target * share // pool)
        for k in range(REQUESTS_PER_USER):
            out_tokens = want // REQUESTS_PER_USER * 1_000_000 // (3 * price.per_1m_input + price.per_1m_output)
            try:
                call = meter.charge(address, model, t + k, 3 * out_tokens, out_tokens)
            except Refused:
                continue
            b.vcu_used += call.vcu_cost
            log.vcu_used += call.vcu_cost


def _midnight(system: System, clock: Clock, epoch: int, store: UsageStore, reports: Path, oracle: Any) -> list[Any]:
    """The oracle's run after midnight and the distribution once the report is final; returns
    the `Distributed` events (read from the few blocks just made: a log query over the whole
    run is slow on the in-process chain)."""
    clock.mine(epoch * DAY + 300)
    clock.at(epoch * DAY + 301)
    post_reports(system, store, oracle, reports_dir=reports, echo=lambda _: None, bounds=SWEEP)
    clock.mine(epoch * DAY + system.oracle.disputeWindow() + 600)
    first = chain.blocks.head.number + 1
    clock.at(chain.blocks.head.timestamp + 1)
    distribute_final_epochs(system, oracle, echo=lambda _: None)
    return list(system.emissions.Distributed.range(first, chain.blocks.head.number + 1))


def run_demo(
    days: int, stakers: int, seed: int, out: Path, progress: Callable[[str], None], *, record: bool = False
) -> DemoRun:
    """Play `days` days with `stakers` stakers; the usage store and proofs files go to `out`.
    With `record`, the deployment record is written (for `ape run dashboard` on the same chain)."""
    test = accounts.test_accounts
    deployer, oracle = test[0], test[6]
    out.mkdir(parents=True, exist_ok=True)
    reports = out / "reports"
    shutil.rmtree(reports, ignore_errors=True)
    (out / "usage.db").unlink(missing_ok=True)
    store, prices = UsageStore(f"sqlite:///{out / 'usage.db'}", create=True), load_prices()
    clock = Clock()

    clock.at((chain.blocks.head.timestamp // DAY + 1) * DAY + 3_600)  # 01:00, the day before genesis
    system = deploy_system(deployer, record=record, **local_role_defaults())
    g = system.emissions.genesisEpoch()
    progress(f"deployed; genesis epoch {g}; {stakers} stakers, {days} days, seed {seed}")
    books = [StakerBook(p, test.containers["test"].generate_account(index=FIRST_STAKER_INDEX + p.index))
             for p in plan_stakers(stakers, days, seed)]  # fmt: skip
    if system.compute_rights is not None:  # some stakers mint rights and activate them for their agents
        for r in plan_rights([b.plan for b in books], days, seed):
            book = books[r.index]
            book.rights = r
            book.agent = test.containers["test"].generate_account(index=FIRST_AGENT_INDEX + r.agent_index).address
    for b in books:
        clock.at(clock.t + 1)
        deployer.transfer(b.account, GAS_MONEY)
        clock.at(clock.t + 1)
        system.token.transfer(b.account, b.plan.stake + b.plan.wallet_extra, sender=deployer)

    logs: list[DayLog] = []
    events: list[Any] = []
    for day in range(-1, days):
        epoch = g + day
        if day >= 0:
            events += _midnight(system, clock, epoch, store, reports, oracle)
        spacing = 10 * 3_600 // len(books)  # stakers act between 09:00 and 19:00, withdraws after 20:00
        for b in books:
            for k, action in enumerate(b.plan.actions_on(day)):
                late = 11 * 3_600 if action == "withdraw" else 0
                clock.at(epoch * DAY + 9 * 3_600 + late + b.plan.index * spacing + k * 5)
                _act(system, b, action)
            if b.rights is not None and b.rights.mint_day == day:
                clock.at(epoch * DAY + 9 * 3_600 + b.plan.index * spacing + 60)
                _mint_and_activate(system, b, epoch, reports)
        if day < 0:
            continue
        log = DayLog(day, epoch, target_utilization_bps(day, days), _allotments(system, books, epoch, reports))
        for b in books:
            b.vcu_granted += log.allotments.of(b.account.address)
        _traffic(books, log, store, prices)
        logs.append(log)
        progress(f"day {day + 1}/{days} (epoch {epoch}): load {log.target_bps / 100:.0f}% of capacity, "
                 f"{log.vcu_used / 10**18:,.0f} VCU used")  # fmt: skip
    events += _midnight(system, clock, g + days, store, reports, oracle)
    progress("last report posted and distributed")
    return DemoRun(system, g, days, seed, books, logs, {int(e.epoch): e for e in events}, out)
