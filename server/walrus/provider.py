"""Where object bytes live: the ``Provider`` protocol and the local filesystem provider.

Blobs are immutable files under generated names (never derived from keys, so a key
like ``../../etc/passwd`` is just a name in the database).  A blob is written to a
temporary file, fsynced and renamed into place before any metadata points at it;
blobs that no row references (a crash between rename and commit) are removed by
:meth:`FilesystemProvider.sweep`.  Another provider (an external S3 or Ceph RGW, as
the Eucalyptus OSG supports) implements the same few methods.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

READ_CHUNK = 1024 * 1024
#: Batches at least this large are digested in parallel with their write.
_PARALLEL_DIGEST_AT = 256 * 1024
#: Start writing a blob back to disk every this many bytes, so that the fsync before the
#: answer only waits for the tail instead of the whole object (the disk here writes
#: about as fast as one MD5 stream, so the tail is most of what a large PUT adds).
_EARLY_SYNC_EVERY = 2 * 1024 * 1024
_HELPERS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="walrus-blob")


class BlobWriter(Protocol):
    """An open, not yet visible blob."""

    size: int
    md5: Any  # a hashlib MD5 object over everything written (plaintext)
    cipher: Any  # when set, an encryption context applied to the bytes on disk

    def checksum(self) -> str | None:
        """The base64 flexible checksum requested at creation, if computed."""

    def write(self, data: bytes) -> None:
        """Append bytes (blocking; call from a worker thread for large writes)."""

    def write_many(self, chunks: list[bytes]) -> None:
        """Append several chunks at once."""

    def store_many(self, chunks: list[bytes]) -> None:
        """Append chunks without digesting them (pair with :meth:`digest_many`)."""

    def digest_many(self, chunks: list[bytes]) -> None:
        """Digest the next chunks (pair with :meth:`store_many`)."""

    def digest_steps(self) -> list[Callable[[list[bytes]], None]]:
        """What :meth:`digest_many` does, as independent steps that may run side by side."""

    def commit(self) -> str:
        """Make the blob durable and visible; returns its name."""

    def publish(self) -> str:
        """Make the blob visible and start making it durable; returns its name (pair
        with :meth:`sync`, which waits, before anything that names the blob commits)."""

    def sync(self) -> None:
        """Wait until a published blob is durable (again: a no-op)."""

    def abort(self) -> None:
        """Throw the partial blob away."""


class Provider(Protocol):
    """A store of immutable, named blobs."""

    def writer(self, checksum: str | None = None) -> BlobWriter:
        """A new blob being written; ``checksum`` adds crc32/sha1/sha256 to the MD5."""

    def read(self, name: str, offset: int = 0, length: int | None = None,
             chunk: int = READ_CHUNK) -> Iterator[bytes]:
        """The blob's bytes ``[offset, offset+length)`` in chunks."""

    def copy(self, name: str) -> str:
        """A new blob with the same content (cheap: blobs are immutable)."""

    def delete(self, name: str) -> None:
        """Remove a blob (missing is fine)."""

    def path(self, name: str) -> str | None:
        """A local file path for the blob when the provider has one."""

    def sweep(self, referenced: set[str], older_than: float) -> int:
        """Delete unreferenced blobs older than ``older_than`` (Unix time); the count."""


def blob_ranges(blobs: list[list[Any]], start: int, length: int
                ) -> Iterator[tuple[list[Any], int, int]]:
    """The segments of an object's blob list that hold ``[start, start+length)``, each with
    the offset and count to read from it; a segment is ``[name, size]`` or
    ``[name, size, nonce]`` (encrypted)."""
    offset = 0
    for seg in blobs:
        size = seg[1]
        if length <= 0:
            break
        if start >= offset + size:
            offset += size
            continue
        local = start - offset
        take = min(size - local, length)
        yield seg, local, take
        length -= take
        start += take
        offset += size


