"""Silverback oracle bot: at start-up it catches up at once (posts every closed, unreported epoch
and distributes every final one), then checks once a minute whether work is due by the chain's
clock (a day to report a few minutes after 00:00 UTC, a report that became final, a fallback
time); a failed or busy run is retried with backoff. The work is in `vvv.oracle.bot` (plain
functions the tests call); this file only wires it into Silverback. From the repository root:

    SILVERBACK_SIGNER_ALIAS=oracle silverback run oracle --network ethereum:local:node

The signer's passphrase comes from ape's APE_ACCOUNTS_<alias>_PASSPHRASE (the bot never asks on
a terminal). Settings: see `vvv.oracle.bot`; VVV_METRICS_PORT serves Prometheus metrics
(docs/operations.md).

Why a minute cron and not a new-block handler: Silverback's polling runner stops the bot when a
local chain mines no block for 10 s (an idle anvil), and polls without pause there."""

import logging
import os

from ape.logging import logger
from silverback import CircuitBreaker, SilverbackBot, StateSnapshot

from vvv.oracle import bot as work
from vvv.oracle.metrics import BotMetrics

try:
    work.check_signer(os.environ.get("SILVERBACK_SIGNER_ALIAS"))
except work.BotSetupError as err:  # one line, before Silverback would prompt for a passphrase
    raise SystemExit(f"Error: {err}") from None

bot = SilverbackBot()


class _StopsSaidInOneLine(logging.Filter):
    """A `CircuitBreaker` is a deliberate stop, logged in one line by `vvv.oracle.bot` and again
    by Silverback ("Startup failure(s): ..."): no traceback from taskiq on top."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], CircuitBreaker))


logging.getLogger("ape").addFilter(work.UnlockedOnPurpose())
logging.getLogger("taskiq.receiver.receiver").addFilter(_StopsSaidInOneLine())


@bot.on_startup()
async def stop_promptly(startup_state: StateSnapshot) -> None:
    """Ctrl-C stops the bot at once, not at the next minute's tick (vvv.oracle.bot)."""
    work.wake_on_stop_signals()


@bot.on_startup()
def catch_up(startup_state: StateSnapshot) -> dict[str, int] | None:
    bot.state.oracle = work.start(bot.signer, log=logger)
    bot.state.metrics = BotMetrics("oracle")
    if url := bot.state.metrics.serve_from_environment():
        logger.info(f"oracle metrics on {url}")
    result = work.tick(bot.state.oracle, force=True, log=logger)
    bot.state.metrics.observe(result)
    return result


@bot.cron("* * * * *")
def every_minute(time) -> dict[str, int] | None:  # noqa: ANN001 (the tick's datetime)
    result = work.tick(bot.state.oracle, log=logger)
    bot.state.metrics.observe(result)
    return result
