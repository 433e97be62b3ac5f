"""shared state: what core instances read of each other (docs/scale.md)

Revision ID: 0007_shared_state
Revises: 0006_core_key
Create Date: 2026-11-30 13:15:00

Two nullable columns only: ``unknown_identities.updated_at`` (when an instance last
wrote the identity's centroid, so the others re-read it) and
``core_instances.counters`` (each instance's counters, summed by the leader's status).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_shared_state"
down_revision = "0006_core_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("unknown_identities", sa.Column("updated_at", sa.Float(), nullable=True))
    op.create_index(
        "ix_unknown_identities_updated_at", "unknown_identities", ["updated_at"], unique=False
    )
    op.add_column("core_instances", sa.Column("counters", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("core_instances") as batch:
        batch.drop_column("counters")
    op.drop_index("ix_unknown_identities_updated_at", table_name="unknown_identities")
    with op.batch_alter_table("unknown_identities") as batch:
        batch.drop_column("updated_at")
