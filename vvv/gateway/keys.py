"""The gateway's API keys: `KeyStore` keeps them in two tables of the usage store's database
(`api_keys`: one row per key, its SHA-256 hash and never its secret; `api_key_nonces`: every
(account, nonce) a signed request used, so that each is accepted once), and `key_routes` serves
them over HTTP:

    GET  /v1/keys/domain   the EIP-712 domain requests must be signed for
    POST /v1/keys          {"message": CreateKey, "signature": "0x..."}  -> 201 {"key": record[, "warning"]}
    POST /v1/keys/list     {"message": ListKeys, "signature": "0x..."}   -> 200 {"account", "keys": [record, ...]}
    POST /v1/keys/revoke   {"message": RevokeKey, "signature": "0x..."}  -> 200 {"key": record}

(messages and records: `vvv.chain.apikeys`). A request is accepted when its signature recovers
to its `account` for this domain, now <= its deadline, and its nonce is new for the account; the
nonce is used only by a request that succeeds. Any account may hold keys: what a key spends
counts against its account's allotment (and its own caps, rate and models), which is the
gateway's job; a key made for an account with no stake has a `warning` saying its calls will
be refused. An older store's `api_keys` gains the later limits' columns when opened.

Errors are JSON `{"error": {"message": ONE LINE, "type": ..., "code": STATUS}}`: 400 malformed,
401 bad signature or past deadline, 404 unknown key, 409 nonce used or key exists or revoked
already, 413 body too large, 503 database unavailable; never a 500."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    MetaData,
    Select,
    String,
    Table,
    and_,
    bindparam,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from vvv.chain.apikeys import (
    MAX_LABEL,
    MAX_MODELS,
    ApiKey,
    ApiKeyError,
    CreateKey,
    Domain,
    ListKeys,
    R,
    RevokeKey,
    Signed,
    key_hash,
    model_list,
    parse_signed,
    signer_of,
)
from vvv.chain.bodies import BodyTooLarge as TooLarge
from vvv.chain.bodies import read_body
from vvv.oracle.usage import UsageError, UsageStore

MAX_BODY = 16_384  # bytes of a request body
MAX_TIME = 2**63 - 1  # the largest expiry a database column holds
MAX_SECRET = 256  # characters of a secret worth hashing
READ_CHUNK = 500  # keys read again per statement (`KeyStore.still_valid`)

metadata = MetaData()
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_hash", String(66), primary_key=True),  # 0x + SHA-256 of the secret, lower-case hex
    Column("account", String(42), nullable=False),  # lower-case 0x address
    Column("label", String(MAX_LABEL), nullable=False),
    Column("daily_cap_wei", String(80), nullable=False),  # VCU wei as a decimal string; "0": no cap
    Column("expiry", BigInteger, nullable=False),  # unix seconds; 0: never
    Column("created", BigInteger, nullable=False),
    Column("revoked", BigInteger, nullable=True),
    # added later (NULL in an older store's rows: no such limit)
    Column("monthly_cap_wei", String(80), nullable=True),  # VCU wei a UTC month; "0": no cap
    Column("lifetime_cap_wei", String(80), nullable=True),  # VCU wei in the key's life; "0": no cap
    Column("requests_per_minute", BigInteger, nullable=True),  # 0: no limit
    Column("models", String(MAX_MODELS), nullable=True),  # model ids separated by commas; "": every model
    Index("ix_api_keys_account", "account"),
)
NEW_COLUMNS = ("monthly_cap_wei", "lifetime_cap_wei", "requests_per_minute", "models")  # added to an older table
api_key_nonces = Table(
    "api_key_nonces",
    metadata,
    Column("account", String(42), primary_key=True),
    Column("nonce", String(80), primary_key=True),  # uint256 as a decimal string
    Column("request", String(16), nullable=False),  # CreateKey, ListKeys or RevokeKey
    Column("used", BigInteger, nullable=False),  # unix seconds
)


class KeysError(Exception):
    """Root of the key store's errors: `status` is the HTTP status it answers with, `kind` the
    error's type in the JSON body."""

    status = 400
    kind = "invalid_request_error"


class BadRequest(KeysError, ValueError):
    """A malformed body or message, or a value the gateway does not accept."""


class BadSignature(KeysError, PermissionError):
    """The signature is not the account's, or the request's deadline has passed."""

    status = 401
    kind = "authentication_error"


