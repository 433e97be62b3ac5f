"""Privacy by default: sightings (and their encodings) older than the retention age go."""

from __future__ import annotations

import logging
import time

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from core.store.audit import GALLERY, audit, bump
from core.store.models import ProcessedMessage, Sighting, UnknownIdentity

log = logging.getLogger(__name__)
DAY_S = 86400.0


def _n(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def purge(s: Session, retention_days: int, now: float | None = None) -> dict[str, int]:
    """Delete what is older than ``retention_days``; return counts per table."""
    cutoff = (time.time() if now is None else now) - retention_days * DAY_S
    counts = {
        "sightings": _n(s.execute(delete(Sighting).where(Sighting.seen_at < cutoff))),
        # Dedupe rows only need to outlive any edge re-send, which is far shorter.
        "processed_messages": _n(
            s.execute(delete(ProcessedMessage).where(ProcessedMessage.received_at < cutoff))
        ),
    }
    stale = select(UnknownIdentity.id).where(
        UnknownIdentity.last_seen < cutoff,
        ~exists().where(Sighting.unknown_id == UnknownIdentity.id),
    )
    counts["unknown_identities"] = _n(
        s.execute(delete(UnknownIdentity).where(UnknownIdentity.id.in_(stale)))
    )
    if any(counts.values()):
        audit(
            s,
            "admin",
            "core",
            "retention_purge",
            f"older than {retention_days} days: "
            + ", ".join(f"{v} {k}" for k, v in counts.items()),
        )
        if counts["unknown_identities"]:
            bump(s, GALLERY)
        log.info("retention purge removed %s", counts)
    return counts
