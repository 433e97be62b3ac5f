"""The core store as a whole: a fresh database migrates to the models; old ones upgrade."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text, update

from core import store
from core.store.models import Sighting
from tests.core.ingest_helpers import camera_key, core_config
from tests.core.store.helpers import add_sighting


@pytest.fixture
def db(tmp_path):
    database = store.open_store(core_config(tmp_path))
    yield database
    database.close()


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from core.store.db import MIGRATIONS

    acfg = Config()
    acfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(acfg).get_current_head()
    assert head is not None
    return head


def test_fresh_database_migrates_to_head_with_wal(tmp_path, db):
    sqlite = db.engine.dialect.name == "sqlite"
    assert (tmp_path / "srs.db").exists() == sqlite
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "people",
        "encodings",
        "negative_examples",
        "cameras",
        "sightings",
        "processed_messages",
        "unknown_identities",
        "users",
        "audit_log",
        "face_crops",
        "alembic_version",
    } <= tables
    with db.engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == _head()
        if sqlite:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    store.migrate(db.engine)  # running it again is a no-op


def test_migrations_build_exactly_the_models(db):
    """Nothing the models declare is missing from the migrated schema (and vice versa)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from core.store.models import Base

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # The candidate_id column deliberately has no foreign key (0002 adds columns only).
    assert diff == []


def test_an_old_database_upgrades_and_keeps_its_sightings(tmp_path):
    """A 0001 database (before identity evidence) gains the new columns, rows intact."""
    from alembic import command
    from alembic.config import Config

    from core.store.db import MIGRATIONS, engine_for

    engine = engine_for(core_config(tmp_path))
    acfg = Config()
    acfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        acfg.attributes["connection"] = conn
        command.upgrade(acfg, "0001")
        conn.execute(
            text(
                "insert into cameras values ('c', 'k', true, 0, null, null, null, null, null, null)"
            )
        )
        conn.execute(
            text(
                "insert into sightings (id, camera_id, seq, det_index, seen_at, kind, track_id,"
                " bbox_x, bbox_y, bbox_w, bbox_h) values (1, 'c', 1, 0, 5.0, 'face', 1, 0, 0, 9, 9)"
            )
        )
    store.migrate(engine)
    with engine.connect() as conn:
        row = conn.execute(text("select seen_at, evidence, candidate_id from sightings")).one()
        assert tuple(row) == (5.0, None, None)
        assert conn.execute(text("select last_camera from unknown_identities")).all() == []
    engine.dispose()


def test_ids_seqs_and_track_ids_beyond_32_bits_are_stored(db):
    """An edge's seq may reach 2**53 and a track id 2**31; a busy site's sightings
    outgrow 2**31 ids: PostgreSQL's INTEGER stopped there (migration 0004)."""
    from core.store.models import FaceCrop

    big = 2**40
    with db.session() as s:
        store.add_camera(s, "cam1", camera_key("cam1").public_key_b64)
    with db.session() as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(
                text("SELECT setval(pg_get_serial_sequence('sightings', 'id'), :v)"), {"v": big}
            )
        else:  # SQLite numbers the next rowid after the largest
            add_sighting(s, "cam1", 1, None, 1.0)
            s.flush()
            s.execute(update(Sighting).values(id=big))
    with db.session() as s:
        row = Sighting(
            camera_id="cam1",
            seq=2**53,
            det_index=0,
            seen_at=2.0,
            kind="face",
            track_id=2**31,
            bbox_x=0,
            bbox_y=0,
            bbox_w=10,
            bbox_h=10,
        )
        s.add(row)
        s.flush()
        s.add(FaceCrop(sighting_id=row.id, jpeg=b"x", quality=1.0))
    with db.session() as s:
        stored = s.scalars(select(Sighting).where(Sighting.seq == 2**53)).one()
        assert (stored.id, stored.track_id) == (big + 1, 2**31)
        assert s.scalars(select(FaceCrop.sighting_id)).one() == big + 1
