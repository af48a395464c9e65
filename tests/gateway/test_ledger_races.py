"""The ledger's one-statement reservation and settlement (PostgreSQL) under races
between two "processes" (two stores on one database), settles, releases, late settles and
`expire`. After the storm: every totals row equals what the rows say (usage rows + held
reservations), every request is charged at most once and never above its reservation, no
account or capped key passed its limit, and every reservation ended charged or released."""

from __future__ import annotations

import random
import threading

from sqlalchemy import select

from tests.gateway.gateway_support import in_process_pass_only
from vvv.chain.epochs import epoch_start, snapshot_time
from vvv.gateway.ledger import Exhausted, KeyLimits, Ledger, key_totals, totals
from vvv.oracle.usage import ApiCall, UsageError, UsageStore, api_calls, reservations

E18 = 10**18
EPOCH = 20_000
NOW = EPOCH * 86_400 + 43_200
A = "0x" + "aa" * 20
KEYS = [KeyLimits("0x" + "01" * 32), KeyLimits("0x" + "02" * 32, daily=300 * E18),
        KeyLimits("0x" + "03" * 32, per_minute=10_000)]  # fmt: skip
ALLOTMENT = 1_000 * E18


def test_totals_equal_the_rows_after_a_storm(postgres_url):
    in_process_pass_only()
    stores = [UsageStore(postgres_url, create=True, lock_timeout=30), UsageStore(postgres_url, lock_timeout=30)]
    ledgers = [Ledger(stores[0]), Ledger(stores[1])]
    key_of: dict[str, str] = {}
    amount_of: dict[str, int] = {}
    released: set[str] = set()
    problems: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker(n: int) -> None:
        rng = random.Random(n)
        for i in range(60):
            ledger = ledgers[rng.randrange(2)]
            limits = rng.choice(KEYS)
            rid = f"gw-{n}-{i}"
            amount = rng.randrange(1, 60) * E18
            ttl = rng.choice([1, 600])
            try:
                r = ledger.reserve(rid, A, limits.key_hash, limits, ALLOTMENT, amount, NOW, "m", ttl=ttl,
                                   staked=False)  # fmt: skip
            except Exhausted:
                continue
            except UsageError as err:
                problems.append(f"reserve {rid}: {err}")
                continue
            with lock:
                key_of[rid], amount_of[rid] = limits.key_hash, amount
            b = r.budget
            if b.spent + b.reserved > ALLOTMENT:
                problems.append(f"{rid}: account past its allotment {b}")
            if limits.daily and sum(b.day) > limits.daily:
                problems.append(f"{rid}: key past its cap {b}")
            action = rng.random()
            other = ledgers[rng.randrange(2)]
            try:
                if action < 0.6:
                    cost = rng.randrange(0, amount * 2)
                    other.settle(r, ApiCall(NOW, A, "m", 1, 1, 0, cost, rid))
                elif action < 0.8:
                    other.release(r)
                    with lock:
                        released.add(rid)
                # else: left for expire (ttl 600 ones are charged by the last expire)
            except UsageError as err:
                problems.append(f"settle/release {rid}: {err}")

    def expirer() -> None:
        while not stop.is_set():
            try:
                ledgers[0].expire(NOW + 1)
            except UsageError as err:
                problems.append(f"expire: {err}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    sweeper = threading.Thread(target=expirer)
    sweeper.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    sweeper.join()
    while ledgers[1].expire(NOW + 600):
        pass
    assert problems == []

    with stores[0].engine.connect() as conn:
        rows = conn.execute(select(api_calls.c.request_id, api_calls.c.vcu_cost_wei)).all()
        held = conn.execute(select(reservations)).all()
        account = conn.execute(select(totals.c.spent_wei, totals.c.reserved_wei)
                               .where(totals.c.account == A, totals.c.epoch == EPOCH)).one()  # fmt: skip
        keys = {row.key_hash: (int(row.spent_wei), int(row.reserved_wei))
                for row in conn.execute(select(key_totals))}  # fmt: skip
    assert held == []
    charged = {row.request_id: int(row.vcu_cost_wei) for row in rows}
    assert len(charged) == len(rows)
    assert set(key_of) - released <= set(charged) <= set(key_of)  # every request charged once, or released
    assert all(charged[rid] == amount_of[rid] for rid in released & set(charged))  # expired before its release
    assert all(charged[rid] <= amount_of[rid] for rid in charged)
    consumed = stores[0].view.consumed(epoch_start(EPOCH), snapshot_time(EPOCH), A)
    assert (int(account.spent_wei), int(account.reserved_wei)) == (consumed, 0)
    assert consumed == sum(charged.values()) <= ALLOTMENT
    for limits in KEYS:
        spent = sum(cost for rid, cost in charged.items() if key_of[rid] == limits.key_hash)
        assert keys.get(limits.key_hash, (0, 0)) == (spent, 0)
        if limits.daily:
            assert spent <= limits.daily
