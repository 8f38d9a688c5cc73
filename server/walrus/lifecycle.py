"""Bucket lifecycle: Get/Put/Delete and the periodic pass that applies the rules.

Supported actions (Eucalyptus' OSG had expiration only): Expiration (Days, Date,
ExpiredObjectDeleteMarker), NoncurrentVersionExpiration (NoncurrentDays) and
AbortIncompleteMultipartUpload (DaysAfterInitiation).  Transitions are accepted and
ignored: there is one storage class.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import logging
import math
import os
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from server.protocol.http import Response
from server.walrus import errors as e
from server.walrus.context import S3Context, loads
from server.walrus.xmlio import children, doc, el, find_text, iso_timestamp, parse_xml

if TYPE_CHECKING:
    from server.walrus.store import WalrusStore

log = logging.getLogger(__name__)
DAY = 86400.0


def _positive(text: str, what: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise e.InvalidArgument(f"'{what}' must be a positive integer")
    return int(text)


def _midnight_date(text: str, what: str) -> str:
    """Validate a rule's ``Date``: ISO 8601, and midnight UTC as S3 requires."""
    try:
        when = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise e.InvalidArgument(f"'{what}' must be a valid ISO 8601 date") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    when = when.astimezone(_dt.UTC)
    if (when.hour, when.minute, when.second, when.microsecond) != (0, 0, 0, 0):
        raise e.InvalidArgument(f"'{what}' must be at midnight GMT")
    return text.strip()


