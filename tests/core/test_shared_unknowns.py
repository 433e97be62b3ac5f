"""Anonymous identities shared by core instances (core/shared_unknowns.py): real
encodings of real faces, real SQLite, two instances' clusters side by side."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select, update

from core.anonymous import Travel, insert_identities, update_identities
from core.recognition import Place, UnknownClusters
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


def sqlite_store(tmp_path) -> Database:
    engine = make_engine(f"sqlite:///{tmp_path / 'srs.db'}")
    migrate(engine)
    return Database(engine)


def two_instances(
    db: Database,
) -> tuple[SharedUnknowns, SharedUnknowns, UnknownClusters, UnknownClusters]:
    """Instances a and b on one store, and their clusters (``one`` is a's)."""
    one, two = UnknownClusters(0.5), UnknownClusters(0.5)
    return (
        SharedUnknowns(db, lambda: one, Travel()),
        SharedUnknowns(db, lambda: two, Travel()),
        one,
        two,
    )


def test_two_instances_meeting_one_stranger_make_one_identity(tmp_path):
    db = sqlite_store(tmp_path)
    faces = face_data()
    obama1 = np.array(faces["test/obama1.jpg"][0][1])
    obama2 = np.array(faces["train/obama/obama.jpg"][0][1])
    other = np.array(faces["train/biden/biden.jpg"][0][1])
    a, b, one, _ = two_instances(db)
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


def test_a_centroid_refined_by_one_instance_is_re_read_by_the_other(tmp_path):
    """A refines an identity both know (its write is update_identities, as in a
    batch); B's copy is A's after B's next sync, and A's own sync leaves its copy be."""
    db = sqlite_store(tmp_path)
    faces = face_data()
    obama1 = np.array(faces["test/obama1.jpg"][0][1])
    obama2 = np.array(faces["train/obama/obama.jpg"][0][1])
    a, b, one, two = two_instances(db)
    (uid,) = a.allocate([_row(obama1, "cam1", 10.0)])
    one.add(uid, obama1)
    assert b.sync() == 1 and two.counts[two.index[uid]] == 1
    assert b.sync() == 0  # nothing written since: nothing re-read

    # A sees the person again and stores the refined centroid, as a batch does.
    refined = one.join(one.index[uid], obama2)
    with db.session() as s:
        update_identities(
            s,
            [
                {
                    "uid": uid,
                    "c": to_blob(refined),
                    "n": 1,
                    "seen": 12.0,
                    "cam": "cam1",
                    "px": 1.0,
                    "py": 2.0,
                }
            ],
        )
    assert a.sync() == 0  # its own write: its copy is the stored one already
    assert not np.allclose(two.centroids[two.index[uid]], refined)
    assert b.sync() == 1
    index = two.index[uid]
    assert np.allclose(two.centroids[index], refined)
    assert two.counts[index] == 2 == one.counts[one.index[uid]]
    assert two.places[uid] == Place("cam1", 1.0, 2.0, 12.0)
    assert b.sync() == 0  # re-read once, not at every renewal
    db.close()


def test_a_write_older_than_the_lookback_is_not_looked_for(tmp_path):
    """The re-read looks only at identities written since the last sync (less the
    lookback): the cost follows what changed, not how many identities there are."""
    db = sqlite_store(tmp_path)
    faces = face_data()
    obama1 = np.array(faces["test/obama1.jpg"][0][1])
    now = [1000.0]
    two = UnknownClusters(0.5)
    b = SharedUnknowns(db, lambda: two, Travel(), lookback_s=5.0, clock=lambda: now[0])
    with db.session() as s:
        (uid,) = insert_identities(s, [_row(obama1, "cam1", 10.0)])
    assert b.sync() == 1
    with db.session() as s:  # written by another instance, stamped long ago
        s.execute(
            update(UnknownIdentity)
            .where(UnknownIdentity.id == uid)
            .values(count=7, updated_at=now[0] - 60.0)
        )
    now[0] += 1.0
    assert b.sync() == 0 and two.counts[two.index[uid]] == 1
    db.close()
