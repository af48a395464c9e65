"""The oracle bot's work (`vvv.oracle.bot`, which bots/oracle.py schedules), called as Silverback
calls it: `start` at start-up, then `tick` (the start-up catch-up with force=True, then the
minute cron). On ape's chain and on anvil; test_bot_e2e.py runs the real `silverback run`.

The world (tests/oracle/conftest.py): alice, bob, carol stake 100, 300, 600 VVV before genesis
g; utilization is 10 %, 50 %, 0 % on days g, g+1, g+2 (alice calls on g, bob on g+1)."""

import json
from pathlib import Path

import ape
import pytest
from ape import chain
from ape_accounts import import_account_from_private_key
from eth_account import Account
from silverback import CircuitBreaker
from silverback.types import Datapoints, ScalarDatapoint

from tests.helpers import DAY, E18, mine_at
from vvv.chain import deployment
from vvv.oracle import bot
from vvv.oracle.proofs import proofs_path, sent_path
from vvv.oracle.report import SendOptions, run_lock
from vvv.oracle.sending import SendRecord
from vvv.oracle.usage import ApiCall, UsageStore

PENDING, FINAL = 1, 2
WINDOW = 7_200  # the deployment's dispute window
EMISSION = 14_000_000 * E18 // 365


class Log:
    """Collects what the bot logs."""

    def __init__(self) -> None:
        self.infos: list[str] = []
        self.errors: list[str] = []

    def info(self, message: str) -> None:
        self.infos.append(message)

    def error(self, message: str) -> None:
        self.errors.append(message)


