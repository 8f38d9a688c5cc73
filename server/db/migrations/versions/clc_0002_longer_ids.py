"""CLC record keys up to 512 characters: a key pair's or security group's record key is
``account:name``, and names may be 255 characters long (SQLite never enforced the 255 of
the first revision; PostgreSQL refused such names).

Revision ID: clc_0002
Revises: clc_0001
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = "clc_0002"
down_revision = "clc_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite keeps any length in a VARCHAR column: only other databases need the change
    # (and SQLite cannot alter a column in place).
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("clc_resources", "id", type_=sa.String(512),
                        existing_type=sa.String(255), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("clc_resources", "id", type_=sa.String(255),
                        existing_type=sa.String(512), existing_nullable=False)
