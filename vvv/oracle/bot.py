"""The oracle bot's work, as plain functions (the Silverback app in bots/oracle.py only
schedules them; tests call them directly).

Settings (environment): VVV_USAGE_DB (SQLAlchemy URL, default sqlite:///usage.db),
VVV_REPORTS_DIR (default ./reports), VVV_DEPLOYMENTS_DIR (default ./deployments)."""

import os
from collections.abc import Callable
from pathlib import Path

from vvv.chain.deployment import load_system
from vvv.oracle.report import distribute_final_epochs, post_reports
from vvv.oracle.usage import DEFAULT_URL, UsageStore


def daily_reports(signer: object, echo: Callable[[str], None] = print) -> dict:
    """Report every closed, unreported epoch (normally yesterday's)."""
    store = UsageStore(os.environ.get("VVV_USAGE_DB", DEFAULT_URL))
    reports = Path(os.environ.get("VVV_REPORTS_DIR", "reports"))
    outcomes = post_reports(load_system(), store, signer, reports_dir=reports, echo=echo)
    return {"posted": [o.epoch for o in outcomes if o.action == "posted"]}


def hourly_distribute(signer: object, echo: Callable[[str], None] = print) -> dict:
    """Distribute every epoch whose report became final (or that reached the fallback time)."""
    return {"distributed": distribute_final_epochs(load_system(), signer, echo=echo)}
