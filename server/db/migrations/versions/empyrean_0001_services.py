"""The service registry (one row per service of the cloud), its events, and the cloud
properties an administrator changed.

Revision ID: empyrean_0001
Revises:
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "empyrean_0001"
down_revision = None
branch_labels = ("empyrean",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "euserv_services",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("partition", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("local", sa.Boolean, nullable=False),
        sa.Column("registered", sa.Float, nullable=False),
    )
    op.create_table(
        "euserv_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("service_name", sa.String(255), nullable=False),
        sa.Column("service_type", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_table(
        "euprop_values",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("euprop_values")
    op.drop_table("euserv_events")
    op.drop_table("euserv_services")
