"""The gateway: an OpenAI-compatible API (Starlette) that meters VCU per account and API key and
proxies to an upstream OpenAI-compatible server (one pooled `aiohttp.ClientSession`: under many
concurrent requests its pool costs a fraction of httpx's, measured by bench/gateway.py).

    GET  /v1/models                 the price table's models (those the key may call)
    POST /v1/chat/completions       streaming (SSE) and not
    POST /v1/images/generations
    GET  /v1/api_keys/rate_limits   the key's limits, spend and resets (Venice's path)
    /v1/keys...                     the keys' own routes (`vvv.gateway.keys`)

Every metered request: the key is authenticated (`Authorization: Bearer <key>`), the body
checked (`vvv.gateway.requests`), the model priced (unknown: 404), the worst case reserved
against the account's allotment left today and the key's cap (`vvv.gateway.ledger`; does not
fit: 402 saying what is left and when it resets, and nothing is forwarded), the request
forwarded, and the upstream's `usage` charged (one usage row with the request id; the rest of
the reservation released). An upstream failure releases the reservation and answers 502. The
account's first charged call of an epoch carries its activity receipt in the header
`X-VVV-Activity-Receipt` (JSON); every charged response says its request id (`X-Request-Id`)
and cost (`X-VVV-Charged-VCU`, and `usage.vcu_cost` in the body or a stream's last usage chunk),
and what is left today (`budget_headers`); every response has an `X-Request-Id` (`RequestIds`).
Errors are JSON `{"error": {"message": ONE LINE, "type",
"code"}}`; never a 500 for anything a client sends."""

from __future__ import annotations

import asyncio
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
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vvv.chain.apikeys import ApiKey
from vvv.chain.bodies import BodyTooLarge, read_body
from vvv.chain.epochs import EPOCH_LENGTH, epoch_start
from vvv.chain.units import format_amount
from vvv.gateway.keys import (
    KeyRefused,
    KeysError,
    KeyStore,
    ModelNotAllowed,
    bearer_secret,
    error_response,
    key_routes,
    utc,
)
from vvv.gateway.ledger import (
    MINUTE,
    RESERVATION_TTL,
    Budget,
    Exhausted,
    KeyLimits,
    Ledger,
    RateLimited,
    Reservation,
    Settled,
    month_bounds,
    month_of,
)
from vvv.gateway.requests import (
    DEFAULT_OUTPUT_LIMIT,
    MAX_BODY,
    BadBody,
    ChatRequest,
    model_of,
    parse_chat,
    parse_images,
    parse_json,
)
from vvv.oracle.pricing import ModelPrice, PriceTable, PricingError
from vvv.oracle.receipts import Receipt
from vvv.oracle.usage import ApiCall, UsageError

log = logging.getLogger("vvv.gateway")

RECEIPT_HEADER = "X-VVV-Activity-Receipt"
COST_HEADER = "X-VVV-Charged-VCU"
STORE_LOCK_SECONDS = 2.0  # a store whose lock is not taken within this is refused: 503 (fail closed)
STALL_SECONDS = 30.0  # a stream whose client takes nothing for this long is cut (SPEC)
SETTLE_MARGIN = 30  # seconds before its reservation's expiry that a request's upstream work is stopped
SETTLE_TRIES = 3  # a charge's tries before its reservation is left to be charged in full at its expiry
SWEEP_SECONDS = 60.0  # how often expired reservations are charged in full
MAX_EVENT = 1_048_576  # bytes of one server-sent event line of the upstream
UPSTREAM_CONNECTIONS = 200
KEY_CACHE_SECONDS = 2.0  # how long a process trusts a key it read (a revocation's delay)
MAX_CACHED_KEYS = 100_000
ALLOTMENT_CACHE_SECONDS = 60.0  # a rejected report turns the day to the fallback within this time

AllotmentOf = Callable[[str, int], int]


def error(status: int, message: str, kind: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status, **extra}}, status_code=status,
                        headers=headers)  # fmt: skip


