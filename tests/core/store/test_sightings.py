"""core/store/sightings.py: querying the sightings."""

from __future__ import annotations

import time

import pytest

from core import store
from core.store.db import Database
from tests.core.ingest_helpers import camera_key
from tests.core.store.helpers import add_sighting, anonymous, sighting_row, vector


def test_query_sightings_filters(db):
    now = time.time()
    with db.session() as s:
        store.add_camera(s, "cam1", camera_key("cam1").public_key_b64)
        store.add_camera(s, "cam2", camera_key("cam2").public_key_b64)
        ada, _ = store.get_or_create_person(s, "Ada")
        add_sighting(s, "cam1", 1, ada.id, now - 7200)
        add_sighting(s, "cam2", 2, ada.id, now - 60)
        add_sighting(s, "cam2", 3, None, now - 30)
    with db.session() as s:
        assert [r["seq"] for r in store.query_sightings(s)] == [3, 2, 1]
        assert [r["seq"] for r in store.query_sightings(s, person="Ada")] == [2, 1]
        assert [r["seq"] for r in store.query_sightings(s, camera="cam2", since=now - 3600)] == [
            3,
            2,
        ]
        assert store.query_sightings(s, person="Ada")[0]["label"] == "Ada"


def test_a_sighting_reads_as_known_unknown_or_unidentified(db: Database) -> None:
    with db.session() as s:
        store.add_camera(s, "cam1", camera_key("cam1").public_key_b64)
        ada, _ = store.get_or_create_person(s, "Ada")
        u = anonymous(s, vector(0.1), 1.0)
        sighting_row(s, "cam1", 1, 3.0, person_id=ada.id, evidence="matched")
        sighting_row(s, "cam1", 2, 2.0, unknown_id=u.id, candidate_id=ada.id)
        sighting_row(s, "cam1", 3, 1.0)
        rows = store.query_sightings(s)
        assert [(r["identity"], r["label"]) for r in rows] == [
            ("known", "Ada"),
            ("unknown", f"Unknown {u.id}"),
            ("unidentified", "Unidentified"),
        ]
        assert rows[0]["evidence"] == "matched"
        assert rows[1]["candidate"] == "Ada"
        assert rows[2]["person_key"] is None
        assert [r["seq"] for r in store.query_sightings(s, person=f"u{u.id}")] == [2]
        assert [r["seq"] for r in store.query_sightings(s, until=2.5, limit=1)] == [2]
        with pytest.raises(store.StoreError, match="limit"):
            store.query_sightings(s, limit=0)
