"""API keys of the gateway: the EIP-712 requests a staker signs with the staking wallet to
create, list and revoke keys, the keys' secrets and hashes, and a key's record as the gateway
returns it.

Every request has one shape (STYLE, "signed requests"): the account it acts for, a nonce that
the gateway accepts once per account, and a deadline (unix seconds, valid while now <= deadline).
The domain is name "VVV API Keys", version "1", the chain id (read at run time: 1337 on ape's
chain, 31337 on anvil) and the staking contract's address.

    CreateKey(address account,string label,uint256 dailyCap,uint256 monthlyCap,uint256 lifetimeCap,
              uint256 requestsPerMinute,string models,uint256 expiry,uint256 nonce,bytes32 keyHash,
              uint256 deadline)
    ListKeys(address account,uint256 nonce,uint256 deadline)
    RevokeKey(address account,bytes32 keyHash,uint256 nonce,uint256 deadline)

`dailyCap`, `monthlyCap` and `lifetimeCap` are VCU wei a day (the chain's UTC day), a UTC
calendar month and the key's whole life (each 0: no cap); `requestsPerMinute` the requests the
key may make a minute (0: no limit; at most 1,000,000); `models` the models it may call, their
ids separated by commas with no spaces ("": every model); `expiry` the unix second from which
the key no longer works (0: never). A key's secret is "vvv_" + 43 URL-safe base64 characters (32 random bytes);
the gateway keeps only `keyHash` = SHA-256 of the secret's UTF-8 bytes (`printf %s SECRET |
sha256sum`), never the secret. JSON carries the messages with these field names; a uint256 is a
JSON integer or a decimal string, a bytes32 and the 65-byte signature 0x-prefixed hex."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

DOMAIN_NAME = "VVV API Keys"
DOMAIN_VERSION = "1"
SECRET_PREFIX = "vvv_"
MAX_LABEL = 64  # characters
MAX_MODELS = 1_024  # characters of a key's model allow-list
MAX_RATE = 1_000_000  # requests a minute a key may allow
MAX_UINT256 = 2**256 - 1
DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")
_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}")


class ApiKeyError(ValueError):
    """A request or a key record that is malformed (one line naming the field), or a signature
    the account did not give."""


@dataclass(frozen=True)
class Domain:
    """The EIP-712 domain of the keys: one chain and one staking contract."""

    chain_id: int
    verifying_contract: str

    def to_json(self) -> dict[str, Any]:
        return {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": self.chain_id,
                "verifyingContract": self.verifying_contract}  # fmt: skip

    @classmethod
    def from_json(cls, data: Any) -> Domain:
        if not isinstance(data, dict) or (data.get("name"), data.get("version")) != (DOMAIN_NAME, DOMAIN_VERSION):
            raise ApiKeyError(f"not the domain of {DOMAIN_NAME!r} version {DOMAIN_VERSION}: {data!r}")
        contract = data.get("verifyingContract")
        _address("verifyingContract", contract)
        return cls(_uint("chainId", data.get("chainId")), contract)

    def same_as(self, other: Domain) -> bool:
        return (self.chain_id, self.verifying_contract.lower()) == (other.chain_id, other.verifying_contract.lower())


# ------------------------------------------------------------------ the three requests


@dataclass(frozen=True)
class CreateKey:
    """Create the key whose secret hashes to `key_hash`, for `account`."""

    account: str
    label: str
    daily_cap: int
    expiry: int
    nonce: int
    key_hash: str
    deadline: int
    monthly_cap: int = 0
    lifetime_cap: int = 0
    requests_per_minute: int = 0
    models: str = ""  # model ids separated by commas ("": every model)

    PRIMARY: ClassVar[str] = "CreateKey"
    FIELDS: ClassVar[list[tuple[str, str, str]]] = [  # (EIP-712 name, type, attribute)
        ("account", "address", "account"),
        ("label", "string", "label"),
        ("dailyCap", "uint256", "daily_cap"),
        ("monthlyCap", "uint256", "monthly_cap"),
        ("lifetimeCap", "uint256", "lifetime_cap"),
        ("requestsPerMinute", "uint256", "requests_per_minute"),
        ("models", "string", "models"),
        ("expiry", "uint256", "expiry"),
        ("nonce", "uint256", "nonce"),
        ("keyHash", "bytes32", "key_hash"),
        ("deadline", "uint256", "deadline"),
    ]


@dataclass(frozen=True)
class ListKeys:
    """List `account`'s keys."""

    account: str
    nonce: int
    deadline: int

    PRIMARY: ClassVar[str] = "ListKeys"
    FIELDS: ClassVar[list[tuple[str, str, str]]] = [
        ("account", "address", "account"),
        ("nonce", "uint256", "nonce"),
        ("deadline", "uint256", "deadline"),
    ]


