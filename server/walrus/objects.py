"""Object actions: Put, Get, Head, Delete, DeleteObjects, Copy, object ACL and tagging."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote, unquote_plus

from server.protocol.http import Response
from server.walrus import acl as acls
from server.walrus import errors as e
from server.walrus import quota, sse
from server.walrus.conditions import check_conditions, etag_in, parse_range, quote_etag
from server.walrus.context import Row, S3Context, http_date, loads
from server.walrus.lifecycle import expiration_header
from server.walrus.objectlock import bucket_lock, check_version_delete, lock_fields, lock_headers
from server.walrus.provider import blob_ranges
from server.walrus.tagging import parse_tagging_header
from server.walrus.upload import Received, checksum_headers, receive
from server.walrus.xmlio import children, doc, el, find_text, parse_xml, timestamp

STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding",
                  "content-language", "expires", "x-amz-website-redirect-location")
STORAGE_CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                   "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS")
OVERRIDES = ("response-content-type", "response-content-language", "response-expires",
             "response-cache-control", "response-content-disposition",
             "response-content-encoding")
MAX_META = 2048
GET_CHUNK = 4 * 1024 * 1024


def object_fields(ctx: S3Context, bucket: Row, *, copy_from: Row | None = None) -> Row:
    """Columns for a new object from the request headers (or a copy source)."""
    h = ctx.headers
    meta = {k[len("x-amz-meta-"):]: v for k, v in ctx.request.headers
            if k.lower().startswith("x-amz-meta-")}
    meta = {k.lower(): v for k, v in meta.items()}
    if sum(len(k) + len(v) for k, v in meta.items()) > MAX_META:
        raise e.MetadataTooLarge(MaxSizeAllowed=str(MAX_META))
    stored = {k: h[k] for k in STORED_HEADERS if k in h}
    if "content-encoding" in stored:
        # aws-chunked is transfer framing, not a property of the object.
        enc = [p.strip() for p in stored["content-encoding"].split(",")
               if p.strip() and p.strip() != "aws-chunked"]
        if enc:
            stored["content-encoding"] = ",".join(enc)
        else:
            del stored["content-encoding"]
    storage = h.get("x-amz-storage-class", "STANDARD")
    if storage not in STORAGE_CLASSES:
        raise e.InvalidStorageClass(StorageClassRequested=storage)
    # Who owns the new object depends on the bucket's Object Ownership setting.
    owner, acl = acls.new_object_acl(h, ctx.principal.account_id or bucket["account_id"],
                                     bucket["account_id"],
                                     ctx.walrus.store.bucket_config(bucket, "ownership"),
                                     ctx.walrus.accounts, ctx.walrus.exec_account)
    tagging = parse_tagging_header(h["x-amz-tagging"]) if "x-amz-tagging" in h else None
    fields = {"owner_id": owner, "content_type": h.get("content-type",
                                                         "binary/octet-stream"),
              "headers": json.dumps(stored), "meta": json.dumps(meta),
              "acl": json.dumps(acl), "storage_class": storage,
              "tagging": json.dumps(tagging) if tagging is not None else None}
    if copy_from is not None and h.get("x-amz-metadata-directive", "COPY") == "COPY":
        for col in ("content_type", "headers", "meta"):
            fields[col] = copy_from[col]
        if "x-amz-storage-class" not in h:
            fields["storage_class"] = copy_from["storage_class"]
    if copy_from is not None and h.get("x-amz-tagging-directive", "COPY") == "COPY":
        fields["tagging"] = copy_from["tagging"]
    return fields


def object_headers(obj: Row, *, versioned: bool = False) -> list[tuple[str, str]]:
    """The representation headers of an object version."""
    out = [("etag", quote_etag(obj["etag"])), ("last-modified", http_date(obj["last_modified"])),
           ("accept-ranges", "bytes")]
    for k, v in loads(obj["headers"], {}).items():
        out.append((k, v))
    for k, v in loads(obj["meta"], {}).items():
        out.append((f"x-amz-meta-{k}", v))
    if obj["version_id"] != "null" or versioned:
        out.append(("x-amz-version-id", obj["version_id"]))
    if obj["storage_class"] != "STANDARD":
        out.append(("x-amz-storage-class", obj["storage_class"]))
    tags = loads(obj.get("tagging"), None)
    if tags:
        out.append(("x-amz-tagging-count", str(len(tags))))
    return out


async def stream_blobs(ctx: S3Context, blobs: list[list[Any]], start: int,
                       length: int, key: bytes | None = None) -> AsyncIterator[bytes]:
    """The bytes ``[start, start+length)`` across an object's blobs, read off the loop.

    The next chunk is read in a worker thread while the current one is being sent, so
    disk reads and socket writes overlap; at most two chunks are held.
    """
    it = sse.plaintext(ctx.walrus.provider, blobs, key, start, length, GET_CHUNK)
    ahead = asyncio.ensure_future(asyncio.to_thread(next, it, None))
    try:
        while True:
            chunk = await ahead
            if chunk is None:
                break
            ahead = asyncio.ensure_future(asyncio.to_thread(next, it, None))
            yield chunk
    finally:
        if not ahead.done():
            await asyncio.wait([ahead])
        it.close()  # type: ignore[attr-defined]


async def get_object(ctx: S3Context, head: bool = False) -> Response:
    """GetObject / HeadObject with versions, conditions, ranges, parts and overrides."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    version_id = ctx.query.get("versionId")
    try:
        obj = ctx.walrus.store.head(bucket["name"], ctx.key, version_id)
    except (e.NoSuchKey, e.NoSuchVersion):
        if not ctx.allowed("s3:ListBucket", bucket):
            raise e.AccessDenied() from None
        raise
    ctx.authorize("s3:GetObjectVersion" if version_id else "s3:GetObject", bucket, obj)
    key = sse.for_get(ctx.headers, obj.get("sse"), ctx.walrus.master)
    check_conditions(ctx.headers, obj)
    headers = object_headers(obj, versioned=bool(bucket["versioning"])) + lock_headers(obj) \
        + sse.response_headers(obj.get("sse"))
    if obj["is_latest"]:
        headers += expiration_header(bucket, obj, ctx.walrus.lifecycle_day)
    size = obj["size"]
    start, length, status = 0, size, 200
    part = ctx.query.get("partNumber")
    if part is not None:
        sizes = loads(obj.get("parts"), None) or [size]
        try:
            n = int(part)
        except ValueError:
            raise e.InvalidArgument("Part number must be an integer", ArgumentName="partNumber",
                                    ArgumentValue=part) from None
        if not 1 <= n <= len(sizes):
            raise e.InvalidPart() if n > 0 else e.InvalidArgument(ArgumentName="partNumber")
        start, length = sum(sizes[:n - 1]), sizes[n - 1]
        headers.append(("x-amz-mp-parts-count", str(len(sizes))))
        if obj.get("parts"):
            status = 206
            headers.append(("content-range", f"bytes {start}-{start + length - 1}/{size}"))
    elif "range" in ctx.headers:
        rng = parse_range(ctx.headers["range"], size)
        if rng is not None:
            start, length, status = rng[0], rng[1] - rng[0] + 1, 206
            headers.append(("content-range", f"bytes {rng[0]}-{rng[1]}/{size}"))
    if ctx.query.get("x-amz-checksum-mode", ctx.headers.get("x-amz-checksum-mode", "")) \
            .upper() == "ENABLED" and status == 200 and obj.get("checksum"):
        headers += checksum_headers(obj["checksum"])
    overrides = [(k, v) for k, v in ctx.query.items() if k in OVERRIDES]
    if overrides and ctx.principal.anonymous:
        raise e.InvalidRequest("Request specific response headers cannot be used for "
                               "anonymous GET requests.")
    content_type = obj["content_type"] or "binary/octet-stream"
    for k, v in overrides:
        name = k[len("response-"):]
        if name == "content-type":
            content_type = v
        else:
            headers = [(hk, hv) for hk, hv in headers if hk != name] + [(name, v)]
    headers.append(("content-length", str(length)))
    resp = ctx.response(status, b"", headers, content_type=content_type)
    resp.content_type = content_type
    if not head and length > 0:
        blobs = loads(obj["blobs"], [])
        resp.stream = stream_blobs(ctx, blobs, start, length, key)
        if key is None:
            resp.files = file_ranges(ctx.walrus.provider, blobs, start, length)
    return resp


