"""Object Lock: bucket default retention, per-version retention (GOVERNANCE/COMPLIANCE)
and legal holds, enforced when a version is deleted or its retention is changed.

Only versions are protected (as in S3): deleting a key without a version ID still adds
a delete marker.  Retention dates are kept as Unix times in the version's row.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from server.protocol.http import Response
from server.walrus import errors as e
from server.walrus.context import Row, S3Context, loads
from server.walrus.xmlio import children, doc, el, find_text, parse_xml

MODES = ("GOVERNANCE", "COMPLIANCE")
DAY = 86400.0


def _iso(ts: float) -> str:
    t = _dt.datetime.fromtimestamp(ts, _dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _parse_date(value: str) -> float:
    try:
        when = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise e.InvalidArgument("The retain until date is not a valid date",
                                ArgumentName="x-amz-object-lock-retain-until-date",
                                ArgumentValue=value) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return when.timestamp()


def bucket_lock(bucket: Row) -> dict[str, Any] | None:
    """The bucket's Object Lock settings, if it has Object Lock enabled."""
    lock: dict[str, Any] | None = loads(bucket.get("object_lock"), None)
    return lock if lock and lock.get("enabled") else None


def _parse_config(body: bytes) -> dict[str, Any]:
    root = parse_xml(body)
    if find_text(root, "ObjectLockEnabled") != "Enabled":
        raise e.MalformedXML()
    rule = None
    for rule_el in children(root, "Rule"):
        for default in children(rule_el, "DefaultRetention"):
            mode = find_text(default, "Mode")
            days, years = find_text(default, "Days"), find_text(default, "Years")
            if mode not in MODES or bool(days) == bool(years):
                raise e.MalformedXML()
            try:
                amount = int(days or years)
            except ValueError:
                raise e.MalformedXML() from None
            if amount <= 0:
                raise e.InvalidRetentionPeriod()
            rule = {"mode": mode, "days": amount if days else None,
                    "years": amount if years else None}
    return {"enabled": True, "rule": rule}


async def object_lock_config(ctx: S3Context) -> Response:
    """Get/PutObjectLockConfiguration."""
    bucket = ctx.bucket()
    if ctx.principal.account_id != bucket["account_id"]:
        raise e.AccessDenied()
    lock = bucket_lock(bucket)
    if ctx.request.method == "GET":
        if lock is None:
            raise e.ObjectLockConfigurationNotFoundError(BucketName=bucket["name"])
        parts = [el("ObjectLockEnabled", "Enabled")]
        rule = lock.get("rule")
        if rule:
            period = el("Days", rule["days"]) if rule["days"] else el("Years", rule["years"])
            parts.append(f"<Rule><DefaultRetention>{el('Mode', rule['mode'])}{period}"
                         "</DefaultRetention></Rule>")
        return ctx.response(200, doc("ObjectLockConfiguration", *parts))
    if lock is None:
        raise e.InvalidBucketState("Object Lock configuration cannot be enabled on existing "
                                   "buckets", BucketName=bucket["name"])
    config = _parse_config(await ctx.body(64 * 1024))
    ctx.walrus.store.update_bucket(bucket["name"], object_lock=json.dumps(config))
    return ctx.response(200)


def lock_fields(ctx: S3Context, bucket: Row) -> dict[str, Any]:
    """``retention``/``legal_hold`` columns for a new version (headers or bucket default)."""
    h = ctx.headers
    mode = h.get("x-amz-object-lock-mode")
    until = h.get("x-amz-object-lock-retain-until-date")
    hold = h.get("x-amz-object-lock-legal-hold")
    lock = bucket_lock(bucket)
    if (mode or until or hold) and lock is None:
        raise e.InvalidRequest("Bucket is missing ObjectLockConfiguration")
    if bool(mode) != bool(until):
        raise e.InvalidArgument("x-amz-object-lock-retain-until-date and "
                                "x-amz-object-lock-mode must both be supplied",
                                ArgumentName="x-amz-object-lock-mode")
    out: dict[str, Any] = {"retention": None, "legal_hold": None}
    now = ctx.walrus.cloud.clock.now()
    if mode and until:
        if mode not in MODES:
            raise e.InvalidArgument("Unknown wormMode directive.",
                                    ArgumentName="x-amz-object-lock-mode", ArgumentValue=mode)
        stamp = _parse_date(until)
        if stamp <= now:
            raise e.InvalidArgument("The retain until date must be in the future!",
                                    ArgumentName="x-amz-object-lock-retain-until-date")
        out["retention"] = json.dumps({"mode": mode, "until": stamp})
    elif lock is not None and lock.get("rule"):
        rule = lock["rule"]
        span = (rule["days"] or 0) * DAY + (rule["years"] or 0) * 365 * DAY
        out["retention"] = json.dumps({"mode": rule["mode"], "until": now + span})
    if hold:
        if hold not in ("ON", "OFF"):
            raise e.InvalidArgument("Legal Hold must be either of 'ON' or 'OFF'",
                                    ArgumentName="x-amz-object-lock-legal-hold")
        out["legal_hold"] = hold == "ON"
    return out


