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

Database writes are batched: one UPDATE for the identities seen again and one
INSERT round for the new ones per batch. New identities get provisional negative
ids until that flush; a rolled-back batch is forgotten by reloading the clusters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np
from sqlalchemy import Table, bindparam, case, update
from sqlalchemy.orm import Session

from core.recognition import Place, UnknownClusters
from core.store.codec import to_blob
from core.store.models import UnknownIdentity

UNKNOWNS = cast(Table, UnknownIdentity.__table__)


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

    def __init__(self, s: Session, clusters: UnknownClusters, travel: Travel) -> None:
        self.s, self.clusters, self.travel = s, clusters, travel
        self.new_rows: dict[int, UnknownIdentity] = {}  # provisional (negative) id -> row
        # Stored identities seen again: id -> (faces added). Centroids and places are
        # read from the clusters at the end.
        self.joined: dict[int, int] = {}

    def known(self, uid: int) -> bool:
        return uid in self.clusters.index

    def assign(self, pooled: np.ndarray, here: Place, exclude: set[int]) -> tuple[int, float]:
        """The identity of a track first seen unmatched (pooled encoding ``pooled``)."""
        clusters = self.clusters
        for index, dist in clusters.within(pooled):
            uid = clusters.ids[index]
            if uid in exclude or not self.travel.reachable(clusters.places.get(uid), here):
                continue
            self._join(index, pooled)
            return uid, dist
        uid = -(len(self.new_rows) + 1)
        row = UnknownIdentity(
            centroid=to_blob(pooled), count=1, first_seen=here.at, last_seen=here.at
        )
        self.s.add(row)
        self.new_rows[uid] = row
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

    def finish(self) -> dict[int, int]:
        """Write the batch's identities; return provisional id -> database id."""
        clusters = self.clusters
        if self.joined:
            t = UNKNOWNS.c
            params = []
            for uid, n in self.joined.items():
                index = clusters.index.get(uid)
                if index is None:
                    continue
                place = clusters.places.get(uid)
                params.append(
                    {
                        "uid": uid,
                        "c": to_blob(clusters.centroids[index]),
                        "n": n,
                        "seen": place.at if place else 0.0,
                        "cam": place.camera_id if place else None,
                        "px": place.x if place else None,
                        "py": place.y if place else None,
                    }
                )
            if params:
                newer = t.last_seen <= bindparam("seen")
                self.s.connection().execute(
                    update(UNKNOWNS)
                    .where(t.id == bindparam("uid"))
                    .values(
                        centroid=bindparam("c"),
                        count=t.count + bindparam("n"),
                        # portable "the later of the two" for the time and its place
                        last_seen=case((newer, bindparam("seen")), else_=t.last_seen),
                        last_camera=case((newer, bindparam("cam")), else_=t.last_camera),
                        last_x=case((newer, bindparam("px")), else_=t.last_x),
                        last_y=case((newer, bindparam("py")), else_=t.last_y),
                    ),
                    params,
                )
        if not self.new_rows:
            return {}
        for uid, row in self.new_rows.items():
            index = clusters.index[uid]
            row.centroid = to_blob(clusters.centroids[index])
            row.count = clusters.counts[index]
            place = clusters.places.get(uid)
            if place is not None:
                row.last_seen = max(row.last_seen, place.at)
                row.last_camera, row.last_x, row.last_y = place.camera_id, place.x, place.y
        self.s.flush()  # one INSERT round for every new identity of the batch
        real = {tmp: row.id for tmp, row in self.new_rows.items()}
        clusters.rename(real)
        return real