def file_ranges(provider: Any, blobs: list[list[Any]], start: int, length: int
                ) -> list[tuple[str, int, int]] | None:
    """``[start, start+length)`` of an object as (file, offset, count) ranges of its blobs,
    or None when a blob is encrypted or has no local file (then the bytes are streamed)."""
    ranges: list[tuple[str, int, int]] = []
    for seg, local, take in blob_ranges(blobs, start, length):
        path = provider.path(seg[0]) if len(seg) == 2 else None  # [name, size, nonce]: sealed
        if path is None:
            return None
        ranges.append((path, local, take))
    return ranges


async def put_object(ctx: S3Context) -> Response:
    """PutObject: stream the body into a blob, then record the version."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    if len(ctx.key.encode("utf-8")) > 1024:
        raise e.KeyTooLongError(Size=str(len(ctx.key.encode())), MaxSizeAllowed="1024")
    ctx.authorize("s3:PutObject", bucket)
    h = ctx.headers
    # As S3: a body of unknown length (plain chunked transfer coding) is refused; aws-chunked
    # uploads announce their decoded length instead.
    if "content-length" not in h and "x-amz-decoded-content-length" not in h:
        raise e.MissingContentLength()
    if "if-match" in h or "if-none-match" in h:
        _check_write_conditions(ctx, bucket)
    guard = await quota.check_write(ctx, bucket, ctx.key, _declared_length(h))
    fields = object_fields(ctx, bucket)
    fields.update(lock_fields(ctx, bucket))
    enc = sse.for_write(h, sse.bucket_defaults(ctx, bucket), ctx.walrus.master)
    nonce = os.urandom(16) if enc else b""
    key = ctx.key

    def record(got: Received) -> Row:
        blob: list[Any] = [got.blob, got.size] + ([nonce.hex()] if enc else [])
        fields.update(size=got.size, etag=got.md5, blobs=json.dumps([blob]),
                      checksum=got.checksum, parts=None, sse=enc.record() if enc else None)
        return ctx.walrus.store.put(bucket, key, fields, guard=guard, durable=got.durable)

    got = await receive(ctx, encryption=(enc.key, nonce) if enc else None, record=record)
    row = got.recorded
    headers = [("etag", quote_etag(got.md5))] + checksum_headers(got.checksum) \
        + sse.response_headers(fields["sse"], write=True) \
        + expiration_header(bucket, row, ctx.walrus.lifecycle_day)
    # A null version (unversioned or suspended bucket) is not announced, as on S3.
    if row["version_id"] != "null":
        headers.append(("x-amz-version-id", row["version_id"]))
    return ctx.response(200, b"", headers)


def _declared_length(headers: dict[str, str]) -> int:
    """The body length a PUT announces (decoded length for aws-chunked bodies)."""
    value = headers.get("x-amz-decoded-content-length") or headers.get("content-length", "0")
    try:
        return max(int(value), 0)
    except ValueError:
        return 0  # the receiver reports the malformed length


def _check_write_conditions(ctx: S3Context, bucket: Row) -> None:
    """Conditional writes: ``If-None-Match: *`` (create only) and ``If-Match: ETAG``."""
    assert ctx.key is not None
    try:
        current: Row | None = ctx.walrus.store.head(bucket["name"], ctx.key)
    except e.NoSuchKey:
        current = None
    if_none = ctx.headers.get("if-none-match")
    if if_none is not None and current is not None and etag_in(if_none, current["etag"]):
        raise e.PreconditionFailed(Condition="If-None-Match")
    if_match = ctx.headers.get("if-match")
    if if_match is not None:
        if current is None:
            raise e.NoSuchKey(Key=ctx.key)
        if not etag_in(if_match, current["etag"]):
            raise e.PreconditionFailed(Condition="If-Match")


def _check_lock(ctx: S3Context, bucket: Row, key: str, version_id: str) -> None:
    """Object Lock: a version under retention or legal hold cannot be deleted."""
    if bucket_lock(bucket) is None:
        return
    try:
        obj = ctx.walrus.store.head(bucket["name"], key, version_id)
    except (e.NoSuchKey, e.NoSuchVersion, e.MethodNotAllowed):
        return  # missing versions and delete markers carry no lock
    check_version_delete(ctx, obj)


def parse_copy_source(value: str) -> tuple[str, str, str | None]:
    """``(bucket, key, version)`` from ``x-amz-copy-source``."""
    path, _, query = value.partition("?")
    path = unquote(path).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise e.InvalidArgument("Copy Source must mention the source bucket and key: "
                                "sourcebucket/sourcekey", ArgumentName="x-amz-copy-source",
                                ArgumentValue=value)
    version = None
    for pair in query.split("&"):
        k, _, v = pair.partition("=")
        if k == "versionId":
            version = unquote_plus(v)
    return bucket, key, version


def copy_source(ctx: S3Context) -> tuple[Row, Row]:
    """The readable source (bucket, object) of a copy, with copy-source conditions."""
    src_bucket_name, src_key, src_version = parse_copy_source(ctx.headers["x-amz-copy-source"])
    src_bucket = ctx.walrus.store.bucket(src_bucket_name)
    src = ctx.walrus.store.head(src_bucket_name, src_key, src_version)
    ctx.authorize("s3:GetObjectVersion" if src_version else "s3:GetObject", src_bucket, src)
    check_conditions(ctx.headers, src, prefix="x-amz-copy-source-if-", copy=True)
    return src_bucket, src


async def copy_object(ctx: S3Context) -> Response:
    """CopyObject (server side: blobs are linked, never re-read)."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    ctx.authorize("s3:PutObject", bucket)
    src_bucket, src = copy_source(ctx)
    directive = ctx.headers.get("x-amz-metadata-directive", "COPY")
    if directive not in ("COPY", "REPLACE"):
        raise e.InvalidArgument("Unknown metadata directive.",
                                ArgumentName="x-amz-metadata-directive", ArgumentValue=directive)
    h = ctx.headers
    master = ctx.walrus.master
    src_key = sse.for_read(h, src.get("sse"), master, prefix=sse.COPY_C_PREFIX)
    enc = sse.for_write(h, sse.bucket_defaults(ctx, bucket), master)
    same = src_bucket["name"] == bucket["name"] and src["key"] == ctx.key
    changes = ("x-amz-storage-class", "x-amz-website-redirect-location",
               "x-amz-server-side-encryption", sse.C_PREFIX + "algorithm")
    if same and directive == "COPY" and not any(name in h for name in changes):
        raise e.InvalidRequest("This copy request is illegal because it is trying to copy an "
                               "object to itself without changing the object's metadata, "
                               "storage class, website redirect location or encryption "
                               "attributes.")
    guard = await quota.check_write(ctx, bucket, ctx.key, int(src["size"]))
    fields = object_fields(ctx, bucket, copy_from=src)
    fields.update(lock_fields(ctx, bucket))
    provider = ctx.walrus.provider
    src_blobs = loads(src["blobs"], [])
    etag, parts = src["etag"], src.get("parts")
    shared, record = sse.linked_record(src.get("sse"), enc)
    if shared:
        # Same bytes on disk (plain, or under the source's own wrapped data key): link.
        new_blobs = [[await asyncio.to_thread(provider.copy, seg[0]), *seg[1:]]
                     for seg in src_blobs]
    else:
        new_blobs, etag = await asyncio.to_thread(_rewrite, ctx, src, src_key, enc)
        parts, record = None, enc.record() if enc else None
    fields.update(size=src["size"], etag=etag, blobs=json.dumps(new_blobs), parts=parts,
                  checksum=src.get("checksum"), sse=record)
    try:
        row = await asyncio.to_thread(ctx.walrus.store.put, bucket, ctx.key, fields,
                                      guard=guard)
    except BaseException:
        for seg in new_blobs:
            provider.delete(seg[0])
        raise
    headers = sse.response_headers(record, write=True) \
        + expiration_header(bucket, row, ctx.walrus.lifecycle_day)
    if row["version_id"] != "null":
        headers.append(("x-amz-version-id", row["version_id"]))
    if src["version_id"] != "null":
        headers.append(("x-amz-copy-source-version-id", src["version_id"]))
    body = doc("CopyObjectResult", el("LastModified", timestamp(row["last_modified"])),
               el("ETag", quote_etag(etag)))
    return ctx.response(200, body, headers)


