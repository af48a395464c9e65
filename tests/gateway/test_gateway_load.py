"""Many requests of one account at once, through two gateway processes sharing one database:
the total charged never exceeds the allotment, every answer is a 200 or a 402 (or, when the
store's lock is not taken within its timeout, which SQLite's write lock under this load does
to a few requests, a 503: fail closed), every request forwarded is charged, and the account gets
exactly one activity receipt. 600 requests, 50 at a time, on SQLite and Postgres."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli_runner import free_port
from tests.gateway.gateway_support import DAY, E18, EPOCH, NOW, PRICES, SECRET, add_key, in_process_pass_only
from tests.gateway.keys_support import ALICE, DOMAIN, Served
from tests.gateway.upstream_stub import Upstream
from vvv.gateway.keys import KeyStore
from vvv.gateway.ledger import RESERVATION_TTL, Ledger
from vvv.oracle.usage import UsageStore

ROOT = Path(__file__).resolve().parents[2]
ALLOTMENT = 5_000 * E18
REQUESTS, CONCURRENCY = 600, 50
# 50 requests at once queue for one account's lock: 30 s, not the gateway's 2 s, so that a loaded
# machine's queue is not refused (fail closed is test_fail_closed.py's)
LOCK_SECONDS = 30
BODY = {"model": "small-chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 7}  # worst 36, costs 25


def start_gateway(usage_url: str, upstream_url: str, prices: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.gateway.gateway_process", usage_url, upstream_url, str(port), str(prices),
         str(ALLOTMENT), str(NOW), str(LOCK_SECONDS)],
        cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        try:
            httpx.get(url + "/v1/nothing", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the gateway process did not start")


async def hammer(urls: list[str]) -> list[tuple[int, str | None]]:
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int) -> tuple[int, str | None]:
            async with gate:
                response = await client.post(urls[i % len(urls)] + "/v1/chat/completions", json=BODY,
                                             headers={"authorization": f"Bearer {SECRET}"})  # fmt: skip
                # every response has a request id; a 503 whose charge failed after forwarding says so
                held = response.status_code == 503 and "charged when it expires" in response.text
                return response.status_code, response.headers["x-request-id"] if held else None

        return await asyncio.gather(*(one(i) for i in range(REQUESTS)))


def test_concurrent_requests_on_two_gateways_never_overspend(usage_url, tmp_path):
    in_process_pass_only()
    store = UsageStore(usage_url, create=True)
    Ledger(store)  # the gateway's tables, before two processes race to add them
    add_key(KeyStore(store.engine, DOMAIN), SECRET)
    prices = tmp_path / "prices.csv"
    prices.write_text(PRICES)
    upstream = Upstream()
    with Served(upstream.app) as upstream_url:
        gateways = [start_gateway(usage_url, upstream_url, prices) for _ in range(2)]
        try:
            answers = asyncio.run(hammer([url for _, url in gateways]))
        finally:
            for process, _ in gateways:
                process.terminate()
                process.wait(timeout=20)
    statuses = [status for status, _ in answers]
    ok, refused, unavailable = statuses.count(200), statuses.count(402), statuses.count(503)
    assert ok + refused + unavailable == REQUESTS
    assert unavailable == 0 or usage_url.startswith("sqlite")
    held = [i for status, i in answers if status == 503 and i]  # forwarded, but the charge failed: held
    Ledger(store).expire(NOW + RESERVATION_TTL)  # such reservations are charged in full (36) at their expiry
    spent = store.consumed(EPOCH * DAY, EPOCH * DAY + DAY - 1, ALICE.address)
    assert spent == (25 * ok + 36 * len(held)) * E18 <= ALLOTMENT
    assert ok + len(held) >= ALLOTMENT // (36 * E18)  # at least as many as fit at their worst case
    assert len(upstream.requests) == ok + len(held)
    assert len(store.receipts(EPOCH, EPOCH)) == 1
