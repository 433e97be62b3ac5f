"""core key: core's signing key where every instance finds it (docs/scale.md)

Revision ID: 0006_core_key
Revises: 0005_core_leases
Create Date: 2026-11-30 12:50:00

One new table only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_core_key"
down_revision = "0005_core_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_key",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("core_key")
