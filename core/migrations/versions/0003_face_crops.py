"""face crops: the best few small face pictures per identity, for operators

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:00:00

A new table only; each crop belongs to a sighting and goes with it (ON DELETE
CASCADE: erasure and retention need no extra step).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_crops",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "sighting_id",
            sa.Integer(),
            sa.ForeignKey("sightings.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.Column("quality", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("face_crops")
