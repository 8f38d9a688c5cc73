"""SSE-KMS without a KMS service: key ids, the account's default key, bucket default
encryption with aws:kms, multipart, copies, POST, and the 400s S3 answers for
conflicting or misplaced encryption headers."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import requests  # type: ignore[import-untyped]
from botocore.exceptions import ClientError
from conftest import make_s3
from test_objects import code, status

MiB = 1024 * 1024
KEY_ID = "walrus-test-key-1"
KMS = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY_ID}
ARN = re.compile(r"^arn:aws:kms:[^:]+:\d+:key/[0-9a-f-]{36}$")


def _headers(resp: dict[str, Any]) -> dict[str, str]:
    return dict(resp["ResponseMetadata"]["HTTPHeaders"])


def _with_headers(cloud: Any, operation: str, extra: dict[str, str]) -> Any:
    """A fresh client that adds raw headers to one operation (boto3 has no parameter
    for SSE headers on reads)."""
    client = make_s3(cloud)

    def add(params: dict[str, Any], **_: Any) -> None:
        params["headers"].update(extra)

    client.meta.events.register(f"before-call.s3.{operation}", add)
    return client


def _blob_files(cloud: Any) -> list[Path]:
    return [p for p in (Path(cloud.data_dir) / "walrus" / "blobs").rglob("*") if p.is_file()]


def test_put_get_head_with_a_key_id(s3cloud: Any, s3: Any, bucket: str) -> None:
    data = os.urandom(70_000) + b"kms-plaintext-marker"
    put = s3.put_object(Bucket=bucket, Key="k", Body=data, **KMS)
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == KEY_ID
    assert not any(b"kms-plaintext-marker" in p.read_bytes() for p in _blob_files(s3cloud)
                   if p.stat().st_size == len(data))
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == data
    assert got["ServerSideEncryption"] == "aws:kms" and got["SSEKMSKeyId"] == KEY_ID
    part = s3.get_object(Bucket=bucket, Key="k", Range="bytes=1000-60016")
    assert part["Body"].read() == data[1000:60017]
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == KEY_ID
    assert head["ContentLength"] == len(data)


def test_without_a_key_id_the_accounts_default_key(s3: Any, bucket: str) -> None:
    first = s3.put_object(Bucket=bucket, Key="a", Body=b"a", ServerSideEncryption="aws:kms")
    second = s3.put_object(Bucket=bucket, Key="b", Body=b"b", ServerSideEncryption="aws:kms")
    assert ARN.match(first["SSEKMSKeyId"]), first["SSEKMSKeyId"]
    assert first["SSEKMSKeyId"] == second["SSEKMSKeyId"]
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"a"
    dsse = s3.put_object(Bucket=bucket, Key="d", Body=b"d", ServerSideEncryption="aws:kms:dsse")
    assert dsse["ServerSideEncryption"] == "aws:kms:dsse"
    assert s3.head_object(Bucket=bucket, Key="d")["ServerSideEncryption"] == "aws:kms:dsse"


def test_conflicting_write_headers_are_invalid_arguments(s3cloud: Any, s3: Any,
                                                         bucket: str) -> None:
    cases: list[dict[str, str]] = [
        {"x-amz-server-side-encryption-aws-kms-key-id": KEY_ID},
        {"x-amz-server-side-encryption": "AES256",
         "x-amz-server-side-encryption-aws-kms-key-id": KEY_ID},
        {"x-amz-server-side-encryption": "aws:kms",
         "x-amz-server-side-encryption-customer-algorithm": "AES256",
         "x-amz-server-side-encryption-customer-key": base64.b64encode(bytes(32)).decode(),
         "x-amz-server-side-encryption-customer-key-md5":
             base64.b64encode(hashlib.md5(bytes(32)).digest()).decode()},
        {"x-amz-server-side-encryption": "aes:kms"},
        {"x-amz-server-side-encryption": "aws:kms",
         "x-amz-server-side-encryption-context": "not base64 json"},
        {"x-amz-server-side-encryption": "aws:kms",
         "x-amz-server-side-encryption-bucket-key-enabled": "maybe"},
    ]
    for extra in cases:
        client = _with_headers(s3cloud, "PutObject", extra)
        with pytest.raises(ClientError) as exc:
            client.put_object(Bucket=bucket, Key="x", Body=b"x")
        assert (status(exc), code(exc)) == (400, "InvalidArgument"), extra
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="x")


def test_reads_refuse_sse_headers(s3cloud: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="kms", Body=b"k", **KMS)
    s3.put_object(Bucket=bucket, Key="s3", Body=b"s", ServerSideEncryption="AES256")
    s3.put_object(Bucket=bucket, Key="plain", Body=b"p")
    for extra in ({"x-amz-server-side-encryption": "aws:kms",
                   "x-amz-server-side-encryption-aws-kms-key-id": KEY_ID},
                  {"x-amz-server-side-encryption": "AES256"}):
        getter = _with_headers(s3cloud, "GetObject", extra)
        header = _with_headers(s3cloud, "HeadObject", extra)
        for key in ("kms", "s3", "plain"):
            with pytest.raises(ClientError) as exc:
                getter.get_object(Bucket=bucket, Key=key)
            assert (status(exc), code(exc)) == (400, "InvalidArgument")
            with pytest.raises(ClientError) as exc:
                header.head_object(Bucket=bucket, Key=key)
            assert status(exc) == 400


def test_encryption_context_and_bucket_key_are_reported(s3: Any, bucket: str) -> None:
    context = base64.b64encode(json.dumps({"project": "walrus"}).encode()).decode()
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"c", SSEKMSEncryptionContext=context,
                        BucketKeyEnabled=True, **KMS)
    assert put["SSEKMSEncryptionContext"] == context and put["BucketKeyEnabled"] is True
    head = s3.head_object(Bucket=bucket, Key="c")
    assert head["BucketKeyEnabled"] is True and "SSEKMSEncryptionContext" not in head


def test_multipart_upload_under_a_kms_key(s3cloud: Any, s3: Any, bucket: str) -> None:
    created = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="text/plain",
                                         **KMS)
    assert created["ServerSideEncryption"] == "aws:kms" and created["SSEKMSKeyId"] == KEY_ID
    up = created["UploadId"]
    # KMS headers on the parts do not matter (even another key id): the upload's apply.
    parts_client = _with_headers(s3cloud, "UploadPart", {
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": "some-other-key"})
    chunks = [os.urandom(5 * MiB), os.urandom(4321)]
    etags = []
    for n, chunk in enumerate(chunks):
        r = parts_client.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=n + 1,
                                     Body=chunk)
        assert r["ServerSideEncryption"] == "aws:kms" and r["SSEKMSKeyId"] == KEY_ID
        etags.append(r["ETag"])
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": n + 1, "ETag": t} for n, t in enumerate(etags)]})
    assert done["ServerSideEncryption"] == "aws:kms" and done["SSEKMSKeyId"] == KEY_ID
    data = b"".join(chunks)
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == data and got["SSEKMSKeyId"] == KEY_ID
    edge = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * MiB - 7}-{5 * MiB + 7}")
    assert edge["Body"].read() == data[5 * MiB - 7:5 * MiB + 8]


def test_upload_part_copy_into_a_kms_upload(s3: Any, bucket: str) -> None:
    data = os.urandom(5 * MiB + 100)
    s3.put_object(Bucket=bucket, Key="src", Body=data, ServerSideEncryption="AES256")
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst", **KMS)["UploadId"]
    copied = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=up, PartNumber=1,
                                 CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["ServerSideEncryption"] == "aws:kms" and copied["SSEKMSKeyId"] == KEY_ID
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]}]})
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == data and got["SSEKMSKeyId"] == KEY_ID


def test_bucket_default_encryption_with_kms(s3: Any, bucket: str) -> None:
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                               "KMSMasterKeyID": KEY_ID},
        "BucketKeyEnabled": True}]})
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
        "Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                          "KMSMasterKeyID": KEY_ID}
    assert rule["BucketKeyEnabled"] is True
    put = s3.put_object(Bucket=bucket, Key="d", Body=b"default")
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == KEY_ID
    assert put["BucketKeyEnabled"] is True
    got = s3.get_object(Bucket=bucket, Key="d")
    assert got["Body"].read() == b"default" and got["SSEKMSKeyId"] == KEY_ID
    # Request headers win over the bucket's default.
    own = s3.put_object(Bucket=bucket, Key="o", Body=b"o", ServerSideEncryption="aws:kms",
                        SSEKMSKeyId="another-key")
    assert own["SSEKMSKeyId"] == "another-key"
    assert s3.put_object(Bucket=bucket, Key="s", Body=b"s",
                         ServerSideEncryption="AES256")["ServerSideEncryption"] == "AES256"
    assert s3.delete_bucket_encryption(Bucket=bucket)["ResponseMetadata"][
        "HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_encryption(Bucket=bucket)
    assert code(exc) == "ServerSideEncryptionConfigurationNotFoundError"
    assert "ServerSideEncryption" not in s3.put_object(Bucket=bucket, Key="p", Body=b"p")
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == b"default"


def test_bucket_default_kms_without_a_key_id(s3: Any, bucket: str) -> None:
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
        "Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms"}
    assert rule["BucketKeyEnabled"] is False
    put = s3.put_object(Bucket=bucket, Key="d", Body=b"d")
    assert put["ServerSideEncryption"] == "aws:kms" and ARN.match(put["SSEKMSKeyId"])


def test_bad_bucket_encryption_documents(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256",
                                                   "KMSMasterKeyID": KEY_ID}}]})
    assert (status(exc), code(exc)) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:nope"}}]})
    assert (status(exc), code(exc)) == (400, "MalformedXML")
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_encryption(Bucket=bucket)
    assert code(exc) == "ServerSideEncryptionConfigurationNotFoundError"


def test_copies_between_encryptions(s3: Any, bucket: str) -> None:
    data = os.urandom(30_000)
    s3.put_object(Bucket=bucket, Key="src", Body=data, **KMS)
    plain = s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket,
                                                                    "Key": "src"})
    assert "ServerSideEncryption" not in plain
    assert s3.get_object(Bucket=bucket, Key="plain")["Body"].read() == data
    same = s3.copy_object(Bucket=bucket, Key="same", CopySource={"Bucket": bucket,
                                                                  "Key": "src"}, **KMS)
    assert same["SSEKMSKeyId"] == KEY_ID
    other = s3.copy_object(Bucket=bucket, Key="other", CopySource={"Bucket": bucket,
                                                                    "Key": "plain"},
                           ServerSideEncryption="aws:kms", SSEKMSKeyId="key-2")
    assert other["ServerSideEncryption"] == "aws:kms" and other["SSEKMSKeyId"] == "key-2"
    for key in ("same", "other"):
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["Body"].read() == data and got["ServerSideEncryption"] == "aws:kms"
    # Re-encrypting an object in place is a change of its encryption, so it is allowed.
    moved = s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket,
                                                                  "Key": "src"},
                           ServerSideEncryption="aws:kms", SSEKMSKeyId="key-3")
    assert moved["SSEKMSKeyId"] == "key-3"
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == data
    s3.delete_object(Bucket=bucket, Key="same")  # the linked copy's blobs are its own
    assert s3.get_object(Bucket=bucket, Key="other")["Body"].read() == data


def test_presigned_post_with_kms_fields(s3cloud: Any, s3: Any, bucket: str) -> None:
    fields = {"x-amz-server-side-encryption": "aws:kms",
              "x-amz-server-side-encryption-aws-kms-key-id": KEY_ID}
    post = s3.generate_presigned_post(bucket, "form.txt", Fields=fields,
                                      Conditions=[{k: v} for k, v in fields.items()],
                                      ExpiresIn=60)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"posted")},
                      timeout=10)
    assert r.status_code == 204, r.text
    assert r.headers["x-amz-server-side-encryption-aws-kms-key-id"] == KEY_ID
    got = s3.get_object(Bucket=bucket, Key="form.txt")
    assert got["Body"].read() == b"posted" and got["SSEKMSKeyId"] == KEY_ID


def test_sse_c_reads_as_on_s3(s3cloud: Any, s3: Any, bucket: str) -> None:
    key, wrong = os.urandom(32), os.urandom(32)
    s3.put_object(Bucket=bucket, Key="c", Body=b"secret", SSECustomerAlgorithm="AES256",
                  SSECustomerKey=base64.b64encode(key).decode(),
                  SSECustomerKeyMD5=base64.b64encode(hashlib.md5(key).digest()).decode())
    # A read may leave out the key's MD5.
    no_md5 = _with_headers(s3cloud, "GetObject", {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": base64.b64encode(key).decode()})
    assert no_md5.get_object(Bucket=bucket, Key="c")["Body"].read() == b"secret"
    # Another key is refused with 403, as S3 does.
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=wrong)  # boto3 encodes raw keys and adds the MD5
    assert status(exc) == 403
    # SSE-C parameters for an object that is not SSE-C encrypted: 400 InvalidRequest.
    s3.put_object(Bucket=bucket, Key="k", Body=b"k", **KMS)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert (status(exc), code(exc)) == (400, "InvalidRequest")
