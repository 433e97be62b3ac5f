"""core/store/cameras.py: the camera registry."""

from __future__ import annotations

import pytest

from core import store
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
