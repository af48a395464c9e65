"""API keys: the EIP-712 requests against a digest built by hand from the EIP-712 rules, and the
key store on SQLite and Postgres: create, authenticate, list, revoke; a wrong signer, tampered
fields, replayed nonces, past deadlines, expired and revoked keys; every refusal leaves the store
as it was. These tests touch no chain: they run once per `make test` (in its anvil pass)."""

import itertools

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from tests.cli_runner import once_per_suite_run
from tests.gateway.keys_support import ALICE, BOB, DOMAIN, NOW, chainless_store
from vvv.chain.apikeys import (
    ApiKey,
    CreateKey,
    Domain,
    ListKeys,
    RevokeKey,
    Signed,
    digest,
    key_hash,
    new_secret,
    sign,
    signer_of,
    typed_data,
)
from vvv.gateway.keys import BadRequest, BadSignature, Conflict, KeyRefused, KeyStore, UnknownKey, bearer_secret

CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"  # DOMAIN's
A, B = ALICE.address.lower(), BOB.address.lower()


@pytest.fixture
def store(usage_url):
    return chainless_store(usage_url)


DAY = 86_400
E18 = 10**18
SECRET = "vvv_alice-agent-secret"
SECRET_HASH = key_hash(SECRET)


def create(who=ALICE, *, account=None, label="agent 7", cap=5 * E18, expiry=NOW + DAY, nonce=1, hash_=SECRET_HASH,
           deadline=NOW + 600, domain=DOMAIN):  # fmt: skip
    request = CreateKey(account or who.address.lower(), label, cap, expiry, nonce, hash_, deadline)
    return sign(who, request, domain)


def forged(who, request):
    """`request` signed by `who` whatever account it names (`sign` refuses to do that)."""
    message = encode_typed_data(full_message=typed_data(request, DOMAIN))
    return Signed(request, bytes(Account.sign_message(message, who.key).signature))


def listing(who=ALICE, nonce=2, deadline=NOW + 600):
    return sign(who, ListKeys(who.address.lower(), nonce, deadline), DOMAIN)


def revoking(who=ALICE, hash_=SECRET_HASH, nonce=3, deadline=NOW + 600):
    return sign(who, RevokeKey(who.address.lower(), hash_, nonce, deadline), DOMAIN)


FRESH_NONCES = itertools.count(1_000)


def keys_of(store, who=ALICE):
    """The keys of `who`, listed with a nonce of its own."""
    return store.list(listing(who, next(FRESH_NONCES)), NOW)


# ------------------------------------------------------------------ the messages, by hand


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def address_word(address: str) -> bytes:
    return bytes.fromhex(address[2:]).rjust(32, b"\0")


SEPARATOR = keccak(
    keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    + keccak(text="VVV API Keys") + keccak(text="1") + word(31337) + address_word(CONTRACT)
)  # fmt: skip
K = bytes.fromhex("ab" * 32)


@pytest.mark.parametrize(
    ("request_", "encoded"),
    [
        (
            CreateKey(A, "agent 7", 5 * E18, NOW + DAY, 7, "0x" + K.hex(), NOW + 600),
            keccak(text="CreateKey(address account,string label,uint256 dailyCap,uint256 monthlyCap,"
                        "uint256 lifetimeCap,uint256 requestsPerMinute,string models,uint256 expiry,uint256 nonce,"
                        "bytes32 keyHash,uint256 deadline)")
            + address_word(A) + keccak(text="agent 7") + word(5 * E18) + word(0) + word(0) + word(0) + keccak(b"")
            + word(NOW + DAY) + word(7) + K + word(NOW + 600),
        ),
        (
            CreateKey(A, "agent 7", 5 * E18, NOW + DAY, 7, "0x" + K.hex(), NOW + 600, 90 * E18, 1_000 * E18, 30,
                      "small-chat,painter"),
            keccak(text="CreateKey(address account,string label,uint256 dailyCap,uint256 monthlyCap,"
                        "uint256 lifetimeCap,uint256 requestsPerMinute,string models,uint256 expiry,uint256 nonce,"
                        "bytes32 keyHash,uint256 deadline)")
            + address_word(A) + keccak(text="agent 7") + word(5 * E18) + word(90 * E18) + word(1_000 * E18)
            + word(30) + keccak(text="small-chat,painter") + word(NOW + DAY) + word(7) + K + word(NOW + 600),
        ),
        (
            ListKeys(A, 8, NOW + 600),
            keccak(text="ListKeys(address account,uint256 nonce,uint256 deadline)")
            + address_word(A) + word(8) + word(NOW + 600),
        ),
        (
            RevokeKey(A, "0x" + K.hex(), 9, NOW + 600),
            keccak(text="RevokeKey(address account,bytes32 keyHash,uint256 nonce,uint256 deadline)")
            + address_word(A) + K + word(9) + word(NOW + 600),
        ),
    ],
)  # fmt: skip
def test_requests_are_eip712_as_written_by_hand(request_, encoded):
    once_per_suite_run()
    """digest = keccak(0x1901 || domain separator || keccak(typeHash || encoded fields)); the
    signature is alice's over that digest (RFC 6979: the same bytes), and recovers to her."""
    expected = keccak(b"\x19\x01" + SEPARATOR + keccak(encoded))
    assert digest(request_, DOMAIN) == expected
    signed = sign(ALICE, request_, DOMAIN)
    assert signed.signature == bytes(Account.unsafe_sign_hash(expected, ALICE.key).signature)
    assert signer_of(signed, DOMAIN) == "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"
    # the same signature on another chain, or for another contract, is someone else's
    assert signer_of(signed, Domain(1337, CONTRACT)) != A
    assert signer_of(signed, Domain(31337, "0x" + "00" * 19 + "01")) != A


