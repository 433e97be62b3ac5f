"""identity evidence on sightings; last place of anonymous identities

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 09:00:00

Plain ADD COLUMNs (nullable, no foreign keys): SQLite adds them without rebuilding
the sightings table, so the upgrade is instant on a large history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SIGHTING_COLUMNS = (
    sa.Column("evidence", sa.String(length=16), nullable=True),
    sa.Column("evidence_age_s", sa.Float(), nullable=True),
    sa.Column("confidence", sa.Float(), nullable=True),
    sa.Column("candidate_id", sa.Integer(), nullable=True),
)
UNKNOWN_COLUMNS = (
    sa.Column("last_camera", sa.String(length=64), nullable=True),
    sa.Column("last_x", sa.Float(), nullable=True),
    sa.Column("last_y", sa.Float(), nullable=True),
)


def upgrade() -> None:
    for col in SIGHTING_COLUMNS:
        op.add_column("sightings", col)
    for col in UNKNOWN_COLUMNS:
        op.add_column("unknown_identities", col)


def downgrade() -> None:
    with op.batch_alter_table("unknown_identities") as batch_op:
        for col in reversed(UNKNOWN_COLUMNS):
            batch_op.drop_column(col.name)
    with op.batch_alter_table("sightings") as batch_op:
        for col in reversed(SIGHTING_COLUMNS):
            batch_op.drop_column(col.name)
