"""Silverback oracle bot: posts the daily reports a few minutes after 00:00 UTC and distributes
every final, undistributed epoch once an hour. The work is in `vvv.oracle.bot` (plain functions that the
tests call); this file only schedules it.

    silverback run bots/oracle.py:bot --network ethereum:local:node

Settings: see `vvv.oracle.bot`; the signer comes from Silverback's account settings
(SILVERBACK_SIGNER_ALIAS)."""

from ape.logging import logger
from silverback import SilverbackBot

from vvv.oracle import bot as tasks

bot = SilverbackBot()


@bot.cron("5 0 * * *")
def daily_reports(time) -> dict:  # noqa: ANN001 (silverback passes the tick's datetime)
    return tasks.daily_reports(bot.signer, echo=logger.info)


@bot.cron("0 * * * *")
def hourly_distribute(time) -> dict:  # noqa: ANN001
    return tasks.hourly_distribute(bot.signer, echo=logger.info)
