"""core/store/people.py: people, their encodings, renames, merges and erasure."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sqlalchemy import select

from core import store
from core.store.models import AuditEntry, FaceEncoding, Sighting
from core.store.people import pending_clears
from tests.core.ingest_helpers import camera_key
from tests.core.store.helpers import add_sighting


def test_rename_merge_and_delete_person_erases_everything(db):
    vec = np.ones(128, dtype=np.float32) * 0.1
    with db.session() as s:
        store.add_camera(s, "cam1", camera_key("cam1").public_key_b64)
        ada, _ = store.get_or_create_person(s, "Ada")
        bob, _ = store.get_or_create_person(s, "Bob")
        store.add_encodings(s, ada, [vec, vec])
        store.add_encodings(s, bob, [vec])
        add_sighting(s, "cam1", 1, ada.id, time.time())
        add_sighting(s, "cam1", 2, bob.id, time.time())
    with db.session() as s:
        store.rename_person(s, "Ada", "Ada Lovelace")
        with pytest.raises(store.StoreError, match="already called"):
            store.rename_person(s, "Bob", "Ada Lovelace")
        store.merge_people(s, f"p{bob.id}", "Ada Lovelace")
    with db.session() as s:
        people = store.list_people(s)
        assert [(p.name, p.encodings, p.sightings) for p in people] == [("Ada Lovelace", 3, 2)]
        counts = store.delete_person(s, "Ada Lovelace")
    assert counts["encodings"] == 3 and counts["sightings"] == 2
    with db.session() as s:
        assert store.list_people(s) == []
        assert s.scalars(select(FaceEncoding)).all() == []
        assert s.scalars(select(Sighting)).all() == []
        assert set(pending_clears(s)) == {f"p{ada.id}", f"p{bob.id}"}
        actions = [a.action for a in s.scalars(select(AuditEntry))]
    assert {"person_rename", "person_merge", "person_delete"} <= set(actions)
    with db.session() as s, pytest.raises(store.StoreError, match="no person"):
        store.delete_person(s, "Ada Lovelace")
