"""The bots' Prometheus metrics (`vvv.oracle.metrics`): each run's numbers become counters and
gauges, served in the text format Prometheus scrapes. Values by hand."""

import httpx
import pytest

from tests.cli_runner import free_port
from tests.passes import IN_PROCESS
from vvv.oracle.metrics import BotMetrics

pytestmark = pytest.mark.one_pass(IN_PROCESS)  # no chain: runs once, in-process (tests/passes.py)


def lines_of(text: str) -> set[str]:
    return {line for line in text.splitlines() if not line.startswith("#")}


def test_oracle_runs_add_up():
    m = BotMetrics("oracle")
    m.observe({"posted": 3, "distributed": 2})
    m.observe(None)  # nothing was due: not a run
    m.observe({"failures": 1})
    m.observe({"failures": 2})
    got = lines_of(m.text())
    assert {"vvv_oracle_posted_total 3.0", "vvv_oracle_distributed_total 2.0", "vvv_oracle_failures 2.0",
            "vvv_oracle_runs_total 3.0"} <= got  # fmt: skip
    m.observe({"posted": 1, "distributed": 0})  # a success resets the failures in a row
    assert {"vvv_oracle_posted_total 4.0", "vvv_oracle_failures 0.0"} <= lines_of(m.text())


def test_watchdog_metrics_are_served_over_http(monkeypatch):
    m = BotMetrics("watchdog")
    port = free_port()
    monkeypatch.setenv("VVV_METRICS_PORT", str(port))
    assert m.serve_from_environment() == f"http://127.0.0.1:{port}/metrics"
    m.observe({"pending": 2, "lies": 1, "unusable": 1, "sent": 1, "challenges_total": 1, "errors": 0})
    m.observe({"errors": 1})
    got = lines_of(httpx.get(f"http://127.0.0.1:{port}/metrics").text)
    assert {"vvv_watchdog_pending 2.0", "vvv_watchdog_unusable 1.0", "vvv_watchdog_lies_total 1.0",
            "vvv_watchdog_sent_total 1.0", "vvv_watchdog_errors_total 1.0",
            "vvv_watchdog_runs_total 2.0"} <= got  # fmt: skip
