"""Eucalyptus' object quotas on writes: ``s3:quota-bucketobjectnumber`` (objects in one
bucket), ``s3:quota-bucketsize`` (MB in one bucket) and ``s3:quota-buckettotalsize``
(MB in all of the account's buckets), read from ``Limit`` statements on ``s3:PutObject``
in the account's and the user's own policies (reference eucalyptus.md §3.2).

Every stored version counts, delete markers do not; a write that replaces the null
version of a key frees what that version held.  The check runs before the body is read
(with the declared length), so an over-quota upload is refused before it is stored, and
again in the transaction that records the write (writers are serialized there), so that
concurrent writes cannot pass a quota together.  As Eucalyptus' object storage gateway
does, the refusal is ``AccessDenied``, with a message naming the quota.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from server.auth import quotas
from server.auth.policies_source import account_policy_group, is_cloud_admin, user_quota_group
from server.auth.policy import Request
from server.walrus import errors as e

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

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


async def check_write(ctx: S3Context, bucket: Row, key: str,
                      size: int) -> Callable[[Connection], None] | None:
    """Refuse a write of ``size`` bytes to ``bucket/key`` that would exceed a quota, before
    anything is stored; return the same check to run again inside the transaction that
    records the write (None when no quota applies)."""
    if ctx.principal.anonymous:
        return None
    limits = _limits(ctx)
    if not limits:
        return None
    store = ctx.walrus.store
    replaced = await asyncio.to_thread(_replaced, ctx, bucket, key)
    freed_objects, freed_bytes = (1, replaced) if replaced is not None else (0, 0)
    count, used = await asyncio.to_thread(store.usage, bucket["name"])
    total = 0
    if "s3:quota-buckettotalsize" in limits:
        _, total = await asyncio.to_thread(store.usage, None, bucket["account_id"])
    _refuse_over(ctx, bucket, limits, count - freed_objects + 1, used - freed_bytes + size,
                 total - freed_bytes + size)

    def guard(conn: Connection) -> None:
        # In the recording transaction: the replaced version is gone already.
        count, used = store.usage(bucket["name"], conn=conn)
        total = store.usage(None, bucket["account_id"], conn=conn)[1] \
            if "s3:quota-buckettotalsize" in limits else 0
        _refuse_over(ctx, bucket, limits, count + 1, used + size, total + size)

    return guard


def _refuse_over(ctx: S3Context, bucket: Row, limits: dict[str, quotas.Limit], objects: int,
                 in_bucket: int, in_account: int) -> None:
    """AccessDenied naming the first quota that the counts after the write would pass."""
    after = {"s3:quota-bucketobjectnumber": (objects, 1.0, ""),
             "s3:quota-bucketsize": (in_bucket, MB, " MB"),
             "s3:quota-buckettotalsize": (in_account, MB, " MB")}
    for name, limit in limits.items():
        value, unit, label = after[name]
        if value > limit.limit * unit:
            who = f"account {ctx.principal.account_name}" if limit.level == "account" \
                else f"user {ctx.principal.user_name}"
            raise e.AccessDenied(
                f"Quota exceeded: {name} is limited to {limit.limit:g}{label} for {who} "
                f"(bucket {bucket['name']})")
