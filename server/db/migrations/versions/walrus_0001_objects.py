"""Walrus buckets, objects (with versions), multipart uploads and parts.

Revision ID: walrus_0001
Revises:
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "walrus_0001"
down_revision = None
branch_labels = ("walrus",)
depends_on = None

# S3 lists keys in UTF-8 byte order: SQLite's BINARY collation is that already;
# PostgreSQL needs the "C" collation instead of the database's locale.
KEY = sa.String(1024).with_variant(sa.String(1024, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "walrus_buckets",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("account_id", sa.String(32), nullable=False, index=True),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("versioning", sa.String(16), nullable=False),
        sa.Column("acl", sa.Text, nullable=False),
        sa.Column("policy", sa.Text),
        sa.Column("tagging", sa.Text),
        sa.Column("cors", sa.Text),
        sa.Column("lifecycle", sa.Text),
    )
    op.create_table(
        "walrus_objects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("bucket", sa.String(255), nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("version_id", sa.String(64), nullable=False),
        sa.Column("is_latest", sa.Boolean, nullable=False),
        sa.Column("delete_marker", sa.Boolean, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("last_modified", sa.Float, nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("meta", sa.Text, nullable=False),
        sa.Column("acl", sa.Text, nullable=False),
        sa.Column("tagging", sa.Text),
        sa.Column("storage_class", sa.String(32), nullable=False),
        sa.Column("blobs", sa.Text, nullable=False),
        sa.Column("parts", sa.Text),
        sa.Column("checksum", sa.String(128)),
        sa.UniqueConstraint("bucket", "key", "version_id", name="uq_walrus_objects_version"),
    )
    op.create_index("ix_walrus_objects_listing", "walrus_objects",
                    ["bucket", "is_latest", "key"])
    op.create_table(
        "walrus_uploads",
        sa.Column("upload_id", sa.String(64), primary_key=True),
        sa.Column("bucket", sa.String(255), nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("initiated", sa.Float, nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("meta", sa.Text, nullable=False),
        sa.Column("acl", sa.Text, nullable=False),
        sa.Column("tagging", sa.Text),
        sa.Column("storage_class", sa.String(32), nullable=False),
        sa.Column("checksum_algorithm", sa.String(16)),
    )
    op.create_index("ix_walrus_uploads_listing", "walrus_uploads",
                    ["bucket", "key", "initiated"])
    op.create_table(
        "walrus_parts",
        sa.Column("upload_id", sa.String(64), primary_key=True),
        sa.Column("part_number", sa.Integer, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("last_modified", sa.Float, nullable=False),
        sa.Column("blob", sa.String(64)),
        sa.Column("checksum", sa.String(128)),
    )


def downgrade() -> None:
    op.drop_table("walrus_parts")
    op.drop_table("walrus_uploads")
    op.drop_index("ix_walrus_objects_listing", "walrus_objects")
    op.drop_table("walrus_objects")
    op.drop_table("walrus_buckets")
