"""Per-request context for S3 handlers: target, caller, authorization, response helpers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from server.auth.identity import Principal
from server.auth.mfa import session_keys
from server.auth.policy import ALLOW, DENY
from server.protocol.http import Request, Response
from server.walrus import acl as acls
from server.walrus import errors as e
from server.walrus import publicaccess
from server.walrus.auth import Auth
from server.walrus.policy import bucket_decision, grants_user, request_keys

if TYPE_CHECKING:
    from server.walrus.service import Walrus

Row = dict[str, Any]

#: Action -> (what the ACL is checked on, permission); "owner" means bucket owner only.
ACTIONS: dict[str, tuple[str, str]] = {
    "s3:ListBucket": ("bucket", "READ"),
    "s3:ListBucketVersions": ("bucket", "READ"),
    "s3:ListBucketMultipartUploads": ("bucket", "READ"),
    "s3:PutObject": ("bucket", "WRITE"),
    "s3:DeleteObject": ("bucket", "WRITE"),
    "s3:DeleteObjectVersion": ("bucket", "WRITE"),
    "s3:AbortMultipartUpload": ("bucket", "WRITE"),
    "s3:ListMultipartUploadParts": ("bucket", "READ"),
    "s3:GetBucketAcl": ("bucket", "READ_ACP"),
    "s3:PutBucketAcl": ("bucket", "WRITE_ACP"),
    "s3:GetObject": ("object", "READ"),
    "s3:GetObjectVersion": ("object", "READ"),
    "s3:GetObjectAcl": ("object", "READ_ACP"),
    "s3:GetObjectVersionAcl": ("object", "READ_ACP"),
    "s3:PutObjectAcl": ("object", "WRITE_ACP"),
    "s3:PutObjectVersionAcl": ("object", "WRITE_ACP"),
    "s3:GetObjectTagging": ("object", "READ"),
    "s3:PutObjectTagging": ("object", "WRITE_ACP"),
    "s3:DeleteObjectTagging": ("object", "WRITE_ACP"),
}


def http_date(ts: float) -> str:
    """RFC 1123 date for Last-Modified."""
    return formatdate(ts, usegmt=True)


@dataclass
class S3Context:
    """One S3 request being served."""

    walrus: Walrus
    request: Request
    auth: Auth
    bucket_name: str | None
    key: str | None
    rid: str
    query: dict[str, str] = field(default_factory=dict)
    _bucket: Row | None = None

    @property
    def principal(self) -> Principal:
        """The caller (ANONYMOUS when unsigned)."""
        return self.auth.principal

    @property
    def headers(self) -> dict[str, str]:
        """Lower-cased request headers."""
        return self.request.header_map

    def bucket(self) -> Row:
        """The target bucket (NoSuchBucket if it does not exist)."""
        if self._bucket is None:
            assert self.bucket_name is not None
            self._bucket = self.walrus.store.bucket(self.bucket_name)
            expected = self.headers.get("x-amz-expected-bucket-owner")
            if expected and expected != self._bucket["account_id"]:
                raise e.AccessDenied()
        return self._bucket

    async def body(self, limit: int) -> bytes:
        """A small request document (XML, JSON), refused past ``limit`` bytes."""
        from server.walrus import auth as s3auth

        if s3auth.is_chunked(self.request, self.auth):
            parts, size = [], 0
            async for chunk in s3auth.body_chunks(self.request, self.auth):
                size += len(chunk)
                if size > limit:
                    raise e.MaxMessageLengthExceeded(MaxMessageLengthBytes=str(limit))
                parts.append(chunk)
            data = b"".join(parts)
        else:
            try:
                data = await self.request.body(limit=limit)
            except ValueError:
                raise e.MaxMessageLengthExceeded(MaxMessageLengthBytes=str(limit)) from None
            if s3auth.wants_sha256(self.auth):
                s3auth.check_payload_hash(self.auth, hashlib.sha256(data).hexdigest())
        md5 = self.headers.get("content-md5")
        if md5 is not None:
            try:
                expected = base64.b64decode(md5, validate=True)
            except (binascii.Error, ValueError):
                raise e.InvalidDigest(extra={"Content-MD5": md5}) from None
            if hashlib.md5(data).digest() != expected:
                raise e.BadDigest()
        return data

    def require_signed(self) -> None:
        """Refuse anonymous callers."""
        if self.principal.anonymous:
            raise e.AccessDenied()

    def allowed(self, action: str, bucket: Row, obj: Row | None = None) -> bool:
        """Bucket policy (explicit deny wins), then the ACL or bucket ownership."""
        resource = f"arn:aws:s3:::{bucket['name']}"
        if obj is not None or self.key is not None:
            resource += "/" + (obj["key"] if obj is not None else self.key or "")
        h, q = self.headers, self.query
        condition = {"aws:sourceip": self.request.client,
                     "aws:securetransport": "true" if self.request.secure else "false",
                     "aws:username": self.principal.user_name,
                     "aws:principalaccount": self.principal.account_id,
                     "s3:prefix": q.get("prefix", ""), "s3:delimiter": q.get("delimiter", ""),
                     "s3:max-keys": q.get("max-keys", ""), "s3:versionid": q.get("versionId", ""),
                     "aws:referer": h.get("referer", ""), "aws:useragent": h.get("user-agent", "")}
        for name in ("x-amz-acl", "x-amz-copy-source", "x-amz-metadata-directive",
                     "x-amz-server-side-encryption", "x-amz-storage-class",
                     "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp",
                     "x-amz-grant-write-acp", "x-amz-grant-full-control", "x-amz-content-sha256"):
            if name in h:
                condition[f"s3:{name}"] = h[name]
        now = self.walrus.cloud.clock.now()
        condition.update(request_keys(h, now))
        condition.update(self.mfa_keys(now))
        if obj is not None and obj.get("tagging"):
            for k, v in loads(obj["tagging"], []):
                condition[f"s3:existingobjecttag/{k.lower()}"] = v
        decision, own = bucket_decision(self.walrus.cloud.identity, self.principal, action,
                                        resource, bucket, condition)
        if decision == DENY or own.explicit_deny:
            return False
        if not own.allowed:
            # A user (not the account's admin) needs its own Allow, or, when the bucket is
            # its account's, a bucket policy that names it.
            return decision == ALLOW and self.principal.account_id == bucket["account_id"] \
                and grants_user(self.principal, action, resource, bucket, condition)
        if decision == ALLOW and publicaccess.restricts_policy(self, bucket) and (
                self.principal.anonymous or self.principal.account_id != bucket["account_id"]):
            decision = None  # RestrictPublicBuckets: a public policy serves the owner only
        if decision == ALLOW:
            return True
        if self.principal.anonymous:
            owner = False
        else:
            owner = self.principal.account_id == bucket["account_id"]
        if self.acls_disabled(bucket):
            # BucketOwnerEnforced disables ACLs: the bucket owner's account owns every
            # object and has full access; anyone else needs a policy (decided above).
            return owner
        kind, permission = ACTIONS.get(action, ("owner", ""))
        if kind == "owner":
            return owner
        ignore_public = publicaccess.ignores_public_acls(self, bucket)
        if kind == "bucket":
            # The owner may always read and change the bucket ACL; anything else needs a
            # grant, so an owner who drops its own grant loses access (the OSG's rule too).
            return (owner and permission in ("READ_ACP", "WRITE_ACP")) or \
                acls.allows(bucket["acl"], self.principal, permission, ignore_public)
        if obj is None:
            return owner
        if permission in ("READ_ACP", "WRITE_ACP") and not self.principal.anonymous and \
                obj["owner_id"] == self.principal.account_id:
            return True  # an object's owner may always read and change its ACL
        return acls.allows(obj["acl"], self.principal, permission, ignore_public)

    def mfa_keys(self, now: float) -> dict[str, str]:
        """``aws:MultiFactorAuthPresent``/``aws:MultiFactorAuthAge`` of the caller, as the
        query APIs' policies see them: the session its key belongs to decides (a presigned
        URL's too), and long-term keys and anonymous callers (no session) have neither key."""
        return session_keys(self.walrus.cloud.identity, self.principal, now)

    def acls_disabled(self, bucket: Row) -> bool:
        """True under Object Ownership ``BucketOwnerEnforced``: ACLs neither grant nor can
        be changed, and the bucket owner owns every object."""
        return bool(self.walrus.store.bucket_config(bucket, "ownership") == acls.ENFORCED)

    def acl_xml(self, bucket: Row, stored: str | None) -> bytes:
        """A GetBucketAcl/GetObjectAcl answer: the stored ACL, or only the bucket owner's
        FULL_CONTROL while ACLs are disabled."""
        acl = acls.owner_acl(bucket["account_id"]) if self.acls_disabled(bucket) \
            else loads(stored, {})
        return acls.to_xml(acl, self.walrus.accounts)

    def authorize_caller(self, action: str, resource: str) -> None:
        """Actions with no bucket to consult yet (CreateBucket, ListAllMyBuckets): the
        caller's own policies decide (an account's admin needs none)."""
        self.require_signed()
        condition = {"aws:sourceip": self.request.client,
                     "aws:securetransport": "true" if self.request.secure else "false",
                     **self.mfa_keys(self.walrus.cloud.clock.now())}
        _, own = bucket_decision(self.walrus.cloud.identity, self.principal, action,
                                 resource, {}, condition)
        if not own.allowed:
            raise e.AccessDenied()

    def authorize(self, action: str, bucket: Row, obj: Row | None = None) -> None:
        """Raise AccessDenied unless ``action`` is allowed."""
        if not self.allowed(action, bucket, obj):
            raise e.AccessDenied()
        if action == "s3:PutObject":
            publicaccess.check_acl_headers(self, bucket)  # BlockPublicAcls

    def response(self, status: int = 200, body: bytes = b"",
                 headers: list[tuple[str, str]] | None = None,
                 content_type: str = "application/xml") -> Response:
        """A response with S3's request-id headers."""
        out = [("x-amz-request-id", self.rid), ("x-amz-id-2", self.rid)]
        if headers:
            out.extend(headers)
        return Response(status, body, out, content_type=content_type if body else "")


def loads(text: str | None, default: Any) -> Any:
    """JSON column to value (None/empty gives ``default``)."""
    return json.loads(text) if text else default
