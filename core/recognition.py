"""Who is this face? Vectorised nearest-neighbour matching with a margin rule.

All queries of a batch are matched against the gallery in one matrix product
using ``|q - g|^2 = |q|^2 + |g|^2 - 2 q.g``. A face is named only when its best
person is within the threshold AND beats the best *different* person by the
margin: the commonest failure of such systems is a stranger named as an enrolled
person because two people were almost equally close. A negative example (staff
said "not this person") vetoes a person for queries nearer to the negative than
to that person's own enrolled encodings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.store.codec import from_blob
from core.store.models import FaceEncoding, NegativeExample, UnknownIdentity

DIM = 128
# float32 halves memory and matmul time; distance error stays ~1e-6 for unit-scale encodings.


@dataclass(frozen=True, slots=True)
class Match:
    person_id: int | None  # None: not named (too far, or not clearly one person)
    distance: float  # to the best candidate (inf with an empty gallery)
    candidate_id: int | None  # best candidate even when not named
    second_distance: float  # to the best different person


def _sq_dists(q: np.ndarray, g: np.ndarray, g_sq: np.ndarray) -> np.ndarray:
    # In place on the product: with a 10k gallery every m x N temporary costs as much
    # as the matrix product itself.
    d = q @ g.T
    d *= -2.0
    d += g_sq[None, :]
    d += (q * q).sum(axis=1)[:, None]
    np.maximum(d, 0.0, out=d)
    return d


class Gallery:
    """Enrolled encodings (rows) with the person id of each row.

    Rows are kept sorted by person, so one ``minimum.reduceat`` turns the query x row
    distances into query x person distances: the best and the best *different* person
    are then the two smallest of a row, with no per-query masking (that loop and its
    dozen small numpy calls per face cost more than the matrix product itself with a
    small gallery, and they were on the path to every live position).
    """

    def __init__(
        self,
        person_ids: np.ndarray,
        vectors: np.ndarray,
        neg_person_ids: np.ndarray | None = None,
        negatives: np.ndarray | None = None,
    ) -> None:
        pids = np.asarray(person_ids, dtype=np.int64)
        order = np.argsort(pids, kind="stable")
        self.person_ids = pids[order]
        self.vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, DIM)[order]
        self._sq = (self.vectors**2).sum(axis=1)
        self._people, self._starts = np.unique(self.person_ids, return_index=True)
        neg_pids = np.asarray(neg_person_ids if neg_person_ids is not None else [], dtype=np.int64)
        negs = np.asarray(
            negatives if negatives is not None else np.empty((0, DIM)), dtype=np.float32
        ).reshape(-1, DIM)
        # Negatives of people not (or no longer) enrolled veto nothing.
        enrolled = np.isin(neg_pids, self._people)
        self.negatives = negs[enrolled]
        self._neg_sq = (self.negatives**2).sum(axis=1)
        # The person column each remaining negative vetoes.
        self._neg_columns = np.searchsorted(self._people, neg_pids[enrolled])

    @classmethod
    def load(cls, s: Session) -> Gallery:
        rows = s.execute(select(FaceEncoding.person_id, FaceEncoding.vector)).all()
        negs = s.execute(select(NegativeExample.person_id, NegativeExample.vector)).all()
        return cls(
            np.array([r[0] for r in rows], dtype=np.int64),
            np.array([from_blob(r[1]) for r in rows]).reshape(-1, DIM),
            np.array([n[0] for n in negs], dtype=np.int64),
            np.array([from_blob(n[1]) for n in negs]).reshape(-1, DIM),
        )

    def __len__(self) -> int:
        return len(self.person_ids)

    def match(
        self, queries: np.ndarray, thresholds: np.ndarray | float, margin: float
    ) -> list[Match]:
        q = np.asarray(queries, dtype=np.float32).reshape(-1, DIM)
        m = len(q)
        if m == 0:
            return []
        if len(self) == 0:
            return [Match(None, float("inf"), None, float("inf"))] * m
        d2 = _sq_dists(q, self.vectors, self._sq)
        # Squared distance to each person's nearest encoding: query x person.
        one_row_each = len(self._people) == len(self)
        per = d2 if one_row_each else np.minimum.reduceat(d2, self._starts, axis=1)
        if len(self.negatives):
            self._apply_vetoes(q, per)
        rows = np.arange(m)
        best = per.argmin(axis=1)
        best_d = np.sqrt(per[rows, best])
        if per.shape[1] > 1:
            second_d = np.sqrt(np.partition(per, 1, axis=1)[:, 1])
        else:
            second_d = np.full(m, np.inf, dtype=per.dtype)
        limit = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (m,))
        finite = np.isfinite(best_d)
        with np.errstate(invalid="ignore"):  # inf - inf when every person is vetoed
            named = finite & (best_d <= limit) & (second_d - best_d >= margin)
        pids = self._people[best].tolist()
        return [
            Match(pid if ok else None, d, pid if fin else None, sd)
            for pid, ok, fin, d, sd in zip(
                pids,
                named.tolist(),
                finite.tolist(),
                best_d.tolist(),
                second_d.tolist(),
                strict=True,
            )
        ]

    def _apply_vetoes(self, q: np.ndarray, per: np.ndarray) -> None:
        """Set a person's distance to inf for queries nearer a negative of theirs."""
        neg_d2 = _sq_dists(q, self.negatives, self._neg_sq)
        for k, col in enumerate(self._neg_columns.tolist()):
            per[neg_d2[:, k] <= per[:, col], col] = np.inf


