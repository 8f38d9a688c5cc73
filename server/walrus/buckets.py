"""Bucket actions: list, create (name rules, location, quota), delete, head, location,
versioning, ACL, policy and tagging."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re

from server.auth import quotas
from server.protocol.http import Response
from server.walrus import acl as acls
from server.walrus import errors as e
from server.walrus import policy, publicaccess
from server.walrus.context import S3Context, loads
from server.walrus.objectlock import bucket_lock
from server.walrus.tagging import parse_tagging, render_tagging
from server.walrus.xmlio import doc, el, find_text, local_name, parse_xml, timestamp

#: The region where re-creating your own bucket succeeds (S3's legacy us-east-1 rule).
LEGACY_REGION = "us-east-1"
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def check_bucket_name(name: str) -> None:
    """S3's DNS-compatible bucket naming rules (InvalidBucketName otherwise)."""
    bad = not _NAME.match(name) or ".." in name or ".-" in name or "-." in name
    if not bad:
        try:
            ipaddress.IPv4Address(name)
            bad = True
        except ValueError:
            pass
    if bad or name.startswith("xn--") or name.endswith("-s3alias"):
        raise e.InvalidBucketName(BucketName=name)


async def list_buckets(ctx: S3Context) -> Response:
    """ListBuckets: the caller's buckets."""
    ctx.authorize_caller("s3:ListAllMyBuckets", "arn:aws:s3:::*")
    q = ctx.query
    rows = ctx.walrus.store.list_buckets(ctx.principal.account_id)
    prefix = q.get("prefix", "")
    after = q.get("continuation-token", "")
    rows = [r for r in rows if r["name"].startswith(prefix) and r["name"] > after]
    token = ""
    if "max-buckets" in q:
        try:
            limit = int(q["max-buckets"])
        except ValueError:
            limit = 0
        if not 1 <= limit <= 10000:
            raise e.InvalidArgument("max-buckets must be between 1 and 10000",
                                    ArgumentName="max-buckets", ArgumentValue=q["max-buckets"])
        if len(rows) > limit:
            rows = rows[:limit]
            token = rows[-1]["name"]
    items = "".join(f"<Bucket>{el('Name', r['name'])}"
                    f"{el('CreationDate', timestamp(r['created']))}"
                    f"{el('BucketRegion', ctx.walrus.region)}</Bucket>" for r in rows)
    tail = [el("ContinuationToken", token)] if token else []
    if prefix:
        tail.append(el("Prefix", prefix))
    body = doc("ListAllMyBucketsResult",
               acls.owner_xml(ctx.principal.account_id, ctx.walrus.accounts),
               f"<Buckets>{items}</Buckets>", *tail)
    return ctx.response(200, body)


async def create_bucket(ctx: S3Context) -> Response:
    """CreateBucket with location constraint, canned/grant ACL and the account quota."""
    name = ctx.bucket_name
    assert name is not None
    ctx.authorize_caller("s3:CreateBucket", f"arn:aws:s3:::{name}")
    check_bucket_name(name)
    body = await ctx.body(64 * 1024)
    location = ""
    if body.strip():
        root = parse_xml(body)
        if local_name(root) != "CreateBucketConfiguration":
            raise e.MalformedXML()
        location = find_text(root, "LocationConstraint")
    region = ctx.walrus.region
    if location not in ("", region, "us-east-1"):
        raise e.InvalidLocationConstraint(
            f"The specified location-constraint is not valid: {location}",
            LocationConstraint=location)
    owner = ctx.principal.account_id
    acl = acls.from_headers(ctx.headers, owner, ctx.walrus.accounts, owner,
                            ctx.walrus.exec_account) or acls.canned("private", owner)
    ownership = ctx.headers.get("x-amz-object-ownership")
    if ownership is not None and ownership not in acls.OWNERSHIP:
        raise e.InvalidArgument("Invalid x-amz-object-ownership header: " + ownership,
                                ArgumentName="x-amz-object-ownership",
                                ArgumentValue=ownership)
    if ownership == acls.ENFORCED and not acls.owner_only(acl, owner):
        # ACLs are disabled from the start: only the owner's own grants may be asked for.
        raise e.InvalidBucketAclWithObjectOwnership()
    quota = ctx.walrus.bucket_quota
    limit = quotas.smallest_limit(ctx.walrus.cloud.identity, ctx.principal, "s3:CreateBucket",
                                  "s3:quota-bucketnumber")
    try:
        await asyncio.to_thread(ctx.walrus.store.create_bucket, name, owner, location, acl,
                                quota if limit is None else min(quota, int(limit.limit)))
    except e.TooManyBuckets:
        if limit is None or limit.limit >= quota:
            raise
        raise e.TooManyBuckets(f"Quota exceeded: s3:quota-bucketnumber is limited to "
                               f"{limit.limit:g} for the {limit.level}",
                               BucketName=name) from None
    except e.BucketAlreadyOwnedByYou:
        if region != LEGACY_REGION:
            raise
        # S3 keeps a legacy rule in us-east-1 only: re-creating a bucket you own answers
        # 200 OK and resets its ACL; everything else about the bucket is kept.
        existing = ctx.walrus.store.bucket(name)
        if ctx.acls_disabled(existing) and not acls.owner_only(acl, owner):
            raise e.InvalidBucketAclWithObjectOwnership() from None
        ctx.walrus.store.update_bucket(name, acl=json.dumps(acl))
        return ctx.response(200, b"", [("location", f"/{name}")])
    if ownership is not None:
        ctx.walrus.store.set_bucket_config(name, "ownership", ownership)
    if ctx.headers.get("x-amz-bucket-object-lock-enabled", "").lower() == "true":
        # Object Lock needs versioning, for good: both are set at creation.
        ctx.walrus.store.update_bucket(name, versioning="Enabled",
                                       object_lock=json.dumps({"enabled": True, "rule": None}))
    return ctx.response(200, b"", [("location", f"/{name}")])


