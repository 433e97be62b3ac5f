"""The core store as a whole: a fresh database migrates to the models; old ones upgrade."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from core import store
from tests.core.ingest_helpers import core_config


@pytest.fixture
def db(tmp_path):
    database = store.open_store(core_config(tmp_path))
    yield database
    database.close()


def test_fresh_database_migrates_to_head_with_wal(tmp_path, db):
    assert (tmp_path / "srs.db").exists()
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
        assert (
            conn.execute(text("select version_num from alembic_version")).scalar()
            == "0005_core_leases"
        )
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

    from core.store.db import MIGRATIONS, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    acfg = Config()
    acfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        acfg.attributes["connection"] = conn
        command.upgrade(acfg, "0001")
        conn.execute(
            text("insert into cameras values ('c', 'k', 1, 0, null, null, null, null, null, null)")
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
