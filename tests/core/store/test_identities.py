"""core/store/identities.py: the store's bookkeeping of merges and splits (centroids,
sightings, refusals). Recognition with real faces is tests/core/test_identities.py;
here the centroids are arithmetic vectors, so the averages can be checked exactly."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from core import store
from core.store.codec import from_blob, to_blob
from core.store.db import Database
from core.store.errors import StoreError
from core.store.identities import could_be_one, merge_close_identities, merge_keys, split_identity
from core.store.models import Sighting, UnknownIdentity
from core.store.people import pending_clears
from tests.core.ingest_helpers import camera_key
from tests.core.store.helpers import anonymous, sighting_row, vector


@pytest.fixture
def cams(db: Database) -> Database:
    with db.session() as s:
        for cam in ("near", "far"):
            store.add_camera(s, cam, camera_key(cam).public_key_b64)
    return db


def test_merging_two_identities_weighs_their_centroids(cams: Database) -> None:
    with cams.session() as s:
        a = anonymous(s, vector(0.1), 10.0, count=3)
        b = anonymous(s, vector(0.5), 20.0, count=1)
        sighting_row(s, "near", 1, 20.0, unknown_id=b.id)
        a_id, b_id = a.id, b.id
    with cams.session() as s:
        merged = merge_keys(s, f"u{b_id}", f"u{a_id}", actor="test")
    assert merged.as_dict() == {"person_key": f"u{a_id}", "name": f"Unknown {a_id}",
                                "merged": f"u{b_id}"}  # fmt: skip
    with cams.session() as s:
        kept = s.get(UnknownIdentity, a_id)
        assert kept is not None
        assert np.allclose(from_blob(kept.centroid), 0.2)  # (3 x 0.1 + 1 x 0.5) / 4
        assert (kept.count, kept.first_seen, kept.last_seen) == (4, 10.0, 20.0)
        assert s.get(UnknownIdentity, b_id) is None
        assert [r.unknown_id for r in s.scalars(select(Sighting))] == [a_id]
        assert f"u{b_id}" in pending_clears(s)


def test_merging_into_a_person_names_the_identity(cams: Database) -> None:
    with cams.session() as s:
        ada, _ = store.get_or_create_person(s, "Ada")
        u = anonymous(s, vector(0.1), 1.0)
        sighting_row(s, "near", 1, 1.0, unknown_id=u.id, encoding=to_blob(vector(0.1)))
        merged = merge_keys(s, f"u{u.id}", "Ada")
        assert (merged.new_key, merged.label, merged.identity) == (f"p{ada.id}", "Ada", "known")
        assert [r.person_id for r in s.scalars(select(Sighting))] == [ada.id]


@pytest.mark.parametrize(
    "source, target, why",
    [("u1", "u1", "into itself"), ("u1", "u99", "no anonymous identity"),
     ("Ada", "u1", "cannot be merged into an anonymous identity")],
)  # fmt: skip
def test_merges_that_make_no_sense_are_refused(
    cams: Database, source: str, target: str, why: str
) -> None:
    with cams.session() as s:
        store.get_or_create_person(s, "Ada")
        assert anonymous(s, vector(0.1), 1.0).id == 1
    with cams.session() as s, pytest.raises(StoreError, match=why):
        merge_keys(s, source, target)


def test_a_split_moves_one_track_and_recentres_what_stays(cams: Database) -> None:
    with cams.session() as s:
        u = anonymous(s, vector(0.3), 1.0, count=2)
        sighting_row(s, "near", 1, 1.0, unknown_id=u.id, track_id=1, encoding=to_blob(vector(0.1)))
        sighting_row(s, "near", 2, 2.0, unknown_id=u.id, track_id=2, encoding=to_blob(vector(0.5)))
        uid = u.id
    with cams.session() as s:
        out = split_identity(s, f"u{uid}", track_id=2)
        new_id = int(str(out["new_key"])[1:])
        assert out["moved"] == 1
        old, new = s.get(UnknownIdentity, uid), s.get(UnknownIdentity, new_id)
        assert old is not None and new is not None
        assert np.allclose(from_blob(old.centroid), 0.1)
        assert np.allclose(from_blob(new.centroid), 0.5)
        with pytest.raises(StoreError, match="every sighting"):
            split_identity(s, f"u{uid}", camera_id="near")
        with pytest.raises(StoreError, match="say which sightings"):
            split_identity(s, f"u{uid}")
        with pytest.raises(StoreError, match="no sighting of"):
            split_identity(s, f"u{uid}", camera_id="far")


def test_one_camera_seeing_both_at_once_means_two_people(cams: Database) -> None:
    with cams.session() as s:
        a, b = anonymous(s, vector(0.1), 1.0), anonymous(s, vector(0.1), 1.0)
        sighting_row(s, "near", 1, 100.0, unknown_id=a.id)
        sighting_row(s, "near", 2, 100.1, unknown_id=b.id, track_id=2)
        assert not could_be_one(s, a.id, b.id)
        assert merge_close_identities(s, 0.4) == []


def test_nobody_walks_twenty_metres_in_a_second(cams: Database) -> None:
    with cams.session() as s:
        a, b = anonymous(s, vector(0.1), 1.0), anonymous(s, vector(0.1), 1.0)
        sighting_row(s, "near", 1, 100.0, unknown_id=a.id, x=0.0, y=0.0)
        sighting_row(s, "far", 1, 101.0, unknown_id=b.id, x=20.0, y=0.0)
        assert not could_be_one(s, a.id, b.id, speed_mps=2.5, slack_m=3.0)
        assert could_be_one(s, a.id, b.id, speed_mps=20.0, slack_m=3.0)


def test_close_identities_merge_the_newer_into_the_older(cams: Database) -> None:
    with cams.session() as s:
        a = anonymous(s, vector(0.10), 1.0)
        b = anonymous(s, vector(0.11), 50.0)  # 0.11 apart over 128 dims
        c = anonymous(s, vector(0.90), 50.0)  # far from both
        merged = merge_close_identities(s, 0.4, seen_since=40.0)
        assert [(m.old_key, m.new_key) for m in merged] == [(f"u{b.id}", f"u{a.id}")]
        assert {i.id for i in s.scalars(select(UnknownIdentity))} == {a.id, c.id}
