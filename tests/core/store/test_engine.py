"""The database engine: URLs, the driver a PostgreSQL URL needs, timeouts."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from core.store.db import engine_for
from core.store.engine import POSTGRES_DRIVER, DriverMissing, Timeouts, make_engine
from srs.app.cli import main
from tests.core.ingest_helpers import core_config


def test_a_plain_postgresql_url_means_psycopg_3_with_the_timeouts() -> None:
    engine = make_engine(
        "postgresql://srs:pw@db.lan/srs?options=-csearch_path%3Dsite1",
        Timeouts(lock_s=2.5, statement_s=30),
    )
    assert engine.url.drivername == POSTGRES_DRIVER
    # The URL's own options are kept, the timeouts added (milliseconds).
    assert engine.url.query["options"] == (
        "-csearch_path=site1 -c lock_timeout=2500 -c statement_timeout=30000"
    )
    engine.dispose()


def test_a_postgresql_url_without_its_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if never installed
    with pytest.raises(DriverMissing, match=r"pip install 'srs\[postgres\]'"):
        make_engine("postgresql://srs@db.lan/srs")


def test_the_cli_says_one_sentence_when_the_driver_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.setenv("SRS_CORE__DATABASE_URL", "postgresql://srs@db.invalid/srs")
    for verb in (["db", "upgrade"], ["person", "list"]):
        assert main([*verb, "--data-dir", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("srs: ") and err.count("\n") == 1, err
        assert "pip install 'srs[postgres]'" in err


def test_sqlite_waits_as_long_as_the_lock_timeout_says(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}", Timeouts(lock_s=3.5))
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 3500
    engine.dispose()


def test_postgresql_gives_up_on_a_held_lock(
    tmp_path, postgres_schemas: object, store_database: str
) -> None:
    """A table somebody else holds fails the statement after lock_timeout, instead of
    stalling core for as long as they hold it."""
    from core.store import open_store

    db = open_store(core_config(tmp_path, database_lock_timeout_s=0.2))
    holder = make_engine(store_database)
    with holder.begin() as conn:
        conn.execute(text("LOCK TABLE revisions IN ACCESS EXCLUSIVE MODE"))
        with pytest.raises(OperationalError, match="lock timeout"), db.engine.begin() as other:
            other.execute(text("SELECT count(*) FROM revisions"))
    with db.engine.connect() as conn:
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "200ms"
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "1min"
    db.close()
    holder.dispose()


def test_engine_for_reads_the_configured_timeouts(tmp_path) -> None:
    engine = engine_for(core_config(tmp_path, database_lock_timeout_s=1.25))
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 1250
    else:
        assert "lock_timeout=1250" in str(engine.url.query["options"])
    engine.dispose()
