#!/usr/bin/env python3
"""HTTPS cost: IAM ``ListUsers`` through boto3 over the cloud's plain HTTP endpoint and its
HTTPS endpoint (generated CA, verified), side by side, on one keep-alive connection each;
plus the cost of one console password check (scrypt) and of a console log-in round trip.

Prints requests/s (median of N rounds, default 5, of 100 requests, measured alternately)
and their ratio.  Then large GETs: MB/s of a 128 MiB Walrus object read with requests over
HTTP and HTTPS (best of N), and PUTs of it (a presigned URL), beside the ceiling of TLS itself on this machine: the same
bytes written from memory by a bare Python TLS socket (the same OpenSSL, cipher and
certificate) to a reader like the client's.
Usage: ``python benchmarks/https_bench.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from cloudproc import cleanup, new_cloud  # noqa: E402

REQUESTS = 100
OBJECT = 128 * 1024 * 1024


def get_rate(url: str, verify: object) -> float:
    """MB/s of one streamed GET of ``url``."""
    import requests

    start = time.perf_counter()
    got = 0
    with requests.get(url, stream=True, verify=verify, timeout=120) as r:
        for chunk in r.iter_content(1024 * 1024):
            got += len(chunk)
    assert got == OBJECT, got
    return got / (time.perf_counter() - start) / 1e6


def put_rate(url: str, data: bytes, verify: object) -> float:
    """MB/s of one PUT of ``data`` to a presigned ``url``."""
    import requests

    start = time.perf_counter()
    r = requests.put(url, data=data, verify=verify, timeout=300)
    assert r.status_code == 200, r.text
    return len(data) / (time.perf_counter() - start) / 1e6


def bare_tls_rate(cert: str, key: str, ca: str) -> float:
    """MB/s of OBJECT bytes sent over a bare TLS socket (a thread) to this thread."""
    import socket
    import ssl
    import threading

    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    payload = memoryview(os.urandom(1024 * 1024))

    def serve() -> None:
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            for _ in range(OBJECT // len(payload)):
                tls.sendall(payload)

    thread = threading.Thread(target=serve)
    thread.start()
    client_ctx = ssl.create_default_context(cafile=ca)
    buf = bytearray(1024 * 1024)
    start = time.perf_counter()
    with client_ctx.wrap_socket(socket.create_connection(listener.getsockname()),
                                server_hostname="127.0.0.1") as tls:
        got = 0
        while got < OBJECT:
            n = tls.recv_into(buf)
            if not n:
                break
            got += n
    elapsed = time.perf_counter() - start
    thread.join()
    listener.close()
    return got / elapsed / 1e6


def rate(client: object) -> float:
    """Requests per second of ListUsers."""
    start = time.perf_counter()
    for _ in range(REQUESTS):
        client.list_users()  # type: ignore[attr-defined]
    return REQUESTS / (time.perf_counter() - start)


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import boto3
    import requests
    from botocore.config import Config

    from server.auth.login import check_password, hash_password

    cloud = new_cloud(https=True)
    cloud.start()
    try:
        creds = cloud.credentials()
        common = {"region_name": "us-east-1", "aws_access_key_id": creds["key"],
                  "aws_secret_access_key": creds["secret"],
                  "config": Config(retries={"max_attempts": 1})}
        plain = boto3.client("iam", endpoint_url=cloud.url + "/services/Euare", **common)
        tls = boto3.client("iam", endpoint_url=cloud.https_url + "/services/Euare",
                           verify=str(cloud.ca), **common)
        rate(plain), rate(tls)  # warm up both connections
        http_rates, https_rates = [], []
        for _ in range(args.rounds):
            http_rates.append(rate(plain))
            https_rates.append(rate(tls))
        stored = hash_password("benchmark password")
        start = time.perf_counter()
        for _ in range(10):
            check_password("benchmark password", stored)
        scrypt_ms = (time.perf_counter() - start) * 100
        password = (cloud.data_dir / "admin-password").read_text().strip()
        session = requests.Session()
        times = []
        for _ in range(5):
            page = session.get(cloud.https_url + "/console/login", verify=str(cloud.ca))
            token = page.text.split('name="csrf" value="')[1].split('"')[0]
            start = time.perf_counter()
            session.post(cloud.https_url + "/console/login", verify=str(cloud.ca),
                         data={"csrf": token, "account": "eucalyptus", "user": "admin",
                               "password": password})
            times.append((time.perf_counter() - start) * 1000)
        s3 = boto3.client("s3", endpoint_url=cloud.url + "/services/objectstorage", **common)
        s3.create_bucket(Bucket="bench")
        body = os.urandom(OBJECT)
        s3.put_object(Bucket="bench", Key="large", Body=body, ACL="public-read")
        path = "/services/objectstorage/bench/large"
        put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "bench",
                                                                   "Key": "up"})
        put_http = max(put_rate(put_url, body, True) for _ in range(args.rounds))
        put_https = max(put_rate(put_url.replace(cloud.url, cloud.https_url), body,
                                 str(cloud.ca)) for _ in range(args.rounds))
        get_http = max(get_rate(cloud.url + path, True) for _ in range(args.rounds))
        get_https = max(get_rate(cloud.https_url + path, str(cloud.ca))
                        for _ in range(args.rounds))
        data = cloud.data_dir
        bare = max(bare_tls_rate(str(data / "https-cert.pem"), str(data / "https-key.pem"),
                                 str(cloud.ca)) for _ in range(args.rounds))
    finally:
        cleanup(cloud)
    h, s = statistics.median(http_rates), statistics.median(https_rates)
    print(f"{'IAM ListUsers, boto3, keep-alive':40} {'HTTP':>10} {'HTTPS':>10} {'ratio':>7}")
    print(f"{'requests/s (median of ' + str(args.rounds) + ' x 100)':40} {h:10.0f} {s:10.0f} "
          f"{s / h:7.2f}")
    print(f"{'GET 128 MiB object, requests, MB/s':40} {get_http:10.0f} {get_https:10.0f} "
          f"{get_https / get_http:7.2f}")
    print(f"{'PUT 128 MiB object, requests, MB/s':40} {put_http:10.0f} {put_https:10.0f} "
          f"{put_https / put_http:7.2f}")
    print(f"{'bare Python TLS socket, MB/s':40} {'':10} {bare:10.0f}")
    print(f"scrypt password check (n=2^14, r=8): {scrypt_ms:.1f} ms")
    print(f"console log-in over HTTPS (POST + page): {statistics.median(times):.1f} ms median")


if __name__ == "__main__":
    main()
