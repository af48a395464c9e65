"""Prometheus metrics of an HTTP server (the gateway, the dashboard): an ASGI wrapper around a
Starlette app that serves the registry at `GET /metrics` (Prometheus' text format) and counts
every other request by route template, method and status, with its latency (until the response
starts) in a histogram. The route is the app's route template (`/api/proof/{account}`, never
the account itself), `unmatched` for a path no route takes, so the labels stay few.

A server adds its own numbers per request through `RequestTiming` (the current request's, a
context variable): the gateway sets the time its upstream took there."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match, Mount
from starlette.types import Message, Receive, Scope, Send

METRICS_PATH = "/metrics"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class RequestTiming:
    """One request's times (`time.perf_counter()` seconds): its start, its response's start, and
    the seconds spent waiting on an upstream (0: none)."""

    started: float
    responded: float = 0.0
    upstream: float = 0.0

    @property
    def latency(self) -> float:
        return (self.responded or time.perf_counter()) - self.started


CURRENT: ContextVar[RequestTiming | None] = ContextVar("vvv_request_timing", default=None)


def current_timing() -> RequestTiming | None:
    """The timing of the request being answered in this context (None outside one)."""
    return CURRENT.get()


def route_of(app: Starlette, scope: Scope) -> str:
    """The template of the route that takes the request (a partial match, a wrong method, too)."""
    partial = None
    for route in app.routes:
        match, _ = route.matches(scope)
        if match == Match.FULL or (match == Match.PARTIAL and partial is None):
            path = getattr(route, "path", "") or ""
            name = path + "/{path}" if isinstance(route, Mount) else path
            if match == Match.FULL:
                return name
            partial = name
    return partial or "unmatched"


class HttpMetrics:
    """`HttpMetrics(app, registry, "vvv_gateway")`: the app, with `{prefix}_requests_total` and
    `{prefix}_request_latency_seconds` in `registry` and the registry at /metrics. `observe`,
    if given, is called after each request with its route, status and timing."""

    def __init__(self, app: Starlette, registry: CollectorRegistry, prefix: str,
                 observe: Callable[[str, int, RequestTiming], None] | None = None) -> None:  # fmt: skip
        self.app = app
        self.registry = registry
        self.observe = observe
        self.requests = Counter(f"{prefix}_requests", "HTTP requests answered, by route template, method and status",
                                ["route", "method", "status"], registry=registry)  # fmt: skip
        self.latency = Histogram(f"{prefix}_request_latency_seconds",
                                 "seconds from a request's arrival to its response's start, by route template",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=registry)  # fmt: skip

    async def _metrics(self, send: Send) -> None:
        body = await run_in_threadpool(generate_latest, self.registry)  # a gauge may read a database
        headers = [(b"content-type", CONTENT_TYPE_LATEST.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == METRICS_PATH and scope["method"] in ("GET", "HEAD"):
            await self._metrics(send)
            return
        timing = RequestTiming(time.perf_counter())
        status = [500]  # an app that fails before it answers: uvicorn answers 500

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
                timing.responded = time.perf_counter()
            await send(message)

        route = route_of(self.app, scope)  # before the app: its router rewrites the scope
        token = CURRENT.set(timing)
        try:
            await self.app(scope, receive, sending)
        finally:
            CURRENT.reset(token)
            self.requests.labels(route, scope["method"], str(status[0])).inc()
            self.latency.labels(route).observe(timing.latency)
            if self.observe is not None:
                self.observe(route, status[0], timing)
