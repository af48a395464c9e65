"""The OpenAI-shaped requests the gateway accepts, checked before anything is reserved or
forwarded (`BadBody`: HTTP 400 with one line), and each request's worst-case usage.

Input tokens are bounded, not counted with the upstream's tokenizer: every tokenizer in use
(BPE over UTF-8 bytes) makes at most one token per byte, so a message costs at most the UTF-8
bytes of its text plus `MESSAGE_OVERHEAD` tokens (role and separators). The bound is what is
reserved; the charge is the upstream's own `usage`, never more than the reservation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MESSAGE_OVERHEAD = 8  # tokens per message beyond its text (role, separators), and for the reply's priming
MAX_BODY = 1_048_576  # bytes of a request body
MAX_IMAGES = 10  # images per request (OpenAI's limit for n)
DEFAULT_OUTPUT_LIMIT = 4_096  # output tokens reserved when a request names no max_tokens


class BadBody(ValueError):
    """The request body is not one the gateway accepts (one line)."""


@dataclass(frozen=True)
class ChatRequest:
    model: str
    stream: bool
    input_bound: int  # tokens, worst case
    max_output: int  # tokens, the most the upstream may return
    body: dict[str, Any]  # forwarded (max_tokens set; usage asked for in streams)


@dataclass(frozen=True)
class ImageRequest:
    model: str
    images: int
    body: dict[str, Any]


def parse_json(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_BODY:
        raise BadBody(f"the body has {len(raw):,} bytes; at most {MAX_BODY:,} are accepted")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadBody(f"the body is not JSON ({str(err).splitlines()[0]})") from None
    if not isinstance(body, dict):
        raise BadBody("the body must be a JSON object")
    return body


def _model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise BadBody("'model' must be a non-empty string")
    return model


def _count(body: dict[str, Any], name: str, default: int | None, maximum: int) -> int | None:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise BadBody(f"'{name}' must be a whole number from 1 to {maximum:,}")
    return value


def _text_bytes(content: Any, where: str) -> int:
    """UTF-8 bytes of a message's content: a string, or a list of parts with text."""
    if content is None:
        return 0
    if isinstance(content, str):
        return len(content.encode())
    if isinstance(content, list):
        total = 0
        for i, part in enumerate(content):
            if not isinstance(part, dict):
                raise BadBody(f"{where}.content[{i}] must be an object")
            text = part.get("text", "")
            if not isinstance(text, str):
                raise BadBody(f"{where}.content[{i}].text must be a string")
            total += len(text.encode())
        return total
    raise BadBody(f"{where}.content must be a string or a list of parts")


def parse_chat(body: dict[str, Any], output_limit: int = DEFAULT_OUTPUT_LIMIT) -> ChatRequest:
    model = _model(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadBody("'messages' must be a non-empty list")
    input_bound = MESSAGE_OVERHEAD
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise BadBody(f"messages[{i}] must be an object with a 'role'")
        input_bound += MESSAGE_OVERHEAD + _text_bytes(message.get("content"), f"messages[{i}]")
    asked = _count(body, "max_completion_tokens", None, output_limit) or _count(body, "max_tokens", None, output_limit)
    max_output = asked or output_limit
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise BadBody("'stream' must be true or false")
    forwarded = {k: v for k, v in body.items() if k != "max_completion_tokens"} | {"max_tokens": max_output}
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise BadBody("'stream_options' must be an object")
    if stream:
        forwarded["stream_options"] = {**options, "include_usage": True}
    return ChatRequest(model, stream, input_bound, max_output, forwarded)


def parse_images(body: dict[str, Any]) -> ImageRequest:
    model = _model(body)
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadBody("'prompt' must be a non-empty string")
    n = _count(body, "n", 1, MAX_IMAGES)
    return ImageRequest(model, int(n or 1), body)
