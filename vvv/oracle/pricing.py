"""The model price table: VCU per 1M input / output tokens for chat models, VCU per image for
image models (one price for all image models, as the seed says for now).

The file is CSV (see data/prices.csv); `#` lines are comments. Loading validates every line and
names the first bad one: `prices.csv:7: ...`."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from vvv.chain.units import AmountError, parse_amount

HEADER = ["kind", "model", "vcu_per_1m_input", "vcu_per_1m_output", "vcu_per_image"]
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


def load_prices(path: Path = DEFAULT_PRICES) -> PriceTable:
    """Read and validate a price file."""
    path = Path(path)
    if not path.exists():
        raise PricingError(f"{path}: no such price file")
    models: dict[str, ModelPrice] = {}
    image_price: tuple[int, int] | None = None  # (price, line)
    header_seen = False
    with path.open(newline="") as handle:
        for line_no, row in enumerate(csv.reader(handle), start=1):
            if not row or row[0].lstrip().startswith("#") or not "".join(row).strip():
                continue
            row = [cell.strip() for cell in row]
            where = f"{path.name}:{line_no}"
            if not header_seen:
                if row != HEADER:
                    raise PricingError(f"{where}: expected the header {','.join(HEADER)}")
                header_seen = True
                continue
            if len(row) != len(HEADER):
                raise PricingError(f"{where}: expected {len(HEADER)} fields, found {len(row)}")
            kind, model, inp, out, img = row
            if not model:
                raise PricingError(f"{where}: the model name is empty")
            if model in models:
                raise PricingError(f"{where}: model {model!r} is listed twice")
            try:
                if kind == "chat":
                    if img:
                        raise PricingError(f"{where}: a chat model has no image price")
                    price = ModelPrice(model, kind, parse_amount(inp), parse_amount(out))
                elif kind == "image":
                    if inp or out:
                        raise PricingError(f"{where}: an image model has no token prices")
                    price = ModelPrice(model, kind, per_image=parse_amount(img, allow_zero=False))
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
    if not header_seen:
        raise PricingError(f"{path.name}: no header line")
    if not models:
        raise PricingError(f"{path.name}: no models")
    return PriceTable(models)
