"""Server-side encryption: SSE-C and SSE-S3 round trips, ranges, multipart, copies, and
that the bytes on disk are not the plaintext."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_objects import code, status

MiB = 1024 * 1024
KEY = os.urandom(32)
SSEC = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": base64.b64encode(KEY).decode(),
        "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(KEY).digest()).decode()}


def _blob_files(cloud: Any) -> list[Path]:
    return [p for p in (Path(cloud.data_dir) / "walrus" / "blobs").rglob("*") if p.is_file()]


def test_sse_c_round_trip(s3cloud: Any, s3: Any, bucket: str) -> None:
    data = os.urandom(100_000) + b"plaintext-marker"
    s3.put_object(Bucket=bucket, Key="c", Body=data, **SSEC)
    assert not any(b"plaintext-marker" in p.read_bytes() for p in _blob_files(s3cloud)
                   if p.stat().st_size == len(data))
    got = s3.get_object(Bucket=bucket, Key="c", **SSEC)
    assert got["Body"].read() == data and got["SSECustomerAlgorithm"] == "AES256"
    part = s3.get_object(Bucket=bucket, Key="c", Range="bytes=12345-67890", **SSEC)
    assert part["Body"].read() == data[12345:67891]
    s3.head_object(Bucket=bucket, Key="c", **SSEC)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c")
    assert status(exc) == 400
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="c")
    assert status(exc) == 400
    other = os.urandom(32)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=other)  # boto3 encodes it and adds the MD5
    assert status(exc) == 403
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"x", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=base64.b64encode(KEY).decode(),
                      SSECustomerKeyMD5=base64.b64encode(b"0" * 16).decode())
    assert status(exc) == 400
    # A copy needs the source key and may re-encrypt under SSE-S3.
    s3.copy_object(Bucket=bucket, Key="c2", CopySource={"Bucket": bucket, "Key": "c"},
                   CopySourceSSECustomerAlgorithm="AES256",
                   CopySourceSSECustomerKey=SSEC["SSECustomerKey"],
                   CopySourceSSECustomerKeyMD5=SSEC["SSECustomerKeyMD5"],
                   ServerSideEncryption="AES256")
    got = s3.get_object(Bucket=bucket, Key="c2")
    assert got["Body"].read() == data and got["ServerSideEncryption"] == "AES256"


def test_sse_c_multipart(s3: Any, bucket: str) -> None:
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", **SSEC)["UploadId"]
    chunks = [os.urandom(5 * MiB), os.urandom(1234)]
    etags = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=n + 1,
                            Body=chunk, **SSEC)["ETag"] for n, chunk in enumerate(chunks)]
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=3, Body=b"x")
    assert status(exc) == 400
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": n + 1, "ETag": t} for n, t in enumerate(etags)]})
    data = b"".join(chunks)
    assert s3.get_object(Bucket=bucket, Key="mp", **SSEC)["Body"].read() == data
    r = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * MiB - 10}-{5 * MiB + 9}",
                      **SSEC)
    assert r["Body"].read() == data[5 * MiB - 10:5 * MiB + 10]


def test_sse_s3_and_bucket_default(s3cloud: Any, s3: Any, bucket: str) -> None:
    data = os.urandom(50_000)
    r = s3.put_object(Bucket=bucket, Key="s", Body=data, ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256"
    got = s3.get_object(Bucket=bucket, Key="s", Range="bytes=100-199")
    assert got["Body"].read() == data[100:200] and got["ServerSideEncryption"] == "AES256"
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_encryption(Bucket=bucket)
    assert code(exc) == "ServerSideEncryptionConfigurationNotFoundError"
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.put_object(Bucket=bucket, Key="d", Body=b"default")["ServerSideEncryption"] \
        == "AES256"
    s3.copy_object(Bucket=bucket, Key="s2", CopySource={"Bucket": bucket, "Key": "s"})
    assert s3.get_object(Bucket=bucket, Key="s2")["Body"].read() == data
    s3.delete_bucket_encryption(Bucket=bucket)
    assert "ServerSideEncryption" not in s3.put_object(Bucket=bucket, Key="p", Body=b"p")
    # SSE-KMS is served too (tests/walrus/test_kms_conformance.py covers it).
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"x",
                         ServerSideEncryption="aws:kms")["ServerSideEncryption"] == "aws:kms"
