"""The one-time first-run code: the password of the broker user ``bootstrap``.

``srs init`` issues it when no administrator exists; it lasts 15 minutes and works
once (core deletes the user after creating the administrator, see core/bootstrap.py).
Twelve characters from an alphabet without look-alikes (60 bits) are plenty for a
code that is argon2-hashed, expires in minutes and is tried over an authenticated
broker connection; grouped for reading aloud: ``ABCD-EFGH-JKMN``.
"""

from __future__ import annotations

import secrets
import time

from broker.users import BOOTSTRAP_ROLE, BOOTSTRAP_USER, UserStore

TTL_S = 15 * 60
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
GROUPS, GROUP = 3, 4


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP))
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def normalise(code: str) -> str:
    """What a person typed (any case, spaces, dashes) in the printed form."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def issue(users: UserStore, now: float | None = None) -> tuple[str, float]:
    """A fresh code (any earlier one stops working); returns (code, expires_at)."""
    expires_at = (time.time() if now is None else now) + TTL_S
    if users.role_of(BOOTSTRAP_USER) is not None:
        users.remove(BOOTSTRAP_USER)
    code = new_code()
    users.add(BOOTSTRAP_USER, BOOTSTRAP_ROLE, code, expires_at=expires_at)
    return code, expires_at
