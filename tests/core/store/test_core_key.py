"""core.store.core_key: one row of core's signing key, the private key shared at most once."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from core.store.core_key import record_core_key, share_private_key, stored_core_key
from core.store.db import Database

PEM = "-----BEGIN PRIVATE KEY-----\nfirst\n-----END PRIVATE KEY-----\n"


def test_an_empty_database_has_no_core_key(db: Database) -> None:
    with db.session() as s:
        assert stored_core_key(s) is None


def test_the_recorded_key_is_read_back(db: Database) -> None:
    with db.session() as s:
        record_core_key(s, "pub-1", None)
    with db.session() as s:
        row = stored_core_key(s)
        assert row is not None
        assert (row.public_key, row.private_pem) == ("pub-1", None)
        assert row.created_at > 0


def test_a_second_instance_cannot_record_another_key(db: Database) -> None:
    with db.session() as s:
        record_core_key(s, "pub-1", None)
    with pytest.raises(IntegrityError), db.session() as s:
        record_core_key(s, "pub-2", None)
    with db.session() as s:
        row = stored_core_key(s)
        assert row is not None and row.public_key == "pub-1"


def test_the_private_key_is_shared_once_and_never_replaced(db: Database) -> None:
    with db.session() as s:
        record_core_key(s, "pub-1", None)
    with db.session() as s:
        share_private_key(s, PEM)
    with db.session() as s:
        share_private_key(s, "another")
    with db.session() as s:
        row = stored_core_key(s)
        assert row is not None and row.private_pem == PEM


def test_sharing_without_a_recorded_key_does_nothing(db: Database) -> None:
    with db.session() as s:
        share_private_key(s, PEM)
    with db.session() as s:
        assert stored_core_key(s) is None
