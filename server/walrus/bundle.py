"""Image bundles (euca-bundle-image format): manifest parsing, key decryption, unbundling.

A bundle is ``tar(image) -> gzip -> AES-128-CBC -> parts``; the manifest lists the parts
with their SHA-1 digests, the SHA-1 of the tar stream, and the AES key and IV encrypted
(RSA PKCS#1 v1.5) to the cloud's certificate (``ec2_encrypted_key``/``_iv``).
:func:`unbundle` reverses the pipeline in a stream, so an image of any size is rebuilt
with bounded memory.  The node controller calls :meth:`Walrus.unbundle_image`.
"""

from __future__ import annotations

import hashlib
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from server.walrus.xmlio import children, find_text

_BLOCK = 16


class BundleError(Exception):
    """A bundle that cannot be read, decrypted or verified."""


@dataclass
class Manifest:
    """What the cloud needs from a bundle manifest."""

    name: str
    image_type: str
    architecture: str
    size: int
    digest: str
    encrypted_key: str
    encrypted_iv: str
    parts: list[tuple[str, str]] = field(default_factory=list)  # (filename, sha1 hex)
    kernel_id: str = ""
    ramdisk_id: str = ""
    user: str = ""


def parse_manifest(data: bytes) -> Manifest:
    """Parse a bundle manifest (defusedxml); BundleError if it is not one."""
    import defusedxml.ElementTree as DET

    try:
        root = DET.fromstring(data)
    except Exception as exc:
        raise BundleError(f"manifest is not well-formed XML: {exc}") from None
    image = next(children(root, "image"), None)
    config = next(children(root, "machine_configuration"), None)
    if root.tag.rsplit("}", 1)[-1] != "manifest" or image is None:
        raise BundleError("not a bundle manifest (no <image>)")
    parts_el = next(children(image, "parts"), None)
    parts: list[tuple[int, str, str]] = []
    if parts_el is not None:
        for part in children(parts_el, "part"):
            parts.append((int(part.get("index", "0")), find_text(part, "filename"),
                          find_text(part, "digest").lower()))
    parts.sort()
    try:
        size = int(find_text(image, "size") or "0")
    except ValueError:
        size = 0
    return Manifest(
        name=find_text(image, "name"), image_type=find_text(image, "type") or "machine",
        architecture=find_text(config, "architecture") if config is not None else "",
        size=size, digest=find_text(image, "digest").lower(),
        encrypted_key=find_text(image, "ec2_encrypted_key"),
        encrypted_iv=find_text(image, "ec2_encrypted_iv"),
        parts=[(f, d) for _, f, d in parts],
        kernel_id=find_text(config, "kernel_id") if config is not None else "",
        ramdisk_id=find_text(config, "ramdisk_id") if config is not None else "",
        user=find_text(image, "user"))


def _rsa_decrypt(private_key: Any, hex_text: str) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        plain: bytes = private_key.decrypt(bytes.fromhex(hex_text), padding.PKCS1v15())
    except Exception:
        raise BundleError("the bundle's key was not encrypted to this cloud's "
                          "certificate") from None
    # euca2ools encrypts the hex text of the key (as given to openssl -K); accept raw too.
    try:
        text = plain.decode("ascii").strip()
        if len(text) in (32, 64) and all(c in "0123456789abcdefABCDEF" for c in text):
            return bytes.fromhex(text)
    except UnicodeDecodeError:
        pass
    return plain


def decrypt_key(manifest: Manifest, private_key: Any) -> tuple[bytes, bytes]:
    """The AES key and IV of a bundle, decrypted with the cloud's private key."""
    if not manifest.encrypted_key or not manifest.encrypted_iv:
        raise BundleError("manifest has no ec2_encrypted_key/ec2_encrypted_iv")
    return _rsa_decrypt(private_key, manifest.encrypted_key), \
        _rsa_decrypt(private_key, manifest.encrypted_iv)


class _Pipe:
    """A read()-able view over an iterator of byte chunks (for tarfile's stream mode)."""

    def __init__(self, chunks: Iterator[bytes]):
        self.chunks = chunks
        self.buf = bytearray()

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that is left when ``n`` < 0)."""
        while n < 0 or len(self.buf) < n:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buf += chunk
        if n < 0:
            n = len(self.buf)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


def _decrypted(manifest: Manifest, read_part: Callable[[str], Iterable[bytes]], key: bytes,
               iv: bytes) -> Iterator[bytes]:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    held = b""  # the last block is held back to strip PKCS#7 padding at the end
    for filename, digest in manifest.parts:
        sha = hashlib.sha1()
        for chunk in read_part(filename):
            sha.update(chunk)
            plain = held + decryptor.update(chunk)
            cut = len(plain) - _BLOCK if len(plain) >= _BLOCK else 0
            held = plain[cut:]
            if cut:
                yield plain[:cut]
        if digest and sha.hexdigest() != digest:
            raise BundleError(f"part {filename} does not match its digest")
    plain = held + decryptor.finalize()
    if not plain:
        raise BundleError("bundle is empty")
    pad = plain[-1]
    if not 1 <= pad <= _BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise BundleError("bad padding: wrong key or corrupt bundle")
    yield plain[:-pad]


def _gunzipped(chunks: Iterator[bytes], tar_sha: Any) -> Iterator[bytes]:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    for chunk in chunks:
        # Bounded output: a sparse image compresses ~1000:1, so an unbounded inflate of
        # one 1 MiB chunk could need a gigabyte.
        pending = chunk
        while pending:
            data = inflater.decompress(pending, 1 << 20)
            pending = inflater.unconsumed_tail
            if data:
                tar_sha.update(data)
                yield data
    rest = inflater.flush()
    if rest:
        tar_sha.update(rest)
        yield rest


def unbundle(manifest_bytes: bytes, read_part: Callable[[str], Iterable[bytes]],
             out: BinaryIO, private_key: Any) -> Manifest:
    """Rebuild the image of a bundle into ``out``, verifying part and image digests."""
    manifest = parse_manifest(manifest_bytes)
    key, iv = decrypt_key(manifest, private_key)
    tar_sha = hashlib.sha1()
    stream = _Pipe(_gunzipped(_decrypted(manifest, read_part, key, iv), tar_sha))
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
            member = tar.next()
            if member is None or not member.isfile():
                raise BundleError("bundle holds no image file")
            src = tar.extractfile(member)
            assert src is not None
            while chunk := src.read(1024 * 1024):
                out.write(chunk)
    except (tarfile.TarError, zlib.error) as exc:
        raise BundleError(f"cannot unpack bundle: {exc}") from None
    while stream.read(1024 * 1024):  # drain so the digest covers the whole tar stream
        pass
    if manifest.digest and tar_sha.hexdigest() != manifest.digest:
        raise BundleError("image digest does not match the manifest")
    return manifest
