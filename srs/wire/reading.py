"""How a component reads the wire: one way to build a verifier.

:func:`verifier_for` is the only place a :class:`~srs.wire.signing.Verifier` is built
from a deployment's security policy (the kernel's ``SecurityConfig``: audience, clock
skew, message age, payload size), so every reader applies the same rules; a component
brings only its key lookup (whom it believes for which sender).

tests/test_wire_readers.py keeps every other module from building a verifier of its
own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from srs.wire.keys import KeyLookup
from srs.wire.signing import Verifier


class SecurityPolicy(Protocol):
    """What a verifier needs of the deployment's security settings (``SecurityConfig``)."""

    @property
    def audience(self) -> str: ...

    @property
    def clock_skew_s(self) -> float: ...

    @property
    def max_message_age_s(self) -> float: ...

    @property
    def max_payload_bytes(self) -> int: ...


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
