"""Receiving object bodies: stream to a blob with digests, verify, commit (never buffered)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from server.walrus import auth as s3auth
from server.walrus import errors as e
from server.walrus import sse
from server.walrus.context import S3Context

#: Bytes received before a batch goes to the workers.
FLUSH_AT = 512 * 1024
#: Threads digesting a body's last batch beside its write (short jobs, never waiting).
_DIGESTS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="walrus-digest")
#: Threads running the pipelines' steps (jobs that end when their queue is empty).
_PIPES = ThreadPoolExecutor(max_workers=64, thread_name_prefix="walrus-pipe")
#: Fewer bytes than this are digested in line rather than beside the write.
INLINE_DIGEST = 64 * 1024
#: Bodies declared up to this size are received whole before the worker call.
WHOLE_BODY = 2 * 1024 * 1024
#: Bytes a pipeline may have queued before the loop stops reading the request.  Small:
#: the MD5 (or the disk) is slower than the connection, so the slowest pipeline always
#: has this much queued, and it is what is left to do after the last byte arrives.
MAX_PENDING = 2 * 1024 * 1024
MAX_PUT = 5 * 1024 ** 3
CHECKSUMS = ("crc32", "crc32c", "sha1", "sha256", "crc64nvme")


@dataclass
class Received:
    """A committed blob and what was computed over it."""

    blob: str | None
    size: int
    md5: str
    checksum: str | None  # "algorithm:base64 value"
    recorded: Any = None  # what ``record`` returned
    #: Waits until the blob is durable: ``record`` calls it before its commit.
    durable: Callable[[], None] = lambda: None


def content_md5(ctx: S3Context) -> bytes | None:
    """The decoded Content-MD5 header (InvalidDigest when malformed)."""
    value = ctx.headers.get("content-md5")
    if value is None:
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise e.InvalidDigest(extra={"Content-MD5": value}) from None
    if len(digest) != 16:
        raise e.InvalidDigest(extra={"Content-MD5": value})
    return digest


def checksum_algorithm(ctx: S3Context) -> str | None:
    """The flexible-checksum algorithm the client announced (header or trailer)."""
    h = ctx.headers
    for name in ("x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm"):
        if h.get(name):
            return h[name].lower()
    trailer = h.get("x-amz-trailer", "").lower()
    if trailer.startswith("x-amz-checksum-"):
        return trailer[len("x-amz-checksum-"):]
    for alg in CHECKSUMS:
        if f"x-amz-checksum-{alg}" in h:
            return alg
    return None


async def receive(ctx: S3Context, max_size: int = MAX_PUT,
                  source: AsyncIterator[bytes] | None = None,
                  encryption: tuple[bytes, bytes] | None = None,
                  record: Callable[[Received], Any] | None = None) -> Received:
    """Stream the request body (or ``source``) into a new blob; verify MD5, SHA-256 and
    checksums.

    ``record`` (the metadata commit) runs in the same worker call as the blob's commit,
    while the blob's fsyncs still run: it must call ``Received.durable`` before it
    commits anything that names the blob (its statements run meanwhile).  If it raises,
    the blob is deleted.
    """
    md5_expected = content_md5(ctx)
    algorithm = checksum_algorithm(ctx)
    provider = ctx.walrus.provider
    sha = hashlib.sha256() if s3auth.wants_sha256(ctx.auth) else None
    declared = ctx.headers.get("x-amz-decoded-content-length") or \
        ctx.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > max_size:
                raise e.EntityTooLarge(ProposedSize=declared, MaxSizeAllowed=str(max_size))
        except ValueError:
            raise e.InvalidArgument("Invalid Content-Length") from None
    # The writer is made on the loop (its file is created by the first write, on a worker
    # thread: that can wait on the journal behind other fsyncs), and the last bytes,
    # the checks, the commit and ``record`` share one worker call: each hop to a thread
    # costs a small PUT time.
    writer = provider.writer(algorithm)
    if encryption is not None:
        writer.cipher = sse.encryptor(*encryption)
    recorded: list[Received] = []  # once the blob is committed (and recorded): keep it
    digest_steps = writer.digest_steps() + ([_updater(sha)] if sha is not None else [])

    def finish(chunks: list[bytes], pipes: list[_Pipeline]) -> Received:
        """Write ``chunks`` (the bytes no pipeline took), wait for the pipelines, make the
        blob durable, check the digests and run ``record``."""
        hashing = []
        if pipes:  # they digested every byte (and stored them, for a large body)
            digests = pipes[:len(digest_steps)]
        elif sum(len(c) for c in chunks) < INLINE_DIGEST:
            for step in digest_steps:
                step(chunks)
            digests = []
        else:
            # The digests run while the bytes are written and the blob is made durable.
            hashing = [_DIGESTS.submit(step, chunks) for step in digest_steps]
            digests = []
        try:
            for pipe in pipes[len(digest_steps):]:
                pipe.join()
            if chunks:
                writer.store_many(chunks)
            size = writer.size
            decoded = ctx.headers.get("x-amz-decoded-content-length")
            if decoded is not None and decoded.isdigit() and int(decoded) != size:
                raise e.IncompleteBody()
            # The fsyncs run beside the rest of the digests, the checks and ``record``:
            # a small PUT waits for the longest of them, not their sum.  A blob whose
            # digests then disagree is deleted again (abort); no row ever named it.
            name = writer.publish()
        finally:
            for job in hashing:
                job.result()
            for pipe in digests:
                pipe.join()
        if sha is not None:
            s3auth.check_payload_hash(ctx.auth, sha.hexdigest())
        md5 = writer.md5.digest()
        if md5_expected is not None and md5 != md5_expected:
            raise e.BadDigest(ExpectedDigest=base64.b64encode(md5_expected).decode(),
                              CalculatedDigest=base64.b64encode(md5).decode())
        checksum = None
        if algorithm:
            sent = ctx.headers.get(f"x-amz-checksum-{algorithm}") or \
                ctx.auth.trailers.get(f"x-amz-checksum-{algorithm}")
            computed = writer.checksum()
            if sent and computed and sent != computed:
                raise e.BadDigest(f"The {algorithm.upper()} you specified did not match the "
                                  "calculated checksum.")
            value = sent or computed
            checksum = f"{algorithm}:{value}" if value else None
        got = Received(name, size, md5.hex(), checksum, durable=writer.sync)
        if record is not None:
            got.recorded = record(got)
        writer.sync()
        recorded.append(got)
        return got

    # Pipelines take the body's batches in order, each applying one step on a worker
    # thread: the MD5, the checksum, the SHA-256 of a signed payload and (for a body
    # larger than WHOLE_BODY) the file write.  They run side by side (hashlib, zlib and
    # writev release the GIL) and none waits for another, so the MD5, the slowest,
    # never idles behind a write the disk holds up; the loop only receives and hands
    # batches on.  A small body (by its declared length) is digested as it arrives and
    # written in the final worker call; a tiny one is digested there too.
    pipes: list[_Pipeline] = []
    expected = int(declared) if declared is not None and declared.isdigit() else -1
    whole = 0 <= expected <= WHOLE_BODY
    last: asyncio.Future[Received] | None = None
    try:
        pending: list[bytes] = []  # received, not yet given to the pipelines
        pending_size = received = 0
        unstored: list[bytes] = []  # a small body: digested as it came, written at the end
        if source is None:
            source = s3auth.body_chunks(ctx.request, ctx.auth)
        async for chunk in source:
            pending.append(chunk)
            pending_size += len(chunk)
            if whole and received + pending_size <= WHOLE_BODY:
                if expected < INLINE_DIGEST:
                    continue
                unstored.append(chunk)
                batch_at = 0  # every piece as it comes: the body is over in a moment
            elif whole:  # longer than declared: the rest is a large body's
                whole = False
                batch_at = FLUSH_AT
            else:
                batch_at = FLUSH_AT
            if pending_size < batch_at:
                continue
            received += pending_size
            if received > max_size:
                raise e.EntityTooLarge(MaxSizeAllowed=str(max_size))
            if not whole and len(pipes) == len(digest_steps):
                # The store pipeline joins (first for what the digests already took).
                store = _Pipeline(writer.store_many)
                if unstored:
                    store.put(unstored, sum(len(c) for c in unstored))
                    unstored = []
                pipes.append(store)
            if not pipes:
                pipes = [_Pipeline(step) for step in digest_steps]
                if not whole:
                    pipes.append(_Pipeline(writer.store_many))
            for pipe in pipes:
                if pipe.error is not None:  # e.g. the disk is full: stop reading now
                    raise pipe.error
                pipe.put(pending, pending_size)
            pending, pending_size = [], 0
            # Memory stays bounded: wait while the slowest pipeline is far behind.
            if max(pipe.backlog for pipe in pipes) >= MAX_PENDING:
                await _progress(pipes, MAX_PENDING)
        if pipes and pending:
            # The last bytes join the queues too: the MD5 takes them right after the
            # batches before, rather than in ``finish`` once every queue is empty.
            if received + pending_size > max_size:
                raise e.EntityTooLarge(MaxSizeAllowed=str(max_size))
            if len(pipes) == len(digest_steps):  # no store pipeline: ``finish`` writes
                unstored += pending
            for pipe in pipes:
                pipe.put(pending, pending_size)
            pending = []
        last = asyncio.ensure_future(asyncio.to_thread(finish, unstored if pipes else pending,
                                                       pipes))
        return await last
    except BaseException:
        for pipe in pipes:
            await pipe.close()
        if last is not None:  # a cancelled request still waits for the worker
            await asyncio.wait([last])
        if not recorded:
            writer.abort()
        raise


def _updater(digest: Any) -> Callable[[list[bytes]], None]:
    def update(chunks: list[bytes]) -> None:
        for chunk in chunks:
            digest.update(chunk)
    return update


class _Pipeline:
    """Applies ``step`` to the batches it is given, in order, on a worker thread.

    The work is drained by jobs of a shared pool that end when the queue is empty (the
    next batch starts another): a job never waits for a batch, so the pool's bound
    cannot leave an upload's queue behind idle jobs of other uploads.  The loop hears of
    progress only while it waits for some (:func:`_progress`): a wake-up per batch would
    cost the loop and the worker a thread switch each.
    """

    def __init__(self, step: Callable[[list[bytes]], None]):
        self.step = step
        self.loop = asyncio.get_running_loop()
        self.backlog = 0  # bytes given and not yet processed
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None  # the loop waits for progress
        self._batches: deque[tuple[list[bytes], int]] = deque()
        self._running = False  # a drain job is queued or running
        self._idle = threading.Condition()

    def put(self, batch: list[bytes], size: int) -> None:
        """Queue a batch (taken when the previous ones are done)."""
        with self._idle:
            self.backlog += size
            self._batches.append((batch, size))
            if self._running:
                return
            self._running = True
        _PIPES.submit(self._drain)

    def _drain(self) -> None:
        while True:
            with self._idle:
                if not self._batches:
                    self._running = False
                    self._idle.notify_all()
                    return
                batch, size = self._batches.popleft()
            if self.error is None:
                try:
                    self.step(batch)
                except BaseException as exc:  # reported by join() and close()
                    self.error = exc
            with self._idle:
                self.backlog -= size
                waiter, self.waiter = self.waiter, None
            if waiter is not None:
                try:
                    self.loop.call_soon_threadsafe(_wake, waiter)
                except RuntimeError:  # the loop is closed (shutting down): keep draining,
                    pass  # so that join() in the final worker call still returns

    def join(self) -> None:
        """From a worker thread: wait until every batch given is processed (and re-raise
        a step's error)."""
        with self._idle:
            while self._running:
                self._idle.wait()
        if self.error is not None:
            raise self.error

    async def close(self) -> None:
        """From the loop: wait until the queued batches are processed (errors dropped:
        the upload is failing already)."""
        await _progress([self], 1)


async def _progress(pipes: list[_Pipeline], limit: int) -> None:
    """From the loop: wait until every pipeline's backlog is below ``limit`` bytes, woken
    as they process batches."""
    loop = asyncio.get_running_loop()
    while max(pipe.backlog for pipe in pipes) >= limit:
        waiter = loop.create_future()
        for pipe in pipes:
            with pipe._idle:
                pipe.waiter = waiter
        if max(pipe.backlog for pipe in pipes) < limit:  # before they saw the waiter
            return
        await waiter


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def checksum_headers(checksum: str | None) -> list[tuple[str, str]]:
    """``x-amz-checksum-ALG`` for a stored ``algorithm:value``."""
    if not checksum:
        return []
    alg, _, value = checksum.partition(":")
    return [(f"x-amz-checksum-{alg}", value)]
