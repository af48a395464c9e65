"""The model price table: VCU per 1M input / output tokens for chat models, VCU per image for
image models (one price for all image models, as the seed says for now).

Two optional columns price what the gateway must bound before it forwards a request:
- `vcu_per_image_input` (chat models): the most one image part of a chat's messages can cost
  (its tokens at the upstream, whatever its size or detail); empty: the model takes no images;
- `image_sizes` (image models): the sizes a request may ask for, `WxH` separated by spaces, the
  first being the default; empty: a request may not name a size (the upstream's default).
A file with the first five columns only (the older header) is read as having neither.

The file is CSV (see data/prices.csv); `#` lines are comments. Loading validates every line and
names the first bad one: `prices.csv:7: ...`."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from vvv.chain.units import AmountError, parse_amount

BASE_HEADER = ["kind", "model", "vcu_per_1m_input", "vcu_per_1m_output", "vcu_per_image"]
HEADER = [*BASE_HEADER, "vcu_per_image_input", "image_sizes"]
MAX_SIDE = 16_384  # pixels: the largest side an image size may name
DEFAULT_PRICES = Path(__file__).resolve().parents[2] / "data" / "prices.csv"
MILLION = 1_000_000


class PricingError(ValueError):
    """The price file is malformed, or a request names an unknown model."""


@dataclass(frozen=True)
class ModelPrice:
    model: str
    kind: str  # "chat" or "image"
    per_1m_input: int = 0  # VCU wei per 1,000,000 input tokens
    per_1m_output: int = 0
    per_image: int = 0
    per_image_input: int = 0  # VCU wei per image part of a chat's input; 0: the model takes no images
    sizes: tuple[str, ...] = ()  # image sizes a request may name (WxH), the first the default


@dataclass(frozen=True)
class PriceTable:
    models: dict[str, ModelPrice]

    def price(self, model: str) -> ModelPrice:
        try:
            return self.models[model]
        except KeyError:
            raise PricingError(f"unknown model {model!r} (known: {', '.join(sorted(self.models))})") from None

    def cost(self, model: str, input_tokens: int = 0, output_tokens: int = 0, images: int = 0) -> int:
        """Cost in VCU wei of one request, rounded up to the wei (the API never undercharges).
        Chat models bill tokens, image models bill images; the other counts must be 0."""
        if min(input_tokens, output_tokens, images) < 0:
            raise PricingError("token and image counts must be >= 0")
        p = self.price(model)
        if p.kind == "chat":
            if images:
                raise PricingError(f"{model} is a chat model: it makes no images")
            token_cost = input_tokens * p.per_1m_input + output_tokens * p.per_1m_output
            return -(-token_cost // MILLION)
        if input_tokens or output_tokens:
            raise PricingError(f"{model} is an image model: it bills images, not tokens")
        return images * p.per_image

    def chat_worst_case(self, model: str, input_tokens: int, output_tokens: int, image_inputs: int) -> int:
        """The most a chat can cost: its input and output tokens at the model's prices (rounded
        up to the wei) plus each image part of its input at `vcu_per_image_input`."""
        p = self.price(model)
        if image_inputs and not p.per_image_input:
            raise PricingError(f"{model} takes no image input (the price table gives it no vcu_per_image_input)")
        return self.cost(model, input_tokens, output_tokens) + image_inputs * p.per_image_input


def _sizes(cell: str, where: str) -> tuple[str, ...]:
    sizes = tuple(cell.split())
    for size in sizes:
        width, _, height = size.partition("x")
        if not (width.isdigit() and height.isdigit() and 0 < int(width) <= MAX_SIDE and 0 < int(height) <= MAX_SIDE):
            raise PricingError(f"{where}: image size {size!r} is not WxH with sides from 1 to {MAX_SIDE:,}")
    if len(set(sizes)) != len(sizes):
        raise PricingError(f"{where}: an image size is listed twice")
    return sizes


def load_prices(path: Path = DEFAULT_PRICES) -> PriceTable:
    """Read and validate a price file."""
    path = Path(path)
    if not path.exists():
        raise PricingError(f"{path}: no such price file")
    models: dict[str, ModelPrice] = {}
    image_price: tuple[int, int] | None = None  # (price, line)
    header: list[str] | None = None
    with path.open(newline="") as handle:
        for line_no, row in enumerate(csv.reader(handle), start=1):
            if not row or row[0].lstrip().startswith("#") or not "".join(row).strip():
                continue
            row = [cell.strip() for cell in row]
            where = f"{path.name}:{line_no}"
            if header is None:
                if row not in (HEADER, BASE_HEADER):
                    raise PricingError(f"{where}: expected the header {','.join(HEADER)}")
                header = row
                continue
            if len(row) != len(header):
                raise PricingError(f"{where}: expected {len(header)} fields, found {len(row)}")
            kind, model, inp, out, img, img_in, sizes = row + ["", ""] * (len(header) == len(BASE_HEADER))
            if not model:
                raise PricingError(f"{where}: the model name is empty")
            if model in models:
                raise PricingError(f"{where}: model {model!r} is listed twice")
            try:
                if kind == "chat":
                    if img or sizes:
                        raise PricingError(f"{where}: a chat model has no image price (nor image sizes)")
                    per_image_input = parse_amount(img_in, allow_zero=False) if img_in else 0
                    price = ModelPrice(model, kind, parse_amount(inp), parse_amount(out),
                                       per_image_input=per_image_input)  # fmt: skip
                elif kind == "image":
                    if inp or out or img_in:
                        raise PricingError(f"{where}: an image model has no token prices (nor an image-input price)")
                    price = ModelPrice(model, kind, per_image=parse_amount(img, allow_zero=False),
                                       sizes=_sizes(sizes, where))  # fmt: skip
                    if image_price is not None and image_price[0] != price.per_image:
                        raise PricingError(
                            f"{where}: all image models share one price (line {image_price[1]} has another)"
                        )
                    image_price = (price.per_image, line_no)
                else:
                    raise PricingError(f"{where}: kind must be chat or image, not {kind!r}")
            except AmountError as err:
                raise PricingError(f"{where}: {err}") from None
            models[model] = price
    if header is None:
        raise PricingError(f"{path.name}: no header line")
    if not models:
        raise PricingError(f"{path.name}: no models")
    return PriceTable(models)
