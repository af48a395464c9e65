"""The staking page's server: a Starlette app with the read-only JSON API under /api and the
built page (web/dist) at /. Every error is JSON with one line: 400 for bad input, 404 for what
does not exist, 503 when the chain cannot be read; never a 500 page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from vvv.chain.bodies import BodyTooLarge, read_body
from vvv.chain.http_metrics import HttpMetrics
from vvv.dashboard.data import BadRequest, Dashboard, NotFound

log = logging.getLogger("vvv.dashboard")

MAX_KEYS_BODY = 16_384  # bytes of a keys request (the gateway's own limit)


class WebDirMissing(FileNotFoundError):
    """The built page is not there."""


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _answer(work: Callable[[], dict[str, Any]]) -> Response:
    try:
        return JSONResponse(work(), headers={"cache-control": "no-store"})
    except BadRequest as err:
        return error(400, str(err))
    except NotFound as err:
        return error(404, str(err))
    except Exception as err:  # a node that went away, a broken file: say so, never a 500 page
        log.exception("dashboard request failed")
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        return error(503, f"cannot answer now: {first[:200]}")


def make_app(dashboard: Dashboard, web_dir: Path) -> Starlette:
    if not (web_dir / "index.html").is_file():
        raise WebDirMissing(f"no built page in {web_dir} (index.html missing): run `npm run build` (or `make web`)")

    def config(_: Request) -> Response:
        return _answer(dashboard.config)

    def proof(request: Request) -> Response:
        return _answer(lambda: dashboard.proof(request.path_params["account"], request.query_params.get("epoch")))

    def spend(request: Request) -> Response:
        return _answer(lambda: dashboard.spend(request.path_params["account"]))

    def prices(_: Request) -> Response:
        return _answer(dashboard.price_table)

    def history(_: Request) -> Response:
        return _answer(dashboard.history)

    async def keys(request: Request) -> Response:
        """The keys panel's signed requests, passed to the gateway's key routes as they are
        (the wallet signed them; this server adds nothing and keeps nothing)."""
        if dashboard.gateway_url is None:
            return error(404, "this server has no --gateway: there are no API keys to manage here")
        action = request.path_params["action"]
        path = {"domain": "/v1/keys/domain", "create": "/v1/keys", "list": "/v1/keys/list",
                "revoke": "/v1/keys/revoke"}.get(action)  # fmt: skip
        if path is None or (request.method == "GET") != (action == "domain"):
            return error(404, f"no such API route: {request.method} {request.url.path}")
        try:
            body = await read_body(request, MAX_KEYS_BODY)  # refused as soon as it passes the limit
        except BodyTooLarge as err:
            return error(413, str(err))
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                answer = await client.request(request.method, dashboard.gateway_url.rstrip("/") + path, content=body,
                                              headers={"content-type": "application/json"})  # fmt: skip
        except httpx.HTTPError as err:
            return error(503, f"the gateway at {dashboard.gateway_url} cannot be reached: {type(err).__name__}")
        return Response(answer.content, status_code=answer.status_code, media_type="application/json")

    def unknown_api(request: Request) -> Response:
        return error(404, f"no such API route: {request.url.path}")

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
        if status == 404:
            return error(404, f"not found: {request.url.path}")
        return error(status, str(detail))

    routes = [
        Route("/api/config", config, methods=["GET"]),
        Route("/api/proof/{account}", proof, methods=["GET"]),
        Route("/api/spend/{account}", spend, methods=["GET"]),
        Route("/api/prices", prices, methods=["GET"]),
        Route("/api/history", history, methods=["GET"]),
        Route("/api/keys/{action}", keys, methods=["GET", "POST"]),
        Route("/api/{rest:path}", unknown_api),
        Mount("/", StaticFiles(directory=web_dir, html=True)),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error, 405: http_error})


def metered_app(dashboard: Dashboard, web_dir: Path) -> HttpMetrics:
    """The page's server with its metrics at /metrics: requests by route template, method and
    status, and their latency (docs/operations.md)."""
    return HttpMetrics(make_app(dashboard, web_dir), CollectorRegistry(), "vvv_dashboard")
