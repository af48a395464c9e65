"""From a stake to a served API call, as a new staker walks it on a chain of its own (the test
moves its clock by days, which a snapshot revert would not undo for the suite's chain): anvil,
`ape run deploy`, and as processes the stand-in upstream, the gateway and the page's server (the
parts `make dashboard` starts), the oracle run once per day as `ape run oracle`.

In chromium, TEST::1 stakes 250 VVV and creates a key on the page; the official `openai` client's
call with it is refused (402: "you are now API-active ... starts at 00:00 UTC"); the chain moves to
the next day and the oracle posts the day that ended; the same call is served and charged, and the
charge shows on the page and in `ape run staker status`. Then (issue 23's acceptance) the report
of the day before is final: on the page the staker mints 5 VCR and activates them for an agent's
address (TEST::2, no stake); the agent's own key is refused today, and served the next day from
its rights: its allotment is exactly 5 VCU, the staker's the capacity less those 5.

The charge, by hand from data/prices.csv: llama-3.3-70b costs 0.70 VCU per 1M input tokens and
2.80 per 1M output tokens; the stand-in counts the message "hello" as ceil(5 / 4) = 2 input
tokens and answers the 16 words of its sentence ("This is the VVV stand-in upstream, not a model:
your request reached it through the gateway.") as 16 output tokens: 2 x 0.70 + 16 x 2.80 = 46.2
VCU per 1M tokens, 0.0000462 VCU = 46,200,000,000,000 wei. Anvil pass only; about 110 s."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openai import APIStatusError, OpenAI
from playwright.sync_api import expect

from tests.cli_runner import ROOT, free_port, plain_anvil, rpc
from tests.dashboard.test_page import (  # noqa: F401 (the anvil-pass rule)
    WALLET_JS,
    _anvil_pass_only,
    confirmed_hash,
    submit,
    value,
)
from vvv.oracle.usage import UsageStore

APE = Path(sys.executable).parent / "ape"
NETWORK = "ethereum:local:foundry"
USER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # TEST::1 of the mnemonic anvil and ape share
AGENT = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"  # TEST::2: no stake, served by rights alone
E18 = 10**18
CAPACITY = 181_480 * E18  # deploy's default capacity
WINDOW = 2 * 3_600  # deploy's default dispute window
DAY = 86_400
CHARGE_WEI = 46_200_000_000_000  # 0.0000462 VCU (see above)


class World:
    """Everything of the journey, on its own anvil; `ape` runs with its environment."""

    def __init__(self, folder: Path, uri: str) -> None:
        self.folder, self.uri = folder, uri
        self.reports = folder / "reports"
        self.usage_db = f"sqlite:///{folder / 'usage.db'}"
        self.env = os.environ | {"APE_FOUNDRY_HOST": uri, "VVV_DEPLOYMENTS_DIR": str(folder / "deployments")}
        self.env.pop("VVV_USAGE_DB", None)
        self.processes: list[subprocess.Popen] = []

    def ape(self, *args: str) -> str:
        done = subprocess.run([str(APE), "run", *args, "--network", NETWORK], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def serve(self, name: str, port: int, *args: str) -> str:
        """`ape run NAME ARGS --port PORT` in the background; its URL once it answers."""
        log = (self.folder / f"{name}.log").open("w")
        network = [] if name == "standin" else ["--network", NETWORK]  # the stand-in reads no chain
        argv = [str(APE), "run", name, *args, *network, "--host", "127.0.0.1", "--port", str(port)]
        self.processes.append(subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))  # fmt: skip
        return f"http://127.0.0.1:{port}"

    def wait(self, url: str, name: str, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(url, timeout=2)
                return
            alive = process.poll() is None and time.monotonic() < deadline
            assert alive, (self.folder / f"{name}.log").read_text()[-3000:]
            time.sleep(0.2)

    def next_day(self) -> int:
        """Move the chain to 00:06 UTC of its next day (past the oracle's 5 minutes); the new epoch."""
        now = int(rpc(self.uri, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)
        rpc(self.uri, "evm_increaseTime", DAY - now % DAY + 360)
        rpc(self.uri, "evm_mine")
        return (now // DAY) + 1

    def pass_window(self) -> None:
        """Past the dispute window of the report posted at 00:06: it is final (mints need it)."""
        rpc(self.uri, "evm_increaseTime", WINDOW + 60)
        rpc(self.uri, "evm_mine")

    def report(self) -> str:
        """The oracle, once: posts the days that ended (as the oracle bot would within a minute)."""
        return self.ape("oracle", "--account", "TEST::6", "--usage-db", self.usage_db, "--reports-dir",
                        str(self.reports), "--allow-outlier")  # fmt: skip

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 2)
        for process in self.processes:
            process.wait(timeout=60)


@pytest.fixture
def journey(tmp_path, web_dist) -> Iterator[tuple[World, str, str]]:
    """The chain deployed and two days on (its genesis day over and reported); the stand-in, the
    gateway (TEST::9 signs receipts) and the page's server running. (world, page URL, gateway URL)"""
    anvil = plain_anvil(tmp_path).start()
    world = World(tmp_path, anvil.uri)
    try:
        world.ape("deploy", "--account", "TEST::0", "--fund", "10000")
        UsageStore(world.usage_db, create=True)
        world.next_day()  # the genesis day: the day after the deployment's
        genesis = world.next_day() - 1
        assert re.search(rf"epoch {genesis}: .*: posted", world.report())  # so today's source is a report
        standin = world.serve("standin", free_port())
        gateway = world.serve("gateway", free_port(), "--upstream", standin, "--usage-db", world.usage_db,
                              "--reports-dir", str(world.reports), "--signer", "TEST::9")  # fmt: skip
        page = world.serve("dashboard", free_port(), "--usage-db", world.usage_db, "--reports-dir",
                           str(world.reports), "--gateway", gateway, "--web-dir", str(web_dist))  # fmt: skip
        for (url, name), process in zip(((standin, "standin"), (gateway + "/metrics", "gateway"), (page, "dashboard")),
                                        world.processes, strict=True):  # fmt: skip
            world.wait(url, name, process)
        yield world, page + "/", gateway
    finally:
        world.stop()
        anvil.stop()


def ask(gateway: str, secret: str) -> tuple[int, str, str | None]:
    """The README's call with the official openai client: (status, text, charged VCU header)."""
    client = OpenAI(base_url=gateway + "/v1", api_key=secret, max_retries=0)
    try:
        raw = client.chat.completions.with_raw_response.create(
            model="llama-3.3-70b", messages=[{"role": "user", "content": "hello"}], max_tokens=50
        )
    except APIStatusError as err:
        return err.status_code, err.body["message"], None
    return 200, raw.parse().choices[0].message.content, raw.headers["x-vvv-charged-vcu"]


def stake_key_refused_next_day_served_and_charged(journey, browser_page):
    """The first half of the journey: stake, key, 402, the next day served and charged."""
    world, url, gateway = journey
    page = browser_page
    page.add_init_script(WALLET_JS % json.dumps({"rpc": world.uri, "account": USER, "refuseTypedData": False}))
    page.goto(url)
    page.get_by_role("button", name="Connect Test Wallet").click()
    expect(page.get_by_text(f"Connected with Test Wallet: {USER}")).to_be_visible()

    # stake on the page, then a key on the page (the secret shown once)
    submit(page, "stake", "250")
    confirmed_hash(page, "Stake 250 VVV with a permit")
    expect(value(page, "Staked")).to_have_text("250.00 VVV")
    page.get_by_label("Key label").fill("journey")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("status")).to_contain_text('Key "journey" created')
    secret = page.get_by_label("New key's secret").inner_text()
    assert re.fullmatch(r"vvv_[A-Za-z0-9_-]{43}", secret)

    # today's allotments were fixed by yesterday's report: the first call is refused, and makes
    # the account API-active
    status, message, charged = ask(gateway, secret)
    assert status == 402 and charged is None
    assert "you are now API-active; your allotment starts at 00:00 UTC" in message, message

    # the next day, once its report (of the day that ended) is posted, the same call is served
    epoch = world.next_day()
    posted = world.report()
    assert re.search(rf"epoch {epoch - 1}: .*1 active stakers? .*: posted", posted), posted
    status, text, charged = ask(gateway, secret)
    assert status == 200 and text.startswith("This is the VVV stand-in upstream, not a model"), text
    assert charged == "0.0000462"

    # the charge on the page (reloaded: it connects the wallet it remembers) and in `staker status`
    page.reload()
    expect(page.get_by_text(f"Connected with Test Wallet: {USER}")).to_be_visible()
    expect(value(page, "Spent today")).to_have_text("0.0000462 VCU")
    expect(value(page, "Left today")).to_have_text("181,479.99 VCU")  # 181,480 - 0.0000462, floored
    status_json = json.loads(world.ape("staker", "status", USER, "--reports-dir", str(world.reports), "--usage-db",
                                       world.usage_db, "--json", "--wei"))  # fmt: skip
    vcu = status_json["vcu"]
    assert (vcu["epoch"], vcu["source"], vcu["api_active"]) == (epoch, "report", True), vcu
    # the one active staker of the day that ended: its allotment is the whole capacity, 181,480 VCU
    assert vcu["allotment"] == vcu["capacity"] == 181_480 * 10**18, vcu
    assert (vcu["spent"], vcu["remaining"]) == (CHARGE_WEI, 181_480 * 10**18 - CHARGE_WEI), vcu
    return world, page, gateway, epoch


def test_stake_key_served_then_rights_minted_and_activated_for_an_agent_served_the_next_day(journey, browser_page):
    """The staker's journey to a served call, then issue 23's acceptance: on the page the staker
    mints 5 VCR and activates them for an agent's address; the next day the agent, with no stake,
    is served through the gateway and charged against the rights, and the day's allotments
    (rights + pool) are the capacity, no more. One chain for both halves (about 90 s more)."""
    world, page, gateway, epoch = stake_key_refused_next_day_served_and_charged(journey, browser_page)
    # the report of epoch - 1 (the staker the only active one) is final: its allowance is the
    # whole day's quota, RCAP / 20 = 25 VCR
    world.pass_window()
    page.reload()
    expect(page.get_by_text(f"Connected with Test Wallet: {USER}")).to_be_visible()
    expect(page.locator("#rights-why")).to_have_text("")  # minting is possible
    page.get_by_role("textbox", name="Rights to mint (VCR)").fill("5")
    page.get_by_role("button", name="Mint", exact=True).click()
    confirmed_hash(page, "Mint 5 VCR")
    page.get_by_role("textbox", name="Rights to activate (VCR)", exact=True).fill("5")
    page.get_by_role("textbox", name="Activate for (empty: your own account)", exact=True).fill(AGENT)
    page.get_by_role("button", name="Activate", exact=True).click()
    confirmed_hash(page, f"Activate 5 VCR for {AGENT}")

    # the agent's own key (its account signs it; it has no stake, so it is warned) and, today,
    # nothing to spend: its rights start at 00:00 UTC
    created = json.loads(world.ape("staker", "keys", "create", "--account", "TEST::2", "--gateway", gateway,
                                   "--label", "agent", "--json"))  # fmt: skip
    agent_secret = created["secret"]
    status, message, _ = ask(gateway, agent_secret)
    assert status == 402, message

    # the next day: the agent is served from its 5 VCU of rights
    tomorrow = world.next_day()
    assert tomorrow == epoch + 1
    world.report()
    status, text, charged = ask(gateway, agent_secret)
    assert status == 200 and charged == "0.0000462", (status, text)
    agent = json.loads(world.ape("staker", "status", AGENT, "--reports-dir", str(world.reports), "--usage-db",
                                 world.usage_db, "--json", "--wei"))["vcu"]  # fmt: skip
    assert (agent["epoch"], agent["allotment"], agent["spent"]) == (tomorrow, 5 * E18, CHARGE_WEI), agent
    assert agent["remaining"] == 5 * E18 - CHARGE_WEI, agent
    # the staker (the day's one active staker) gets the pool: the capacity less the rights active
    staker = json.loads(world.ape("staker", "status", USER, "--reports-dir", str(world.reports), "--usage-db",
                                  world.usage_db, "--json", "--wei"))["vcu"]  # fmt: skip
    assert staker["allotment"] == CAPACITY - 5 * E18, staker
    assert staker["allotment"] + agent["allotment"] == CAPACITY
