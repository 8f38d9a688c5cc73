"""Elastic Load Balancing: one row per balancer (its record as JSON).

Revision ID: elb_0001
Revises:
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "elb_0001"
down_revision = None
branch_labels = ("elb",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "elb_balancers",
        sa.Column("account_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("doc", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("elb_balancers")
