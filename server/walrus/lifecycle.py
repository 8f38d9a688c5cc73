"""Bucket lifecycle: Get/Put/Delete and the periodic pass that applies the rules.

Supported actions (Eucalyptus' OSG had expiration only): Expiration (Days, Date,
ExpiredObjectDeleteMarker), NoncurrentVersionExpiration (NoncurrentDays) and
AbortIncompleteMultipartUpload (DaysAfterInitiation).  Transitions are accepted and
ignored: there is one storage class.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from typing import TYPE_CHECKING, Any

from server.protocol.http import Response
from server.walrus import errors as e
from server.walrus.context import S3Context, loads
from server.walrus.xmlio import children, doc, el, find_text, parse_xml

if TYPE_CHECKING:
    from server.walrus.store import WalrusStore

log = logging.getLogger(__name__)
DAY = 86400.0


def _positive(text: str, what: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise e.InvalidArgument(f"'{what}' must be a positive integer")
    return int(text)


def parse_lifecycle(body: bytes) -> list[dict[str, Any]]:
    """Parse a ``LifecycleConfiguration`` document into rules."""
    root = parse_xml(body)
    rules = []
    ids = set()
    for rule in children(root, "Rule"):
        status = find_text(rule, "Status")
        if status not in ("Enabled", "Disabled"):
            raise e.MalformedXML()
        rid = find_text(rule, "ID")
        if len(rid) > 255:
            raise e.InvalidArgument("ID length should not exceed allowed limit of 255")
        if rid and rid in ids:
            raise e.InvalidArgument("Rule ID must be unique. Found same ID for more than one "
                                    "rule")
        ids.add(rid)
        prefix = find_text(rule, "Prefix")
        has_filter = False
        for flt in children(rule, "Filter"):
            has_filter = True
            prefix = find_text(flt, "Prefix") or prefix
            for conj in children(flt, "And"):
                prefix = find_text(conj, "Prefix") or prefix
        r: dict[str, Any] = {"id": rid, "status": status, "prefix": prefix,
                             "filter": has_filter, "days": None, "date": None,
                             "delete_markers": False, "noncurrent_days": None,
                             "abort_days": None}
        for exp in children(rule, "Expiration"):
            if find_text(exp, "Days"):
                r["days"] = _positive(find_text(exp, "Days"), "Days")
            r["date"] = find_text(exp, "Date") or None
            r["delete_markers"] = find_text(exp, "ExpiredObjectDeleteMarker") == "true"
        for nc in children(rule, "NoncurrentVersionExpiration"):
            r["noncurrent_days"] = _positive(find_text(nc, "NoncurrentDays"), "NoncurrentDays")
        for ab in children(rule, "AbortIncompleteMultipartUpload"):
            r["abort_days"] = _positive(find_text(ab, "DaysAfterInitiation"),
                                        "DaysAfterInitiation")
        if not any((r["days"], r["date"], r["delete_markers"], r["noncurrent_days"],
                    r["abort_days"], next(children(rule, "Transition"), None) is not None)):
            raise e.MalformedXML()
        rules.append(r)
    if not rules:
        raise e.MalformedXML()
    return rules


def render_lifecycle(rules: list[dict[str, Any]]) -> bytes:
    """A ``LifecycleConfiguration`` document."""
    out = []
    for r in rules:
        parts = [el("ID", r["id"])] if r["id"] else []
        if r["filter"]:
            parts.append(f"<Filter>{el('Prefix', r['prefix'])}</Filter>")
        else:
            parts.append(el("Prefix", r["prefix"]))
        parts.append(el("Status", r["status"]))
        if r["days"] is not None:
            parts.append(f"<Expiration>{el('Days', r['days'])}</Expiration>")
        elif r["date"]:
            parts.append(f"<Expiration>{el('Date', r['date'])}</Expiration>")
        elif r.get("delete_markers"):
            parts.append("<Expiration><ExpiredObjectDeleteMarker>true"
                         "</ExpiredObjectDeleteMarker></Expiration>")
        if r.get("noncurrent_days"):
            parts.append("<NoncurrentVersionExpiration>"
                         f"{el('NoncurrentDays', r['noncurrent_days'])}"
                         "</NoncurrentVersionExpiration>")
        if r.get("abort_days"):
            parts.append("<AbortIncompleteMultipartUpload>"
                         f"{el('DaysAfterInitiation', r['abort_days'])}"
                         "</AbortIncompleteMultipartUpload>")
        out.append(f"<Rule>{''.join(parts)}</Rule>")
    return doc("LifecycleConfiguration", *out)


async def bucket_lifecycle(ctx: S3Context) -> Response:
    """Get/Put/DeleteBucketLifecycle."""
    bucket = ctx.bucket()
    method = ctx.request.method
    ctx.authorize("s3:GetLifecycleConfiguration" if method == "GET"
                  else "s3:PutLifecycleConfiguration", bucket)
    if method == "GET":
        rules = loads(bucket["lifecycle"], None)
        if not rules:
            raise e.NoSuchLifecycleConfiguration(BucketName=bucket["name"])
        return ctx.response(200, render_lifecycle(rules))
    if method == "PUT":
        rules = parse_lifecycle(await ctx.body(64 * 1024))
        ctx.walrus.store.update_bucket(bucket["name"], lifecycle=json.dumps(rules))
        return ctx.response(200)
    ctx.walrus.store.update_bucket(bucket["name"], lifecycle=None)
    return ctx.response(204)


def _expiry_cutoff(rule: dict[str, Any], now: float, day: float) -> float | None:
    if rule["days"] is not None:
        return now - float(rule["days"]) * day
    if rule["date"]:
        try:
            when = _dt.datetime.fromisoformat(rule["date"].replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.UTC)
        return now + 1 if now >= when.timestamp() else None
    return None


def _noncurrent(store: WalrusStore, bucket: dict[str, Any], rule: dict[str, Any],
                now: float, day: float) -> int:
    """Delete versions that have been noncurrent for the rule's days, and (if asked)
    delete markers that no longer hide any version."""
    count = 0
    cursor, inclusive, after_id = rule["prefix"], True, None
    newer: tuple[str, float] | None = None  # (key, time the next newer version appeared)
    versions_of_key: dict[str, int] = {}
    markers: list[dict[str, Any]] = []
    while True:
        rows = store.scan_versions(bucket["name"], rule["prefix"], cursor, inclusive, after_id,
                                   1000)
        for row in rows:
            key = row["key"]
            versions_of_key[key] = versions_of_key.get(key, 0) + 1
            if newer is not None and newer[0] == key and rule.get("noncurrent_days") and \
                    newer[1] + rule["noncurrent_days"] * day < now:
                store.delete(bucket, key, row["version_id"])
                versions_of_key[key] -= 1
                count += 1
            elif row["is_latest"] and row["delete_marker"]:
                markers.append(row)
            newer = (key, row["last_modified"])
            cursor, inclusive, after_id = key, True, row["id"]
        if len(rows) < 1000:
            break
    if rule.get("delete_markers"):
        for marker in markers:
            if versions_of_key.get(marker["key"]) == 1:  # the marker is all that is left
                store.delete(bucket, marker["key"], marker["version_id"])
                count += 1
    return count


def expire(store: WalrusStore, now: float, day_seconds: float = DAY) -> int:
    """Apply every enabled lifecycle rule once; the number of objects/uploads removed."""
    count = 0
    for bucket in store.lifecycle_buckets():
        for rule in loads(bucket["lifecycle"], []):
            if rule["status"] != "Enabled":
                continue
            before = _expiry_cutoff(rule, now, day_seconds)
            if before is not None:
                for obj in store.expired(bucket["name"], rule["prefix"], before):
                    store.delete(bucket, obj["key"], None)
                    count += 1
            if bucket["versioning"] and (rule.get("noncurrent_days")
                                         or rule.get("delete_markers")):
                count += _noncurrent(store, bucket, rule, now, day_seconds)
            if rule.get("abort_days"):
                cutoff = now - rule["abort_days"] * day_seconds
                for upload in store.list_uploads(bucket["name"], rule["prefix"]):
                    if upload["initiated"] < cutoff:
                        store.abort_upload(upload["upload_id"])
                        count += 1
    if count:
        log.info("lifecycle removed %d objects, versions or uploads", count)
    return count
