"""Signing and verification of payloads as compact JWS (EdDSA / Ed25519).

Rules (deny by default):
- the only accepted algorithm is EdDSA, whatever the token header says;
- the key comes from the sender id implied by the *topic*, never from the token;
- ``iss`` must equal that sender, ``aud`` the deployment's audience, ``topic`` the
  topic the message arrived on;
- on fresh streams ``iat`` must lie within the clock skew of now, ``exp`` must not
  have passed and each ``jti`` is accepted once; retained state (delivered late by
  design) only has to be signed, addressed, and not from the future.
Every failure raises :class:`WireError` with a reason code and a sentence.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Generic, TypeVar

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ValidationError

from srs.wire import topics

ALGORITHM = "EdDSA"
DEFAULT_AUDIENCE = "srs"
DEFAULT_MAX_BYTES = 64 * 1024
DEFAULT_CLOCK_SKEW_S = 30.0
DEFAULT_MAX_AGE_S = 120.0

P = TypeVar("P", bound=BaseModel)


class Reason(StrEnum):
    OVERSIZE = "oversize"
    MALFORMED = "malformed"
    BAD_TOPIC = "bad_topic"
    BAD_ALGORITHM = "bad_algorithm"
    UNKNOWN_SENDER = "unknown_sender"
    BAD_SIGNATURE = "bad_signature"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    WRONG_TOPIC = "wrong_topic"
    EXPIRED = "expired"
    FUTURE = "future"
    REPLAYED = "replayed"
    INVALID_PAYLOAD = "invalid_payload"


class WireError(Exception):
    """A message that is not accepted, with a machine reason and a human sentence."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} [{self.reason.value}]"


# --- keys ----------------------------------------------------------------------

def public_key_to_b64(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            "not an Ed25519 public key: expected 32 bytes as base64url (43 characters)"
        ) from exc


