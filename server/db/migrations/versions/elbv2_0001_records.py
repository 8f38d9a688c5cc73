"""Elastic Load Balancing v2: one row per balancer, target group, listener or rule (its
record as JSON), keyed by ARN.

Revision ID: elbv2_0001
Revises:
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "elbv2_0001"
down_revision = None
branch_labels = ("elbv2",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "elbv2_records",
        sa.Column("arn", sa.String(512), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("elbv2_records")
