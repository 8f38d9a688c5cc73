"""Objects through boto3: round trips, ETags, metadata, conditions, ranges, copies, errors."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from conftest import make_s3

SIZES = [0, 1, 5 * 1024 * 1024 + 1]


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    """The S3 error code of a ClientError."""
    return str(exc.value.response["Error"]["Code"])


def status(exc: pytest.ExceptionInfo[ClientError]) -> int:
    """The HTTP status of a ClientError."""
    return int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


@pytest.mark.parametrize("size", SIZES)
def test_put_get_round_trip(s3: Any, bucket: str, size: int) -> None:
    data = os.urandom(size)
    put = s3.put_object(Bucket=bucket, Key=f"obj-{size}", Body=data, ContentType="text/x-test",
                        Metadata={"Color": "blue", "n": "1"}, CacheControl="max-age=5")
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key=f"obj-{size}")
    assert got["Body"].read() == data
    assert got["ETag"] == put["ETag"]
    assert got["ContentLength"] == size
    assert got["ContentType"] == "text/x-test"
    assert got["Metadata"] == {"color": "blue", "n": "1"}
    assert got["CacheControl"] == "max-age=5"
    head = s3.head_object(Bucket=bucket, Key=f"obj-{size}")
    assert head["ContentLength"] == size and head["ETag"] == put["ETag"]


def test_upload_file_multipart_etag(s3: Any, bucket: str, tmp_path: Any) -> None:
    from boto3.s3.transfer import TransferConfig

    data = os.urandom(5 * 1024 * 1024 + 1)
    path = tmp_path / "f"
    path.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_file(str(path), bucket, "mp", Config=cfg)
    md5s = [hashlib.md5(data[:5 * 1024 * 1024]).digest(), hashlib.md5(data[5 * 1024 * 1024:]).digest()]
    expected = f'"{hashlib.md5(b"".join(md5s)).hexdigest()}-2"'
    head = s3.head_object(Bucket=bucket, Key="mp")
    assert head["ETag"] == expected
    out = tmp_path / "g"
    s3.download_file(bucket, "mp", str(out), Config=cfg)
    assert out.read_bytes() == data
    part2 = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert part2["Body"].read() == data[5 * 1024 * 1024:]
    assert part2["PartsCount"] == 2


@pytest.mark.parametrize("key", ["a b", "tilde~x", "plus+sign", "eq=al", "ünï/cødé", "q?x#y",
                                 "../../etc/passwd", "/abs", "dots/./and/../x", "%41pct",
                                 "sp  two"])
def test_special_keys(s3: Any, bucket: str, key: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert key in keys
    s3.delete_object(Bucket=bucket, Key=key)


def test_missing(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="nope")
    assert code(exc) == "NoSuchKey" and status(exc) == 404
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="no-such-bucket-here", Key="nope")
    assert code(exc) == "NoSuchBucket"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="nope")
    assert status(exc) == 404
    s3.delete_object(Bucket=bucket, Key="nope")  # deleting nothing is fine


def test_conditions(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"x")["ETag"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"x"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0000"')
    assert status(exc) == 412 and code(exc) == "PreconditionFailed"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert status(exc) == 304
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=future)
    assert status(exc) == 304
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=past)
    assert status(exc) == 412
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=past)["ContentLength"] == 1


def test_ranges(s3: Any, bucket: str) -> None:
    data = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    r = s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert r["Body"].read() == data[10:20] and r["ContentRange"] == "bytes 10-19/1024"
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5")["Body"].read() == data[-5:]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=1000-")["Body"].read() == data[1000:]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=1000-5000")["ContentLength"] == 24
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=2000-3000")
    assert status(exc) == 416 and code(exc) == "InvalidRange"


def test_response_overrides(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="o", Body=b"x")
    r = s3.get_object(Bucket=bucket, Key="o", ResponseContentType="text/plain",
                      ResponseContentDisposition="attachment; filename=x.txt",
                      ResponseCacheControl="no-cache")
    assert r["ContentType"] == "text/plain"
    assert r["ContentDisposition"] == "attachment; filename=x.txt"
    assert r["CacheControl"] == "no-cache"


def test_content_md5(s3: Any, bucket: str) -> None:
    good = base64.b64encode(hashlib.md5(b"abc").digest()).decode()
    s3.put_object(Bucket=bucket, Key="m", Body=b"abc", ContentMD5=good)
    bad = base64.b64encode(hashlib.md5(b"xyz").digest()).decode()
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="m2", Body=b"abc", ContentMD5=bad)
    assert code(exc) == "BadDigest"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="m2", Body=b"abc", ContentMD5="notbase64!")
    assert code(exc) == "InvalidDigest"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="m2")


def test_copy(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"data", Metadata={"a": "1"},
                  ContentType="text/a")
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert r["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"data").hexdigest()}"'
    h = s3.head_object(Bucket=bucket, Key="dst")
    assert h["Metadata"] == {"a": "1"} and h["ContentType"] == "text/a"
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src",
                   MetadataDirective="REPLACE", Metadata={"b": "2"}, ContentType="text/b")
    h = s3.head_object(Bucket=bucket, Key="dst2")
    assert h["Metadata"] == {"b": "2"} and h["ContentType"] == "text/b"
    assert s3.get_object(Bucket=bucket, Key="dst2")["Body"].read() == b"data"
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src")
    assert code(exc) == "InvalidRequest"
    s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src",
                   MetadataDirective="REPLACE", Metadata={"c": "3"})
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="d3", CopySource=f"{bucket}/src",
                       CopySourceIfMatch='"nope"')
    assert status(exc) == 412
    s3.delete_object(Bucket=bucket, Key="src")
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"data"


def test_delete_objects(s3: Any, bucket: str) -> None:
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"d{i}", Body=b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"d{i}"} for i in range(3)]
                                                 + [{"Key": "missing"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["d0", "d1", "d2", "missing"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["d3", "d4"]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d3"}], "Quiet": True})
    assert not r.get("Deleted")


def test_presigned(s3cloud: Any, bucket: str) -> None:
    s3 = make_s3(s3cloud, signature_version="s3v4")
    s3.put_object(Bucket=bucket, Key="p s", Body=b"presigned")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p s"},
                                    ExpiresIn=60)
    assert requests.get(url, timeout=10).content == b"presigned"
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up"},
                                        ExpiresIn=60)
    assert requests.put(put_url, data=b"via url", timeout=10).status_code == 200
    assert s3.get_object(Bucket=bucket, Key="up")["Body"].read() == b"via url"
    assert "X-Amz-Signature=" in url
    bad = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    resp = requests.get(bad, timeout=10)
    assert resp.status_code == 403 and b"SignatureDoesNotMatch" in resp.content


def test_sigv2_and_anonymous(s3cloud: Any, s3: Any, bucket: str) -> None:
    from botocore.config import Config

    v2 = make_s3(s3cloud, signature_version="s3")
    name = bucket + "-v2"
    v2.create_bucket(Bucket=name)  # botocore signs a bucket as "/bucket/"
    v2.put_bucket_acl(Bucket=name, ACL="private")
    assert v2.list_objects(Bucket=name).get("Contents") is None
    v2.delete_bucket(Bucket=name)
    v2.put_object(Bucket=bucket, Key="v2 key+", Body=b"two", Metadata={"x": "y"})
    assert v2.get_object(Bucket=bucket, Key="v2 key+")["Body"].read() == b"two"
    url = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2 key+"})
    assert requests.get(url, timeout=10).content == b"two"
    # At the root path, unsigned and SigV2 requests reach S3 by default.
    root = make_s3(s3cloud, path="/", signature_version="s3")
    assert root.get_object(Bucket=bucket, Key="v2 key+")["Body"].read() == b"two"
    root_v4 = make_s3(s3cloud, path="/")  # routed by the SigV4 scope "s3"
    root_v4.put_object(Bucket=bucket, Key="root v4", Body=b"four")
    assert root_v4.get_object(Bucket=bucket, Key="root v4")["Body"].read() == b"four"
    assert bucket in [b["Name"] for b in root_v4.list_buckets()["Buckets"]]
    anon = make_s3(s3cloud, signature_version=__import__("botocore").UNSIGNED)
    with pytest.raises(ClientError) as exc:
        anon.get_object(Bucket=bucket, Key="v2 key+")
    assert code(exc) == "AccessDenied"
    del Config


def test_bad_credentials(s3cloud: Any, bucket: str) -> None:
    creds = s3cloud.credentials()
    bad = make_s3(s3cloud, key=creds["key"], secret="x" * 40)
    with pytest.raises(ClientError) as exc:
        bad.list_objects(Bucket=bucket)
    assert code(exc) == "SignatureDoesNotMatch" and status(exc) == 403
    unknown = make_s3(s3cloud, key="AKIANOTAREALKEY00000", secret="x" * 40)
    with pytest.raises(ClientError) as exc:
        unknown.list_objects(Bucket=bucket)
    assert code(exc) == "InvalidAccessKeyId"


def test_checksums_and_unsigned_payload(s3cloud: Any, bucket: str) -> None:
    for mode in ("when_supported", "when_required"):
        c = make_s3(s3cloud, request_checksum_calculation=mode)
        c.put_object(Bucket=bucket, Key="ck", Body=b"checked" * 1000, ChecksumAlgorithm="CRC32")
        got = c.get_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED")
        assert got["Body"].read() == b"checked" * 1000
    for alg in ("SHA256", "SHA1"):
        c.put_object(Bucket=bucket, Key="ck2", Body=b"z" * 10, ChecksumAlgorithm=alg)
        assert c.get_object(Bucket=bucket, Key="ck2")["Body"].read() == b"z" * 10
    unsigned = make_s3(s3cloud, s3={"payload_signing_enabled": False})
    unsigned.put_object(Bucket=bucket, Key="u", Body=b"unsigned")
    assert unsigned.get_object(Bucket=bucket, Key="u")["Body"].read() == b"unsigned"


def test_object_tagging_and_acl(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=2")
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", "2")]
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "c", "Value": "3"}]
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    acl = s3.get_object_acl(Bucket=bucket, Key="t")
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]
    assert len(acl["Owner"]["ID"]) == 64
    s3.put_object_acl(Bucket=bucket, Key="t", ACL="public-read")
    acl = s3.get_object_acl(Bucket=bucket, Key="t")
    assert any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in acl["Grants"])


def _post_policy(bucket: str, extra: list[Any], expires_in: int = 600) -> str:
    import json

    exp = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=expires_in))
    doc = {"expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ"),
           "conditions": [{"bucket": bucket}, *extra]}
    return base64.b64encode(json.dumps(doc).encode()).decode()


def test_post_object(s3cloud: Any, s3: Any, bucket: str) -> None:
    import hmac

    creds = s3cloud.credentials()
    url = f"{s3cloud.url}/services/objectstorage/{bucket}"
    policy = _post_policy(bucket, [["starts-with", "$key", "up/"], {"acl": "private"},
                                   ["starts-with", "$Content-Type", "text/"],
                                   ["content-length-range", 0, 1024],
                                   {"success_action_status": "201"}])
    sig = base64.b64encode(hmac.new(creds["secret"].encode(), policy.encode(),
                                    hashlib.sha1).digest()).decode()
    fields = {"key": "up/${filename}", "AWSAccessKeyId": creds["key"], "acl": "private",
              "policy": policy, "signature": sig, "Content-Type": "text/plain",
              "success_action_status": "201"}
    r = requests.post(url, data=fields, files={"file": ("hello.txt", b"form data")},
                      timeout=10)
    assert r.status_code == 201, r.text
    got = s3.get_object(Bucket=bucket, Key="up/hello.txt")
    assert got["Body"].read() == b"form data" and got["ContentType"] == "text/plain"
    too_big = requests.post(url, data=fields, files={"file": ("big", b"x" * 2000)}, timeout=10)
    assert too_big.status_code == 400 and b"EntityTooLarge" in too_big.content
    bad = requests.post(url, data=fields | {"key": "elsewhere/x"},
                        files={"file": ("x", b"x")}, timeout=10)
    assert bad.status_code == 403
    forged = requests.post(url, data=fields | {"signature": "AAAA"},
                           files={"file": ("x", b"x")}, timeout=10)
    assert forged.status_code == 403 and b"SignatureDoesNotMatch" in forged.content
    anon = requests.post(url, data={"key": "anon"}, files={"file": ("x", b"x")}, timeout=10)
    assert anon.status_code == 403


def test_conditional_put_and_missing_length(s3cloud: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="once", Body=b"1", IfNoneMatch="*")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="once", Body=b"2", IfNoneMatch="*")
    assert status(exc) == 412
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="once", Body=b"2", IfMatch='"nope"')
    assert status(exc) == 412
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"1"


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_presigned_post(s3cloud: Any, bucket: str, version: str) -> None:
    client = make_s3(s3cloud, signature_version=version)
    post = client.generate_presigned_post(
        bucket, "up/${filename}", Fields={"acl": "private"},
        Conditions=[{"acl": "private"}, ["content-length-range", 0, 100]], ExpiresIn=60)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("a.txt", b"post")},
                      timeout=10)
    assert r.status_code == 204, r.text
    assert client.get_object(Bucket=bucket, Key="up/a.txt")["Body"].read() == b"post"
