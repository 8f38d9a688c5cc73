"""CloudWatch metrics (one row per metric) and their statistic buckets per resolution,
alarms, dashboards and alarm history.

Revision ID: cloudwatch_0001
Revises:
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "cloudwatch_0001"
down_revision = None
branch_labels = ("cloudwatch",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cw_series",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("namespace", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("dimensions", sa.Text, nullable=False),
        sa.Column("last_put", sa.Float, nullable=False),
    )
    op.create_table(
        "cw_buckets",
        sa.Column("series_id", sa.Integer, primary_key=True),
        sa.Column("resolution", sa.Integer, primary_key=True),
        sa.Column("ts", sa.Float, primary_key=True),
        sa.Column("unit", sa.String(32), primary_key=True),
        sa.Column("count", sa.Float, nullable=False),
        sa.Column("sum", sa.Float, nullable=False),
        sa.Column("min", sa.Float, nullable=False),
        sa.Column("max", sa.Float, nullable=False),
        sa.Column("vals", sa.Text, nullable=False),
    )
    op.create_table(
        "cw_history",
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.String(32), nullable=False, index=True),
        sa.Column("alarm_name", sa.String(255), nullable=False),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cw_history")
    op.drop_table("cw_buckets")
    op.drop_table("cw_series")
