"""Server-side encryption: SSE-C (customer keys), SSE-S3 (``AES256``) and SSE-KMS.

Blobs are encrypted with AES-256-CTR, one random nonce per blob (kept next to the blob
name in the version's ``blobs`` list), so ranged reads decrypt from any offset.  Data keys
are random per object (per upload for multipart) and stored wrapped (AES-GCM):

* SSE-S3: under the cloud's master key (``DATA_DIR/walrus/master.key``);
* SSE-KMS (``aws:kms`` and ``aws:kms:dsse``): under a key-encryption key derived from the
  master key and the KMS key id.  The cloud has no KMS service, so every key id is
  accepted and stands for its own derived key; without one, an account's default key
  (the stand-in for AWS's ``aws/s3`` managed key) is used, named like a KMS key ARN.

SSE-C keys are never stored: only their MD5, to recognise the key on later requests.
ETags stay the MD5 of the plaintext, also for SSE-KMS (where S3's ETag is opaque): clients
must not rely on either, and a usable MD5 keeps conditional requests meaningful.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from server.util import atomic_write, loads_json
from server.walrus import errors as e
from server.walrus.provider import blob_ranges

if TYPE_CHECKING:
    from server.auth.secrets import SecretBox
    from server.protocol.http import Response
    from server.walrus.context import Row, S3Context

C_PREFIX = "x-amz-server-side-encryption-customer-"
COPY_C_PREFIX = "x-amz-copy-source-server-side-encryption-customer-"
SSE = "x-amz-server-side-encryption"
KMS_KEY_ID = "x-amz-server-side-encryption-aws-kms-key-id"
KMS_CONTEXT = "x-amz-server-side-encryption-context"
BUCKET_KEY = "x-amz-server-side-encryption-bucket-key-enabled"
KMS_KINDS = ("aws:kms", "aws:kms:dsse")
ALGORITHMS = ("AES256",) + KMS_KINDS
MAX_KEY_ID = 2048
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

    kind: str           # "SSE-C", "AES256", "aws:kms" or "aws:kms:dsse"
    key: bytes
    key_md5: str = ""   # SSE-C: base64 MD5 of the customer key
    wrapped: str = ""   # SSE-S3/KMS: the data key under the master key / the KMS key
    key_id: str = ""    # SSE-KMS: the KMS key id as the client named it
    context: str = ""   # SSE-KMS: the client's encryption context (base64 JSON)
    bucket_key: bool = False  # SSE-KMS: S3 Bucket Key asked for (reported back only)

    def record(self) -> str:
        """What the database keeps (never an SSE-C key)."""
        if self.kind == "SSE-C":
            return json.dumps({"kind": "SSE-C", "key_md5": self.key_md5})
        if self.kind in KMS_KINDS:
            rec: dict[str, Any] = {"kind": self.kind, "key_id": self.key_id,
                                   "wrapped": self.wrapped}
            if self.context:
                rec["context"] = self.context
            if self.bucket_key:
                rec["bucket_key"] = True
            return json.dumps(rec)
        return json.dumps({"kind": "AES256", "wrapped": self.wrapped})


@dataclass
class BucketDefaults:
    """What a write falls back to: the bucket's default encryption and the account's key."""

    algorithm: str | None = None  # the bucket's default SSEAlgorithm, if it has one
    key_id: str = ""              # its KMSMasterKeyID (empty: the account's default key)
    bucket_key: bool = False      # its BucketKeyEnabled
    region: str = ""              # where the bucket is, and whose it is: they name the
    account: str = ""             # account's default KMS key (AWS's aws/s3 key) if needed


def response_headers(record: str | None, write: bool = False) -> list[tuple[str, str]]:
    """SSE response headers for a stored record (``write``: also the encryption context,
    which S3 echoes only on the requests that encrypt)."""
    if not record:
        return []
    rec = json.loads(record)
    if rec["kind"] == "SSE-C":
        return [(C_PREFIX + "algorithm", "AES256"), (C_PREFIX + "key-md5", rec["key_md5"])]
    if rec["kind"] in KMS_KINDS:
        out = [(SSE, rec["kind"]), (KMS_KEY_ID, rec["key_id"])]
        if rec.get("bucket_key"):
            out.append((BUCKET_KEY, "true"))
        if write and rec.get("context"):
            out.append((KMS_CONTEXT, rec["context"]))
        return out
    return [(SSE, "AES256")]


class MasterKey:
    """The cloud's key-encryption key for SSE-S3 data keys (and the root of KMS keys)."""

    def __init__(self, path: str, box: SecretBox | None = None):
        self.path = path
        self.box = box  # seals the key file at rest (the cloud's secrets key)
        self._key: bytes | None = None

    def key(self) -> bytes:
        """The 256-bit master key, created on first use."""
        if self._key is None:
            if self.box is not None:
                text = self.box.read_file(self.path, "walrus/master.key")
                if text is None:
                    text = os.urandom(32).hex()
                    self.box.write_file(self.path, "walrus/master.key", text)
                self._key = bytes.fromhex(text)
                return self._key
            if not os.path.exists(self.path):
                atomic_write(self.path, os.urandom(32).hex().encode(), mode=0o600)
            with open(self.path, "rb") as fh:
                self._key = bytes.fromhex(fh.read().decode().strip())
        return self._key

    def wrap(self, data_key: bytes) -> str:
        """AES-GCM-encrypt a data key; hex of nonce + ciphertext."""
        return _seal(self.key(), data_key, b"walrus-sse-s3")

    def unwrap(self, wrapped: str) -> bytes:
        """The data key of a wrapped record."""
        return _open(self.key(), wrapped, b"walrus-sse-s3")

    def _kms_key(self, key_id: str) -> bytes:
        # One key-encryption key per KMS key id, derived so that nothing more is stored.
        return hmac.new(self.key(), b"walrus-sse-kms\0" + key_id.encode(), "sha256").digest()

    def kms_wrap(self, key_id: str, data_key: bytes) -> str:
        """A data key encrypted under the (derived) KMS key ``key_id``."""
        return _seal(self._kms_key(key_id), data_key, b"walrus-sse-kms")

    def kms_unwrap(self, key_id: str, wrapped: str) -> bytes:
        """The data key of an SSE-KMS record."""
        return _open(self._kms_key(key_id), wrapped, b"walrus-sse-kms")

    def managed_key_id(self, region: str, account: str) -> str:
        """The ARN of an account's default KMS key (stable for the life of the cloud)."""
        digest = hmac.new(self.key(), b"walrus-aws/s3\0" + account.encode(), "sha256").digest()
        return f"arn:aws:kms:{region}:{account}:key/{uuid.UUID(bytes=digest[:16], version=4)}"