@dataclass(frozen=True, slots=True)
class Place:
    """Where and when an anonymous identity was last seen (x, y: None without a pose)."""

    camera_id: str
    x: float | None
    y: float | None
    at: float


@dataclass(slots=True)
class _Undo:
    """The clusters as a batch found them: their size, places, and joined rows."""

    size: int
    places: dict[int, Place]
    joined: dict[int, tuple[np.ndarray, int]] = field(default_factory=dict)


class UnknownClusters:
    """Anonymous identities as running centroids; ids come from the database."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.ids: list[int] = []
        self.counts: list[int] = []
        self.index: dict[int, int] = {}  # id -> row
        self.places: dict[int, Place] = {}  # id -> last seen
        self._store = np.empty((64, DIM), dtype=np.float64)  # grows by doubling
        self._undo: _Undo | None = None  # what a batch changed, until it is stored

    @property
    def centroids(self) -> np.ndarray:
        return self._store[: len(self.ids)]

    @classmethod
    def load(cls, s: Session, threshold: float) -> UnknownClusters:
        c = cls(threshold)
        u = UnknownIdentity
        rows = s.execute(
            select(u.id, u.count, u.centroid, u.last_camera, u.last_x, u.last_y, u.last_seen)
        ).all()
        for uid, count, blob, cam, x, y, seen in rows:
            c.add(uid, from_blob(blob))
            c.counts[-1] = count
            if cam is not None:
                c.places[uid] = Place(cam, x, y, seen)
        return c

    def nearest(self, vec: np.ndarray) -> tuple[int, float] | None:
        """Index and distance of the nearest identity within the threshold."""
        near = self.within(vec)
        return near[0] if near else None

    def within(self, vec: np.ndarray) -> list[tuple[int, float]]:
        """Indexes and distances of the identities within the threshold, nearest first."""
        if not self.ids:
            return []
        diff = self.centroids - vec[None, :]
        d = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        close = np.flatnonzero(d <= self.threshold)
        return [(int(i), float(d[i])) for i in close[np.argsort(d[close], kind="stable")]]

    def rename(self, real: dict[int, int]) -> None:
        """Provisional ids became database ids."""
        self.ids = [real.get(i, i) for i in self.ids]
        self.index = {uid: i for i, uid in enumerate(self.ids)}
        for tmp, uid in real.items():
            if tmp in self.places:
                self.places[uid] = self.places.pop(tmp)

    # --- a batch's changes, undone when it is not stored -------------------------

    def begin(self) -> None:
        """A batch starts changing the clusters: note what :meth:`rollback` restores."""
        self._undo = _Undo(len(self.ids), dict(self.places))

    def commit(self) -> None:
        self._undo = None

    def rollback(self) -> None:
        """The batch was not stored: its joins are undone and its provisional (negative,
        never stored) identities dropped. Identities it allocated stay: their rows were
        committed in a transaction of their own (the live view already showed them)."""
        undo, self._undo = self._undo, None
        if undo is None:
            return
        for index, (row, count) in undo.joined.items():
            self._store[index] = row
            self.counts[index] = count
        kept = [i for i in range(undo.size, len(self.ids)) if self.ids[i] > 0]
        for to, i in enumerate(kept, start=undo.size):
            self._store[to] = self._store[i]
        ids = self.ids[: undo.size] + [self.ids[i] for i in kept]
        self.counts = self.counts[: undo.size] + [self.counts[i] for i in kept]
        self.places = undo.places | {
            u: self.places[u] for u in ids[undo.size :] if u in self.places
        }
        self.ids = ids
        self.index = {uid: i for i, uid in enumerate(ids)}

    def join(self, index: int, vec: np.ndarray) -> np.ndarray:
        """Fold ``vec`` into identity ``index``; return the new centroid."""
        undo = self._undo
        if undo is not None and index < undo.size and index not in undo.joined:
            undo.joined[index] = (self._store[index].copy(), self.counts[index])
        n = min(self.counts[index], 50)  # cap the weight so the centroid can still drift
        self._store[index] = (self._store[index] * n + vec) / (n + 1)
        self.counts[index] += 1
        return self._store[index].copy()

    def replace(self, index: int, vec: np.ndarray, count: int) -> None:
        """Identity ``index`` as another core instance stored it (core/shared_unknowns.py;
        between batches, so there is nothing to undo)."""
        self._store[index] = vec
        self.counts[index] = count

    def add(self, identity_id: int, vec: np.ndarray) -> None:
        if len(self.ids) == len(self._store):
            self._store = np.vstack([self._store, np.empty_like(self._store)])
        self._store[len(self.ids)] = vec
        self.index[identity_id] = len(self.ids)
        self.ids.append(identity_id)
        self.counts.append(1)
