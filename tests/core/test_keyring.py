"""core/keyring.py: which camera keys core accepts, from the registry."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import store
from core.keyring import CameraKeyring
from core.store.db import Database
from core.store.models import Camera
from srs.wire import topics
from srs.wire.keys import public_key_to_b64
from tests.core.ingest_helpers import camera_key, core_config

KEYS = {cam: camera_key(cam).public_key_b64 for cam in ("door", "yard")}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = store.open_store(core_config(tmp_path))
    with database.session() as s:
        store.add_camera(s, "door", KEYS["door"])
        store.add_camera(s, "yard", KEYS["yard"])
        store.set_camera_enabled(s, "yard", False)
    yield database
    database.close()


def loaded(db: Database) -> CameraKeyring:
    ring = CameraKeyring()
    with db.session() as s:
        ring.load(s)
    return ring


def test_only_enabled_cameras_have_a_key(db: Database) -> None:
    ring = loaded(db)
    door = ring.lookup(topics.camera_issuer("door"))
    assert door is not None
    assert public_key_to_b64(door) == KEYS["door"]
    assert ring.lookup(topics.camera_issuer("yard")) is None  # disabled: refused
    assert ring.lookup(topics.camera_issuer("hall")) is None  # never registered
    assert ring.lookup("core") is None
    assert (ring.enabled, ring.known) == ({"door"}, {"door", "yard"})


def test_core_vouches_for_the_enabled_cameras_keys(db: Database) -> None:
    assert loaded(db).vouched() == {"door": KEYS["door"]}


def test_a_reload_follows_the_registry(db: Database) -> None:
    ring = loaded(db)
    with db.session() as s:
        store.set_camera_enabled(s, "yard", True)
        store.remove_camera(s, "door")
    with db.session() as s:
        ring.load(s)
    assert ring.lookup(topics.camera_issuer("door")) is None
    assert ring.lookup(topics.camera_issuer("yard")) is not None


def test_an_unusable_key_in_the_registry_is_skipped_and_said(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with db.session() as s:
        cam = s.get(Camera, "door")
        assert cam is not None
        cam.public_key = "damaged"  # written around add_camera's check
    with caplog.at_level(logging.ERROR, logger="core.keyring"):
        ring = loaded(db)
    assert ring.lookup(topics.camera_issuer("door")) is None
    assert ring.known == {"door", "yard"}
    assert "camera door has an unusable public key" in caplog.text
