"""Counting the JSON-RPC requests the connected provider sends to its node (round trips), by
method: the measure of the batched reads against the per-account ones (bench/oracle.py, tests)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ape import chain


@contextmanager
def count_requests() -> Iterator[Counter[str]]:
    """Counts, by method, every request of the connected provider's web3 provider while inside
    (anvil over HTTP, and ape's in-process chain alike)."""
    provider = chain.provider.web3.provider
    original = provider.make_request
    counts: Counter[str] = Counter()

    def counting(method: Any, params: Any) -> Any:
        counts[str(method)] += 1
        return original(method, params)

    provider.make_request = counting  # type: ignore[method-assign]
    provider._request_func_cache = (None, None)  # web3 keeps the method it combined with its middleware
    try:
        yield counts
    finally:
        del provider.make_request  # the class's method again
        provider._request_func_cache = (None, None)
