"""Object sub-resources: ACL and tagging (Get/Put/Delete)."""

from __future__ import annotations

import json

from server.protocol.http import Response
from server.walrus import acl as acls
from server.walrus.context import S3Context, loads
from server.walrus.tagging import parse_tagging, render_tagging


async def get_object_acl(ctx: S3Context) -> Response:
    """GetObjectAcl."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    version = ctx.query.get("versionId") or None
    obj = ctx.walrus.store.head(bucket["name"], ctx.key, version)
    ctx.authorize("s3:GetObjectAcl", bucket, obj)
    return ctx.response(200, acls.to_xml(loads(obj["acl"], {}), ctx.walrus.accounts))


async def put_object_acl(ctx: S3Context) -> Response:
    """PutObjectAcl from canned/grant headers or an AccessControlPolicy body."""
    bucket = ctx.bucket()
    assert ctx.key is not None
    version = ctx.query.get("versionId") or None
    obj = ctx.walrus.store.head(bucket["name"], ctx.key, version)
    ctx.authorize("s3:PutObjectAcl", bucket, obj)
    new = acls.from_headers(ctx.headers, obj["owner_id"], ctx.walrus.accounts,
                            bucket["account_id"], ctx.walrus.exec_account)
    if new is None:
        new = acls.from_xml(await ctx.body(300 * 1024), obj["owner_id"],
                            ctx.walrus.accounts)
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
