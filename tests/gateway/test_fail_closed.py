"""Fail closed: with the usage store slow (its lock not taken within 2 s) or gone, every metered
request is refused with a one-line 503 and none is forwarded; when the store comes back, service
resumes with nothing lost or doubled. A real PostgreSQL server is killed and restarted under
load (its own server: the session's is shared by the other tests)."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.gateway.gateway_support import (
    DAY,
    E18,
    EPOCH,
    NOW,
    SECRET,
    in_process_pass_only,
    running_gateway,
    store_lock_held,
    wait_for,
)
from tests.gateway.keys_support import ALICE
from tests.postgres import PostgresServer
from vvv.gateway.app import STORE_LOCK_SECONDS
from vvv.gateway.ledger import RESERVATION_TTL, Ledger, reservations
from vvv.oracle.usage import UsageError, UsageStore

A = ALICE.address.lower()
BODY = {"model": "small-chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 7}  # worst 36, costs 25


def post(world):
    return httpx.post(world.url + "/v1/chat/completions", json=BODY, headers=world.headers(), timeout=30)


def test_a_store_whose_lock_is_not_taken_within_2_s_refuses_every_request(usage_url, tmp_path):
    in_process_pass_only()
    with running_gateway(usage_url, tmp_path) as world:
        with store_lock_held(usage_url, A, EPOCH):  # another process holds the account's lock
            started = time.monotonic()
            response = post(world)
            assert 2 <= time.monotonic() - started < 10
        assert response.status_code == 503
        message = response.json()["error"]["message"]
        assert message.startswith("the usage store is unavailable: usage store ") and "\n" not in message
        assert ("lock timeout" in message) or ("database is locked" in message)
        assert world.upstream.requests == [] and world.store.count() == 0
        assert post(world).status_code == 200  # the lock is free again


@pytest.fixture
def own_postgres():
    root = Path(tempfile.mkdtemp(prefix="vvv-pg-"))
    server = PostgresServer(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_postgres_killed_and_restarted_under_load(own_postgres, tmp_path):
    in_process_pass_only()
    url = own_postgres.database_url(own_postgres.create_database())
    with running_gateway(url, tmp_path, sweep_seconds=0) as world:
        answers: list[tuple[str, int, str | None, str, int]] = []  # (phase, status, request id, message, client)
        phase = ["up"]
        stop = threading.Event()

        def client() -> None:
            with httpx.Client(timeout=30) as http:
                while not stop.is_set():
                    r = http.post(world.url + "/v1/chat/completions", json=BODY, headers=world.headers(SECRET))
                    message = r.json()["error"]["message"] if r.status_code != 200 else ""
                    answers.append((phase[0], r.status_code, r.headers.get("x-request-id"), message,
                                    threading.get_ident()))  # fmt: skip

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()

        def seen(answer: tuple[str, int]) -> None:
            """Wait until some request answered so."""
            wait_for(lambda: answer in {(p, s) for p, s, *_ in answers}, 60, f"an answer {answer}")

        try:
            seen(("up", 200))
            time.sleep(0.5)
            own_postgres.kill()
            phase[0] = "down"
            seen(("down", 503))
            # every client has had two answers since the kill: its request in flight at the kill
            # has finished, and the next one started after it
            down = lambda t: sum(1 for p, *_, who in answers if p == "down" and who == t.ident)  # noqa: E731
            wait_for(lambda: all(down(t) >= 2 for t in threads), 60, "two answers after the kill for every client")
            forwarded_while_down = len(world.upstream.requests)
            time.sleep(1.5)
            assert len(world.upstream.requests) == forwarded_while_down  # nothing forwarded while it is down
            own_postgres.start_again()
            phase[0] = "back"
            seen(("back", 200))
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        statuses = {(p, s) for p, s, *_ in answers}
        assert ("up", 200) in statuses and ("down", 503) in statuses and ("back", 200) in statuses
        assert {s for _, s, *_ in answers} <= {200, 503}
        assert all("\n" not in m for _, _, _, m, _ in answers)
        ok = [i for _, s, i, *_ in answers if s == 200]
        # the charge failed (every response has a request id: these say their reservation is kept)
        after_forwarding = [i for _, s, i, m, _ in answers if s == 503 and "charged when it expires" in m]
        # nothing lost: every answered request has its one charge; every reservation whose
        # charge failed is charged in full (36 VCU) at its expiry; nothing doubled
        ledger = Ledger(world.store)
        ledger.expire(NOW + RESERVATION_TTL)
        with world.store.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(reservations)).scalar_one() == 0
        charged = world.store.view.stored([f"req:{i}" for i in ok + after_forwarding])
        assert len(charged) == len(ok) + len(after_forwarding)
        assert all(charged[f"req:{i}"]["vcu_cost_wei"] == str(25 * E18) for i in ok)
        assert all(charged[f"req:{i}"]["vcu_cost_wei"] == str(36 * E18) for i in after_forwarding)
        assert len(world.upstream.requests) == len(ok) + len(after_forwarding)
        total = world.store.consumed(EPOCH * DAY, EPOCH * DAY + DAY - 1, A)
        assert total == (25 * len(ok) + 36 * len(after_forwarding)) * E18
        assert ledger.totals(A, EPOCH) == (total, 0)


def test_gateways_started_together_on_a_new_store_all_start(usage_url):
    """Gateway processes that open one new store at the same moment race to create the ledger's
    tables (before the fix 5 of 6 did not start: an IntegrityError on Postgres, "database is
    locked" on SQLite): they take the store's lock one at a time, and every one starts."""
    in_process_pass_only()
    UsageStore(usage_url, create=True)
    stores = [UsageStore(usage_url, lock_timeout=STORE_LOCK_SECONDS) for _ in range(6)]
    together = threading.Barrier(len(stores))
    failed: list[str] = []

    def open_ledger(store: UsageStore) -> None:
        together.wait()
        try:
            Ledger(store)
        except UsageError as err:
            failed.append(str(err))

    threads = [threading.Thread(target=open_ledger, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failed == []
    for store in stores:
        store.engine.dispose()
