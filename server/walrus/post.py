"""POST Object: browser form uploads (``multipart/form-data``) with a signed policy.

The form's fields come first and the file last (S3 ignores fields after the file);
the file part is streamed into a blob like any PUT body.  Signatures: SigV2
(``AWSAccessKeyId`` + ``signature`` = HMAC-SHA1 of the base64 policy) or SigV4
(``x-amz-credential``/``x-amz-signature`` over the base64 policy).  Without a policy
the upload is anonymous and needs WRITE on the bucket.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as _dt
import hashlib
import hmac
import json
import os
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from server.auth.identity import ANONYMOUS
from server.auth.sigv4 import signing_key
from server.protocol.http import Response
from server.util import loads_json
from server.walrus import errors as e
from server.walrus import sse
from server.walrus.auth import S3_SCOPE_NAMES, Auth, principal_of, wrong_service_message
from server.walrus.conditions import quote_etag
from server.walrus.context import S3Context
from server.walrus.objects import object_fields
from server.walrus.tagging import parse_tagging
from server.walrus.upload import receive
from server.walrus.xmlio import el

MAX_FIELDS = 64 * 1024
_DISPOSITION = re.compile(r'(\w+)="([^"]*)"')
_EXPIRATION = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?"
                         r"(Z|[+-]\d{2}:\d{2})$")


class _Form:
    """An incremental multipart/form-data reader over the request stream."""

    def __init__(self, stream: AsyncIterator[bytes], boundary: bytes):
        self.stream = stream
        self.delim = b"\r\n--" + boundary
        self.buf = bytearray(b"\r\n")  # so the first boundary looks like every other one
        self.eof = False

    async def _fill(self) -> bool:
        try:
            self.buf += await self.stream.__anext__()
            return True
        except StopAsyncIteration:
            self.eof = True
            return False

    async def next_part(self) -> dict[str, str] | None:
        """Skip to the next part; its headers, or None after the closing boundary."""
        while True:
            idx = self.buf.find(self.delim)
            if idx >= 0 and len(self.buf) >= idx + len(self.delim) + 2:
                break
            if len(self.buf) > MAX_FIELDS and idx < 0:
                del self.buf[:-len(self.delim)]
            if not await self._fill():
                raise e.MalformedPOSTRequest()
        del self.buf[:idx + len(self.delim)]
        if self.buf[:2] == b"--":
            return None
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            if len(self.buf) > MAX_FIELDS or not await self._fill():
                raise e.MalformedPOSTRequest()
        head = bytes(self.buf[2:end]).decode("utf-8", "replace")
        del self.buf[:end + 4]
        headers = {}
        for line in head.split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return headers

    async def value(self, limit: int = MAX_FIELDS) -> bytes:
        """A small part's whole content."""
        out = bytearray()
        async for chunk in self.content():
            out += chunk
            if len(out) > limit:
                raise e.MalformedPOSTRequest("Form field too large")
        return bytes(out)

    async def content(self) -> AsyncIterator[bytes]:
        """The current part's bytes up to the next boundary, streamed."""
        keep = len(self.delim)
        while True:
            idx = self.buf.find(self.delim)
            if idx >= 0:
                if idx:
                    yield bytes(self.buf[:idx])
                del self.buf[:idx]
                return
            if len(self.buf) > keep:
                cut = len(self.buf) - keep
                yield bytes(self.buf[:cut])
                del self.buf[:cut]
            if not await self._fill():
                raise e.IncompleteBody("The form's file part has no closing boundary")


