"""A small OpenAI-shaped upstream for the gateway's tests (the one thing outside our system, so
it is a stand-in): it answers with known usage counts and records every request it gets.
- chat: prompt_tokens = 11 per message; completion_tokens = min(max_tokens, 7); streams send
  three content chunks, then the usage chunk, then [DONE];
- images: n images;
- a body with "user": "fail" gets a 500."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

PER_MESSAGE = 11
COMPLETION = 7


def usage_of(body: dict[str, Any]) -> tuple[int, int]:
    return PER_MESSAGE * len(body["messages"]), min(int(body.get("max_tokens", COMPLETION)), COMPLETION)


class Upstream:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay  # mean seconds before each answer (an inference's time): uniform in 0.5x .. 1.5x
        self.random = random.Random(7)
        self.requests: list[dict[str, Any]] = []
        self.app = Starlette(routes=[
            Route("/v1/chat/completions", self.chat, methods=["POST"]),
            Route("/v1/images/generations", self.images, methods=["POST"]),
        ])  # fmt: skip

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        delay = body.get("bench_delay_ms")  # a benchmark's own delay for this request
        if isinstance(delay, int | float) and delay > 0:
            await asyncio.sleep(delay / 1000)
        elif self.delay:
            await asyncio.sleep(self.delay * (0.5 + self.random.random()))
        if body.get("user") == "fail":
            return JSONResponse({"error": {"message": "upstream broke"}}, status_code=500)
        prompt, completion = usage_of(body)
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        base = {"id": "chatcmpl-1", "created": 1, "model": body["model"]}
        if not body.get("stream"):
            return JSONResponse(base | {
                "object": "chat.completion",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "hello there"}}],
                "usage": usage,
            })  # fmt: skip

        def events() -> Any:
            for word in ("hello", " there", "!"):
                chunk = base | {
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
                }
                yield f"data: {json.dumps(chunk)}\n\n"
            yield f"data: {json.dumps(base | {'object': 'chat.completion.chunk', 'choices': [], 'usage': usage})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def images(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        return JSONResponse({"created": 1, "data": [{"b64_json": "aW1n"} for _ in range(int(body.get("n", 1)))]})


if __name__ == "__main__":  # python -m tests.gateway.upstream_stub PORT [DELAY_MS]: in a process of its own
    import sys

    import uvicorn

    delay = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.0
    uvicorn.run(Upstream(delay).app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
