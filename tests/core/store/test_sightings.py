"""core/store/sightings.py: querying the sightings."""

from __future__ import annotations

import time

from core import store
from tests.core.ingest_helpers import camera_key
from tests.core.store.helpers import add_sighting


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
