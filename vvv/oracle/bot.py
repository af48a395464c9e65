"""The oracle bot's work (bots/oracle.py schedules it with Silverback; the tests call it directly).

`start` loads what the bot keeps (the system, the settings) once; `tick` then does the work when
it is due by the chain's clock: post every closed, unreported epoch and distribute every epoch
that can be distributed (`post_reports`, `distribute_final_epochs`). After a successful run the
next one is due at the earliest of: the end of the current epoch plus `report_delay`, the time a
pending report becomes final, the fallback time of an epoch without a report. A run that fails
(another run holds the lock, the usage store is missing, the node is away, a send failed) logs
one line and is retried after a delay that doubles from `retry_seconds` up to `retry_max_seconds`.
A proofs file that disagrees with the chain stops the bot (`CircuitBreaker`): that needs a person.

Settings (environment): VVV_USAGE_DB (SQLAlchemy URL of an existing store, default
sqlite:///usage.db), VVV_REPORTS_DIR (default ./reports), VVV_DEPLOYMENTS_DIR (default
the repository's deployments/), VVV_BOT_REPORT_DELAY (seconds after 00:00 UTC, chain time, default 300),
VVV_BOT_RETRY_SECONDS (default 60), VVV_BOT_RETRY_MAX_SECONDS (default 3600), VVV_BOT_TX_TIMEOUT
(seconds a report's transaction may wait before it is replaced with higher fees, default 120) and
VVV_BOT_ALLOW_OUTLIER (1: post a report past the sanity bounds, e.g. on a demo chain whose load
stopped; default 0), VVV_BOT_MAX_REPLACEMENTS (default 3; a transaction still pending then is replaced by the next
run)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ape import accounts, chain
from ape.exceptions import AccountsError
from ape_accounts import KeyfileAccount
from eth_account import Account as EthAccount
from silverback import CircuitBreaker

from vvv.chain.deployment import DeploymentError, System, load_system
from vvv.chain.epochs import EPOCH_LENGTH
from vvv.oracle.proofs import ProofsError
from vvv.oracle.report import STATUS_PENDING, SanityBounds, SendOptions, distribute_final_epochs, post_reports
from vvv.oracle.sending import is_node_error
from vvv.oracle.usage import DEFAULT_URL, UsageStore


class Log(Protocol):
    def info(self, message: str) -> None: ...

    def error(self, message: str) -> None: ...


class UnlockedOnPurpose(logging.Filter):
    """For a bot's "ape" logger: its signer is unlocked on purpose (autosign, announced once at
    start), so ape's "Using cached key" warning at every signature is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Using cached key for %s"


def wake_on_stop_signals() -> None:
    """Make Ctrl-C (SIGINT) and SIGTERM stop a running bot at once instead of at its next tick.
    Silverback's runner stops on these signals through a Python handler that only sets an
    asyncio event; the event loop, asleep until the next minute's cron tick, does not see it
    before it wakes (up to a minute later). A loop signal handler (a no-op: Silverback's own
    handler, installed after start-up, does the stopping) makes the signal wake the loop.
    Called from an async start-up task, on the loop's (main) thread."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: None)


class BotSetupError(RuntimeError):
    """The bot cannot start as configured (one line saying what to fix)."""


def passphrase_variable(alias: str) -> str:
    """ape's environment variable for the passphrase of keyfile account `alias`."""
    return f"APE_ACCOUNTS_{alias}_PASSPHRASE"


def check_signer(alias: str | None, environ: Mapping[str, str] = os.environ) -> None:
    """What Silverback needs to load the signer `alias` without a terminal: an account ape knows
    and, for an encrypted keyfile, its passphrase in `APE_ACCOUNTS_<alias>_PASSPHRASE`, which
    must unlock it (Silverback then unlocks it from there and signs without asking)."""
    if not alias:
        raise BotSetupError("no signer: set SILVERBACK_SIGNER_ALIAS to the ape account that holds the oracle role")
    if alias.startswith("TEST::"):
        return
    try:
        account = accounts.load(alias)
    except (AccountsError, KeyError, IndexError):
        raise BotSetupError(f"no ape account {alias!r} (import it with `ape accounts import {alias}`)") from None
    if not isinstance(account, KeyfileAccount):
        return
    variable = passphrase_variable(alias)
    passphrase = environ.get(variable)
    if not passphrase:
        raise BotSetupError(f"the passphrase of account {alias!r} is not set: the bot has no terminal to ask on; "
                            f"put it in the environment variable {variable}")  # fmt: skip
    try:
        EthAccount.decrypt(account.keyfile, passphrase)
    except ValueError:
        raise BotSetupError(f"{variable} does not unlock account {alias!r}") from None


