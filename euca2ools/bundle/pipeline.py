"""Bundling and unbundling as streams: tar -> SHA-1 -> gzip -> AES-128-CBC -> parts, and back.

Nothing here holds more than a chunk (1 MiB) of the image at a time, whatever its size.
The AES layer is ``openssl enc -aes-128-cbc -K KEY -iv IV`` compatible: PKCS#7 padding and
no ``Salted__`` header.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from . import CHUNK, PART_SIZE
from .keys import BundleError

if TYPE_CHECKING:
    from .manifest import ManifestPart

_BLOCK = 512
_RECORD = 20 * _BLOCK  # tarfile's record size: archives are padded to a multiple of it


def part_filename(prefix: str, index: int) -> str:
    """``PREFIX.part.NN`` (two digits, more once the index passes 99)."""
    return f"{prefix}.part.{index:02d}"


@dataclass
class Part:
    """A part file written by :class:`PartWriter`."""

    index: int
    filename: str
    path: str
    size: int
    digest: str  # SHA-1, hex


class PartWriter:
    """Cuts the encrypted stream into part files of ``part_size`` bytes, hashing each.

    ``on_part`` is called with each finished part (euca-bundle-and-upload-image uploads it
    while the next one is written).
    """

    def __init__(self, directory: str, prefix: str, part_size: int = PART_SIZE,
                 on_part: Callable[[Part], None] | None = None) -> None:
        if part_size <= 0:
            raise ValueError("part size must be positive")
        self.directory = directory
        self.prefix = prefix
        self.part_size = part_size
        self.on_part = on_part
        self.parts: list[Part] = []
        self.total = 0
        self._handle: BinaryIO | None = None
        self._sha: Any = None
        self._filled = 0

    def _open(self) -> None:
        name = part_filename(self.prefix, len(self.parts))
        self._handle = open(os.path.join(self.directory, name), "wb")  # noqa: SIM115 - closed in _finish
        self._sha = hashlib.sha1()
        self._filled = 0

    def _finish(self) -> None:
        assert self._handle is not None
        self._handle.close()
        index = len(self.parts)
        name = part_filename(self.prefix, index)
        part = Part(index, name, os.path.join(self.directory, name), self._filled,
                    self._sha.hexdigest())
        self.parts.append(part)
        self._handle = None
        if self.on_part is not None:
            self.on_part(part)

    def write(self, data: bytes) -> None:
        """Append encrypted bytes, starting new parts as they fill."""
        view = memoryview(data)
        while view:
            if self._handle is None:
                self._open()
            assert self._handle is not None
            take = min(len(view), self.part_size - self._filled)
            piece = view[:take]
            self._handle.write(piece)
            self._sha.update(piece)
            self._filled += take
            self.total += take
            view = view[take:]
            if self._filled == self.part_size:
                self._finish()

    def close(self) -> list[Part]:
        """Finish the last part and return every part."""
        if self._handle is not None:
            self._finish()
        if not self.parts:  # an empty stream still makes one (empty) part
            self._open()
            self._finish()
        return self.parts

    def abort(self) -> None:
        """Close and remove every part written so far (after an error)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            try:
                os.unlink(os.path.join(self.directory, part_filename(self.prefix, len(self.parts))))
            except OSError:
                pass
        for part in self.parts:
            try:
                os.unlink(part.path)
            except OSError:
                pass


