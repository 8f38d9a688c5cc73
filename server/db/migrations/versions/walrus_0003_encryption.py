"""Walrus server-side encryption: per-version and per-upload key records, part nonces,
bucket default encryption.

Revision ID: walrus_0003
Revises: walrus_0002
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "walrus_0003"
down_revision = "walrus_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("walrus_buckets", sa.Column("encryption", sa.Text))
    op.add_column("walrus_objects", sa.Column("sse", sa.Text))
    op.add_column("walrus_uploads", sa.Column("sse", sa.Text))
    op.add_column("walrus_parts", sa.Column("nonce", sa.String(32)))


def downgrade() -> None:
    op.drop_column("walrus_parts", "nonce")
    op.drop_column("walrus_uploads", "sse")
    op.drop_column("walrus_objects", "sse")
    op.drop_column("walrus_buckets", "encryption")
