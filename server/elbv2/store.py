"""The elbv2 records' table: one row per ARN, its record as JSON, written at each change."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from server.elbv2.model import Record, from_doc, kind_of, to_doc

metadata = sa.MetaData()

records_table = sa.Table(
    "elbv2_records", metadata,
    sa.Column("arn", sa.String(512), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("doc", sa.Text, nullable=False),
)


class RecordStore:
    """Reads and writes elbv2 records (each write its own transaction)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def load(self) -> list[Record]:
        """Every record of every account."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(records_table.c.kind, records_table.c.doc)).all()
        return [from_doc(kind, json.loads(text)) for kind, text in rows]

    def save(self, record: Record) -> None:
        """Write one record (insert or replace)."""
        text = json.dumps(to_doc(record), separators=(",", ":"))
        with self.engine.begin() as conn:
            conn.execute(records_table.delete().where(records_table.c.arn == record.arn))
            conn.execute(records_table.insert().values(arn=record.arn, kind=kind_of(record),
                                                       doc=text))

    def delete(self, record: Record) -> None:
        """Remove one record."""
        with self.engine.begin() as conn:
            conn.execute(records_table.delete().where(records_table.c.arn == record.arn))