class Clock:
    """The wall clock the retry delays are measured on."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def bot_env(system, world, tmp_path, monkeypatch):
    deployments = tmp_path / "deployments"
    deployments.mkdir()
    # the bot finds the system through the deployment record, as in production
    deployment.record_path(deployments).write_text(json.dumps(system.record))
    monkeypatch.setenv("VVV_DEPLOYMENTS_DIR", str(deployments))
    monkeypatch.setenv("VVV_USAGE_DB", str(world["store"].engine.url))
    monkeypatch.setenv("VVV_REPORTS_DIR", str(world["reports"]))
    for name in ("VVV_BOT_REPORT_DELAY", "VVV_BOT_RETRY_SECONDS", "VVV_BOT_RETRY_MAX_SECONDS"):
        monkeypatch.delenv(name, raising=False)


def test_bot_handlers_three_days(system, oracle, treasury, bot_env, g):
    """The cron's ticks over three days: each day's report a few minutes after midnight, each
    distribution once the report is final (2 h after posting), and no work in between."""
    log = Log()
    state = bot.start(oracle, log=log)
    for day in range(1, 4):
        mine_at((g + day) * DAY + 300)  # 00:05 UTC
        assert bot.tick(state, log=log) == {"posted": 1, "distributed": 0}
        posted = system.oracle.report(g + day - 1)
        assert state.due == posted.finalAt == posted.postedAt + WINDOW  # the next work: distribute
        for hour in (1, 2):  # before the report is final: nothing to do, nothing read but the head
            mine_at((g + day) * DAY + hour * 3_600)
            assert bot.tick(state, log=log) is None
        mine_at((g + day) * DAY + 3 * 3_600)
        assert bot.tick(state, log=log) == {"posted": 0, "distributed": 1}
        assert state.due == (g + day + 1) * DAY + 300  # the next work: the next day's report
    assert [system.oracle.reportStatus(e) for e in range(g, g + 3)] == [FINAL] * 3
    assert [system.emissions.distributed(e) for e in range(g, g + 3)] == [True, True, True]
    # utilization 10%, 50%, 0% -> stakers 6800, 2000, 8000 bps
    assert system.token.balanceOf(treasury) == sum(EMISSION - EMISSION * bps // 10_000 for bps in (6800, 2000, 8000))
    assert log.errors == []


def test_start_up_catches_up_at_once(system, oracle, bot_env, g):
    """Started at 10:00 three days after genesis, the bot posts the three closed days at once
    (it does not wait for the next 00:05), and distributes them as soon as they are final."""
    mine_at((g + 3) * DAY + 10 * 3_600)
    log = Log()
    state = bot.start(oracle, log=log)
    assert bot.tick(state, force=True, log=log) == {"posted": 3, "distributed": 0}
    assert [system.oracle.reportStatus(e) for e in range(g, g + 4)] == [PENDING, PENDING, PENDING, 0]
    mine_at((g + 3) * DAY + 12 * 3_600 + 60)
    assert bot.tick(state, log=log) == {"posted": 0, "distributed": 3}
    assert [system.emissions.distributed(e) for e in range(g, g + 3)] == [True, True, True]
    assert log.errors == []


def test_metrics_are_numbers_silverback_accepts(oracle, bot_env, g):
    """What a tick returns is Silverback's task metrics: every value converts to a datapoint
    (a list, as the old handlers returned, is dropped with "Cannot convert datapoint")."""
    mine_at((g + 1) * DAY + 300)
    state = bot.start(oracle, log=Log())
    result = bot.tick(state, force=True, log=Log())
    assert result == {"posted": 1, "distributed": 0}
    points = Datapoints(root=dict(result)).root
    assert points == {"posted": ScalarDatapoint(data=1), "distributed": ScalarDatapoint(data=0)}


def test_busy_run_is_retried_with_backoff(system, oracle, bot_env, g, world):
    """Another run holds the lock: one line per failed run, retried after 60 s, then 120 s,
    then capped at 150 s; once the lock is free, the next retry posts."""
    mine_at((g + 1) * DAY + 300)
    log, clock = Log(), Clock()
    store = str(world["store"].engine.url)
    settings = bot.BotSettings(store, world["reports"], retry_seconds=60, retry_max_seconds=150)
    state = bot.start(oracle, settings, log=log)
    lock_dir = proofs_path(chain.chain_id, 0, world["reports"]).parent
    with run_lock(lock_dir):
        assert bot.tick(state, force=True, log=log, clock=clock) == {"failures": 1}
        clock.now += 59
        assert bot.tick(state, log=log, clock=clock) is None  # not yet
        clock.now += 1
        assert bot.tick(state, log=log, clock=clock) == {"failures": 2}
        clock.now += 120
        assert bot.tick(state, log=log, clock=clock) == {"failures": 3}
        clock.now += 149
        assert bot.tick(state, log=log, clock=clock) is None
    busy = f"another oracle run is in progress (it holds {lock_dir / '.lock'}); nothing was done"
    assert log.errors == [f"run failed ({busy}); retry 1 in 60 s", f"run failed ({busy}); retry 2 in 120 s",
                          f"run failed ({busy}); retry 3 in 150 s"]  # fmt: skip
    assert system.oracle.reportStatus(g) == 0
    clock.now += 1
    assert bot.tick(state, log=log, clock=clock) == {"posted": 1, "distributed": 0}
    assert system.oracle.reportStatus(g) == PENDING
    assert log.infos[-1] == "run succeeded after 3 failed run(s)"


def test_missing_usage_store_is_an_error_and_never_created(system, oracle, alice, bot_env, g, tmp_path, monkeypatch):
    """An absent store: one error line and a retry later, never a report with zero usage; the
    store is not created. Once it exists, the retry posts the real utilization."""
    path = tmp_path / "later.db"
    monkeypatch.setenv("VVV_USAGE_DB", f"sqlite:///{path}")
    mine_at((g + 1) * DAY + 300)
    log, clock = Log(), Clock()
    state = bot.start(oracle, log=log)
    assert bot.tick(state, force=True, log=log, clock=clock) == {"failures": 1}
    assert len(log.errors) == 1 and "does not exist" in log.errors[0] and str(path) in log.errors[0]
    assert log.errors[0].endswith("; retry 1 in 60 s")
    assert not path.exists()
    assert system.oracle.reportStatus(g) == 0 and system.oracle.nextEpochToReport() == g
    alice_call = ApiCall(g * DAY + 100, alice.address, "llama-3.3-70b", 1, 1, 0, 18_148 * E18)
    UsageStore(f"sqlite:///{path}", create=True).add([alice_call])
    clock.now += 60
    assert bot.tick(state, log=log, clock=clock) == {"posted": 1, "distributed": 0}
    assert system.oracle.report(g).utilizationBps == 1_000  # 18,148 of 181,480 VCU


def test_proofs_file_that_disagrees_with_the_chain_stops_the_bot(system, oracle, bot_env, g, world):
    """Our proofs file says something else than the report on chain: CircuitBreaker (Silverback
    stops the bot), with one line saying why, and nothing more is sent."""
    mine_at((g + 1) * DAY + 300)
    log = Log()
    state = bot.start(oracle, log=log)
    assert bot.tick(state, force=True, log=log) == {"posted": 1, "distributed": 0}
    path = proofs_path(chain.chain_id, g, world["reports"])
    data = json.loads(path.read_text())
    data["report"]["utilization_bps"] = 2_000  # the chain has 1,000
    path.write_text(json.dumps(data))
    mine_at((g + 2) * DAY + 300)
    with pytest.raises(CircuitBreaker, match=f"the proofs file of epoch {g} does not match the report on chain"):
        bot.tick(state, log=log)
    assert len(log.errors) == 1 and log.errors[0].startswith(f"stopping: the proofs file of epoch {g} does not match")
    assert system.oracle.reportStatus(g + 1) == 0


def test_start_needs_a_signer_and_a_deployment(oracle, bot_env, tmp_path, monkeypatch):
    log = Log()
    with pytest.raises(CircuitBreaker, match="no signer"):
        bot.start(None, log=log)
    monkeypatch.setenv("VVV_DEPLOYMENTS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(CircuitBreaker, match="no deployment record"):
        bot.start(oracle, log=log)
    monkeypatch.setenv("VVV_BOT_RETRY_SECONDS", "soon")
    with pytest.raises(CircuitBreaker):
        bot.start(oracle, log=log)
    signer = "no signer: set SILVERBACK_SIGNER_ALIAS to the ape account that holds the oracle role"
    assert log.errors[0] == f"cannot start: {signer}"
    assert log.errors[1].startswith("cannot start: no deployment record for network")
    assert log.errors[2] == "cannot start: VVV_BOT_RETRY_SECONDS must be a number of seconds >= 0, got 'soon'"


@pytest.fixture
def keyfile_accounts(tmp_path, monkeypatch):
    """ape's keyfile accounts kept in this test's folder (not in ~/.ape)."""
    container = ape.accounts.containers["accounts"]
    monkeypatch.setitem(container.__dict__, "data_folder", tmp_path / "ape-accounts")
    (tmp_path / "ape-accounts").mkdir()
    return container


def test_signer_check_without_a_terminal(keyfile_accounts, tmp_path):
    """The bot never asks for a passphrase: a keyfile signer needs APE_ACCOUNTS_<alias>_PASSPHRASE,
    and it must unlock the key; each problem is one line before Silverback starts."""
    alias = f"vvv_bot_test_{tmp_path.name[-12:]}".replace("-", "_")
    import_account_from_private_key(alias, "right horse", Account.create().key.hex())
    variable = f"APE_ACCOUNTS_{alias}_PASSPHRASE"
    assert bot.passphrase_variable(alias) == variable
    assert bot.check_signer(alias, {variable: "right horse"}) is None
    assert bot.check_signer("TEST::6", {}) is None  # ape's test accounts need no passphrase
    cases = {
        (None, ()): "no signer: set SILVERBACK_SIGNER_ALIAS to the ape account that holds the oracle role",
        ("nobody", ()): "no ape account 'nobody' (import it with `ape accounts import nobody`)",
        (alias, ()): (
            f"the passphrase of account '{alias}' is not set: the bot has no terminal to ask on; put it in the "
            f"environment variable {variable}"
        ),
        (alias, ("wrong horse",)): f"{variable} does not unlock account '{alias}'",
    }
    for (name, passphrase), message in cases.items():
        with pytest.raises(bot.BotSetupError) as err:
            bot.check_signer(name, {variable: passphrase[0]} if passphrase else {})
        assert str(err.value) == message
    assert Path(tmp_path / "ape-accounts" / f"{alias}.json").exists()


def test_a_stuck_report_does_not_wedge_the_bot(system, oracle, bot_env, g, world):
    """The node does not mine the report's transaction: the run fails with one line, the retry
    replaces the pending transaction (same nonce, higher fees), and once it is mined the next
    retry finds the report on chain and goes on."""
    if chain.provider.name == "test":
        pytest.skip("needs a node with a transaction pool (anvil); ape's in-process chain mines every send at once")
    mine_at((g + 1) * DAY + 300)
    log, clock = Log(), Clock()
    fast = SendOptions(timeout=1, max_replacements=0)
    settings = bot.BotSettings(str(world["store"].engine.url), world["reports"], retry_seconds=60, send=fast)
    state = bot.start(oracle, settings, log=log)
    record_path = sent_path(chain.chain_id, g, world["reports"])
    chain.provider.make_request("evm_setAutomine", [False])
    try:
        assert bot.tick(state, force=True, log=log, clock=clock) == {"failures": 1}
        first = SendRecord.load(record_path).attempts[-1]
        clock.now += 60
        assert bot.tick(state, log=log, clock=clock) == {"failures": 2}
        second = SendRecord.load(record_path).attempts[-1]
    finally:
        chain.provider.make_request("evm_setAutomine", [True])
    chain.provider.make_request("evm_mine", [])
    assert second.nonce == first.nonce and second.max_fee >= first.max_fee * 125 // 100
    stuck = f"run failed (postReport of epoch {g}: not mined after"
    assert len(log.errors) == 2 and all(e.startswith(stuck) and first.txn_hash in e for e in log.errors)
    assert [e[e.rindex(";") :] for e in log.errors] == ["; retry 1 in 60 s", "; retry 2 in 120 s"]
    assert system.oracle.reportStatus(g) == PENDING
    clock.now += 120
    assert bot.tick(state, log=log, clock=clock) == {"posted": 0, "distributed": 0}  # already on chain
    assert log.infos[-1] == "run succeeded after 2 failed run(s)"
    assert oracle.nonce == first.nonce + 1  # one report landed for the two signed
