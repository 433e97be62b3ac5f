"""Core's signing key in the database: the public key always, the private key if shared.

One row (id 1). Every core instance compares its key with it at start (core.core_key),
so two hosts cannot sign as "core" with different keys without being told.
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from core.store.models import CoreKey

ROW = 1


def stored_core_key(s: Session) -> CoreKey | None:
    return s.get(CoreKey, ROW)


def record_core_key(s: Session, public_key: str, private_pem: str | None) -> None:
    """Record the first core key (the caller's transaction fails if another instance
    recorded one meanwhile: the primary key is taken)."""
    s.add(CoreKey(id=ROW, public_key=public_key, private_pem=private_pem, created_at=time.time()))


def share_private_key(s: Session, private_pem: str) -> None:
    row = s.get(CoreKey, ROW)
    if row is not None and row.private_pem is None:
        row.private_pem = private_pem
