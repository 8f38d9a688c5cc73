"""Receiving object bodies: stream to a blob with digests, verify, commit (never buffered)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from server.walrus import auth as s3auth
from server.walrus import errors as e
from server.walrus import sse
from server.walrus.context import S3Context
from server.walrus.provider import BlobWriter

FLUSH_AT = 512 * 1024
MAX_PENDING = 4 * 1024 * 1024
MAX_PUT = 5 * 1024 ** 3
CHECKSUMS = ("crc32", "crc32c", "sha1", "sha256", "crc64nvme")


@dataclass
class Received:
    """A committed blob and what was computed over it."""

    blob: str | None
    size: int
    md5: str
    checksum: str | None  # "algorithm:base64 value"


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
                  encryption: tuple[bytes, bytes] | None = None) -> Received:
    """Stream the request body (or ``source``) into a new blob; verify MD5, SHA-256 and
    checksums."""
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
    # The blob file is created by the first batch's worker (creating it can wait on the
    # journal behind other fsyncs: not on the loop), and the last batch, the checks and
    # the commit share one worker call: each hop to a thread costs a small PUT time.
    opened: list[BlobWriter] = []

    def flush(chunks: list[bytes]) -> None:
        if not opened:
            writer = provider.writer(algorithm)
            if encryption is not None:
                writer.cipher = sse.encryptor(*encryption)
            opened.append(writer)
        opened[0].write_many(chunks)
        if sha is not None:
            for chunk in chunks:
                sha.update(chunk)

    def finish(chunks: list[bytes]) -> Received:
        flush(chunks)
        writer = opened[0]
        size = writer.size
        decoded = ctx.headers.get("x-amz-decoded-content-length")
        if decoded is not None and decoded.isdigit() and int(decoded) != size:
            raise e.IncompleteBody()
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
        return Received(writer.commit(), size, md5.hex(), checksum)

    inflight: asyncio.Future[Any] | None = None
    try:
        pending: list[bytes] = []
        pending_size = received = 0
        if source is None:
            source = s3auth.body_chunks(ctx.request, ctx.auth)
        async for chunk in source:
            pending.append(chunk)
            pending_size += len(chunk)
            # Digest and write a batch in a worker thread (hashlib and writev release the
            # GIL) while the loop keeps receiving; the loop waits for the worker only when
            # MAX_PENDING bytes are queued behind it, so memory stays bounded.
            if pending_size >= FLUSH_AT and (inflight is None or inflight.done()
                                             or pending_size >= MAX_PENDING):
                received += pending_size
                if received > max_size:
                    raise e.EntityTooLarge(MaxSizeAllowed=str(max_size))
                batch, pending, pending_size = pending, [], 0
                if inflight is not None:
                    await inflight
                inflight = asyncio.ensure_future(asyncio.to_thread(flush, batch))
        if inflight is not None:
            await inflight
        last = asyncio.ensure_future(asyncio.to_thread(finish, pending))
        inflight = last  # a cancelled request still waits for the worker before abort()
        return await last
    except BaseException:
        if inflight is not None:
            await asyncio.wait([inflight])
        if opened:
            opened[0].abort()
        raise


def checksum_headers(checksum: str | None) -> list[tuple[str, str]]:
    """``x-amz-checksum-ALG`` for a stored ``algorithm:value``."""
    if not checksum:
        return []
    alg, _, value = checksum.partition(":")
    return [(f"x-amz-checksum-{alg}", value)]