def _policy_checks(policy: dict[str, Any], fields: dict[str, str], bucket: str,
                   now: float) -> tuple[int, int]:
    """Check the policy's expiration and conditions; the allowed content-length range."""
    expiration = policy.get("expiration")
    if not expiration:
        raise e.InvalidPolicyDocument("Invalid Policy: Policy missing expiration.")
    # S3 wants an ISO 8601 timestamp with a "T" (2026-01-01T12:00:00Z, fractions allowed);
    # Python would also take "2026-01-01 12:00:00+00:00", which S3 refuses.
    if not isinstance(expiration, str) or not _EXPIRATION.match(expiration):
        raise e.InvalidPolicyDocument(f"Invalid Policy: Invalid 'expiration' value: "
                                      f"'{expiration}'")
    try:
        when = _dt.datetime.fromisoformat(expiration.replace("Z", "+00:00"))
    except ValueError:
        raise e.InvalidPolicyDocument(f"Invalid Policy: Invalid 'expiration' value: "
                                      f"'{expiration}'") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    if when.timestamp() < now:
        raise e.AccessDenied("Invalid according to Policy: Policy expired.")
    if not isinstance(policy.get("conditions"), list):
        raise e.InvalidPolicyDocument("Invalid Policy: Policy missing conditions.")
    low, high = 0, 5 * 1024 ** 3
    covered: set[str] = set()
    for cond in policy["conditions"]:
        if isinstance(cond, dict):
            if len(cond) != 1:
                raise e.InvalidPolicyDocument("Invalid Policy: Invalid Simple-Condition: "
                                              "Simple-Conditions must have exactly one property "
                                              "specified.")
            for name, value in cond.items():
                lname = name.lower()
                actual = bucket if lname == "bucket" else fields.get(lname)
                covered.add(lname)
                if actual != str(value):
                    raise e.AccessDenied(f"Invalid according to Policy: Policy Condition "
                                         f"failed: [\"eq\", \"${name}\", \"{value}\"]")
            continue
        if not isinstance(cond, list) or len(cond) != 3:
            raise e.InvalidPolicyDocument("Invalid Policy: Invalid Simple-Condition")
        op = str(cond[0]).lower()
        if op == "content-length-range":
            try:
                low, high = int(cond[1]), int(cond[2])
            except (TypeError, ValueError):
                raise e.InvalidPolicyDocument("Invalid Policy: Invalid content-length-range") \
                    from None
            continue
        name = str(cond[1]).lstrip("$").lower()
        covered.add(name)
        actual = bucket if name == "bucket" else fields.get(name, "")
        ok = actual == str(cond[2]) if op == "eq" else \
            actual.startswith(str(cond[2])) if op == "starts-with" else False
        if not ok:
            raise e.AccessDenied(f"Invalid according to Policy: Policy Condition failed: "
                                 f"{json.dumps(cond)}")
    if "bucket" not in covered:
        raise e.AccessDenied(f"Invalid according to Policy: Policy Condition failed: "
                             f"[\"eq\", \"$bucket\", \"{bucket}\"]")
    for name in fields:
        exempt = name in ("awsaccesskeyid", "signature", "file", "policy", "x-amz-signature") \
            or name.startswith("x-ignore-")
        if not exempt and name not in covered:
            raise e.AccessDenied(f"Invalid according to Policy: Extra input fields: {name}")
    return low, high


