"""The OpenAI-shaped requests the gateway accepts, checked before anything is reserved or
forwarded (`BadBody`: HTTP 400 with one line), and each request's worst-case usage.

Only the fields listed here are forwarded (`CHAT_FIELDS`, `IMAGE_FIELDS`; in a chat message
`MESSAGE_FIELDS`, in a message's content the part types `CONTENT_PARTS`); any other is refused
with a 400 naming it, so nothing reaches the upstream that the worst case has not priced.

Input tokens are bounded, not counted with the upstream's tokenizer: every tokenizer in use
(BPE over UTF-8 bytes) makes at most one token per byte, so text costs at most its UTF-8 bytes.
A chat's input bound is `PROMPT_OVERHEAD` plus, per message, `PART_OVERHEAD` and the bytes of
every field the upstream's template can render (the role, text content, each text part with
another `PART_OVERHEAD`, names, tool calls with their arguments): a string as its UTF-8 bytes,
anything else as JSON indented by 4; plus `PART_OVERHEAD` and the indented JSON of `tools`,
`functions`, `tool_choice`, `function_call` and `response_format` (a chat template renders them
as JSON, at most this indented). Each image part costs the price table's `vcu_per_image_input`.
The upstream may do this work once per choice, so the worst case is

    (input bound + max output tokens) x n tokens, plus image parts x n at the image-input price

with max output tokens = `max_completion_tokens` or `max_tokens` (at most the gateway's output
limit), or the limit when none is given, and `n` from 1 to `MAX_CHOICES`. An image request's
worst case is `n` (1 to `MAX_IMAGES`) images at the table's price, in a size the table lists.
The reservation is the worst case; the charge is the upstream's own `usage`, never more."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PROMPT_OVERHEAD = 8  # tokens of a prompt beyond its parts (the reply's priming, the template's frame)
PART_OVERHEAD = 8  # tokens per message or tool block beyond its JSON (role markers, separators)
MAX_BODY = 1_048_576  # bytes of a request body
MAX_IMAGES = 10  # images per image request (OpenAI's limit for n)
MAX_CHOICES = 8  # choices (n) per chat
DEFAULT_OUTPUT_LIMIT = 4_096  # output tokens reserved when a request names no max_tokens

# What a chat may carry. Priced: messages, tools, functions, tool_choice, function_call,
# response_format (input), max_tokens / max_completion_tokens and n (output). The others change
# how tokens are picked or returned, not how many are read or made.
CHAT_FIELDS = frozenset({
    "model", "messages", "max_tokens", "max_completion_tokens", "n", "stream", "stream_options",
    "tools", "tool_choice", "parallel_tool_calls", "functions", "function_call", "response_format",
    "temperature", "top_p", "stop", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs",
    "top_logprobs", "seed", "user",
})  # fmt: skip
PRICED_INPUT = ("tools", "functions", "tool_choice", "function_call", "response_format")
MESSAGE_FIELDS = frozenset({"role", "content", "name", "tool_calls", "tool_call_id", "function_call", "refusal"})
CONTENT_PARTS = frozenset({"text", "image_url", "refusal"})
STREAM_OPTIONS = frozenset({"include_usage"})
IMAGE_FIELDS = frozenset({"model", "prompt", "n", "size", "response_format", "user"})
IMAGE_FORMATS = ("url", "b64_json")


class BadBody(ValueError):
    """The request body is not one the gateway accepts (one line)."""


@dataclass(frozen=True)
class ChatRequest:
    model: str
    stream: bool
    input_bound: int  # tokens one choice may read, worst case (image parts apart)
    max_output: int  # tokens, the most the upstream may return per choice
    n: int  # choices
    image_inputs: int  # image parts in the messages
    body: dict[str, Any]  # forwarded (max_tokens set; usage asked for in streams)

    @property
    def input_tokens(self) -> int:
        """Input tokens of the worst case: every choice reads the whole input."""
        return self.input_bound * self.n

    @property
    def output_tokens(self) -> int:
        return self.max_output * self.n


@dataclass(frozen=True)
class ImageRequest:
    model: str
    images: int
    size: str | None
    body: dict[str, Any]


def parse_json(raw: bytes) -> dict[str, Any]:
    """A body read with `vvv.chain.bodies.read_body(request, MAX_BODY)`, as a JSON object."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise BadBody(f"the body is not JSON ({str(err).splitlines()[0]})") from None
    if not isinstance(body, dict):
        raise BadBody("the body must be a JSON object")
    return body


