"""Anonymous identities shared by several core instances (docs/scale.md).

Each instance clusters strangers in memory (core/anonymous.py). With several, two
instances could each meet one stranger for the first time at once and make two
"Unknown N". So, when instances share the stream:

- a new identity is created under a lock (the ``_unknowns`` lease row, updated as
  the transaction's first write: SQLite serialises on it, PostgreSQL locks the row).
  Under it the identities other instances created since this one last looked are
  read; a new face within ``unknown_threshold`` of one of them (and where that
  person could have walked to, :class:`core.anonymous.Travel`) becomes that identity
  instead of a new one;
- every renewal (``sync``), the identities other instances created are added to
  this instance's clusters, so later faces join them in the usual way.

Centroids refined by another instance are not re-read (each instance refines its
own copy; the database keeps the last writer's): a drift, not a second identity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.anonymous import Row, Travel, insert_identities
from core.leases import LEASES, UNKNOWNS_LOCK
from core.recognition import Place, UnknownClusters
from core.store.codec import from_blob
from core.store.db import Database
from core.store.models import UnknownIdentity

log = logging.getLogger(__name__)
UNKNOWNS = cast(Table, UnknownIdentity.__table__)


class SharedUnknowns:
    def __init__(
        self, db: Database, clusters: Callable[[], UnknownClusters], travel: Travel
    ) -> None:
        self.db, self._clusters, self.travel = db, clusters, travel
        self._watermark = self._max_known()

    def _max_known(self) -> int:
        return max((i for i in self._clusters().ids if i > 0), default=0)

    def allocate(self, rows: list[Row]) -> list[int]:
        """Ids for a batch's new identities: another instance's when it just made one
        for the same face, else new rows (all under the lock)."""
        clusters = self._clusters()
        with self.db.session() as s:
            _lock(s)
            others = [o for o in self._newer(s) if o[0] not in clusters.index]
            ids: list[int] = []
            used: set[int] = set()
            fresh: list[tuple[int, Row]] = []
            for i, row in enumerate(rows):
                uid = self._same(row, others, used, clusters.threshold)
                if uid is not None:
                    used.add(uid)
                    log.info("a new stranger is anonymous identity %d, made by another core", uid)
                ids.append(uid if uid is not None else 0)
                if uid is None:
                    fresh.append((i, row))
            for (i, _), uid in zip(fresh, insert_identities(s, [r for _, r in fresh]), strict=True):
                ids[i] = uid
        return ids

    def sync(self) -> int:
        """Add the identities other instances created to this one's clusters."""
        clusters = self._clusters()
        self._watermark = max(self._watermark, self._max_known())
        with self.db.session() as s:
            others = [o for o in self._newer(s) if o[0] not in clusters.index]
        for uid, vec, place, count in others:
            clusters.add(uid, vec)
            clusters.counts[-1] = count
            if place is not None:
                clusters.places[uid] = place
            self._watermark = max(self._watermark, uid)
        return len(others)

    def _newer(self, s: Session) -> list[tuple[int, np.ndarray, Place | None, int]]:
        u = UNKNOWNS.c
        rows = s.execute(
            select(u.id, u.centroid, u.count, u.last_camera, u.last_x, u.last_y, u.last_seen)
            .where(u.id > self._watermark)
            .order_by(u.id)
        ).all()
        return [
            (uid, from_blob(blob), Place(cam, x, y, seen) if cam is not None else None, count)
            for uid, blob, count, cam, x, y, seen in rows
        ]

    def _same(
        self,
        row: Row,
        others: list[tuple[int, np.ndarray, Place | None, int]],
        used: set[int],
        threshold: float,
    ) -> int | None:
        vec = from_blob(row["centroid"])
        cam = row.get("last_camera")
        here = Place(cam, row.get("last_x"), row.get("last_y"), row["last_seen"]) if cam else None
        best: tuple[float, int] | None = None
        for uid, centroid, place, _ in others:
            if uid in used:
                continue
            dist = float(np.linalg.norm(centroid - vec))
            if dist > threshold:
                continue
            if here is not None and not self.travel.reachable(place, here):
                continue
            if best is None or dist < best[0]:
                best = (dist, uid)
        return None if best is None else best[1]


def _lock(s: Session) -> None:
    """Take the lock new identities are made under (the transaction's first write)."""
    done: Any = s.execute(
        update(LEASES).where(LEASES.c.name == UNKNOWNS_LOCK).values(expires_at=0.0)
    )
    if done.rowcount:
        return
    try:
        with s.begin_nested():
            s.execute(insert(LEASES).values(name=UNKNOWNS_LOCK, owner=None, expires_at=0.0))
    except IntegrityError:  # another instance made the row meanwhile: lock it now
        s.execute(update(LEASES).where(LEASES.c.name == UNKNOWNS_LOCK).values(expires_at=0.0))
