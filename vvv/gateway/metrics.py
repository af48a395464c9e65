"""The gateway's Prometheus metrics, served at `GET /metrics` of its own port (the names and the
alerts they support are in docs/operations.md):

- requests by route template, method and status, and their latency (`vvv.chain.http_metrics`);
- the time the upstream took (until its answer, or until the gateway's response started for a
  stream) and the time the gateway added (the rest of the latency), for forwarded requests;
- 402s by reason, VCU reserved and charged, reservations charged in full at their expiry and the
  usage store's errors, counted by `MeteredLedger` as the ledger commits them;
- the reservations held in the usage store (all the gateway processes that share it), read at
  each scrape."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any, TypeVar

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from vvv.chain.apikeys import ApiKey, Domain
from vvv.chain.http_metrics import LATENCY_BUCKETS, HttpMetrics, RequestTiming, current_timing
from vvv.gateway.app import Gateway, make_app
from vvv.gateway.keys import KeyStore, StoreUnavailable
from vvv.gateway.ledger import EXPIRE_BATCH, Budget, Exhausted, Ledger, Reservation, Settled
from vvv.oracle.receipts import ReceiptSigner
from vvv.oracle.usage import ApiCall, UsageError, UsageStore, UsageView, reservations

WEI = 10**18
T = TypeVar("T")
REASONS = ("no_stake", "not_active", "allotment", "key_limit")
ADDED_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def refusal_reason(err: Exhausted) -> str:
    """Why a request got its 402: the account has no stake (`no_stake`), a stake but no allotment
    today (`not_active`: not API-active in the last snapshot's window), no VCU left of its
    allotment (`allotment`), or the key's own limit is reached (`key_limit`)."""
    if err.no_allotment:
        return "not_active" if err.active else "no_stake"
    return "allotment" if err.active else "key_limit"


class GatewayMetrics:
    """The gateway's registry and its collectors (see the module's notes)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.refused = Counter("vvv_gateway_refused", "requests refused with a 402, by reason", ["reason"], registry=r)
        for reason in REASONS:  # each reason is scraped from the start (0), so that rate() sees the first one
            self.refused.labels(reason)
        self.reserved = Counter("vvv_gateway_vcu_reserved", "VCU reserved (requests' worst cases)", registry=r)
        self.charged = Counter("vvv_gateway_vcu_charged", "VCU charged, by model", ["model"], registry=r)
        self.expired = Counter("vvv_gateway_reservations_expired",
                               "reservations charged in full at their expiry (their request never settled)",
                               registry=r)  # fmt: skip
        self.store_errors = Counter("vvv_gateway_store_errors", "usage store failures, by operation",
                                    ["operation"], registry=r)  # fmt: skip
        self.in_flight = Gauge("vvv_gateway_reservations_in_flight",
                               "reservations held in the usage store (all gateway processes sharing it); NaN: "
                               "the store cannot be read", registry=r)  # fmt: skip
        self.upstream = Histogram("vvv_gateway_upstream_latency_seconds",
                                  "seconds the upstream took (a stream: until the gateway's response started)",
                                  ["route"], buckets=LATENCY_BUCKETS, registry=r)  # fmt: skip
        self.added = Histogram("vvv_gateway_added_latency_seconds",
                               "seconds a forwarded request's latency had on top of the upstream's",
                               ["route"], buckets=ADDED_BUCKETS, registry=r)  # fmt: skip

    def watch_store(self, store: UsageStore) -> None:
        """Read the reservations held in `store` at each scrape."""

        def held() -> float:
            try:
                with store.engine.connect() as conn:
                    return float(conn.execute(select(func.count()).select_from(reservations)).scalar_one())
            except SQLAlchemyError:
                self.store_errors.labels("scrape").inc()
                return float("nan")

        self.in_flight.set_function(held)

    def trace_config(self) -> aiohttp.TraceConfig:
        """Hooks that time a request's call to the upstream into its `RequestTiming`: until the
        upstream's last byte that came before the gateway's response started."""
        trace = aiohttp.TraceConfig()

        async def started(_session: aiohttp.ClientSession, context: SimpleNamespace, _params: object) -> None:
            context.timing = current_timing()
            context.started = time.perf_counter()

        async def heard(_session: aiohttp.ClientSession, context: SimpleNamespace, _params: object) -> None:
            timing: RequestTiming | None = getattr(context, "timing", None)
            if timing is not None and not timing.responded:
                timing.upstream = time.perf_counter() - context.started

        trace.on_request_start.append(started)
        trace.on_request_end.append(heard)
        trace.on_response_chunk_received.append(heard)
        trace.on_request_exception.append(heard)
        return trace

    def observe(self, route: str, _status: int, timing: RequestTiming) -> None:
        if timing.upstream > 0:
            self.upstream.labels(route).observe(timing.upstream)
            self.added.labels(route).observe(max(0.0, timing.latency - timing.upstream))


class MeteredLedger(Ledger):
    """The ledger, counting into `metrics` what it commits: the VCU reserved, the 402s by reason,
    the VCU charged (settled, or charged in full at expiry) and the store's failures."""

    def __init__(self, store: UsageStore, signer: ReceiptSigner | None, metrics: GatewayMetrics) -> None:
        self.metrics = metrics
        self.pending = threading.local()  # the charges of this thread's transaction, counted once it commits
        super().__init__(store, signer)

    def _charge(self, view: UsageView, conn: Connection, r: Reservation, call: ApiCall) -> Budget | None:
        after = super()._charge(view, conn, r, call)
        if after is not None:  # charged now (None: charged in full at its expiry already)
            self.pending.calls.append(call)
        return after

    def _charge_at_once(self, conn: Connection, r: Reservation, call: ApiCall) -> Budget | None:
        after = super()._charge_at_once(conn, r, call)
        if after is not None:
            self.pending.calls.append(call)
        return after

    def _counted(self, operation: str, work: Callable[[], T]) -> T:
        self.pending.calls = []
        try:
            result = work()
        except UsageError:
            self.metrics.store_errors.labels(operation).inc()
            raise
        finally:
            calls, self.pending.calls = self.pending.calls, []
        for call in calls:
            self.metrics.charged.labels(call.model).inc(call.vcu_cost / WEI)
        return result

    def reserve(self, *args: Any, **kwargs: Any) -> Reservation:
        try:
            r = self._counted("reserve", lambda: super(MeteredLedger, self).reserve(*args, **kwargs))
        except Exhausted as err:
            self.metrics.refused.labels(refusal_reason(err)).inc()
            raise
        self.metrics.reserved.inc(r.amount / WEI)
        return r

    def settle(self, r: Reservation, call: ApiCall) -> Settled:
        return self._counted("settle", lambda: super(MeteredLedger, self).settle(r, call))

    def release(self, r: Reservation) -> None:
        self._counted("release", lambda: super(MeteredLedger, self).release(r))

    def expire(self, now: int, limit: int = EXPIRE_BATCH) -> int:
        charged = self._counted("expire", lambda: super(MeteredLedger, self).expire(now, limit))
        self.metrics.expired.inc(charged)
        return charged


class MeteredKeyStore(KeyStore):
    """The key store, counting its failures to authenticate a request's key."""

    def __init__(self, engine: Engine, domain: Domain, metrics: GatewayMetrics) -> None:
        super().__init__(engine, domain)
        self.metrics = metrics

    def authenticate(self, secret: str, now: int) -> ApiKey:
        try:
            return super().authenticate(secret, now)
        except StoreUnavailable:
            self.metrics.store_errors.labels("authenticate").inc()
            raise

    def still_valid(self, secrets: Iterable[str], now: int) -> set[str]:
        try:
            return super().still_valid(secrets, now)
        except StoreUnavailable:
            self.metrics.store_errors.labels("reread_keys").inc()
            raise


def metered_app(gateway: Gateway, metrics: GatewayMetrics) -> HttpMetrics:
    """The gateway's app with its metrics at /metrics: the upstream's calls timed, the store's
    reservations read at each scrape (its ledger a `MeteredLedger` counts the rest)."""
    gateway.trace_configs.append(metrics.trace_config())
    metrics.watch_store(gateway.ledger.store)
    return HttpMetrics(make_app(gateway), metrics.registry, "vvv_gateway", metrics.observe)
