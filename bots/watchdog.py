"""Silverback watchdog bot: once a minute, checks every pending report against its published
proofs file, the chain and the known activity receipts, and sends the cheapest challenge that
proves the first lie found (`vvv.oracle.watchdog.check_once`). From the repository root:

    SILVERBACK_SIGNER_ALIAS=watchdog silverback run watchdog --network ethereum:local:node

Settings (environment): VVV_REPORTS_DIR (where the proofs files are published, default
./reports), VVV_WATCHDOG_RECEIPTS (a JSONL file of activity receipts, read at every check;
default none), VVV_METRICS_PORT (serve Prometheus metrics there; docs/operations.md). The
signer's passphrase comes from ape's APE_ACCOUNTS_<alias>_PASSPHRASE.

A minute cron rather than a new-block handler, as in bots/oracle.py: Silverback's polling runner
stops the bot when a local chain mines no block for 10 s. A minute is far inside the dispute
window (2 hours by default)."""

import logging
import os
from pathlib import Path

from ape.logging import logger
from silverback import CircuitBreaker, SilverbackBot, StateSnapshot

from vvv.chain.deployment import DeploymentError, load_system
from vvv.oracle import bot as oracle_bot
from vvv.oracle.metrics import BotMetrics
from vvv.oracle.watchdog import WatchState, check_once

try:
    oracle_bot.check_signer(os.environ.get("SILVERBACK_SIGNER_ALIAS"))
except oracle_bot.BotSetupError as err:  # one line, before Silverback would prompt for a passphrase
    raise SystemExit(f"Error: {err}") from None

bot = SilverbackBot()


logging.getLogger("ape").addFilter(oracle_bot.UnlockedOnPurpose())


@bot.on_startup()
async def stop_promptly(startup_state: StateSnapshot) -> None:
    """Ctrl-C stops the bot at once, not at the next minute's tick (vvv.oracle.bot)."""
    oracle_bot.wake_on_stop_signals()


@bot.on_startup()
def start(startup_state: StateSnapshot) -> dict[str, int]:
    try:
        system = load_system()
    except DeploymentError as err:
        logger.error(f"cannot start: {err}")
        raise CircuitBreaker(str(err)) from None
    receipts = os.environ.get("VVV_WATCHDOG_RECEIPTS")
    bot.state.watchdog = WatchState(system, bot.signer, Path(os.environ.get("VVV_REPORTS_DIR") or "reports"),
                                    Path(receipts) if receipts else None)  # fmt: skip
    logger.info(f"watchdog: EpochOracle {system.oracle.address}, signer {bot.signer.address}")
    bot.state.metrics = BotMetrics("watchdog")
    if url := bot.state.metrics.serve_from_environment():
        logger.info(f"watchdog metrics on {url}")
    return _checked()


@bot.cron("* * * * *")
def every_minute(time) -> dict[str, int]:  # noqa: ANN001 (the tick's datetime)
    return _checked()


def _checked() -> dict[str, int]:
    result = check_once(bot.state.watchdog, echo=logger.info)
    bot.state.metrics.observe(result)
    return result
