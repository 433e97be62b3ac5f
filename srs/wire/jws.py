"""Compact JWS (RFC 7515) with EdDSA (Ed25519) only, written and read on a lean strict path.

Why not ``jwt.encode`` / ``jwt.decode`` on the hot path: PyJWT checks every base64url segment
with a per-character Python loop and parses the claims with ``json`` before the caller
validates them again. Measured on the 2-core dev machine: verifying a 1.9 KB detection
message cost 0.57 ms and a 14 KB one (ten faces) 1.74 ms, against 0.07 / 0.21 ms for
the Ed25519 check itself — at 500 detections/s that was the largest single cost of
core; writing a token through PyJWS added ~25 µs of JSON and dict work around a ~50 µs
signature, twelve times per ten-face message. This module makes the same checks with
C-speed primitives.

The Ed25519 operations themselves run in libsodium (PyNaCl), while keys are still
``cryptography`` objects everywhere else (PEM files, the wire's base64url keys). On the
dev machine OpenSSL's verify, through ``cryptography``, took 140-180 µs and libsodium's
77 µs; signing took 46 and 35 µs. Verify is the largest single cost of core's ingest.
libsodium is also the stricter verifier: it refuses non-canonical signatures and
small-order keys.

The token rules:

- exactly three segments of unpadded base64url (url-safe alphabet only); header and
  signature must also be canonical (re-encode to themselves), the payload's spelling
  is fixed by the signature over it;
- a protected header of exactly ``alg`` = "EdDSA" and an optional ``typ`` = "JWT":
  any other algorithm (none, HS256 with a public key as secret...) or parameter
  (``b64``, ``crit``, ``jwk``, ``kid``...) is refused — deny by default;
- the signature is checked before the payload is decoded or parsed.

Tokens stay standard: the tests verify PyJWT's tokens here and ours with PyJWT. The one
unverified read of a token's claims (srs/wire/reading.py) also goes through here.
"""

from __future__ import annotations

import binascii
import json
from functools import lru_cache

import nacl.bindings
import nacl.exceptions
import pybase64
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from srs.wire.errors import Reason, WireError

ALGORITHM = "EdDSA"
# The base64url alphabet; deleting it from a segment must leave nothing. (A regex did the
# same check at a fifth of the speed: 60 µs for a ten-face message.)
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_HEADER_KEYS = frozenset({"alg", "typ"})
# The header every SRS token carries, as PyJWT writes it for EdDSA; encoded once.
_HEADER = pybase64.urlsafe_b64encode(b'{"alg":"EdDSA","typ":"JWT"}').rstrip(b"=")
_SIGNATURE_BYTES = 64


@lru_cache(maxsize=32)
def _sodium_secret(key: Ed25519PrivateKey) -> bytes:
    # libsodium's 64-byte secret key (seed + public key); deriving it costs a scalar
    # multiplication, so once per key. A process holds one or two private keys.
    return nacl.bindings.crypto_sign_seed_keypair(key.private_bytes_raw())[1]


def encode(payload: bytes, key: Ed25519PrivateKey) -> bytes:
    """Sign ``payload`` (the claims as JSON bytes) into a compact JWS."""
    signing_input = _HEADER + b"." + pybase64.urlsafe_b64encode(payload).rstrip(b"=")
    signed = nacl.bindings.crypto_sign(signing_input, _sodium_secret(key))
    signature = signed[:_SIGNATURE_BYTES]
    return signing_input + b"." + pybase64.urlsafe_b64encode(signature).rstrip(b"=")


def _segment(seg: bytes, name: str, *, canonical: bool = True) -> bytes:
    # pybase64 (SIMD) decodes a ten-face message's 19 KB in ~7 µs, the standard
    # library in ~130 µs. It also takes "+" and "/": the alphabet check stays ours.
    if len(seg) % 4 == 1 or seg.translate(None, _ALPHABET):
        raise WireError(Reason.MALFORMED, f"token {name} is not unpadded base64url")
    try:
        raw = pybase64.b64decode(seg + b"=" * (-len(seg) % 4), altchars=b"-_", validate=True)
    except binascii.Error:
        raise WireError(Reason.MALFORMED, f"token {name} is not base64url") from None
    if canonical and pybase64.urlsafe_b64encode(raw).rstrip(b"=") != seg:
        raise WireError(Reason.MALFORMED, f"token {name} is not canonical base64url")
    return raw


def header_of(token: bytes) -> dict[str, object]:
    """The token's protected header, unverified; MALFORMED unless it is a JSON object."""
    head = token.split(b".", 1)[0]
    try:
        header = json.loads(_segment(head, "header"))
    except (ValueError, RecursionError):
        raise WireError(Reason.MALFORMED, "token header is not JSON") from None
    if not isinstance(header, dict):
        raise WireError(Reason.MALFORMED, "token header is not a JSON object")
    return header


def _parts(token: bytes) -> list[bytes]:
    """The three segments of a token whose header SRS accepts; else WireError."""
    parts = token.split(b".")
    if len(parts) != 3:
        raise WireError(
            Reason.MALFORMED,
            f"not a compact JWS (expected three dot-separated parts, got {len(parts)})",
        )
    if parts[0] != _HEADER:  # every SRS token carries the same header: parse only others
        _check_header(header_of(token))
    return parts


def unverified_payload(token: bytes) -> bytes:
    """The payload bytes of ``token`` WITHOUT checking its signature: not to be believed.

    Only for srs.wire.reading.unverified_data (choosing the key to verify with).
    """
    return _segment(_parts(token)[1], "payload", canonical=False)


def verify(token: bytes, key: Ed25519PublicKey, signer: str = "the sender") -> bytes:
    """The signed payload bytes of ``token`` if ``key`` signed it with EdDSA; else WireError."""
    head, body, sig = _parts(token)
    signature = _segment(sig, "signature")
    if len(signature) != _SIGNATURE_BYTES:
        raise WireError(
            Reason.BAD_SIGNATURE,
            f"signature is {len(signature)} bytes, not the {_SIGNATURE_BYTES} of Ed25519",
        )
    try:
        nacl.bindings.crypto_sign_open(
            signature + token[: len(head) + 1 + len(body)], key.public_bytes_raw()
        )
    except nacl.exceptions.BadSignatureError:
        raise WireError(
            Reason.BAD_SIGNATURE, f"signature does not match the key of {signer}"
        ) from None
    # The signature covers these exact characters, so only the signer could have
    # chosen another spelling of the same bytes: no canonical re-encoding needed.
    return _segment(body, "payload", canonical=False)


def _check_header(header: dict[str, object]) -> None:
    if header.get("alg") != ALGORITHM:
        raise WireError(
            Reason.BAD_ALGORITHM, f"algorithm {header.get('alg')!r} is refused; only {ALGORITHM}"
        )
    extra = set(header) - _HEADER_KEYS
    if extra or header.get("typ", "JWT") != "JWT":
        raise WireError(
            Reason.MALFORMED,
            f"token header carries parameters SRS does not accept: {sorted(extra) or ['typ']}",
        )
