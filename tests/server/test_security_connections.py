"""Connections: half-open requests are closed after ``header_timeout_seconds``; a client
that hangs up mid-request is not an internal error; X-Forwarded-For is believed only from
the proxies ``trusted_proxies`` names.

Raw sockets and real clients against real clouds.
"""

from __future__ import annotations

import base64
import json
import socket
import time
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from server.metadata import sign

SECRET = "forwarded-test-secret"


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """True when the server closes ``sock`` (EOF or reset) within ``seconds``."""
    sock.settimeout(seconds)
    try:
        while True:
            if not sock.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.fixture(scope="module")
def short(tmp_path_factory: Any) -> Any:
    """A cloud whose header timeout is one second."""
    from cloudproc import running_cloud

    with running_cloud("[cloud]\nheader_timeout_seconds = 1.0\n") as c:
        yield c


@pytest.mark.parametrize("partial", [
    b"",
    b"GET /services/compute?Action=DescribeRegions HTTP/1.1\r\n",
    b"POST /services/compute HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-",
], ids=["nothing", "request-line", "half-headers"])
def test_half_open_request_is_closed(short: Any, partial: bytes) -> None:
    """A connection that never completes its headers is closed after the timeout."""
    with socket.create_connection(("127.0.0.1", short.port), timeout=10) as sock:
        sock.sendall(partial)
        assert _closed_within(sock, 15.0)


