"""core.store.models: 64-bit ids where the dialect needs them, and the named constraints."""

from __future__ import annotations

from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateTable

from core.store.models import Base, BigId


def _ddl(table: str, dialect: Dialect) -> str:
    return str(CreateTable(Base.metadata.tables[table]).compile(dialect=dialect))


def test_big_ids_are_bigint_on_postgresql_and_integer_on_sqlite() -> None:
    assert BigId.compile(dialect=postgresql.dialect()) == "BIGINT"
    assert BigId.compile(dialect=sqlite.dialect()) == "INTEGER"


def test_sqlite_keeps_its_self_numbering_integer_primary_key() -> None:
    # Only "INTEGER PRIMARY KEY" is SQLite's rowid; BIGINT would not number itself.
    ddl = _ddl("people", sqlite.dialect())
    assert "id INTEGER NOT NULL" in ddl and "PRIMARY KEY (id)" in ddl
    assert "BIGINT" not in ddl


def test_postgresql_ids_and_their_foreign_keys_are_64_bit() -> None:
    ddl = _ddl("encodings", postgresql.dialect())
    assert "id BIGSERIAL NOT NULL" in ddl
    assert "person_id BIGINT" in ddl


def test_every_table_of_the_schema_is_declared() -> None:
    assert {
        "people",
        "encodings",
        "negative_examples",
        "cameras",
        "unknown_identities",
        "sightings",
        "face_crops",
        "processed_messages",
        "users",
        "audit_log",
        "pending_clears",
        "revisions",
        "core_key",
        "core_leases",
        "core_instances",
    } <= set(Base.metadata.tables)


def test_a_detection_is_stored_at_most_once() -> None:
    # A re-delivered message must not add its sightings twice.
    sightings = Base.metadata.tables["sightings"]
    uniques = {
        c.name: tuple(col.name for col in c.columns)
        for c in sightings.constraints
        if isinstance(c, UniqueConstraint)
    }
    assert uniques["uq_sighting_message_det"] == ("camera_id", "seq", "det_index")
    indexes = {i.name for i in sightings.indexes if isinstance(i, Index)}
    assert "ix_sightings_person_seen" in indexes
