"""A stand-in for an inference server, for trying the gateway on a local chain (`make dashboard`,
`ape run standin`): an OpenAI-shaped server that says it is a stand-in in every answer. It is not
a model and knows nothing; put a real OpenAI-compatible server (vLLM, Ollama, a hosted API)
behind the gateway for real work (README, "Use your VCU").

    POST /v1/chat/completions   streaming (SSE, with a final usage chunk) and not
    POST /v1/images/generations `n` placeholder images (a 1x1 PNG each)

Usage, so that the gateway has something to charge: prompt tokens are the UTF-8 bytes of the
messages' text over 4, rounded up (at least 1 per message); completion tokens are the words of
the answer, at most `max_tokens`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

ANSWER = "This is the VVV stand-in upstream, not a model: your request reached it through the gateway."
# a 1x1 transparent PNG, base64
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def usage_of(body: dict[str, Any]) -> tuple[int, int, list[str]]:
    """(prompt tokens, completion tokens, the answer's words) of a chat body."""
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    prompt = sum(max(1, -(-len(_text(m.get("content")).encode()) // 4)) for m in messages if isinstance(m, dict))
    words = ANSWER.split(" ")
    limit = body.get("max_tokens") or body.get("max_completion_tokens")
    if isinstance(limit, int) and limit > 0:
        words = words[:limit]
    return prompt, len(words), words


async def chat(request: Request) -> Response:
    body = await request.json()
    prompt, completion, words = usage_of(body)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    base = {"id": f"chatcmpl-standin-{time.time_ns()}", "created": int(time.time()), "model": body.get("model")}
    if not body.get("stream"):
        message = {"role": "assistant", "content": " ".join(words)}
        choice = {"index": 0, "finish_reason": "stop", "message": message}
        return JSONResponse(base | {"object": "chat.completion", "choices": [choice], "usage": usage})

    def events() -> Iterator[str]:
        chunk = base | {"object": "chat.completion.chunk"}
        for i, word in enumerate(words):
            delta = {"role": "assistant", "content": word} if i == 0 else {"content": " " + word}
            yield f"data: {json.dumps(chunk | {'choices': [{'index': 0, 'delta': delta}]})}\n\n"
        yield f"data: {json.dumps(chunk | {'choices': [{'index': 0, 'delta': {}, 'finish_reason': 'stop'}]})}\n\n"
        yield f"data: {json.dumps(chunk | {'choices': [], 'usage': usage})}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def images(request: Request) -> Response:
    body = await request.json()
    n = body.get("n") if isinstance(body.get("n"), int) else 1
    data = [{"b64_json": PIXEL, "revised_prompt": "a stand-in image: " + ANSWER} for _ in range(max(1, n))]
    return JSONResponse({"created": int(time.time()), "data": data})


def make_app() -> Starlette:
    return Starlette(routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/images/generations", images, methods=["POST"]),
    ])  # fmt: skip
