"""Walrus bucket configurations kept as one JSON document per bucket (website, logging,
notification, public access block, ownership controls, ...): sub-resources that S3 only
stores and returns, so they need no column of their own.

Revision ID: walrus_0004
Revises: walrus_0003
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "walrus_0004"
down_revision = "walrus_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("walrus_buckets", sa.Column("configs", sa.Text))


def downgrade() -> None:
    op.drop_column("walrus_buckets", "configs")