def _size(text: str, what: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise e.InvalidArgument(f"'{what}' must be a non-negative integer")
    return int(text)


def _tag(element: Any) -> list[str]:
    key = find_text(element, "Key")
    if not key:
        raise e.MalformedXML()
    return [key, find_text(element, "Value")]


def _parse_filter(rule: Any, r: dict[str, Any]) -> None:
    """Fill ``prefix``/``tags``/size bounds of a rule from its ``Filter`` (if any)."""
    for flt in children(rule, "Filter"):
        r["filter"] = True
        r["prefix"] = find_text(flt, "Prefix") or r["prefix"]
        r["tags"] += [_tag(t) for t in children(flt, "Tag")]
        r["size_gt"] = _size(find_text(flt, "ObjectSizeGreaterThan"), "ObjectSizeGreaterThan")
        r["size_lt"] = _size(find_text(flt, "ObjectSizeLessThan"), "ObjectSizeLessThan")
        for conj in children(flt, "And"):
            r["prefix"] = find_text(conj, "Prefix") or r["prefix"]
            r["tags"] += [_tag(t) for t in children(conj, "Tag")]
            for name, col in (("ObjectSizeGreaterThan", "size_gt"),
                              ("ObjectSizeLessThan", "size_lt")):
                value = _size(find_text(conj, name), name)
                if value is not None:
                    r[col] = value
    keys = [k for k, _ in r["tags"]]
    if len(set(keys)) != len(keys):
        raise e.InvalidRequest("Duplicate Tag Keys are not allowed.")


def parse_lifecycle(body: bytes) -> list[dict[str, Any]]:
    """Parse a ``LifecycleConfiguration`` document into rules.

    A rule without an ``ID`` gets a generated one (S3 does the same, so the rule can be
    named in ``x-amz-expiration`` headers).
    """
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
        r: dict[str, Any] = {"id": rid, "status": status, "prefix": find_text(rule, "Prefix"),
                             "filter": False, "tags": [], "size_gt": None, "size_lt": None,
                             "days": None, "date": None, "delete_markers": False,
                             "noncurrent_days": None, "abort_days": None}
        _parse_filter(rule, r)
        for exp in children(rule, "Expiration"):
            if find_text(exp, "Days"):
                r["days"] = _positive(find_text(exp, "Days"), "Days")
            if find_text(exp, "Date"):
                r["date"] = _midnight_date(find_text(exp, "Date"), "Date")
            r["delete_markers"] = find_text(exp, "ExpiredObjectDeleteMarker") == "true"
        for nc in children(rule, "NoncurrentVersionExpiration"):
            r["noncurrent_days"] = _positive(find_text(nc, "NoncurrentDays"), "NoncurrentDays")
        for ab in children(rule, "AbortIncompleteMultipartUpload"):
            r["abort_days"] = _positive(find_text(ab, "DaysAfterInitiation"),
                                        "DaysAfterInitiation")
        transitions = list(children(rule, "Transition"))
        for tr in transitions:  # accepted (one storage class here) but validated as S3 does
            days, date = find_text(tr, "Days"), find_text(tr, "Date")
            if bool(days) == bool(date) or not find_text(tr, "StorageClass"):
                raise e.MalformedXML()
            if date:
                _midnight_date(date, "Date")
            elif not days.isdigit():
                raise e.InvalidArgument("'Days' for Transition action must be a non-negative "
                                        "integer")
        if not any((r["days"], r["date"], r["delete_markers"], r["noncurrent_days"],
                    r["abort_days"], transitions)):
            raise e.MalformedXML()
        rules.append(r)
    if not rules:
        raise e.MalformedXML()
    for r in rules:
        if not r["id"]:
            r["id"] = _new_id(ids)
            ids.add(r["id"])
    return rules


def _new_id(taken: set[str]) -> str:
    while True:
        rid = base64.b32encode(os.urandom(15)).decode()
        if rid not in taken:
            return rid


def _render_filter(r: dict[str, Any]) -> str:
    tags = [f"<Tag>{el('Key', k)}{el('Value', v)}</Tag>" for k, v in r.get("tags") or []]
    sizes = [el(name, r[col]) for name, col in (("ObjectSizeGreaterThan", "size_gt"),
                                                  ("ObjectSizeLessThan", "size_lt"))
             if r.get(col) is not None]
    conditions = len(tags) + len(sizes) + (1 if r["prefix"] else 0)
    if conditions > 1:
        prefix = el("Prefix", r["prefix"]) if r["prefix"] else ""
        return f"<Filter><And>{prefix}{''.join(tags)}{''.join(sizes)}</And></Filter>"
    if tags or sizes:
        return f"<Filter>{''.join(tags)}{''.join(sizes)}</Filter>"
    return f"<Filter>{el('Prefix', r['prefix'])}</Filter>"


def render_lifecycle(rules: list[dict[str, Any]]) -> bytes:
    """A ``LifecycleConfiguration`` document."""
    out = []
    for r in rules:
        parts = [el("ID", r["id"])] if r["id"] else []
        if r["filter"]:
            parts.append(_render_filter(r))
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


def applies(rule: dict[str, Any], key: str, tagging: Any, size: int | None) -> bool:
    """True when a rule's filter (prefix, every tag, size bounds) selects an object."""
    if not key.startswith(rule["prefix"]):
        return False
    wanted = rule.get("tags") or []
    if wanted:
        have = dict(tagging if isinstance(tagging, list) else loads(tagging, []))
        if any(have.get(k) != v for k, v in wanted):
            return False
    if size is not None:
        if rule.get("size_gt") is not None and not size > rule["size_gt"]:
            return False
        if rule.get("size_lt") is not None and not size < rule["size_lt"]:
            return False
    return True




def expiry_time(rule: dict[str, Any], last_modified: float, day: float) -> float | None:
    """When a rule's Expiration removes a current version written at ``last_modified``.

    As S3: creation time plus the rule's days, rounded up to the next day boundary
    (midnight UTC with 86400-second days), or the rule's date.
    """
    if rule["days"] is not None:
        return float(math.ceil((last_modified + rule["days"] * day) / day) * day)
    if rule["date"]:
        return iso_timestamp(rule["date"])
    return None


def expiration_header(bucket: dict[str, Any], obj: dict[str, Any],
                      day: float = DAY) -> list[tuple[str, str]]:
    """``x-amz-expiration`` for a current version an enabled Expiration rule applies to."""
    rules = loads(bucket.get("lifecycle"), None)
    if not rules or obj.get("delete_marker"):
        return []
    best: tuple[float, str] | None = None
    for rule in rules:
        if rule["status"] != "Enabled" or not applies(rule, obj["key"], obj.get("tagging"),
                                                      obj.get("size")):
            continue
        when = expiry_time(rule, obj["last_modified"], day)
        if when is not None and (best is None or when < best[0]):
            best = (when, rule["id"])
    if best is None:
        return []
    stamp = formatdate(best[0], usegmt=True)
    rule_id = best[1].replace("\\", "\\\\").replace('"', '\\"')
    return [("x-amz-expiration", f'expiry-date="{stamp}", rule-id="{rule_id}"')]


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
    """Current versions last modified at or before this time have expired (see
    :func:`expiry_time`; days are rounded up to the next day boundary)."""
    if rule["days"] is not None:
        return math.floor(now / day) * day - float(rule["days"]) * day
    if rule["date"]:
        when = iso_timestamp(rule["date"])
        return now + 1 if when is not None and now >= when else None
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
            # Noncurrent days count from when the next newer version appeared, rounded
            # up to a day boundary as for current versions.
            if newer is not None and newer[0] == key and rule.get("noncurrent_days") and \
                    math.ceil((newer[1] + rule["noncurrent_days"] * day) / day) * day <= now \
                    and applies(rule, key, row.get("tagging"), row["size"]):
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
    """Apply every enabled lifecycle rule once; the number of objects/uploads removed.

    Rules act at the periodic passes only (as on S3, asynchronously): a new configuration
    does not remove anything while the request that set it is answered.
    """
    count = 0
    for bucket in store.lifecycle_buckets():
        for rule in loads(bucket["lifecycle"], []):
            if rule["status"] != "Enabled":
                continue
            before = _expiry_cutoff(rule, now, day_seconds)
            if before is not None:
                after = ""
                while True:
                    rows = store.expired(bucket["name"], rule["prefix"], before, after=after)
                    for obj in rows:
                        if applies(rule, obj["key"], obj["tagging"], obj["size"]):
                            store.delete(bucket, obj["key"], None)
                            count += 1
                    if len(rows) < 1000:
                        break
                    after = rows[-1]["key"]
            if bucket["versioning"] and (rule.get("noncurrent_days")
                                         or rule.get("delete_markers")):
                count += _noncurrent(store, bucket, rule, now, day_seconds)
            if rule.get("abort_days"):
                cutoff = math.floor(now / day_seconds) * day_seconds \
                    - rule["abort_days"] * day_seconds
                for upload in store.list_uploads(bucket["name"], rule["prefix"]):
                    if upload["initiated"] < cutoff:
                        store.abort_upload(upload["upload_id"])
                        count += 1
    if count:
        log.info("lifecycle removed %d objects, versions or uploads", count)
    return count
