"""Multipart uploads: Create, UploadPart(Copy), Complete, Abort, ListParts, ListUploads.

A completed object keeps its parts' blobs as its segments (no re-copy of the data);
its ETag is S3's ``md5(concatenated part MD5s)-N``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import zlib
from typing import Any
from urllib.parse import quote

from server.protocol.http import Response
from server.walrus import acl as acls
from server.walrus import errors as e
from server.walrus import quota, sse
from server.walrus.conditions import quote_etag
from server.walrus.context import S3Context, loads
from server.walrus.lifecycle import expiration_header
from server.walrus.objectlock import lock_fields
from server.walrus.objects import copy_source, object_fields
from server.walrus.upload import Received, checksum_headers, receive
from server.walrus.xmlio import children, doc, el, find_text, parse_xml, timestamp

MIN_PART = 5 * 1024 * 1024
MAX_PART = 5 * 1024 ** 3
MAX_PARTS = 10000
_COPY_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")


async def create_upload(ctx: S3Context) -> Response:
    """CreateMultipartUpload."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    ctx.authorize("s3:PutObject", bucket)
    fields = object_fields(ctx, bucket)
    keep = {k: fields[k] for k in ("owner_id", "content_type", "headers", "meta", "acl",
                                   "storage_class", "tagging")}
    keep["checksum_algorithm"] = ctx.headers.get("x-amz-checksum-algorithm")
    keep["lock"] = json.dumps(lock_fields(ctx, bucket))
    enc = sse.for_write(ctx.headers, sse.bucket_defaults(ctx, bucket), ctx.walrus.master)
    keep["sse"] = enc.record() if enc else None
    upload_id = await asyncio.to_thread(ctx.walrus.store.create_upload, bucket["name"],
                                        ctx.key, keep)
    body = doc("InitiateMultipartUploadResult", el("Bucket", bucket["name"]),
               el("Key", ctx.key), el("UploadId", upload_id))
    headers = sse.response_headers(keep["sse"], write=True)
    if keep["checksum_algorithm"]:
        headers.append(("x-amz-checksum-algorithm", keep["checksum_algorithm"]))
    return ctx.response(200, body, headers)


def composite_checksum(algorithm: str | None, chosen: list[dict[str, Any]]) -> str | None:
    """S3's checksum of checksums (``BASE64-N``) when every part carries one."""
    if not algorithm:
        return None
    algorithm = algorithm.lower()
    digests = []
    for part in chosen:
        alg, _, value = (part.get("checksum") or "").partition(":")
        if alg != algorithm:
            return None
        digests.append(base64.b64decode(value))
    joined = b"".join(digests)
    if algorithm == "crc32":
        raw = zlib.crc32(joined).to_bytes(4, "big")
    elif algorithm in ("sha1", "sha256"):
        raw = hashlib.new(algorithm, joined).digest()
    else:
        return None  # crc32c/crc64nvme: not computable here without extra libraries
    return f"{algorithm}:{base64.b64encode(raw).decode()}-{len(chosen)}"


def _part_number(ctx: S3Context) -> int:
    raw = ctx.query.get("partNumber", "")
    try:
        number = int(raw)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_PARTS:
        raise e.InvalidArgument("Part number must be an integer between 1 and 10000, "
                                "inclusive", ArgumentName="partNumber", ArgumentValue=raw)
    return number


