"""Small helpers shared by the `ape run` scripts."""

from typing import Any, NoReturn

import click
import requests
from ape.cli import ConnectedProviderCommand
from ape.exceptions import ProviderError, ProviderNotConnectedError


def fail(message: str) -> NoReturn:
    """Stop the command with a clear error and exit code 1 (nothing has been sent)."""
    raise click.ClickException(message)


class ChainCommand(ConnectedProviderCommand):
    """`ConnectedProviderCommand` that turns a chain it cannot reach into one clear line
    instead of a traceback (nothing is sent then)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ProviderError, ProviderNotConnectedError, ConnectionError, requests.RequestException) as err:
            first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            fail(f"cannot reach the chain ({first_line}); nothing was sent")
