"""Small helpers shared by the `ape run` scripts: one-line errors, ape's log on stderr, and a
check that a local node signs for the chain id ape expects."""

import logging
from typing import Any, NoReturn

import click
import requests
from ape.api import ProviderAPI
from ape.cli import ConnectedProviderCommand
from ape.exceptions import ProviderError, ProviderNotConnectedError
from ape.logging import ClickHandler, LogLevel, logger
from click.core import ParameterSource

LOCAL_NETWORK = "local"
NO_NODE = "No node found"  # ape's words when nothing answers at a local node's URI


def fail(message: str) -> NoReturn:
    """Stop the command with a clear error and exit code 1 (nothing has been sent)."""
    raise click.ClickException(message)


class StderrHandler(ClickHandler):
    """ape's log handler, writing every level to stderr. ape's own writes to stdout (it looks
    the level up by name in a table keyed by number, so even errors go there), which mixes
    "INFO: Confirmed 0x..." into a command's output, `--json` included."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            for handler in self.handlers:
                message = handler(message)
            click.echo(message, err=True)
        except Exception:  # noqa: BLE001 (logging's own contract: never raise from emit)
            self.handleError(record)


def logs_to_stderr() -> None:
    """Send ape's log (every logger ape configured: its own and its plugins') to stderr, so that
    stdout holds only the command's output."""
    for log in [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]:
        for handler in list(log.handlers):
            if isinstance(handler, ClickHandler) and not isinstance(handler, StderrHandler):
                replacement = StderrHandler(echo_kwargs=handler.echo_kwargs, handlers=handler.handlers)
                replacement.setFormatter(handler.formatter)
                replacement.setLevel(handler.level)
                log.removeHandler(handler)
                log.addHandler(replacement)


def check_local_chain_id(provider: ProviderAPI) -> None:
    """A node on a local network must run the chain id ape signs for (1337): anvil's default
    (31337) makes every transaction fail with "invalid chain id for signer"."""
    if provider.network.name != LOCAL_NETWORK or provider.name != "node":
        return  # ape's own local providers (test, foundry) start their chain themselves
    expected = provider.chain_id  # from the config: what ape signs for
    actual = provider.web3.eth.chain_id  # what the node runs
    if actual != expected:
        where = getattr(provider, "uri", None) or "the node"
        fail(f"the node at {where} runs chain id {actual}, but ape signs for chain id {expected} on "
             f"{provider.network.ecosystem.name}:{LOCAL_NETWORK}: start it with `make chain` "
             f"(anvil --chain-id {expected}); nothing was sent")  # fmt: skip


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class ChainCommand(ConnectedProviderCommand):
    """`ConnectedProviderCommand` with ape's log on stderr and at WARNING unless `-v LEVEL` is
    given (its INFO lines, "Connecting to ..." and "Confirmed 0x...", say nothing the commands
    do not print themselves), a check of a local node's chain id, and a chain it cannot reach as one clear
    line instead of a traceback (nothing is sent then)."""

    def invoke(self, ctx: click.Context) -> Any:
        logs_to_stderr()
        verbosity_given = ctx.get_parameter_source("verbosity") == ParameterSource.COMMANDLINE  # -v LEVEL
        if logger.level < LogLevel.WARNING and not verbosity_given:  # for the process: ape stops chains at exit
            logger.set_level(LogLevel.WARNING)
        try:
            return super().invoke(ctx)
        except (ProviderError, ProviderNotConnectedError, ConnectionError, requests.RequestException) as err:
            line = _first_line(err)
            hint = f" (is `make chain` running? it serves ethereum:{LOCAL_NETWORK}:node)" if NO_NODE in line else ""
            fail(f"cannot reach the chain ({line}){hint}; nothing was sent")

    def _invoke(self, ctx: click.Context, provider: ProviderAPI | None = None) -> Any:
        if provider is not None:
            check_local_chain_id(provider)
        return super()._invoke(ctx, provider=provider)
