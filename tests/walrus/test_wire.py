"""Wire-level cases real clients rarely produce: signed aws-chunked uploads, trailers,
SigV2 headers, virtual-host addressing, and the virtual-host rule itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import uuid
import zlib
from typing import Any

import pytest
from botocore.auth import HmacV1Auth, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from server.walrus.service import vhost_bucket


@pytest.mark.parametrize("host,public,expected", [
    ("127.0.0.1:8773", None, None), ("localhost:8773", None, None), ("[::1]:8773", None, None),
    ("cloud.example.com", "cloud.example.com", None),
    ("pics.cloud.example.com", "cloud.example.com", "pics"),
    ("my.bucket.s3.example.com", None, "my.bucket"), ("s3.example.com", None, None),
    ("b1.objectstorage.example.com:8773", None, "b1"), ("b2.localhost:80", None, "b2"),
    ("compute.example.com", None, None), ("host", None, None),
    ("ec2.cloud.example.com", "cloud.example.com", None),
])
def test_vhost_rule(host: str, public: str | None, expected: str | None) -> None:
    assert vhost_bucket(host, public) == expected


def send(cloud: Any, req: AWSRequest, host: str | None = None) -> tuple[int, bytes]:
    """Send a prepared request to the cloud's port (whatever host it was signed for)."""
    conn = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=30)
    path = req.url.split("/", 3)[3] if req.url.count("/") >= 3 else ""
    headers = dict(req.headers.items())
    headers["Host"] = host or req.url.split("/")[2]
    conn.request(req.method, "/" + path, body=req.body, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.read()


def _chunked_body(data: bytes, chunk: int, key: bytes, scope: str, amz_date: str,
                  seed: str, trailer: str | None = None) -> bytes:
    empty = hashlib.sha256(b"").hexdigest()
    out, prev = [], seed
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
    for piece in pieces:
        sts = (f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{prev}\n{empty}\n"
               f"{hashlib.sha256(piece).hexdigest()}")
        prev = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        out.append(f"{len(piece):x};chunk-signature={prev}\r\n".encode() + piece + b"\r\n")
    body = b"".join(out)
    if trailer is not None:
        body = body[:-2]  # the final chunk's CRLF is followed by trailer lines
        text = f"x-amz-checksum-crc32:{trailer}\n"
        sts = (f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{prev}\n"
               f"{hashlib.sha256(text.encode()).hexdigest()}")
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        body += (f"x-amz-checksum-crc32:{trailer}\r\nx-amz-trailer-signature:{sig}\r\n\r\n"
                 .encode())
    return body


@pytest.mark.parametrize("trailer", [False, True])
@pytest.mark.parametrize("tamper", [False, True])
def test_signed_chunked_upload(s3cloud: Any, s3: Any, bucket: str, trailer: bool,
                               tamper: bool) -> None:
    from server.auth.sigv4 import signing_key

    creds = s3cloud.credentials()
    data = bytes(range(256)) * 300  # 76800 bytes: chunks of 64 KiB + remainder
    url = f"{s3cloud.url}/services/objectstorage/{bucket}/chunked"
    payload = ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" if trailer
               else "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    headers = {"x-amz-content-sha256": payload, "content-encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(len(data))}
    if trailer:
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    req = AWSRequest("PUT", url, headers=headers, data=b"")

    class StreamingAuth(S3SigV4Auth):
        def payload(self, request: Any) -> str:
            return payload

    StreamingAuth(Credentials(creds["key"], creds["secret"]), "s3", "us-east-1").add_auth(req)
    amz_date = req.headers["x-amz-date"]
    seed = req.headers["Authorization"].rsplit("Signature=", 1)[1]
    key = signing_key(creds["secret"], amz_date[:8], "us-east-1", "s3")
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    body = _chunked_body(data, 65536, key, f"{amz_date[:8]}/us-east-1/s3/aws4_request",
                         amz_date, seed, crc if trailer else None)
    if tamper:
        body = body.replace(b"\x05\x06\x07", b"\x05\x06\x08", 1)
    req.data = body
    req.headers["Content-Length"] = str(len(body))
    status, text = send(s3cloud, req)
    if tamper:
        assert status == 403 and b"SignatureDoesNotMatch" in text
    else:
        assert status == 200, text
        assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == data


def test_sigv2_header_and_vhost(s3cloud: Any, s3: Any, bucket: str) -> None:
    creds = s3cloud.credentials()
    s3.put_object(Bucket=bucket, Key="hello world", Body=b"vhost")
    # Virtual-host style: Host names the bucket; signed with SigV4 and with SigV2.
    host = f"{bucket}.s3.example.com:{s3cloud.port}"
    req = AWSRequest("GET", f"http://{host}/hello%20world")
    S3SigV4Auth(Credentials(creds["key"], creds["secret"]), "s3", "us-east-1").add_auth(req)
    status, body = send(s3cloud, req)
    assert (status, body) == (200, b"vhost")
    req = AWSRequest("GET", f"http://{host}/hello%20world")
    req.auth_path = f"/{bucket}/hello%20world"  # SigV2 signs the bucket into the resource
    HmacV1Auth(Credentials(creds["key"], creds["secret"])).add_auth(req)
    status, body = send(s3cloud, req)
    assert (status, body) == (200, b"vhost")
    req = AWSRequest("GET", f"http://127.0.0.1:{s3cloud.port}/services/objectstorage/"
                            f"{bucket}/hello%20world")
    HmacV1Auth(Credentials(creds["key"], "wrong" * 8)).add_auth(req)
    status, body = send(s3cloud, req)
    assert status == 403 and b"SignatureDoesNotMatch" in body


def test_error_document(s3cloud: Any) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", s3cloud.port, timeout=10)
    name = "nb-" + uuid.uuid4().hex[:8]
    conn.request("GET", f"/services/objectstorage/{name}/k")
    resp = conn.getresponse()
    text = resp.read().decode()
    assert resp.status == 404
    assert "<Code>NoSuchBucket</Code>" in text and f"<BucketName>{name}</BucketName>" in text
    assert resp.getheader("x-amz-request-id")
