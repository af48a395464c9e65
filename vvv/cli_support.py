"""Small helpers shared by the `ape run` scripts."""

from typing import NoReturn

import click


def fail(message: str) -> NoReturn:
    """Stop the command with a clear error and exit code 1 (nothing has been sent)."""
    raise click.ClickException(message)
