"""core/store/users.py: core's mirror of the broker's user list."""

from __future__ import annotations

from core.store.db import Database
from core.store.users import list_users, sync_users


def test_users_mirror_follows_the_broker_user_list(db):
    with db.session() as s:
        assert sync_users(s, [("alice", "operator"), ("cam1", "camera")])
    with db.session() as s:
        assert not sync_users(s, [("cam1", "camera"), ("alice", "operator")])
        assert sync_users(s, [("alice", "admin")])
    with db.session() as s:
        assert list_users(s) == [("alice", "admin")]


def test_an_empty_broker_list_empties_the_mirror(db: Database) -> None:
    with db.session() as s:
        sync_users(s, [("alice", "operator")])
    with db.session() as s:
        assert sync_users(s, [])
        assert list_users(s) == []
        assert not sync_users(s, [])
