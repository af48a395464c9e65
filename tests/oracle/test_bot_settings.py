"""The oracle bot's settings from the environment (`vvv.oracle.bot.BotSettings.from_env`)."""

import pytest

from tests.passes import IN_PROCESS
from vvv.oracle.bot import BotSettings, BotSetupError

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)


def test_the_bots_settings_from_the_environment():
    """`VVV_BOT_ALLOW_OUTLIER` (`make dashboard` sets it: the demo's load stops with the demo)
    turns the sanity bounds into a warning; a value that is not a flag is one line."""
    assert BotSettings.from_env({}).bounds.allow_outlier is False
    assert BotSettings.from_env({"VVV_BOT_ALLOW_OUTLIER": "1"}).bounds.allow_outlier is True
    with pytest.raises(BotSetupError, match=r"^VVV_BOT_ALLOW_OUTLIER must be 1 or 0, got 'maybe'$"):
        BotSettings.from_env({"VVV_BOT_ALLOW_OUTLIER": "maybe"})
