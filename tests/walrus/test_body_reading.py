"""Request bodies read past the HTTP parser: a body that declares at least 1 MiB is read
straight into the pieces Walrus digests and writes.  These cases check that every byte
lands once and in order (sizes at the piece boundaries, bodies that arrive in dribs),
and that the connection stays in step afterwards: a request pipelined behind a large
body, a body the server answers before reading it, a client that leaves mid-body,
``Expect: 100-continue``, and the same over HTTPS."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import socket
import ssl
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from cloudproc import CloudProcess, running_cloud

MiB = 1024 * 1024


def _target(s3: Any, method: str, bucket: str, key: str) -> str:
    u = urlsplit(s3.generate_presigned_url(method, Params={"Bucket": bucket, "Key": key},
                                           ExpiresIn=600))
    return f"{u.path}?{u.query}"


def _put_head(port: int, target: str, size: int, extra: str = "") -> bytes:
    return (f"PUT {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Length: {size}\r\n{extra}\r\n").encode()


def _get_head(port: int, target: str) -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def _response(sock: socket.socket, buf: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One response (status, headers, body) with a Content-Length; extra bytes stay in
    ``buf``."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        assert data, "connection closed before the headers"
        buf += data
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    body = bytearray(rest)
    while len(body) < length:
        data = sock.recv(MiB)
        assert data, "connection closed mid-body"
        body += data
    buf[:] = body[length:]
    return int(lines[0].split()[1]), headers, bytes(body[:length])


def _etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


@pytest.mark.parametrize("size", [MiB - 1, MiB, MiB + 1, 2 * MiB, 2 * MiB + 1,
                                  5 * MiB + 12345])
def test_sizes_at_piece_boundaries(s3: Any, bucket: str, s3cloud: CloudProcess,
                                   size: int) -> None:
    data = os.urandom(size)
    conn = http.client.HTTPConnection("127.0.0.1", s3cloud.port, timeout=60)
    conn.request("PUT", _target(s3, "put_object", bucket, "k"), body=data,
                 headers={"Content-Length": str(size)})
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    assert resp.getheader("ETag") == _etag(data)
    resp.read()
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["ContentLength"] == size and got["Body"].read() == data


def test_body_arriving_in_small_writes(s3: Any, bucket: str, s3cloud: CloudProcess) -> None:
    """Pieces fill over many reads (and some reads end exactly on a piece's end)."""
    data = os.urandom(3 * MiB + 77)
    with socket.create_connection(("127.0.0.1", s3cloud.port), timeout=60) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(_put_head(s3cloud.port, _target(s3, "put_object", bucket, "slow"),
                               len(data)))
        step = [1, 1000, 65536, MiB - 65537, 333333]
        offset = i = 0
        while offset < len(data):
            n = step[i % len(step)]
            sock.sendall(data[offset:offset + n])
            offset += n
            i += 1
            if i % 7 == 0:
                time.sleep(0.01)  # let the server read what is there
        status, headers, _ = _response(sock, bytearray())
    assert status == 200 and headers["etag"] == _etag(data)
    assert s3.get_object(Bucket=bucket, Key="slow")["Body"].read() == data


def test_requests_pipelined_behind_a_large_body(s3: Any, bucket: str,
                                               s3cloud: CloudProcess) -> None:
    """The bytes right after a large body are the next request's: parsed, answered in
    order, on the same connection."""
    port = s3cloud.port
    s3.put_object(Bucket=bucket, Key="small", Body=b"hello")
    big = os.urandom(4 * MiB + 3)
    tail = b"abc" * 1000
    wire = (_put_head(port, _target(s3, "put_object", bucket, "big"), len(big)) + big
            + _get_head(port, _target(s3, "get_object", bucket, "small"))
            + _put_head(port, _target(s3, "put_object", bucket, "tail"), len(tail)) + tail
            + _get_head(port, _target(s3, "get_object", bucket, "big")))
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(wire)
        buf = bytearray()
        status, headers, _ = _response(sock, buf)
        assert status == 200 and headers["etag"] == _etag(big)
        assert _response(sock, buf)[::2] == (200, b"hello")
        status, headers, _ = _response(sock, buf)
        assert status == 200 and headers["etag"] == _etag(tail)
        status, _, body = _response(sock, buf)
        assert status == 200 and body == big
    assert s3.get_object(Bucket=bucket, Key="tail")["Body"].read() == tail


def test_body_answered_before_it_is_read(s3: Any, bucket: str,
                                         s3cloud: CloudProcess) -> None:
    """A refused upload is answered at once, and the connection is closed (its unread
    body would otherwise be taken for the next request), as S3 does; the server goes on
    serving."""
    port = s3cloud.port
    s3.put_object(Bucket=bucket, Key="small", Body=b"hello")
    target = _target(s3, "put_object", bucket, "refused")
    forged = target.replace("/refused?", "/refused2?")  # signed for another key
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(_put_head(port, forged, 6 * MiB) + os.urandom(MiB))
        status, headers, body = _response(sock, bytearray())
        assert status == 403 and b"SignatureDoesNotMatch" in body
        assert headers["connection"] == "close"
        with pytest.raises(OSError):
            for _ in range(100):  # the server closed its end
                sock.sendall(os.urandom(MiB))
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(_get_head(port, _target(s3, "get_object", bucket, "small")))
        assert _response(sock, bytearray())[::2] == (200, b"hello")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="refused")


