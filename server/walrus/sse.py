"""Server-side encryption: SSE-C (customer keys) and SSE-S3 (``AES256``, server keys).

Blobs are encrypted with AES-256-CTR, one random nonce per blob (kept next to the blob
name in the version's ``blobs`` list), so ranged reads decrypt from any offset.  SSE-S3
data keys are random per object (per upload for multipart) and stored wrapped with the
cloud's master key (AES-GCM; ``DATA_DIR/walrus/master.key``).  SSE-C keys are never
stored: only their MD5, to recognise the key on later requests.  ETags stay the MD5 of
the plaintext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from server.util import atomic_write
from server.walrus import errors as e

C_PREFIX = "x-amz-server-side-encryption-customer-"
COPY_C_PREFIX = "x-amz-copy-source-server-side-encryption-customer-"
_BLOCK = 16


def _cipher(key: bytes, nonce: bytes, offset: int) -> Any:
    """An AES-256-CTR context positioned at byte ``offset`` of the stream."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    counter = (int.from_bytes(nonce, "big") + offset // _BLOCK) % (1 << 128)
    ctx = Cipher(algorithms.AES(key), modes.CTR(counter.to_bytes(16, "big"))).encryptor()
    if offset % _BLOCK:
        ctx.update(bytes(offset % _BLOCK))  # skip into the block
    return ctx


def encryptor(key: bytes, nonce: bytes) -> Any:
    """A context whose ``update`` encrypts a blob from its start."""
    return _cipher(key, nonce, 0)


