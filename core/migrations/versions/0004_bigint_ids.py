"""64-bit ids and counters on PostgreSQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 12:00:00

PostgreSQL's INTEGER (and the sequence behind a SERIAL id) stops at 2**31 - 1: a busy
site's sightings would run out, and an edge's seq (up to 2**53 on the wire) or track
id (up to 2**31) would not fit at all. Every id, the foreign keys to them, seq,
track ids and counters become BIGINT, and each id's sequence with them. SQLite's
INTEGER is 64-bit already (and an INTEGER PRIMARY KEY must stay INTEGER to remain
the rowid), so nothing changes there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# table -> its columns that become BIGINT (ids first: their sequences change too)
COLUMNS: dict[str, tuple[str, ...]] = {
    "people": ("id",),
    "encodings": ("id", "person_id"),
    "negative_examples": ("id", "person_id"),
    "unknown_identities": ("id", "count"),
    "sightings": ("id", "seq", "person_id", "unknown_id", "track_id", "candidate_id"),
    "face_crops": ("id", "sighting_id"),
    "processed_messages": ("seq",),
    "audit_log": ("id",),
    "revisions": ("value",),
}
SERIAL_IDS = [table for table, cols in COLUMNS.items() if cols[0] == "id"]


def _retype(to: str) -> None:
    for table, cols in COLUMNS.items():
        changes = ", ".join(f"ALTER COLUMN {col} TYPE {to}" for col in cols)
        # One ALTER TABLE per table: PostgreSQL rewrites the table once, not per column.
        op.execute(f"ALTER TABLE {table} {changes}")
    for table in SERIAL_IDS:
        seq = op.get_bind().execute(
            sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}
        ).scalar()
        if seq:
            op.execute(f"ALTER SEQUENCE {seq} AS {to}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _retype("BIGINT")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _retype("INTEGER")
