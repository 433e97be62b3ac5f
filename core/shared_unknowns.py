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
  this instance's clusters, so later faces join them in the usual way;
- at the same time, the identities another instance refined are re-read: every
  write stamps ``updated_at`` (core/anonymous.py), and the rows stamped since the
  last sync (less ``lookback_s``, for clock skew and slow commits) whose count
  differs from this instance's copy replace it. The database keeps the last
  writer's centroid and the sum of everyone's counts, so after a sync every
  instance holds what the database holds. A commit that lands more than
  ``lookback_s`` after its stamp is missed until the identity is written again: a
  drift, never a second identity.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from sqlalchemy import ColumnElement, Table, insert, select, update
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


Known = tuple[int, np.ndarray, Place | None, int]  # id, centroid, last place, count
# How far before the last sync ``sync`` looks for identities written by others: the
# clocks of the instances may differ (up to ttl / 2, core/leases.py) and a stamp is
# taken before its commit.
LOOKBACK_S = 30.0


class SharedUnknowns:
    def __init__(
        self,
        db: Database,
        clusters: Callable[[], UnknownClusters],
        travel: Travel,
        *,
        lookback_s: float = LOOKBACK_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db, self._clusters, self.travel = db, clusters, travel
        self.lookback_s, self._clock = lookback_s, clock
        self._watermark = self._max_known()
        self._synced_at = clock()  # the clusters were loaded from the database by now

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
        """Add the identities other instances created to this one's clusters, and
        re-read the ones they refined; how many were added or re-read."""
        clusters = self._clusters()
        self._watermark = max(self._watermark, self._max_known())
        now = self._clock()
        with self.db.session() as s:
            others = [o for o in self._newer(s) if o[0] not in clusters.index]
            written = self._written_since(s, self._synced_at - self.lookback_s)
        self._synced_at = now
        for uid, vec, place, count in others:
            clusters.add(uid, vec)
            clusters.counts[-1] = count
            if place is not None:
                clusters.places[uid] = place
            self._watermark = max(self._watermark, uid)
        return len(others) + self._refresh(clusters, written)

    def _refresh(self, clusters: UnknownClusters, written: list[Known]) -> int:
        """Take the stored copy of every identity whose stored count is not this
        instance's: someone else wrote it (this instance's own writes leave the two
        counts equal, and need no re-read)."""
        n = 0
        for uid, vec, place, count in written:
            index = clusters.index.get(uid)
            if index is None or clusters.counts[index] == count:
                continue
            clusters.replace(index, vec, count)
            last = clusters.places.get(uid)
            if place is not None and (last is None or place.at >= last.at):
                clusters.places[uid] = place
            n += 1
        if n:
            log.debug("re-read %d anonymous identities other core instances refined", n)
        return n

    def _newer(self, s: Session) -> list[Known]:
        return self._read(s, UNKNOWNS.c.id > self._watermark)

    def _written_since(self, s: Session, since: float) -> list[Known]:
        return self._read(s, UNKNOWNS.c.updated_at >= since)

    def _read(self, s: Session, where: ColumnElement[bool]) -> list[Known]:
        u = UNKNOWNS.c
        rows = s.execute(
            select(u.id, u.centroid, u.count, u.last_camera, u.last_x, u.last_y, u.last_seen)
            .where(where)
            .order_by(u.id)
        ).all()
        return [
            (uid, from_blob(blob), Place(cam, x, y, seen) if cam is not None else None, count)
            for uid, blob, count, cam, x, y, seen in rows
        ]

    def _same(
        self,
        row: Row,
        others: list[Known],
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
