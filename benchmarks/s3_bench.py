"""Walrus vs moto_server, side by side: PUT/GET throughput, listing, and server memory.

Run: ``.venv/bin/python benchmarks/s3_bench.py [--rounds N] [--no-moto-1g]
[--put-vs-md5]``.
Prints MiB/s (best round) for PutObject/GetObject of 1 MiB and 64 MiB through presigned
URLs and through boto3 (mean), ``hashlib.md5`` alone over the same 64 MiB (best round,
measured just before and after Walrus' PUTs) with the PUT/MD5 ratio, the time of a full
ListObjectsV2 over 10,000 keys, and the server's RSS growth (VmHWM - VmRSS before)
during a 1 GiB multipart upload and a 1 GiB GET, the server's CPU time per presigned PUT
(less sensitive to other processes than the rates), and the machine's load average.
Figures, not a test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import harness

BIN = Path(sys.executable).parent
MiB = 1024 * 1024


def status_kib(pid: int, field: str) -> int:
    """A ``/proc/PID/status`` memory field in KiB."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads, live or ended)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_hwm(pid: int) -> None:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs), if permitted."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


class Server:
    """A server process under test with a boto3 client."""

    def __init__(self, name: str, cmd: list[str], port: int, endpoint: str, key: str,
                 secret: str, proc: subprocess.Popen[bytes], tmp: str):
        import boto3
        from botocore.config import Config

        self.name, self.cmd, self.port, self.proc, self.tmp = name, cmd, port, proc, tmp
        self.client = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 2}, s3={"addressing_style": "path"},
                          max_pool_connections=32, read_timeout=600))

    def stop(self) -> None:
        """Terminate the server and remove its files."""
        harness.Served(self.proc, self.port, self.tmp, "", "").stop()


def start_walrus() -> Server:
    """eucalyptus-cloud in a temp data dir."""
    c = harness.start_cloud("walrus-bench-")
    return Server("walrus", [], c.port, f"http://127.0.0.1:{c.port}/services/objectstorage",
                  c.key, c.secret, c.proc, c.tmp)


def start_moto() -> Server:
    """moto_server on a free port."""
    m = harness.start_moto("moto-bench-")
    return Server("moto", [], m.port, f"http://127.0.0.1:{m.port}", m.key, m.secret, m.proc,
                  m.tmp)


def throughput(server: Server, size: int, rounds: int) -> tuple[float, float]:
    """(PUT MiB/s, GET MiB/s) for objects of ``size`` bytes, through boto3."""
    s3 = server.client
    data = os.urandom(size)
    s3.put_object(Bucket="bench", Key="warm", Body=data)
    t0 = time.perf_counter()
    for i in range(rounds):
        s3.put_object(Bucket="bench", Key=f"o{size}-{i}", Body=data)
    put = size * rounds / MiB / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(rounds):
        body = s3.get_object(Bucket="bench", Key=f"o{size}-{i}")["Body"]
        while body.read(MiB):
            pass
    get = size * rounds / MiB / (time.perf_counter() - t0)
    return put, get


def raw_throughput(server: Server, size: int, rounds: int) -> tuple[float, float, float]:
    """(PUT MiB/s, GET MiB/s, server CPU ms per PUT) with presigned URLs over one keep-alive
    http.client connection.

    boto3 spends more CPU per byte than a fast server does (aws-chunked framing and CRC32
    in Python), so this measures the servers rather than the client.
    """
    import http.client
    from urllib.parse import urlsplit

    s3 = server.client
    data = os.urandom(size)
    buf = bytearray(MiB)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)

    def url(method: str, key: str) -> str:
        u = urlsplit(s3.generate_presigned_url(method, Params={"Bucket": "bench", "Key": key},
                                               ExpiresIn=3600))
        return f"{u.path}?{u.query}"

    puts = [url("put_object", f"raw{size}-{i}") for i in range(rounds + 1)]
    gets = [url("get_object", f"raw{size}-{i}") for i in range(rounds + 1)]

    def put(path: str) -> None:
        conn.request("PUT", path, body=data, headers={"Content-Length": str(size)})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200, resp.status

    def get(path: str) -> None:
        conn.request("GET", path)
        resp = conn.getresponse()
        assert resp.status == 200, resp.status
        got = 0
        while n := resp.readinto(buf):
            got += n
        assert got == size

    put(puts[0])
    get(gets[0])  # warm up the connection and the server
    # Best round, not the mean: on a shared machine the mean mostly measures neighbours.
    put_rate = get_rate = 0.0
    cpu0 = cpu_seconds(server.proc.pid)
    for path in puts[1:]:
        t0 = time.perf_counter()
        put(path)
        put_rate = max(put_rate, size / MiB / (time.perf_counter() - t0))
    put_cpu = (cpu_seconds(server.proc.pid) - cpu0) * 1000 / rounds
    for path in gets[1:]:
        t0 = time.perf_counter()
        get(path)
        get_rate = max(get_rate, size / MiB / (time.perf_counter() - t0))
    conn.close()
    return put_rate, get_rate, put_cpu


