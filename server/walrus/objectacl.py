"""Object sub-resources: ACL, tagging (Get/Put/Delete) and GetObjectAttributes."""

from __future__ import annotations

import json

from server.protocol.http import Response
from server.walrus import acl as acls
from server.walrus import errors as e
from server.walrus import publicaccess
from server.walrus.context import S3Context, http_date, loads
from server.walrus.tagging import parse_tagging, render_tagging
from server.walrus.xmlio import doc, el


async def get_object_acl(ctx: S3Context) -> Response:
    """GetObjectAcl."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    version = ctx.query.get("versionId") or None
    obj = ctx.walrus.store.head(bucket["name"], ctx.key, version)
    ctx.authorize("s3:GetObjectAcl", bucket, obj)
    return ctx.response(200, ctx.acl_xml(bucket, obj["acl"]))


async def put_object_acl(ctx: S3Context) -> Response:
    """PutObjectAcl from canned/grant headers or an AccessControlPolicy body."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    version = ctx.query.get("versionId") or None
    obj = ctx.walrus.store.head(bucket["name"], ctx.key, version)
    ctx.authorize("s3:PutObjectAcl", bucket, obj)
    if ctx.acls_disabled(bucket):
        raise e.AccessControlListNotSupported()
    new = acls.from_headers(ctx.headers, obj["owner_id"], ctx.walrus.accounts,
                            bucket["account_id"], ctx.walrus.exec_account)
    if new is None:
        new = acls.from_xml(await ctx.body(300 * 1024), obj["owner_id"],
                            ctx.walrus.accounts)
    publicaccess.check_acl(ctx, bucket, new)
    ctx.walrus.store.update_object(obj["id"], acl=json.dumps(new))
    return ctx.response(200)


async def object_tagging(ctx: S3Context) -> Response:
    """Get/Put/DeleteObjectTagging."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    version = ctx.query.get("versionId") or None
    obj = ctx.walrus.store.head(bucket["name"], ctx.key, version)
    method = ctx.request.method
    action = {"GET": "s3:GetObjectTagging", "PUT": "s3:PutObjectTagging"}.get(
        method, "s3:DeleteObjectTagging")
    if not ctx.allowed(action, bucket, obj):
        ctx.authorize("s3:PutObject" if method != "GET" else "s3:GetObject", bucket, obj)
    headers = [("x-amz-version-id", obj["version_id"])] if obj["version_id"] != "null" else []
    if method == "GET":
        return ctx.response(200, render_tagging(loads(obj.get("tagging"), [])), headers)
    if method == "PUT":
        tags = parse_tagging(await ctx.body(300 * 1024), limit=10)
        ctx.walrus.store.update_object(obj["id"], tagging=json.dumps(tags))
        return ctx.response(200, b"", headers)
    ctx.walrus.store.update_object(obj["id"], tagging=None)
    return ctx.response(204, b"", headers)


async def object_attributes(ctx: S3Context) -> Response:
    """GetObjectAttributes: ETag, checksum, parts, storage class and size."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    version = ctx.query.get("versionId") or None
    obj = ctx.walrus.store.head(bucket["name"], ctx.key, version)
    ctx.authorize("s3:GetObjectVersion" if version else "s3:GetObject", bucket, obj)
    wanted = {a.strip() for a in ctx.headers.get("x-amz-object-attributes", "").split(",")
              if a.strip()}
    if not wanted:
        raise e.InvalidArgument("Invalid attribute name specified.",
                                ArgumentName="x-amz-object-attributes")
    out = []
    if "ETag" in wanted:
        out.append(el("ETag", obj["etag"]))
    if "Checksum" in wanted and obj.get("checksum"):
        alg, _, value = obj["checksum"].partition(":")
        out.append(f"<Checksum>{el('Checksum' + alg.upper(), value)}</Checksum>")
    sizes = loads(obj.get("parts"), None)
    if "ObjectParts" in wanted and sizes:
        marker = int(ctx.headers.get("x-amz-part-number-marker", "0") or 0)
        limit = int(ctx.headers.get("x-amz-max-parts", "1000") or 1000)
        chosen = [(n, size) for n, size in enumerate(sizes, 1) if n > marker][:limit]
        truncated = bool(chosen) and chosen[-1][0] < len(sizes)
        parts = "".join(f"<Part>{el('PartNumber', n)}{el('Size', size)}</Part>"
                        for n, size in chosen)
        out.append(f"<ObjectParts>{el('PartsCount', len(sizes))}"
                   f"{el('PartNumberMarker', marker)}"
                   f"{el('NextPartNumberMarker', chosen[-1][0] if chosen else marker)}"
                   f"{el('MaxParts', limit)}{el('IsTruncated', str(truncated).lower())}"
                   f"{parts}</ObjectParts>")
    if "StorageClass" in wanted:
        out.append(el("StorageClass", obj["storage_class"]))
    if "ObjectSize" in wanted:
        out.append(el("ObjectSize", obj["size"]))
    headers = [("last-modified", http_date(obj["last_modified"]))]
    if obj["version_id"] != "null":
        headers.append(("x-amz-version-id", obj["version_id"]))
    return ctx.response(200, doc("GetObjectAttributesResponse", *out), headers)
