"""Fixtures of the staking page's tests: the dashboard server (vvv.dashboard) on a free loopback
port, serving the built page (web/dist, built once per test session by `npm run build`) for the
suite's chain, and Debian's chromium through Playwright. The browser needs the node's HTTP
endpoint, so everything that starts a browser runs in the anvil pass of `make test`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from ape import networks
from playwright.sync_api import expect
from starlette.applications import Starlette

from tests.gateway.keys_support import Served
from tests.oracle.conftest import g, world  # noqa: F401 (a staked system and a usage store)
from vvv.chain.deployment import System
from vvv.dashboard.app import make_app
from vvv.dashboard.data import Dashboard
from vvv.dashboard.serve import WEB_DIR, rpc_url
from vvv.gateway.keys import KeyStore, key_routes
from vvv.oracle.pricing import load_prices
from vvv.oracle.usage import UsageStore
from vvv.staker.keys import domain_of

# Playwright's `expect` waits 5 s by default: under `make test` four sessions, a prover and the
# browser share 2 cores, and a page's refresh after a transaction (about seven reads of the node)
# has taken longer. A check that holds returns at once; only a failing one waits the 30 s.
expect.set_options(timeout=30_000)

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServedDashboard:
    """A dashboard server running in a thread of the test process."""

    url: str  # ends with "/"
    system: System
    rpc_url: str
    reports_dir: Path
    usage_db: str
    dashboard: Dashboard
    keys: KeyStore  # the gateway's key store, whose routes the page's keys panel reaches


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """The page, built once per session from the sources (as `make dashboard` builds it)."""
    build = subprocess.run(["npm", "run", "--silent", "build"], cwd=ROOT, capture_output=True, text=True)
    if build.returncode != 0 or not (WEB_DIR / "index.html").is_file():
        pytest.fail(f"`npm run build` failed (exit {build.returncode}): {(build.stderr or build.stdout)[-2000:]}")
    return WEB_DIR


@pytest.fixture(scope="module")
def dashboard(request, system, tmp_path_factory) -> Iterator[ServedDashboard]:
    """The server for this module's system, with an empty usage store and reports folder that
    the tests fill; anvil pass only (the browser talks to the node)."""
    if networks.provider.name != "foundry":
        pytest.skip("the browser needs the node's HTTP endpoint: runs in the anvil pass of `make test`")
    web_dist = request.getfixturevalue("web_dist")  # built in the anvil pass only: one build at a time
    folder = tmp_path_factory.mktemp("dashboard")
    usage_db = f"sqlite:///{folder / 'usage.db'}"
    UsageStore(usage_db, create=True)
    reports = folder / "reports"
    reports.mkdir()
    keys = KeyStore.open(usage_db, domain_of(system), create=True)
    # the gateway's key routes, on loopback; a key of an account with no stake (read on the chain) warns
    gateway = Served(Starlette(routes=key_routes(keys, stake_of=lambda a: int(system.staking.stakeOf(a)))))
    gateway_url = gateway.__enter__()
    board = Dashboard(system, load_prices(), rpc_url(), True, networks.provider.network_choice, reports, usage_db,
                      gateway_url)  # fmt: skip
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(make_app(board, web_dist), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the dashboard server did not start")
        time.sleep(0.02)
    yield ServedDashboard(f"http://127.0.0.1:{port}/", system, board.rpc_url, reports, usage_db, board, keys)
    server.should_exit = True
    thread.join(timeout=10)
    gateway.__exit__(None, None, None)


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's chromium is not installed: `make setup` installs it (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def _browser():
    """One chromium for the session; a browser that cannot start fails the tests (never a skip)."""
    if networks.provider.name != "foundry":
        pytest.skip("browser tests run in the anvil pass of `make test`")
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=chromium_path(), args=args)
        except Exception as err:
            pytest.fail(f"chromium did not start: {str(err).splitlines()[0]}")
        yield browser
        browser.close()


@pytest.fixture
def browser_page(_browser):
    context = _browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    yield page
    context.close()