def _env_number(environ: Mapping[str, str], name: str, default: float, minimum: float, *, whole: bool = False) -> float:
    text = environ.get(name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        value = minimum - 1
    if value < minimum or (whole and not value.is_integer()):
        what = "a whole number" if whole else "a number of seconds"
        raise BotSetupError(f"{name} must be {what} >= {minimum:g}, got {text!r}")
    return value


@dataclass(frozen=True)
class BotSettings:
    usage_db: str = DEFAULT_URL
    reports_dir: Path = Path("reports")
    report_delay: int = 300  # seconds of chain time after 00:00 UTC before a day is reported
    retry_seconds: float = 60.0  # first retry delay after a failed run (wall clock)
    retry_max_seconds: float = 3_600.0  # the delay doubles up to this
    send: SendOptions = SendOptions()  # how long a report's transaction may wait before it is replaced
    bounds: SanityBounds = SanityBounds()  # VVV_BOT_ALLOW_OUTLIER=1 posts reports past them (a local demo chain)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> BotSettings:
        retry = _env_number(environ, "VVV_BOT_RETRY_SECONDS", cls.retry_seconds, 0)
        default = SendOptions()
        replacements = _env_number(environ, "VVV_BOT_MAX_REPLACEMENTS", default.max_replacements, 0, whole=True)
        send = SendOptions(_env_number(environ, "VVV_BOT_TX_TIMEOUT", default.timeout, 1), int(replacements))
        return cls(
            usage_db=environ.get("VVV_USAGE_DB") or DEFAULT_URL,
            reports_dir=Path(environ.get("VVV_REPORTS_DIR") or "reports"),
            report_delay=int(_env_number(environ, "VVV_BOT_REPORT_DELAY", cls.report_delay, 0, whole=True)),
            retry_seconds=retry,
            retry_max_seconds=max(retry, _env_number(environ, "VVV_BOT_RETRY_MAX_SECONDS", cls.retry_max_seconds, 0)),
            send=send,
            bounds=SanityBounds(allow_outlier=_env_flag(environ, "VVV_BOT_ALLOW_OUTLIER")),
        )


def _env_flag(environ: Mapping[str, str], name: str) -> bool:
    text = (environ.get(name) or "0").strip().lower()
    if text not in ("0", "1", "true", "false", "yes", "no"):
        raise BotSetupError(f"{name} must be 1 or 0, got {text!r}")
    return text in ("1", "true", "yes")


@dataclass
class BotState:
    """What the bot keeps between runs (in Silverback's `bot.state`)."""

    system: System
    signer: object
    settings: BotSettings
    fallback_epochs: int  # EmissionsController.FALLBACK_DELAY_EPOCHS
    store: UsageStore | None = None  # opened by the first run that finds it
    due: int = 0  # chain time from which the next run is due
    failures: int = 0  # failed runs in a row
    retry_at: float = 0.0  # wall-clock (monotonic) time before which a failed run is not retried
    scan_from: int = 0  # epochs before this one are distributed
    running: threading.Lock = field(default_factory=threading.Lock)


def start(signer: object, settings: BotSettings | None = None, log: Log | None = None) -> BotState:
    """Load the system once. A setup that cannot work stops the bot with one line."""
    log = log or _ape_log()
    try:
        if signer is None:
            raise BotSetupError("no signer: set SILVERBACK_SIGNER_ALIAS to the ape account that holds the oracle role")
        settings = settings or BotSettings.from_env()
        system = load_system()
        fallback = int(system.emissions.FALLBACK_DELAY_EPOCHS())
    except (BotSetupError, DeploymentError) as err:
        log.error(f"cannot start: {err}")
        raise CircuitBreaker(str(err)) from None
    address = getattr(signer, "address", signer)
    log.info(f"oracle bot: EpochOracle {system.oracle.address}, signer {address}, usage store {settings.usage_db}, "
             f"proofs in {settings.reports_dir}")  # fmt: skip
    return BotState(system, signer, settings, fallback, scan_from=int(system.emissions.genesisEpoch()))


def next_due(state: BotState, head: int) -> int:
    """The chain time at which the next run has work: the next day's report, or the earliest
    time an undistributed epoch can be distributed (its report final, or its fallback)."""
    em, o = state.system.emissions, state.system.oracle
    current = head // EPOCH_LENGTH
    due = (current + 1) * EPOCH_LENGTH + state.settings.report_delay
    while state.scan_from < current and em.distributed(state.scan_from):
        state.scan_from += 1
    for epoch in range(state.scan_from, current):
        if em.distributed(epoch):
            continue
        report = o.report(epoch)
        if int(report.status) == STATUS_PENDING:
            due = min(due, int(report.finalAt))
        else:  # final but not distributed (a failed send), rejected, or none: distributable by now or at fallback
            due = min(due, (epoch + 1 + state.fallback_epochs) * EPOCH_LENGTH)
    return due


def tick(state: BotState, *, force: bool = False, log: Log | None = None,
         clock: Callable[[], float] = time.monotonic) -> dict[str, int] | None:  # fmt: skip
    """Run when work is due (`force`: at once, e.g. at start-up), or when a failed run's retry
    time has come; otherwise return None at the cost of one block read. Returns Silverback
    metrics (numbers): what the run did, or the count of failed runs in a row."""
    log = log or _ape_log()
    if not state.running.acquire(blocking=False):
        return None  # the previous tick is still running
    try:
        now = clock()
        head = int(chain.blocks.head.timestamp)
        if state.failures:
            if now < state.retry_at:
                return None
        elif not force and head < state.due:
            return None
        return _run(state, head, now, log)
    finally:
        state.running.release()


def _run(state: BotState, head: int, now: float, log: Log) -> dict[str, int]:
    s = state.settings
    try:
        if state.store is None:
            state.store = UsageStore(s.usage_db)
        outcomes = post_reports(state.system, state.store, state.signer, reports_dir=s.reports_dir, send=s.send,
                                bounds=s.bounds, echo=log.info)  # fmt: skip
        distributed = distribute_final_epochs(state.system, state.signer, echo=log.info)
        state.due = next_due(state, int(chain.blocks.head.timestamp))
        waiting = [o.until for o in outcomes if o.action == "waiting"]
        if waiting:  # a day with requests still in flight: run again once they settle or expire
            state.due = min(state.due, waiting[0] + 1)
    except ProofsError as err:
        log.error(f"stopping: {err}; check the proofs files against the chain before restarting")
        raise CircuitBreaker(str(err)) from None
    except Exception as err:  # every failure of a run is retried; the message says what it was
        state.failures += 1
        delay = min(s.retry_max_seconds, s.retry_seconds * 2 ** (state.failures - 1))
        state.retry_at = now + delay
        log.error(f"run failed ({_describe(err)}); retry {state.failures} in {delay:g} s")
        return {"failures": state.failures}
    if state.failures:
        log.info(f"run succeeded after {state.failures} failed run(s)")
    state.failures = 0
    return {"posted": sum(o.action == "posted" for o in outcomes), "distributed": len(distributed)}


def _describe(err: BaseException) -> str:
    text = str(err).strip()
    line = text.splitlines()[0] if text else ""
    if is_node_error(err):
        return f"lost the node: {line or type(err).__name__}"
    ours = type(err).__module__.startswith("vvv.")  # our errors say what happened in their one line
    return line if ours and line else f"{type(err).__name__}: {line}"


def _ape_log() -> Log:
    from ape.logging import logger

    return logger  # type: ignore[return-value]
