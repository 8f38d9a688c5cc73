"""ListObjects (v1), ListObjectsV2 and ListObjectVersions, paged in SQL by key.

Each page is built from ordered ``key > cursor LIMIT n`` queries; a common prefix is
skipped in one jump (to the smallest key after every key under it), so a listing with a
delimiter never walks the keys it folds away.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from server.protocol.http import Response
from server.protocol.xml import escape
from server.walrus import acl as acls
from server.walrus import errors as e
from server.walrus.context import S3Context
from server.walrus.store import next_prefix
from server.walrus.xmlio import doc, el, timestamp

BATCH = 1001  # a full page of 1000 plus one row that says whether it is truncated


def _max_keys(ctx: S3Context, name: str = "max-keys") -> int:
    raw = ctx.query.get(name, "1000")
    try:
        value = int(raw)
    except ValueError:
        raise e.InvalidArgument("Provided max-keys not an integer or within integer range",
                                ArgumentName=name, ArgumentValue=raw) from None
    if value < 0:
        raise e.InvalidArgument("Argument max-keys must be an integer between 0 and "
                                "2147483647", ArgumentName=name, ArgumentValue=raw)
    return min(value, 1000)


def _encoder(ctx: S3Context) -> Any:
    enc = ctx.query.get("encoding-type")
    if enc is None:
        return lambda s: s
    if enc.lower() != "url":
        raise e.InvalidArgument("Invalid Encoding Method specified in Request",
                                ArgumentName="encoding-type", ArgumentValue=enc)
    return lambda s: quote(s, safe="/")


def _issuable(version_id: str) -> bool:
    """Whether ``version_id`` has the form of a version id Walrus hands out."""
    return version_id == "null" or (
        len(version_id) == 32 and all(c in "0123456789abcdef" for c in version_id))


def _start(prefix: str, delimiter: str, marker: str) -> tuple[str, bool]:
    """Where to resume after ``marker`` (a key or a common prefix)."""
    if delimiter and marker.startswith(prefix) and marker.endswith(delimiter) and \
            delimiter in marker[len(prefix):]:
        upper = next_prefix(marker)
        if upper is not None:
            return upper, True
    if marker < prefix:
        return prefix, True
    return marker, False


def walk(ctx: S3Context, bucket: str, prefix: str, delimiter: str, marker: str,
         max_keys: int) -> tuple[list[dict[str, Any]], list[str], bool, str]:
    """``(objects, common prefixes, truncated, last item)`` of one page."""
    store = ctx.walrus.store
    contents: list[dict[str, Any]] = []
    prefixes: list[str] = []
    last = ""
    if max_keys == 0:
        return contents, prefixes, False, last
    cursor, inclusive = _start(prefix, delimiter, marker)
    while True:
        # One row more than the page needs tells whether it is truncated.
        want = min(BATCH, max_keys - len(contents) - len(prefixes) + 1)
        rows = store.scan_latest(bucket, prefix, cursor, inclusive, want)
        if not rows:
            return contents, prefixes, False, last
        jumped = False
        for row in rows:
            key = row["key"]
            if delimiter:
                idx = key.find(delimiter, len(prefix))
                if idx >= 0:
                    common = key[:idx + len(delimiter)]
                    if len(contents) + len(prefixes) >= max_keys:
                        return contents, prefixes, True, last
                    prefixes.append(common)
                    last = common
                    upper = next_prefix(common)
                    if upper is None:
                        return contents, prefixes, False, last
                    cursor, inclusive, jumped = upper, True, True
                    break
            if len(contents) + len(prefixes) >= max_keys:
                return contents, prefixes, True, last
            contents.append(row)
            last = key
            cursor, inclusive = key, False
        if not jumped and len(rows) < want:
            return contents, prefixes, False, last


def _owner(ctx: S3Context, account_id: str) -> str:
    return acls.owner_xml(account_id, ctx.walrus.accounts)


def _contents(ctx: S3Context, rows: list[dict[str, Any]], enc: Any, owner: bool) -> list[str]:
    # The hot loop of a listing: one f-string per key; only the key needs escaping
    # (ETags are hex, sizes numbers, storage classes and owners come from us).
    owners: dict[str, str] = {}
    out = []
    for r in rows:
        who = ""
        if owner:
            who = owners.get(r["owner_id"]) or owners.setdefault(
                r["owner_id"], _owner(ctx, r["owner_id"]))
        out.append(f"<Contents><Key>{escape(enc(r['key']))}</Key><LastModified>"
                   f"{timestamp(r['last_modified'])}</LastModified><ETag>&quot;{r['etag']}"
                   f"&quot;</ETag><Size>{r['size']}</Size>{who}<StorageClass>"
                   f"{r['storage_class']}</StorageClass></Contents>")
    return out


def _prefixes(prefixes: list[str], enc: Any) -> list[str]:
    return [f"<CommonPrefixes>{el('Prefix', enc(p))}</CommonPrefixes>" for p in prefixes]


async def list_objects(ctx: S3Context) -> Response:
    """ListObjects (v1) or ListObjectsV2 (``list-type=2``)."""
    bucket = ctx.bucket()
    ctx.authorize("s3:ListBucket", bucket)
    q = ctx.query
    v2 = q.get("list-type") == "2"
    enc = _encoder(ctx)
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    max_keys = _max_keys(ctx)
    # ListObjects v1 sends Prefix as given even with encoding-type=url (S3 does; SDKs
    # decode it only in v2 answers); v2 encodes it.
    head = [el("Name", bucket["name"]), el("Prefix", enc(prefix) if v2 else prefix)]
    if v2:
        token = q.get("continuation-token")
        start_after = q.get("start-after", "")
        marker = start_after
        if token is not None:
            try:
                marker = base64.urlsafe_b64decode(token.encode()).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise e.InvalidArgument("The continuation token provided is incorrect",
                                        ArgumentName="continuation-token") from None
            head.append(el("ContinuationToken", token))
        if start_after:
            head.append(el("StartAfter", enc(start_after)))
    else:
        marker = q.get("marker", "")
        head.append(el("Marker", enc(marker)))
    rows, prefixes, truncated, last = walk(ctx, bucket["name"], prefix, delimiter, marker,
                                           max_keys)
    head.append(el("MaxKeys", max_keys if "max-keys" not in q else q["max-keys"]))
    if delimiter:
        head.append(el("Delimiter", enc(delimiter)))
    if "encoding-type" in q:
        head.append(el("EncodingType", "url"))
    head.append(el("IsTruncated", "true" if truncated else "false"))
    if v2:
        head.append(el("KeyCount", len(rows) + len(prefixes)))
        if truncated:
            head.append(el("NextContinuationToken",
                           base64.urlsafe_b64encode(last.encode()).decode()))
        owner = q.get("fetch-owner", "").lower() == "true"
        root = "ListBucketResult"
    else:
        if truncated and delimiter:
            head.append(el("NextMarker", enc(last)))
        owner = True
        root = "ListBucketResult"
    body = doc(root, *head, *_contents(ctx, rows, enc, owner), *_prefixes(prefixes, enc))
    return ctx.response(200, body)


async def list_versions(ctx: S3Context) -> Response:
    """ListObjectVersions: versions and delete markers, newest first per key."""
    bucket = ctx.bucket()
    ctx.authorize("s3:ListBucketVersions", bucket)
    q = ctx.query
    enc = _encoder(ctx)
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    max_keys = _max_keys(ctx)
    key_marker = q.get("key-marker", "")
    vid_marker = q.get("version-id-marker", "")
    if vid_marker and not key_marker:
        raise e.InvalidArgument("A version-id marker cannot be specified without a key "
                                "marker.", ArgumentName="version-id-marker")
    store = ctx.walrus.store
    after_id = None
    if vid_marker:
        after_id = store.version_row_id(bucket["name"], key_marker, vid_marker)
        if after_id is None and not _issuable(vid_marker):
            raise e.InvalidArgument("Invalid version id specified",
                                    ArgumentName="version-id-marker", ArgumentValue=vid_marker)
        # A marker whose version is gone (deleted since the previous page, as every
        # list-then-delete cleanup does) is accepted, as S3 does: the listing resumes
        # with the key's remaining versions.  Those newer than the marker were on the
        # earlier pages and are normally the ones just deleted, so nothing is skipped; at
        # worst a version someone else kept is listed twice.
        cursor, inclusive = key_marker, after_id is None
    else:
        cursor, inclusive = _start(prefix, delimiter, key_marker)
    items: list[str] = []
    prefixes: list[str] = []
    count = 0
    truncated = False
    next_key = next_vid = ""
    done = max_keys == 0
    while not done:
        rows = store.scan_versions(bucket["name"], prefix, cursor, inclusive, after_id, BATCH)
        if not rows:
            break
        jumped = False
        for r in rows:
            key = r["key"]
            if delimiter:
                idx = key.find(delimiter, len(prefix))
                if idx >= 0:
                    common = key[:idx + len(delimiter)]
                    if count >= max_keys:
                        truncated, done = True, True
                        break
                    prefixes.append(common)
                    count += 1
                    next_key, next_vid = common, ""
                    upper = next_prefix(common)
                    if upper is None:
                        done = True
                        break
                    cursor, inclusive, after_id, jumped = upper, True, None, True
                    break
            if count >= max_keys:
                truncated, done = True, True
                break
            count += 1
            next_key, next_vid = key, r["version_id"]
            body = (el("Key", enc(key)) + el("VersionId", r["version_id"])
                    + el("IsLatest", "true" if r["is_latest"] else "false")
                    + el("LastModified", timestamp(r["last_modified"])))
            if r["delete_marker"]:
                items.append(f"<DeleteMarker>{body}{_owner(ctx, r['owner_id'])}</DeleteMarker>")
            else:
                items.append(f"<Version>{body}{el('ETag', chr(34) + r['etag'] + chr(34))}"
                             f"{el('Size', r['size'])}{_owner(ctx, r['owner_id'])}"
                             f"{el('StorageClass', r['storage_class'])}</Version>")
            cursor, inclusive, after_id = key, True, r["id"]
        if not jumped and not done and len(rows) < BATCH:
            break
    head = [el("Name", bucket["name"]), el("Prefix", enc(prefix)),
            el("KeyMarker", enc(key_marker)), el("VersionIdMarker", vid_marker),
            el("MaxKeys", max_keys)]
    if delimiter:
        head.append(el("Delimiter", enc(delimiter)))
    if "encoding-type" in q:
        head.append(el("EncodingType", "url"))
    head.append(el("IsTruncated", "true" if truncated else "false"))
    if truncated:
        head.append(el("NextKeyMarker", enc(next_key)))
        if next_vid:
            head.append(el("NextVersionIdMarker", next_vid))
    return ctx.response(200, doc("ListVersionsResult", *head, *items,
                                 *_prefixes(prefixes, enc)))
