"""Silverback oracle bot: posts the daily reports a few minutes after 00:00 UTC and distributes
every final, undistributed epoch once an hour. The work is in `vvv.oracle`; this file only
schedules it.

    silverback run bots/oracle.py:bot --network ethereum:local:foundry --account <alias>

Settings (environment): VVV_USAGE_DB (SQLAlchemy URL, default sqlite:///usage.db),
VVV_REPORTS_DIR (default ./reports), VVV_DEPLOYMENTS_DIR (default ./deployments). The signer comes
from Silverback's own account settings (SILVERBACK_SIGNER_ALIAS)."""

import os
from pathlib import Path

from ape.logging import logger
from silverback import SilverbackBot

from vvv.deployment import load_system
from vvv.oracle import distribute_final_epochs, post_reports
from vvv.usage import DEFAULT_URL, UsageStore

bot = SilverbackBot()


def _signer() -> object:
    """The account Silverback signs with (SILVERBACK_SIGNER_ALIAS)."""
    return bot.signer


def _context() -> tuple:
    system = load_system()
    store = UsageStore(os.environ.get("VVV_USAGE_DB", DEFAULT_URL))
    reports = Path(os.environ.get("VVV_REPORTS_DIR", "reports"))
    return system, store, reports


@bot.cron("5 0 * * *")
def daily_reports(time) -> dict:  # noqa: ANN001 (silverback passes the tick's datetime)
    """Report every closed, unreported epoch (normally yesterday's)."""
    system, store, reports = _context()
    outcomes = post_reports(system, store, _signer(), reports_dir=reports, echo=logger.info)
    return {"posted": [o.epoch for o in outcomes if o.action == "posted"]}


@bot.cron("0 * * * *")
def hourly_distribute(time) -> dict:  # noqa: ANN001
    """Distribute every epoch whose report became final (or that reached the fallback time)."""
    system, _, _ = _context()
    return {"distributed": distribute_final_epochs(system, _signer(), echo=logger.info)}
