"""core/retention.py: old sightings go, and what they leave behind."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from core import store
from core.retention import purge
from core.store.db import Database
from core.store.models import PendingClear, Sighting
from tests.core.ingest_helpers import camera_key, core_config
from tests.core.store.helpers import add_sighting


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = store.open_store(core_config(tmp_path))
    yield database
    database.close()


def test_retention_purges_old_sightings_only(db):
    now = time.time()
    with db.session() as s:
        store.add_camera(s, "cam1", camera_key("cam1").public_key_b64)
        add_sighting(s, "cam1", 1, None, now - 31 * 86400)
        add_sighting(s, "cam1", 2, None, now - 29 * 86400)
    with db.session() as s:
        assert purge(s, 30, now=now)["sightings"] == 1
    with db.session() as s:
        assert [r.seq for r in s.scalars(select(Sighting))] == [2]
        assert s.scalars(select(PendingClear)).all() == []