def md5_rate(size: int, rounds: int) -> float:
    """MiB/s of ``hashlib.md5`` alone over ``size`` bytes (best round): the bound of a PUT,
    whose ETag is the body's MD5."""
    import hashlib

    data = os.urandom(size)
    best = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        hashlib.md5(data).digest()
        best = max(best, size / MiB / (time.perf_counter() - t0))
    return best


def put_against_md5(server: Server, rounds: int) -> None:
    """Print 64 MiB presigned PUTs alternating with ``hashlib.md5`` over the same bytes
    (best and median of each, and their ratios): the PUT/MD5 figure alone, with the two
    measured in the same seconds."""
    import hashlib
    import http.client
    import statistics
    from urllib.parse import urlsplit

    data = os.urandom(64 * MiB)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    puts, md5s = [], []
    for i in range(rounds + 1):
        u = urlsplit(server.client.generate_presigned_url(
            "put_object", Params={"Bucket": "bench", "Key": f"alt{i}"}, ExpiresIn=3600))
        t0 = time.perf_counter()
        conn.request("PUT", f"{u.path}?{u.query}", body=data,
                     headers={"Content-Length": str(len(data))})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200, resp.status
        if i:  # the first warms the connection up
            puts.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        hashlib.md5(data).digest()
        md5s.append((time.perf_counter() - t0) * 1000)
    conn.close()
    best = min(md5s) / min(puts)
    median = statistics.median(md5s) / statistics.median(puts)
    print(f"64 MiB PUT (ms): best {min(puts):.1f}, median {statistics.median(puts):.1f}; "
          f"hashlib.md5 alone (ms): best {min(md5s):.1f}, median "
          f"{statistics.median(md5s):.1f}; PUT / md5: best {best:.0%}, median {median:.0%}")


def listing(server: Server, count: int = 10000) -> float:
    """Seconds for a full ListObjectsV2 over ``count`` keys (1000 per page)."""
    s3 = server.client
    s3.create_bucket(Bucket="many")
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket="many", Key=f"k/{i:06d}", Body=b"x"),
                      range(count)))
    t0 = time.perf_counter()
    n = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="many"):
        n += len(page.get("Contents", []))
    elapsed = time.perf_counter() - t0
    assert n == count, n
    return elapsed


def raw_listing(server: Server, count: int = 10000) -> float:
    """Seconds to page through the 10,000 keys with presigned ListObjectsV2 requests over
    one connection (the server's share: boto3 spends most of the time parsing XML)."""
    import http.client
    import re
    from urllib.parse import urlsplit

    s3 = server.client
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    token, n = None, 0
    t0 = time.perf_counter()
    while True:
        params = {"Bucket": "many", **({"ContinuationToken": token} if token else {})}
        u = urlsplit(s3.generate_presigned_url("list_objects_v2", Params=params))
        conn.request("GET", f"{u.path}?{u.query}")
        body = conn.getresponse().read()
        n += body.count(b"<Key>")
        m = re.search(rb"<NextContinuationToken>([^<]+)<", body)
        if m is None:
            break
        token = m.group(1).decode()
    elapsed = time.perf_counter() - t0
    conn.close()
    assert n == count, n
    return elapsed


