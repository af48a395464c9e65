"""A gateway as `ape run gateway` sets it up (`vvv.gateway.serve.open_gateway`: the deployment's
allotments, the chain's clock, receipts signed by TEST::9), in a process of its own, connected
to a chain over HTTP, for the whole-system test:
    python -m tests.gateway.chain_gateway_process CHAIN_URI USAGE_URL UPSTREAM_URL PORT REPORTS_DIR PRICES
The deployment record is read from VVV_DEPLOYMENTS_DIR (`ethereum-local-foundry.json`). The
test moves the chain by hours in a fraction of a second, so the gateway's wall-clock periods are
scaled down with it: the chain's clock is read every 0.05 s (1 s), an allotment is kept 0.5 s
(60 s), a stream its client stops reading is cut after 1 s (30 s), expired reservations are
charged every 0.5 s (60 s); a request waits up to 30 s for the store's lock (2 s)."""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    from ape import networks

    import vvv.gateway.allotments as allotments
    import vvv.gateway.app as app
    import vvv.gateway.serve as serving
    from vvv.gateway.requests import DEFAULT_OUTPUT_LIMIT
    from vvv.gateway.serve import open_gateway, serve
    from vvv.oracle.pricing import load_prices

    chain_uri, usage_url, upstream, port, reports, prices = argv
    allotments.CLOCK_SECONDS = 0.05
    app.ALLOTMENT_CACHE_SECONDS = 0.5
    # concurrent requests of one account queue for its lock: 30 s, not 2 s, so that a loaded
    # machine's queue is not refused (fail closed is test_fail_closed.py's)
    serving.STORE_LOCK_SECONDS = 30.0
    # ape's foundry provider on the test's running anvil (it connects to a node it finds at `host`)
    with networks.parse_network_choice("ethereum:local:foundry", provider_settings={"host": chain_uri}):
        gateway = open_gateway(upstream, usage_url, Path(reports), load_prices(Path(prices)), "TEST::9",
                               DEFAULT_OUTPUT_LIMIT)  # fmt: skip
        gateway.stall_seconds = 1.0
        gateway.sweep_seconds = 0.5
        serve(gateway, "127.0.0.1", int(port))


if __name__ == "__main__":
    main(sys.argv[1:])
