"""The VCU calculator. Forward: the daily VCU a stake yields today, as an active API user and
(for comparison) if every staker were active, and what that buys of each model. Reverse: the
stake a daily workload needs. A stake is counted as new stake joining today's pool:
allotment = stake * capacity // (pool + stake), floored as `EpochOracle.vcuAllocation` does."""

from __future__ import annotations

from dataclasses import dataclass

from vvv.oracle.pricing import PriceTable, PricingError

MILLION = 1_000_000


class CalcError(ValueError):
    """A workload the calculator cannot price or that no stake can serve."""


def allotment(stake: int, capacity: int, pool: int) -> int:
    """Daily VCU wei of `stake` joining a pool of `pool` wei sharing `capacity` VCU wei."""
    if stake <= 0:
        return 0
    return stake * capacity // (pool + stake)


def stake_needed(vcu: int, capacity: int, pool: int, minimum: int) -> int:
    """Least stake (wei, at least `minimum`) whose allotment is >= `vcu`."""
    if vcu <= 0:
        raise CalcError("the workload costs nothing")
    if vcu > capacity or (vcu == capacity and pool > 0):
        raise CalcError(f"the workload needs more than the whole network's daily capacity ({capacity} VCU wei)")
    if pool == 0:
        return minimum
    stake = max(minimum, -(-vcu * pool // (capacity - vcu)))
    while allotment(stake, capacity, pool) < vcu:  # the ceiling above is exact or one short
        stake += 1
    return stake


@dataclass(frozen=True)
class Task:
    """One line of a daily workload: `count` requests of `model` with these average token
    counts (chat), or `count` images (image models)."""

    model: str
    count: int
    input_tokens: int = 0
    output_tokens: int = 0

    @classmethod
    def parse(cls, text: str, prices: PriceTable) -> Task:
        """`MODEL:REQUESTS:AVG_IN:AVG_OUT` for a chat model, `MODEL:IMAGES` for an image model."""
        parts = text.split(":")
        try:
            kind = prices.price(parts[0]).kind
        except PricingError as err:
            raise CalcError(f"workload {text!r}: {err}") from None
        expected = 4 if kind == "chat" else 2
        shape = "MODEL:REQUESTS:AVG_IN:AVG_OUT" if kind == "chat" else "MODEL:IMAGES"
        if len(parts) != expected:
            raise CalcError(f"workload {text!r}: a {kind} model is written {shape}")
        try:
            numbers = [int(p) for p in parts[1:]]
        except ValueError:
            raise CalcError(f"workload {text!r}: counts must be whole numbers") from None
        if min(numbers) < 0 or numbers[0] == 0:
            raise CalcError(f"workload {text!r}: counts must be >= 0 and the request count > 0")
        return cls(parts[0], *numbers)

    def cost(self, prices: PriceTable) -> int:
        """Daily VCU wei: the per-request cost (rounded up, as the meter charges) x count."""
        if prices.price(self.model).kind == "image":
            return prices.cost(self.model, images=self.count)
        return prices.cost(self.model, self.input_tokens, self.output_tokens) * self.count


@dataclass(frozen=True)
class Buys:
    """What a daily VCU amount buys of one model."""

    model: str
    kind: str
    requests: int | None  # chat: requests of the given average size
    input_tokens: int | None  # chat: input tokens alone
    output_tokens: int | None  # chat: output tokens alone
    images: int | None  # image models


def what_it_buys(vcu: int, prices: PriceTable, input_tokens: int, output_tokens: int) -> list[Buys]:
    rows = []
    for model, price in sorted(prices.models.items()):
        if price.kind == "image":
            rows.append(Buys(model, "image", None, None, None, vcu // price.per_image))
            continue
        per_request = prices.cost(model, input_tokens, output_tokens)
        rows.append(
            Buys(
                model,
                "chat",
                vcu // per_request if per_request else None,
                vcu * MILLION // price.per_1m_input if price.per_1m_input else None,
                vcu * MILLION // price.per_1m_output if price.per_1m_output else None,
                None,
            )
        )
    return rows
