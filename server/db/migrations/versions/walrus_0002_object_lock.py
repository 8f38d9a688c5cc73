"""Walrus Object Lock: bucket configuration, per-version retention and legal hold.

Revision ID: walrus_0002
Revises: walrus_0001
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "walrus_0002"
down_revision = "walrus_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("walrus_buckets", sa.Column("object_lock", sa.Text))
    op.add_column("walrus_objects", sa.Column("retention", sa.Text))
    op.add_column("walrus_objects", sa.Column("legal_hold", sa.Boolean))
    op.add_column("walrus_uploads", sa.Column("lock", sa.Text))


def downgrade() -> None:
    op.drop_column("walrus_uploads", "lock")
    op.drop_column("walrus_objects", "legal_hold")
    op.drop_column("walrus_objects", "retention")
    op.drop_column("walrus_buckets", "object_lock")
