"""API keys from the staker's side (`ape run staker keys create|list|revoke`): the request is
built and checked here, signed by the staking wallet (an ape account) for the chain and staking
contract of the deployment record, and posted to the gateway (`vvv.gateway.keys` serves it).

Before anything is signed, the gateway is asked for its domain (`GET /v1/keys/domain`): an
unreachable gateway, or one that serves another chain or contract, is one error line and no
signature is asked for. A key's secret is made here ("vvv_" + 32 random bytes) and printed once;
only its SHA-256 hash leaves this machine. Each request carries a random 64-bit nonce and a
deadline 10 minutes ahead (time for a keyfile's passphrase)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console

from vvv.chain.apikeys import (
    MAX_RATE,
    SECRET_PREFIX,
    ApiKey,
    ApiKeyError,
    CreateKey,
    Domain,
    ListKeys,
    MessageSigner,
    RevokeKey,
    check_label,
    check_models,
    key_hash,
    new_secret,
    sign,
)
from vvv.chain.deployment import System
from vvv.chain.units import AmountError, parse_amount
from vvv.staker.render import Amounts
from vvv.staker.transactions import utc

DEADLINE = 600  # seconds a signed request stays valid
TIMEOUT = 10.0  # seconds to wait for the gateway
NONCE_BITS = 64
_DURATION = re.compile(r"(\d{1,6})([mhd])")
_UNITS = {"m": 60, "h": 3_600, "d": 86_400}
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")


class KeysClientError(RuntimeError):
    """The key request cannot be made as asked, or the gateway refused or could not be reached."""


# ------------------------------------------------------------------ command-line input


def parse_cap(text: str | None, wei: bool, option: str = "--daily-cap") -> int:
    """`--daily-cap` (`--monthly-cap`, `--lifetime-cap`): VCU (VCU wei with `wei`) the key may
    spend a day (a UTC month, its life); none given: 0, no cap."""
    if text is None:
        return 0
    try:
        cap = parse_amount(text, wei=wei)
    except AmountError as err:
        raise KeysClientError(f"{option} {err}") from None
    if cap >= 2**255:
        raise KeysClientError(f"{option} {text} is not below 2**255 wei")
    return cap


def parse_rate(text: str | None) -> int:
    """`--rpm`: requests a minute the key may make; none given: 0, no limit."""
    if text is None:
        return 0
    text = text.strip()
    if not (text.isascii() and text.isdecimal()) or not 0 < int(text) <= MAX_RATE:
        raise KeysClientError(f"--rpm {text!r}: give a whole number of requests a minute from 1 to {MAX_RATE:,}")
    return int(text)


def parse_models(text: str | None) -> str:
    """`--models`: the model ids the key may call, separated by commas ('llama-3.3-70b,flux');
    none given: every model."""
    if text is None:
        return ""
    models = ",".join(m.strip() for m in text.split(","))
    try:
        return check_models(models)
    except ApiKeyError as err:
        raise KeysClientError(f"--{err}") from None


def parse_expiry(text: str | None, now: int) -> int:
    """`--expires`: a duration from now ('90m', '12h', '30d'), a UTC date or time
    ('2027-01-31', '2027-01-31T12:00', or with an offset), or unix seconds; none given: 0, never.
    It must be in the future."""
    if text is None:
        return 0
    text = text.strip()
    duration = _DURATION.fullmatch(text)
    if duration:
        expiry = now + int(duration.group(1)) * _UNITS[duration.group(2)]
    elif text.isascii() and text.isdecimal():
        expiry = int(text)
    else:
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise KeysClientError(f"--expires {text!r}: give a duration (30d, 12h, 90m), a UTC date or time "
                                  "(2027-01-31, 2027-01-31T12:00) or unix seconds") from None  # fmt: skip
        expiry = int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())
    if expiry <= now:
        raise KeysClientError(f"--expires {text} is not in the future ({_when(expiry)}, now {_when(now)})")
    if expiry >= 2**63:
        raise KeysClientError(f"--expires {text} is too far ahead")
    return expiry


def parse_key(text: str) -> str:
    """The hash of the key a command names: its hash (0x + 64 hex digits), or its secret."""
    text = text.strip()
    if _HASH.fullmatch(text):
        return text.lower()
    if text.startswith(SECRET_PREFIX):
        return key_hash(text)
    raise KeysClientError(f"KEY {text[:12]!r}...: give the key's hash (0x and 64 hex digits) or its secret (vvv_...)")


def _when(timestamp: int) -> str:
    return utc(timestamp) if 0 <= timestamp < 253_402_300_800 else str(timestamp)


# ------------------------------------------------------------------ the gateway


class Gateway:
    """The keys routes of a gateway at `url` (http:// or https://)."""

    def __init__(self, url: str, timeout: float = TIMEOUT) -> None:
        self.url = url.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", self.url):
            raise KeysClientError(f"--gateway {url!r} is not an http:// or https:// URL")
        self.timeout = timeout

    @classmethod
    def at(cls, url: str | None) -> Gateway:
        """The gateway of `--gateway URL` (or of $VVV_GATEWAY)."""
        if not url:
            raise KeysClientError("give the gateway's URL: --gateway URL (or set VVV_GATEWAY)")
        return cls(url)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            answer = httpx.request(method, self.url + path, json=body, timeout=self.timeout)
        except httpx.HTTPError as err:
            sent = body is not None and not isinstance(err, httpx.ConnectError)
            what = "it may have received the request" if sent else "nothing was sent"
            raise KeysClientError(
                f"cannot reach the gateway at {self.url} ({type(err).__name__}: {err}); {what}"
            ) from None
        try:
            data = answer.json()
        except ValueError:
            data = None
        if answer.is_success and isinstance(data, dict):
            return data
        message = data.get("error", {}).get("message") if isinstance(data, dict) else None
        if not isinstance(message, str):
            message = " ".join(answer.text.split())[:120] or "no body"
        raise KeysClientError(f"the gateway at {self.url} answered HTTP {answer.status_code}: {message}")

    def domain(self) -> Domain:
        """The domain the gateway checks signatures for."""
        try:
            return Domain.from_json(self._call("GET", "/v1/keys/domain"))
        except ApiKeyError as err:
            raise KeysClientError(f"the gateway at {self.url} gave no keys domain: {err}") from None

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", path, body)


def domain_of(system: System) -> Domain:
    """The keys' domain of a deployment: its chain and staking contract."""
    return Domain(int(system.record["chain_id"]), str(system.staking.address))


def check_gateway(gateway: Gateway, system: System) -> Domain:
    """The domain to sign for: this network's, after checking the gateway serves the same."""
    ours, theirs = domain_of(system), gateway.domain()
    if not ours.same_as(theirs):
        raise KeysClientError(f"the gateway at {gateway.url} serves chain {theirs.chain_id} and staking contract "
                              f"{theirs.verifying_contract}, not this network's (chain {ours.chain_id}, "
                              f"{ours.verifying_contract}); nothing was signed")  # fmt: skip
    return ours


# ------------------------------------------------------------------ the three requests


@dataclass(frozen=True)
class Limits:
    """A new key's limits beyond its daily cap (each 0 or empty: none)."""

    monthly_cap: int = 0
    lifetime_cap: int = 0
    requests_per_minute: int = 0
    models: str = ""


@dataclass(frozen=True)
class CreatedKey:
    secret: str  # shown once; the gateway has only its hash
    key: ApiKey
    warning: str | None = None  # the gateway's (the account has no stake: its calls will be refused)


def _record(data: Any, account: str, hash_: str | None = None) -> ApiKey:
    try:
        key = ApiKey.from_json(data)
    except ApiKeyError as err:
        raise KeysClientError(f"the gateway answered with a malformed key: {err}") from None
    if key.account != account or (hash_ is not None and key.key_hash != hash_):
        raise KeysClientError(f"the gateway answered with another key ({key.key_hash} of {key.account})")
    return key


def chain_now() -> int:
    """The chain's clock (the latest block's time): keys' deadlines and expiries are checked on
    it by the gateway (SPEC: "today" is the chain's day, the same clock as the contracts)."""
    from ape import chain

    return int(chain.blocks.head.timestamp)


def _nonce() -> int:
    return secrets.randbits(NONCE_BITS)


def create_key(
    system: System, gateway: Gateway, account: MessageSigner, label: str, daily_cap: int, expiry: int,
    now: int | None = None, limits: Limits = Limits(),
) -> CreatedKey:  # fmt: skip
    """A new key of `account`, signed and stored at the gateway; its secret, record and the
    gateway's warning if any."""
    now = chain_now() if now is None else now
    try:
        label = check_label(label)
    except ApiKeyError as err:
        raise KeysClientError(f"--label: {err}") from None
    domain = check_gateway(gateway, system)
    secret = new_secret()
    who = str(account.address).lower()
    request = CreateKey(who, label, daily_cap, expiry, _nonce(), key_hash(secret), now + DEADLINE, limits.monthly_cap,
                        limits.lifetime_cap, limits.requests_per_minute, limits.models)  # fmt: skip
    answer = gateway.post("/v1/keys", _signed(account, request, domain))
    warning = answer.get("warning")
    return CreatedKey(secret, _record(answer.get("key"), who, request.key_hash),
                      " ".join(warning.split()) if isinstance(warning, str) else None)  # fmt: skip


def list_keys(system: System, gateway: Gateway, account: MessageSigner, now: int | None = None) -> list[ApiKey]:
    """Every key of `account` at the gateway (revoked and expired ones too)."""
    now = chain_now() if now is None else now
    domain = check_gateway(gateway, system)
    who = str(account.address).lower()
    answer = gateway.post("/v1/keys/list", _signed(account, ListKeys(who, _nonce(), now + DEADLINE), domain))
    keys = answer.get("keys")
    if not isinstance(keys, list):
        raise KeysClientError("the gateway answered without a list of keys")
    return [_record(k, who) for k in keys]


def revoke_key(system: System, gateway: Gateway, account: MessageSigner, hash_: str, now: int | None = None) -> ApiKey:
    """Revoke `account`'s key `hash_` at the gateway; its record."""
    now = chain_now() if now is None else now
    domain = check_gateway(gateway, system)
    who = str(account.address).lower()
    answer = gateway.post("/v1/keys/revoke", _signed(account, RevokeKey(who, hash_, _nonce(), now + DEADLINE), domain))
    return _record(answer.get("key"), who, hash_)


def _signed(account: MessageSigner, request: CreateKey | ListKeys | RevokeKey, domain: Domain) -> dict[str, Any]:
    try:
        return sign(account, request, domain).to_json()
    except ApiKeyError as err:
        raise KeysClientError(str(err)) from None


# ------------------------------------------------------------------ output


def key_data(key: ApiKey, fmt: Amounts, now: int) -> dict[str, Any]:
    """A key for `--json`: the gateway's record, its caps in VCU (or wei with --wei)."""
    caps = {name: fmt(getattr(key, name)) for name in ("daily_cap", "monthly_cap", "lifetime_cap")}
    return key.to_json(now) | caps


def created_data(created: CreatedKey, fmt: Amounts, now: int) -> dict[str, Any]:
    warning = {"warning": created.warning} if created.warning else {}
    return {"action": "create", "account": created.key.account, "secret": created.secret,
            "key": key_data(created.key, fmt, now), **warning}  # fmt: skip


def keys_data(account: str, keys: list[ApiKey], fmt: Amounts, now: int) -> dict[str, Any]:
    return {"action": "list", "account": account, "keys": [key_data(k, fmt, now) for k in keys]}


def revoked_data(key: ApiKey, fmt: Amounts, now: int) -> dict[str, Any]:
    return {"action": "revoke", "account": key.account, "key": key_data(key, fmt, now)}


def _cap(key: ApiKey, fmt: Amounts, name: str = "daily_cap") -> str:
    cap = getattr(key, name)
    return "none" if cap == 0 else f"{fmt(cap)} {'VCU wei' if fmt.wei else 'VCU'}"


def _limits(key: ApiKey, fmt: Amounts) -> str:
    """The limits a key has beyond its daily cap ("" when none)."""
    parts = [f"{what}: {_cap(key, fmt, name)}" for what, name in (("monthly cap", "monthly_cap"),
                                                                  ("lifetime cap", "lifetime_cap"))
             if getattr(key, name)]  # fmt: skip
    if key.requests_per_minute:
        parts.append(f"requests a minute: {key.requests_per_minute}")
    if key.models:
        parts.append(f"models: {', '.join(key.models)}")
    return " | ".join(parts)


def _expiry(key: ApiKey) -> str:
    return "never" if key.expiry == 0 else _when(key.expiry)


def _print(console: Console, line: str) -> None:
    console.print(line, soft_wrap=True, markup=False, highlight=False)


def show_created(created: CreatedKey, fmt: Amounts, console: Console) -> None:
    key = created.key
    _print(console, f"created API key {key.key_hash} of {key.account}")
    _print(console, f"  label:     {key.label}")
    _print(console, f"  daily cap: {_cap(key, fmt)}")
    if _limits(key, fmt):
        _print(console, f"  limits:    {_limits(key, fmt)}")
    _print(console, f"  expires:   {_expiry(key)}")
    if created.warning:
        _print(console, f"warning: {created.warning}")
    _print(console, f"secret (shown this once; the gateway keeps only its hash): {created.secret}")  # the last line


def show_keys(account: str, keys: list[ApiKey], fmt: Amounts, now: int, console: Console) -> None:
    """Two lines a key: its hash whole (to copy into `keys revoke`), then what it is."""
    if not keys:
        _print(console, f"{account} has no API keys at this gateway")
        return
    _print(console, f"API keys of {account} ({len(keys)}):")
    for k in keys:
        status = k.status(now) + ("" if k.revoked is None else f" at {_when(k.revoked)}")
        _print(console, f"  {k.key_hash}  {status}")
        _print(console, f"    label: {k.label} | daily cap: {_cap(k, fmt)} | expires: {_expiry(k)} | "
                        f"created: {_when(k.created)}")  # fmt: skip
        if _limits(k, fmt):
            _print(console, f"    {_limits(k, fmt)}")


def show_revoked(key: ApiKey, console: Console) -> None:
    _print(console, f"revoked API key {key.key_hash} ({key.label}) of {key.account} at {_when(key.revoked or 0)}")
