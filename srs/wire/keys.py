"""Ed25519 identities: a sender's private key on disk and public keys as base64url."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KeyLookup = Callable[[str], Ed25519PublicKey | None]
"""Returns the public key registered for an issuer, or None (which refuses)."""


def public_key_to_b64(key: Ed25519PublicKey) -> str:
    """The raw 32 key bytes as unpadded base64url: 43 characters, as PublicKey carries."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    """Read a key written by :func:`public_key_to_b64` (padding and whitespace allowed).

    Raises ValueError with a sentence when ``text`` is not 32 bytes of base64url.
    """
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
        """A fresh key for ``issuer`` (an operator's session key lives only in memory)."""
        return cls(issuer, Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half, which readers verify this sender's tokens with."""
        return self.private_key.public_key()

    @property
    def public_key_b64(self) -> str:
        """The public half as published on ``keys/{sender}`` and written to ``.pub``."""
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
        """Read ``issuer``'s key from a PEM file; a sentence naming the file if it cannot."""
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
        """The key at ``path``, or a new one saved there (a component's first start)."""
        if path.exists():
            return cls.load(issuer, path)
        key = cls.generate(issuer)
        key.save(path)
        return key
