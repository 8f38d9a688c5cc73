"""Block Public Access (Get/Put/DeletePublicAccessBlock), GetBucketPolicyStatus, and the
rules that say when an ACL or a bucket policy is public.

The bucket's configuration is stored with ``store.set_bucket_config(name,
"public_access_block", {...})`` as the four S3 flags.  What they do:

* ``BlockPublicAcls``: PutBucketAcl, PutObjectAcl and object writes carrying a public ACL
  are refused with AccessDenied.
* ``IgnorePublicAcls``: grants to AllUsers and AuthenticatedUsers on the bucket and its
  objects are not honoured.
* ``BlockPublicPolicy``: PutBucketPolicy with a public policy is refused with AccessDenied.
* ``RestrictPublicBuckets``: while the bucket policy is public, what it allows is honoured
  only for callers of the bucket owner's account.

"Public" follows S3's definition: an ACL is public when it grants anything to the AllUsers
or AuthenticatedUsers group; a policy is public when an Allow statement applies to every
principal (``*`` or a ``NotPrincipal``) and no condition pins it to fixed values of a
key that narrows the callers (source IP range, source account/ARN/VPC, principal
organisation, ...).
"""

from __future__ import annotations

import ipaddress
import json
from typing import TYPE_CHECKING, Any

from server.protocol.http import Response
from server.walrus import acl as acls
from server.walrus import errors as e
from server.walrus.xmlio import children, doc, el, find_text, parse_xml

if TYPE_CHECKING:
    from server.walrus.context import Row, S3Context

CONFIG = "public_access_block"
FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
#: Condition keys whose fixed values limit a statement to known callers (S3's list).
_NARROWING_KEYS = frozenset(k.lower() for k in (
    "aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceOwner", "aws:SourceAccount",
    "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn",
    "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:userid", "aws:username",
    "s3:DataAccessPointArn", "s3:DataAccessPointAccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id"))
#: Operators that pin a key to the listed values (negated operators never narrow).
_EQUALITY_OPS = frozenset({"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals",
                           "ArnLike"})


def settings(store: Any, bucket: Row) -> dict[str, bool]:
    """The bucket's four Block Public Access flags (all False when none is configured)."""
    stored = store.bucket_config(bucket, CONFIG) or {}
    return {flag: bool(stored.get(flag)) for flag in FLAGS}


def acl_is_public(acl: dict[str, Any] | str | None) -> bool:
    """True when the ACL grants anything to AllUsers or AuthenticatedUsers."""
    if isinstance(acl, str):
        acl = json.loads(acl) if acl else None
    if not acl:
        return False
    return any(kind == "group" and value in acls.PUBLIC_GROUPS
               for kind, value, _ in acl.get("grants", []))


def policy_is_public(policy_text: str | None) -> bool:
    """True when some Allow statement of the policy reaches callers S3 calls "public"."""
    if not policy_text:
        return False
    try:
        document = json.loads(policy_text)
    except ValueError:
        return False
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        if "NotPrincipal" in st or _wildcard_principal(st.get("Principal")):
            if not _narrowed(st.get("Condition")):
                return True
    return False


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard_principal(spec: Any) -> bool:
    if spec == "*":
        return True
    if isinstance(spec, dict):
        return any(str(v) == "*" for values in spec.values() for v in _as_list(values))
    return any(str(v) == "*" for v in _as_list(spec))


def _narrowed(condition: Any) -> bool:
    """True when a condition limits the statement to fixed, non-wildcard callers."""
    if not isinstance(condition, dict):
        return False
    for op, tests in condition.items():
        if not isinstance(tests, dict):
            continue
        base = op[:-len("IfExists")] if op.endswith("IfExists") else op
        # ...IfExists passes when the key is absent, so it narrows nothing.
        if base != op:
            continue
        for key, wanted in tests.items():
            values = [str(v) for v in _as_list(wanted)]
            if not values:
                continue
            if base == "IpAddress" and key.lower() == "aws:sourceip" and \
                    all(_narrow_network(v) for v in values):
                return True
            if base in _EQUALITY_OPS and key.lower() in _NARROWING_KEYS and \
                    not any("*" in v or "?" in v for v in values):
                return True
    return False


