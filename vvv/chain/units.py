"""Fixed-point amounts: VVV and VCU both have 18 decimals."""

from decimal import Decimal, InvalidOperation

ONE = 10**18


class AmountError(ValueError):
    """An amount is not a non-negative number with at most 18 decimals."""


def parse_amount(text: str | int | Decimal, *, allow_zero: bool = True, wei: bool = False) -> int:
    """'1.5' -> 1_500_000_000_000_000_000; with `wei`, the text is already in wei: '15' -> 15.
    Rejects negatives, NaN, and more than 18 decimals (any decimals with `wei`)."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise AmountError(f"not a number: {text!r}") from None
    if not value.is_finite() or value < 0 or (value == 0 and not allow_zero):
        raise AmountError(f"must be {'non-negative' if allow_zero else 'positive'}: {text!r}")
    scaled = value if wei else value * ONE
    if scaled != scaled.to_integral_value():
        raise AmountError(f"not a whole number of wei: {text!r}" if wei else f"more than 18 decimals: {text!r}")
    return int(scaled)


def format_fixed(scaled: int, places: int) -> str:
    """A non-negative value scaled by 10**places, with exactly `places` decimals: 1234567, 6 ->
    '1.234567'."""
    whole, frac = divmod(scaled, 10**places)
    return f"{whole}.{frac:0{places}d}"


def format_amount(wei: int, places: int = 18) -> str:
    """1_500_000_000_000_000_000 -> '1.5' (exact, trailing zeros dropped)."""
    sign = "-" if wei < 0 else ""
    whole, frac = divmod(abs(wei), ONE)
    text = f"{whole}.{frac:018d}"[: len(str(whole)) + 1 + places].rstrip("0").rstrip(".")
    return sign + text
