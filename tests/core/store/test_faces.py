"""core/store/faces.py: the best few face crops per identity, one per track."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import store
from core.store.db import Database
from core.store.errors import StoreError
from core.store.faces import MAX_KEPT, NewCrop, best_crops, keep_crops
from core.store.models import FaceCrop
from tests.core.ingest_helpers import camera_key
from tests.core.store.helpers import anonymous, sighting_row, vector


@pytest.fixture
def person_id(db: Database) -> int:
    with db.session() as s:
        store.add_camera(s, "door", camera_key("door").public_key_b64)
        ada, _ = store.get_or_create_person(s, "Ada")
        return ada.id


def crop_qualities(db: Database) -> list[float]:
    with db.session() as s:
        return sorted(c.quality for c in s.scalars(select(FaceCrop)))


def test_one_crop_per_track_the_better_one(db: Database, person_id: int) -> None:
    with db.session() as s:
        first = sighting_row(s, "door", 1, 10.0, person_id=person_id, track_id=4)
        second = sighting_row(s, "door", 2, 11.0, person_id=person_id, track_id=4)
        third = sighting_row(s, "door", 3, 12.0, person_id=person_id, track_id=4)
        assert keep_crops(s, [NewCrop(first.id, b"a", 0.5)]) == 1
        assert keep_crops(s, [NewCrop(second.id, b"b", 0.4)]) == 0  # worse: not kept
        assert keep_crops(s, [NewCrop(third.id, b"c", 0.9)]) == 1  # better: replaces
    assert crop_qualities(db) == [0.9]


def test_at_most_max_kept_per_identity_the_worst_goes(db: Database, person_id: int) -> None:
    with db.session() as s:
        rows = [
            sighting_row(s, "door", i, float(i), person_id=person_id, track_id=i)
            for i in range(MAX_KEPT + 2)
        ]
        kept = keep_crops(s, [NewCrop(r.id, b"j", 0.1 * (i + 1)) for i, r in enumerate(rows[:-1])])
        assert kept == MAX_KEPT + 1
        assert keep_crops(s, [NewCrop(rows[-1].id, b"j", 0.05)]) == 0  # worse than all kept
    assert len(crop_qualities(db)) == MAX_KEPT
    assert min(crop_qualities(db)) == pytest.approx(0.2)


def test_a_crop_of_nobody_is_not_kept(db: Database, person_id: int) -> None:
    with db.session() as s:
        nobody = sighting_row(s, "door", 1, 1.0)
        assert keep_crops(s, [NewCrop(nobody.id, b"x", 0.9), NewCrop(999, b"x", 0.9)]) == 0


def test_best_crops_of_a_person_and_of_an_identity(db: Database, person_id: int) -> None:
    with db.session() as s:
        stranger = anonymous(s, vector(0.1), 1.0)
        mine = [
            sighting_row(s, "door", i, float(i), person_id=person_id, track_id=i) for i in (1, 2)
        ]
        theirs = sighting_row(s, "door", 3, 3.0, unknown_id=stranger.id, track_id=3)
        keep_crops(s, [NewCrop(mine[0].id, b"low", 0.3), NewCrop(mine[1].id, b"high", 0.8)])
        keep_crops(s, [NewCrop(theirs.id, b"them", 0.5)])
        uid = stranger.id
    with db.session() as s:
        best = best_crops(s, f"p{person_id}")
        assert [c["jpeg"] for c in best] == [b"high", b"low"]
        assert best[0]["camera_id"] == "door"
        assert [c["jpeg"] for c in best_crops(s, f"p{person_id}", limit=1)] == [b"high"]
        assert [c["jpeg"] for c in best_crops(s, f"u{uid}")] == [b"them"]


@pytest.mark.parametrize("key, why", [("Ada", "not a person key"), ("p99", "no person"),
                                      ("u99", "no anonymous identity")])  # fmt: skip
def test_best_crops_refuses_what_is_not_there(db: Database, key: str, why: str) -> None:
    with db.session() as s, pytest.raises(StoreError, match=why):
        best_crops(s, key)
