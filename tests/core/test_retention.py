"""core/retention.py: old sightings go, and what they leave behind."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core import store
from core.retention import DAY_S, purge
from core.store.audit import GALLERY, audit_entries, revisions
from core.store.db import Database
from core.store.models import PendingClear, ProcessedMessage, Sighting, UnknownIdentity
from tests.core.ingest_helpers import camera_key, core_config
from tests.core.store.helpers import add_sighting, anonymous, vector


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


def test_old_dedupe_rows_and_forgotten_identities_go_and_are_audited(db: Database) -> None:
    now = 100 * DAY_S
    with db.session() as s:
        store.add_camera(s, "cam1", camera_key("cam1").public_key_b64)
        s.add(ProcessedMessage(camera_id="cam1", seq=1, received_at=now - 40 * DAY_S))
        s.add(ProcessedMessage(camera_id="cam1", seq=2, received_at=now - DAY_S))
        gone = anonymous(s, vector(0.1), now - 40 * DAY_S)
        still_seen = anonymous(s, vector(0.2), now - 40 * DAY_S)  # a recent sighting keeps it
        add_sighting(s, "cam1", 3, None, now - DAY_S)
        s.flush()
        s.execute(update(Sighting).values(unknown_id=still_seen.id))
        gone_id = gone.id
    with db.session() as s:
        counts = purge(s, 30, now=now)
    assert counts == {"sightings": 0, "processed_messages": 1, "unknown_identities": 1}
    with db.session() as s:
        assert s.get(UnknownIdentity, gone_id) is None
        assert audit_entries(s)[0].action == "retention_purge"
        assert revisions(s)[GALLERY] == 1
        assert purge(s, 30, now=now) == dict.fromkeys(counts, 0)