@dataclass(frozen=True)
class RevokeKey:
    """Revoke `account`'s key `key_hash`, for good."""

    account: str
    key_hash: str
    nonce: int
    deadline: int

    PRIMARY: ClassVar[str] = "RevokeKey"
    FIELDS: ClassVar[list[tuple[str, str, str]]] = [
        ("account", "address", "account"),
        ("keyHash", "bytes32", "key_hash"),
        ("nonce", "uint256", "nonce"),
        ("deadline", "uint256", "deadline"),
    ]


Request = CreateKey | ListKeys | RevokeKey
R = TypeVar("R", CreateKey, ListKeys, RevokeKey)


def type_string(kind: type[Request]) -> str:
    """The EIP-712 type of a request: 'ListKeys(address account,uint256 nonce,uint256 deadline)'."""
    return f"{kind.PRIMARY}({','.join(f'{t} {n}' for n, t, _ in kind.FIELDS)})"


def message_json(request: Request) -> dict[str, Any]:
    """The request's EIP-712 message (field names of the type; uint256 as integers)."""
    return {name: getattr(request, attr) for name, _, attr in request.FIELDS}


def typed_data(request: Request, domain: Domain) -> dict[str, Any]:
    """The full EIP-712 typed data of a request, as `eth_account` and wallets take it."""
    return {
        "types": {
            "EIP712Domain": DOMAIN_TYPE,
            request.PRIMARY: [{"name": n, "type": t} for n, t, _ in request.FIELDS],
        },
        "primaryType": request.PRIMARY,
        "domain": domain.to_json(),
        "message": message_json(request),
    }


def digest(request: Request, domain: Domain) -> bytes:
    """The 32-byte EIP-712 hash that is signed."""
    signable = encode_typed_data(full_message=typed_data(request, domain))
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def parse_message(kind: type[R], data: Any) -> R:
    """A request of `kind` from its JSON message: every field present, none unknown, each valid."""
    if not isinstance(data, dict):
        raise ApiKeyError(f"{kind.PRIMARY} message must be a JSON object")
    names = [n for n, _, _ in kind.FIELDS]
    missing = [n for n in names if n not in data]
    unknown = sorted(set(data) - set(names))
    if missing or unknown:
        what = "; ".join(p for p in (f"missing {', '.join(missing)}" if missing else "",
                                     f"unknown {', '.join(unknown)}" if unknown else "") if p)  # fmt: skip
        raise ApiKeyError(f"{kind.PRIMARY} message: {what}")
    readers = {"address": _address, "string": _label, "uint256": _uint, "bytes32": _bytes32}
    special = {"models": _models, "requestsPerMinute": _rate}
    return kind(**{attr: special.get(name, readers[t])(name, data[name]) for name, t, attr in kind.FIELDS})


# ------------------------------------------------------------------ signing and recovering


class MessageSigner(Protocol):
    """An ape account (it asks a keyfile account's passphrase, or signs with autosign) or an
    `eth_account` LocalAccount."""

    @property
    def address(self) -> Any: ...

    def sign_message(self, message: Any) -> Any: ...


@dataclass(frozen=True)
class Signed(Generic[R]):
    """A request and the 65-byte r || s || v signature of its account."""

    request: R
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        """The body a client posts; uint256 fields as decimal strings (exact in JavaScript too)."""
        message = {name: str(getattr(self.request, attr)) if t == "uint256" else getattr(self.request, attr)
                   for name, t, attr in self.request.FIELDS}  # fmt: skip
        return {"message": message, "signature": "0x" + self.signature.hex()}


def sign(account: MessageSigner, request: R, domain: Domain) -> Signed[R]:
    """`request` signed by `account`, which must be the request's account."""
    if str(account.address).lower() != request.account.lower():
        raise ApiKeyError(f"{account.address} cannot sign a request of {request.account}")
    signed = account.sign_message(encode_typed_data(full_message=typed_data(request, domain)))
    if signed is None:
        raise ApiKeyError(f"{account.address} did not sign the {request.PRIMARY} request; nothing was sent")
    # ape returns a MessageSignature (encode_rsv), eth_account a SignedMessage (signature)
    signature = signed.encode_rsv() if hasattr(signed, "encode_rsv") else bytes(signed.signature)
    return Signed(request, bytes(signature))


def signer_of(signed: Signed[Any], domain: Domain) -> str:
    """The lower-case address whose key made the signature, for this domain."""
    message = encode_typed_data(full_message=typed_data(signed.request, domain))
    try:
        return str(Account.recover_message(message, signature=signed.signature)).lower()
    except Exception as err:  # eth_account raises several kinds for a malformed signature
        raise ApiKeyError(f"bad signature of the {signed.request.PRIMARY} request ({err})") from None


def parse_signed(kind: type[R], body: Any) -> Signed[R]:
    """`{"message": {...}, "signature": "0x..."}` as a signed request of `kind` (not yet checked)."""
    if not isinstance(body, dict) or set(body) != {"message", "signature"}:
        raise ApiKeyError('the body must be a JSON object {"message": {...}, "signature": "0x..."}')
    signature = body["signature"]
    if not isinstance(signature, str) or not _SIGNATURE.fullmatch(signature):
        raise ApiKeyError("signature must be 0x and 130 hex digits (65 bytes)")
    return Signed(parse_message(kind, body["message"]), bytes.fromhex(signature[2:]))