def test_key_hash_is_sha256_of_the_secret():
    once_per_suite_run()
    assert key_hash("abc") == "0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2
    first, second = new_secret(), new_secret()
    assert first != second
    for secret in (first, second):
        assert len(secret) == 47 and secret.startswith("vvv_")
        assert set(secret[4:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


# ------------------------------------------------------------------ the store


def test_create_authenticate_list_revoke(store):
    key = store.create(create(), NOW)
    expected = ApiKey(A, SECRET_HASH, "agent 7", 5 * E18, NOW + DAY, NOW, None)
    assert key == expected
    assert store.authenticate(SECRET, NOW + 1) == expected
    assert keys_of(store) == [expected]
    assert keys_of(store, BOB) == []  # bob sees none of alice's keys

    revoked = store.revoke(revoking(), NOW + 10)
    assert revoked == ApiKey(A, SECRET_HASH, "agent 7", 5 * E18, NOW + DAY, NOW, NOW + 10)
    with pytest.raises(KeyRefused, match=r"^API key 0x[0-9a-f]{8}\.\.\. was revoked at 2030-03-17 17:46:50 UTC$"):
        store.authenticate(SECRET, NOW + 11)
    assert keys_of(store)[0].status(NOW + 11) == "revoked"
    assert revoked.to_json(NOW + 11) == {
        "account": A, "key_hash": SECRET_HASH, "label": "agent 7", "daily_cap": "5000000000000000000",
        "expiry": NOW + DAY, "created": NOW, "revoked": NOW + 10, "monthly_cap": "0", "lifetime_cap": "0",
        "requests_per_minute": 0, "models": [], "status": "revoked",
    }  # fmt: skip


def test_a_key_without_cap_or_expiry_never_expires(store):
    store.create(create(cap=0, expiry=0), NOW)
    assert store.authenticate(SECRET, 2**62) == ApiKey(A, SECRET_HASH, "agent 7", 0, 0, NOW, None)


def test_an_expired_key_is_refused_from_its_expiry_on(store):
    store.create(create(expiry=NOW + 100), NOW)
    assert store.authenticate(SECRET, NOW + 99).key_hash == SECRET_HASH
    with pytest.raises(KeyRefused, match=r"^API key 0x[0-9a-f]{8}\.\.\. expired at 2030-03-17 17:48:20 UTC$"):
        store.authenticate(SECRET, NOW + 100)
    assert [k.status(NOW + 100) for k in keys_of(store)] == ["expired"]


def test_unknown_secrets_are_refused(store):
    store.create(create(), NOW)
    for secret in ("vvv_alice-agent-secreT", "", "x" * 10_000, None):
        with pytest.raises(KeyRefused, match="^unknown API key$"):
            store.authenticate(secret, NOW)


def test_a_request_signed_by_another_account_is_refused_and_uses_nothing(store):
    with pytest.raises(BadSignature, match=f"^the CreateKey request is not signed by {A} for chain 31337 and contract"):
        store.create(forged(BOB, create().request), NOW)  # bob signs a request for alice's account
    assert keys_of(store) == []
    assert store.create(create(), NOW).key_hash == SECRET_HASH  # alice's nonce 1 is still unused
    for request, action in ((listing().request, store.list), (revoking().request, store.revoke)):
        with pytest.raises(BadSignature, match="is not signed by"):
            action(forged(BOB, request), NOW)
    assert store.authenticate(SECRET, NOW).revoked is None


@pytest.mark.parametrize(
    "change",
    [{"account": B}, {"label": "agent 8"}, {"daily_cap": 5 * E18 + 1}, {"expiry": NOW + 2 * DAY}, {"nonce": 2},
     {"key_hash": key_hash("vvv_other")}, {"deadline": NOW + 601}],
)  # fmt: skip
def test_tampered_fields_break_the_signature(store, change):
    signed = create()
    tampered = Signed(CreateKey(**{**vars(signed.request), **change}), signed.signature)
    with pytest.raises(BadSignature, match="is not signed by"):
        store.create(tampered, NOW)
    assert keys_of(store) == [] and keys_of(store, BOB) == []


def test_a_request_for_another_domain_is_refused(store):
    with pytest.raises(BadSignature, match="is not signed by"):
        store.create(create(domain=Domain(1337, CONTRACT)), NOW)
    assert keys_of(store) == []


def test_each_nonce_is_accepted_once(store):
    signed = create()
    store.create(signed, NOW)
    with pytest.raises(Conflict, match=f"^nonce 1 of {A} was used already$"):
        store.create(signed, NOW + 1)  # replayed
    with pytest.raises(Conflict, match=f"^nonce 1 of {A} was used already$"):
        store.create(create(hash_=key_hash("vvv_second"), label="second"), NOW + 1)  # a new key, an old nonce
    with pytest.raises(Conflict, match=f"^nonce 1 of {A} was used already$"):
        store.list(listing(nonce=1), NOW + 1)  # nonces are shared by the three requests
    listed = listing(nonce=2)
    assert len(store.list(listed, NOW + 1)) == 1
    with pytest.raises(Conflict, match=f"^nonce 2 of {A} was used already$"):
        store.list(listed, NOW + 2)  # a list request cannot be replayed either
    assert store.create(create(BOB, nonce=1, hash_=key_hash("vvv_bob")), NOW).account == B  # bob's own nonce 1
    assert [k.label for k in keys_of(store)] == ["agent 7"]


def test_a_request_is_valid_up_to_its_deadline(store):
    with pytest.raises(BadSignature, match="^the CreateKey request's deadline 2030-03-17 17:56:40 UTC has passed$"):
        store.create(create(), NOW + 601)
    with pytest.raises(BadSignature, match="^the ListKeys request's deadline"):
        store.list(listing(), NOW + 601)
    assert store.create(create(), NOW + 600).created == NOW + 600


def test_create_refuses_a_past_expiry_and_a_hash_that_exists(store):
    for expiry in (NOW, NOW - 1, 2**63):
        with pytest.raises(BadRequest, match=f"^expiry {expiry} must be 0 \\(never\\) or a unix time after now"):
            store.create(create(expiry=expiry), NOW)
    store.create(create(), NOW)
    with pytest.raises(Conflict, match=f"^a key with hash {SECRET_HASH} exists already$"):
        store.create(create(BOB, nonce=5), NOW)  # bob cannot take over alice's key by its hash
    assert keys_of(store, BOB) == []
    assert store.list(listing(BOB, nonce=5), NOW) == []  # and his nonce 5 was not used


def test_revoke_needs_the_accounts_own_live_key(store):
    store.create(create(), NOW)
    with pytest.raises(UnknownKey, match=f"^{B} has no key {SECRET_HASH}$"):
        store.revoke(revoking(BOB, nonce=3), NOW)  # alice's key, bob's request
    with pytest.raises(UnknownKey, match=f"^{A} has no key 0x{'00' * 32}$"):
        store.revoke(revoking(hash_="0x" + "00" * 32, nonce=3), NOW)
    assert store.revoke(revoking(nonce=3), NOW + 5).revoked == NOW + 5  # nonce 3 was left unused
    with pytest.raises(Conflict, match=f"^key {SECRET_HASH} was revoked already, at 2030-03-17 17:46:45 UTC$"):
        store.revoke(revoking(nonce=4), NOW + 6)
    assert store.list(listing(nonce=4), NOW + 6)[0].revoked == NOW + 5  # the refused revoke used no nonce


def test_two_stores_on_one_database_see_the_same_keys(usage_url):
    once_per_suite_run()
    """Tables are created once (the second store finds them); keys and nonces are shared."""
    first = KeyStore.open(usage_url, DOMAIN, create=True)
    second = KeyStore.open(usage_url, DOMAIN)
    first.create(create(), NOW)
    assert second.authenticate(SECRET, NOW).label == "agent 7"
    with pytest.raises(Conflict, match="was used already"):
        second.create(create(), NOW)


def test_the_secret_comes_from_a_bearer_header():
    once_per_suite_run()
    assert bearer_secret("Bearer vvv_abc") == bearer_secret("bearer  vvv_abc ") == "vvv_abc"
    for header in (None, "", "Bearer", "Bearer  ", "Basic dXNlcjpwYXNz", "vvv_abc"):
        with pytest.raises(KeyRefused, match="^no API key: send the header 'Authorization: Bearer <your API key>'$"):
            bearer_secret(header)