class KeyRefused(KeysError, LookupError):
    """`authenticate`: the secret is not a key's, or its key is revoked or expired."""

    status = 401
    kind = "authentication_error"


class ModelNotAllowed(KeysError, PermissionError):
    """The key's model allow-list does not name the request's model."""

    status = 403
    kind = "permission_error"


class UnknownKey(KeysError, LookupError):
    """The account has no key with that hash."""

    status = 404
    kind = "not_found_error"


class Conflict(KeysError):
    """The nonce was used already, the key exists already, or it is revoked already."""

    status = 409
    kind = "conflict_error"


class BodyTooLarge(KeysError, ValueError):
    status = 413


class StoreUnavailable(KeysError, RuntimeError):
    """The database failed (unreachable, locked for too long, not a database, ...)."""

    status = 503
    kind = "server_error"


def utc(timestamp: int) -> str:
    return datetime.fromtimestamp(min(timestamp, 253_402_300_799), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _one_line(err: BaseException) -> str:
    message = str(err.orig) if isinstance(err, DBAPIError) and err.orig is not None else str(err)
    return " ".join(message.split()) or type(err).__name__


class KeyStore:
    """The API keys of one domain (chain and staking contract), in the database of `engine`
    (the usage store's: `KeyStore(usage_store.engine, domain)`, or `KeyStore.open(url, domain)`).
    Its tables are created when missing. Safe to share between threads and processes: each
    request is one transaction, and the database's unique keys decide a race."""

    def __init__(self, engine: Engine, domain: Domain) -> None:
        self.engine = engine
        self.domain = domain
        with self._connection() as conn:
            missing = [t for t in metadata.sorted_tables if not inspect(conn).has_table(t.name)]
        if missing:
            try:
                with engine.begin() as conn:
                    metadata.create_all(conn, tables=missing)
            except SQLAlchemyError as err:  # another process created them at the same moment?
                with self._connection() as conn:
                    if not all(inspect(conn).has_table(t.name) for t in missing):
                        raise StoreUnavailable(f"key store: cannot create its tables ({_one_line(err)})") from None
        self._upgrade()

    def _upgrade(self) -> None:
        """Give an older store's `api_keys` the columns of the later limits (its keys have none)."""
        with self._connection() as conn:
            have = {c["name"] for c in inspect(conn).get_columns(api_keys.name)}
        for name in (n for n in NEW_COLUMNS if n not in have):
            try:
                with self.engine.begin() as conn:
                    kind = api_keys.c[name].type.compile(dialect=conn.dialect)
                    column = conn.dialect.identifier_preparer.quote(name)
                    conn.execute(text(f"ALTER TABLE {api_keys.name} ADD COLUMN {column} {kind}"))
            except SQLAlchemyError as err:  # another process added it at the same moment?
                with self._connection() as conn:
                    if name not in {c["name"] for c in inspect(conn).get_columns(api_keys.name)}:
                        raise StoreUnavailable(f"key store: cannot add column {name} ({_one_line(err)})") from None

    @classmethod
    def open(cls, url: str, domain: Domain, *, create: bool = False) -> KeyStore:
        """The key store in the usage store at `url` (created with `create`, as `UsageStore`)."""
        try:
            return cls(UsageStore(url, create=create).engine, domain)
        except UsageError as err:
            raise StoreUnavailable(str(err)) from None

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except KeysError:
            raise
        except (SQLAlchemyError, OSError) as err:
            raise StoreUnavailable(f"key store: {_one_line(err)}") from None

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self._connection() as conn, conn.begin():
            yield conn

    # -------------------------------------------------------------- signed requests

    def _check(self, signed: Signed[R], now: int) -> R:
        request = signed.request
        try:
            signer = signer_of(signed, self.domain)
        except ApiKeyError as err:
            raise BadSignature(str(err)) from None
        if signer != request.account:
            raise BadSignature(f"the {request.PRIMARY} request is not signed by {request.account} for chain "
                               f"{self.domain.chain_id} and contract {self.domain.verifying_contract}")  # fmt: skip
        if now > request.deadline:
            raise BadSignature(f"the {request.PRIMARY} request's deadline {utc(request.deadline)} has passed")
        return request

    @staticmethod
    def _use_nonce(conn: Connection, request: CreateKey | ListKeys | RevokeKey, now: int) -> None:
        row = {"account": request.account, "nonce": str(request.nonce), "request": request.PRIMARY, "used": now}
        try:
            conn.execute(insert(api_key_nonces), row)
        except IntegrityError:
            raise Conflict(f"nonce {request.nonce} of {request.account} was used already") from None

    def create(self, signed: Signed[CreateKey], now: int) -> ApiKey:
        """Store the key of a signed CreateKey request; its record."""
        request = self._check(signed, now)
        if request.expiry != 0 and not now < request.expiry <= MAX_TIME:
            raise BadRequest(f"expiry {request.expiry} must be 0 (never) or a unix time after now ({now}) "
                             f"and at most {MAX_TIME}")  # fmt: skip
        if max(request.daily_cap, request.monthly_cap, request.lifetime_cap) >= 2**255:
            raise BadRequest("a cap must be below 2**255 VCU wei (0: no cap)")
        key = ApiKey(request.account, request.key_hash, request.label, request.daily_cap, request.expiry, now, None,
                     request.monthly_cap, request.lifetime_cap, request.requests_per_minute,
                     model_list(request.models))  # fmt: skip
        with self._transaction() as conn:
            self._use_nonce(conn, request, now)
            try:
                conn.execute(insert(api_keys), _row(key))
            except IntegrityError:
                raise Conflict(f"a key with hash {request.key_hash} exists already") from None
        return key

    def list(self, signed: Signed[ListKeys], now: int) -> list[ApiKey]:
        """Every key of the request's account (revoked and expired ones too), oldest first."""
        request = self._check(signed, now)
        with self._transaction() as conn:
            self._use_nonce(conn, request, now)
            rows = conn.execute(
                select(api_keys).where(api_keys.c.account == request.account)
                .order_by(api_keys.c.created, api_keys.c.key_hash)
            ).all()  # fmt: skip
        return [_key(row) for row in rows]

    def revoke(self, signed: Signed[RevokeKey], now: int) -> ApiKey:
        """Revoke the request's key from `now` on, for good; its record."""
        request = self._check(signed, now)
        own = and_(api_keys.c.key_hash == request.key_hash, api_keys.c.account == request.account)
        with self._transaction() as conn:
            self._use_nonce(conn, request, now)
            done = conn.execute(update(api_keys).where(own, api_keys.c.revoked.is_(None)).values(revoked=now))
            row = conn.execute(select(api_keys).where(own)).first()
            if row is None:
                raise UnknownKey(f"{request.account} has no key {request.key_hash}")
            if done.rowcount != 1:
                raise Conflict(f"key {request.key_hash} was revoked already, at {utc(int(row.revoked))}")
        return _key(row)

    # -------------------------------------------------------------- the gateway's check

    def authenticate(self, secret: str, now: int) -> ApiKey:
        """The key whose secret this is, if it may be used at `now`; else `KeyRefused` (unknown,
        revoked or expired key). Its `key_hash` names the key for the gateway's reservations."""
        if not isinstance(secret, str) or not 0 < len(secret) <= MAX_SECRET:
            raise KeyRefused("unknown API key")
        with self._connection() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_hash == key_hash(secret))).first()
        if row is None:
            raise KeyRefused("unknown API key")
        key = _key(row)
        if key.revoked is not None:
            raise KeyRefused(f"API key {key.key_hash[:10]}... was revoked at {utc(key.revoked)}")
        if key.status(now) == "expired":
            raise KeyRefused(f"API key {key.key_hash[:10]}... expired at {utc(key.expiry)}")
        return key

    def still_valid(self, secrets: Iterable[str], now: int) -> set[str]:
        """Of `secrets`, those whose key may still be used at `now` (known, not revoked, not
        expired), read in one statement per `READ_CHUNK` secrets: how a gateway process reads
        again, at once, every key it served lately."""
        wanted = {key_hash(secret): secret for secret in secrets if isinstance(secret, str)
                  and 0 < len(secret) <= MAX_SECRET}  # fmt: skip
        valid: set[str] = set()
        hashes = list(wanted)
        with self._connection() as conn:
            for start in range(0, len(hashes), READ_CHUNK):
                rows = conn.execute(_still_valid(), {"hashes": hashes[start : start + READ_CHUNK]}).all()
                valid.update(wanted[row.key_hash] for row in rows if _key(row).status(now) == "active")
        return valid


