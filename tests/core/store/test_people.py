"""core/store/people.py: people, their encodings, renames, merges and erasure."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sqlalchemy import select

from core import store
from core.store.codec import to_blob
from core.store.db import Database
from core.store.models import AuditEntry, FaceEncoding, NegativeExample, Sighting
from core.store.people import done_clears, pending_clears
from tests.core.ingest_helpers import camera_key
from tests.core.store.helpers import add_sighting, anonymous, sighting_row, vector


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


def test_a_person_is_found_by_key_id_or_name(db: Database) -> None:
    with db.session() as s:
        ada, created = store.get_or_create_person(s, "Ada")
        assert created
        assert store.get_or_create_person(s, "Ada") == (ada, False)
        for ref in (f"p{ada.id}", str(ada.id), ada.id, "Ada"):
            assert store.find_person(s, ref) is ada
        with pytest.raises(store.StoreError, match="no person 'Bob'"):
            store.find_person(s, "Bob")
        with pytest.raises(store.StoreError):
            store.get_or_create_person(s, "p7")  # a key's shape is never a name


def test_naming_an_identity_makes_its_encodings_the_persons(db: Database) -> None:
    with db.session() as s:
        store.add_camera(s, "cam1", camera_key("cam1").public_key_b64)
        u = anonymous(s, vector(0.2), 1.0)
        row = sighting_row(s, "cam1", 1, 1.0, unknown_id=u.id, encoding=to_blob(vector(0.2)))
        person = store.name_identity(s, f"u{u.id}", "Kit", actor="alice")
        row_id, person_id = row.id, person.id
    with db.session() as s:
        named = s.get(Sighting, row_id)
        assert named is not None
        assert (named.person_id, named.unknown_id) == (person_id, None)
        assert [p.encodings for p in store.list_people(s)] == [1]
        assert pending_clears(s) == [f"u{u.id}"]
        done_clears(s, [f"u{u.id}"])
        assert pending_clears(s) == []


def test_rejecting_a_sighting_teaches_not_this_person(db: Database) -> None:
    with db.session() as s:
        store.add_camera(s, "cam1", camera_key("cam1").public_key_b64)
        ada, _ = store.get_or_create_person(s, "Ada")
        row = sighting_row(s, "cam1", 1, 1.0, person_id=ada.id, encoding=to_blob(vector(0.3)))
        store.reject_sighting(s, row.id, actor="alice")
        assert row.person_id is None
        assert [n.person_id for n in s.scalars(select(NegativeExample))] == [ada.id]
        with pytest.raises(store.StoreError, match="names nobody"):
            store.reject_sighting(s, row.id, actor="alice")
        with pytest.raises(store.StoreError, match="no sighting 999"):
            store.reject_sighting(s, 999, actor="alice")
