"""CLC resources table.

Revision ID: clc_0001
Revises:
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "clc_0001"
down_revision = None
branch_labels = ("clc",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clc_resources",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("account_id", sa.String(32), nullable=False, index=True),
        sa.Column("doc", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("clc_resources")
