"""How a component reads the wire: one way to build a verifier, one unverified peek.

:func:`verifier_for` is the only place a :class:`~srs.wire.signing.Verifier` is built
from a deployment's security policy (the kernel's ``SecurityConfig``: audience, clock
skew, message age, payload size), so every reader applies the same rules; a component
brings only its key lookup (whom it believes for which sender).

:func:`unverified_data` reads a token's ``data`` claim WITHOUT checking its signature.
Nothing it returns may be believed. It exists for the messages that carry the key
they are signed with (proof of possession: a sender's self-signed ``PublicKey``, an
operator's ``RegisterKey``, the first-run ``CreateAdmin``): the reader peeks at the
announced key, then verifies the whole token with it. Two other readers use it
where no key can be had, and act on nothing but a sentence: core telling an operator
whose session key it no longer knows to sign in again (the answer echoes only the
request id, on that user's own response topic, which the broker lets only that user
read), and the first-run dialog on a desk without core's pinned key (core's answer
only chooses what the dialog says; the new administrator's sign-in proves it).
tests/test_wire_readers.py names these readers and keeps every other module from
reading a token unverified or building a verifier of its own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Protocol

from srs.wire import jws
from srs.wire.errors import Reason, WireError
from srs.wire.keys import KeyLookup
from srs.wire.signing import DEFAULT_MAX_BYTES, Verifier


class SecurityPolicy(Protocol):
    """What a verifier needs of the deployment's security settings (``SecurityConfig``)."""

    @property
    def audience(self) -> str:
        """The deployment a token must be addressed to (``aud``)."""
        ...

    @property
    def clock_skew_s(self) -> float:
        """How far a sender's clock may differ from the reader's, in seconds."""
        ...

    @property
    def max_message_age_s(self) -> float:
        """How old a token on a stream may be when it arrives, in seconds."""
        ...

    @property
    def max_payload_bytes(self) -> int:
        """The largest token read at all; larger ones are refused before parsing."""
        ...


def verifier_for(
    security: SecurityPolicy, keys: KeyLookup, *, clock: Callable[[], float] = time.time
) -> Verifier:
    """A verifier of ``security``'s deployment that believes the keys ``keys`` returns."""
    return Verifier(
        keys,
        audience=security.audience,
        clock_skew_s=security.clock_skew_s,
        max_age_s=security.max_message_age_s,
        max_bytes=security.max_payload_bytes,
        clock=clock,
    )


def unverified_data(token: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """The ``data`` claim of ``token``, its signature NOT checked (see the module doc).

    Raises WireError (OVERSIZE, MALFORMED) when the token is too large or unreadable.
    """
    if len(token) > max_bytes:
        raise WireError(
            Reason.OVERSIZE, f"message of {len(token)} bytes exceeds the {max_bytes} byte limit"
        )
    body = jws.unverified_payload(token)
    try:
        claims = json.loads(body)
    except (ValueError, RecursionError):
        raise WireError(Reason.MALFORMED, "token payload is not JSON") from None
    data = claims.get("data") if isinstance(claims, dict) else None
    if not isinstance(data, dict):
        raise WireError(Reason.MALFORMED, "the data claim is not a JSON object")
    return data