def big_transfer(server: Server, total: int = 1024 * MiB, part: int = 64 * MiB
                 ) -> tuple[float, float, float, float]:
    """(upload MiB/s, RSS growth MiB during the upload, GET MiB/s, RSS growth during GET).

    Parts go up and the object comes down through presigned URLs on one http.client
    connection (boto3's own per-byte work would dominate the figures otherwise).
    """
    import http.client
    from urllib.parse import urlsplit

    s3 = server.client
    pid = server.proc.pid
    block = os.urandom(part)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)

    def presign(method: str, **params: Any) -> str:
        u = urlsplit(s3.generate_presigned_url(method, Params={"Bucket": "bench", "Key": "gib",
                                                               **params}, ExpiresIn=3600))
        return f"{u.path}?{u.query}"

    reset_hwm(pid)
    before = status_kib(pid, "VmRSS")
    t0 = time.perf_counter()
    up = s3.create_multipart_upload(Bucket="bench", Key="gib")["UploadId"]
    parts = []
    for n in range(1, total // part + 1):
        conn.request("PUT", presign("upload_part", UploadId=up, PartNumber=n), body=block,
                     headers={"Content-Length": str(part)})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200, resp.status
        parts.append({"PartNumber": n, "ETag": resp.getheader("ETag")})
    s3.complete_multipart_upload(Bucket="bench", Key="gib", UploadId=up,
                                 MultipartUpload={"Parts": parts})
    up_rate = total / MiB / (time.perf_counter() - t0)
    up_growth = (status_kib(pid, "VmHWM") - before) / 1024
    reset_hwm(pid)
    before = status_kib(pid, "VmRSS")
    buf = bytearray(MiB)
    t0 = time.perf_counter()
    conn.request("GET", presign("get_object"))
    resp = conn.getresponse()
    got = 0
    while n := resp.readinto(buf):
        got += n
    assert got == total, got
    get_rate = got / MiB / (time.perf_counter() - t0)
    get_growth = (status_kib(pid, "VmHWM") - before) / 1024
    conn.close()
    return up_rate, up_growth, get_rate, get_growth


def _fmt(value: float | None, key: str) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if key.endswith("list_10k_s") else f"{value:.0f}"


def main() -> None:
    """Run every figure for Walrus and moto and print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-moto-1g", action="store_true",
                        help="skip moto's 1 GiB transfer (it holds the object in memory)")
    parser.add_argument("--put-vs-md5", action="store_true",
                        help="only Walrus' 64 MiB PUTs alternating with hashlib.md5")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    if args.put_vs_md5:
        server = start_walrus()
        try:
            server.client.create_bucket(Bucket="bench")
            put_against_md5(server, args.rounds)
        finally:
            server.stop()
        print(f"load average (1 min): {load_before:.2f} at the start, "
              f"{os.getloadavg()[0]:.2f} at the end")
        return
    results: dict[str, dict[str, float]] = {}
    for start in (start_walrus, start_moto):
        server = start()
        try:
            server.client.create_bucket(Bucket="bench")
            r: dict[str, float] = {}
            r["put_1m"], r["get_1m"], r["cpu_1m"] = raw_throughput(server, MiB,
                                                                   args.rounds * 4)
            r["md5_64m"] = md5_rate(64 * MiB, args.rounds)
            r["put_64m"], r["get_64m"], r["cpu_64m"] = raw_throughput(server, 64 * MiB,
                                                                      args.rounds)
            r["md5_64m"] = max(r["md5_64m"], md5_rate(64 * MiB, args.rounds))
            r["bput_1m"], r["bget_1m"] = throughput(server, MiB, args.rounds * 4)
            r["bput_64m"], r["bget_64m"] = throughput(server, 64 * MiB, args.rounds)
            r["blist_10k_s"] = listing(server)
            r["list_10k_s"] = raw_listing(server)
            if server.name == "walrus" or not args.no_moto_1g:
                (r["put_1g"], r["rss_put_1g"], r["get_1g"],
                 r["rss_get_1g"]) = big_transfer(server)
            results[server.name] = r
            print(f"{server.name}: done", file=sys.stderr)
        finally:
            server.stop()
    rows = [("PutObject 1 MiB (MiB/s)", "put_1m"), ("  server CPU per PUT (ms)", "cpu_1m"),
            ("GetObject 1 MiB (MiB/s)", "get_1m"),
            ("PutObject 64 MiB (MiB/s)", "put_64m"), ("  server CPU per PUT (ms)", "cpu_64m"),
            ("GetObject 64 MiB (MiB/s)", "get_64m"),
            ("boto3 PutObject 1 MiB (MiB/s)", "bput_1m"),
            ("boto3 GetObject 1 MiB (MiB/s)", "bget_1m"),
            ("boto3 PutObject 64 MiB (MiB/s)", "bput_64m"),
            ("boto3 GetObject 64 MiB (MiB/s)", "bget_64m"),
            ("ListObjectsV2 10,000 keys (s)", "list_10k_s"),
            ("boto3 ListObjectsV2 10,000 keys (s)", "blist_10k_s"),
            ("1 GiB multipart upload (MiB/s)", "put_1g"),
            ("  server RSS growth (MiB)", "rss_put_1g"),
            ("1 GiB GetObject (MiB/s)", "get_1g"), ("  server RSS growth (MiB)", "rss_get_1g")]
    print(f"{'':34}{'walrus':>12}{'moto':>12}{'ratio':>9}")
    for label, key in rows:
        w = results.get("walrus", {}).get(key)
        m = results.get("moto", {}).get(key)
        ratio = ""
        if w and m:
            ratio = f"{(m / w if key.endswith('list_10k_s') else w / m):.1f}x"
            if key.startswith(("rss", "cpu")):
                ratio = ""
        print(f"{label:34}{_fmt(w, key):>12}{_fmt(m, key):>12}{ratio:>9}")
        if key == "put_64m":
            md5 = results.get("walrus", {}).get("md5_64m")
            if md5:
                put = f"{w / md5:.0%}" if w else "-"
                print(f"{'  hashlib.md5 alone 64 MiB (MiB/s)':34}{md5:>12.0f}"
                      f"{'':>12}{'':>9}\n{'  Walrus PUT / md5':34}{put:>12}")
    # The machine is shared: figures mean little without how busy it was.
    print(f"load average (1 min): {load_before:.2f} at the start, "
          f"{os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