def test_slow_trickle_of_headers_is_closed(short: Any) -> None:
    """Trickling a header byte at a time does not keep the connection open."""
    with socket.create_connection(("127.0.0.1", short.port), timeout=10) as sock:
        sock.sendall(b"GET /latest/meta-data/ HTTP/1.1\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 15:
            try:
                sock.sendall(b"X")
            except OSError:
                closed = True
                break
            if _closed_within(sock, 0.2):
                closed = True
                break
        assert closed


def test_keep_alive_connection_second_request_bounded(short: Any) -> None:
    """After a whole request and its answer, a half-sent second request is closed too;
    complete requests on the connection are answered normally."""
    with socket.create_connection(("127.0.0.1", short.port), timeout=10) as sock:
        sock.sendall(b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 404"), answer
        sock.sendall(b"GET /latest/meta-data/ HTTP/1.1\r\nHost: 1")
        assert _closed_within(sock, 15.0)
    assert short.client("ec2").describe_regions()["Regions"]


@pytest.mark.parametrize("where", ["header", "url"])
def test_oversized_headers_refused(short: Any, where: str) -> None:
    """Endless headers (or request line) are cut off with 431, not buffered forever."""
    with socket.create_connection(("127.0.0.1", short.port), timeout=10) as sock:
        if where == "url":
            sock.sendall(b"GET /" + b"a" * 70000)
        else:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            for n in range(100):
                try:
                    sock.sendall(b"X-Filler-%d: %s\r\n" % (n, b"v" * 1000))
                except OSError:
                    break
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
    # Ordinary large headers (a long presigned query, 8 KiB of metadata) still pass.
    resp = requests.get(short.url + "/latest/meta-data/", timeout=10,
                        headers={f"X-Big-{n}": "v" * 1000 for n in range(8)})
    assert resp.status_code == 404


def test_default_header_timeout_is_configured(cloud: Any) -> None:
    """With the default (30 s) a prompt client is unaffected, a silent one still open
    after a moment (the timeout is not tiny)."""
    with socket.create_connection(("127.0.0.1", cloud.port), timeout=10) as sock:
        sock.sendall(b"GET /latest/meta-data/ HTTP/1.1\r\n")
        assert not _closed_within(sock, 1.5)


def test_disconnect_mid_request_is_not_an_internal_error(cloud: Any) -> None:
    """A query client that sends half its body and leaves: no traceback, and the server
    keeps serving."""
    creds = cloud.credentials()
    url = cloud.url + "/services/compute"
    body = b"Action=DescribeRegions&Version=2016-11-15"
    req = AWSRequest("POST", url, data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(creds["key"], creds["secret"]), "ec2", "us-east-1").add_auth(req)
    head = ["POST /services/compute HTTP/1.1"]
    head += [f"{k}: {v}" for k, v in req.headers.items() if k.lower() != "content-length"]
    head.append("Content-Length: 100000")
    mark = cloud.log_path.stat().st_size
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", cloud.port), timeout=10) as sock:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            time.sleep(0.2)
    time.sleep(0.5)
    assert cloud.client("ec2").describe_regions()["Regions"]
    log = cloud.log_path.read_bytes()[mark:]
    assert b"Traceback" not in log and b"internal error" not in log, log[-2000:]


# -- X-Forwarded-For ---------------------------------------------------------------------
def _cloud_with_instance(config: str) -> Any:
    from cloudproc import new_cloud

    c = new_cloud(f'[cloud]\nmetadata_secret = "{SECRET}"\n{config}')
    c.start()
    ec2 = c.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    inst = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                             UserData="secret-user-data")["Instances"][0]
    c.instance = inst
    s3 = c.client("s3")
    s3.create_bucket(Bucket="srcip")
    s3.put_object(Bucket="srcip", Key="k", Body=b"only from 203.0.113.7")
    s3.put_bucket_policy(Bucket="srcip", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::srcip/*",
            "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.7/32"}}}]}))
    return c


@pytest.fixture(scope="module")
def untrusting() -> Any:
    """A cloud with the default configuration: no trusted proxies."""
    from cloudproc import cleanup

    c = _cloud_with_instance("")
    yield c
    cleanup(c)


@pytest.fixture(scope="module")
def behind_proxy() -> Any:
    """A cloud that names 127.0.0.1 as its reverse proxy."""
    from cloudproc import cleanup

    c = _cloud_with_instance('trusted_proxies = ["127.0.0.1", "10.9.0.0/16"]\n')
    yield c
    cleanup(c)


def _wait_private_ip(c: Any) -> str:
    ec2 = c.client("ec2")
    iid = c.instance["InstanceId"]
    for _ in range(100):
        inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        if inst.get("PrivateIpAddress"):
            return str(inst["PrivateIpAddress"])
        time.sleep(0.1)
    raise AssertionError("no private address")


def test_forwarded_for_not_trusted_by_default(untrusting: Any) -> None:
    """From loopback, X-Forwarded-For naming an instance does not read its user-data, and
    does not satisfy an aws:SourceIp condition."""
    ip = _wait_private_ip(untrusting)
    resp = requests.get(untrusting.url + "/latest/user-data",
                        headers={"X-Forwarded-For": ip}, timeout=10)
    assert resp.status_code == 404 and b"secret-user-data" not in resp.content
    resp = requests.get(untrusting.url + "/services/objectstorage/srcip/k",
                        headers={"X-Forwarded-For": "203.0.113.7"}, timeout=10)
    assert resp.status_code == 403, resp.text
    # The signed proxy header is still the way a node-local proxy names an instance.
    iid = untrusting.instance["InstanceId"]
    resp = requests.get(untrusting.url + "/latest/user-data", timeout=10, headers={
        "X-Instance-ID": iid, "X-Instance-ID-Signature": sign(SECRET, iid)})
    assert resp.content == b"secret-user-data"


def test_forwarded_for_trusted_from_named_proxy(behind_proxy: Any) -> None:
    """Behind a proxy the configuration names, its X-Forwarded-For is the client."""
    ip = _wait_private_ip(behind_proxy)
    resp = requests.get(behind_proxy.url + "/latest/user-data",
                        headers={"X-Forwarded-For": ip}, timeout=10)
    assert resp.content == b"secret-user-data"
    resp = requests.get(behind_proxy.url + "/services/objectstorage/srcip/k",
                        headers={"X-Forwarded-For": "203.0.113.7"}, timeout=10)
    assert resp.status_code == 200, resp.text
    assert base64.b64encode(resp.content)


@pytest.mark.parametrize("value", ['["not-an-address"]', '"127.0.0.1"', "[1]"])
def test_trusted_proxies_validated(make_cloud: Any, value: str) -> None:
    """A bad trusted_proxies value is one line naming the key, exit status 2."""
    import subprocess

    from cloudproc import BIN

    c = make_cloud(f"[cloud]\ntrusted_proxies = {value}\n", start=False)
    cfg = c.data_dir / "cloud.toml"
    cfg.write_text(c.config_text)
    proc = subprocess.run([str(BIN / "eucalyptus-cloud"), "--config", str(cfg), "--data-dir",
                           str(c.data_dir)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "cloud.trusted_proxies" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
