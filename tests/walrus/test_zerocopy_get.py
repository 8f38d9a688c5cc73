"""GetObject through the zero-copy path (os.sendfile from blob files): exact bytes for
whole objects and ranges across multipart blobs, clients that leave mid-body, and
pipelined requests on one connection."""

from __future__ import annotations

import hashlib
import os
import socket
from typing import Any
from urllib.parse import urlsplit

MiB = 1024 * 1024


def _multipart(s3: Any, bucket: str, key: str, parts: list[bytes]) -> None:
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done = []
    for n, data in enumerate(parts, 1):
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=n,
                              Body=data)["ETag"]
        done.append({"PartNumber": n, "ETag": etag})
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up,
                                 MultipartUpload={"Parts": done})


def test_ranges_across_multipart_blobs(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(123)]
    whole = b"".join(parts)
    _multipart(s3, bucket, "mp", parts)
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == whole
    for first, last in [(0, 0), (5 * MiB - 10, 5 * MiB + 10), (10 * MiB - 1, len(whole) - 1),
                        (3, 10 * MiB + 50)]:
        got = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={first}-{last}")
        assert got["ContentRange"] == f"bytes {first}-{last}/{len(whole)}"
        assert got["Body"].read() == whole[first:last + 1]
    second = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)["Body"].read()
    assert second == parts[1]


def _raw_get(port: int, url: str) -> bytes:
    u = urlsplit(url)
    return (f"GET {u.path}?{u.query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").encode()


def _read_response(sock: socket.socket, buf: bytearray) -> tuple[bytes, bytes]:
    """(head, body) of one response with a Content-Length, leaving extra bytes in buf."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        assert data, "connection closed before the headers"
        buf += data
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    body = bytearray(rest)
    while len(body) < length:
        data = sock.recv(4 * MiB)
        assert data, "connection closed mid-body"
        body += data
    buf[:] = body[length:]
    return head, bytes(body[:length])


def test_client_leaving_mid_body_and_pipelining(s3: Any, bucket: str, s3cloud: Any) -> None:
    big = os.urandom(48 * MiB)
    s3.put_object(Bucket=bucket, Key="big", Body=big)
    s3.put_object(Bucket=bucket, Key="small", Body=b"hello")
    port = s3cloud.port
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "big"})
    for _ in range(3):  # leave after the first bytes, several times
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(_raw_get(port, url))
            assert sock.recv(MiB)
    small = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "small"})
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # Three requests in one write: the answers must come back whole and in order.
        sock.sendall(_raw_get(port, small) + _raw_get(port, url) + _raw_get(port, small))
        buf = bytearray()
        head, body = _read_response(sock, buf)
        assert head.startswith(b"HTTP/1.1 200") and body == b"hello"
        head, body = _read_response(sock, buf)
        assert head.startswith(b"HTTP/1.1 200")
        assert hashlib.md5(body).digest() == hashlib.md5(big).digest()
        head, body = _read_response(sock, buf)
        assert body == b"hello"
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == big