async def delete_bucket(ctx: S3Context) -> Response:
    """DeleteBucket (owner only, empty only)."""
    bucket = ctx.bucket()
    ctx.authorize("s3:DeleteBucket", bucket)
    await asyncio.to_thread(ctx.walrus.store.delete_bucket, bucket["name"])
    return ctx.response(204)


async def head_bucket(ctx: S3Context) -> Response:
    """HeadBucket."""
    bucket = ctx.bucket()
    ctx.authorize("s3:ListBucket", bucket)
    return ctx.response(200, b"", [("x-amz-bucket-region", ctx.walrus.region)])


async def get_location(ctx: S3Context) -> Response:
    """GetBucketLocation."""
    bucket = ctx.bucket()
    ctx.authorize("s3:GetBucketLocation", bucket)
    return ctx.response(200, doc("LocationConstraint", bucket["location"] or ""))


async def versioning(ctx: S3Context) -> Response:
    """Get/PutBucketVersioning."""
    bucket = ctx.bucket()
    if ctx.request.method == "GET":
        ctx.authorize("s3:GetBucketVersioning", bucket)
        status = el("Status", bucket["versioning"]) if bucket["versioning"] else ""
        return ctx.response(200, doc("VersioningConfiguration", status))
    ctx.authorize("s3:PutBucketVersioning", bucket)
    root = parse_xml(await ctx.body(64 * 1024))
    status = find_text(root, "Status")
    if status not in ("Enabled", "Suspended"):
        raise e.MalformedXML()
    if status == "Suspended" and bucket_lock(bucket) is not None:
        raise e.InvalidBucketState("An Object Lock configuration is present on this bucket, "
                                   "so the versioning state cannot be changed.")
    # Suspending a never-versioned bucket is recorded too: S3 then reports "Suspended".
    ctx.walrus.store.update_bucket(bucket["name"], versioning=status)
    return ctx.response(200)


async def bucket_acl(ctx: S3Context) -> Response:
    """Get/PutBucketAcl."""
    bucket = ctx.bucket()
    if ctx.request.method == "GET":
        ctx.authorize("s3:GetBucketAcl", bucket)
        return ctx.response(200, ctx.acl_xml(bucket, bucket["acl"]))
    ctx.authorize("s3:PutBucketAcl", bucket)
    if ctx.acls_disabled(bucket):
        raise e.AccessControlListNotSupported()
    new = acls.from_headers(ctx.headers, bucket["account_id"], ctx.walrus.accounts,
                            bucket["account_id"], ctx.walrus.exec_account)
    if new is None:
        new = acls.from_xml(await ctx.body(300 * 1024), bucket["account_id"],
                            ctx.walrus.accounts)
    publicaccess.check_acl(ctx, bucket, new)
    ctx.walrus.store.update_bucket(bucket["name"], acl=json.dumps(new))
    return ctx.response(200)


async def bucket_policy(ctx: S3Context) -> Response:
    """Get/Put/DeleteBucketPolicy (bucket owner only)."""
    bucket = ctx.bucket()
    method = ctx.request.method
    action = {"GET": "s3:GetBucketPolicy", "PUT": "s3:PutBucketPolicy"}.get(
        method, "s3:DeleteBucketPolicy")
    if ctx.principal.account_id != bucket["account_id"]:
        # A policy may not grant policy management to others (S3 refuses non-owners).
        raise e.AccessDenied()
    ctx.authorize(action, bucket)
    if method == "GET":
        if not bucket["policy"]:
            raise e.NoSuchBucketPolicy(BucketName=bucket["name"])
        return ctx.response(200, bucket["policy"].encode(), content_type="application/json")
    if method == "PUT":
        text = policy.validate(await ctx.body(20 * 1024), bucket["name"])
        if publicaccess.policy_is_public(text) and \
                publicaccess.settings(ctx.walrus.store, bucket)["BlockPublicPolicy"]:
            raise e.AccessDenied()
        ctx.walrus.store.update_bucket(bucket["name"], policy=text)
        return ctx.response(204)
    ctx.walrus.store.update_bucket(bucket["name"], policy=None)
    return ctx.response(204)


async def bucket_tagging(ctx: S3Context) -> Response:
    """Get/Put/DeleteBucketTagging (at most 50 tags)."""
    bucket = ctx.bucket()
    method = ctx.request.method
    ctx.authorize({"GET": "s3:GetBucketTagging"}.get(method, "s3:PutBucketTagging"), bucket)
    if method == "GET":
        tags = loads(bucket["tagging"], None)
        if not tags:
            raise e.NoSuchTagSet(BucketName=bucket["name"])
        return ctx.response(200, render_tagging(tags))
    if method == "PUT":
        tags = parse_tagging(await ctx.body(64 * 1024), limit=50)
        ctx.walrus.store.update_bucket(bucket["name"], tagging=json.dumps(tags))
        return ctx.response(204)
    ctx.walrus.store.update_bucket(bucket["name"], tagging=None)
    return ctx.response(204)


async def bucket_encryption(ctx: S3Context) -> Response:
    """Get/Put/DeleteBucketEncryption (default SSE-S3 or SSE-KMS for new objects)."""
    from server.walrus import sse

    response: Response = await sse.bucket_encryption(ctx)
    return response
