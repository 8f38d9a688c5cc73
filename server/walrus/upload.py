"""Receiving object bodies: stream to a blob with digests, verify, commit (never buffered)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import queue
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from server.walrus import auth as s3auth
from server.walrus import errors as e
from server.walrus import sse
from server.walrus.context import S3Context
from server.walrus.provider import BlobWriter

#: Bytes received before a batch goes to the workers.
FLUSH_AT = 512 * 1024
#: Threads digesting a body's last batch beside its write (short jobs, never waiting).
_DIGESTS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="walrus-digest")
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
    # The blob file is created by the worker of the first batch or of the last one (it
    # can wait on the journal behind other fsyncs: not on the loop), and the last batch,
    # the checks, the commit and ``record`` share one worker call: each hop to a thread
    # costs a small PUT time.
    opened: list[BlobWriter] = []
    recorded: list[Received] = []  # once the blob is committed (and recorded): keep it

    def open_writer() -> BlobWriter:
        if not opened:
            writer = provider.writer(algorithm)
            if encryption is not None:
                writer.cipher = sse.encryptor(*encryption)
            opened.append(writer)
        return opened[0]

    def finish(chunks: list[bytes]) -> Received:
        writer = open_writer()
        # The digests of the last bytes run while they are written and the blob is made
        # durable (rename, fsyncs): a small PUT waits for the longer of its MD5 and its
        # fsync, not their sum.  A blob whose digests then disagree is deleted again
        # (abort); no row ever named it.
        steps = writer.digest_steps() + ([_updater(sha)] if sha is not None else [])
        hashing = []
        if sum(len(c) for c in chunks) < INLINE_DIGEST:
            for step in steps:
                step(chunks)
        else:
            hashing = [_DIGESTS.submit(step, chunks) for step in steps]
        try:
            writer.store_many(chunks)
            size = writer.size
            decoded = ctx.headers.get("x-amz-decoded-content-length")
            if decoded is not None and decoded.isdigit() and int(decoded) != size:
                raise e.IncompleteBody()
            name = writer.publish()  # its fsyncs run beside the checks and ``record``
        finally:
            for job in hashing:
                job.result()
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

    # A body larger than one batch flows through pipelines, each a worker thread that
    # takes batches in order: the MD5 (and checksum), the file write, and the SHA-256
    # of a signed payload.  They run side by side (hashlib and writev release the GIL)
    # and none waits for another, so the MD5, the slowest, never idles behind a write
    # the disk holds up; the loop only receives and hands batches on.
    # A small body (by its declared length) is received whole and written, digested and
    # committed in one worker call: starting pipelines costs more than they save there.
    pipes: list[_Pipeline] = []
    expected = int(declared) if declared is not None and declared.isdigit() else -1
    last: asyncio.Future[Received] | None = None
    try:
        pending: list[bytes] = []
        pending_size = received = 0
        if source is None:
            source = s3auth.body_chunks(ctx.request, ctx.auth)
        async for chunk in source:
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size < FLUSH_AT or (pending_size <= WHOLE_BODY and not pipes
                                           and 0 <= expected <= WHOLE_BODY):
                continue
            received += pending_size
            if received > max_size:
                raise e.EntityTooLarge(MaxSizeAllowed=str(max_size))
            if not pipes:
                writer = await asyncio.to_thread(open_writer)
                steps = [*writer.digest_steps(), writer.store_many]
                if sha is not None:
                    steps.append(_updater(sha))
                pipes = [_Pipeline(step) for step in steps]
            for pipe in pipes:
                if pipe.error is not None:  # e.g. the disk is full: stop reading now
                    raise pipe.error
                pipe.put(pending, pending_size)
            pending, pending_size = [], 0
            # Memory stays bounded: wait while the slowest pipeline is far behind.
            while max(pipe.backlog for pipe in pipes) >= MAX_PENDING:
                await pipes[0].progress(pipes)
        if pipes and pending:
            # The last bytes join the queues too: the MD5 takes them right after the
            # batches before, rather than in ``finish`` once every queue is empty.
            if received + pending_size > max_size:
                raise e.EntityTooLarge(MaxSizeAllowed=str(max_size))
            for pipe in pipes:
                pipe.put(pending, pending_size)
            pending = []
        for pipe in pipes:
            await pipe.close()
        last = asyncio.ensure_future(asyncio.to_thread(finish, pending))
        return await last
    except BaseException:
        for pipe in pipes:
            await pipe.close(check=False)
        if last is not None:  # a cancelled request still waits for the worker
            await asyncio.wait([last])
        if opened and not recorded:
            opened[0].abort()
        raise


def _updater(digest: Any) -> Callable[[list[bytes]], None]:
    def update(chunks: list[bytes]) -> None:
        for chunk in chunks:
            digest.update(chunk)
    return update


class _Pipeline:
    """One worker thread applying ``step`` to the batches it is given, in order."""

    def __init__(self, step: Callable[[list[bytes]], None]):
        self.step = step
        self.loop = asyncio.get_running_loop()
        self.batches: queue.SimpleQueue[list[bytes] | None] = queue.SimpleQueue()
        self.backlog = 0  # bytes given and not yet processed
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.done: asyncio.Future[None] = self.loop.create_future()
        # A thread of its own (not a bounded pool): pipelines wait for their upload's
        # next batch, so pooled ones could all end up waiting for uploads whose other
        # pipelines are queued behind them.
        threading.Thread(target=self._run, name="walrus-pipe", daemon=True).start()

    def put(self, batch: list[bytes], size: int) -> None:
        """Queue a batch (the worker takes it when the previous ones are done)."""
        self.backlog += size
        self.batches.put(batch)

    def _run(self) -> None:
        while True:
            batch = self.batches.get()
            if batch is None:
                self.loop.call_soon_threadsafe(self._finished)
                return
            size = sum(len(c) for c in batch)
            if self.error is None:
                try:
                    self.step(batch)
                except BaseException as exc:  # reported by close()
                    self.error = exc
            self.loop.call_soon_threadsafe(self._processed, size)

    def _finished(self) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def _processed(self, size: int) -> None:
        self.backlog -= size
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def progress(self, pipes: list[_Pipeline]) -> None:
        """Wait until any of ``pipes`` has processed a batch."""
        waiter = self.loop.create_future()
        for pipe in pipes:
            pipe.waiter = waiter
        await waiter

    async def close(self, check: bool = True) -> None:
        """Wait for the queued batches to be processed (and re-raise a step's error)."""
        if not self.done.done():
            self.batches.put(None)
            await asyncio.wait([self.done])
        if check and self.error is not None:
            raise self.error


def checksum_headers(checksum: str | None) -> list[tuple[str, str]]:
    """``x-amz-checksum-ALG`` for a stored ``algorithm:value``."""
    if not checksum:
        return []
    alg, _, value = checksum.partition(":")
    return [(f"x-amz-checksum-{alg}", value)]