def limits_of(key: ApiKey) -> KeyLimits:
    """The limits the ledger keeps for a key."""
    return KeyLimits(key.key_hash, key.daily_cap, key.monthly_cap, key.lifetime_cap, key.requests_per_minute)


def budget_headers(budget: Budget | None) -> dict[str, str]:
    """What a client needs to know before it is refused: the VCU left today for the account
    and for the key (the least of the account's and the key's caps' left), when the day resets
    (unix seconds of the next 00:00 UTC of the chain's clock), and for a key with a rate its
    requests of the minute (Venice's `x-ratelimit-*-requests`; the reset in unix seconds)."""
    if budget is None:
        return {}
    headers = {
        "x-vvv-vcu-remaining-account": format_amount(budget.account_left),
        "x-vvv-vcu-remaining-key": format_amount(budget.key_left),
        "x-vvv-vcu-reset": str(epoch_start(budget.epoch + 1)),
    }
    if budget.limits.per_minute:
        headers |= {
            "x-ratelimit-limit-requests": str(budget.limits.per_minute),
            "x-ratelimit-remaining-requests": str(budget.requests_left),
            "x-ratelimit-reset-requests": str((budget.minute + 1) * MINUTE),
        }
    return headers


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _tokens(usage: Any, name: str) -> int | None:
    value = usage.get(name) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class StreamMeter:
    """What a relayed stream has produced so far, read from its server-sent events: the last
    `usage` it told, and the UTF-8 bytes of its choices' deltas (text, tool calls), a bound on
    the tokens relayed when it tells no usage (a token is at least one byte). `feed` gives the
    whole lines to relay now; the upstream's usage chunk (no choices) and its `[DONE]` are held
    back, to end the stream once it is charged (`tail`: the usage chunk gains the charge)."""

    def __init__(self) -> None:
        self.usage: dict[str, Any] | None = None
        self.output_bytes = 0
        self.pending = b""
        self.usage_event: dict[str, Any] | None = None  # the usage chunk, held back
        self.done = False  # the upstream's `data: [DONE]` was held back
        self.base: dict[str, Any] = {}  # id, created and model of the upstream's chunks
        self.held_line = False  # the last line was held back: the blank line that ends its event goes too

    def feed(self, chunk: bytes) -> bytes:
        self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        relay = bytearray()
        for line in lines:
            relay += self._line(line)
        if len(self.pending) > MAX_EVENT:  # no event is this long: count it all, relay it unread
            self.output_bytes += len(self.pending)
            relay += self.pending
            self.pending = b""
        return bytes(relay)

    def _line(self, line: bytes) -> bytes:
        """The bytes of a line to relay now (nothing for a line held back, or for the blank
        line after it)."""
        held, self.held_line = self.held_line, False
        if held and not line.rstrip(b"\r"):
            return b""
        if line.rstrip(b"\r") == b"data: [DONE]":
            self.held_line = True
            self.done = True
            return b""
        if not line.startswith(b"data: {"):
            return line + b"\n"
        try:
            event = json.loads(line[6:])
        except ValueError:
            self.output_bytes += len(line)
            return line + b"\n"
        if not isinstance(event, dict):
            return line + b"\n"
        self.base = {k: event[k] for k in ("id", "created", "model") if k in event} or self.base
        usage, choices = event.get("usage"), event.get("choices")
        if isinstance(usage, dict):
            self.usage = usage
        for choice in choices if isinstance(choices, list) else []:
            if isinstance(choice, dict):
                self.output_bytes += _text_bytes(choice.get("delta"))
        if isinstance(usage, dict) and not choices:  # the usage chunk: held back (an earlier one goes on)
            before, self.usage_event, self.held_line = self.usage_event, event, True
            return _event(before) if before is not None else b""
        return line + b"\n"

    def tail(self, settled: Settled, model: str) -> bytes:
        """The stream's end once charged: its usage chunk (the upstream's, or one with the
        tokens charged when it told none) with the charge (`vcu_cost` in VCU, `vcu_cost_wei`),
        then `[DONE]` if the upstream sent it, then any unterminated rest."""
        call = settled.call
        event = self.usage_event or {**({"model": model} | self.base), "object": "chat.completion.chunk",
                                     "choices": [], "usage": {"prompt_tokens": call.input_tokens,
                                     "completion_tokens": call.output_tokens,
                                     "total_tokens": call.input_tokens + call.output_tokens}}  # fmt: skip
        usage = event.get("usage") if isinstance(event.get("usage"), dict) else {}
        event = event | {"usage": usage | cost_fields(call.vcu_cost)}
        return _event(event) + (b"data: [DONE]\n\n" if self.done else b"") + self.pending


