"""The balancers' table: one row per balancer, its record as JSON, written at each change."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from server.elb.model import LoadBalancer

metadata = sa.MetaData()

balancers_table = sa.Table(
    "elb_balancers", metadata,
    sa.Column("account_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("doc", sa.Text, nullable=False),
)


class BalancerStore:
    """Reads and writes balancer records (each write its own transaction)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def load(self) -> list[LoadBalancer]:
        """Every balancer of every account."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(balancers_table.c.doc)).all()
        return [LoadBalancer.from_doc(json.loads(text)) for (text,) in rows]

    def save(self, lb: LoadBalancer) -> None:
        """Write one balancer (insert or replace)."""
        key = (balancers_table.c.account_id == lb.account_id) & \
            (balancers_table.c.name == lb.name)
        text = json.dumps(lb.doc(), separators=(",", ":"))
        with self.engine.begin() as conn:
            conn.execute(balancers_table.delete().where(key))
            conn.execute(balancers_table.insert().values(account_id=lb.account_id,
                                                         name=lb.name, doc=text))

    def delete(self, lb: LoadBalancer) -> None:
        """Remove one balancer."""
        with self.engine.begin() as conn:
            conn.execute(balancers_table.delete().where(
                (balancers_table.c.account_id == lb.account_id) &
                (balancers_table.c.name == lb.name)))
