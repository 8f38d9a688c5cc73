"""Eucalyptus' object quotas on writes: ``s3:quota-bucketobjectnumber`` (objects in one
bucket), ``s3:quota-bucketsize`` (MB in one bucket) and ``s3:quota-buckettotalsize``
(MB in all of the account's buckets), read from ``Limit`` statements on ``s3:PutObject``
in the account's and the user's own policies (reference eucalyptus.md §3.2).

Every stored version counts, delete markers do not; a write that replaces the null
version of a key frees what that version held.  The check runs before the body is read
(with the declared length), so an over-quota upload is refused before it is stored; as
Eucalyptus' object storage gateway does, the refusal is ``AccessDenied``, with a message
naming the quota.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from server.auth import quotas
from server.auth.policies_source import account_policy_group, is_cloud_admin, user_quota_group
from server.auth.policy import Request
from server.walrus import errors as e

if TYPE_CHECKING:
    from server.walrus.context import S3Context

Row = dict[str, Any]

#: The quota keys counted here and the IAM action their Limit statements name.
KEYS = ("s3:quota-bucketobjectnumber", "s3:quota-bucketsize", "s3:quota-buckettotalsize")
ACTION = "s3:PutObject"
MB = 1024 * 1024


def _limits(ctx: S3Context) -> dict[str, quotas.Limit]:
    """The tightest Limit on each key for this caller (empty: no quota applies)."""
    identity = ctx.walrus.cloud.identity
    caller = ctx.principal
    if is_cloud_admin(caller):
        return {}
    groups = [(account_policy_group(identity, caller.account_id), "account"),
              (user_quota_group(identity, caller), "user")]
    req = Request(ACTION, "*")
    found: dict[str, quotas.Limit] = {}
    for grp, level in groups:
        if grp is None or not grp.limits:
            continue
        for limit in quotas.limits_for(grp, req, level):
            if limit.key in KEYS and (limit.key not in found or
                                      limit.limit < found[limit.key].limit):
                found[limit.key] = limit
    return found


def _replaced(ctx: S3Context, bucket: Row, key: str) -> int | None:
    """The size of the version this write replaces (None: it adds a version)."""
    if bucket["versioning"] == "Enabled":
        return None
    try:
        current = ctx.walrus.store.head(bucket["name"], key)
    except (e.NoSuchKey, e.NoSuchVersion, e.MethodNotAllowed):
        return None
    return int(current["size"]) if current["version_id"] == "null" else None


async def check_write(ctx: S3Context, bucket: Row, key: str, size: int) -> None:
    """Refuse a write of ``size`` bytes to ``bucket/key`` that would exceed a quota."""
    if ctx.principal.anonymous:
        return
    limits = _limits(ctx)
    if not limits:
        return
    store = ctx.walrus.store
    replaced = await asyncio.to_thread(_replaced, ctx, bucket, key)
    freed_objects, freed_bytes = (1, replaced) if replaced is not None else (0, 0)
    count, used = await asyncio.to_thread(store.usage, bucket["name"])
    wanted = {"s3:quota-bucketobjectnumber": (count - freed_objects + 1, 1.0, ""),
              "s3:quota-bucketsize": (used - freed_bytes + size, MB, " MB")}
    if "s3:quota-buckettotalsize" in limits:
        _, total = await asyncio.to_thread(store.usage, None, bucket["account_id"])
        wanted["s3:quota-buckettotalsize"] = (total - freed_bytes + size, MB, " MB")
    for name, limit in limits.items():
        after, unit, label = wanted[name]
        if after > limit.limit * unit:
            who = f"account {ctx.principal.account_name}" if limit.level == "account" \
                else f"user {ctx.principal.user_name}"
            raise e.AccessDenied(
                f"Quota exceeded: {name} is limited to {limit.limit:g}{label} for {who} "
                f"(bucket {bucket['name']})")