@cache
def _still_valid() -> Select:
    """The keys whose hashes are bound as the list `hashes`."""
    return select(api_keys).where(api_keys.c.key_hash.in_(bindparam("hashes", expanding=True)))


def bearer_secret(authorization: str | None) -> str:
    """The secret of an `Authorization: Bearer SECRET` header (what OpenAI's clients send);
    `KeyRefused` when there is none."""
    scheme, _, secret = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise KeyRefused("no API key: send the header 'Authorization: Bearer <your API key>'")
    return secret.strip()


def _row(key: ApiKey) -> dict[str, Any]:
    return {"key_hash": key.key_hash, "account": key.account, "label": key.label,
            "daily_cap_wei": str(key.daily_cap), "expiry": key.expiry, "created": key.created,
            "revoked": key.revoked, "monthly_cap_wei": str(key.monthly_cap), "lifetime_cap_wei": str(key.lifetime_cap),
            "requests_per_minute": key.requests_per_minute, "models": ",".join(key.models)}  # fmt: skip


def _key(row: Any) -> ApiKey:
    return ApiKey(row.account, row.key_hash, row.label, int(row.daily_cap_wei), int(row.expiry), int(row.created),
                  None if row.revoked is None else int(row.revoked), int(row.monthly_cap_wei or 0),
                  int(row.lifetime_cap_wei or 0), int(row.requests_per_minute or 0),
                  model_list(row.models or ""))  # fmt: skip