class FileWriter:
    """A blob being written to a temporary file with incremental digests."""

    def __init__(self, provider: FilesystemProvider, checksum: str | None):
        self.provider = provider
        self.name = uuid.uuid4().hex
        self.tmp = os.path.join(provider.tmp_dir, self.name)
        self.fd = -1  # the file is created by the first write (or publish)
        self._created = False
        self.md5 = hashlib.md5()
        self.size = 0
        self.algorithm = (checksum or "").lower()
        self._crc = 0
        self._crc_hash = (hashlib.sha1() if self.algorithm == "sha1" else
                          hashlib.sha256() if self.algorithm == "sha256" else None)
        self.cipher: Any = None
        self._unsynced = 0
        self._sync: Future[None] | None = None
        self._durable: list[Future[None]] = []  # publish()'s fsyncs
        self._failed: OSError | None = None

    def write(self, data: bytes) -> None:
        """Append ``data`` and update the digests."""
        self.write_many([data])

    def write_many(self, chunks: list[bytes]) -> None:
        """Append several chunks with one ``writev`` (no joining copy) and digest them."""
        total = sum(len(c) for c in chunks)
        # Digest in a second thread while this one writes: hashlib and writev both release
        # the GIL, so on two cores the MD5 (the slowest step, ~1 GB/s) hides the write.
        digest = _HELPERS.submit(self.digest_many, chunks) if total >= _PARALLEL_DIGEST_AT \
            else None
        try:
            self.store_many(chunks)
        finally:
            if digest is not None:
                digest.result()
        if digest is None:
            self.digest_many(chunks)

    def store_many(self, chunks: list[bytes]) -> None:
        """Append chunks to the file (encrypted when a cipher is set), without digesting
        them: a caller that runs :meth:`digest_many` on its own thread pairs the two."""
        total = sum(len(c) for c in chunks)
        stored = chunks if self.cipher is None else [self.cipher.update(c) for c in chunks]
        view = [memoryview(c) for c in stored]
        written = 0
        while written < total:
            n = os.writev(self._file(), view)
            written += n
            while view and n >= len(view[0]):
                n -= len(view[0])
                view.pop(0)
            if view and n:
                view[0] = view[0][n:]
        self.size += total
        self._unsynced += total
        if self._unsynced >= _EARLY_SYNC_EVERY and (self._sync is None or self._sync.done()):
            self._unsynced = 0
            self._sync = _HELPERS.submit(os.fdatasync, self.fd)

    def digest_many(self, chunks: list[bytes]) -> None:
        """Feed chunks (in order, after the previous ones) to the MD5 and the checksum."""
        for step in self.digest_steps():
            step(chunks)

    def digest_steps(self) -> list[Callable[[list[bytes]], None]]:
        """The MD5 and the requested checksum as separate steps, each to be given every
        chunk in order: on their own threads they run side by side (a CRC32 or SHA-256
        beside the MD5 instead of after it; both release the GIL)."""
        steps: list[Callable[[list[bytes]], None]] = [self._md5_many]
        if self.algorithm == "crc32":
            steps.append(self._crc32_many)
        elif self._crc_hash is not None:
            steps.append(self._checksum_many)
        return steps

    def _md5_many(self, chunks: list[bytes]) -> None:
        for data in chunks:
            self.md5.update(data)

    def _crc32_many(self, chunks: list[bytes]) -> None:
        for data in chunks:
            self._crc = zlib.crc32(data, self._crc)

    def _checksum_many(self, chunks: list[bytes]) -> None:
        assert self._crc_hash is not None
        for data in chunks:
            self._crc_hash.update(data)

    def checksum(self) -> str | None:
        """The base64 checksum of the requested algorithm (None if not computable here)."""
        if self.algorithm == "crc32":
            return base64.b64encode(self._crc.to_bytes(4, "big")).decode()
        if self._crc_hash is not None:
            return base64.b64encode(self._crc_hash.digest()).decode()
        return None

    def commit(self) -> str:
        """Rename into the blob tree and make it durable (:meth:`publish` then
        :meth:`sync`); the blob's name."""
        name = self.publish()
        self.sync()
        return name

    def publish(self) -> str:
        """Rename into the blob tree and start the fsyncs of the file and of its directory
        (in helper threads, side by side); the blob's name.

        The rename may precede the syncs: no row names the blob before :meth:`sync` has
        returned, so a crash in between leaves an orphan for the sweep, as a crash between
        rename and metadata commit always did.  The caller meanwhile does what does not
        need the blob durable (the metadata statements: a small PUT's fsync and its SQL
        cost about the same, so running them side by side saves one of them).
        """
        self._file()  # an empty blob has no write
        final = self.provider._blob_path(self.name)
        folder = os.path.dirname(final)
        self.provider.ensure_dir(folder)
        os.replace(self.tmp, final)
        self.tmp = final  # what abort() removes from now on
        # An early write-back may still run on the descriptor: the fsync just waits for
        # the same pages in the kernel, and sync() lets both finish before closing it.
        self._durable = [_HELPERS.submit(_fsync_dir, folder),
                         _HELPERS.submit(os.fsync, self.fd)]
        return self.name

    def sync(self) -> None:
        """Wait for :meth:`publish`'s fsyncs (re-raising their error), then close the
        file."""
        if self._failed is not None:
            raise self._failed
        if self.fd < 0:
            return
        try:
            self._wait_sync()
            for job in self._durable:
                job.result()
        except OSError as exc:
            self._failed = exc  # asked again, the blob is still not durable
            raise
        finally:
            for job in self._durable:
                job.exception()  # both syncs end before the descriptor is closed
            self._durable = []
            os.close(self.fd)
            self.fd = -1

    def _file(self) -> int:
        """The temporary file's descriptor, creating the file the first time: not in the
        constructor, which the event loop calls (a create can wait on the journal)."""
        if not self._created:
            self.fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self._created = True
        return self.fd

    def _wait_sync(self) -> None:
        """Let an early write-back finish before the descriptor is synced or closed."""
        if self._sync is not None:
            try:
                self._sync.result()
            finally:
                self._sync = None

    def abort(self) -> None:
        """Close and delete the temporary file."""
        for job in [self._sync, *self._durable]:
            if job is not None:
                try:
                    job.result()
                except OSError:
                    pass
        self._sync, self._durable = None, []
        try:
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1
        finally:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass


class FilesystemProvider:
    """Blobs as files under ``root/blobs/xx/NAME`` (the Walrus provider)."""

    def __init__(self, root: str):
        self.root = root
        self.blob_dir = os.path.join(root, "blobs")
        self.tmp_dir = os.path.join(root, "tmp")
        os.makedirs(self.blob_dir, exist_ok=True)
        os.makedirs(self.tmp_dir, exist_ok=True)
        # All 256 blob directories up front (made durable by one fsync of their parent),
        # so that no PUT pays for a new directory entry.
        self._dirs: set[str] = set()  # blob directories known to exist
        created = False
        for i in range(256):
            folder = os.path.join(self.blob_dir, f"{i:02x}")
            if not os.path.isdir(folder):
                os.makedirs(folder, exist_ok=True)
                created = True
            self._dirs.add(folder)
        if created:
            _fsync_dir(self.blob_dir)

    def ensure_dir(self, folder: str) -> None:
        """Create a blob directory (and make its entry durable) the first time it is used."""
        if folder in self._dirs:
            return
        if not os.path.isdir(folder):
            os.makedirs(folder, exist_ok=True)
            _fsync_dir(self.blob_dir)
        self._dirs.add(folder)

    def _blob_path(self, name: str) -> str:
        # Names are generated hex; refuse anything else so no name can leave the tree.
        if not name or not all(c in "0123456789abcdef" for c in name):
            raise ValueError(f"bad blob name {name!r}")
        return os.path.join(self.blob_dir, name[:2], name)

    def writer(self, checksum: str | None = None) -> FileWriter:
        """A new blob being written."""
        return FileWriter(self, checksum)

    def read(self, name: str, offset: int = 0, length: int | None = None,
             chunk: int = READ_CHUNK) -> Iterator[bytes]:
        """Read ``length`` bytes from ``offset`` in chunks."""
        with open(self._blob_path(name), "rb") as fh:
            fh.seek(offset)
            remaining = length
            while remaining is None or remaining > 0:
                data = fh.read(chunk if remaining is None else min(chunk, remaining))
                if not data:
                    break
                if remaining is not None:
                    remaining -= len(data)
                yield data

    def copy(self, name: str) -> str:
        """A hard link under a new name (blobs are never modified in place)."""
        new = uuid.uuid4().hex
        dest = self._blob_path(new)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        try:
            os.link(self._blob_path(name), dest)
        except OSError:
            shutil.copyfile(self._blob_path(name), dest)
        _fsync_dir(os.path.dirname(dest))
        return new

    def delete(self, name: str) -> None:
        """Unlink a blob."""
        try:
            os.unlink(self._blob_path(name))
        except FileNotFoundError:
            pass

    def path(self, name: str) -> str:
        """The blob's file."""
        return self._blob_path(name)

    def names(self) -> Iterable[tuple[str, float]]:
        """Every blob with its modification time."""
        for sub in os.scandir(self.blob_dir):
            if sub.is_dir():
                for entry in os.scandir(sub.path):
                    yield entry.name, entry.stat().st_mtime

    def sweep(self, referenced: set[str], older_than: float) -> int:
        """Remove orphan blobs and stale temporary files."""
        count = 0
        for name, mtime in list(self.names()):
            if name not in referenced and mtime < older_than:
                self.delete(name)
                count += 1
        for entry in os.scandir(self.tmp_dir):
            if entry.stat().st_mtime < older_than:
                os.unlink(entry.path)
        return count


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def now() -> float:
    """Wall time for file ages (the provider deals in file mtimes, not the cloud clock)."""
    return time.time()