def _rewrite(ctx: S3Context, src: Row, src_key: bytes | None,
             enc: sse.Encryption | None) -> tuple[list[list[Any]], str]:
    """Copy an object's plaintext into one new blob under another encryption (blocking)."""
    provider = ctx.walrus.provider
    writer = provider.writer()
    nonce = os.urandom(16)
    if enc is not None:
        writer.cipher = sse.encryptor(enc.key, nonce)
    try:
        for chunk in sse.plaintext(provider, loads(src["blobs"], []), src_key, 0,
                                   src["size"], GET_CHUNK):
            writer.write(chunk)
        name = writer.commit()
    except BaseException:
        writer.abort()
        raise
    blob: list[Any] = [name, writer.size] + ([nonce.hex()] if enc else [])
    return [blob], writer.md5.hexdigest()


async def delete_object(ctx: S3Context) -> Response:
    """DeleteObject (a version, or a delete marker in a versioned bucket)."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    version_id = ctx.query.get("versionId")
    ctx.authorize("s3:DeleteObjectVersion" if version_id else "s3:DeleteObject", bucket)
    if version_id:
        _check_lock(ctx, bucket, ctx.key, version_id)
    result = await asyncio.to_thread(ctx.walrus.store.delete, bucket, ctx.key, version_id)
    headers = []
    if result.get("delete_marker"):
        headers.append(("x-amz-delete-marker", "true"))
    if result.get("version_id") and (bucket["versioning"] or version_id):
        headers.append(("x-amz-version-id", result["version_id"]))
    return ctx.response(204, b"", headers)


async def delete_objects(ctx: S3Context) -> Response:
    """DeleteObjects: up to 1000 keys, each reported as Deleted or Error."""
    bucket = ctx.bucket()
    body = await ctx.body(2 * 1024 * 1024)
    root = parse_xml(body)
    quiet = find_text(root, "Quiet").lower() == "true"
    items = list(children(root, "Object"))
    if not items or len(items) > 1000:
        raise e.MalformedXML()
    out: list[str] = []
    allowed: list[tuple[int, str, str | None]] = []  # (place in the answer, key, version)
    for item in items:
        key = find_text(item, "Key")
        version = find_text(item, "VersionId") or None
        action = "s3:DeleteObjectVersion" if version else "s3:DeleteObject"
        try:
            if not ctx.allowed(action, bucket):
                raise e.AccessDenied()
            if version:
                _check_lock(ctx, bucket, key, version)
        except e.S3Error as exc:
            out.append("<Error>" + el("Key", key) + (el("VersionId", version) if version else "")
                       + el("Code", exc.code) + el("Message", exc.message) + "</Error>")
            continue
        allowed.append((len(out), key, version))
        out.append("")
    # One transaction for the whole request: a cleanup deletes pages of 1,000 keys.
    results = await asyncio.to_thread(ctx.walrus.store.delete_many, bucket,
                                      [(key, version) for _, key, version in allowed])
    for (place, key, version), result in zip(allowed, results, strict=True):
        if quiet:
            continue
        part = el("Key", key)
        if version:
            part += el("VersionId", version)
        if result.get("delete_marker"):
            part += el("DeleteMarker", "true")
            if not version:
                part += el("DeleteMarkerVersionId", result["version_id"])
        out[place] = f"<Deleted>{part}</Deleted>"
    return ctx.response(200, doc("DeleteResult", *out))
