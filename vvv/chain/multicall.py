"""Batched view calls through Multicall3 (`aggregate3`), at one pinned block.

Many view calls (a stake per account, a report's fields) become one `eth_call` per batch of
`batch_size` calls to the Multicall3 contract, all at the same block number, so every value
read for one report comes from one state and the round trips to the node grow with
n / batch_size, not with n.

Multicall3 is at its canonical address on every public chain (ape's `ape_ethereum.multicall`
lists them). On a local chain `ensure_multicall` puts it there: with ape's
`BaseMulticall.inject()` (the provider's `set_code`, i.e. `anvil_setCode`); ape's in-process
chain has no `set_code`, so there the same runtime code is deployed by a transaction (at another
address) and that address is used.

Calls are encoded and decoded here with eth-abi from each method's ABI (once per method), not
through ape's per-call encoding: ape's `multicall.Call.add` and its decoding cost about 0.2 ms
per call, ~40 s for 100,000 stakes, where this takes a few seconds.

Batch size (`DEFAULT_BATCH`, 1,000 calls): a batch of `stakeAt` reads is ~256 KB of calldata
(~0.5 MB as JSON hex, under geth's 5 MB request limit and the ~1-2 MB several hosted endpoints
take) and costs ~8.8M gas (measured on anvil by bench/oracle.py), under geth's default 50M gas cap
for `eth_call`. Every call must succeed (`allowFailure` false): a reverting read fails its batch
with one error, never a silently missing value."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ape import chain
from ape.exceptions import APINotImplementedError
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

DEFAULT_BATCH = 1_000
_AGGREGATE3 = keccak(text="aggregate3((address,bool,bytes)[])")[:4]
_AGGREGATE3_IN = ["(address,bool,bytes)[]"]
_AGGREGATE3_OUT = ["(bool,bytes)[]"]


class MulticallError(RuntimeError):
    """Multicall3 is not available, or a batched read failed (one line)."""


@dataclass(frozen=True)
class View:
    """One view method of one contract, ready to encode calls and decode their results."""

    target: str
    name: str
    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @classmethod
    def of(cls, contract: Any, name: str) -> View:
        """The view `name` of an ape contract instance (its only ABI of that name)."""
        abis = [m for m in contract.contract_type.view_methods if m.name == name]
        if len(abis) != 1:
            raise MulticallError(f"{contract.address}: no single view method named {name!r}")
        abi = abis[0]
        return cls(
            target=str(contract.address),
            name=name,
            selector=keccak(text=abi.selector)[:4],
            inputs=tuple(i.canonical_type for i in abi.inputs),
            outputs=tuple(o.canonical_type for o in abi.outputs),
        )

    def call(self, *args: Any) -> tuple[View, bytes]:
        """A call of this view with `args`, for `Multicall.read`."""
        return self, self.selector + encode(list(self.inputs), list(args))

    def decode(self, data: bytes) -> Any:
        values = decode(list(self.outputs), data)
        return values[0] if len(values) == 1 else values


def _has_code(address: str) -> bool:
    return len(chain.provider.get_code(address)) > 0


def ensure_multicall(deployer: Any = None) -> str:
    """The address of a Multicall3 on the connected chain: the canonical one when it has code;
    on a local chain, injected there (anvil) or, on ape's in-process chain (no `set_code`),
    deployed by `deployer`. `MulticallError` when none can be had."""
    from ape_ethereum.multicall import BaseMulticall
    from ape_ethereum.multicall.constants import MULTICALL3_ADDRESS, MULTICALL3_CODE

    if _has_code(MULTICALL3_ADDRESS):
        return MULTICALL3_ADDRESS
    try:
        BaseMulticall.inject()
        return MULTICALL3_ADDRESS
    except APINotImplementedError:
        if deployer is None:
            raise MulticallError(
                f"no Multicall3 at {MULTICALL3_ADDRESS} on chain {chain.chain_id} and this provider cannot set code: "
                "pass a deployer to deploy one"
            ) from None
    runtime = bytes(MULTICALL3_CODE)
    # init code: CODECOPY the runtime that follows these 12 bytes into memory and RETURN it
    init = bytes.fromhex(f"61{len(runtime):04x}80600c6000396000f3") + runtime
    txn = chain.provider.network.ecosystem.create_transaction(data=init, sender=deployer.address)
    receipt = deployer.call(txn)
    if not receipt.contract_address or not _has_code(receipt.contract_address):
        raise MulticallError("the Multicall3 deployment left no code")
    return to_checksum_address(receipt.contract_address)


def pinned_block() -> int:
    """The number of the newest block: the block every read of one report is made at."""
    return int(chain.blocks.head.number)


class Multicall:
    """Reads many view calls in batches of `batch_size` through the Multicall3 at `address`,
    each batch one `eth_call` at `block`."""

    def __init__(self, address: str, block: int, batch_size: int = DEFAULT_BATCH) -> None:
        if batch_size < 1:
            raise MulticallError(f"batch size must be at least 1, got {batch_size}")
        self.address = to_checksum_address(address)
        self.block = block
        self.batch_size = batch_size
        self.round_trips = 0

    def read(self, calls: Iterable[tuple[View, bytes]]) -> Iterator[Any]:
        """The decoded result of every call, in order; batches are sent as `calls` is consumed."""
        batch: list[tuple[View, bytes]] = []
        for item in calls:
            batch.append(item)
            if len(batch) == self.batch_size:
                yield from self._send(batch)
                batch = []
        if batch:
            yield from self._send(batch)

    def read_all(self, calls: Iterable[tuple[View, bytes]]) -> list[Any]:
        return list(self.read(calls))

    def read_together(self, calls: Iterable[tuple[View, bytes]]) -> list[Any]:
        """The decoded results of a few calls in one round trip, whatever `batch_size` is (for a
        handful of fields that belong together, such as a day's facts)."""
        return self._send(list(calls))

    def _send(self, batch: Sequence[tuple[View, bytes]]) -> list[Any]:
        data = _AGGREGATE3 + encode(_AGGREGATE3_IN, [[(view.target, False, payload) for view, payload in batch]])
        try:
            raw = _eth_call(self.address, data, self.block)
        except Exception as err:
            first = str(err).strip().splitlines()
            names = sorted({view.name for view, _ in batch})
            raise MulticallError(f"a batch of {len(batch)} reads ({', '.join(names)}) at block {self.block} "
                                 f"failed: {first[0] if first else type(err).__name__}") from None  # fmt: skip
        self.round_trips += 1
        (results,) = decode(_AGGREGATE3_OUT, bytes(raw))
        return [view.decode(payload) for (view, _), (_, payload) in zip(batch, results, strict=True)]


def _eth_call(address: str, data: bytes, block: int) -> bytes:
    """One `eth_call` at `block`. A node gets one plain JSON-RPC request (ape's `send_call` would
    first fetch a block for its fee fields: a second round trip per batch); ape's in-process
    chain, which has no round trips and checks fee fields, gets ape's own call."""
    provider = chain.provider
    if provider.name == "test":
        txn = provider.network.ecosystem.create_transaction(receiver=address, data=data)
        return bytes(provider.send_call(txn, block_id=block))
    return bytes(HexBytes(provider.make_request("eth_call", [{"to": address, "data": "0x" + data.hex()}, hex(block)])))