def lock_headers(obj: Row) -> list[tuple[str, str]]:
    """The Object Lock headers of a version for GET/HEAD."""
    out = []
    retention = loads(obj.get("retention"), None)
    if retention:
        out += [("x-amz-object-lock-mode", retention["mode"]),
                ("x-amz-object-lock-retain-until-date", _iso(retention["until"]))]
    if obj.get("legal_hold") is not None:
        out.append(("x-amz-object-lock-legal-hold", "ON" if obj["legal_hold"] else "OFF"))
    return out


def _bypass(ctx: S3Context) -> bool:
    return ctx.headers.get("x-amz-bypass-governance-retention", "").lower() == "true"


def check_version_delete(ctx: S3Context, obj: Row) -> None:
    """Refuse deleting a version under legal hold or unexpired retention."""
    if obj.get("legal_hold"):
        raise e.AccessDenied("Access Denied because object protected by object lock.")
    retention = loads(obj.get("retention"), None)
    if retention and retention["until"] > ctx.walrus.cloud.clock.now():
        if retention["mode"] == "COMPLIANCE" or not _bypass(ctx):
            raise e.AccessDenied("Access Denied because object protected by object lock.")


def _version(ctx: S3Context) -> tuple[Row, Row]:
    bucket = ctx.bucket()
    assert ctx.key is not None
    if bucket_lock(bucket) is None:
        raise e.InvalidRequest("Bucket is missing Object Lock Configuration")
    obj = ctx.walrus.store.head(bucket["name"], ctx.key, ctx.query.get("versionId") or None)
    return bucket, obj


async def retention(ctx: S3Context) -> Response:
    """Get/PutObjectRetention."""
    bucket, obj = _version(ctx)
    current = loads(obj.get("retention"), None)
    if ctx.request.method == "GET":
        ctx.authorize("s3:GetObjectRetention", bucket, obj)
        if not current:
            raise e.NoSuchObjectLockConfiguration()
        return ctx.response(200, doc("Retention", el("Mode", current["mode"]),
                                     el("RetainUntilDate", _iso(current["until"]))))
    ctx.authorize("s3:PutObjectRetention", bucket, obj)
    root = parse_xml(await ctx.body(64 * 1024))
    mode, until = find_text(root, "Mode"), find_text(root, "RetainUntilDate")
    if mode not in MODES or not until:
        raise e.MalformedXML()
    stamp = _parse_date(until)
    if stamp <= ctx.walrus.cloud.clock.now():
        raise e.InvalidArgument("The retain until date must be in the future!",
                                ArgumentName="RetainUntilDate")
    if current and current["until"] > ctx.walrus.cloud.clock.now():
        # Any mode change counts (GOVERNANCE -> COMPLIANCE too): only a GOVERNANCE
        # retention can be changed, and only with the bypass header.
        weaker = stamp < current["until"] or mode != current["mode"]
        if weaker and (current["mode"] == "COMPLIANCE" or not _bypass(ctx)):
            raise e.AccessDenied("Access Denied because object protected by object lock.")
    ctx.walrus.store.update_object(obj["id"], retention=json.dumps({"mode": mode,
                                                                     "until": stamp}))
    return ctx.response(200)


async def legal_hold(ctx: S3Context) -> Response:
    """Get/PutObjectLegalHold."""
    bucket, obj = _version(ctx)
    if ctx.request.method == "GET":
        ctx.authorize("s3:GetObjectLegalHold", bucket, obj)
        if obj.get("legal_hold") is None:
            raise e.NoSuchObjectLockConfiguration()
        return ctx.response(200, doc("LegalHold",
                                     el("Status", "ON" if obj["legal_hold"] else "OFF")))
    ctx.authorize("s3:PutObjectLegalHold", bucket, obj)
    status = find_text(parse_xml(await ctx.body(64 * 1024)), "Status")
    if status not in ("ON", "OFF"):
        raise e.MalformedXML()
    ctx.walrus.store.update_object(obj["id"], legal_hold=status == "ON")
    return ctx.response(200)
