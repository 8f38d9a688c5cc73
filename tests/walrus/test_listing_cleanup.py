"""Listing while deleting: cleanup tools list a page, delete it, then ask for the next page
with markers naming what they just deleted; S3 accepts such markers and so does Walrus."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_clients import aws
from test_objects import code

KEYS = [f"k/{i:03d}" for i in range(23)]
PAGE = 7  # several pages, with page boundaries inside one key's versions


def _fill(s3: Any, bucket: str, versioning: str) -> int:
    """Objects (two versions each when versioning is on, some delete markers); the number
    of versions and markers the bucket then holds."""
    def put(key: str) -> None:
        s3.put_object(Bucket=bucket, Key=key, Body=b"first")
        s3.put_object(Bucket=bucket, Key=key, Body=b"second")

    if versioning:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, KEYS))
    if versioning == "Suspended":
        s3.put_bucket_versioning(Bucket=bucket,
                                 VersioningConfiguration={"Status": "Suspended"})
        # Null versions on top of the enabled-era versions, and a null delete marker.
        for key in KEYS[::3]:
            s3.put_object(Bucket=bucket, Key=key, Body=b"null")
        s3.delete_object(Bucket=bucket, Key=KEYS[1])
    elif versioning == "Enabled":
        for key in KEYS[::4]:
            s3.delete_object(Bucket=bucket, Key=key)
    return _count(s3, bucket)


def _count(s3: Any, bucket: str) -> int:
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
    return sum(len(p.get("Versions", [])) + len(p.get("DeleteMarkers", [])) for p in pages)


def _entries(page: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]


def _delete(s3: Any, bucket: str, entries: list[dict[str, str]]) -> None:
    if entries:
        r = s3.delete_objects(Bucket=bucket, Delete={"Objects": entries, "Quiet": True})
        assert not r.get("Errors"), r["Errors"]


@pytest.mark.parametrize("versioning", ["", "Enabled", "Suspended"])
def test_empty_page_by_page_with_markers(s3: Any, bucket: str, versioning: str) -> None:
    """list_object_versions + delete_objects, page by page, with the returned markers."""
    total = _fill(s3, bucket, versioning)
    assert total > 2 * PAGE
    markers: dict[str, str] = {}
    deleted = pages = 0
    while True:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=PAGE, **markers)
        entries = _entries(page)
        _delete(s3, bucket, entries)
        deleted += len(entries)
        pages += 1
        if not page["IsTruncated"]:
            break
        markers = {"KeyMarker": page["NextKeyMarker"]}
        if page.get("NextVersionIdMarker"):
            markers["VersionIdMarker"] = page["NextVersionIdMarker"]
    assert deleted == total and pages > 2
    assert _count(s3, bucket) == 0
    s3.delete_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=bucket)  # for the fixture's teardown


@pytest.mark.parametrize("versioning", ["", "Enabled", "Suspended"])
def test_empty_with_the_paginator(s3: Any, bucket: str, versioning: str) -> None:
    """boto3's paginator fetches the next page after the previous one was deleted."""
    total = _fill(s3, bucket, versioning)
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": PAGE}):
        entries = _entries(page)
        _delete(s3, bucket, entries)
        deleted += len(entries)
    assert deleted == total
    assert _count(s3, bucket) == 0


def test_null_marker_of_a_deleted_key(s3: Any, bucket: str) -> None:
    """The case as reported: ``VersionIdMarker=null`` naming a key deleted since."""
    for key in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    s3.delete_object(Bucket=bucket, Key="b")
    r = s3.list_object_versions(Bucket=bucket, KeyMarker="b", VersionIdMarker="null")
    assert [v["Key"] for v in r["Versions"]] == ["c"]
    assert r["KeyMarker"] == "b" and r["VersionIdMarker"] == "null"


def test_deleted_version_marker_resumes_with_the_key(s3: Any, bucket: str) -> None:
    """A deleted version's id as marker: the key's remaining (older) versions follow."""
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket=bucket, Key="a", Body=str(i).encode())["VersionId"]
           for i in range(3)]
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    s3.delete_object(Bucket=bucket, Key="a", VersionId=ids[2])
    r = s3.list_object_versions(Bucket=bucket, KeyMarker="a", VersionIdMarker=ids[2])
    assert [(v["Key"], v["VersionId"]) for v in r["Versions"][:2]] == \
        [("a", ids[1]), ("a", ids[0])]
    assert [v["Key"] for v in r["Versions"]][2:] == ["b"]
    # An existing marker still resumes right after it.
    r = s3.list_object_versions(Bucket=bucket, KeyMarker="a", VersionIdMarker=ids[1])
    assert [(v["Key"], v["VersionId"]) for v in r["Versions"]][:1] == [("a", ids[0])]