# ------------------------------------------------------------------ HTTP


def error_response(err: KeysError) -> JSONResponse:
    return JSONResponse({"error": {"message": str(err), "type": err.kind, "code": err.status}}, status_code=err.status)


async def _signed_body(request: Request, kind: type[R]) -> Signed[R]:
    try:
        body = await read_body(request, MAX_BODY)
    except TooLarge as err:
        raise BodyTooLarge(str(err)) from None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise BadRequest("the body is not JSON") from None
    try:
        return parse_signed(kind, data)
    except ApiKeyError as err:
        raise BadRequest(str(err)) from None


def no_stake_warning(account: str) -> str:
    """What the 201 of a key for an account with no stake says."""
    return (
        f"{account} has no stake: this key's calls will be refused (402) until the account stakes VVV; "
        "its allotment starts the day after its first call with a stake"
    )


def key_routes(store: KeyStore, clock: Callable[[], float] = time.time,
               stake_of: Callable[[str], int] | None = None) -> list[Route]:  # fmt: skip
    """The routes of the keys (see the module's text), to mount in the gateway's app. `clock`
    gives the time requests and keys are checked at; with `stake_of` (an account's stake now),
    a key created for an account with no stake is created with a `warning` saying why its calls
    will be refused."""

    def answer(kind: type[R], action: Callable[[Signed[R], int], dict[str, Any]], status: int) -> Callable:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                signed = await _signed_body(request, kind)
                return JSONResponse(await run_in_threadpool(action, signed, int(clock())), status_code=status)
            except KeysError as err:
                return error_response(err)

        return endpoint

    def create(signed: Signed[CreateKey], now: int) -> dict[str, Any]:
        key = store.create(signed, now)
        if stake_of is not None:
            try:
                staked = stake_of(key.account) > 0
            except Exception as err:  # the key is made: a chain that does not answer only loses the warning
                return {"key": key.to_json(now), "warning": f"could not read {key.account}'s stake ({_one_line(err)})"}
            if not staked:
                return {"key": key.to_json(now), "warning": no_stake_warning(key.account)}
        return {"key": key.to_json(now)}

    def list_keys(signed: Signed[ListKeys], now: int) -> dict[str, Any]:
        return {"account": signed.request.account, "keys": [k.to_json(now) for k in store.list(signed, now)]}

    def revoke(signed: Signed[RevokeKey], now: int) -> dict[str, Any]:
        return {"key": store.revoke(signed, now).to_json(now)}

    async def domain(_request: Request) -> JSONResponse:
        return JSONResponse(store.domain.to_json())

    return [
        Route("/v1/keys/domain", domain, methods=["GET"]),
        Route("/v1/keys", answer(CreateKey, create, 201), methods=["POST"]),
        Route("/v1/keys/list", answer(ListKeys, list_keys, 200), methods=["POST"]),
        Route("/v1/keys/revoke", answer(RevokeKey, revoke, 200), methods=["POST"]),
    ]
