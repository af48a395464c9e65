"""The gateway: an OpenAI-compatible API (Starlette) that meters VCU per account and API key and
proxies to an upstream OpenAI-compatible server (one pooled `aiohttp.ClientSession`: under many
concurrent requests its pool costs a fraction of httpx's, measured by bench/gateway.py).

    GET  /v1/models                 the price table's models
    POST /v1/chat/completions       streaming (SSE) and not
    POST /v1/images/generations
    /v1/keys...                     the keys' own routes (`vvv.gateway.keys`)

Every metered request: the key is authenticated (`Authorization: Bearer <key>`), the body
checked (`vvv.gateway.requests`), the model priced (unknown: 404), the worst case reserved
against the account's allotment left today and the key's cap (`vvv.gateway.ledger`; does not
fit: 402 saying what is left and when it resets, and nothing is forwarded), the request
forwarded, and the upstream's `usage` charged (one usage row with the request id; the rest of
the reservation released). An upstream failure releases the reservation and answers 502. The
account's first charged call of an epoch carries its activity receipt in the header
`X-VVV-Activity-Receipt` (JSON); every charged response says its request id (`X-Request-Id`)
and cost (`X-VVV-Charged-VCU`). Errors are JSON `{"error": {"message": ONE LINE, "type",
"code"}}`; never a 500 for anything a client sends."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from vvv.chain.apikeys import ApiKey
from vvv.chain.epochs import EPOCH_LENGTH
from vvv.chain.units import format_amount
from vvv.gateway.keys import KeyRefused, KeysError, KeyStore, bearer_secret, error_response, key_routes, utc
from vvv.gateway.ledger import Exhausted, Ledger, Reservation, Settled
from vvv.gateway.requests import DEFAULT_OUTPUT_LIMIT, BadBody, parse_chat, parse_images, parse_json
from vvv.oracle.pricing import PriceTable, PricingError
from vvv.oracle.receipts import Receipt
from vvv.oracle.usage import ApiCall, UsageError

log = logging.getLogger("vvv.gateway")

RECEIPT_HEADER = "X-VVV-Activity-Receipt"
COST_HEADER = "X-VVV-Charged-VCU"
UPSTREAM_TIMEOUT = 300.0  # seconds; below the reservations' lifetime
UPSTREAM_CONNECTIONS = 200
KEY_CACHE_SECONDS = 2.0  # how long a process trusts a key it read (a revocation's delay)
MAX_CACHED_KEYS = 100_000
ALLOTMENT_CACHE_SECONDS = 60.0  # a rejected report turns the day to the fallback within this time

AllotmentOf = Callable[[str, int], int]


def error(status: int, message: str, kind: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status, **extra}}, status_code=status)


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _tokens(usage: Any, name: str) -> int | None:
    value = usage.get(name) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class Gateway:
    def __init__(
        self,
        ledger: Ledger,
        keys: KeyStore,
        prices: PriceTable,
        allotment_of: AllotmentOf,
        upstream: str,
        *,
        upstream_key: str | None = None,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
        clock: Callable[[], float] = time.time,
        key_cache_seconds: float = KEY_CACHE_SECONDS,
    ) -> None:
        self.ledger = ledger
        self.keys = keys
        self.prices = prices
        self.allotment_of = allotment_of
        self.upstream = upstream.rstrip("/")
        self.headers = {"authorization": f"Bearer {upstream_key}"} if upstream_key else {}
        self.output_limit = output_limit
        self.clock = clock
        self.key_cache_seconds = key_cache_seconds
        self.key_cache: dict[str, tuple[float, ApiKey]] = {}  # secret -> (monotonic time read, key)
        self.allotments: dict[tuple[str, int], tuple[float, int]] = {}  # (account, epoch) -> (time read, VCU wei)
        self._session: aiohttp.ClientSession | None = None  # made in the server's event loop

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=UPSTREAM_CONNECTIONS),
                timeout=aiohttp.ClientTimeout(total=UPSTREAM_TIMEOUT),
                headers=self.headers,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    # ------------------------------------------------------------ the steps of a metered request

    async def _key(self, request: Request) -> ApiKey:
        """The request's key. A key read from the store is kept `key_cache_seconds` (a revoked
        key stops working on every gateway process within that time); its expiry is checked
        at every request."""
        secret = bearer_secret(request.headers.get("authorization"))
        now = int(self.clock())
        cached = self.key_cache.get(secret)
        if cached is not None and time.monotonic() - cached[0] < self.key_cache_seconds:
            key = cached[1]
            if key.status(now) == "expired":
                raise KeyRefused(f"API key {key.key_hash[:10]}... expired at {utc(key.expiry)}")
            return key
        key = await run_in_threadpool(self.keys.authenticate, secret, now)
        if self.key_cache_seconds > 0:
            if len(self.key_cache) > MAX_CACHED_KEYS:
                self.key_cache.clear()
            self.key_cache[secret] = (time.monotonic(), key)
        return key

    def _price(self, model: str, kind: str) -> None:
        price = self.prices.price(model)  # PricingError: unknown model
        if price.kind != kind:
            raise BadBody(f"{model} is a {price.kind} model: use the {price.kind} endpoint")

    async def _allotment(self, account: str, epoch: int) -> int:
        """The account's allotment of the epoch, kept `ALLOTMENT_CACHE_SECONDS` in this process."""
        cached = self.allotments.get((account, epoch))
        if cached is not None and time.monotonic() - cached[0] < ALLOTMENT_CACHE_SECONDS:
            return cached[1]
        value = await run_in_threadpool(self.allotment_of, account, epoch)
        if len(self.allotments) > MAX_CACHED_KEYS:
            self.allotments.clear()
        self.allotments[(account, epoch)] = (time.monotonic(), value)
        return value

    async def _reserve(self, key: ApiKey, worst: int, now: int) -> Reservation:
        allotment = await self._allotment(key.account, now // EPOCH_LENGTH)
        request_id = "gw-" + uuid.uuid4().hex
        return await run_in_threadpool(
            self.ledger.reserve, request_id, key.account, key.key_hash, key.daily_cap, allotment, worst, now
        )

    async def _settle(self, r: Reservation, model: str, now: int, tokens: tuple[int, int], images: int,
                      cost: int) -> Settled:  # fmt: skip
        call = ApiCall(now, r.account, model, tokens[0], tokens[1], images, cost, r.request_id)
        with anyio.CancelScope(shield=True):  # a client that hangs up does not undo a charge
            return await run_in_threadpool(self.ledger.settle, r, call)

    async def _release(self, r: Reservation) -> None:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(self.ledger.release, r)

    @staticmethod
    def _headers(r: Reservation, charged: int | None, receipt: Receipt | None) -> dict[str, str]:
        headers = {"x-request-id": r.request_id}
        if charged is not None:
            headers[COST_HEADER] = format_amount(charged)
        if receipt is not None:
            headers[RECEIPT_HEADER] = json.dumps(receipt.to_json(), separators=(",", ":"))
        return headers

    async def _forward(self, path: str, body: dict[str, Any], r: Reservation) -> dict[str, Any] | JSONResponse:
        """POST to the upstream; its JSON answer, or (reservation released) a 502."""
        try:
            async with self.session.post(self.upstream + path, json=body) as response:
                status, raw = response.status, await response.read()
            data = json.loads(raw) if status == 200 else None
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            await self._release(r)
            return error(502, f"the upstream failed: {_first_line(err)}", "upstream_error")
        if not isinstance(data, dict):
            await self._release(r)
            text = raw.decode(errors="replace")[:200]
            return error(502, f"the upstream answered {status}: {text}", "upstream_error")
        return data

    # ------------------------------------------------------------ endpoints

    async def models(self, request: Request) -> Response:
        await self._key(request)
        data = [
            {"id": p.model, "object": "model", "owned_by": "venice", "created": 0, "kind": p.kind,
             "vcu_per_1m_input": format_amount(p.per_1m_input), "vcu_per_1m_output": format_amount(p.per_1m_output),
             "vcu_per_image": format_amount(p.per_image)}
            for p in sorted(self.prices.models.values(), key=lambda p: p.model)
        ]  # fmt: skip
        return JSONResponse({"object": "list", "data": data})

    async def chat(self, request: Request) -> Response:
        key = await self._key(request)
        chat = parse_chat(parse_json(await request.body()), self.output_limit)
        self._price(chat.model, "chat")
        worst = self.prices.cost(chat.model, chat.input_bound, chat.max_output)
        now = int(self.clock())
        r = await self._reserve(key, worst, now)
        if chat.stream:
            return await self._stream(chat.body, chat.model, r, now)
        data = await self._forward("/v1/chat/completions", chat.body, r)
        if isinstance(data, JSONResponse):
            return data
        usage = data.get("usage")
        prompt, completion = _tokens(usage, "prompt_tokens"), _tokens(usage, "completion_tokens")
        if prompt is None or completion is None:  # no usage told: the worst case is charged
            prompt, completion, cost = 0, 0, worst
        else:
            cost = self.prices.cost(chat.model, prompt, completion)
        settled = await self._settle(r, chat.model, now, (prompt, completion), 0, cost)
        return JSONResponse(data, headers=self._headers(r, settled.call.vcu_cost, settled.receipt))

    async def images(self, request: Request) -> Response:
        key = await self._key(request)
        req = parse_images(parse_json(await request.body()))
        self._price(req.model, "image")
        worst = self.prices.cost(req.model, images=req.images)
        now = int(self.clock())
        r = await self._reserve(key, worst, now)
        data = await self._forward("/v1/images/generations", req.body, r)
        if isinstance(data, JSONResponse):
            return data
        made = data.get("data")
        images = min(len(made), req.images) if isinstance(made, list) else req.images
        cost = self.prices.cost(req.model, images=images)
        settled = await self._settle(r, req.model, now, (0, 0), images, cost)
        return JSONResponse(data, headers=self._headers(r, settled.call.vcu_cost, settled.receipt))

    async def _stream(self, body: dict[str, Any], model: str, r: Reservation, now: int) -> Response:
        try:
            upstream = await self.session.post(self.upstream + "/v1/chat/completions", json=body)
        except (aiohttp.ClientError, TimeoutError) as err:
            await self._release(r)
            return error(502, f"the upstream failed: {_first_line(err)}", "upstream_error")
        if upstream.status != 200:
            text = (await upstream.read()).decode(errors="replace")[:200]
            upstream.release()
            await self._release(r)
            return error(502, f"the upstream answered {upstream.status}: {text}", "upstream_error")
        receipt = await run_in_threadpool(self.ledger.mark_active, r, now, model)

        async def charge(usage: dict[str, Any] | None) -> None:
            prompt, completion = _tokens(usage, "prompt_tokens"), _tokens(usage, "completion_tokens")
            if prompt is None or completion is None:  # the stream ended without usage: the worst case
                await self._settle(r, model, now, (0, 0), 0, r.amount)
            else:
                await self._settle(r, model, now, (prompt, completion), 0, self.prices.cost(model, prompt, completion))

        async def relay() -> AsyncIterator[bytes]:
            """The upstream's bytes as they come, but the last piece only after the charge is
            committed: a client that has read the whole stream has been charged for it."""
            usage: dict[str, Any] | None = None
            pending, held, charged = b"", b"", False
            try:
                async for chunk in upstream.content.iter_any():
                    if held:
                        yield held
                    held = chunk
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        if line.startswith(b"data: {") and b'"usage"' in line:
                            try:
                                found = json.loads(line[6:]).get("usage")
                            except ValueError:
                                continue
                            usage = found if isinstance(found, dict) else usage
                upstream.release()
                await charge(usage)
                charged = True
                if held:
                    yield held
            finally:
                if not charged:  # the client or the upstream went away mid-stream
                    upstream.close()
                    await charge(usage)

        headers = self._headers(r, None, receipt)
        return StreamingResponse(relay(), media_type="text/event-stream", headers=headers)


def make_app(gateway: Gateway) -> Starlette:
    def metered(endpoint: Callable) -> Callable:
        async def answer(request: Request) -> Response:
            try:
                return await endpoint(request)
            except KeysError as err:
                return error_response(err)
            except BadBody as err:
                return error(400, str(err), "invalid_request_error")
            except PricingError as err:
                return error(404, str(err), "invalid_request_error", param="model")
            except Exhausted as err:
                return error(402, str(err), "insufficient_vcu", left=format_amount(err.left),
                             needed=format_amount(err.needed), resetsAt=err.resets_at,
                             resetsAtUtc=_utc(err.resets_at))  # fmt: skip
            except UsageError as err:
                log.error("usage store: %s", err)
                return error(503, f"the usage store is unavailable: {err}", "service_unavailable")

        return answer

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            return error(404, f"no such route: {request.method} {request.url.path}", "invalid_request_error")
        if status == 405:
            return error(405, f"{request.method} is not allowed on {request.url.path}", "invalid_request_error")
        return error(status, "internal error", "server_error")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await gateway.close()

    routes = [
        Route("/v1/models", metered(gateway.models), methods=["GET"]),
        Route("/v1/chat/completions", metered(gateway.chat), methods=["POST"]),
        Route("/v1/images/generations", metered(gateway.images), methods=["POST"]),
        *key_routes(gateway.keys, gateway.clock),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: not_found}, lifespan=lifespan)