async def upload_part(ctx: S3Context) -> Response:
    """UploadPart (streamed) or UploadPartCopy (``x-amz-copy-source``)."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    ctx.authorize("s3:PutObject", bucket)
    number = _part_number(ctx)
    upload = ctx.walrus.store.upload(bucket["name"], ctx.key, ctx.query["uploadId"])
    key = sse.upload_key(ctx.headers, upload.get("sse"), ctx.walrus.master)
    nonce = os.urandom(16)
    if "x-amz-copy-source" in ctx.headers:
        return await _upload_part_copy(ctx, upload, number, key, nonce)

    def record(got: Received) -> None:
        assert got.blob is not None
        ctx.walrus.store.put_part(upload["upload_id"], number, got.blob, got.size, got.md5,
                                  got.checksum, nonce.hex() if key else None,
                                  durable=got.durable)

    got = await receive(ctx, max_size=MAX_PART, encryption=(key, nonce) if key else None,
                        record=record)
    return ctx.response(200, b"", [("etag", quote_etag(got.md5))]
                        + checksum_headers(got.checksum) + sse.response_headers(upload["sse"]))


async def _upload_part_copy(ctx: S3Context, upload: dict[str, Any], number: int,
                            key: bytes | None, nonce: bytes) -> Response:
    _, src = copy_source(ctx)
    src_key = sse.for_read(ctx.headers, src.get("sse"), ctx.walrus.master,
                           prefix=sse.COPY_C_PREFIX)
    size = src["size"]
    start, end = 0, size - 1
    rng = ctx.headers.get("x-amz-copy-source-range")
    if rng:
        m = _COPY_RANGE.match(rng.strip())
        if m is None or int(m.group(2)) < int(m.group(1)) or int(m.group(2)) >= size:
            raise e.InvalidRange(RangeRequested=rng, ActualObjectSize=str(size)) \
                if m is not None else e.InvalidArgument("The x-amz-copy-source-range value "
                                                        "must be of the form bytes=first-last "
                                                        "where first and last are the "
                                                        "zero-based offsets of the first and "
                                                        "last bytes to copy",
                                                        ArgumentName="x-amz-copy-source-range")
        start, end = int(m.group(1)), int(m.group(2))
    provider = ctx.walrus.provider
    writer = provider.writer()
    if key is not None:
        writer.cipher = sse.encryptor(key, nonce)

    def copy() -> str:
        for chunk in sse.plaintext(provider, loads(src["blobs"], []), src_key, start,
                                   end - start + 1, 4 * 1024 * 1024):
            writer.write(chunk)
        return writer.commit()

    try:
        blob = await asyncio.to_thread(copy)
    except BaseException:
        writer.abort()
        raise
    md5 = writer.md5.hexdigest()
    await asyncio.to_thread(ctx.walrus.store.put_part, upload["upload_id"], number, blob,
                            writer.size, md5, None, nonce.hex() if key else None)
    row_time = ctx.walrus.store.now()
    headers = sse.response_headers(upload.get("sse"))
    if src["version_id"] != "null":
        headers.append(("x-amz-copy-source-version-id", src["version_id"]))
    return ctx.response(200, doc("CopyPartResult", el("LastModified", timestamp(row_time)),
                                 el("ETag", quote_etag(md5))), headers)


def _wanted_parts(body: bytes) -> list[tuple[int, str]]:
    """The ``(part number, ETag)`` pairs of a CompleteMultipartUpload document."""
    root = parse_xml(body)
    wanted: list[tuple[int, str]] = []
    for element in children(root, "Part"):
        try:
            number = int(find_text(element, "PartNumber"))
        except ValueError:
            raise e.MalformedXML() from None
        wanted.append((number, find_text(element, "ETag").strip('"')))
    if not wanted:
        raise e.MalformedXML("The XML you provided was not well-formed or did not validate "
                             "against our published schema")
    return wanted


def _multipart_etag(etags: list[str]) -> str:
    """S3's ETag of an object made of parts with these (hex MD5) ETags."""
    digest = hashlib.md5(b"".join(bytes.fromhex(t) for t in etags)).hexdigest()
    return f"{digest}-{len(etags)}"


def _completed_already(ctx: S3Context, bucket: dict[str, Any],
                       wanted: list[tuple[int, str]]) -> dict[str, Any] | None:
    """The current version a repeated Complete of an already completed upload made.

    A client that lost the first answer retries Complete; S3 answers it with success
    as long as the object is still the one the upload produced.  The upload row is gone
    by then, so the object is recognised by its ETag, which the listed part ETags
    determine (a part listed twice counts with its last ETag).
    """
    last: dict[int, str] = {}
    for number, etag in wanted:
        last[number] = etag
    try:
        etag = _multipart_etag([last[n] for n in sorted(last)])
        assert ctx.key is not None
        obj = ctx.walrus.store.head(bucket["name"], ctx.key)
    except (ValueError, e.S3Error):
        return None
    return obj if obj["etag"] == etag else None