def decrypt(key: bytes, nonce: bytes, offset: int, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Decrypt ciphertext chunks that start at byte ``offset`` of the blob."""
    ctx = _cipher(key, nonce, offset)
    for chunk in chunks:
        yield ctx.update(chunk)


@dataclass
class Encryption:
    """How a new object (or upload) is encrypted."""

    kind: str           # "SSE-C" or "AES256"
    key: bytes
    key_md5: str = ""   # SSE-C: base64 MD5 of the customer key
    wrapped: str = ""   # SSE-S3: the data key under the master key

    def record(self) -> str:
        """What the database keeps (never an SSE-C key)."""
        if self.kind == "SSE-C":
            return json.dumps({"kind": "SSE-C", "key_md5": self.key_md5})
        return json.dumps({"kind": "AES256", "wrapped": self.wrapped})


def response_headers(record: str | None) -> list[tuple[str, str]]:
    """SSE response headers for a stored record."""
    if not record:
        return []
    rec = json.loads(record)
    if rec["kind"] == "SSE-C":
        return [(C_PREFIX + "algorithm", "AES256"), (C_PREFIX + "key-md5", rec["key_md5"])]
    return [("x-amz-server-side-encryption", "AES256")]


class MasterKey:
    """The cloud's key-encryption key for SSE-S3 data keys."""

    def __init__(self, path: str):
        self.path = path
        self._key: bytes | None = None

    def key(self) -> bytes:
        """The 256-bit master key, created on first use."""
        if self._key is None:
            if not os.path.exists(self.path):
                atomic_write(self.path, os.urandom(32).hex().encode(), mode=0o600)
            with open(self.path, "rb") as fh:
                self._key = bytes.fromhex(fh.read().decode().strip())
        return self._key

    def wrap(self, data_key: bytes) -> str:
        """AES-GCM-encrypt a data key; hex of nonce + ciphertext."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(12)
        return (nonce + AESGCM(self.key()).encrypt(nonce, data_key, b"walrus-sse-s3")).hex()

    def unwrap(self, wrapped: str) -> bytes:
        """The data key of a wrapped record."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        raw = bytes.fromhex(wrapped)
        return AESGCM(self.key()).decrypt(raw[:12], raw[12:], b"walrus-sse-s3")


def customer_key(h: dict[str, str], prefix: str = C_PREFIX) -> tuple[bytes, str] | None:
    """The validated SSE-C key and its base64 MD5 from request headers, if any."""
    alg, key_b64, md5_b64 = (h.get(prefix + "algorithm"), h.get(prefix + "key"),
                             h.get(prefix + "key-md5"))
    if alg is None and key_b64 is None and md5_b64 is None:
        return None
    if alg is None:
        raise e.InvalidArgument("Requests specifying Server Side Encryption with Customer "
                                "provided keys must provide a valid encryption algorithm.",
                                ArgumentName=prefix + "algorithm")
    if alg != "AES256":
        raise e.InvalidArgument("The encryption method specified is not supported",
                                ArgumentName=prefix + "algorithm", ArgumentValue=alg)
    if not key_b64:
        raise e.InvalidArgument("Requests specifying Server Side Encryption with Customer "
                                "provided keys must provide an appropriate secret key.",
                                ArgumentName=prefix + "key")
    if not md5_b64:
        raise e.InvalidArgument("Requests specifying Server Side Encryption with Customer "
                                "provided keys must provide the client calculated MD5 of the "
                                "secret key.", ArgumentName=prefix + "key-MD5")
    try:
        key = base64.b64decode(key_b64, validate=True)
    except (binascii.Error, ValueError):
        raise e.InvalidArgument("The secret key was invalid for the specified algorithm.",
                                ArgumentName=prefix + "key") from None
    if len(key) != 32:
        raise e.InvalidArgument("The secret key was invalid for the specified algorithm.",
                                ArgumentName=prefix + "key")
    if base64.b64encode(hashlib.md5(key).digest()).decode() != md5_b64.strip():
        raise e.InvalidArgument("The calculated MD5 hash of the key did not match the hash "
                                "that was provided.", ArgumentName=prefix + "key-MD5")
    return key, md5_b64.strip()


def for_write(h: dict[str, str], bucket_default: str | None,
              master: MasterKey) -> Encryption | None:
    """The encryption a write asks for (headers first, then the bucket's default)."""
    ck = customer_key(h)
    sse = h.get("x-amz-server-side-encryption")
    if ck is not None and sse:
        raise e.InvalidArgument("Server Side Encryption with Customer provided key is "
                                "incompatible with the encryption method specified",
                                ArgumentName="x-amz-server-side-encryption")
    if ck is not None:
        return Encryption("SSE-C", ck[0], key_md5=ck[1])
    algorithm = sse or bucket_default
    if not algorithm:
        return None
    if algorithm == "aws:kms" or algorithm == "aws:kms:dsse":
        raise e.NotImplemented_("SSE-KMS is not implemented: use AES256 or SSE-C")
    if algorithm != "AES256":
        raise e.InvalidArgument("The encryption method specified is not supported",
                                ArgumentName="x-amz-server-side-encryption",
                                ArgumentValue=algorithm)
    data_key = os.urandom(32)
    return Encryption("AES256", data_key, wrapped=master.wrap(data_key))


def for_read(h: dict[str, str], record: str | None, master: MasterKey,
             prefix: str = C_PREFIX) -> bytes | None:
    """The data key to read a version with (checking an SSE-C key), or None."""
    if not record:
        if customer_key(h, prefix) is not None:
            raise e.InvalidRequest("The encryption parameters are not applicable to this "
                                   "object.")
        return None
    rec = json.loads(record)
    if rec["kind"] == "SSE-C":
        ck = customer_key(h, prefix)
        if ck is None:
            raise e.InvalidRequest("The object was stored using a form of Server Side "
                                   "Encryption. The correct parameters must be provided to "
                                   "retrieve the object.")
        if ck[1] != rec["key_md5"]:
            raise e.AccessDenied("The provided customer key does not match the object's key")
        return ck[0]
    return master.unwrap(rec["wrapped"])


def upload_key(h: dict[str, str], record: str | None, master: MasterKey) -> bytes | None:
    """The key for a part of an upload (SSE-C parts must repeat the upload's key)."""
    if not record:
        return None
    rec = json.loads(record)
    if rec["kind"] == "SSE-C":
        ck = customer_key(h)
        if ck is None:
            raise e.InvalidRequest("The multipart upload initiate requested encryption. "
                                   "Subsequent part requests must include the appropriate "
                                   "encryption parameters.")
        if ck[1] != rec["key_md5"]:
            raise e.InvalidArgument("The provided encryption parameters did not match the "
                                    "ones used originally.")
        return ck[0]
    return master.unwrap(rec["wrapped"])


def plaintext(provider: Any, blobs: list[list[Any]], key: bytes | None, start: int,
              length: int, chunk: int) -> Iterator[bytes]:
    """Bytes ``[start, start+length)`` of an object across its blobs, decrypted if needed."""
    offset = 0
    for seg in blobs:
        name, size = seg[0], seg[1]
        if length <= 0:
            break
        if start >= offset + size:
            offset += size
            continue
        local = start - offset
        take = min(size - local, length)
        it = provider.read(name, local, take, chunk=chunk)
        if key is not None and len(seg) > 2:
            it = decrypt(key, bytes.fromhex(seg[2]), local, it)
        yield from it
        length -= take
        start += take
        offset += size
