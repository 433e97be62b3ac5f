"""core leases: several core instances share cameras through leases (docs/scale.md)

Revision ID: 0005_core_leases
Revises: 0004
Create Date: 2026-11-30 11:40:00

Two new tables only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_core_leases"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_leases",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("owner", sa.String(80), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "core_instances",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("core_instances")
    op.drop_table("core_leases")