def _complete_response(ctx: S3Context, bucket: dict[str, Any],
                       row: dict[str, Any]) -> Response:
    """The answer to a Complete that made (or had made) the object version ``row``."""
    etag, checksum = row["etag"], row.get("checksum")
    location = f"{ctx.walrus.base_url(ctx.request)}/{bucket['name']}/{ctx.key}"
    extra = ""
    if checksum:
        alg, _, value = checksum.partition(":")
        extra = el(f"Checksum{alg.upper()}", value)
    body = doc("CompleteMultipartUploadResult", el("Location", location),
               el("Bucket", bucket["name"]), el("Key", ctx.key), el("ETag", quote_etag(etag)),
               extra)
    headers = sse.response_headers(row.get("sse")) \
        + expiration_header(bucket, row, ctx.walrus.lifecycle_day)
    if row["version_id"] != "null":
        headers.append(("x-amz-version-id", row["version_id"]))
    return ctx.response(200, body, headers)


async def complete_upload(ctx: S3Context) -> Response:
    """CompleteMultipartUpload: check order, ETags and sizes; the object becomes visible."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    ctx.authorize("s3:PutObject", bucket)
    store = ctx.walrus.store
    try:
        upload = store.upload(bucket["name"], ctx.key, ctx.query["uploadId"])
    except e.NoSuchUpload:
        done = _completed_already(ctx, bucket, _wanted_parts(await ctx.body(4 * 1024 * 1024)))
        if done is None:
            raise
        return _complete_response(ctx, bucket, done)
    wanted = _wanted_parts(await ctx.body(4 * 1024 * 1024))
    numbers = [n for n, _ in wanted]
    # Equal neighbours are allowed: a part sent twice may be listed with both of its
    # ETags (S3 accepts that and uses the part as last stored).
    if any(b < a for a, b in zip(numbers, numbers[1:], strict=False)):
        raise e.InvalidPartOrder(UploadId=upload["upload_id"])
    listed: dict[int, set[str]] = {}
    for number, etag in wanted:
        listed.setdefault(number, set()).add(etag)
    have = {p["part_number"]: p for p in store.list_parts(upload["upload_id"])}
    chosen = []
    for number, etags in listed.items():
        part = have.get(number)
        if part is None or ("" not in etags and part["etag"] not in etags):
            raise e.InvalidPart(UploadId=upload["upload_id"], PartNumber=str(number),
                                ETag=sorted(etags)[0])
        chosen.append(part)
    for part in chosen[:-1]:
        if part["size"] < ctx.walrus.min_part_size:
            raise e.EntityTooSmall(UploadId=upload["upload_id"],
                                   PartNumber=str(part["part_number"]),
                                   ProposedSize=str(part["size"]),
                                   MinSizeAllowed=str(ctx.walrus.min_part_size))
    etag = _multipart_etag([p["etag"] for p in chosen])
    size = sum(p["size"] for p in chosen)
    guard = await quota.check_write(ctx, bucket, ctx.key, size)
    fields = {k: upload[k] for k in ("owner_id", "content_type", "headers", "meta", "acl",
                                     "storage_class", "tagging")}
    fields.update(loads(upload.get("lock"), {}))
    checksum = composite_checksum(upload.get("checksum_algorithm"), chosen)
    fields.update(size=size, etag=etag, checksum=checksum,
                  sse=upload.get("sse"),
                  blobs=json.dumps([[p["blob"], p["size"]] + ([p["nonce"]] if p.get("nonce")
                                                              else []) for p in chosen]),
                  parts=json.dumps([p["size"] for p in chosen]))
    try:
        row = await asyncio.to_thread(store.finish_upload, upload, bucket, fields,
                                      {p["part_number"]: p["blob"] for p in chosen}, guard)
    except e.NoSuchUpload:
        # A concurrent Complete of the same upload won the race.
        done = _completed_already(ctx, bucket, wanted)
        if done is None:
            raise
        return _complete_response(ctx, bucket, done)
    return _complete_response(ctx, bucket, row)


async def abort_upload(ctx: S3Context) -> Response:
    """AbortMultipartUpload."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    upload = ctx.walrus.store.upload(bucket["name"], ctx.key, ctx.query["uploadId"])
    if upload["owner_id"] != ctx.principal.account_id:
        ctx.authorize("s3:AbortMultipartUpload", bucket)
    await asyncio.to_thread(ctx.walrus.store.abort_upload, upload["upload_id"])
    return ctx.response(204)


def _int(ctx: S3Context, name: str, default: int, top: int) -> int:
    raw = ctx.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise e.InvalidArgument(f"Provided {name} not an integer or within integer range",
                                ArgumentName=name, ArgumentValue=raw) from None
    if value < 0:
        raise e.InvalidArgument(f"Argument {name} must be an integer between 0 and "
                                "2147483647", ArgumentName=name, ArgumentValue=raw)
    return min(value, top)


