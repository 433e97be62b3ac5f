"""Audit log and change counters."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.store.models import AuditEntry, Revision

GALLERY = "gallery"
CAMERAS = "cameras"
CLEARS = "clears"


def audit(
    s: Session, category: str, actor: str, action: str, detail: str = "", at: float | None = None
) -> None:
    s.add(
        AuditEntry(
            at=time.time() if at is None else at,
            category=category,
            actor=actor,
            action=action,
            detail=detail[:2000],
        )
    )


def bump(s: Session, name: str) -> None:
    row = s.get(Revision, name)
    if row is None:
        s.add(Revision(name=name, value=1))
    else:
        row.value += 1


def revisions(s: Session) -> dict[str, int]:
    return {r.name: r.value for r in s.scalars(select(Revision))}


def audit_entries(s: Session, limit: int = 100) -> list[AuditEntry]:
    return list(s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
