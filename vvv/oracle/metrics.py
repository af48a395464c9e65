"""Prometheus metrics of the oracle and watchdog bots (`prometheus-client`), so that a
Prometheus or Grafana an operator already runs can scrape them: each bot serves its registry on
`VVV_METRICS_PORT` (on `VVV_METRICS_HOST`, default 127.0.0.1) when that is set. The names and
the alerts they support are in docs/operations.md.

Each run's numbers (what `vvv.oracle.bot.tick` and `vvv.oracle.watchdog.check_once` return, also
Silverback's metrics) are added to counters (events) or set on gauges (states), and every run
that did something sets `..._last_run_timestamp_seconds`."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest, start_http_server

# per bot: the numbers of a run that count events (summed) and those that are states (set)
EVENTS = {
    "oracle": {"posted": "reports posted", "distributed": "epochs distributed"},
    "watchdog": {"lies": "lies found", "sent": "challenges sent", "errors": "failed checks"},
}
STATES = {
    "oracle": {"failures": "failed runs in a row (0 after a success)"},
    "watchdog": {"pending": "pending reports checked", "unusable": "pending reports whose tree cannot be checked"},
}


class BotMetrics:
    """The metrics of one bot ("oracle" or "watchdog")."""

    def __init__(self, bot: str) -> None:
        self.bot = bot
        self.registry = CollectorRegistry()
        self.counters = {
            name: Counter(f"vvv_{bot}_{name}", what, registry=self.registry) for name, what in EVENTS[bot].items()
        }
        self.gauges = {
            name: Gauge(f"vvv_{bot}_{name}", what, registry=self.registry) for name, what in STATES[bot].items()
        }
        self.runs = Counter(f"vvv_{bot}_runs", "runs that did something", registry=self.registry)
        self.last_run = Gauge(f"vvv_{bot}_last_run_timestamp_seconds", "wall-clock time of the last run",
                              registry=self.registry)  # fmt: skip

    def observe(self, result: Mapping[str, int] | None) -> None:
        """Record one run's numbers (None: nothing was due)."""
        if result is None:
            return
        self.runs.inc()
        self.last_run.set(time.time())
        for name, value in result.items():
            if name in self.counters and value > 0:
                self.counters[name].inc(value)
            elif name in self.gauges:
                self.gauges[name].set(value)
        if self.bot == "oracle" and "failures" not in result:
            self.gauges["failures"].set(0)

    def text(self) -> str:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry).decode()

    def serve_from_environment(self) -> str | None:
        """Serve the registry on VVV_METRICS_PORT (and VVV_METRICS_HOST) when set; its URL."""
        port = os.environ.get("VVV_METRICS_PORT")
        if not port:
            return None
        host = os.environ.get("VVV_METRICS_HOST", "127.0.0.1")
        start_http_server(int(port), addr=host, registry=self.registry)
        return f"http://{host}:{port}/metrics"
