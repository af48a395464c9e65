"""Fixtures of the staker command-line tests (defined beside the CLI runner they use)."""

from tests.cli_runner import deployments, staker_cli  # noqa: F401 (pytest fixtures)