def _narrow_network(cidr: str) -> bool:
    """A source IP range narrow enough not to count as "everyone" (/8 or longer for IPv4,
    /32 or longer for IPv6)."""
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return net.prefixlen >= (8 if net.version == 4 else 32)


def check_acl(ctx: S3Context, bucket: Row, acl: dict[str, Any] | None) -> None:
    """Refuse (AccessDenied) a public ACL on a bucket that blocks public ACLs."""
    if acl and acl_is_public(acl) and settings(ctx.walrus.store, bucket)["BlockPublicAcls"]:
        raise e.AccessDenied()


def check_acl_headers(ctx: S3Context, bucket: Row) -> None:
    """Refuse an object write whose ``x-amz-acl``/``x-amz-grant-*`` headers are public,
    when the bucket blocks public ACLs."""
    h = ctx.headers
    if "x-amz-acl" not in h and not any(name in h for name in acls.GRANT_HEADERS):
        return
    if not settings(ctx.walrus.store, bucket)["BlockPublicAcls"]:
        return
    owner = ctx.principal.account_id or bucket["account_id"]
    check_acl(ctx, bucket, acls.from_headers(h, owner, ctx.walrus.accounts,
                                             bucket["account_id"]))


def ignores_public_acls(ctx: S3Context, bucket: Row) -> bool:
    """True when the bucket's public ACL grants are not to be honoured."""
    return settings(ctx.walrus.store, bucket)["IgnorePublicAcls"]


def restricts_policy(ctx: S3Context, bucket: Row) -> bool:
    """True when the bucket policy's grants reach only the owner's account (the policy is
    public and RestrictPublicBuckets is on)."""
    return settings(ctx.walrus.store, bucket)["RestrictPublicBuckets"] and \
        policy_is_public(bucket.get("policy"))


async def public_access_block(ctx: S3Context) -> Response:
    """Get/Put/DeletePublicAccessBlock (bucket owner, or as the bucket policy allows)."""
    bucket = ctx.bucket()
    method = ctx.request.method
    action = {"GET": "s3:GetBucketPublicAccessBlock"}.get(method,
                                                          "s3:PutBucketPublicAccessBlock")
    ctx.authorize(action, bucket)
    store = ctx.walrus.store
    if method == "GET":
        stored = store.bucket_config(bucket, CONFIG)
        if stored is None:
            raise e.NoSuchPublicAccessBlockConfiguration(BucketName=bucket["name"])
        flags = "".join(el(flag, "true" if stored.get(flag) else "false") for flag in FLAGS)
        return ctx.response(200, doc("PublicAccessBlockConfiguration", flags))
    if method == "PUT":
        root = parse_xml(await ctx.body(64 * 1024))
        if root.tag.rsplit("}", 1)[-1] != "PublicAccessBlockConfiguration":
            raise e.MalformedXML()
        values: dict[str, bool] = {}
        for flag in FLAGS:
            if next(children(root, flag), None) is None:
                continue
            text = find_text(root, flag).lower()
            if text not in ("true", "false"):
                raise e.MalformedXML()
            values[flag] = text == "true"
        store.set_bucket_config(bucket["name"], CONFIG, values)
        return ctx.response(200)
    store.set_bucket_config(bucket["name"], CONFIG, None)
    return ctx.response(204)


async def policy_status(ctx: S3Context) -> Response:
    """GetBucketPolicyStatus: IsPublic when the bucket ACL (unless ignored) or the bucket
    policy is public."""
    bucket = ctx.bucket()
    ctx.authorize("s3:GetBucketPolicyStatus", bucket)
    flags = settings(ctx.walrus.store, bucket)
    public = policy_is_public(bucket.get("policy")) or (
        not flags["IgnorePublicAcls"] and acl_is_public(bucket.get("acl")))
    return ctx.response(200, doc("PolicyStatus", el("IsPublic", str(public).lower())))
