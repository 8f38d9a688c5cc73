"""Walrus metadata tables (SQLAlchemy Core, portable between SQLite and PostgreSQL).

The migration ``walrus_0001`` creates the same tables; this module is what queries use.
Object data lives in the provider under generated blob names; a row points to its blobs.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# S3 lists keys in UTF-8 byte order: SQLite's BINARY collation is that already;
# PostgreSQL needs the "C" collation instead of the database's locale.
KEY = sa.String(1024).with_variant(sa.String(1024, collation="C"), "postgresql")

buckets = sa.Table(
    "walrus_buckets", metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("account_id", sa.String(32), nullable=False, index=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("location", sa.String(64), nullable=False, default=""),
    sa.Column("versioning", sa.String(16), nullable=False, default=""),
    sa.Column("acl", sa.Text, nullable=False),
    sa.Column("policy", sa.Text),
    sa.Column("tagging", sa.Text),
    sa.Column("cors", sa.Text),
    sa.Column("lifecycle", sa.Text),
    sa.Column("object_lock", sa.Text),  # {"enabled": true, "rule": {...}} (walrus_0002)
    sa.Column("encryption", sa.Text),  # default SSE algorithm (walrus_0003)
    # {"website": ..., "logging": ..., "public_access_block": ...} (walrus_0004)
    sa.Column("configs", sa.Text),
)

objects = sa.Table(
    "walrus_objects", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("bucket", sa.String(255), nullable=False),
    sa.Column("key", KEY, nullable=False),
    sa.Column("version_id", sa.String(64), nullable=False),
    sa.Column("is_latest", sa.Boolean, nullable=False),
    sa.Column("delete_marker", sa.Boolean, nullable=False, default=False),
    sa.Column("size", sa.BigInteger, nullable=False, default=0),
    sa.Column("etag", sa.String(64), nullable=False, default=""),
    sa.Column("last_modified", sa.Float, nullable=False),
    sa.Column("owner_id", sa.String(32), nullable=False),
    sa.Column("content_type", sa.String(255), nullable=False, default=""),
    sa.Column("headers", sa.Text, nullable=False, default="{}"),  # stored response headers
    sa.Column("meta", sa.Text, nullable=False, default="{}"),  # x-amz-meta-* (lower-case names)
    sa.Column("acl", sa.Text, nullable=False, default="{}"),
    sa.Column("tagging", sa.Text),
    sa.Column("storage_class", sa.String(32), nullable=False, default="STANDARD"),
    sa.Column("blobs", sa.Text, nullable=False, default="[]"),  # [[blob name, size], ...]
    sa.Column("parts", sa.Text),  # [size, ...] of a multipart object, for partNumber reads
    sa.Column("checksum", sa.String(128)),  # "algorithm:value" sent by the client
    sa.Column("retention", sa.Text),  # {"mode": GOVERNANCE|COMPLIANCE, "until": ISO} (0002)
    sa.Column("legal_hold", sa.Boolean),
    sa.Column("sse", sa.Text),  # {"kind": "SSE-C", "key_md5"} | {"kind": "AES256", "wrapped"}
    sa.UniqueConstraint("bucket", "key", "version_id", name="uq_walrus_objects_version"),
    sa.Index("ix_walrus_objects_listing", "bucket", "is_latest", "key"),
)

uploads = sa.Table(
    "walrus_uploads", metadata,
    sa.Column("upload_id", sa.String(64), primary_key=True),
    sa.Column("bucket", sa.String(255), nullable=False),
    sa.Column("key", KEY, nullable=False),
    sa.Column("initiated", sa.Float, nullable=False),
    sa.Column("owner_id", sa.String(32), nullable=False),
    sa.Column("content_type", sa.String(255), nullable=False, default=""),
    sa.Column("headers", sa.Text, nullable=False, default="{}"),
    sa.Column("meta", sa.Text, nullable=False, default="{}"),
    sa.Column("acl", sa.Text, nullable=False, default="{}"),
    sa.Column("tagging", sa.Text),
    sa.Column("storage_class", sa.String(32), nullable=False, default="STANDARD"),
    sa.Column("checksum_algorithm", sa.String(16)),
    sa.Column("lock", sa.Text),  # retention/legal hold asked for at creation (0002)
    sa.Column("sse", sa.Text),  # encryption of the parts (0003)
    sa.Index("ix_walrus_uploads_listing", "bucket", "key", "initiated"),
)

parts = sa.Table(
    "walrus_parts", metadata,
    sa.Column("upload_id", sa.String(64), primary_key=True),
    sa.Column("part_number", sa.Integer, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("etag", sa.String(64), nullable=False),
    sa.Column("last_modified", sa.Float, nullable=False),
    sa.Column("blob", sa.String(64)),
    sa.Column("checksum", sa.String(128)),
    sa.Column("nonce", sa.String(32)),  # AES-CTR nonce of an encrypted part (0003)
)
