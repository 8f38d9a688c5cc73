"""Listings (v1, v2, versions, uploads) page correctly; multipart rules and errors."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_objects import code

MiB = 1024 * 1024
KEYS = sorted([f"a/{i:03d}" for i in range(30)] + [f"b/c/{i}" for i in range(5)]
              + ["b/d", "top1", "top2", "z z", "z+z", "ü"])


@pytest.fixture
def filled(s3: Any, bucket: str) -> str:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"x"), KEYS))
    return bucket


@pytest.mark.parametrize("page", [1, 7, 1000])
def test_v2_paging(s3: Any, filled: str, page: int) -> None:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=filled,
                                                          PaginationConfig={"PageSize": page})
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert keys == KEYS


@pytest.mark.parametrize("page", [1, 4, 1000])
def test_delimiter_paging(s3: Any, filled: str, page: int) -> None:
    for op in ("list_objects", "list_objects_v2"):
        pages = s3.get_paginator(op).paginate(Bucket=filled, Delimiter="/",
                                              PaginationConfig={"PageSize": page})
        keys, prefixes = [], []
        for p in pages:
            keys += [o["Key"] for o in p.get("Contents", [])]
            prefixes += [c["Prefix"] for c in p.get("CommonPrefixes", [])]
        assert prefixes == ["a/", "b/"]
        assert keys == ["top1", "top2", "z z", "z+z", "ü"]


def test_prefix_marker_startafter(s3: Any, filled: str) -> None:
    r = s3.list_objects_v2(Bucket=filled, Prefix="b/", Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["b/d"]
    assert [c["Prefix"] for c in r["CommonPrefixes"]] == ["b/c/"]
    r = s3.list_objects(Bucket=filled, Marker="a/027", MaxKeys=3)
    assert [o["Key"] for o in r["Contents"]] == ["a/028", "a/029", "b/c/0"]
    assert r["IsTruncated"] is True
    r = s3.list_objects_v2(Bucket=filled, StartAfter="top2")
    assert [o["Key"] for o in r["Contents"]] == ["z z", "z+z", "ü"]
    r = s3.list_objects_v2(Bucket=filled, MaxKeys=0)
    assert r["KeyCount"] == 0 and not r["IsTruncated"]
    r = s3.list_objects(Bucket=filled, Prefix="z", EncodingType="url")
    assert [o["Key"] for o in r["Contents"]] == ["z%20z", "z%2Bz"]  # asked for: not decoded


def test_versions_paging(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    expected = []
    for key in ("k1", "k2", "k3"):
        ids = [s3.put_object(Bucket=bucket, Key=key, Body=b"x")["VersionId"] for _ in range(3)]
        expected += [(key, v) for v in reversed(ids)]
    got = []
    for p in s3.get_paginator("list_object_versions").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": 2}):
        got += [(v["Key"], v["VersionId"]) for v in p.get("Versions", [])]
    assert got == expected


def test_multipart_rules(s3: Any, bucket: str) -> None:
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", Metadata={"m": "1"})["UploadId"]
    p1 = os.urandom(5 * MiB)
    p2 = os.urandom(MiB)
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=2, Body=p2)["ETag"]
    e3 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=3, Body=b"end")["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * MiB), (2, MiB), (3, 3)]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [u["UploadId"] for u in uploads] == [up]

    def complete(parts: list[dict[str, Any]]) -> Any:
        return s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                            MultipartUpload={"Parts": parts})

    with pytest.raises(ClientError) as exc:
        complete([{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}])
    assert code(exc) == "InvalidPartOrder"
    with pytest.raises(ClientError) as exc:
        complete([{"PartNumber": 1, "ETag": e1}, {"PartNumber": 4, "ETag": e3}])
    assert code(exc) == "InvalidPart"
    with pytest.raises(ClientError) as exc:
        complete([{"PartNumber": 1, "ETag": e2}])
    assert code(exc) == "InvalidPart"
    with pytest.raises(ClientError) as exc:
        complete([{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2},
                  {"PartNumber": 3, "ETag": e3}])
    assert code(exc) == "EntityTooSmall"
    r = complete([{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}])
    assert r["ETag"].endswith('-2"')
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == p1 + p2 and got["Metadata"] == {"m": "1"}
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=b"x")
    assert code(exc) == "NoSuchUpload"


def test_abort_and_part_copy(s3: Any, bucket: str) -> None:
    src = os.urandom(6 * MiB)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    up = s3.create_multipart_upload(Bucket=bucket, Key="copy")["UploadId"]
    e1 = s3.upload_part_copy(Bucket=bucket, Key="copy", UploadId=up, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "src"},
                             CopySourceRange=f"bytes=0-{5 * MiB - 1}")["CopyPartResult"]["ETag"]
    e2 = s3.upload_part_copy(Bucket=bucket, Key="copy", UploadId=up, PartNumber=2,
                             CopySource={"Bucket": bucket, "Key": "src"},
                             CopySourceRange=f"bytes={5 * MiB}-{6 * MiB - 1}")["CopyPartResult"]["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="copy", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == src
    up = s3.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="gone", UploadId=up, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=up)
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="gone", UploadId=up)
    assert code(exc) == "NoSuchUpload"


def test_object_attributes(s3: Any, bucket: str) -> None:
    up = s3.create_multipart_upload(Bucket=bucket, Key="attr")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="attr", UploadId=up, PartNumber=n,
                            Body=b"a" * (5 * MiB if n == 1 else 10))["ETag"] for n in (1, 2)]
    s3.complete_multipart_upload(Bucket=bucket, Key="attr", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": t} for n, t in zip((1, 2), etags, strict=True)]})
    r = s3.get_object_attributes(Bucket=bucket, Key="attr",
                                 ObjectAttributes=["ETag", "ObjectParts", "ObjectSize",
                                                   "StorageClass"])
    assert r["ObjectSize"] == 5 * MiB + 10 and r["ETag"].endswith("-2")
    assert r["ObjectParts"]["TotalPartsCount"] == 2 and r["StorageClass"] == "STANDARD"


def test_list_uploads_special_keys(s3: Any, bucket: str) -> None:
    key = "dir/a b+c%d ü"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    listed = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in listed] == [(key, up)]
    r = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/"]
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=up)


def test_multipart_checksums(s3: Any, bucket: str) -> None:
    import base64
    import hashlib

    up = s3.create_multipart_upload(Bucket=bucket, Key="ck", ChecksumAlgorithm="SHA256")
    parts, digests = [], []
    for n, body in enumerate((b"a" * (5 * MiB), b"tail"), 1):
        r = s3.upload_part(Bucket=bucket, Key="ck", UploadId=up["UploadId"], PartNumber=n,
                           Body=body, ChecksumAlgorithm="SHA256")
        assert r["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumSHA256": r["ChecksumSHA256"]})
        digests.append(hashlib.sha256(body).digest())
    done = s3.complete_multipart_upload(Bucket=bucket, Key="ck", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": parts})
    expected = base64.b64encode(hashlib.sha256(b"".join(digests)).digest()).decode() + "-2"
    assert done["ChecksumSHA256"] == expected
    head = s3.head_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == expected
    got = s3.get_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"a" * (5 * MiB) + b"tail"
