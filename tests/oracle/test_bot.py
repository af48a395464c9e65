"""The oracle bot's handlers (`vvv.oracle.bot`, which bots/oracle.py schedules), called as its cron
would call them: after advancing time three days, three reports are on chain, final, and
distributed. `make test` runs this on ape's chain and on anvil."""

import json

import pytest

from tests.helpers import DAY, E18, mine_at
from vvv.chain import deployment
from vvv.oracle import bot


@pytest.fixture
def bot_env(system, world, tmp_path, monkeypatch):
    deployments = tmp_path / "deployments"
    deployments.mkdir()
    # the bot finds the system through the deployment record, as in production
    deployment.record_path(deployments).write_text(json.dumps(system.record))
    monkeypatch.setenv("VVV_DEPLOYMENTS_DIR", str(deployments))
    monkeypatch.setenv("VVV_USAGE_DB", str(world["store"].engine.url))
    monkeypatch.setenv("VVV_REPORTS_DIR", str(world["reports"]))


def test_bot_handlers_three_days(system, oracle, attacker, treasury, bot_env, g):
    for day in range(1, 4):
        mine_at((g + day) * DAY + 300)  # the daily cron: 00:05 UTC
        assert bot.daily_reports(oracle, echo=lambda _: None) == {"posted": [g + day - 1]}
        for hour in (1, 2, 3):  # the hourly cron; reports become final 2 h after posting
            mine_at((g + day) * DAY + hour * 3_600)
            bot.hourly_distribute(attacker, echo=lambda _: None)
    assert [system.oracle.reportStatus(e) for e in range(g, g + 3)] == [2, 2, 2]
    assert [system.emissions.distributed(e) for e in range(g, g + 3)] == [True, True, True]
    emission = 14_000_000 * E18 // 365
    # utilization 10%, 50%, 0% (see the world fixture) -> stakers 6800, 2000, 8000 bps
    assert system.token.balanceOf(treasury) == sum(emission - emission * bps // 10_000 for bps in (6800, 2000, 8000))
