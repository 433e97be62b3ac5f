"""Core's signing key, the same on every host that runs core.

The edges pin core's public key (they verify its acks with it), so every core
instance must sign with one key. The database is what every instance shares: the
first core records its public key there (``core_key``), and each instance compares:

- the key on disk matches the database's: use it;
- the key on disk differs: refuse to start, with a sentence (two keys would have the
  edges reject one instance's acks, silently);
- no key on disk, the database has the private key (``[core] key_in_database``):
  write it to disk and use it;
- no key on disk, only the public key in the database: refuse, saying which file to
  copy from which host;
- nothing anywhere: make a key, record it, then save it.

Two instances starting at once on an empty database: the table's one row is the
arbiter (its primary key); the one that loses reads the winner's row and follows it.
Trade-off of the private key in the database: docs/scale.md.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.exc import IntegrityError

from core.srs_config import SrsConfig
from core.store.core_key import record_core_key, share_private_key, stored_core_key
from core.store.db import Database
from core.store.errors import StoreError
from srs.wire import topics
from srs.wire.signing import SigningKey

log = logging.getLogger(__name__)
# How long an instance that lost the race to record the first key waits for the
# winner (sharing its data dir) to save it.
FOLLOW_S = 5.0


class CoreKeyError(StoreError):
    """Core cannot start with the key it has: the sentence says what to do."""


def core_key_path(cfg: SrsConfig) -> Path:
    return cfg.keys_dir / "core.key"


def load_core_key(cfg: SrsConfig, db: Database) -> SigningKey:
    """Core's key on this host, agreed with the database (see the module's docstring)."""
    path = core_key_path(cfg)
    share = cfg.core.key_in_database
    on_disk = SigningKey.load(topics.CORE_SENDER, path) if path.exists() else None
    with db.session() as s:
        row = stored_core_key(s)
        recorded = None if row is None else (row.public_key, row.private_pem, row.created_at)
    if recorded is None:
        key = on_disk or SigningKey.generate(topics.CORE_SENDER)
        try:
            with db.session() as s:
                record_core_key(s, key.public_key_b64, _pem(key) if share else None)
        except IntegrityError:  # another instance recorded its key first: follow it
            if on_disk is None:  # sharing this data dir, it saves its key right after
                _wait_for(path, FOLLOW_S)
            return load_core_key(cfg, db)
        if on_disk is None:
            key.save(path)
        return key
    public_b64, private_pem, created_at = recorded
    if on_disk is not None:
        if on_disk.public_key_b64 != public_b64:
            raise CoreKeyError(
                f"core's signing key {path} is not the one the database records for core "
                f"(public key {public_b64}, this file's {on_disk.public_key_b64}): another "
                "core signs with the recorded key and the cameras trust only it. Copy "
                "core.key from a host that runs core over this file, or, to replace the "
                "key everywhere, see docs/scale.md (Core's key)"
            )
        if share and private_pem is None:
            with db.session() as s:
                share_private_key(s, _pem(on_disk))
            log.info("core's private key is now kept in the database ([core] key_in_database)")
        return on_disk
    if private_pem is not None:
        key = SigningKey(topics.CORE_SENDER, _from_pem(private_pem))
        if key.public_key_b64 != public_b64:
            raise CoreKeyError(
                "the database's core key is inconsistent (its private key does not "
                "match its public key): restore core.key from a host that runs core"
            )
        key.save(path)
        log.info("core's signing key taken from the database and saved to %s", path)
        return key
    if time.time() - created_at < FOLLOW_S:  # just recorded: by an instance sharing
        _wait_for(path, FOLLOW_S)  # this data dir, which saves it right after?
        if path.exists():
            return load_core_key(cfg, db)
    raise CoreKeyError(
        f"core's signing key {path} does not exist here, and the database records "
        f"another core's key (public key {public_b64}): copy core.key from the keys "
        f"directory of a host that runs core to {path} (mode 600, owned by core's user), "
        "or set [core] key_in_database = true on that host so instances take it from "
        "the database"
    )


def _wait_for(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _pem(key: SigningKey) -> str:
    return key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _from_pem(text: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(text.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise CoreKeyError("the database's core key is not an Ed25519 key")
    return key
