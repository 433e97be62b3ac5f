"""Signing and verification of payloads as compact JWS (EdDSA / Ed25519).

Rules (deny by default):
- the only accepted algorithm is EdDSA, whatever the token header says;
- the key comes from the sender id implied by the *topic*, never from the token;
- the payload model is the one the registry names for the topic (srs/wire/registry.py):
  a reader cannot read a topic as something else than what its sender wrote;
- ``iss`` must equal that sender, ``aud`` the deployment's audience, ``topic`` the
  topic the message arrived on;
- on fresh streams ``iat`` must lie within the clock skew of now, ``exp`` must not
  have passed and each ``jti`` is accepted once; retained state (delivered late by
  design) only has to be signed, addressed, and not from the future.
Every failure raises :class:`WireError` with a reason code and a sentence.

The claims and the payload are one pydantic model (:class:`Envelope`) parsed straight
from the signed JSON bytes: no intermediate dicts on the hot path.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from srs.wire import jws, registry, topics
from srs.wire.errors import Reason, WireError, describe_validation_error
from srs.wire.keys import KeyLookup, SigningKey, public_key_from_b64, public_key_to_b64

ALGORITHM = jws.ALGORITHM
DEFAULT_AUDIENCE = "srs"
DEFAULT_MAX_BYTES = 64 * 1024
DEFAULT_CLOCK_SKEW_S = 30.0
DEFAULT_MAX_AGE_S = 120.0

P = TypeVar("P", bound=BaseModel)

__all__ = [
    "ALGORITHM",
    "KeyLookup",
    "Reason",
    "SigningKey",
    "Verified",
    "Verifier",
    "WireError",
    "describe_validation_error",
    "public_key_from_b64",
    "public_key_to_b64",
    "sign",
]

# --- signing ------------------------------------------------------------------

# A token id is unique per sender: 64 random bits drawn once per process (again in a
# forked child, which would otherwise repeat its parent's ids), then a counter: a
# urandom call per token cost more than the rest of the claims.
_jti_prefix = secrets.token_hex(8)
_jti_counter = itertools.count(1)


def _new_jti_prefix() -> None:
    global _jti_prefix
    _jti_prefix = secrets.token_hex(8)


os.register_at_fork(after_in_child=_new_jti_prefix)


def _next_jti() -> str:
    return f"{_jti_prefix}{next(_jti_counter):x}"


def sign(
    payload: BaseModel,
    topic: str,
    key: SigningKey,
    *,
    audience: str = DEFAULT_AUDIENCE,
    now: float | None = None,
    max_age_s: float = DEFAULT_MAX_AGE_S,
) -> bytes:
    """Sign ``payload`` for ``topic`` as ``key.issuer``; returns the compact JWS bytes."""
    iat = round(time.time() if now is None else now, 3)
    # The claims written directly (what json.dumps would write for them, at a third of
    # the cost: a ten-face message makes a dozen tokens); the payload serialises itself.
    head, fresh = _claims_head(key.issuer, audience, topic)
    exp = f',"exp":{iat + max_age_s!r}' if fresh else ""
    body = (
        f'{head}{iat!r},"jti":"{_next_jti()}"{exp},"data":'
        + payload.model_dump_json(exclude_none=True)
        + "}"
    )
    return jws.encode(body.encode(), key.private_key)


@lru_cache(maxsize=4096)
def _claims_head(issuer: str, audience: str, topic: str) -> tuple[str, bool]:
    """The claims up to ``iat``'s value, and whether the topic is a fresh stream.

    The same for every token a sender signs for one topic (a person's position, say).
    """
    head = (
        f'{{"iss":{json.dumps(issuer)},"aud":{json.dumps(audience)},'
        f'"topic":{json.dumps(topic)},"iat":'
    )
    return head, topics.parse(topic).fresh


# --- verification -------------------------------------------------------------

Seconds = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class Claims(BaseModel):
    """The registered claims of every SRS token; unknown extra claims are ignored."""

    model_config = ConfigDict(extra="ignore")

    iss: StrictStr
    aud: StrictStr
    topic: StrictStr
    iat: Seconds
    exp: Seconds | None = None
    jti: Annotated[StrictStr, Field(min_length=1, max_length=64)]


class Envelope(Claims, Generic[P]):
    """A token's claims with its payload under ``data``, validated as one (strictly)."""

    data: P


_ENVELOPES: dict[type[BaseModel], type[Envelope[Any]]] = {}


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
    """A payload whose signature, addressing and time the verifier accepted.

    ``issuer`` is the sender the topic implied (never read from the token); ``jti``
    identifies the message (de-duplicate by it); ``issued_at`` is the sender's clock.
    """

    payload: P
    issuer: str
    jti: str
    issued_at: float


class Verifier:
    """Verifies signed payloads for one deployment (audience) against a key lookup."""

    def __init__(
        self,
        keys: KeyLookup,
        *,
        audience: str = DEFAULT_AUDIENCE,
        clock_skew_s: float = DEFAULT_CLOCK_SKEW_S,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Believe the keys ``keys`` returns for an issuer, for tokens to ``audience``.

        Streams must be at most ``max_age_s`` old and every token at most
        ``clock_skew_s`` in the future; tokens over ``max_bytes`` are not parsed.
        """
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
            raise WireError(
                Reason.OVERSIZE,
                f"message of {len(data)} bytes exceeds the {self.max_bytes} byte limit",
            )
        try:
            parsed = topics.parse(topic)
        except topics.TopicError as exc:
            raise WireError(Reason.BAD_TOPIC, str(exc)) from None
        expected = registry.model_of(parsed)
        if model is not expected:
            raise WireError(
                Reason.BAD_TOPIC,
                f"{topic!r} carries {expected.__name__}, not {model.__name__}",
            )
        key = self._keys(parsed.issuer)
        if key is None:
            raise WireError(
                Reason.UNKNOWN_SENDER, f"no public key is registered for {parsed.issuer!r}"
            )
        body = jws.verify(bytes(data), key, repr(parsed.issuer))
        env = self._envelope(body, parsed.issuer, topic, model)
        now = self._clock()
        signed = Verified(env.data, parsed.issuer, env.jti, env.iat)
        if env.iat > now + self.clock_skew_s:
            raise WireError(
                Reason.FUTURE,
                f"token issued {env.iat - now:.0f} s in the future "
                f"(clock skew allowed: {self.clock_skew_s:.0f} s)",
                signed,
            )
        if parsed.fresh:
            self._check_fresh(env, now, signed)
        return signed

    def _envelope(self, body: bytes, issuer: str, topic: str, model: type[P]) -> Envelope[P]:
        envelope = _ENVELOPES.get(model)
        if envelope is None:  # pydantic re-derives Envelope[model] on each subscript
            envelope = _ENVELOPES[model] = Envelope[model]  # type: ignore[valid-type]
        try:
            # strict: a wire value of the wrong JSON type ("seq": "123", "track_id": true)
            # is refused, not coerced.
            env = envelope.model_validate_json(body, strict=True)
        except ValidationError as exc:
            raise self._explain(body, exc, issuer, topic) from None
        self._check_addressing(env, issuer, topic)
        return env

    def _check_addressing(self, claims: Claims, issuer: str, topic: str) -> None:
        if claims.aud != self.audience:
            raise WireError(
                Reason.WRONG_AUDIENCE,
                f"token is addressed to another deployment (aud is not {self.audience!r})",
            )
        if claims.iss != issuer:
            raise WireError(
                Reason.WRONG_ISSUER,
                f"token issued by {claims.iss!r} arrived on a topic of {issuer!r}",
            )
        if claims.topic != topic:
            raise WireError(
                Reason.WRONG_TOPIC, f"token was signed for topic {claims.topic!r}, not {topic!r}"
            )

    def _explain(self, body: bytes, exc: ValidationError, issuer: str, topic: str) -> WireError:
        """Name the first real problem: the claims (and whom they address) before the data."""
        try:
            claims = Claims.model_validate_json(body)
        except ValidationError as bad:
            err = bad.errors()[0]
            if err["type"] == "missing":
                return WireError(Reason.MALFORMED, f"token lacks the {err['loc'][0]!r} claim")
            if err["type"].startswith("json"):
                return WireError(Reason.MALFORMED, "token payload is not JSON")
            return WireError(Reason.MALFORMED, f"claim {describe_validation_error(bad)}")
        self._check_addressing(claims, issuer, topic)
        err = exc.errors()[0]
        if err["loc"][:1] != ("data",) or err["loc"] == ("data",):
            if err["type"] == "missing":
                return WireError(Reason.MALFORMED, "token lacks the 'data' claim")
            return WireError(Reason.MALFORMED, "the data claim is not a JSON object")
        return WireError(Reason.INVALID_PAYLOAD, describe_validation_error(exc, under="data"))

    def _check_fresh(self, claims: Claims, now: float, signed: Verified[P]) -> None:
        if claims.exp is None:
            raise WireError(Reason.MALFORMED, "token on a stream topic lacks a numeric 'exp'")
        if (
            now - self.clock_skew_s > claims.exp
            or now - claims.iat > self.max_age_s + self.clock_skew_s
        ):
            raise WireError(
                Reason.EXPIRED,
                f"token expired: issued {now - claims.iat:.0f} s "
                f"ago (limit {self.max_age_s:.0f} s)",
                signed,
            )
        if not self._replays.check_and_add(claims.jti, now):
            raise WireError(Reason.REPLAYED, f"token {claims.jti} was already accepted")
