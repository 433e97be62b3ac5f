"""Reading core's messages at the node: core's key, and a policy for its status.

The key is read from its file when first needed (core may be installed later). Core's
status is read with any clock offset allowed (:class:`AnyClock`): the node reads it
to *measure* its offset from core, so a node 3 h off must still read it. Only the
retained kind's "not from the future" check depends on the clock; the signature,
audience and topic are checked as always.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from srs.wire import topics
from srs.wire.signing import public_key_from_b64

log = logging.getLogger(__name__)


class CoreKey:
    """Core's public key, read from its file when first needed (core may come later)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: Ed25519PublicKey | None = None
        self._warned = False

    def __call__(self, issuer: str) -> Ed25519PublicKey | None:
        if issuer != topics.CORE_SENDER:
            return None
        if self._key is None:
            try:
                self._key = public_key_from_b64(self.path.read_text())
            except (OSError, ValueError) as exc:
                if not self._warned:
                    log.error(
                        "cannot verify acks: core's public key %s is unusable (%s)", self.path, exc
                    )
                    self._warned = True
        return self._key


@dataclass(frozen=True)
class AnyClock:
    """The deployment's security policy (srs.wire.reading.SecurityPolicy) with any
    clock offset allowed, for reading core's status."""

    audience: str
    max_message_age_s: float
    max_payload_bytes: int
    clock_skew_s: float = 100 * 365 * 86400.0
