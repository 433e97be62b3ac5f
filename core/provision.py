"""A camera's life on the server: provision it in one step, revoke it in one step.

``provision`` registers the camera with a new Ed25519 key, gives it a broker user
with a random password, and writes the bundle (srs/bundle.py) its Pi installs
with ``srs edge install``. ``revoke`` removes the broker user (the broker refuses the
next CONNECT and, within a second, every publish of an open connection) and burns the
registered key (core rejects any message still in flight), keeping the camera's
sightings; ``srs camera remove --purge`` deletes those too.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.srs_config import SrsConfig
from core.store.audit import CAMERAS, audit, bump
from core.store.errors import StoreError
from core.store.models import Camera, Sighting
from srs.bundle import BundleBroker, CameraBundle
from srs.wire import topics
from srs.wire.signing import SigningKey


@dataclass(frozen=True)
class Provisioned:
    bundle: CameraBundle
    replaced: bool


def _core_public_key(cfg: SrsConfig) -> str:
    path = cfg.keys_dir / "core.key"
    if not path.exists():
        raise StoreError(f"core has no key yet ({path}): run `srs init` on this server first")
    return SigningKey.load(topics.CORE_SENDER, path).public_key_b64


def _site_ca(cfg: SrsConfig) -> str:
    from broker.tls import tls_files

    ca = tls_files(cfg).ca_cert
    if not ca.is_file():
        raise StoreError(f"no site CA at {ca}: run `srs init` on this server first")
    return ca.read_text()


def provision(
    cfg: SrsConfig,
    camera_id: str,
    *,
    host: str | None = None,
    port: int | None = None,
    replace: bool = False,
    edge: dict[str, Any] | None = None,
) -> Provisioned:
    """Register ``camera_id``, create its broker user and key; return its bundle.

    A camera that exists is refused unless ``replace`` (a new key and password: the
    old Pi stops working, as after a revoke)."""
    from broker.users import UserError, UserStore, default_path, generate_password
    from core.store import add_camera, open_store

    try:
        topics.check_id(camera_id, "camera id")
    except topics.TopicError as exc:
        raise StoreError(str(exc)) from None
    core_key = _core_public_key(cfg)
    ca_pem = _site_ca(cfg)
    users = UserStore(default_path(cfg))
    role = users.role_of(camera_id)
    if role is not None and role != "camera":
        raise StoreError(f"broker user {camera_id!r} exists with role {role}, not camera")
    key = SigningKey.generate(topics.camera_issuer(camera_id))
    password = generate_password()
    db = open_store(cfg)
    try:
        with db.session() as s:
            existed = s.get(Camera, camera_id) is not None
            if (existed or role is not None) and not replace:
                raise StoreError(
                    f"camera {camera_id!r} is already provisioned: `--replace` issues a new "
                    "key and password (its Pi then needs the new bundle)"
                )
            add_camera(s, camera_id, key.public_key_b64, replace=True, actor="provision")
            try:
                if role is None:
                    users.add(camera_id, "camera", password)
                else:
                    users.set_password(camera_id, password)
            except UserError as exc:
                raise StoreError(str(exc)) from None  # the registration rolls back
    finally:
        db.close()
    from cryptography.hazmat.primitives import serialization

    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    bundle = CameraBundle(
        camera_id=camera_id,
        private_key_pem=SecretStr(pem),
        broker=BundleBroker(
            host=host or socket.getfqdn(),
            port=port or cfg.broker.tls_port,
            username=camera_id,
            password=SecretStr(password),
        ),
        ca_pem=ca_pem,
        core_public_key=core_key,
        audience=cfg.security.audience,
        edge=edge or {},
    )
    return Provisioned(bundle, existed)


def revoke(cfg: SrsConfig, camera_id: str) -> list[str]:
    """Remove the broker user and burn the key; return what was done (sentences)."""
    from broker.users import UserStore, default_path
    from core.store import open_store

    done: list[str] = []
    users = UserStore(default_path(cfg))
    db = open_store(cfg)
    try:
        with db.session() as s:
            cam = s.get(Camera, camera_id)
            if cam is None and users.role_of(camera_id) is None:
                raise StoreError(f"no camera {camera_id!r} is registered")
            if users.role_of(camera_id) == "camera":
                # First: from now on the broker refuses it (CONNECT at once, publishes
                # of an open connection within ACL_RECHECK_S).
                users.remove(camera_id)
                done.append(f"broker user {camera_id} removed: its connections are refused")
            if cam is not None:
                # A key nobody holds: whatever the old key signed and is still in
                # flight is rejected; the camera and its sightings stay (history).
                cam.public_key = SigningKey.generate(topics.camera_issuer(camera_id)).public_key_b64
                cam.enabled = False
                audit(s, "admin", "cli", "camera_revoke", f"camera {camera_id}")
                bump(s, CAMERAS)
                done.append(
                    f"camera {camera_id}: key revoked and camera disabled; its sightings "
                    "are kept (`srs camera remove --purge` deletes them)"
                )
    finally:
        db.close()
    return done


def sighting_count(s: Session, camera_id: str) -> int:
    return int(
        s.scalar(select(func.count()).select_from(Sighting).where(Sighting.camera_id == camera_id))
        or 0
    )


def bundle_path(out: Path | None, camera_id: str) -> Path:
    return out if out is not None else Path(f"{camera_id}.bundle")