def cost_fields(cost: int) -> dict[str, str]:
    """The charge as a response's `usage` carries it: VCU (a decimal string) and VCU wei."""
    return {"vcu_cost": format_amount(cost), "vcu_cost_wei": str(cost)}


def _event(event: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(event, separators=(",", ":")).encode() + b"\n\n"


def _text_bytes(value: Any) -> int:
    """UTF-8 bytes of the strings in a delta (its role apart)."""
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, dict):
        return sum(_text_bytes(v) for k, v in value.items() if k != "role")
    if isinstance(value, list):
        return sum(_text_bytes(v) for v in value)
    return 0


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
        request_seconds: int = RESERVATION_TTL,
        stall_seconds: float = STALL_SECONDS,
        sweep_seconds: float = SWEEP_SECONDS,
        stake_of: Callable[[str], int] | None = None,
        estimate_of: Callable[[str, int], int] | None = None,
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
        self.request_seconds = request_seconds  # a request's reservation lasts this long (the clock's seconds)
        # the upstream's work stops this long before, so that the charge is in before the expiry
        self.work_seconds = request_seconds - min(SETTLE_MARGIN, request_seconds / 10)
        self.stall_seconds = stall_seconds
        self.sweep_seconds = sweep_seconds
        self.stake_of = stake_of  # an account's stake now (None: an allotment stands for a stake)
        self.estimate_of = estimate_of  # a new active account's allotment tomorrow, at today's pool
        self.key_cache: dict[str, tuple[float, ApiKey]] = {}  # secret -> (monotonic time its read began, key)
        self.keys_used: set[str] = set()  # cached secrets used since the keys were last read again
        self.allotments: dict[tuple[str, int], tuple[float, int]] = {}  # (account, epoch) -> (time read, VCU wei)
        self.stakes: dict[str, tuple[float, int]] = {}  # account -> (time read, stake wei)
        self._session: aiohttp.ClientSession | None = None  # made in the server's event loop
        self.trace_configs: list[aiohttp.TraceConfig] = []  # hooks on the upstream's requests (metrics)
        self._sweeper: asyncio.Task | None = None
        self._rereader: asyncio.Task | None = None  # reads the keys in use again (`reread_keys`)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=UPSTREAM_CONNECTIONS),
                timeout=aiohttp.ClientTimeout(total=None),  # each request has its own deadline
                headers=self.headers,
                trace_configs=self.trace_configs or None,
            )
        return self._session

    async def close(self) -> None:
        for task in (self._sweeper, self._rereader):
            if task is not None:
                task.cancel()
        if self._session is not None:
            await self._session.close()

    def start_sweeper(self) -> None:
        """Charge expired reservations in full every `sweep_seconds` (started with the first
        metered request, in the server's event loop)."""
        if self._sweeper is None and self.sweep_seconds > 0:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        while True:
            try:
                charged = await run_in_threadpool(self.ledger.expire, int(self.clock()))
                if charged:
                    log.warning("charged %d expired reservation(s) in full", charged)
            except UsageError as err:
                log.error("usage store: %s", err)
            await asyncio.sleep(self.sweep_seconds)

    # ------------------------------------------------------------ the steps of a metered request

    async def _key(self, request: Request) -> ApiKey:
        """The request's key. A key read from the store is trusted `key_cache_seconds` after the
        read began (a revoked key stops working on every gateway process within that time); its
        expiry is checked at every request. Every key used since the last pass is read again,
        all in one statement, every half of that time (`reread_keys`), so a key in steady use
        is never read on a request's path, and the bound on a revocation's delay is the same."""
        secret = bearer_secret(request.headers.get("authorization"))
        now = int(self.clock())
        cached = self.key_cache.get(secret)
        if cached is not None and time.monotonic() - cached[0] < self.key_cache_seconds:
            key = cached[1]
            if key.status(now) == "expired":
                raise KeyRefused(f"API key {key.key_hash[:10]}... expired at {utc(key.expiry)}")
            self.keys_used.add(secret)
            return key
        read_at = time.monotonic()
        key = await run_in_threadpool(self.keys.authenticate, secret, now)
        if self.key_cache_seconds > 0:
            if len(self.key_cache) > MAX_CACHED_KEYS:
                self.key_cache.clear()
            self.key_cache[secret] = (read_at, key)
            if self._rereader is None:
                self._rereader = asyncio.get_running_loop().create_task(self._reread_keys_forever())
        return key

    async def _reread_keys_forever(self) -> None:
        while True:
            await asyncio.sleep(self.key_cache_seconds / 2)
            try:
                await self.reread_keys()
            except Exception:  # the loop goes on: a key it could not read again is read on its next request
                log.exception("reading API keys again")

    async def reread_keys(self) -> None:
        """Read again, in one statement, the keys used since the last pass: each still valid is
        trusted anew from the read's start; one refused now (revoked, expired) or a store that
        fails leaves the cache, so its next request reads the store on its own path and answers
        what it finds."""
        used, self.keys_used = self.keys_used, set()
        if not used:
            return
        read_at = time.monotonic()
        try:
            valid = await run_in_threadpool(self.keys.still_valid, used, int(self.clock()))
        except KeysError as err:
            log.warning("reading API keys again: %s", err)
            valid = set()
        for secret in used:
            cached = self.key_cache.get(secret)
            if secret in valid and cached is not None:
                self.key_cache[secret] = (max(read_at, cached[0]), cached[1])
            elif cached is not None and cached[0] < read_at:
                del self.key_cache[secret]

    def _price(self, key: ApiKey, model: str, kind: str) -> ModelPrice:
        if not key.allows(model):  # the key's own limit: not activity, nothing reserved or forwarded
            raise ModelNotAllowed(f"this key may call only {', '.join(key.models)}, not {model}")
        price = self.prices.price(model)  # PricingError: unknown model
        if price.kind != kind:
            raise BadBody(f"{model} is a {price.kind} model: use the {price.kind} endpoint")
        return price

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

    async def _staked(self, account: str) -> bool | None:
        """Whether the account has a stake now (None: not known here), kept like an allotment."""
        if self.stake_of is None:
            return None
        cached = self.stakes.get(account)
        if cached is not None and time.monotonic() - cached[0] < ALLOTMENT_CACHE_SECONDS:
            return cached[1] > 0
        value = await run_in_threadpool(self.stake_of, account)
        if len(self.stakes) > MAX_CACHED_KEYS:
            self.stakes.clear()
        self.stakes[account] = (time.monotonic(), value)
        return value > 0

    async def _reserve(self, key: ApiKey, worst: int, now: int, model: str) -> Reservation:
        self.start_sweeper()
        epoch = now // EPOCH_LENGTH
        allotment = await self._allotment(key.account, epoch)
        staked = await self._staked(key.account) if allotment == 0 else True
        request_id = "gw-" + uuid.uuid4().hex
        try:
            return await run_in_threadpool(
                self.ledger.reserve, request_id, key.account, key.key_hash, limits_of(key), allotment, worst, now,
                model, self.request_seconds, staked,
            )  # fmt: skip
        except Exhausted as err:
            if err.no_allotment and err.active:
                raise await self._welcome(err, key.account, epoch, now) from None
            raise

    async def _welcome(self, err: Exhausted, account: str, epoch: int, now: int) -> Exhausted:
        """The 402 of a staker's call before its first allotment: it made the account API-active
        (SPEC); say so, when its allotment starts and about how much it will be."""
        wait = max(0, err.resets_at - now)
        text = (f"you are now API-active; your allotment starts at 00:00 UTC (in {wait // 3600}h "
                f"{wait % 3600 // 60}m)")  # fmt: skip
        if self.estimate_of is not None:
            estimate = await run_in_threadpool(self.estimate_of, account, epoch)
            text += f", about {format_amount(estimate)} VCU at today's pool"
        return Exhausted(f"{account} has no VCU allotment today (epoch {epoch}): {text}", err.left, err.needed,
                         err.resets_at, active=True, no_allotment=True, receipt=err.receipt,
                         request_id=err.request_id, budget=err.budget)  # fmt: skip

    async def _settle(self, r: Reservation, tokens: tuple[int, int], images: int, cost: int) -> Settled:
        """Charge the request (in the reservation's epoch, at its start time). The store failing
        here leaves the reservation, which is charged in full at its expiry: `UsageError`."""
        call = ApiCall(r.started, r.account, r.model, tokens[0], tokens[1], images, cost, r.request_id)
        with anyio.CancelScope(shield=True):  # a client that hangs up does not undo a charge
            for attempt in range(SETTLE_TRIES):  # the work is done: a store that hesitates gets more tries
                try:
                    return await run_in_threadpool(self.ledger.settle, r, call)
                except UsageError:
                    if attempt == SETTLE_TRIES - 1:
                        raise
                    await asyncio.sleep(0.1 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _release(self, r: Reservation) -> None:
        with anyio.CancelScope(shield=True):
            try:
                await run_in_threadpool(self.ledger.release, r)
            except UsageError as err:  # the reservation stays, and is charged in full at its expiry
                log.error("usage store: %s (reservation %s kept)", err, r.request_id)

    @staticmethod
    def _headers(r: Reservation, charged: int | None, receipt: Receipt | None,
                 budget: Budget | None = None) -> dict[str, str]:  # fmt: skip
        headers = {"x-request-id": r.request_id, **budget_headers(budget or r.budget)}
        if charged is not None:
            headers[COST_HEADER] = format_amount(charged)
        if receipt is not None:
            headers[RECEIPT_HEADER] = json.dumps(receipt.to_json(), separators=(",", ":"))
        return headers

    def _left(self, started: float) -> float:
        """Seconds of the request's work left (`work_seconds` from its start, monotonic)."""
        return max(0.0, started + self.work_seconds - time.monotonic())

    def _usage_charge(self, r: Reservation, usage: Any, bound: tuple[int, int]) -> tuple[int, int, int] | None:
        """(input tokens, output tokens, cost) of the upstream's usage; None if it told none.
        A usage that costs more than was reserved (nothing honest does) is logged and charged
        at the reservation, stored as the worst case's token counts."""
        prompt, completion = _tokens(usage, "prompt_tokens"), _tokens(usage, "completion_tokens")
        if prompt is None or completion is None:
            return None
        cost = self.prices.cost(r.model, prompt, completion)
        if cost > r.amount:
            log.warning("request %s: the upstream's usage (%d input, %d output tokens) costs more than its "
                        "reservation: charged the reservation", r.request_id, prompt, completion)  # fmt: skip
            return bound[0], bound[1], r.amount
        return prompt, completion, cost

    async def _forward(self, path: str, body: dict[str, Any], r: Reservation,
                       started: float) -> dict[str, Any] | Response:  # fmt: skip
        """POST to the upstream; its JSON answer, or an error response: a 502 when it failed
        (the reservation released), a 504 when it took longer than a request may (the work
        cannot be measured: the reservation is charged in full)."""
        try:
            timeout = aiohttp.ClientTimeout(total=self._left(started))
            async with self.session.post(self.upstream + path, json=body, timeout=timeout) as response:
                status, raw = response.status, await response.read()
            data = json.loads(raw) if status == 200 else None
        except TimeoutError:
            return await self._timed_out(r)
        except (aiohttp.ClientError, ValueError) as err:
            await self._release(r)
            return error(502, f"the upstream failed: {_first_line(err)}", "upstream_error")
        if not isinstance(data, dict):
            await self._release(r)
            text = raw.decode(errors="replace")[:200]
            return error(502, f"the upstream answered {status}: {' '.join(text.split())}", "upstream_error")
        return data

    async def _timed_out(self, r: Reservation) -> Response:
        """A 504: the upstream took longer than a request may; its work cannot be measured, so
        the reservation is charged in full."""
        settled = await self._settle(r, (0, 0), 0, r.amount)
        message = f"the upstream did not answer within {self.work_seconds:g} s: charged the reservation"
        return error(504, message, "upstream_timeout", headers=self._headers(r, settled.call.vcu_cost, None,
                                                                              settled.budget))  # fmt: skip

    def _kept(self, r: Reservation, err: UsageError) -> Response:
        """A 503 for a request the upstream worked on whose charge the store did not take."""
        message = f"the usage store is unavailable: {err}; this request's reservation is charged when it expires"
        return error(503, message, "service_unavailable", headers=self._headers(r, None, None))

    async def _answer(self, r: Reservation, data: dict[str, Any], tokens: tuple[int, int], images: int,
                      cost: int) -> Response:  # fmt: skip
        """The upstream's answer, once its charge is committed (never before: a store that fails
        here is a 503, and the reservation is charged in full at its expiry)."""
        try:
            settled = await self._settle(r, tokens, images, cost)
        except UsageError as err:
            log.error("usage store: %s (request %s: reservation kept)", err, r.request_id)
            return self._kept(r, err)
        if isinstance(data.get("usage"), dict):
            data["usage"] = data["usage"] | cost_fields(settled.call.vcu_cost)
        headers = self._headers(r, settled.call.vcu_cost, settled.receipt or r.receipt, settled.budget)
        return JSONResponse(data, headers=headers)

    # ------------------------------------------------------------ endpoints

    async def models(self, request: Request) -> Response:
        key = await self._key(request)  # a key limited to some models sees only those
        data = [
            {"id": p.model, "object": "model", "owned_by": "venice", "created": 0, "kind": p.kind,
             "vcu_per_1m_input": format_amount(p.per_1m_input), "vcu_per_1m_output": format_amount(p.per_1m_output),
             "vcu_per_image": format_amount(p.per_image), "vcu_per_image_input": format_amount(p.per_image_input),
             "image_sizes": list(p.sizes)}
            for p in sorted(self.prices.models.values(), key=lambda p: p.model)
            if key.allows(p.model)
        ]  # fmt: skip
        return JSONResponse({"object": "list", "data": data})

    async def chat(self, request: Request) -> Response:
        started = time.monotonic()
        key = await self._key(request)
        chat = parse_chat(parse_json(await read_body(request, MAX_BODY)), self.output_limit)
        price = self._price(key, chat.model, "chat")
        if chat.image_inputs and not price.per_image_input:
            raise BadBody(f"{chat.model} takes no image input (the price table gives it no vcu_per_image_input)")
        worst = self.prices.chat_worst_case(chat.model, chat.input_tokens, chat.output_tokens,
                                            chat.image_inputs * chat.n)  # fmt: skip
        r = await self._reserve(key, worst, int(self.clock()), chat.model)
        if chat.stream:
            return await self._stream(chat, r, started)
        data = await self._forward("/v1/chat/completions", chat.body, r, started)
        if not isinstance(data, dict):
            return data
        charge = self._usage_charge(r, data.get("usage"), (chat.input_tokens, chat.output_tokens))
        prompt, completion, cost = charge or (0, 0, worst)  # no usage told: the worst case is charged
        return await self._answer(r, data, (prompt, completion), 0, cost)

    async def images(self, request: Request) -> Response:
        started = time.monotonic()
        key = await self._key(request)
        body = parse_json(await read_body(request, MAX_BODY))
        price = self._price(key, model_of(body), "image")
        req = parse_images(body, price.sizes)
        worst = self.prices.cost(req.model, images=req.images)
        r = await self._reserve(key, worst, int(self.clock()), req.model)
        data = await self._forward("/v1/images/generations", req.body, r, started)
        if not isinstance(data, dict):
            return data
        made = data.get("data")
        images = min(len(made), req.images) if isinstance(made, list) else req.images
        return await self._answer(r, data, (0, 0), images, self.prices.cost(req.model, images=images))

    async def rate_limits(self, request: Request) -> Response:
        """`GET /v1/api_keys/rate_limits` (Venice's path), authenticated by the key itself: its
        limits, its spend (VCU charged) today, this month (UTC, the chain's clock) and in its
        life, what the account and the key have left today, and when each resets (unix
        seconds). VCU as decimal strings; a limit the key does not have is null."""
        key = await self._key(request)
        now = int(self.clock())
        epoch = now // EPOCH_LENGTH
        allotment = await self._allotment(key.account, epoch)
        budget, month, life = await run_in_threadpool(self.ledger.status, key.account, limits_of(key), allotment,
                                                      now)  # fmt: skip
        limits = budget.limits

        def cap(value: int) -> str | None:
            return format_amount(value) if value else None

        data = {
            "account": key.account, "key_hash": key.key_hash, "label": key.label, "now": now, "epoch": epoch,
            "limits": {"daily_cap": cap(limits.daily), "monthly_cap": cap(limits.monthly),
                       "lifetime_cap": cap(limits.lifetime), "requests_per_minute": limits.per_minute or None,
                       "models": list(key.models) or None, "expiry": key.expiry or None},
            "spend": {"today": format_amount(budget.day[0]), "month": format_amount(month),
                      "lifetime": format_amount(life), "reserved_today": format_amount(budget.day[1])},
            "allotment": format_amount(allotment),
            "remaining": {"account": format_amount(budget.account_left), "key": format_amount(budget.key_left),
                          "requests": budget.requests_left if limits.per_minute else None},
            "resets": {"day": epoch_start(epoch + 1), "month": epoch_start(month_bounds(month_of(epoch))[1]),
                       "requests": (now // MINUTE + 1) * MINUTE if limits.per_minute else None},
        }  # fmt: skip
        return JSONResponse(data, headers=budget_headers(budget))

    async def _stream(self, chat: ChatRequest, r: Reservation, started: float) -> Response:
        try:
            with anyio.fail_after(self._left(started)):
                upstream = await self.session.post(self.upstream + "/v1/chat/completions", json=chat.body)
        except TimeoutError:
            return await self._timed_out(r)
        except aiohttp.ClientError as err:
            await self._release(r)
            return error(502, f"the upstream failed: {_first_line(err)}", "upstream_error")
        if upstream.status != 200:
            text = (await upstream.read()).decode(errors="replace")[:200]
            upstream.release()
            await self._release(r)
            return error(502, f"the upstream answered {upstream.status}: {' '.join(text.split())}", "upstream_error")
        # the account's activity and receipt were committed with the reservation
        return MeteredStream(self, upstream, chat, r, started, self._headers(r, None, r.receipt))

    async def charge_stream(self, chat: ChatRequest, r: Reservation, meter: StreamMeter) -> Settled | None:
        """Charge what a stream produced: its usage if it told one, else its input's bound and
        the output bytes relayed as tokens (never more than reserved). None: the store failed
        (the reservation is charged in full at its expiry)."""
        bound = (chat.input_tokens, chat.output_tokens)
        charge = self._usage_charge(r, meter.usage, bound)
        if charge is None:
            output = min(meter.output_bytes, chat.output_tokens)
            cost = self.prices.chat_worst_case(r.model, chat.input_tokens, output, chat.image_inputs * chat.n)
            charge = (chat.input_tokens, output, cost)
        try:
            return await self._settle(r, charge[:2], 0, charge[2])
        except UsageError as err:
            log.error("usage store: %s (stream %s: reservation kept)", err, r.request_id)
            return None


class MeteredStream(StreamingResponse):
    """A chat stream relayed from the upstream as it comes, under three limits: the request's
    deadline (`work_seconds` from its start), a client that does not take a piece within
    `stall_seconds` (it stopped reading), and a client that hangs up. Whichever ends it, the
    upstream is closed and what was produced is charged; the last piece leaves only after the
    charge is committed, so a client that has read the whole stream has been charged for it."""

    media_type = "text/event-stream"

    def __init__(self, gateway: Gateway, upstream: aiohttp.ClientResponse, chat: ChatRequest, r: Reservation,
                 started: float, headers: dict[str, str]) -> None:  # fmt: skip
        super().__init__(iter(()), headers=headers, media_type=self.media_type)  # relayed by __call__
        self.gateway, self.upstream, self.chat, self.r, self.started = gateway, upstream, chat, r, started
        self.meter = StreamMeter()
        self.ended = "the client hung up"

    async def _relay(self, send: Send, held: list[bytes]) -> None:
        stall = self.gateway.stall_seconds
        with anyio.move_on_after(stall) as scope:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        if scope.cancelled_caught:
            self.ended = f"the client read nothing for {stall:g} s"
            return
        with anyio.move_on_after(self.gateway._left(self.started)) as deadline:
            async for piece in self.upstream.content.iter_any():
                chunk = self.meter.feed(piece)
                if not chunk:
                    continue
                if held:
                    with anyio.move_on_after(stall) as scope:
                        await send({"type": "http.response.body", "body": held.pop(), "more_body": True})
                    if scope.cancelled_caught:
                        self.ended = f"the client read nothing for {stall:g} s"
                        return
                held.append(chunk)
            self.ended = ""
        if deadline.cancelled_caught:
            self.ended = f"the request passed its {self.gateway.work_seconds:g} s"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        held: list[bytes] = []
        try:
            async with anyio.create_task_group() as group:

                async def hang_up() -> None:  # the body was read: the next message is the client's hang-up
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(hang_up)
                try:
                    await self._relay(send, held)
                except (aiohttp.ClientError, TimeoutError) as err:
                    self.ended = f"the upstream failed: {_first_line(err)}"
                group.cancel_scope.cancel()
        finally:
            if self.ended:
                self.upstream.close()
            else:
                self.upstream.release()
            with anyio.CancelScope(shield=True):
                settled = await self.gateway.charge_stream(self.chat, self.r, self.meter)
        if self.ended:
            log.warning("stream %s cut: %s", self.r.request_id, self.ended)
            return
        if settled is not None:
            with anyio.move_on_after(self.gateway.stall_seconds):
                held.append(self.meter.tail(settled, self.r.model))
                await send({"type": "http.response.body", "body": b"".join(held), "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})


def make_app(gateway: Gateway) -> Starlette:
    def metered(endpoint: Callable) -> Callable:
        async def answer(request: Request) -> Response:
            try:
                return await endpoint(request)
            except KeysError as err:
                return error_response(err)
            except BadBody as err:
                return error(400, str(err), "invalid_request_error")
            except BodyTooLarge as err:
                return error(413, str(err), "invalid_request_error")
            except PricingError as err:
                return error(404, str(err), "invalid_request_error", param="model")
            except Exhausted as err:
                headers = {"x-request-id": err.request_id} if err.request_id else {}
                headers |= budget_headers(err.budget)
                if err.receipt is not None:
                    headers[RECEIPT_HEADER] = json.dumps(err.receipt.to_json(), separators=(",", ":"))
                return error(402, str(err), "insufficient_vcu", headers=headers, left=format_amount(err.left),
                             needed=format_amount(err.needed), resetsAt=err.resets_at,
                             resetsAtUtc=_utc(err.resets_at) if err.resets_at else "never",
                             apiActive=err.active)  # fmt: skip
            except RateLimited as err:
                wait = max(1, err.resets_at - int(gateway.clock()))
                headers = {"x-request-id": err.request_id, "retry-after": str(wait), **budget_headers(err.budget)}
                return error(429, str(err), "rate_limit_exceeded", headers=headers, resetsAt=err.resets_at)
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
        Route("/v1/api_keys/rate_limits", metered(gateway.rate_limits), methods=["GET"]),
        *key_routes(gateway.keys, gateway.clock, gateway.stake_of),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: not_found},
        lifespan=lifespan,
        middleware=[Middleware(RequestIds)],
    )


class RequestIds:
    """Every response carries an `X-Request-Id` (errors and the keys' routes included): a
    metered request's own (its reservation's), else a new one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", f"gw-{uuid.uuid4().hex}".encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_id)