def test_client_leaving_mid_body(s3: Any, bucket: str, s3cloud: CloudProcess) -> None:
    port = s3cloud.port
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(_put_head(port, _target(s3, "put_object", bucket, "gone"), 16 * MiB)
                         + os.urandom(5 * MiB + 7))
    data = os.urandom(2 * MiB)
    s3.put_object(Bucket=bucket, Key="after", Body=data)
    assert s3.get_object(Bucket=bucket, Key="after")["Body"].read() == data
    deadline = time.time() + 10
    while time.time() < deadline:  # the abandoned uploads end as their reads fail
        if "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="gone"):
            break
        time.sleep(0.1)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="gone")


def test_expect_100_continue(s3: Any, bucket: str, s3cloud: CloudProcess) -> None:
    port = s3cloud.port
    data = os.urandom(3 * MiB)
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(_put_head(port, _target(s3, "put_object", bucket, "cont"), len(data),
                               "Expect: 100-continue\r\n"))
        interim = sock.recv(65536)
        assert interim.startswith(b"HTTP/1.1 100")
        sock.sendall(data)
        buf = bytearray(interim.partition(b"\r\n\r\n")[2])
        status, headers, _ = _response(sock, buf)
    assert status == 200 and headers["etag"] == _etag(data)
    got = s3.head_object(Bucket=bucket, Key="cont")
    assert got["ETag"] == _etag(data) and base64.b64encode(
        bytes.fromhex(got["ETag"].strip('"'))).decode() == md5


@pytest.fixture(scope="module")
def tls_cloud() -> Iterator[CloudProcess]:
    with running_cloud(https=True) as c:
        yield c


def test_large_bodies_and_their_gets_over_https(tls_cloud: CloudProcess) -> None:
    import boto3
    from botocore.config import Config

    creds = tls_cloud.credentials()
    s3 = boto3.client("s3", endpoint_url=tls_cloud.https_url + "/services/objectstorage",
                      region_name="us-east-1", aws_access_key_id=creds["key"],
                      aws_secret_access_key=creds["secret"], verify=str(tls_cloud.ca),
                      config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket="tls")
    ctx = ssl.create_default_context(cafile=str(tls_cloud.ca))
    conn = http.client.HTTPSConnection("127.0.0.1", tls_cloud.https_port, context=ctx,
                                       timeout=60)
    for n, size in enumerate([MiB + 1, 7 * MiB + 5]):
        data = os.urandom(size)
        conn.request("PUT", _target(s3, "put_object", "tls", f"o{n}"), body=data,
                     headers={"Content-Length": str(size)})
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("ETag") == _etag(data)
        resp.read()
        conn.request("GET", _target(s3, "get_object", "tls", f"o{n}"))
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read() == data