def _only(fields: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise BadBody(f"{where}{unknown[0]!r} is not accepted (the gateway prices and forwards only "
                      f"{', '.join(sorted(allowed))})")  # fmt: skip


def model_of(body: dict[str, Any]) -> str:
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


def json_bytes(value: Any) -> int:
    """UTF-8 bytes of `value` as JSON indented by 4: at least the tokens of any rendering of it
    that a chat template makes."""
    return len(json.dumps(value, ensure_ascii=False, indent=4).encode())


def _value_bytes(value: Any) -> int:
    """A field's bound: a string as its UTF-8 bytes (templates render text as it is), anything
    else as indented JSON."""
    return len(value.encode()) if isinstance(value, str) else json_bytes(value)


def _message(message: Any, where: str) -> tuple[int, int]:
    """(input bound in tokens, image parts) of one message."""
    if not isinstance(message, dict) or not isinstance(message.get("role"), str):
        raise BadBody(f"{where} must be an object with a 'role'")
    _only(message, MESSAGE_FIELDS, f"{where}: field ")
    tokens, images = PART_OVERHEAD, 0
    for name, value in message.items():
        if name != "content" or not isinstance(value, list):
            if name == "content" and value is not None and not isinstance(value, str):
                raise BadBody(f"{where}.content must be a string or a list of parts")
            tokens += 0 if value is None else _value_bytes(value)
            continue
        for i, part in enumerate(value):
            if not isinstance(part, dict):
                raise BadBody(f"{where}.content[{i}] must be an object")
            kind = part.get("type")
            if kind not in CONTENT_PARTS:
                raise BadBody(f"{where}.content[{i}]: part type {kind!r} is not accepted "
                              f"(accepted: {', '.join(sorted(CONTENT_PARTS))})")  # fmt: skip
            if kind == "image_url":
                images += 1
            elif not isinstance(part.get(kind), str):
                raise BadBody(f"{where}.content[{i}].{kind} must be a string")
            else:
                tokens += PART_OVERHEAD + len(part[kind].encode())
    return tokens, images


def parse_chat(body: dict[str, Any], output_limit: int = DEFAULT_OUTPUT_LIMIT) -> ChatRequest:
    _only(body, CHAT_FIELDS, "field ")
    model = model_of(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadBody("'messages' must be a non-empty list")
    input_bound, images = PROMPT_OVERHEAD, 0
    for i, message in enumerate(messages):
        tokens, parts = _message(message, f"messages[{i}]")
        input_bound, images = input_bound + tokens, images + parts
    for name in PRICED_INPUT:
        if body.get(name) is not None:
            input_bound += PART_OVERHEAD + json_bytes(body[name])
    asked = _count(body, "max_completion_tokens", None, output_limit) or _count(body, "max_tokens", None, output_limit)
    max_output = asked or output_limit
    n = int(_count(body, "n", 1, MAX_CHOICES) or 1)
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise BadBody("'stream' must be true or false")
    forwarded = {k: v for k, v in body.items() if k != "max_completion_tokens"} | {"max_tokens": max_output}
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise BadBody("'stream_options' must be an object")
    _only(options, STREAM_OPTIONS, "stream_options: field ")
    if stream:
        forwarded["stream_options"] = {**options, "include_usage": True}
    return ChatRequest(model, stream, input_bound, max_output, n, images, forwarded)


def parse_images(body: dict[str, Any], sizes: tuple[str, ...]) -> ImageRequest:
    """An image request; `sizes` are the model's listed sizes (none: `size` may not be named)."""
    _only(body, IMAGE_FIELDS, "field ")
    model = model_of(body)
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadBody("'prompt' must be a non-empty string")
    n = _count(body, "n", 1, MAX_IMAGES)
    size = body.get("size")
    if size is not None and size not in sizes:
        listed = f"one of {', '.join(sizes)}" if sizes else "not named: this model has no listed sizes"
        raise BadBody(f"'size' {size!r} is not accepted for {model}: {listed}")
    if body.get("response_format") is not None and body["response_format"] not in IMAGE_FORMATS:
        raise BadBody(f"'response_format' must be one of {', '.join(IMAGE_FORMATS)}")
    forwarded = body | ({"size": sizes[0]} if size is None and sizes else {})
    return ImageRequest(model, int(n or 1), forwarded.get("size"), forwarded)
