"""Snapshot transfer: where a snapshot's data goes once the SC has copied a volume.

Eucalyptus uploads snapshots to the object store (reference §6: a multipart upload into
a ``snapshots-`` bucket owned by a system account).  :class:`WalrusSnapshotStore` does
that through Walrus' internal API; :class:`LocalSnapshotStore` keeps them in a directory
and is only used when the cloud runs without Walrus.  All methods block: the file
backend calls them from its worker threads.
"""

from __future__ import annotations

import os
import shutil
from typing import Protocol

from server.ports.objectstore import ObjectStore
from server.util import atomic_write

#: Multipart part size for snapshot uploads (the reference's minimum; Walrus may raise it).
PART_SIZE = 5 * 1024 * 1024


class SnapshotStore(Protocol):
    """Durable storage for snapshot images, reachable from every zone's SC."""

    def upload(self, snapshot_id: str, path: str) -> str:
        """Store the file at ``path``; returns the snapshot's location."""

    def download(self, location: str, path: str) -> None:
        """Write the snapshot stored at ``location`` to ``path``."""

    def delete(self, location: str) -> None:
        """Remove a stored snapshot (missing ones are ignored)."""


class WalrusSnapshotStore:
    """Snapshots as objects in a private system bucket in Walrus, uploaded with multipart."""

    def __init__(self, walrus: ObjectStore, bucket: str):
        self.walrus = walrus
        self.bucket = bucket
        self._bucket_ready = False

    def _ensure_bucket(self) -> None:
        if not self._bucket_ready:
            self.walrus.create_system_bucket(self.bucket)
            self._bucket_ready = True

    def upload(self, snapshot_id: str, path: str) -> str:
        """Multipart upload into the snapshots bucket; the location is ``bucket/key``."""
        self._ensure_bucket()
        self.walrus.multipart_upload_from_file(self.bucket, snapshot_id, path,
                                               part_size=PART_SIZE)
        return f"{self.bucket}/{snapshot_id}"

    def download(self, location: str, path: str) -> None:
        """Stream the object to ``path``."""
        bucket, _, key = location.partition("/")
        self.walrus.get_object_to_file(bucket, key, path)

    def delete(self, location: str) -> None:
        """Delete the object (a missing one is not an error)."""
        bucket, _, key = location.partition("/")
        try:
            self.walrus.delete_object(bucket, key)
        except Exception as exc:  # NoSuchKey/NoSuchBucket: already gone
            if getattr(exc, "code", "") not in ("NoSuchKey", "NoSuchBucket"):
                raise


class LocalSnapshotStore:
    """Fallback without Walrus: snapshot images in a local directory."""

    def __init__(self, root: str):
        self.root = root
        os.makedirs(root, exist_ok=True)

    def upload(self, snapshot_id: str, path: str) -> str:
        """Copy the file in durably (temp file, fsync, rename)."""
        dest = os.path.join(self.root, snapshot_id)
        tmp = dest + ".tmp"
        with open(path, "rb") as src, open(tmp, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
        return dest

    def download(self, location: str, path: str) -> None:
        """Copy the stored file to ``path``."""
        with open(location, "rb") as src:
            atomic_write(path, src.read())

    def delete(self, location: str) -> None:
        """Remove the stored file."""
        try:
            os.unlink(location)
        except FileNotFoundError:
            pass
