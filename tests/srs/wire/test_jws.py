"""The lean JWS reader: interoperable with PyJWT both ways, stricter than it on spelling."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from srs.wire import Reason, WireError, jws

KEY = Ed25519PrivateKey.generate()
CLAIMS = {"iss": "camera:a", "data": {"n": 1}}


def b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def reason_of(token: bytes) -> Reason:
    with pytest.raises(WireError) as info:
        jws.verify(token, KEY.public_key())
    assert info.value.message
    return info.value.reason


def forged(header: dict[str, object], claims: bytes = b'{"n":1}') -> bytes:
    """A token with ``header`` and a valid EdDSA signature over it."""
    signing_input = b64(json.dumps(header).encode()) + b"." + b64(claims)
    return signing_input + b"." + b64(KEY.sign(signing_input))


def test_pyjwt_tokens_verify_here() -> None:
    token = jwt.encode(CLAIMS, KEY, algorithm="EdDSA").encode()
    assert json.loads(jws.verify(token, KEY.public_key())) == CLAIMS


def test_our_tokens_verify_with_pyjwt() -> None:
    token = jws.encode(json.dumps(CLAIMS).encode(), KEY)
    assert jwt.decode(token, KEY.public_key(), algorithms=["EdDSA"]) == CLAIMS


@pytest.mark.parametrize("header", [{"alg": "none"}, {"alg": "HS256"}, {"alg": "eddsa"}, {}])
def test_only_eddsa_is_accepted(header: dict[str, object]) -> None:
    assert reason_of(forged(header)) is Reason.BAD_ALGORITHM


@pytest.mark.parametrize(
    "extra",
    [
        {"b64": False},
        {"crit": ["b64"]},
        {"kid": "other"},
        {"jwk": {"kty": "OKP"}},
        {"typ": "JOSE+JSON"},
    ],
)
def test_header_parameters_beyond_alg_and_typ_are_refused(extra: dict[str, object]) -> None:
    assert reason_of(forged({"alg": "EdDSA", **extra})) is Reason.MALFORMED


def test_a_valid_signature_over_our_own_header_passes() -> None:
    assert jws.verify(forged({"alg": "EdDSA", "typ": "JWT"}), KEY.public_key()) == b'{"n":1}'


def test_wrong_key_is_a_bad_signature() -> None:
    token = jws.encode(b'{"n":1}', Ed25519PrivateKey.generate())
    assert reason_of(token) is Reason.BAD_SIGNATURE


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + b"==",  # padding
        lambda t: t.replace(b".", b".!", 1),  # outside the alphabet
        lambda t: t.replace(b".", b". ", 1),  # whitespace is not skipped
        lambda t: t.replace(b"-", b"+").replace(b"_", b"/") if b"-" in t or b"_" in t else t + b"+",
        lambda t: t + b".x",  # four segments
        lambda t: t.rsplit(b".", 1)[0],  # two segments
    ],
)
def test_spelling_variants_are_malformed(mangle) -> None:
    token = jws.encode(b'{"n":1}', KEY)
    assert reason_of(mangle(token)) in (Reason.MALFORMED, Reason.BAD_SIGNATURE)


def test_non_canonical_base64_of_the_signature_is_refused() -> None:
    token = jws.encode(b'{"n":1}', KEY)
    head, body, sig = token.split(b".")
    # 64 bytes -> 86 characters whose last one carries 2 unused bits: set one of them.
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1:])
    twin = sig[:-1] + alphabet[last ^ 1 : (last ^ 1) + 1]
    assert base64.urlsafe_b64decode(twin + b"==") == base64.urlsafe_b64decode(sig + b"==")
    assert reason_of(b".".join((head, body, twin))) is Reason.MALFORMED


@pytest.mark.parametrize("length", [0, 63, 65])
def test_a_signature_of_the_wrong_length_is_a_bad_signature(length: int) -> None:
    head, body, sig = jws.encode(b'{"n":1}', KEY).split(b".")
    raw = base64.urlsafe_b64decode(sig + b"==")
    wrong = (raw * 2)[:length]
    assert reason_of(b".".join((head, body, b64(wrong)))) is Reason.BAD_SIGNATURE


def test_a_malleated_signature_is_refused() -> None:
    # S + L (the group order) verifies under a lax check; RFC 8032 and libsodium refuse it.
    head, body, sig = jws.encode(b'{"n":1}', KEY).split(b".")
    raw = base64.urlsafe_b64decode(sig + b"==")
    order = 2**252 + 27742317777372353535851937790883648493
    s_value = int.from_bytes(raw[32:], "little") + order  # < 2**253: fits in 32 bytes
    twin = raw[:32] + s_value.to_bytes(32, "little")
    assert reason_of(b".".join((head, body, b64(twin)))) is Reason.BAD_SIGNATURE
