"""Anonymous identities shared by core instances (core/shared_unknowns.py): real
encodings of real faces, real SQLite, two instances' clusters side by side."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select

from core.anonymous import Travel
from core.recognition import UnknownClusters
from core.shared_unknowns import SharedUnknowns
from core.store.codec import to_blob
from core.store.db import Database, make_engine, migrate
from core.store.models import UnknownIdentity
from tests.core.ingest_helpers import face_data


def _row(vec: np.ndarray, cam: str, at: float) -> dict:
    return {
        "first_seen": at,
        "last_seen": at,
        "centroid": to_blob(vec),
        "count": 1,
        "last_camera": cam,
        "last_x": None,
        "last_y": None,
    }


def test_two_instances_meeting_one_stranger_make_one_identity(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'srs.db'}")
    migrate(engine)
    db = Database(engine)
    faces = face_data()
    obama1 = np.array(faces["test/obama1.jpg"][0][1])
    obama2 = np.array(faces["train/obama/obama.jpg"][0][1])
    other = np.array(faces["train/biden/biden.jpg"][0][1])
    one, two = UnknownClusters(0.5), UnknownClusters(0.5)
    a = SharedUnknowns(db, lambda: one, Travel())
    b = SharedUnknowns(db, lambda: two, Travel())
    (first,) = a.allocate([_row(obama1, "cam1", 10.0)])
    one.add(first, obama1)  # as recognise does with the id it got (clusters.rename)
    # b never heard of it: the same face on another camera becomes the same identity,
    # a different face a new one.
    same, new = b.allocate([_row(obama2, "cam2", 11.0), _row(other, "cam2", 11.0)])
    assert same == first
    assert new != first
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(UnknownIdentity)) == 2
    # sync brings the other instance's identities into the clusters
    assert a.sync() == 1 and new in one.index
    db.close()