async def list_parts(ctx: S3Context) -> Response:
    """ListParts."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    upload = ctx.walrus.store.upload(bucket["name"], ctx.key, ctx.query["uploadId"])
    if upload["owner_id"] != ctx.principal.account_id:
        ctx.authorize("s3:ListMultipartUploadParts", bucket)
    max_parts = _int(ctx, "max-parts", 1000, 1000)
    marker = _int(ctx, "part-number-marker", 0, MAX_PARTS)
    rows = ctx.walrus.store.list_parts(upload["upload_id"], marker, max_parts + 1)
    truncated = len(rows) > max_parts
    rows = rows[:max_parts]
    owner = acls.owner_xml(upload["owner_id"], ctx.walrus.accounts)
    initiator = owner.replace("<Owner>", "<Initiator>").replace("</Owner>", "</Initiator>")
    out = [el("Bucket", bucket["name"]), el("Key", ctx.key), el("UploadId", upload["upload_id"]),
           initiator, owner, el("StorageClass", upload["storage_class"]),
           el("PartNumberMarker", marker),
           el("NextPartNumberMarker", rows[-1]["part_number"] if rows else 0),
           el("MaxParts", max_parts), el("IsTruncated", "true" if truncated else "false")]
    for p in rows:
        out.append("<Part>" + el("PartNumber", p["part_number"])
                   + el("LastModified", timestamp(p["last_modified"]))
                   + el("ETag", quote_etag(p["etag"])) + el("Size", p["size"])
                   + "".join(el(f"Checksum{k.upper()}", v) for k, v in
                             [p["checksum"].split(":", 1)] if p["checksum"])
                   + "</Part>")
    return ctx.response(200, doc("ListPartsResult", *out))


async def list_uploads(ctx: S3Context) -> Response:
    """ListMultipartUploads with prefix, delimiter and key/upload-id markers."""
    bucket = ctx.bucket()
    ctx.authorize("s3:ListBucketMultipartUploads", bucket)
    q = ctx.query
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    key_marker, id_marker = q.get("key-marker", ""), q.get("upload-id-marker", "")
    max_uploads = _int(ctx, "max-uploads", 1000, 1000)
    encode = q.get("encoding-type") == "url"

    def enc(text: str) -> str:
        return quote(text, safe="/") if encode else text

    rows = ctx.walrus.store.list_uploads(bucket["name"], prefix)
    items: list[str] = []
    prefixes: list[str] = []
    truncated = False
    next_key = next_id = ""
    for r in rows:
        if key_marker and (r["key"] < key_marker or (
                r["key"] == key_marker and (not id_marker or r["upload_id"] <= id_marker))):
            continue
        common = None
        if delimiter:
            idx = r["key"].find(delimiter, len(prefix))
            if idx >= 0:
                common = r["key"][:idx + len(delimiter)]
                if prefixes and prefixes[-1] == common:
                    continue
        if len(items) + len(prefixes) >= max_uploads:
            truncated = True
            break
        if common is not None:
            prefixes.append(common)
            next_key, next_id = common, ""
            continue
        owner = acls.owner_xml(r["owner_id"], ctx.walrus.accounts)
        items.append("<Upload>" + el("Key", enc(r["key"])) + el("UploadId", r["upload_id"])
                     + owner.replace("Owner>", "Initiator>") + owner
                     + el("StorageClass", r["storage_class"])
                     + el("Initiated", timestamp(r["initiated"])) + "</Upload>")
        next_key, next_id = r["key"], r["upload_id"]
    head = [el("Bucket", bucket["name"]), el("KeyMarker", enc(key_marker)),
            el("UploadIdMarker", id_marker),
            el("NextKeyMarker", enc(next_key) if truncated else ""),
            el("NextUploadIdMarker", next_id if truncated else ""), el("Prefix", enc(prefix))]
    if delimiter:
        head.append(el("Delimiter", enc(delimiter)))
    if encode:
        head.append(el("EncodingType", "url"))
    head += [el("MaxUploads", max_uploads), el("IsTruncated", "true" if truncated else "false")]
    prefix_xml = [f"<CommonPrefixes>{el('Prefix', enc(p))}</CommonPrefixes>" for p in prefixes]
    return ctx.response(200, doc("ListMultipartUploadsResult", *head, *items, *prefix_xml))