def tar_header(name: str, size: int, mtime: float | None = None) -> bytes:
    """The header block(s) of a single regular-file tar member (GNU format, as euca2ools)."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = int(time.time() if mtime is None else mtime)
    info.type = tarfile.REGTYPE
    return info.tobuf(format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape")


def tar_trailer(header_len: int, size: int) -> bytes:
    """Member padding, the two zero end blocks, and padding to a whole tar record."""
    pad = (-size) % _BLOCK
    total = header_len + size + pad + 2 * _BLOCK
    return bytes(pad + 2 * _BLOCK + (-total) % _RECORD)


class ParallelGzip:
    """A single-member gzip stream deflated a block at a time on several threads.

    gzip is the slow step of bundling (~50 MiB/s on one core), so blocks are deflated
    in parallel the way pigz does it: each block is a raw deflate stream primed with the
    previous block's last 32 KiB as its dictionary and ended with a sync flush (byte
    aligned, not final), so the concatenation is one ordinary deflate stream that any
    gunzip reads.  zlib releases the GIL while it deflates.
    """

    BLOCK = 1024 * 1024
    WINDOW = 32 * 1024

    def __init__(self, level: int = 6, threads: int | None = None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.level = level
        self.threads = max(1, threads if threads is not None else min(4, os.cpu_count() or 1))
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="gzip")
        self._pending: list[Any] = []
        self._buf = bytearray()
        self._dict = b""
        self._crc = 0
        self._size = 0
        # Header: magic, deflate, no flags, no mtime, no extra flags, OS unix.
        self._out = bytearray(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")

    def _deflate(self, block: bytes, zdict: bytes, final: bool) -> bytes:
        if zdict:
            comp = zlib.compressobj(self.level, zlib.DEFLATED, -zlib.MAX_WBITS, 8,
                                    zlib.Z_DEFAULT_STRATEGY, zdict)
        else:
            comp = zlib.compressobj(self.level, zlib.DEFLATED, -zlib.MAX_WBITS)
        return comp.compress(block) + comp.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)

    def _submit(self, block: bytes, final: bool) -> None:
        self._pending.append(self._pool.submit(self._deflate, block, self._dict, final))
        self._dict = (self._dict + block)[-self.WINDOW:] if len(block) < self.WINDOW \
            else block[-self.WINDOW:]

    def _collect(self, everything: bool) -> bytes:
        # Bounded: at most two blocks per thread wait, so memory stays a few MiB.
        while self._pending and (everything or self._pending[0].done()
                                 or len(self._pending) > 2 * self.threads):
            self._out += self._pending.pop(0).result()
        out = bytes(self._out)
        self._out.clear()
        return out

    def compress(self, data: bytes) -> bytes:
        """Take more input; returns whatever compressed output is ready, in order."""
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._buf += data
        while len(self._buf) >= self.BLOCK:
            block = bytes(self._buf[:self.BLOCK])
            del self._buf[:self.BLOCK]
            self._submit(block, final=False)
        return self._collect(False)

    def flush(self) -> bytes:
        """The rest of the stream, with the gzip trailer (CRC-32 and size)."""
        self._submit(bytes(self._buf), final=True)
        self._buf.clear()
        out = self._collect(True)
        self._pool.shutdown()
        return out + self._crc.to_bytes(4, "little") + \
            (self._size & 0xFFFFFFFF).to_bytes(4, "little")

    def close(self) -> None:
        """Stop the worker threads (after an error)."""
        for future in self._pending:
            future.cancel()
        self._pool.shutdown(wait=True)


def bundle_stream(source: BinaryIO, image_size: int, member_name: str, key: bytes, iv: bytes,
                  sink: Callable[[bytes], None],
                  progress: Callable[[int], None] | None = None,
                  compress_level: int = 6) -> str:
    """Tar, hash, gzip and encrypt ``source`` into ``sink``; returns the tar stream's SHA-1.

    ``image_size`` must be exact: tar needs it up front, so a stream from stdin is
    checked against ``--image-size`` as it goes.
    """
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    tar_sha = hashlib.sha1()
    deflate = ParallelGzip(compress_level)
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()

    def feed(data: bytes) -> None:
        tar_sha.update(data)
        packed = deflate.compress(data)
        if packed:
            out = encryptor.update(padder.update(packed))
            if out:
                sink(out)

    try:
        header = tar_header(member_name, image_size)
        feed(header)
        done = 0
        while True:
            chunk = source.read(CHUNK)
            if not chunk:
                break
            done += len(chunk)
            if done > image_size:
                raise BundleError(f"the image is larger than its stated size ({image_size} "
                                  "bytes)")
            feed(chunk)
            if progress is not None:
                progress(len(chunk))
        if done != image_size:
            raise BundleError(f"the image ended after {done} of its stated {image_size} bytes")
        feed(tar_trailer(len(header), image_size))
        tail = padder.update(deflate.flush()) + padder.finalize()
        sink(encryptor.update(tail) + encryptor.finalize())
    finally:
        deflate.close()
    return tar_sha.hexdigest()


# -- unbundling ---------------------------------------------------------------------------------
def file_chunks(path: str, chunk: int = CHUNK) -> Iterator[bytes]:
    """A file's bytes, a chunk at a time."""
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            yield block


