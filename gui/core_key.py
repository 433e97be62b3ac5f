"""Which public key the dashboard trusts for issuer "core".

Pinned (a file from GuiConfig / the keys directory): a retained key on the broker must
equal it, else it is refused. Not pinned: trust on first use of the retained key,
which must be self-signed (proof of possession); a later different key is refused
for the rest of the session.
"""

from __future__ import annotations

import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from srs.config import SecurityConfig
from srs.wire import Reason, WireError, payloads, public_key_from_b64, topics
from srs.wire.reading import unverified_data, verifier_for
from srs.wire.signing import public_key_to_b64


def load_pinned(path: Path) -> Ed25519PublicKey:
    """Read a ``.pub`` file (base64url raw key); raise ValueError with a sentence."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        raise ValueError(f"core public key file {path} does not exist") from None
    try:
        return public_key_from_b64(text)
    except ValueError as exc:
        raise ValueError(f"core public key file {path}: {exc}") from None


class CoreKey:
    """The core key this session trusts; thread-safe (used from paho's thread)."""

    def __init__(self, pinned: Ed25519PublicKey | None, security: SecurityConfig) -> None:
        self._lock = threading.Lock()
        self.pinned = pinned is not None
        self._key = pinned
        self._security = security

    @property
    def key(self) -> Ed25519PublicKey | None:
        with self._lock:
            return self._key

    def lookup(self, issuer: str) -> Ed25519PublicKey | None:
        return self.key if issuer == topics.CORE_SENDER else None

    def offer(self, topic: str, data: bytes) -> bool:
        """Handle a retained PublicKey message of core; True if a new key was adopted.

        Raises WireError when the message is refused.
        """
        current = self.key
        candidate = (
            current
            if current is not None
            else _announced_key(data, self._security.max_payload_bytes)
        )
        verifier = verifier_for(
            self._security, lambda issuer: candidate if issuer == topics.CORE_SENDER else None
        )
        announced = verifier.verify(topic, data, payloads.PublicKey).payload
        if current is not None:
            if announced.public_key != public_key_to_b64(current):
                origin = "pinned" if self.pinned else "first seen"
                raise WireError(
                    Reason.BAD_SIGNATURE,
                    f"the broker announces a core key that differs from the "
                    f"{origin} one; it is refused",
                )
            return False
        with self._lock:
            self._key = candidate
        return True


def _announced_key(data: bytes, max_bytes: int) -> Ed25519PublicKey:
    """The key a PublicKey message claims (checked afterwards by its self-signature)."""
    try:
        return public_key_from_b64(str(unverified_data(data, max_bytes=max_bytes)["public_key"]))
    except (WireError, KeyError, ValueError) as exc:
        raise WireError(Reason.MALFORMED, f"core key message is not readable: {exc}") from None
