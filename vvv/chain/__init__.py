"""Chain layer: contracts deployment and wiring, epochs, units, permits, CLI plumbing. Imports nothing else of vvv."""

from vvv.chain.receipts import skip_debug_log_traces

skip_debug_log_traces()  # vvv/chain/receipts.py: no trace of every transaction for console.log lines
