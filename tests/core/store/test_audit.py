"""core/store/audit.py: the audit trail and the change counters readers poll."""

from __future__ import annotations

from core.store.audit import GALLERY, audit, audit_entries, bump, revisions
from core.store.db import Database


def test_entries_come_back_newest_first_with_long_details_cut(db: Database) -> None:
    with db.session() as s:
        audit(s, "admin", "alice", "camera_add", "camera door", at=1.0)
        audit(s, "admin", "core", "retention_purge", "x" * 5000, at=2.0)
    with db.session() as s:
        entries = audit_entries(s)
        assert [e.action for e in entries] == ["retention_purge", "camera_add"]
        assert len(entries[0].detail) == 2000
        assert (entries[1].actor, entries[1].at) == ("alice", 1.0)
        assert len(audit_entries(s, limit=1)) == 1


def test_a_counter_starts_at_one_and_counts_up(db: Database) -> None:
    with db.session() as s:
        assert revisions(s) == {}
        bump(s, GALLERY)
        s.flush()
        bump(s, GALLERY)
        bump(s, "cameras")
    with db.session() as s:
        assert revisions(s) == {GALLERY: 2, "cameras": 1}
