"""Fixtures of the demo tests: `make chain` on a free port (defined beside the CLI runner)."""

from tests.cli_runner import local_chain  # noqa: F401 (pytest fixture)
