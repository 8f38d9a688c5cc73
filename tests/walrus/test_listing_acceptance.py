"""Listing while deleting, as a second tester would try it (issue 12, item 3).

Markers naming a delete marker, a key whose every version is gone, a version id the key
never had; the version marker without a key marker; boto3's paginators deleting page by
page (one entry a page, too); ``aws s3 rm --recursive`` on a versioned bucket; a
continuation token over a deleted common prefix; ListMultipartUploads markers of uploads
aborted since the page was listed.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_clients import aws
from test_objects import code


def _versioned(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def _entries(page: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]


def _all(s3: Any, bucket: str) -> list[tuple[str, str]]:
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
    return [(e["Key"], e["VersionId"]) for p in pages for e in _entries(p)]


def test_version_marker_without_key_marker(s3: Any, bucket: str) -> None:
    """S3: "A version-id marker cannot be specified without a key marker" (400)."""
    _versioned(s3, bucket)
    vid = s3.put_object(Bucket=bucket, Key="a", Body=b"1")["VersionId"]
    for marker in (vid, "null"):
        with pytest.raises(ClientError) as exc:
            s3.list_object_versions(Bucket=bucket, VersionIdMarker=marker)
        assert code(exc) == "InvalidArgument"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_marker_at_a_delete_marker(s3: Any, bucket: str) -> None:
    """A page ending on a delete marker: the next page starts with the key's older
    versions, then the next keys."""
    _versioned(s3, bucket)
    old = [s3.put_object(Bucket=bucket, Key="doc", Body=str(i).encode())["VersionId"]
           for i in range(2)]
    marker = s3.delete_object(Bucket=bucket, Key="doc")["VersionId"]
    s3.put_object(Bucket=bucket, Key="zeta", Body=b"z")
    first = s3.list_object_versions(Bucket=bucket, MaxKeys=1)
    assert [m["VersionId"] for m in first["DeleteMarkers"]] == [marker]
    assert first["NextKeyMarker"] == "doc" and first["NextVersionIdMarker"] == marker
    rest = s3.list_object_versions(Bucket=bucket, KeyMarker="doc", VersionIdMarker=marker)
    assert [(v["Key"], v["VersionId"]) for v in rest["Versions"]][:2] == \
        [("doc", old[1]), ("doc", old[0])]
    assert rest["Versions"][2]["Key"] == "zeta" and not rest.get("DeleteMarkers")


def test_marker_of_a_key_deleted_version_by_version(s3: Any, bucket: str) -> None:
    """Every version of the marker's key deleted (its delete marker too) between two
    pages: the next page starts with the following key, nothing skipped."""
    _versioned(s3, bucket)
    for key in ("a", "b", "c"):
        for i in range(2):
            s3.put_object(Bucket=bucket, Key=key, Body=str(i).encode())
    s3.delete_object(Bucket=bucket, Key="a")
    first = s3.list_object_versions(Bucket=bucket, MaxKeys=2)
    assert first["IsTruncated"] and first["NextKeyMarker"] == "a"
    whole_a = [e for e in _all(s3, bucket) if e[0] == "a"]
    s3.delete_objects(Bucket=bucket, Delete={
        "Objects": [{"Key": k, "VersionId": v} for k, v in whole_a], "Quiet": True})
    second = s3.list_object_versions(Bucket=bucket, MaxKeys=3, KeyMarker=first["NextKeyMarker"],
                                     VersionIdMarker=first["NextVersionIdMarker"])
    assert [v["Key"] for v in second["Versions"]] == ["b", "b", "c"]
    third = s3.list_object_versions(Bucket=bucket, KeyMarker=second["NextKeyMarker"],
                                    VersionIdMarker=second["NextVersionIdMarker"])
    assert [v["Key"] for v in third["Versions"]] == ["c"]


def test_version_id_the_key_never_had(s3: Any, bucket: str) -> None:
    """A well-formed version id of another key as marker is accepted (no error) and the
    listing goes on to the following keys."""
    _versioned(s3, bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    other = s3.put_object(Bucket=bucket, Key="b", Body=b"b")["VersionId"]
    s3.put_object(Bucket=bucket, Key="c", Body=b"c")
    answer = s3.list_object_versions(Bucket=bucket, KeyMarker="a", VersionIdMarker=other)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert [v["Key"] for v in answer["Versions"]][-2:] == ["b", "c"]


@pytest.mark.parametrize("page_size", [1, 2, 5])
def test_paginator_deleting_every_page(s3: Any, bucket: str, page_size: int) -> None:
    """boto3's list_object_versions paginator, each page deleted (versions and delete
    markers) before the next is asked for: the bucket ends empty and deletable."""
    _versioned(s3, bucket)
    for i in range(6):
        key = f"dir/{i}"
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
        s3.put_object(Bucket=bucket, Key=key, Body=b"2")
        if i % 2:
            s3.delete_object(Bucket=bucket, Key=key)
    total = len(_all(s3, bucket))
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": page_size}):
        entries = _entries(page)
        if entries:
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": entries})
            assert not answer.get("Errors")
            deleted += len(answer["Deleted"])
    assert deleted == total == 15
    assert _all(s3, bucket) == []


def test_awscli_rm_recursive_on_a_versioned_bucket(s3cloud: Any, s3: Any, bucket: str) -> None:
    """``aws s3 rm --recursive`` with small pages puts a delete marker on every key (S3's
    behaviour on a versioned bucket); ``aws s3api delete-objects`` then removes them."""
    _versioned(s3, bucket)
    keys = [f"logs/{i:02d}" for i in range(9)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    aws(s3cloud, "s3", "rm", "--recursive", "--page-size", "2", f"s3://{bucket}/logs/")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    page = s3.list_object_versions(Bucket=bucket)
    assert sorted(m["Key"] for m in page["DeleteMarkers"]) == keys
    assert len(page["Versions"]) == len(keys)
    import json

    aws(s3cloud, "s3api", "delete-objects", "--bucket", bucket, "--delete",
        json.dumps({"Objects": _entries(page), "Quiet": True}))
    assert _all(s3, bucket) == []


def test_continuation_over_a_deleted_common_prefix(s3: Any, bucket: str) -> None:
    """ListObjectsV2 with a delimiter: the token of a page ending on a common prefix whose
    keys were all deleted since resumes after that prefix; StartAfter naming a deleted
    key resumes after it."""
    for key in ("a/1", "a/2", "b/1", "b/2", "c/1", "d"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    first = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert [p["Prefix"] for p in first["CommonPrefixes"]] == ["a/", "b/"]
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b/1"}, {"Key": "b/2"}]})
    second = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=2,
                                ContinuationToken=first["NextContinuationToken"])
    assert [p["Prefix"] for p in second["CommonPrefixes"]] == ["c/"]
    assert [o["Key"] for o in second["Contents"]] == ["d"] and not second["IsTruncated"]
    s3.delete_object(Bucket=bucket, Key="c/1")
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="c/1")
    assert [o["Key"] for o in after["Contents"]] == ["d"]
    assert after["StartAfter"] == "c/1"


def test_multipart_upload_markers_while_aborting(s3: Any, bucket: str) -> None:
    """ListMultipartUploads page by page, aborting each page before asking for the next:
    the markers name uploads that no longer exist, and no upload is skipped (several
    uploads of one key straddle the pages)."""
    uploads = [s3.create_multipart_upload(Bucket=bucket, Key=f"big/{i % 3}")["UploadId"]
               for i in range(8)]
    listed = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert sorted(u["UploadId"] for u in listed) == sorted(uploads)
    # One key's uploads come in the order they were initiated.
    zero = [u["UploadId"] for u in listed if u["Key"] == "big/0"]
    assert zero == [uploads[0], uploads[3], uploads[6]]
    aborted = []
    for page in s3.get_paginator("list_multipart_uploads").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": 2}):
        for up in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"])
            aborted.append(up["UploadId"])
    assert sorted(aborted) == sorted(uploads)
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_multipart_marker_of_an_aborted_upload(s3: Any, bucket: str) -> None:
    """The upload-id marker of an upload aborted since resumes with the same key's later
    uploads, then the next keys."""
    first, second, third = (s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
                            for _ in range(3))
    other = s3.create_multipart_upload(Bucket=bucket, Key="l")["UploadId"]
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1)
    assert page["NextKeyMarker"] == "k" and page["NextUploadIdMarker"] == first
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=first)
    rest = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="k", UploadIdMarker=first)
    assert [u["UploadId"] for u in rest["Uploads"]] == [second, third, other]
