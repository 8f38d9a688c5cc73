"""Multipart-upload metadata: uploads and their parts (a mixin of :class:`WalrusStore`)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from server.walrus import errors as e
from server.walrus.provider import Provider
from server.walrus.schema import parts, uploads

Row = dict[str, Any]


class UploadStore:
    """Create, record parts of, complete and abort multipart uploads."""

    engine: Engine
    provider: Provider
    now: Callable[[], float]

    def _tx(self, fn: Callable[[Connection], Any]) -> Any:
        raise NotImplementedError

    def _drop_blobs(self, blob_lists: list[str]) -> None:
        raise NotImplementedError

    def put(self, bucket: Row, key: str, fields: Row,
            within: Callable[[Connection], list[str]] | None = None,
            guard: Callable[[Connection], None] | None = None) -> Row:
        """Provided by :class:`server.walrus.store.WalrusStore`."""
        raise NotImplementedError

    @staticmethod
    def _prefix_filter(query: Any, prefix: str, column: Any = None) -> Any:
        raise NotImplementedError

    def create_upload(self, bucket: str, key: str, fields: Row) -> str:
        """Start a multipart upload; its ID."""
        # Time first, so that the ids of one key sort as the uploads were initiated: the
        # listing orders a key's uploads by id, which is what upload-id-marker compares.
        upload_id = f"{time.time_ns():016x}" + uuid.uuid4().hex
        self._tx(lambda c: c.execute(uploads.insert().values(
            upload_id=upload_id, bucket=bucket, key=key, initiated=self.now(), **fields)))
        return upload_id

    def upload(self, bucket: str, key: str, upload_id: str) -> Row:
        """An upload row or NoSuchUpload."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(uploads).where(
                uploads.c.upload_id == upload_id, uploads.c.bucket == bucket,
                uploads.c.key == key)).first()
        if row is None:
            raise e.NoSuchUpload(UploadId=upload_id)
        return dict(row._mapping)

    def put_part(self, upload_id: str, number: int, blob: str, size: int, etag: str,
                 checksum: str | None, nonce: str | None = None,
                 durable: Callable[[], None] | None = None) -> None:
        """Record (or replace) a part; the replaced part's blob is deleted after commit.
        ``durable`` runs before the commit (see :meth:`WalrusStore.put`)."""
        def run(conn: Connection) -> list[str]:
            self._lock_upload(conn, upload_id)
            old = conn.execute(sa.select(parts.c.blob).where(
                parts.c.upload_id == upload_id, parts.c.part_number == number)).first()
            conn.execute(parts.delete().where(parts.c.upload_id == upload_id,
                                              parts.c.part_number == number))
            conn.execute(parts.insert().values(
                upload_id=upload_id, part_number=number, size=size, etag=etag,
                last_modified=self.now(), blob=blob, checksum=checksum, nonce=nonce))
            if durable is not None:
                durable()
            return [json.dumps([[old[0], 0]])] if old and old[0] else []
        try:
            self._drop_blobs(self._tx(run))
        except e.S3Error:
            self.provider.delete(blob)
            raise

    def list_parts(self, upload_id: str, after: int = 0, limit: int = 10000) -> list[Row]:
        """Parts in number order after ``after``."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(parts).where(
                parts.c.upload_id == upload_id, parts.c.part_number > after)
                .order_by(parts.c.part_number).limit(limit)).all()
        return [dict(r._mapping) for r in rows]

    @staticmethod
    def _lock_upload(conn: Connection, upload_id: str) -> None:
        """Lock the upload row (PostgreSQL; SQLite serializes writers anyway) or NoSuchUpload."""
        alive = conn.execute(sa.select(uploads.c.upload_id)
                             .where(uploads.c.upload_id == upload_id).with_for_update()).first()
        if alive is None:
            raise e.NoSuchUpload(UploadId=upload_id)

    def finish_upload(self, upload: Row, bucket: Row, fields: Row,
                      chosen: dict[int, str],
                      guard: Callable[[Connection], None] | None = None) -> Row:
        """Turn an upload into an object version in one transaction.

        ``chosen`` maps part numbers to the blobs the object is made of; if a part was
        replaced meanwhile the completion fails (InvalidPart) rather than reference a blob
        that the replacement is about to delete.  Unused parts' blobs are deleted.
        """
        upload_id = upload["upload_id"]

        def retire(conn: Connection) -> list[str]:
            self._lock_upload(conn, upload_id)
            rows = conn.execute(sa.select(parts.c.part_number, parts.c.blob)
                                .where(parts.c.upload_id == upload_id)).all()
            current = {n: b for n, b in rows}
            for number, blob in chosen.items():
                if current.get(number) != blob:
                    raise e.InvalidPart(UploadId=upload_id, PartNumber=str(number))
            conn.execute(parts.delete().where(parts.c.upload_id == upload_id))
            conn.execute(uploads.delete().where(uploads.c.upload_id == upload_id))
            return [json.dumps([[b, 0]]) for n, b in rows if n not in chosen and b]

        return self.put(bucket, upload["key"], fields, within=retire, guard=guard)

    def abort_upload(self, upload_id: str) -> None:
        """Delete an upload and its parts."""
        def run(conn: Connection) -> list[str]:
            try:
                self._lock_upload(conn, upload_id)
            except e.NoSuchUpload:
                return []  # completed or aborted meanwhile: its blobs are not ours to drop
            rows = conn.execute(sa.select(parts.c.blob)
                                .where(parts.c.upload_id == upload_id)).all()
            conn.execute(parts.delete().where(parts.c.upload_id == upload_id))
            conn.execute(uploads.delete().where(uploads.c.upload_id == upload_id))
            return [json.dumps([[b[0], 0]]) for b in rows if b[0]]
        self._drop_blobs(self._tx(run))

    def abort_stale_uploads(self, before: float) -> int:
        """Abort uploads initiated before ``before``; how many."""
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(sa.select(uploads.c.upload_id)
                                              .where(uploads.c.initiated < before))]
        for upload_id in ids:
            self.abort_upload(upload_id)
        return len(ids)

    def list_uploads(self, bucket: str, prefix: str) -> list[Row]:
        """Uploads in progress, by key then upload id (ids begin with their initiation
        time): the order ``upload-id-marker`` resumes in, even when the marker's upload
        has been aborted or completed since."""
        query = self._prefix_filter(sa.select(uploads).where(uploads.c.bucket == bucket),
                                    prefix, uploads.c.key)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(uploads.c.key, uploads.c.upload_id)).all()
        return [dict(r._mapping) for r in rows]