def _seal(kek: bytes, data_key: bytes, aad: bytes) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return (nonce + AESGCM(kek).encrypt(nonce, data_key, aad)).hex()


def _open(kek: bytes, wrapped: str, aad: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = bytes.fromhex(wrapped)
    return AESGCM(kek).decrypt(raw[:12], raw[12:], aad)


def bucket_defaults(ctx: S3Context, bucket: Row) -> BucketDefaults:
    """The encryption defaults a write into ``bucket`` falls back to."""
    walrus = ctx.walrus
    extra = walrus.store.bucket_config(bucket, "encryption") or {}
    return BucketDefaults(bucket.get("encryption") or None, extra.get("key_id", ""),
                          bool(extra.get("bucket_key")),
                          walrus.region, bucket["account_id"])


async def bucket_encryption(ctx: S3Context) -> Response:
    """Get/Put/DeleteBucketEncryption: the bucket's default SSE-S3 or SSE-KMS rule.

    The algorithm stays in the bucket's ``encryption`` column; the KMS key id and the
    Bucket Key flag are kept as the stored-only configuration ``encryption``."""
    from server.walrus.xmlio import children, doc, el, find_text, parse_xml

    bucket = ctx.bucket()
    if ctx.principal.account_id != bucket["account_id"]:
        raise e.AccessDenied()
    store = ctx.walrus.store
    method = ctx.request.method
    if method == "GET":
        if not bucket.get("encryption"):
            raise e.ServerSideEncryptionConfigurationNotFoundError(BucketName=bucket["name"])
        extra = store.bucket_config(bucket, "encryption") or {}
        key = el("KMSMasterKeyID", extra["key_id"]) if extra.get("key_id") else ""
        rule = ("<Rule><ApplyServerSideEncryptionByDefault>"
                f"{el('SSEAlgorithm', bucket['encryption'])}{key}"
                "</ApplyServerSideEncryptionByDefault>"
                f"{el('BucketKeyEnabled', 'true' if extra.get('bucket_key') else 'false')}"
                "</Rule>")
        return ctx.response(200, doc("ServerSideEncryptionConfiguration", rule))
    if method == "PUT":
        root = parse_xml(await ctx.body(64 * 1024))
        rules = list(children(root, "Rule"))
        defaults = [d for rule in rules for d in children(rule, "ApplyServerSideEncryptionByDefault")]
        if len(rules) != 1 or len(defaults) != 1:
            raise e.MalformedXML()
        algorithm = find_text(defaults[0], "SSEAlgorithm")
        key_id = find_text(defaults[0], "KMSMasterKeyID")
        flag = find_text(rules[0], "BucketKeyEnabled", "false").lower()
        if algorithm not in ALGORITHMS or flag not in ("true", "false") \
                or len(key_id) > MAX_KEY_ID:
            raise e.MalformedXML()
        if key_id and algorithm not in KMS_KINDS:
            raise e.InvalidArgument("a KMSMasterKeyID is not applicable if the default sse "
                                    "algorithm is not aws:kms or aws:kms:dsse",
                                    ArgumentName="ApplyServerSideEncryptionByDefault")
        extra = {k: v for k, v in (("key_id", key_id), ("bucket_key", flag == "true")) if v}
        store.set_bucket_config(bucket["name"], "encryption", extra or None)
        store.update_bucket(bucket["name"], encryption=algorithm)
        return ctx.response(200)
    store.update_bucket(bucket["name"], encryption=None)
    store.set_bucket_config(bucket["name"], "encryption", None)
    return ctx.response(204)


def customer_key(h: dict[str, str], prefix: str = C_PREFIX,
                 reading: bool = False) -> tuple[bytes, str] | None:
    """The validated SSE-C key and its base64 MD5 from request headers, if any.

    ``reading``: as S3, a read may leave out the key's MD5 (the key is then checked
    against the object's key only)."""
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
    if not md5_b64 and not reading:
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
    actual = base64.b64encode(hashlib.md5(key).digest()).decode()
    if md5_b64 and actual != md5_b64.strip():
        raise e.InvalidArgument("The calculated MD5 hash of the key did not match the hash "
                                "that was provided.", ArgumentName=prefix + "key-MD5")
    return key, actual


def _kms_context(value: str) -> str:
    """A validated ``x-amz-server-side-encryption-context`` (base64 JSON string map)."""
    try:
        doc = loads_json(base64.b64decode(value, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError):
        doc = None
    if not isinstance(doc, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                            for k, v in doc.items()):
        raise e.InvalidArgument("The header 'x-amz-server-side-encryption-context' shall be "
                                "Base64-encoded UTF-8 string holding JSON which represents a "
                                "string-string map", ArgumentName=KMS_CONTEXT)
    return value


def _bool_header(h: dict[str, str], name: str) -> bool | None:
    raw = h.get(name)
    if raw is None:
        return None
    if raw.strip().lower() not in ("true", "false"):
        raise e.InvalidArgument("The header value must be true or false",
                                ArgumentName=name, ArgumentValue=raw)
    return raw.strip().lower() == "true"


def for_write(h: dict[str, str], bucket_default: BucketDefaults | str | None,
              master: MasterKey) -> Encryption | None:
    """The encryption a write asks for (headers first, then the bucket's default)."""
    defaults = bucket_default if isinstance(bucket_default, BucketDefaults) \
        else BucketDefaults(bucket_default or None)
    ck = customer_key(h)
    sse = h.get(SSE)
    key_id = h.get(KMS_KEY_ID, "").strip()
    context = h.get(KMS_CONTEXT)
    bucket_key = _bool_header(h, BUCKET_KEY)
    if ck is not None and (sse or key_id or context):
        raise e.InvalidArgument("Server Side Encryption with Customer provided key is "
                                "incompatible with the encryption method specified",
                                ArgumentName=SSE if sse else KMS_KEY_ID if key_id
                                else KMS_CONTEXT)
    if ck is not None:
        return Encryption("SSE-C", ck[0], key_md5=ck[1])
    if sse is not None and sse not in ALGORITHMS:
        raise e.InvalidArgument("The encryption method specified is not supported",
                                ArgumentName=SSE, ArgumentValue=sse)
    if (key_id or context) and sse not in KMS_KINDS:
        # S3 asks for the algorithm explicitly, even when the bucket's default is KMS.
        raise e.InvalidArgument("Server Side Encryption with AWS KMS managed key requires "
                                "HTTP header x-amz-server-side-encryption : aws:kms",
                                ArgumentName=SSE, ArgumentValue=sse or "null")
    if len(key_id) > MAX_KEY_ID:
        raise e.InvalidArgument("Invalid keyId", ArgumentName=KMS_KEY_ID)
    algorithm = sse or defaults.algorithm
    if not algorithm:
        return None
    if algorithm == "AES256":
        data_key = os.urandom(32)
        return Encryption("AES256", data_key, wrapped=master.wrap(data_key))
    if algorithm not in KMS_KINDS:
        raise e.InvalidArgument("The encryption method specified is not supported",
                                ArgumentName=SSE, ArgumentValue=algorithm)
    if not key_id:
        # The bucket's key only when the bucket's default algorithm is the one applied.
        key_id = (defaults.key_id if algorithm == defaults.algorithm else "") \
            or (master.managed_key_id(defaults.region, defaults.account)
                if defaults.account else "")
    if not key_id:
        raise e.InvalidArgument("Server Side Encryption with AWS KMS managed key requires "
                                "HTTP header x-amz-server-side-encryption-aws-kms-key-id",
                                ArgumentName=KMS_KEY_ID)
    if bucket_key is None:
        bucket_key = defaults.bucket_key and defaults.algorithm in KMS_KINDS
    data_key = os.urandom(32)
    return Encryption(algorithm, data_key, wrapped=master.kms_wrap(key_id, data_key),
                      key_id=key_id, context=_kms_context(context) if context else "",
                      bucket_key=bucket_key)


def check_read_headers(h: dict[str, str]) -> None:
    """GET/HEAD take no SSE-S3/SSE-KMS headers: S3 answers 400 InvalidArgument."""
    for name in (SSE, KMS_KEY_ID, KMS_CONTEXT, BUCKET_KEY):
        if name in h:
            raise e.InvalidArgument(f"{name} header is not supported for this operation.",
                                    ArgumentName=name, ArgumentValue=h[name])


def for_get(h: dict[str, str], record: str | None, master: MasterKey) -> bytes | None:
    """The data key for GetObject/HeadObject, after checking the request's SSE headers."""
    check_read_headers(h)
    return for_read(h, record, master)


def _data_key(rec: dict[str, Any], master: MasterKey) -> bytes:
    if rec["kind"] in KMS_KINDS:
        return master.kms_unwrap(rec["key_id"], rec["wrapped"])
    return master.unwrap(rec["wrapped"])


def for_read(h: dict[str, str], record: str | None, master: MasterKey,
             prefix: str = C_PREFIX) -> bytes | None:
    """The data key to read a version with (checking an SSE-C key), or None."""
    rec = json.loads(record) if record else None
    if rec is None or rec["kind"] != "SSE-C":
        if customer_key(h, prefix, reading=True) is not None:
            raise e.InvalidRequest("The encryption parameters are not applicable to this "
                                   "object.")
        return None if rec is None else _data_key(rec, master)
    ck = customer_key(h, prefix, reading=True)
    if ck is None:
        raise e.InvalidRequest("The object was stored using a form of Server Side "
                               "Encryption. The correct parameters must be provided to "
                               "retrieve the object.")
    if ck[1] != rec["key_md5"]:
        # S3 answers 403 for a key that does not match the object's.
        raise e.AccessDenied("The provided customer key does not match the object's key")
    return ck[0]


def upload_key(h: dict[str, str], record: str | None, master: MasterKey) -> bytes | None:
    """The key for a part of an upload (SSE-C parts must repeat the upload's key).

    SSE-S3/KMS headers on a part are ignored: the upload's own encryption applies."""
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
    return _data_key(rec, master)


def linked_record(src_record: str | None, enc: Encryption | None) -> tuple[bool, str | None]:
    """Whether a copy can share the source's stored bytes, and the copy's record if so.

    Shared when neither is encrypted, both are SSE-S3, or both are SSE-KMS of the same
    kind and key (the copy keeps the source's data key, wrapped as before)."""
    src = json.loads(src_record) if src_record else None
    if src is None or enc is None:
        return (src is None and enc is None), None
    if src["kind"] == "AES256" and enc.kind == "AES256":
        return True, src_record
    if src["kind"] == enc.kind and enc.kind in KMS_KINDS and src["key_id"] == enc.key_id:
        enc.wrapped = src["wrapped"]
        return True, enc.record()
    return False, None


def plaintext(provider: Any, blobs: list[list[Any]], key: bytes | None, start: int,
              length: int, chunk: int) -> Iterator[bytes]:
    """Bytes ``[start, start+length)`` of an object across its blobs, decrypted if needed."""
    for seg, local, take in blob_ranges(blobs, start, length):
        it = provider.read(seg[0], local, take, chunk=chunk)
        if key is not None and len(seg) > 2:
            it = decrypt(key, bytes.fromhex(seg[2]), local, it)
        yield from it
