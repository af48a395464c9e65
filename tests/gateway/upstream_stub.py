"""A small OpenAI-shaped upstream for the gateway's tests (the one thing outside our system, so
it is a stand-in): it answers with known usage counts and records every request it gets.
- chat: prompt_tokens = 11 per message + 1,000 per image part + a quarter of the bytes of the
  `tools` as compact JSON (rounded down), read once; completion_tokens = min(max_tokens, 7) per
  choice, `n` choices; streams send three content chunks ("hello", " there", "!": 12 bytes),
  then the usage chunk, then [DONE];
- images: n images;
- `user` picks a behaviour: "fail" a 500; "bench-delay-ms:X" waits X ms first; "stall" streams the
  content chunks, then 64 MB of SSE comments (a client that stops reading holds the gateway
  back), then usage and [DONE]; "stall-usage" the same with the usage chunk first; "hang" (a
  stream) sends "hello" and then nothing, or (not a stream) never answers; "huge-usage" reports
  2**63 prompt tokens; "no-usage" streams no usage chunk."""

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
PER_IMAGE = 1_000
COMPLETION = 7
PADDING = 64 * 1_048_576  # bytes of SSE comments in a "stall" stream
HUGE = 2**63


def usage_of(body: dict[str, Any]) -> tuple[int, int]:
    messages = body["messages"]
    images = sum(1 for m in messages if isinstance(m.get("content"), list)
                 for part in m["content"] if part.get("type") == "image_url")  # fmt: skip
    tools = len(json.dumps(body["tools"], separators=(",", ":")).encode()) // 4 if body.get("tools") else 0
    prompt = PER_MESSAGE * len(messages) + PER_IMAGE * images + tools
    return prompt, min(int(body.get("max_tokens", COMPLETION)), COMPLETION) * int(body.get("n", 1))


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
        user = str(body.get("user", ""))
        if user.startswith("bench-delay-ms:"):  # a benchmark's own delay for this request
            await asyncio.sleep(float(user.partition(":")[2]) / 1000)
        elif self.delay:
            await asyncio.sleep(self.delay * (0.5 + self.random.random()))
        if user == "fail":
            return JSONResponse({"error": {"message": "upstream broke"}}, status_code=500)
        if user == "hang" and not body.get("stream"):
            while not await request.is_disconnected():  # until the gateway gives up
                await asyncio.sleep(0.05)
            return Response(status_code=499)
        prompt, completion = usage_of(body)
        if user == "huge-usage":
            prompt = HUGE
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        base = {"id": "chatcmpl-1", "created": 1, "model": body["model"]}
        choices = range(int(body.get("n", 1)))
        if not body.get("stream"):
            return JSONResponse(base | {
                "object": "chat.completion",
                "choices": [{"index": i, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "hello there"}} for i in choices],
                "usage": usage,
            })  # fmt: skip
        usage_chunk = base | {"object": "chat.completion.chunk", "choices": [], "usage": usage}
        usage_event = f"data: {json.dumps(usage_chunk)}\n\n"

        async def events() -> Any:
            if user == "stall-usage":
                yield usage_event
            for word in ("hello", " there", "!"):
                chunk = base | {
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
                }
                yield f"data: {json.dumps(chunk)}\n\n"
                if user == "hang":
                    await asyncio.sleep(3_600)
            if user.startswith("stall"):
                comment = b": " + b"." * 65_533 + b"\n"
                for _ in range(PADDING // len(comment)):
                    yield comment
            if user not in ("stall-usage", "no-usage"):
                yield usage_event
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