def test_malformed_version_marker_is_refused(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.list_object_versions(Bucket=bucket, KeyMarker="a", VersionIdMarker="not-a-version")
    assert code(exc) == "InvalidArgument"


def test_object_listing_markers_of_deleted_keys(s3: Any, bucket: str) -> None:
    """ListObjects Marker, ListObjectsV2 StartAfter and ContinuationToken naming deleted
    keys resume after them."""
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    first = s3.list_objects_v2(Bucket=bucket, MaxKeys=PAGE)
    _delete(s3, bucket, [{"Key": o["Key"]} for o in first["Contents"]])
    second = s3.list_objects_v2(Bucket=bucket, MaxKeys=PAGE,
                                ContinuationToken=first["NextContinuationToken"])
    assert [o["Key"] for o in second["Contents"]] == KEYS[PAGE:2 * PAGE]
    r = s3.list_objects_v2(Bucket=bucket, StartAfter=KEYS[3], MaxKeys=2)
    assert [o["Key"] for o in r["Contents"]] == KEYS[PAGE:PAGE + 2]
    r = s3.list_objects(Bucket=bucket, Marker=KEYS[PAGE - 1], MaxKeys=2)
    assert [o["Key"] for o in r["Contents"]] == KEYS[PAGE:PAGE + 2]
    deleted = PAGE
    for page in s3.get_paginator("list_objects").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": PAGE}):
        _delete(s3, bucket, [{"Key": o["Key"]} for o in page.get("Contents", [])])
        deleted += len(page.get("Contents", []))
    assert deleted == len(KEYS)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_awscli_rm_recursive_pages(s3cloud: Any, s3: Any, bucket: str) -> None:
    """``aws s3 rm --recursive`` deletes page by page while it lists."""
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    aws(s3cloud, "s3", "rm", "--recursive", "--page-size", str(PAGE), f"s3://{bucket}")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_awscli_s3api_version_loop(s3cloud: Any, s3: Any, bucket: str) -> None:
    """The usual shell loop: ``s3api list-object-versions`` with markers, then
    ``s3api delete-objects``, until the listing is no longer truncated."""
    total = _fill(s3, bucket, "Enabled")
    page_size = total // 2 + 1  # two pages: each awscli call costs a second
    args = ["s3api", "list-object-versions", "--bucket", bucket, "--max-keys",
            str(page_size), "--no-paginate", "--output", "json"]
    markers: list[str] = []
    deleted = 0
    while True:
        page = json.loads(aws(s3cloud, *args, *markers).stdout)
        entries = _entries(page)
        if entries:
            aws(s3cloud, "s3api", "delete-objects", "--bucket", bucket, "--delete",
                json.dumps({"Objects": entries, "Quiet": True}))
        deleted += len(entries)
        if not page["IsTruncated"]:
            break
        markers = ["--key-marker", page["NextKeyMarker"]]
        if page.get("NextVersionIdMarker"):
            markers += ["--version-id-marker", page["NextVersionIdMarker"]]
    assert deleted == total
    assert _count(s3, bucket) == 0


def test_empty_more_than_a_default_page(s3cloud: Any, bucket: str) -> None:
    """1,100 versions: the default pages of 1,000, each deleted with one DeleteObjects
    (whose answer lists every key, in request order)."""
    from conftest import make_s3

    s3 = make_s3(s3cloud, max_pool_connections=16)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    keys = [f"many/{i:05d}" for i in range(1100)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"x"), keys))
    pages = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        entries = _entries(page)
        r = s3.delete_objects(Bucket=bucket, Delete={"Objects": entries})
        assert not r.get("Errors")
        assert [d["Key"] for d in r["Deleted"]] == [v["Key"] for v in entries]
        pages += 1
    assert pages == 2
    assert _count(s3, bucket) == 0
