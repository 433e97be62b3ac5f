"""Camera public keys from the registry, cached, reloaded when the registry changes."""

from __future__ import annotations

import logging

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from core.store.cameras import camera_keys
from srs.wire import topics
from srs.wire.signing import public_key_from_b64, public_key_to_b64

log = logging.getLogger(__name__)


class CameraKeyring:
    def __init__(self) -> None:
        self._keys: dict[str, Ed25519PublicKey] = {}
        self.enabled: set[str] = set()
        self.known: set[str] = set()

    def load(self, s: Session) -> None:
        keys: dict[str, Ed25519PublicKey] = {}
        enabled: set[str] = set()
        rows = camera_keys(s)
        for cam, (b64, on) in rows.items():
            try:
                keys[topics.camera_issuer(cam)] = public_key_from_b64(b64)
            except ValueError:
                log.error("camera %s has an unusable public key in the registry", cam)
                continue
            if on:
                enabled.add(cam)
        self._keys, self.enabled, self.known = keys, enabled, set(rows)

    def lookup(self, issuer: str) -> Ed25519PublicKey | None:
        """Key of an *enabled* camera (a disabled camera's messages are refused)."""
        key = self._keys.get(issuer)
        if key is None or issuer.removeprefix("camera:") not in self.enabled:
            return None
        return key

    def vouched(self) -> dict[str, str]:
        """camera id -> public key (base64url) of each enabled camera: what core
        publishes on ``topics.camera_key`` so readers can verify the camera's status."""
        return {
            issuer.removeprefix("camera:"): public_key_to_b64(key)
            for issuer, key in self._keys.items()
            if issuer.removeprefix("camera:") in self.enabled
        }
