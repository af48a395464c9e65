"""ape's tracing of every transaction, turned off.

After each transaction sent to a contract, ape prints the Solidity `console.log` lines of it
(`ape_ethereum.provider._post_send_transaction` calls `ReceiptAPI.show_debug_logs`), and finds
them by tracing the transaction: one `debug_traceTransaction` and a full call tree each time.
The project's contracts log nothing (none imports forge's `console.sol`), public RPC endpoints
refuse the trace, and on the in-process chain it took about a fifth of the contract tests' time.
Importing `vvv.chain` turns it off for every process of the project (the CLI, the oracle bot,
the demo, the tests); a failed transaction is reported as before (ape's error path does not use
it)."""

from ape.api.transactions import ReceiptAPI


def _no_debug_logs(self: ReceiptAPI) -> None:
    """The contracts emit no debug logs: nothing to trace or print."""


def skip_debug_log_traces() -> None:
    """Stop ape from tracing each transaction for `console.log` lines."""
    ReceiptAPI.show_debug_logs = _no_debug_logs  # type: ignore[method-assign]