# ------------------------------------------------------------------ secrets and records


def new_secret() -> str:
    """A fresh key secret: 'vvv_' and 32 random bytes in URL-safe base64 (43 characters)."""
    return SECRET_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def key_hash(secret: str) -> str:
    """The key hash the gateway keeps: '0x' + SHA-256 of the secret's UTF-8 bytes, in hex."""
    return "0x" + hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """A key as the gateway keeps it: everything but the secret. `daily_cap`, `monthly_cap` and
    `lifetime_cap` in VCU wei (0: no cap); `requests_per_minute` (0: no limit); `models` the
    models it may call (empty: every model); `expiry`, `created` and `revoked` are unix seconds
    (`expiry` 0: never; `revoked` None: not revoked). Valid at `now` while not revoked and
    (`expiry` == 0 or `now` < `expiry`)."""

    account: str
    key_hash: str
    label: str
    daily_cap: int
    expiry: int
    created: int
    revoked: int | None = None
    monthly_cap: int = 0
    lifetime_cap: int = 0
    requests_per_minute: int = 0
    models: tuple[str, ...] = ()

    def allows(self, model: str) -> bool:
        return not self.models or model in self.models

    def status(self, now: int) -> str:
        if self.revoked is not None:
            return "revoked"
        return "expired" if self.expiry and now >= self.expiry else "active"

    def to_json(self, now: int) -> dict[str, Any]:
        """The record in JSON, the caps as decimal strings of VCU wei, with its status."""
        caps = {name: str(getattr(self, name)) for name in ("daily_cap", "monthly_cap", "lifetime_cap")}
        return {**asdict(self), **caps, "models": list(self.models), "status": self.status(now)}

    @classmethod
    def from_json(cls, data: Any) -> ApiKey:
        if not isinstance(data, dict):
            raise ApiKeyError(f"a key record must be a JSON object, got {data!r}")
        try:
            revoked, models = data["revoked"], data.get("models", [])
            if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
                raise ApiKeyError(f"a key record's models must be a list of model ids, got {models!r}")
            return cls(_address("account", data["account"]), _bytes32("key_hash", data["key_hash"]),
                       _label("label", data["label"]), _uint("daily_cap", data["daily_cap"]),
                       _uint("expiry", data["expiry"]), _uint("created", data["created"]),
                       None if revoked is None else _uint("revoked", revoked),
                       _uint("monthly_cap", data.get("monthly_cap", 0)),
                       _uint("lifetime_cap", data.get("lifetime_cap", 0)),
                       _uint("requests_per_minute", data.get("requests_per_minute", 0)),
                       model_list(_models("models", ",".join(models))))  # fmt: skip
        except KeyError as err:
            raise ApiKeyError(f"a key record has no {err.args[0]}") from None


# ------------------------------------------------------------------ field readers


def _address(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise ApiKeyError(f"{name} must be an address (0x and 40 hex digits), got {value!r}")
    return value.lower()


def _bytes32(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _BYTES32.fullmatch(value):
        raise ApiKeyError(f"{name} must be 0x and 64 hex digits, got {value!r}")
    return value.lower()


def _uint(name: str, value: Any) -> int:
    if isinstance(value, str) and value.isascii() and value.isdecimal() and len(value) <= 78:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_UINT256:
        raise ApiKeyError(f"{name} must be a whole number from 0 to 2**256-1 (or its decimal string), got {value!r}")
    return value


def _label(name: str, value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_LABEL or not value.isprintable():
        raise ApiKeyError(f"{name} must be printable text of 1 to {MAX_LABEL} characters, got {value!r}")
    return value


def _rate(name: str, value: Any) -> int:
    rate = _uint(name, value)
    if rate > MAX_RATE:
        raise ApiKeyError(f"{name} must be at most {MAX_RATE:,} (0: no limit), got {rate}")
    return rate


def _models(name: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_MODELS:
        raise ApiKeyError(f"{name} must be text of at most {MAX_MODELS} characters, got {value!r}")
    ids = value.split(",") if value else []
    bad = [m for m in ids if not _MODEL.fullmatch(m)]
    if bad:
        raise ApiKeyError(f"{name}: {bad[0]!r} is not a model id (model ids separated by commas, no spaces)")
    if len(set(ids)) != len(ids):
        raise ApiKeyError(f"{name} names a model twice: {value!r}")
    return value


def model_list(models: str) -> tuple[str, ...]:
    """The model ids of a key's `models` field ("": none, every model allowed)."""
    return tuple(models.split(",")) if models else ()


def check_models(models: str) -> str:
    """A key's model allow-list as the gateway accepts it (ids separated by commas)."""
    return _models("models", models)


def check_label(label: str) -> str:
    """A key's label as the gateway accepts it (printable, 1 to 64 characters)."""
    return _label("label", label)
