"""Mirror of the broker's users and roles (for reports and the audit trail)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.store.models import UserRole


def sync_users(s: Session, users: Iterable[tuple[str, str]]) -> bool:
    """Make the ``users`` table equal ``users`` (name, role); True if anything changed."""
    wanted = dict(users)
    have = {u.name: u for u in s.scalars(select(UserRole))}
    changed = False
    gone = [name for name in have if name not in wanted]
    if gone:
        s.execute(delete(UserRole).where(UserRole.name.in_(gone)))
        changed = True
    for name, role in wanted.items():
        row = have.get(name)
        if row is None:
            s.add(UserRole(name=name, role=role))
            changed = True
        elif row.role != role:
            row.role = role
            changed = True
    return changed


def list_users(s: Session) -> list[tuple[str, str]]:
    return [(u.name, u.role) for u in s.scalars(select(UserRole).order_by(UserRole.name))]


def mirrored_role(s: Session, name: str) -> str | None:
    """``name``'s role as the mirror has it (None: no such user)."""
    row = s.get(UserRole, name)
    return None if row is None else row.role
