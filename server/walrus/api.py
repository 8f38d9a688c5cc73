"""Walrus' Python API for other components (storage controller, CLC, NC).

All methods block (file and database I/O): call them from a worker thread
(``await asyncio.to_thread(walrus.put_object_from_file, ...)``) when on the event loop.
Errors are :class:`server.walrus.errors.S3Error` subclasses (``NoSuchBucket``,
``NoSuchKey``, ``AccessDenied``, ...) with ``code`` and ``message``.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING, Any

from server.auth.identity import Principal
from server.auth.mfa import session_keys
from server.auth.policy import ALLOW, DENY
from server.walrus import acl as acls
from server.walrus import errors as e
from server.walrus import policy

if TYPE_CHECKING:
    from server.cloud import Cloud
    from server.walrus.acl import Accounts
    from server.walrus.bundle import Manifest
    from server.walrus.provider import FilesystemProvider
    from server.walrus.sse import MasterKey
    from server.walrus.store import WalrusStore

SYSTEM_ACCOUNT = "(walrus)"
COPY_CHUNK = 1024 * 1024


class WalrusAPI:
    """Internal object operations, without HTTP or signatures."""

    cloud: Cloud
    store: WalrusStore
    provider: FilesystemProvider
    accounts: Accounts
    min_part_size: int
    master: MasterKey
    bucket_quota: int

    # -- principals --------------------------------------------------------------------
    def system_account_id(self) -> str:
        """The ``(walrus)`` system account that owns the cloud's own buckets."""
        identity = self.cloud.identity
        account = identity.account_by_name.get(SYSTEM_ACCOUNT)
        if account is None:
            account = identity.create_account(SYSTEM_ACCOUNT, system=True)
            self.cloud.store.flush()
        return account.id

    def _principal(self, who: Principal | str) -> Principal:
        if isinstance(who, Principal):
            return who
        account = self.cloud.identity.account(who)
        return Principal(account.id, account.name, "admin")

    # -- buckets and objects -----------------------------------------------------------
    def create_system_bucket(self, name: str, owner_account_id: str | None = None) -> None:
        """Create a private bucket owned by the system account (no-op if it exists)."""
        owner = owner_account_id or self.system_account_id()
        try:
            self.store.create_bucket(name, owner, "", acls.canned("private", owner),
                                     quota=10 ** 9)
        except e.BucketAlreadyOwnedByYou:
            pass

    def create_account_bucket(self, name: str, account_id: str) -> None:
        """Create a private bucket for an account, within its bucket quota (no-op if the
        account owns it already; S3 errors such as ``BucketAlreadyExists`` otherwise)."""
        try:
            self.store.create_bucket(name, account_id, "", acls.canned("private", account_id),
                                     quota=self.bucket_quota)
        except e.BucketAlreadyOwnedByYou:
            pass

    def bucket_owner(self, name: str) -> str | None:
        """The account owning a bucket; None if there is no such bucket."""
        row = self.store.bucket_or_none(name)
        return str(row["account_id"]) if row is not None else None

    def _fields(self, bucket: dict[str, Any], content_type: str) -> dict[str, Any]:
        owner = bucket["account_id"]
        return {"owner_id": owner, "content_type": content_type, "headers": "{}",
                "meta": "{}", "acl": json.dumps(acls.canned("private", owner)),
                "storage_class": "STANDARD", "tagging": None, "checksum": None}

    def put_object_from_file(self, bucket: str, key: str, path: str,
                             content_type: str = "application/octet-stream") -> str:
        """Store a local file as an object (streamed); its ETag."""
        row = self.store.bucket(bucket)
        writer = self.provider.writer()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(COPY_CHUNK):
                    writer.write(chunk)
            name = writer.commit()
        except BaseException:
            writer.abort()
            raise
        etag = writer.md5.hexdigest()
        fields = self._fields(row, content_type)
        fields.update(size=writer.size, etag=etag, blobs=json.dumps([[name, writer.size]]),
                      parts=None)
        try:
            self.store.put(row, key, fields)
        except BaseException:
            self.provider.delete(name)
            raise
        return etag

    def multipart_upload_from_file(self, bucket: str, key: str, path: str,
                                   part_size: int = 64 * 1024 * 1024,
                                   content_type: str = "application/octet-stream") -> str:
        """Store a large file as a multipart object (one blob per part); its ETag."""
        row = self.store.bucket(bucket)
        part_size = max(part_size, self.min_part_size)
        blobs: list[list[Any]] = []
        md5s: list[bytes] = []
        try:
            with open(path, "rb") as fh:
                while True:
                    writer = self.provider.writer()
                    try:
                        while writer.size < part_size:
                            chunk = fh.read(min(COPY_CHUNK, part_size - writer.size))
                            if not chunk:
                                break
                            writer.write(chunk)
                        if writer.size == 0 and blobs:
                            writer.abort()
                            break
                        blobs.append([writer.commit(), writer.size])
                        md5s.append(writer.md5.digest())
                    except BaseException:
                        writer.abort()
                        raise
                    if blobs[-1][1] < part_size:
                        break
            etag = f"{hashlib.md5(b''.join(md5s)).hexdigest()}-{len(md5s)}"
            fields = self._fields(row, content_type)
            fields.update(size=sum(b[1] for b in blobs), etag=etag, blobs=json.dumps(blobs),
                          parts=json.dumps([b[1] for b in blobs]))
            self.store.put(row, key, fields)
        except BaseException:
            for name, _ in blobs:
                self.provider.delete(name)
            raise
        return etag

    def get_object_to_file(self, bucket: str, key: str, path: str) -> int:
        """Write an object to a local file (temp file + rename); its size."""
        obj = self.store.head(bucket, key)
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "wb") as out:
            for chunk in self._plaintext(obj):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        return int(obj["size"])

    def open_object(self, bucket: str, key: str) -> Any:
        """An iterator over an object's bytes (1 MiB chunks)."""
        yield from self._plaintext(self.store.head(bucket, key))

    def _plaintext(self, obj: dict[str, Any]) -> Any:
        from server.walrus import sse

        record = json.loads(obj["sse"]) if obj.get("sse") else None
        if record is not None and record["kind"] == "SSE-C":
            raise e.AccessDenied(f"{obj['bucket']}/{obj['key']} is encrypted with a "
                                 "customer key the cloud does not have")
        key = sse.for_read({}, obj.get("sse"), self.master)
        return sse.plaintext(self.provider, json.loads(obj["blobs"]), key, 0, obj["size"],
                             COPY_CHUNK)

    def read_object(self, who: Principal | str, bucket: str, key: str,
                    max_size: int = 64 * 1024 * 1024) -> bytes:
        """An object's bytes if ``who`` (a principal or account ID) may read it.

        Raises NoSuchBucket, NoSuchKey, AccessDenied or EntityTooLarge (over ``max_size``).
        """
        principal = self._principal(who)
        row = self.store.bucket(bucket)
        obj = self.store.head(bucket, key)
        if not self.may_read(principal, row, obj):
            raise e.AccessDenied(f"{principal.account_name or principal.account_id} may not "
                                 f"read {bucket}/{key}")
        if obj["size"] > max_size:
            raise e.EntityTooLarge(f"{bucket}/{key} is larger than {max_size} bytes")
        return b"".join(self.open_object(bucket, key))

    def may_read(self, principal: Principal, bucket: dict[str, Any],
                 obj: dict[str, Any]) -> bool:
        """The caller's own policies and the bucket policy, then the object's ACL (as
        GetObject checks them): a user who is not its account's admin needs its own
        ``s3:GetObject`` Allow, or a bucket policy of its account that names it."""
        resource = f"arn:aws:s3:::{bucket['name']}/{obj['key']}"
        # The MFA keys of a session caller, as an S3 request signed with its key has them
        # (none for long-term keys and anonymous callers: they have no session).
        condition = session_keys(self.cloud.identity, principal, self.cloud.clock.now())
        decision, own = policy.bucket_decision(self.cloud.identity, principal, "s3:GetObject",
                                               resource, bucket, condition)
        if decision == DENY or own.explicit_deny:
            return False
        if not own.allowed:
            return decision == ALLOW and principal.account_id == bucket["account_id"] and \
                policy.grants_user(principal, "s3:GetObject", resource, bucket, condition)
        if decision is not None:
            return decision == ALLOW
        return acls.allows(obj["acl"], principal, "READ")

    def object_size(self, bucket: str, key: str) -> int:
        """An object's size (NoSuchBucket/NoSuchKey if missing)."""
        self.store.bucket(bucket)
        return int(self.store.head(bucket, key)["size"])

    def list_keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every current key under ``prefix`` (in key order); NoSuchBucket if none."""
        self.store.bucket(bucket)
        keys: list[str] = []
        after, inclusive = prefix, True
        while rows := self.store.scan_latest(bucket, prefix, after, inclusive, 1000):
            keys += [r["key"] for r in rows]
            after, inclusive = rows[-1]["key"], False
        return keys

    def delete_bucket(self, bucket: str, force: bool = False) -> None:
        """Delete a bucket; with ``force`` its versions and uploads go first."""
        row = self.store.bucket(bucket)
        if force:
            while versions := self.store.scan_versions(bucket, "", "", True, None, 1000):
                for v in versions:
                    self.store.delete(row, v["key"], v["version_id"])
            for upload in self.store.list_uploads(bucket, ""):
                self.store.abort_upload(upload["upload_id"])
        self.store.delete_bucket(bucket)

    def delete_object(self, bucket: str, key: str) -> None:
        """Delete an object (its current version; a marker in a versioned bucket)."""
        self.store.delete(self.store.bucket(bucket), key, None)

    # -- bundles -----------------------------------------------------------------------
    def unbundle_image(self, bucket: str, manifest_key: str, out_path: str) -> Manifest:
        """Decrypt and reassemble the image of a bundle stored in Walrus into ``out_path``.

        Parts are read from the manifest's "directory" in the same bucket; returns the
        parsed :class:`server.walrus.bundle.Manifest`.
        """
        from server.walrus.bundle import unbundle
        from server.walrus.certs import cloud_key

        manifest = b"".join(self.open_object(bucket, manifest_key))
        folder = manifest_key.rsplit("/", 1)[0] + "/" if "/" in manifest_key else ""
        tmp = f"{out_path}.tmp-{os.getpid()}"
        with open(tmp, "wb") as out:
            result = unbundle(manifest, lambda name: self.open_object(bucket, folder + name),
                              out, cloud_key(self.cloud))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, out_path)
        return result

    def read_manifest(self, who: Principal | str, location: str) -> Manifest:
        """RegisterImage's check: ``BUCKET/KEY.manifest.xml`` exists, ``who`` may read it,
        and it is a bundle manifest; returns the parsed
        :class:`server.walrus.bundle.Manifest`.

        Raises NoSuchBucket/NoSuchKey/AccessDenied (S3Error) or BundleError.
        """
        from server.walrus.bundle import BundleError, parse_manifest

        bucket, _, key = location.lstrip("/").partition("/")
        if not bucket or not key:
            raise BundleError(f"image location {location!r} is not BUCKET/KEY")
        return parse_manifest(self.read_object(who, bucket, key))

    def presign_get(self, bucket: str, key: str, expires_in: int = 3 * 3600,
                    account: str = "eucalyptus") -> str:
        """A presigned (SigV2 query) GET URL for ``bucket/key``, signed with ``account``'s
        admin key: how Eucalyptus hands image parts to node controllers (3 hours by default).
        Bundles uploaded with ``aws-exec-read`` are readable by the ``eucalyptus`` account."""
        import base64
        import hmac
        from urllib.parse import quote

        identity = self.cloud.identity
        owner = identity.account(account)
        keys = [k for k in identity.list_access_keys(owner.id, "admin") if k.status == "Active"]
        access = keys[0] if keys else identity.create_access_key(owner.id, "admin")
        self.cloud.store.flush()
        expires = int(self.cloud.clock.now()) + expires_in
        path = "/" + quote(f"{bucket}/{key}", safe="/~")
        sts = f"GET\n\n\n{expires}\n{path}"
        signature = base64.b64encode(hmac.new(access.secret.encode(), sts.encode(),
                                              hashlib.sha1).digest()).decode()
        return (f"{self.cloud.url}{path}?AWSAccessKeyId={quote(access.key_id)}"
                f"&Expires={expires}&Signature={quote(signature, safe='')}")
