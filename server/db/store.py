"""The CLC's persistence: SQL through SQLAlchemy, SQLite (WAL) by default, PostgreSQL by URL.

Cloud state lives in memory for speed (as the CLC's caches do) and is written through
to the database: handlers ``put``/``delete`` records and the request is acknowledged
only after :meth:`Store.flush` commits them in one transaction.  Records are JSON
documents in a table per kind of resource family (``clc_resources``), loaded whole at
start-up.  Services with large data sets (Walrus objects) keep their own tables.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from server.auth.secrets import SecretBox

log = logging.getLogger(__name__)

metadata = sa.MetaData()

resources = sa.Table(
    "clc_resources", metadata,
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(512), primary_key=True),
    sa.Column("account_id", sa.String(32), nullable=False, index=True),
    sa.Column("doc", sa.Text, nullable=False),
)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, full fsync on commit and a busy timeout."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives a crash
            cur.execute("PRAGMA foreign_keys=ON")
            # Overwrite deleted rows: a secret rewritten sealed leaves no plain copy behind.
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision of every component (Alembic ``upgrade heads``)."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(os.path.dirname(__file__), "migrations"))
    script = ScriptDirectory.from_config(cfg)
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current == set(script.get_heads()):
        return
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


class Store:
    """Write-through persistence of CLC records, flushed once per request or event batch.

    With a :class:`~server.auth.secrets.SecretBox`, the secret fields of records (as
    ``server.auth.secrets.SEALED_FIELDS`` names them) are sealed on the way to the
    database and opened on the way back; a record found in plain text is queued to be
    written again, sealed.
    """

    def __init__(self, engine: Engine, secrets: SecretBox | None = None):
        self.engine = engine
        self.secrets = secrets
        self._pending: dict[tuple[str, str], tuple[str, dict[str, Any]] | None] = {}
        self.flush_hooks: list[Any] = []
        #: Records read in plain text that the next flush seals.
        self.unsealed = 0

    def load(self, kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every ``(id, account_id, doc)`` of a kind."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(resources.c.id, resources.c.account_id, resources.c.doc)
                                .where(resources.c.kind == kind)).all()
        for rid, account, text in rows:
            doc = json.loads(text)
            if self.secrets is not None and self.secrets.open_record(kind, rid, doc):
                self.unsealed += 1
                self._pending.setdefault((kind, rid), (account, doc))
            yield rid, account, doc

    def put(self, kind: str, rid: str, account_id: str, doc: dict[str, Any]) -> None:
        """Record ``doc`` for writing at the next flush."""
        self._pending[(kind, rid)] = (account_id, doc)

    def delete(self, kind: str, rid: str) -> None:
        """Record a deletion for the next flush."""
        self._pending[(kind, rid)] = None

    @property
    def dirty(self) -> bool:
        """True when writes are waiting for a flush."""
        return bool(self._pending)

    def flush(self) -> None:
        """Commit every pending write in one transaction."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        seal = self.secrets.seal_record if self.secrets is not None else _as_is
        puts = [{"kind": k, "id": i, "account_id": v[0],
                 "doc": json.dumps(seal(k, i, v[1]), separators=(",", ":"))}
                for (k, i), v in pending.items() if v is not None]
        deletes = [(k, i) for (k, i), v in pending.items() if v is None]
        try:
            try:
                self._write(puts, deletes)
            except (sa.exc.DataError, sa.exc.IntegrityError):
                # A record the database refuses (a value too long for its column, say)
                # would fail every later flush too: write the others, each on its own,
                # and drop only the refused ones.
                self._write_apart(puts, deletes)
        except Exception:
            # Keep the writes so the next flush retries them; newer writes win.
            for key, value in pending.items():
                self._pending.setdefault(key, value)
            raise

    def _write(self, puts: list[dict[str, Any]], deletes: list[tuple[str, str]]) -> None:
        with self.engine.begin() as conn:
            if puts:
                keys = [(p["kind"], p["id"]) for p in puts]
                for chunk in _chunks(keys, 400):
                    conn.execute(resources.delete().where(
                        sa.tuple_(resources.c.kind, resources.c.id).in_(chunk)))
                conn.execute(resources.insert(), puts)
            for kind, rid in deletes:
                conn.execute(resources.delete().where(
                    (resources.c.kind == kind) & (resources.c.id == rid)))

    def _write_apart(self, puts: list[dict[str, Any]],
                     deletes: list[tuple[str, str]]) -> None:
        for put in puts:
            try:
                self._write([put], [])
            except (sa.exc.DataError, sa.exc.IntegrityError) as exc:
                log.error("the database refused %s %s; not stored: %s", put["kind"],
                          put["id"], exc.orig)
        self._write([], deletes)

    def seal_plain_records(self) -> None:
        """Write the records read in plain text again, sealed, and leave no plain copy in
        SQLite's write-ahead log (its deleted rows are zeroed: ``secure_delete``)."""
        if not self.unsealed:
            return
        self.flush()
        log.info("sealed %d secret record(s) stored in plain text", self.unsealed)
        self.unsealed = 0
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _as_is(_kind: str, _rid: str, doc: dict[str, Any]) -> dict[str, Any]:
    return doc


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
