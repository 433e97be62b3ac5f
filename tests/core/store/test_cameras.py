"""core/store/cameras.py: the camera registry."""

from __future__ import annotations

import pytest

from core import store
from core.store.audit import CAMERAS, audit_entries, revisions
from core.store.db import Database
from srs.wire import SigningKey
from tests.core.ingest_helpers import camera_key


def test_camera_registry_checks_keys_and_ids(db):
    key = camera_key("cam1").public_key_b64
    with db.session() as s:
        store.add_camera(s, "cam1", key)
        with pytest.raises(store.StoreError, match="already registered"):
            store.add_camera(s, "cam1", key)
        with pytest.raises(store.StoreError, match="Ed25519"):
            store.add_camera(s, "cam2", "not-a-key")
        with pytest.raises(store.StoreError, match="not valid"):
            store.add_camera(s, "cam/1", key)
        store.set_camera_enabled(s, "cam1", False)
    with db.session() as s:
        assert [(c.id, c.enabled) for c in store.list_cameras(s)] == [("cam1", False)]
        store.remove_camera(s, "cam1")
        assert store.list_cameras(s) == []


def test_replacing_a_key_keeps_the_camera_and_counts_the_change(db: Database) -> None:
    old, new = camera_key("cam1").public_key_b64, SigningKey.generate("x").public_key_b64
    with db.session() as s:
        store.add_camera(s, "cam1", old)
        info = store.add_camera(s, "cam1", f" {new}\n", replace=True, actor="alice")
        assert info.public_key == new
        assert info.as_dict()["enabled"] is True
        assert store.camera_keys(s) == {"cam1": (new, True)}
        assert revisions(s)[CAMERAS] == 2
        assert [e.actor for e in audit_entries(s)] == ["alice", "cli"]


def test_unknown_cameras_are_named(db: Database) -> None:
    with db.session() as s:
        with pytest.raises(store.StoreError, match="no camera 'cam9'"):
            store.set_camera_enabled(s, "cam9", True)
        with pytest.raises(store.StoreError, match="no camera 'cam9'"):
            store.remove_camera(s, "cam9")