def checked_parts(parts: list[ManifestPart],
                  opener: Callable[[ManifestPart], Iterable[bytes]]) -> Iterator[bytes]:
    """The concatenated bytes of every part, each checked against its manifest SHA-1."""
    for part in parts:
        sha = hashlib.sha1()
        for chunk in opener(part):
            sha.update(chunk)
            yield chunk
        if part.digest and sha.hexdigest() != part.digest.lower():
            raise BundleError(f"part {part.filename} is corrupt: its SHA-1 does not match "
                              "the manifest")


def _decrypted(chunks: Iterable[bytes], key: bytes, iv: bytes) -> Iterator[bytes]:
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    for chunk in chunks:
        plain = unpadder.update(decryptor.update(chunk))
        if plain:
            yield plain
    try:
        tail = unpadder.update(decryptor.finalize()) + unpadder.finalize()
    except ValueError:
        raise BundleError("cannot decrypt the bundle: wrong key or IV, or the bundle is "
                          "corrupt or incomplete") from None
    if tail:
        yield tail


def _gunzipped(chunks: Iterable[bytes], tar_sha: Any) -> Iterator[bytes]:
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for chunk in chunks:
            # Output is capped per call: a megabyte of gzip'd zeros inflates to a gigabyte.
            data = inflate.decompress(chunk, CHUNK)
            while True:
                if data:
                    tar_sha.update(data)
                    yield data
                if not inflate.unconsumed_tail:
                    break
                data = inflate.decompress(inflate.unconsumed_tail, CHUNK)
        rest = inflate.flush()
    except zlib.error:
        raise BundleError("cannot decompress the bundle: wrong key or IV, or the bundle is "
                          "corrupt") from None
    if rest:
        tar_sha.update(rest)
        yield rest


class _StreamReader:
    """``read(n)`` over an iterator of byte chunks (tarfile's stream mode wants a file)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        pieces: list[bytes] = []
        want = n
        while want != 0:
            if self._pos >= len(self._buf):
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._buf, self._pos = chunk, 0
            end = len(self._buf) if want < 0 else min(len(self._buf), self._pos + want)
            pieces.append(self._buf[self._pos:end])
            if want > 0:
                want -= end - self._pos
            self._pos = end
        return b"".join(pieces)


@dataclass
class Unbundled:
    """What unbundling produced: the tar member's name, the image size and tar SHA-1."""

    name: str
    size: int
    digest: str


def unbundle_stream(chunks: Iterable[bytes], key: bytes, iv: bytes, out: BinaryIO,
                    digest: str | None = None, image_size: int | None = None) -> Unbundled:
    """Decrypt, gunzip and untar ``chunks`` into ``out``, checking the tar SHA-1 and size."""
    tar_sha = hashlib.sha1()
    reader = _StreamReader(_gunzipped(_decrypted(chunks, key, iv), tar_sha))
    written = 0
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
            member = tar.next()
            while member is not None and not member.isfile():
                member = tar.next()
            if member is None:
                raise BundleError("the bundle holds no image file")
            src = tar.extractfile(member)
            assert src is not None
            while block := src.read(CHUNK):
                out.write(block)
                written += len(block)
            name = member.name
    except tarfile.TarError as err:
        raise BundleError(f"cannot unpack the bundle's tar stream: {err}") from None
    while reader.read(CHUNK):  # the digest covers the whole tar stream, padding included
        pass
    result = Unbundled(os.path.basename(name), written, tar_sha.hexdigest())
    if digest and result.digest != digest.lower():
        raise BundleError("the unbundled image's SHA-1 does not match the manifest")
    if image_size is not None and image_size != written:
        raise BundleError(f"the unbundled image has {written} bytes, not {image_size}")
    return result