@dataclass(frozen=True)
class SigningKey:
    """A sender's identity: its issuer id and private key (never printed)."""

    issuer: str
    private_key: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls, issuer: str) -> SigningKey:
        return cls(issuer, Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_key_b64(self) -> str:
        return public_key_to_b64(self.public_key)

    def save(self, path: Path) -> None:
        """Write the private key as PEM (mode 0600) and ``<path>.pub`` beside it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.touch(mode=0o600)
        tmp.write_bytes(pem)
        tmp.replace(path)
        path.with_suffix(path.suffix + ".pub").write_text(self.public_key_b64 + "\n")

    @classmethod
    def load(cls, issuer: str, path: Path) -> SigningKey:
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            raise FileNotFoundError(f"signing key {path} does not exist") from None
        except ValueError as exc:
            raise ValueError(f"signing key {path} is not a PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"signing key {path} is not an Ed25519 key")
        return cls(issuer, key)

    @classmethod
    def load_or_create(cls, issuer: str, path: Path) -> SigningKey:
        if path.exists():
            return cls.load(issuer, path)
        key = cls.generate(issuer)
        key.save(path)
        return key


KeyLookup = Callable[[str], Ed25519PublicKey | None]
"""Returns the public key registered for an issuer, or None (which refuses)."""


# --- signing ------------------------------------------------------------------

def sign(payload: BaseModel, topic: str, key: SigningKey, *, audience: str = DEFAULT_AUDIENCE,
         now: float | None = None, max_age_s: float = DEFAULT_MAX_AGE_S) -> bytes:
    """Sign ``payload`` for ``topic`` as ``key.issuer``; returns the compact JWS bytes."""
    iat = round(time.time() if now is None else now, 3)
    claims: dict[str, object] = {
        "iss": key.issuer,
        "aud": audience,
        "topic": topic,
        "iat": iat,
        "jti": uuid.uuid4().hex,
        "data": payload.model_dump(mode="json", exclude_none=True),
    }
    if topics.parse(topic).fresh:
        claims["exp"] = iat + max_age_s
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM).encode("ascii")


# --- verification -------------------------------------------------------------

class ReplayCache:
    """Remembers each accepted ``jti`` until it could no longer pass the age check."""

    def __init__(self, ttl_s: float, max_entries: int = 500_000) -> None:
        self._ttl_s = ttl_s
        self._max = max_entries
        self._seen: OrderedDict[str, float] = OrderedDict()

    def check_and_add(self, jti: str, now: float) -> bool:
        """True if ``jti`` is new (and now remembered), False if it was seen."""
        while self._seen:
            oldest, expires = next(iter(self._seen.items()))
            if expires > now and len(self._seen) < self._max:
                break
            del self._seen[oldest]
        if jti in self._seen:
            return False
        self._seen[jti] = now + self._ttl_s
        return True

    def __len__(self) -> int:
        return len(self._seen)


@dataclass(frozen=True, slots=True)
class Verified(Generic[P]):
    payload: P
    issuer: str
    jti: str
    issued_at: float


class Verifier:
    """Verifies signed payloads for one deployment (audience) against a key lookup."""

    def __init__(self, keys: KeyLookup, *, audience: str = DEFAULT_AUDIENCE,
                 clock_skew_s: float = DEFAULT_CLOCK_SKEW_S,
                 max_age_s: float = DEFAULT_MAX_AGE_S, max_bytes: int = DEFAULT_MAX_BYTES,
                 clock: Callable[[], float] = time.time) -> None:
        self._keys = keys
        self.audience = audience
        self.clock_skew_s = clock_skew_s
        self.max_age_s = max_age_s
        self.max_bytes = max_bytes
        self._clock = clock
        self._replays = ReplayCache(ttl_s=max_age_s + 2 * clock_skew_s)

    def verify(self, topic: str, data: bytes | bytearray, model: type[P]) -> Verified[P]:
        """Return the verified payload, or raise WireError saying what is wrong."""
        if len(data) > self.max_bytes:
            raise WireError(Reason.OVERSIZE,
                            f"message of {len(data)} bytes exceeds the {self.max_bytes} byte limit")
        try:
            parsed = topics.parse(topic)
        except topics.TopicError as exc:
            raise WireError(Reason.BAD_TOPIC, str(exc)) from None
        claims = self._decode(parsed.issuer, topic, bytes(data))
        now = self._clock()
        iat = claims["iat"]
        if iat > now + self.clock_skew_s:
            raise WireError(Reason.FUTURE, f"token issued {iat - now:.0f} s in the future "
                            f"(clock skew allowed: {self.clock_skew_s:.0f} s)")
        if parsed.fresh:
            self._check_fresh(claims, now)
        try:
            payload = model.model_validate(claims["data"])
        except ValidationError as exc:
            raise WireError(Reason.INVALID_PAYLOAD, describe_validation_error(exc)) from None
        return Verified(payload, parsed.issuer, claims["jti"], float(iat))

    def _decode(self, issuer: str, topic: str, data: bytes) -> dict:
        key = self._keys(issuer)
        if key is None:
            raise WireError(Reason.UNKNOWN_SENDER, f"no public key is registered for {issuer!r}")
        # One PyJWT pass (it refuses any alg outside the allow-list): its strict base64
        # check is pure Python and dominates the cost of a verify, so never parse twice.
        try:
            claims = jwt.decode(
                data, key, algorithms=[ALGORITHM], audience=self.audience,
                options={"require": ["iss", "aud", "iat", "jti", "topic", "data"],
                         "verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.InvalidAlgorithmError:
            raise WireError(Reason.BAD_ALGORITHM,
                            f"algorithm {_header_alg(data)!r} is refused; only {ALGORITHM}"
                            ) from None
        except jwt.InvalidSignatureError:
            raise WireError(Reason.BAD_SIGNATURE,
                            f"signature does not match the key of {issuer!r}") from None
        except jwt.InvalidAudienceError:
            raise WireError(Reason.WRONG_AUDIENCE,
                            f"token is addressed to another deployment (aud is not "
                            f"{self.audience!r})") from None
        except jwt.MissingRequiredClaimError as exc:
            raise WireError(Reason.MALFORMED, f"token lacks the {exc.claim!r} claim") from None
        except jwt.PyJWTError as exc:
            raise WireError(Reason.MALFORMED, f"token is not valid: {exc}") from None
        if claims["iss"] != issuer:
            raise WireError(Reason.WRONG_ISSUER,
                            f"token issued by {claims['iss']!r} arrived on a topic of {issuer!r}")
        if claims["topic"] != topic:
            raise WireError(Reason.WRONG_TOPIC,
                            f"token was signed for topic {claims['topic']!r}, not {topic!r}")
        if not isinstance(claims["iat"], int | float) or not isinstance(claims["jti"], str) \
                or not isinstance(claims["data"], dict) or len(claims["jti"]) > 64:
            raise WireError(Reason.MALFORMED, "iat, jti or data claim has the wrong type")
        return claims

    def _check_fresh(self, claims: dict, now: float) -> None:
        iat = float(claims["iat"])
        exp = claims.get("exp")
        if not isinstance(exp, int | float):
            raise WireError(Reason.MALFORMED, "token on a stream topic lacks a numeric 'exp'")
        if now - self.clock_skew_s > exp or now - iat > self.max_age_s + self.clock_skew_s:
            raise WireError(Reason.EXPIRED, f"token expired: issued {now - iat:.0f} s ago "
                            f"(limit {self.max_age_s:.0f} s)")
        if not self._replays.check_and_add(claims["jti"], now):
            raise WireError(Reason.REPLAYED, f"token {claims['jti']} was already accepted")


def _header_alg(data: bytes) -> object:
    """The token's claimed algorithm, for the error message only."""
    try:
        return jwt.get_unverified_header(data).get("alg")
    except jwt.PyJWTError:
        return None


def describe_validation_error(exc: ValidationError) -> str:
    """One sentence per problem, naming the field path and the bad value."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "payload"
        value = json.dumps(err.get("input"), default=str)
        if len(value) > 60:
            value = value[:57] + "..."
        parts.append(f"{where}: {err['msg']} (got {value})")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
