"""core.store.db: where the database is, and sessions that commit or roll back whole."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from core.store.db import Database, database_url, open_database
from core.store.models import CoreKey
from tests.core.ingest_helpers import core_config


def _key(public_key: str) -> CoreKey:
    return CoreKey(id=1, public_key=public_key, private_pem=None, created_at=1.0)


def test_the_default_database_is_a_sqlite_file_in_the_data_dir(tmp_path) -> None:
    assert database_url(core_config(tmp_path)) == f"sqlite:///{tmp_path / 'srs.db'}"


def test_a_configured_url_wins(tmp_path) -> None:
    url = "postgresql://srs@db.example/srs"
    assert database_url(core_config(tmp_path, database_url=url)) == url


def test_a_session_commits_when_its_block_ends(db: Database) -> None:
    with db.session() as s:
        s.add(_key("pub-1"))
    with db.session() as s:
        row = s.get(CoreKey, 1)
        assert row is not None and row.public_key == "pub-1"


def test_a_failing_block_leaves_nothing_behind(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        s.add(_key("pub-1"))
        s.flush()
        raise RuntimeError("the batch failed half-way")
    with db.session() as s:
        assert s.get(CoreKey, 1) is None


def test_a_database_opened_without_migrating_is_left_as_it_is(tmp_path) -> None:
    database = open_database(
        core_config(tmp_path, database_url=f"sqlite:///{tmp_path / 'x.db'}"),
        migrate_schema=False,
    )
    try:
        assert inspect(database.engine).get_table_names() == []
    finally:
        database.close()
