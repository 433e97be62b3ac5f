"""Schema migration: several instances starting at once on an empty database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.store.db import engine_for
from core.store.schema import current_revision, head_revision, migrate
from tests.core.ingest_helpers import core_config

ROOT = Path(__file__).resolve().parents[3]


def test_three_instances_migrating_an_empty_database_at_once_all_succeed(tmp_path) -> None:
    """Without the lock, 2 of 3 processes crashed in the migration on PostgreSQL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # SRS_CORE__DATABASE_URL: the test's store
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "srs.app", "db", "upgrade", "--data-dir", str(tmp_path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    # One of them built the schema; the others waited and found it done.
    assert sum("(was empty)" in out for out in outputs) == 1, outputs
    engine = engine_for(core_config(tmp_path))
    assert current_revision(engine) is not None
    engine.dispose()


def test_a_database_at_head_is_told_so_without_alembic(tmp_path, monkeypatch) -> None:
    """Every core start checks the schema; one already at head needs no alembic (its
    import was 0.6 s of core's start-up, most of core's recovery after a crash)."""
    engine = engine_for(core_config(tmp_path))
    try:
        assert migrate(engine) is None  # empty: alembic builds it
        assert current_revision(engine) == head_revision()

        def no_alembic(conn: object) -> None:
            raise AssertionError("alembic ran for a database at head")

        monkeypatch.setattr("core.store.schema._alembic_upgrade", no_alembic)
        assert migrate(engine) == head_revision()
    finally:
        engine.dispose()


def test_the_head_read_from_the_files_is_alembic_s() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from core.store.schema import MIGRATIONS

    acfg = Config()
    acfg.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(acfg).get_current_head()