def _authenticate(ctx: S3Context, fields: dict[str, str]) -> Auth:
    cloud = ctx.walrus.cloud
    policy_b64 = fields.get("policy")
    if policy_b64 is None:
        return Auth(ANONYMOUS)
    if "x-amz-signature" in fields:
        credential = fields.get("x-amz-credential", "")
        parts = credential.split("/")
        if len(parts) != 5:
            raise e.InvalidArgument("Invalid x-amz-credential", ArgumentName="x-amz-credential")
        if parts[3] not in S3_SCOPE_NAMES:
            raise e.InvalidArgument(wrong_service_message(parts[3], presigned=True),
                                    ArgumentName="x-amz-credential")
        secret = cloud.identity.secret_for(parts[0])
        if secret is None:
            raise e.InvalidAccessKeyId(AWSAccessKeyId=parts[0])
        key = signing_key(secret, parts[1], parts[2], parts[3])
        expected = hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields["x-amz-signature"]):
            raise e.SignatureDoesNotMatch()
        return Auth(principal_of(cloud, parts[0], fields.get("x-amz-security-token")))
    key_id = fields.get("awsaccesskeyid")
    signature = fields.get("signature")
    if not key_id or not signature:
        raise e.InvalidArgument("Bucket POST must contain a field named 'AWSAccessKeyId'. "
                                "If it is specified, please check the order of the fields.",
                                ArgumentName="AWSAccessKeyId")
    secret = cloud.identity.secret_for(key_id)
    if secret is None:
        raise e.InvalidAccessKeyId(AWSAccessKeyId=key_id)
    expected = base64.b64encode(hmac.new(secret.encode(), policy_b64.encode(),
                                         hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expected, signature):
        raise e.SignatureDoesNotMatch()
    return Auth(principal_of(cloud, key_id, fields.get("x-amz-security-token")))


async def post_object(ctx: S3Context) -> Response:
    """POST Object: authenticate the form, check its policy, stream the file, store it."""
    bucket = ctx.bucket()
    ctype = ctx.headers.get("content-type", "")
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not ctype.startswith("multipart/form-data") or m is None:
        raise e.PreconditionFailed("Bucket POST must be of the enclosure-type "
                                   "multipart/form-data", Condition="Bucket POST must be of "
                                   "the enclosure-type multipart/form-data") \
            if not ctype else e.MalformedPOSTRequest()
    form = _Form(ctx.request.stream(), m.group(1).encode("latin-1"))
    fields: dict[str, str] = {}
    raw_fields: list[tuple[str, str]] = []
    filename = None
    while (part := await form.next_part()) is not None:
        disposition = dict(_DISPOSITION.findall(part.get("content-disposition", "")))
        name = disposition.get("name", "")
        if name.lower() == "file":
            filename = disposition.get("filename", "")
            if "content-type" in part and "content-type" not in fields:
                fields.setdefault("content-type", part["content-type"])
            break
        value = (await form.value()).decode("utf-8", "replace")
        fields[name.lower()] = value
        raw_fields.append((name, value))
    if filename is None:
        raise e.InvalidArgument("POST requires exactly one file upload per request.",
                                ArgumentName="file", ArgumentValue="0")
    if "key" not in fields:
        raise e.InvalidArgument("Bucket POST must contain a field named 'key'.  If it is "
                                "specified, please check the order of the fields.",
                                ArgumentName="key")
    key = fields["key"].replace("${filename}", filename)
    fields["key"] = key
    auth = _authenticate(ctx, fields)
    low, high = 0, 5 * 1024 ** 3
    if "policy" in fields:
        try:
            policy = loads_json(base64.b64decode(fields["policy"]))
        except (ValueError, binascii.Error):
            raise e.InvalidPolicyDocument("Invalid Policy: Invalid JSON.") from None
        low, high = _policy_checks(policy, fields, bucket["name"], ctx.walrus.cloud.clock.now())
    # The form's "tagging" field is a Tagging XML document (not the header's k=v form).
    tags = parse_tagging(fields["tagging"].encode("utf-8"), 10) if "tagging" in fields \
        else None
    ctx.auth = auth
    ctx.key = key
    # Form fields stand in for the request headers of a PUT.
    header_map = dict(ctx.request.header_map)
    for name, value in raw_fields:
        low_name = name.lower()
        if low_name.startswith(("x-amz-meta-", "x-amz-", "cache-control", "content-",
                                "expires")) or low_name == "acl":
            header_map["x-amz-acl" if low_name == "acl" else low_name] = value
    header_map["content-type"] = fields.get("content-type", "binary/octet-stream")
    if tags is not None:
        header_map["x-amz-tagging"] = urlencode([(k, v) for k, v in tags])
    for name in ("content-md5", "content-length", "transfer-encoding"):
        header_map.pop(name, None)  # they describe the form, not the file
    saved_headers, saved_map = ctx.request.headers, ctx.request._hmap
    ctx.request.headers = [(k, v) for k, v in header_map.items()]
    ctx.request._hmap = header_map
    try:
        # Authorized with the form standing in for headers, so bucket-policy conditions
        # (s3:x-amz-acl, s3:RequestObjectTag/<key>, ...) see the form's values.
        ctx.authorize("s3:PutObject", bucket)
        obj_fields = object_fields(ctx, bucket)
        if tags is not None:
            obj_fields["tagging"] = json.dumps(tags)
        enc = sse.for_write(header_map, sse.bucket_defaults(ctx, bucket), ctx.walrus.master)
        nonce = os.urandom(16)
        got = await receive(ctx, max_size=high, source=form.content(),
                            encryption=(enc.key, nonce) if enc else None)
    finally:
        ctx.request.headers, ctx.request._hmap = saved_headers, saved_map
    if got.size < low or got.size > high:
        assert got.blob is not None
        ctx.walrus.provider.delete(got.blob)
        raise (e.EntityTooSmall if got.size < low else e.EntityTooLarge)(
            ProposedSize=str(got.size))
    blob: list[Any] = [got.blob, got.size] + ([nonce.hex()] if enc else [])
    obj_fields.update(size=got.size, etag=got.md5, blobs=json.dumps([blob]),
                      checksum=None, parts=None, sse=enc.record() if enc else None)
    row = await asyncio.to_thread(ctx.walrus.store.put, bucket, key, obj_fields)
    etag = quote_etag(got.md5)
    headers = [("etag", etag)] + sse.response_headers(obj_fields["sse"], write=True)
    if row["version_id"] != "null":
        headers.append(("x-amz-version-id", row["version_id"]))
    location = f"{ctx.walrus.base_url(ctx.request)}/{bucket['name']}/{key}"
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        from urllib.parse import quote

        sep = "&" if "?" in redirect else "?"
        target = (f"{redirect}{sep}bucket={quote(bucket['name'])}&key={quote(key)}"
                  f"&etag={quote(etag)}")
        return ctx.response(303, b"", headers + [("location", target)])
    status = fields.get("success_action_status", "204")
    if status == "201":
        # S3's PostResponse carries no namespace.
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>'
                f'{el("Location", location)}{el("Bucket", bucket["name"])}{el("Key", key)}'
                f'{el("ETag", etag)}</PostResponse>').encode()
        return ctx.response(201, body, headers + [("location", location)])
    return ctx.response(200 if status == "200" else 204, b"",
                        headers + [("location", location)])
