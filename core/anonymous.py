"""Anonymous identities ("Unknown 7") that mean one person each.

A track whose encodings match nobody is clustered by its POOLED encoding (the
weighted mean of the track's views, core/track_identity.py), not by single frames:
it joins the nearest identity whose centroid is within ``unknown_threshold`` unless

- another face of the same message, or another track of the same camera seen at
  the same time, already is that identity (two people at once are never one), or
- that identity was last seen somewhere nobody could walk to from here in the time
  elapsed (``walking_speed_mps`` x seconds + ``travel_slack_m``, positions from the
  site plan's camera poses; cameras without a pose cannot be compared, so only a
  pose on both sides can refuse a join),

in which case it tries the next nearest, and else becomes a new identity. The
track keeps its identity afterwards; its later encodings refine the centroid.

No database session here: the batch's writes leave as plain values. New
identities get provisional negative ids until ``finish`` hands their rows to an
``Allocate`` function (core's: :func:`insert_identities`, a short transaction of its
own, like drawing from a sequence: the live view already names them by their real
keys); the identities seen again become the parameters of one UPDATE
(:func:`update_identities`), stored with the batch's sightings in one transaction. A
batch that fails to store is forgotten by reloading the clusters from the database.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, bindparam, case, insert, update
from sqlalchemy.orm import Session

from core.recognition import Place, UnknownClusters
from core.store.codec import to_blob
from core.store.models import UnknownIdentity

UNKNOWNS = cast(Table, UnknownIdentity.__table__)
Row = dict[str, Any]  # column values of one ``unknown_identities`` row
# Stores new identities' rows; returns their database ids, in order.
Allocate = Callable[[list[Row]], list[int]]


@dataclass(slots=True)
class Finished:
    """What a batch did to the anonymous identities, for the store stage."""

    real: dict[int, int] = field(default_factory=dict)  # provisional id -> database id
    updates: list[Row] = field(default_factory=list)  # UPDATE parameters, seen again


@dataclass(frozen=True, slots=True)
class Travel:
    speed_mps: float = 2.5
    slack_m: float = 3.0

    def reachable(self, last: Place | None, here: Place) -> bool:
        """Could one person have been at ``last`` and be ``here``?"""
        if last is None or last.camera_id == here.camera_id:
            return True
        if last.x is None or last.y is None or here.x is None or here.y is None:
            return True  # no poses: the distance is unknown, nothing to refuse on
        gap = math.hypot(here.x - last.x, here.y - last.y)
        return gap <= self.speed_mps * abs(here.at - last.at) + self.slack_m


class Anonymous:
    """One batch's anonymous assignments, written with one flush."""

    def __init__(self, clusters: UnknownClusters, travel: Travel) -> None:
        self.clusters, self.travel = clusters, travel
        self.new_rows: dict[int, Row] = {}  # provisional (negative) id -> row
        # Stored identities seen again: id -> (faces added). Centroids and places are
        # read from the clusters at the end.
        self.joined: dict[int, int] = {}

    def known(self, uid: int) -> bool:
        return uid in self.clusters.index

    def assign(
        self,
        pooled: np.ndarray,
        here: Place,
        exclude: set[int],
        may_create: Callable[[], bool] = lambda: True,
    ) -> tuple[int, float] | None:
        """The identity of a track first seen unmatched (pooled encoding ``pooled``);
        None when it would be a new identity and ``may_create`` says no (the camera's
        rate of new identities, core/identity_limit.py)."""
        clusters = self.clusters
        for index, dist in clusters.within(pooled):
            uid = clusters.ids[index]
            if uid in exclude or not self.travel.reachable(clusters.places.get(uid), here):
                continue
            self._join(index, pooled)
            return uid, dist
        if not may_create():
            return None
        uid = -(len(self.new_rows) + 1)
        self.new_rows[uid] = {"first_seen": here.at, "last_seen": here.at}
        clusters.add(uid, pooled)
        return uid, 0.0

    def join(self, uid: int, vec: np.ndarray) -> float:
        """A later encoding of a track that has identity ``uid``; its distance before."""
        index = self.clusters.index[uid]
        dist = float(np.linalg.norm(self.clusters.centroids[index] - vec))
        self._join(index, vec)
        return dist

    def _join(self, index: int, vec: np.ndarray) -> None:
        self.clusters.join(index, vec)
        uid = self.clusters.ids[index]
        if uid not in self.new_rows:
            self.joined[uid] = self.joined.get(uid, 0) + 1

    def seen(self, uid: int, here: Place) -> None:
        """The identity was placed ``here`` (encoded or carried). In memory only: the
        database gets the place with the next encoding that joins the identity (one
        UPDATE per batch with encodings, not one per batch), so after a restart the
        travel check starts from a place at most a few seconds old."""
        last = self.clusters.places.get(uid)
        if last is None or here.at >= last.at:
            self.clusters.places[uid] = here

    def finish(self, allocate: Allocate) -> Finished:
        """Allocate the batch's new identities; the UPDATE for the ones seen again."""
        clusters = self.clusters
        out = Finished()
        for uid in self.joined:
            index = clusters.index.get(uid)
            if index is None:
                continue
            place = clusters.places.get(uid)
            out.updates.append(
                {
                    "uid": uid,
                    "c": to_blob(clusters.centroids[index]),
                    "n": self.joined[uid],
                    "seen": place.at if place else 0.0,
                    "cam": place.camera_id if place else None,
                    "px": place.x if place else None,
                    "py": place.y if place else None,
                }
            )
        if not self.new_rows:
            return out
        rows = []
        for uid, row in self.new_rows.items():
            index = clusters.index[uid]
            place = clusters.places.get(uid)
            row.update(centroid=to_blob(clusters.centroids[index]), count=clusters.counts[index])
            if place is not None:
                row["last_seen"] = max(row["last_seen"], place.at)
                row.update(last_camera=place.camera_id, last_x=place.x, last_y=place.y)
            rows.append(row)
        out.real = dict(zip(self.new_rows, allocate(rows), strict=True))
        clusters.rename(out.real)
        return out


def insert_identities(s: Session, rows: list[Row]) -> list[int]:
    """New anonymous identities' rows; their ids, in order (a few a batch at most)."""
    conn = s.connection()
    now = time.time()  # updated_at: see update_identities
    return [
        conn.execute(
            insert(UNKNOWNS).values({**row, "updated_at": now}).returning(UNKNOWNS.c.id)
        ).scalar_one()
        for row in rows
    ]


def update_identities(s: Session, updates: list[Row]) -> None:
    """One UPDATE for every identity a batch saw again: centroid, count, last place."""
    if not updates:
        return
    t = UNKNOWNS.c
    newer = t.last_seen <= bindparam("seen")
    s.connection().execute(
        update(UNKNOWNS)
        .where(t.id == bindparam("uid"))
        .values(
            centroid=bindparam("c"),
            count=t.count + bindparam("n"),
            # when: other core instances re-read what was written since they looked
            updated_at=time.time(),
            # portable "the later of the two" for the time and its place
            last_seen=case((newer, bindparam("seen")), else_=t.last_seen),
            last_camera=case((newer, bindparam("cam")), else_=t.last_camera),
            last_x=case((newer, bindparam("px")), else_=t.last_x),
            last_y=case((newer, bindparam("py")), else_=t.last_y),
        ),
        updates,
    )
