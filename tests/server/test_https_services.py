"""Every service over the HTTPS endpoint, with the real clients verifying the cloud's CA:
boto3 (S3 objects of every size and shape, EC2, IAM, STS, CloudWatch, Auto Scaling, ELB),
awscli and the euca2ools commands as subprocesses, and the connection handling beneath
them (keep-alive, pipelining, HTTP/1.0, clients that leave in the middle of a body)."""

from __future__ import annotations

import base64
import configparser
import hashlib
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from cloudproc import CloudProcess, cleanup, new_cloud, postgres_url
from helpers import wait_state

BIN = Path(sys.executable).parent
MiB = 1024 * 1024
S3_PATH = "/services/objectstorage"
BUCKET = "tls-objects"
#: Object sizes around the server's read and send boundaries (1 MiB pieces, 64 KiB TLS
#: writes) and one large enough to need many TLS records and flow control.
SMALL, ODD, LARGE = 1234, MiB + 1, 20 * MiB
HEADER_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def tls(database: str) -> Iterator[CloudProcess]:
    """A cloud serving HTTPS beside HTTP, for this module (a short header timeout, for
    the half-open test: every other client sends its headers at once)."""
    c = new_cloud(f"[cloud]\nheader_timeout_seconds = {HEADER_TIMEOUT}\n",
                  database=postgres_url() if database == "postgresql" else None, https=True)
    c.start()
    yield c
    cleanup(c)


def ini_urls(cloud: CloudProcess) -> dict[str, str]:
    """The ``NAME-url`` lines of the cloud's euca2ools.ini (they name HTTPS)."""
    cp = configparser.ConfigParser()
    cp.read(cloud.ini)
    region = next(s for s in cp.sections() if s.startswith("region "))
    return {k[:-4]: v for k, v in cp[region].items() if k.endswith("-url")}


def tls_client(cloud: CloudProcess, service: str, **config: Any) -> Any:
    """A boto3 client at the service's HTTPS URL from euca2ools.ini, verifying the CA."""
    creds = cloud.credentials()
    url = ini_urls(cloud)[service]
    assert url.startswith(cloud.https_url), url
    name = {"monitoring": "cloudwatch", "elasticloadbalancing": "elb"}.get(service, service)
    if name == "s3":
        config.setdefault("s3", {"addressing_style": "path"})
    return boto3.client(name, endpoint_url=url, region_name="us-east-1", verify=str(cloud.ca),
                        aws_access_key_id=creds["key"], aws_secret_access_key=creds["secret"],
                        config=Config(retries={"max_attempts": 1}, **config))


@pytest.fixture(scope="module")
def s3(tls: CloudProcess) -> Any:
    """The admin's S3 client over HTTPS, with one bucket of objects of the test sizes."""
    client = tls_client(tls, "s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(scope="module")
def blobs(s3: Any) -> dict[str, bytes]:
    """Objects of the test sizes, put over HTTPS (key -> bytes)."""
    made = {}
    for size in (SMALL, ODD, LARGE):
        data = os.urandom(size)
        key = f"obj-{size}"
        put = s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
        made[key] = data
    return made


# -- S3 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [SMALL, ODD, LARGE])
def test_s3_get_and_head(s3: Any, blobs: dict[str, bytes], size: int) -> None:
    """GET returns the very bytes PUT (the zero-copy path must not bypass TLS); HEAD the
    length and ETag with no body."""
    key = f"obj-{size}"
    got = s3.get_object(Bucket=BUCKET, Key=key)
    assert got["ContentLength"] == size
    assert got["Body"].read() == blobs[key]
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == size
    assert head["ETag"] == f'"{hashlib.md5(blobs[key]).hexdigest()}"'


@pytest.mark.parametrize("rng", ["bytes=0-0", "bytes=100-1048676", "bytes=-1000",
                                 "bytes=10485760-"])
def test_s3_range_gets(s3: Any, blobs: dict[str, bytes], rng: str) -> None:
    """Range GETs of the large object answer 206 with exactly the slice."""
    data = blobs[f"obj-{LARGE}"]
    spec = rng.split("=", 1)[1]
    first, _, last = spec.partition("-")
    if not first:
        want = data[-int(last):]
    else:
        want = data[int(first):int(last) + 1] if last else data[int(first):]
    got = s3.get_object(Bucket=BUCKET, Key=f"obj-{LARGE}", Range=rng)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == want


def test_s3_multipart_and_part_number(tls: CloudProcess, s3: Any) -> None:
    """A multipart upload over HTTPS; CompleteMultipartUpload's Location names https; GET
    by PartNumber returns each part."""
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(123_457)]
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="mp")
    done = []
    for n, data in enumerate(parts, 1):
        r = s3.upload_part(Bucket=BUCKET, Key="mp", UploadId=up["UploadId"], PartNumber=n,
                           Body=data)
        done.append({"PartNumber": n, "ETag": r["ETag"]})
    out = s3.complete_multipart_upload(Bucket=BUCKET, Key="mp", UploadId=up["UploadId"],
                                       MultipartUpload={"Parts": done})
    assert out["Location"].startswith(tls.https_url + S3_PATH + "/"), out["Location"]
    assert s3.get_object(Bucket=BUCKET, Key="mp")["Body"].read() == b"".join(parts)
    for n, data in enumerate(parts, 1):
        got = s3.get_object(Bucket=BUCKET, Key="mp", PartNumber=n)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["Body"].read() == data


def test_s3_copy_object(s3: Any, blobs: dict[str, bytes]) -> None:
    """CopyObject of the large object, then a GET of the copy."""
    s3.copy_object(Bucket=BUCKET, Key="copy", CopySource={"Bucket": BUCKET,
                                                          "Key": f"obj-{LARGE}"})
    assert s3.get_object(Bucket=BUCKET, Key="copy")["Body"].read() == blobs[f"obj-{LARGE}"]


def test_s3_transfer_manager(s3: Any, tmp_path: Path) -> None:
    """boto3's transfer manager: a threaded multipart upload and a download in parallel
    ranged GETs, each thread on its own TLS connection."""
    from boto3.s3.transfer import TransferConfig

    data = os.urandom(25 * MiB + 99)
    src, dst = tmp_path / "up.bin", tmp_path / "down.bin"
    src.write_bytes(data)
    config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=5 * MiB,
                            max_concurrency=4)
    s3.upload_file(str(src), BUCKET, "transfer", Config=config)
    assert s3.head_object(Bucket=BUCKET, Key="transfer")["ETag"].endswith('-6"')
    s3.download_file(BUCKET, "transfer", str(dst), Config=config)
    assert dst.read_bytes() == data


def test_s3_presigned_urls(tls: CloudProcess, s3: Any) -> None:
    """Presigned PUT and GET URLs name https and work with requests."""
    data = os.urandom(2 * MiB + 3)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "pre"})
    assert put_url.startswith("https://")
    r = requests.put(put_url, data=data, verify=str(tls.ca), timeout=60)
    assert r.status_code == 200, r.text
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "pre"})
    r = requests.get(get_url, verify=str(tls.ca), timeout=60)
    assert r.status_code == 200 and r.content == data


def test_s3_post_form_upload(tls: CloudProcess, s3: Any) -> None:
    """A browser-style POST (presigned post) over HTTPS: the 201 answer's Location names
    https, and a success_action_redirect is followed to the form's target."""
    data = os.urandom(300_000)
    post = s3.generate_presigned_post(BUCKET, "posted", Fields={"success_action_status": "201"},
                                      Conditions=[{"success_action_status": "201"}])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", data)},
                      verify=str(tls.ca), timeout=60)
    assert r.status_code == 201, r.text
    location = r.headers["location"]
    assert location.startswith(tls.https_url + S3_PATH + f"/{BUCKET}/posted"), location
    assert f"<Location>{location}</Location>" in r.text
    assert s3.get_object(Bucket=BUCKET, Key="posted")["Body"].read() == data
    post = s3.generate_presigned_post(BUCKET, "posted-2")
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"x")},
                      verify=str(tls.ca), timeout=60)
    assert r.status_code == 204 and r.headers["location"].startswith("https://")


def test_s3_list_objects_v2_paging(s3: Any) -> None:
    """ListObjectsV2 pages with continuation tokens over one client."""
    bucket = "tls-list"
    s3.create_bucket(Bucket=bucket)
    keys = sorted(f"k/{n:03d}" for n in range(25))
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={
        "PageSize": 7})
    listed = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert listed == keys


def test_s3_versioned_gets(s3: Any) -> None:
    """GET by VersionId returns each version's bytes."""
    bucket = "tls-versions"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    versions = []
    for n in range(3):
        data = os.urandom(MiB + n)
        versions.append((s3.put_object(Bucket=bucket, Key="v", Body=data)["VersionId"], data))
    for version_id, data in versions:
        got = s3.get_object(Bucket=bucket, Key="v", VersionId=version_id)
        assert got["Body"].read() == data and got["VersionId"] == version_id


def test_s3_sse_c_get(s3: Any) -> None:
    """An SSE-C object (decrypted on the way out, so never sendfile'd) whole and ranged."""
    key = os.urandom(32)
    ssec = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": base64.b64encode(key).decode(),
            "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(key).digest()).decode()}
    data = os.urandom(3 * MiB + 5)
    s3.put_object(Bucket=BUCKET, Key="ssec", Body=data, **ssec)
    assert s3.get_object(Bucket=BUCKET, Key="ssec", **ssec)["Body"].read() == data
    part = s3.get_object(Bucket=BUCKET, Key="ssec", Range="bytes=1000000-2100000", **ssec)
    assert part["Body"].read() == data[1000000:2100001]


# -- raw connections -------------------------------------------------------------------------
def _tls_socket(cloud: CloudProcess) -> ssl.SSLSocket:
    ctx = ssl.create_default_context(cafile=str(cloud.ca))
    raw = socket.create_connection(("127.0.0.1", cloud.https_port), timeout=30)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def _public_object(s3: Any, key: str, data: bytes) -> str:
    """Put ``data`` as a public-read object; its path (for unsigned raw requests)."""
    s3.put_object(Bucket=BUCKET, Key=key, Body=data, ACL="public-read")
    return f"{S3_PATH}/{BUCKET}/{key}"


def _read_response(f: Any) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.x response (Content-Length framed) from a socket file."""
    status = int(f.readline().split()[1])
    headers = {}
    while (line := f.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, f.read(int(headers.get("content-length", "0")))


def test_aborted_downloads_leave_the_server_well(tls: CloudProcess, s3: Any,
                                                 blobs: dict[str, bytes]) -> None:
    """Clients that close (or reset) the TLS connection in the middle of a 20 MiB body do
    not break the server: the next requests are answered in full."""
    path = _public_object(s3, "public-large", blobs[f"obj-{LARGE}"])
    for n in range(6):
        sock = _tls_socket(tls)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        got = sock.recv(65536)
        assert got.startswith(b"HTTP/1.1 200")
        if n % 2:  # a reset (RST) rather than close_notify and FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00"
                            b"\x00\x00")
        sock.close()
    url = tls.https_url + path
    r = requests.get(url, verify=str(tls.ca), timeout=60)
    assert r.status_code == 200 and r.content == blobs[f"obj-{LARGE}"]
    assert s3.head_object(Bucket=BUCKET, Key=f"obj-{SMALL}")["ContentLength"] == SMALL


def test_keep_alive_session(tls: CloudProcess, s3: Any, blobs: dict[str, bytes]) -> None:
    """Many requests on one TLS connection (requests.Session): the connection is reused,
    and a large upload followed by GETs on it returns the right bytes."""
    small = _public_object(s3, "public-small", blobs[f"obj-{SMALL}"])
    odd = _public_object(s3, "public-odd", blobs[f"obj-{ODD}"])
    ca = str(tls.ca)  # per request: a session's own verify loses to REQUESTS_CA_BUNDLE
    with requests.Session() as session:
        peers = set()
        for n in range(40):
            path, key = (small, f"obj-{SMALL}") if n % 2 else (odd, f"obj-{ODD}")
            r = session.get(tls.https_url + path, timeout=60, stream=True, verify=ca)
            peers.add(r.raw.connection.sock.getsockname())
            assert r.content == blobs[key]
        assert len(peers) == 1  # one connection throughout
        # A large signed upload on the session's connection, then GETs on it.
        data = os.urandom(8 * MiB + 7)
        url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "kal"})
        r = session.put(url, data=data, timeout=120, verify=ca)
        assert r.status_code == 200, r.text
        s3.put_object_acl(Bucket=BUCKET, Key="kal", ACL="public-read")
        for _ in range(3):
            r = session.get(f"{tls.https_url}{S3_PATH}/{BUCKET}/kal", timeout=60, verify=ca)
            assert r.content == data
            r = session.get(tls.https_url + small, timeout=60, verify=ca)
            assert r.content == blobs[f"obj-{SMALL}"]


def test_pipelined_requests(tls: CloudProcess, s3: Any, blobs: dict[str, bytes]) -> None:
    """Requests pipelined on one TLS connection are answered in order, whole."""
    small = _public_object(s3, "public-small", blobs[f"obj-{SMALL}"])
    odd = _public_object(s3, "public-odd", blobs[f"obj-{ODD}"])
    order = [small, odd, small, odd, small]
    with _tls_socket(tls) as sock:
        sock.sendall(b"".join(f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
                              for p in order))
        f = sock.makefile("rb")
        for path in order:
            status, _, body = _read_response(f)
            want = blobs[f"obj-{SMALL}"] if path == small else blobs[f"obj-{ODD}"]
            assert status == 200 and body == want


def test_http_10_client(tls: CloudProcess, s3: Any, blobs: dict[str, bytes]) -> None:
    """An HTTP/1.0 client gets the body and the server closes the connection after it."""
    path = _public_object(s3, "public-odd", blobs[f"obj-{ODD}"])
    with _tls_socket(tls) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(1 << 20):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200")
    assert body == blobs[f"obj-{ODD}"]


def test_malformed_request_over_tls(tls: CloudProcess) -> None:
    """Garbage after the handshake is a 400, not a dead server."""
    with _tls_socket(tls) as sock:
        sock.sendall(b"NOT HTTP\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 400")
    r = requests.get(tls.https_url + "/console/", verify=str(tls.ca), timeout=30)
    assert r.status_code == 200


def test_half_open_tls_request_is_closed(tls: CloudProcess) -> None:
    """A TLS client that never completes its headers is closed after the header timeout
    (the timer starts once the handshake is done)."""
    with _tls_socket(tls) as sock:
        sock.sendall(b"GET /services/compute?Action=DescribeRegions HTTP/1.1\r\n")
        sock.settimeout(HEADER_TIMEOUT * 10)
        assert sock.recv(4096) == b""  # closed (not a timeout of this read)


# -- the query services -----------------------------------------------------------------------
def test_ec2_over_https(tls: CloudProcess) -> None:
    """EC2 describe calls, run and terminate on the virtual nodes over HTTPS."""
    ec2 = tls_client(tls, "ec2")
    assert ec2.describe_availability_zones()["AvailabilityZones"]
    # The endpoint a caller is told keeps it on HTTPS; plain HTTP callers get HTTP.
    region = ec2.describe_regions()["Regions"][0]
    assert region["Endpoint"] == tls.https_url + "/services/compute"
    assert tls.client("ec2").describe_regions()["Regions"][0]["Endpoint"] == \
        tls.url + "/services/compute"
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.describe_security_groups()
    ec2.describe_key_pairs()
    out = ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2, InstanceType="m1.small")
    ids = [i["InstanceId"] for i in out["Instances"]]
    wait_state(ec2, ids, "running", timeout=60)
    ec2.terminate_instances(InstanceIds=ids)
    wait_state(ec2, ids, "terminated", timeout=60)


def test_iam_and_sts_over_https(tls: CloudProcess) -> None:
    """IAM calls, GetCallerIdentity, and AssumeRole whose credentials then work over
    HTTPS."""
    iam, sts = tls_client(tls, "iam"), tls_client(tls, "sts")
    assert any(u["UserName"] == "admin" for u in iam.list_users()["Users"])
    me = sts.get_caller_identity()
    account = tls.credentials()["account"]
    assert me["Account"] == account
    name = "tls-" + uuid.uuid4().hex[:6]
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]
    iam.put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                                                "Resource": "*"}]}))
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="tls-session")["Credentials"]
    assumed = boto3.client("sts", endpoint_url=ini_urls(tls)["sts"], region_name="us-east-1",
                           verify=str(tls.ca), aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"])
    assert ":assumed-role/" in assumed.get_caller_identity()["Arn"]


def test_cloudwatch_autoscaling_elb_over_https(tls: CloudProcess) -> None:
    """CloudWatch, Auto Scaling and ELB answer over HTTPS."""
    cw = tls_client(tls, "monitoring")
    cw.put_metric_data(Namespace="TLS/Test", MetricData=[{"MetricName": "m", "Value": 1.0}])
    assert any(m["MetricName"] == "m"
               for m in cw.list_metrics(Namespace="TLS/Test")["Metrics"])
    cw.describe_alarms()
    asg = tls_client(tls, "autoscaling")
    asg.describe_auto_scaling_groups()
    asg.describe_launch_configurations()
    elb = tls_client(tls, "elasticloadbalancing")
    assert elb.describe_load_balancers()["LoadBalancerDescriptions"] == []


# -- awscli ---------------------------------------------------------------------------------
def aws(cloud: CloudProcess, service_path: str, *args: str, cwd: Path | None = None) -> str:
    """``aws --endpoint-url https://... --ca-bundle CA ARGS``; its stdout."""
    creds = cloud.credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REQUESTS_CA"))}
    env.update(AWS_ACCESS_KEY_ID=creds["key"], AWS_SECRET_ACCESS_KEY=creds["secret"],
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", HOME=str(cloud.data_dir))
    proc = subprocess.run([str(BIN / "aws"), "--endpoint-url", cloud.https_url + service_path,
                           "--ca-bundle", str(cloud.ca), "--output", "json", *args],
                          capture_output=True, text=True, env=env, timeout=300, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_awscli_s3_cp_sync_and_ec2(tls: CloudProcess, s3: Any, tmp_path: Path) -> None:
    """aws s3 cp up and down (a multipart-sized file too), s3 sync, ec2
    describe-instances."""
    src = tmp_path / "src"
    src.mkdir()
    files = {"a.bin": os.urandom(SMALL), "b.bin": os.urandom(9 * MiB + 1),
             "sub/c.bin": os.urandom(ODD)}
    for name, data in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    aws(tls, S3_PATH, "s3", "cp", str(src / "b.bin"), f"s3://{BUCKET}/cli/b.bin")
    aws(tls, S3_PATH, "s3", "cp", f"s3://{BUCKET}/cli/b.bin", str(tmp_path / "b.down"))
    assert (tmp_path / "b.down").read_bytes() == files["b.bin"]
    aws(tls, S3_PATH, "s3", "sync", str(src), f"s3://{BUCKET}/synced")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="synced/")["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(f"synced/{n}" for n in files)
    back = tmp_path / "back"
    aws(tls, S3_PATH, "s3", "sync", f"s3://{BUCKET}/synced", str(back))
    for name, data in files.items():
        assert (back / name).read_bytes() == data
    out = json.loads(aws(tls, "/services/compute", "ec2", "describe-instances"))
    assert "Reservations" in out


# -- euca2ools ------------------------------------------------------------------------------
def euca(cloud: CloudProcess, *args: str) -> str:
    """A euca2ools command with the cloud's euca2ools.ini (https URLs, its CA)."""
    env = {"PATH": str(BIN) + ":/usr/bin:/bin", "EUCA_CONFIG_PATH": str(cloud.ini),
           "HOME": str(cloud.data_dir)}
    proc = subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def test_euca2ools_over_https(tls: CloudProcess) -> None:
    """euca-* describe commands read the ini's https URLs and CA."""
    assert "euca2ools" in euca(tls, "euca-version").lower()
    assert "IMAGE" in euca(tls, "euca-describe-images")
    euca(tls, "euca-describe-instances")
    # The endpoints the cloud tells an HTTPS caller about are HTTPS ones.
    assert f"REGION\tlocalhost\t{tls.https_url}/services/compute" in \
        euca(tls, "euca-describe-regions")
    services = euca(tls, "euserv-describe-services", "--all", "--expert")
    assert f"{tls.https_url}/services/objectstorage" in services
    assert "http://" not in services
    assert "admin" in euca(tls, "euare-userlistbypath")
    # The other services' command families, through the ini's https URLs.
    assert "eucalyptus" in euca(tls, "euare-accountlist")
    euca(tls, "euscale-describe-auto-scaling-groups")
    euca(tls, "euwatch-describe-alarms")
    euca(tls, "eulb-describe-lbs")
    assert "AVAILABILITYZONE" in euca(tls, "euca-describe-availability-zones", "verbose")


def test_euca_bundle_upload_download_over_https(tls: CloudProcess, tmp_path: Path) -> None:
    """The bundle commands that talk to Walrus: upload a bundle, download and unbundle it,
    delete it, all over HTTPS."""
    image = tmp_path / "disk.img"
    image.write_bytes(os.urandom(3 * MiB + 17))
    bundle_dir = tmp_path / "bundle"
    bundle_dir.mkdir()
    euca(tls, "euca-bundle-image", "-i", str(image), "-r", "x86_64", "-d", str(bundle_dir))
    manifest = bundle_dir / "disk.img.manifest.xml"
    out = euca(tls, "euca-upload-bundle", "-b", "tls-images/disk", "-m", str(manifest))
    assert "Uploaded tls-images/disk/disk.img.manifest.xml" in out
    down = tmp_path / "down"
    down.mkdir()
    euca(tls, "euca-download-bundle", "-b", "tls-images/disk", "-p", "disk.img", "-d",
         str(down))
    unbundled = tmp_path / "unbundled"
    unbundled.mkdir()
    euca(tls, "euca-unbundle", "-m", str(down / "disk.img.manifest.xml"), "-s", str(down),
         "-d", str(unbundled), "-k", str(tls.data_dir / "cloud-pk.pem"))
    assert (unbundled / "disk.img").read_bytes() == image.read_bytes()
    euca(tls, "euca-delete-bundle", "-b", "tls-images/disk", "-p", "disk.img", "--clear")


# -- aws:SecureTransport ---------------------------------------------------------------------
def _plain_client(cloud: CloudProcess, service: str, key: str, secret: str) -> Any:
    """A boto3 client at the plain-HTTP endpoint of the same service."""
    url = cloud.url + ini_urls(cloud)[service][len(cloud.https_url):]
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1},
                                      s3={"addressing_style": "path"}))


def test_secure_transport_condition(tls: CloudProcess, s3: Any) -> None:
    """``aws:SecureTransport`` is true over HTTPS and false over HTTP, for IAM policies
    (query services and Walrus) and bucket policies alike."""
    from botocore.exceptions import ClientError

    iam = tls_client(tls, "iam")
    name = "tls-user-" + uuid.uuid4().hex[:6]
    iam.create_user(UserName=name)
    secure = {"Bool": {"aws:SecureTransport": "true"}}
    iam.put_user_policy(UserName=name, PolicyName="tls-only", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ec2:DescribeAvailabilityZones", "s3:GetObject",
                                           "s3:ListAllMyBuckets"],
             "Resource": "*", "Condition": secure}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    creds = {"aws_access_key_id": key["AccessKeyId"],
             "aws_secret_access_key": key["SecretAccessKey"]}

    def over_tls(service: str) -> Any:
        return boto3.client(service, endpoint_url=ini_urls(tls)[service],
                            region_name="us-east-1", verify=str(tls.ca),
                            config=Config(retries={"max_attempts": 1},
                                          s3={"addressing_style": "path"}), **creds)

    def over_http(service: str) -> Any:
        return _plain_client(tls, service, key["AccessKeyId"], key["SecretAccessKey"])

    assert over_tls("ec2").describe_availability_zones()["AvailabilityZones"]
    with pytest.raises(ClientError) as exc:
        over_http("ec2").describe_availability_zones()
    assert exc.value.response["Error"]["Code"] == "UnauthorizedOperation"
    over_tls("s3").list_buckets()
    with pytest.raises(ClientError) as exc:
        over_http("s3").list_buckets()
    assert exc.value.response["Error"]["Code"] == "AccessDenied"

    # The usual bucket policy: refuse everything that does not come over TLS.
    bucket = "tls-only-" + uuid.uuid4().hex[:6]
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
    assert over_tls("s3").get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"
    with pytest.raises(ClientError) as exc:
        over_http("s3").get_object(Bucket=bucket, Key="k")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    s3.delete_bucket_policy(Bucket=bucket)


# -- request bodies read past the parser, over TLS ------------------------------------------
def _signed_target(s3: Any, method: str, key: str) -> str:
    from urllib.parse import urlsplit

    u = urlsplit(s3.generate_presigned_url(method, Params={"Bucket": BUCKET, "Key": key},
                                           ExpiresIn=600))
    return f"{u.path}?{u.query}"


def _put(target: str, size: int, extra: str = "") -> bytes:
    return (f"PUT {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {size}\r\n"
            f"{extra}\r\n").encode()


def _get(target: str) -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def _etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def test_requests_pipelined_behind_large_bodies(tls: CloudProcess, s3: Any) -> None:
    """Over TLS too, the bytes right after a large body (read past the parser) are the
    next request's, answered in order on the same connection."""
    s3.put_object(Bucket=BUCKET, Key="hello", Body=b"hello")
    big, tail = os.urandom(4 * MiB + 3), b"abc" * 1000
    wire = (_put(_signed_target(s3, "put_object", "pipe-big"), len(big)) + big
            + _get(_signed_target(s3, "get_object", "hello"))
            + _put(_signed_target(s3, "put_object", "pipe-tail"), len(tail)) + tail
            + _get(_signed_target(s3, "get_object", "pipe-big")))
    with _tls_socket(tls) as sock:
        sock.sendall(wire)
        f = sock.makefile("rb")
        status, headers, _ = _read_response(f)
        assert status == 200 and headers["etag"] == _etag(big)
        assert _read_response(f)[::2] == (200, b"hello")
        status, headers, _ = _read_response(f)
        assert status == 200 and headers["etag"] == _etag(tail)
        status, _, body = _read_response(f)
        assert status == 200 and body == big


def test_body_in_small_tls_records(tls: CloudProcess, s3: Any) -> None:
    """A large body that arrives in many small TLS records lands whole."""
    data = os.urandom(2 * MiB + 11)
    with _tls_socket(tls) as sock:
        sock.sendall(_put(_signed_target(s3, "put_object", "dribs"), len(data)))
        for at in range(0, len(data), 16_411):
            sock.sendall(data[at:at + 16_411])
        status, headers, _ = _read_response(sock.makefile("rb"))
    assert status == 200 and headers["etag"] == _etag(data)
    assert s3.get_object(Bucket=BUCKET, Key="dribs")["Body"].read() == data


def test_refused_and_abandoned_uploads(tls: CloudProcess, s3: Any) -> None:
    """An upload refused before its body is read is answered and the connection closed;
    uploads abandoned mid-body leave no object; the server goes on serving."""
    forged = _signed_target(s3, "put_object", "refused").replace("/refused?", "/refused2?")
    with _tls_socket(tls) as sock:
        sock.sendall(_put(forged, 6 * MiB) + os.urandom(MiB))
        status, headers, body = _read_response(sock.makefile("rb"))
        assert status == 403 and b"SignatureDoesNotMatch" in body
        assert headers["connection"] == "close"
    for _ in range(3):
        with _tls_socket(tls) as sock:
            sock.sendall(_put(_signed_target(s3, "put_object", "gone"), 16 * MiB)
                         + os.urandom(5 * MiB + 7))
    data = os.urandom(2 * MiB)
    s3.put_object(Bucket=BUCKET, Key="after", Body=data)
    assert s3.get_object(Bucket=BUCKET, Key="after")["Body"].read() == data
    for prefix in ("refused", "gone"):
        # The abandoned uploads end as their reads fail (polled: no fixed sleep).
        for _ in range(100):
            if "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix):
                break
            time.sleep(0.1)
        assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)


def test_expect_100_continue_over_tls(tls: CloudProcess, s3: Any) -> None:
    """``Expect: 100-continue``: the interim answer comes through TLS, then the body."""
    data = os.urandom(3 * MiB)
    with _tls_socket(tls) as sock:
        sock.sendall(_put(_signed_target(s3, "put_object", "cont"), len(data),
                          "Expect: 100-continue\r\n"))
        f = sock.makefile("rb")
        assert f.readline().startswith(b"HTTP/1.1 100")
        assert f.readline() == b"\r\n"
        sock.sendall(data)
        status, headers, _ = _read_response(f)
    assert status == 200 and headers["etag"] == _etag(data)


def test_concurrent_large_gets(tls: CloudProcess, s3: Any, blobs: dict[str, bytes]) -> None:
    """Several TLS connections reading the large object at once each get every byte."""
    from concurrent.futures import ThreadPoolExecutor

    url = tls.https_url + _public_object(s3, "public-large", blobs[f"obj-{LARGE}"])

    def fetch(_: int) -> str:
        r = requests.get(url, verify=str(tls.ca), timeout=120)
        return hashlib.md5(r.content).hexdigest()

    with ThreadPoolExecutor(4) as pool:
        digests = list(pool.map(fetch, range(6)))
    assert set(digests) == {hashlib.md5(blobs[f"obj-{LARGE}"]).hexdigest()}


def _read_bytes(pid: int) -> int:
    """Bytes process ``pid`` has read so far (``rchar``: files and sockets alike)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar")


@pytest.mark.parametrize("secure", [True, False], ids=["https", "http"])
@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "sse"])
def test_aborted_downloads_stop_reading(tls: CloudProcess, s3: Any, encrypted: bool,
                                        secure: bool) -> None:
    """A download the client abandons stops being read from disk (and decrypted): over
    HTTPS every byte goes through the event loop, as do SSE objects over HTTP, and reading
    on for a client that left would cost the whole object each time."""
    assert tls.proc is not None
    size, aborts = 32 * MiB, 4
    extra: dict[str, str] = {}
    if encrypted:  # SSE-S3: the object is decrypted as it streams out
        extra = {"ServerSideEncryption": "AES256"}
    s3.put_object(Bucket=BUCKET, Key=f"abandoned-{encrypted}", Body=os.urandom(size),
                  ACL="public-read", **extra)
    path = f"{S3_PATH}/{BUCKET}/abandoned-{encrypted}"
    before = _read_bytes(tls.proc.pid)
    for _ in range(aborts):
        sock = _tls_socket(tls) if secure else \
            socket.create_connection(("127.0.0.1", tls.port), timeout=30)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        sock.close()
    # Let the server notice and settle: answered requests after the aborts, and reads
    # that no longer grow.
    settled, last = 0, -1
    while settled < 3:
        assert s3.head_object(Bucket=BUCKET, Key=f"abandoned-{encrypted}")["ContentLength"] \
            == size
        now = _read_bytes(tls.proc.pid)
        settled = settled + 1 if now - last < MiB else 0
        last = now
        time.sleep(0.2)
    # Some read-ahead per download is fine; the whole object each time is not.
    assert last - before < aborts * size // 2, (last - before) // MiB


def test_euca_bundle_and_upload_register_download(tls: CloudProcess, tmp_path: Path) -> None:
    """euca-bundle-and-upload-image, euca-register of the uploaded manifest, and
    euca-download-and-unbundle back to the same bytes, over HTTPS."""
    image = tmp_path / "tls.img"
    image.write_bytes(os.urandom(2 * MiB + 5))
    work = tmp_path / "work"
    work.mkdir()
    out = euca(tls, "euca-bundle-and-upload-image", "-i", str(image), "-r", "x86_64", "-b",
               "tls-bundles", "-d", str(work))
    assert "tls-bundles/tls.img.manifest.xml" in out
    registered = euca(tls, "euca-register", "tls-bundles/tls.img.manifest.xml", "-n",
                      "tls-image").split()[1]
    assert registered.startswith("emi-")
    assert registered in euca(tls, "euca-describe-images", registered)
    down = tmp_path / "down.img"
    euca(tls, "euca-download-and-unbundle", "-b", "tls-bundles", "-p", "tls.img", "-d",
         str(down), "-k", str(tls.data_dir / "cloud-pk.pem"))
    assert down.read_bytes() == image.read_bytes()


def test_stop_with_clients_that_stopped_reading() -> None:
    """Clients that stop reading in the middle of a download (over HTTPS, where the
    bytes wait in the transport, and over HTTP, where they wait for sendfile), or before
    the end of an answer already written, do not hold the cloud's stop: after a short
    grace the connections are cut and the cloud exits 0."""
    import signal

    cloud = new_cloud(https=True)
    try:
        cloud.start()
        s3 = boto3.client("s3", endpoint_url=cloud.url + S3_PATH, region_name="us-east-1",
                          aws_access_key_id=cloud.credentials()["key"],
                          aws_secret_access_key=cloud.credentials()["secret"],
                          config=Config(s3={"addressing_style": "path"}))
        s3.create_bucket(Bucket="stalled")
        s3.put_object(Bucket="stalled", Key="large", Body=os.urandom(LARGE),
                      ACL="public-read")
        # Over HTTPS a 1 MiB + 1 answer is complete once it is in the transport's buffer:
        # what holds the stop then is the close that waits for the client to read it.
        s3.put_object(Bucket="stalled", Key="odd", Body=os.urandom(ODD), ACL="public-read")
        clients = []
        for secure, key in ((True, "large"), (False, "large"), (True, "odd")):
            raw = socket.create_connection(
                ("127.0.0.1", cloud.https_port if secure else cloud.port), timeout=30)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock = ssl.create_default_context(cafile=str(cloud.ca)).wrap_socket(
                raw, server_hostname="127.0.0.1") if secure else raw
            sock.sendall(f"GET {S3_PATH}/stalled/{key} HTTP/1.1\r\nHost: x\r\n\r\n"
                         .encode())
            assert sock.recv(100).startswith(b"HTTP/1.1 200")
            clients.append(sock)  # and read no more
        assert cloud.proc is not None
        cloud.proc.send_signal(signal.SIGINT)
        # The grace is 5 s; without it the TLS close alone waits 30 s (uvloop's shutdown
        # timeout) and a stalled response for ever.
        assert cloud.proc.wait(20) == 0
        for sock in clients:
            sock.close()
    finally:
        cleanup(cloud)


def test_euca_url_option_over_https(tls: CloudProcess, tmp_path: Path) -> None:
    """``-U https://...`` with keys on the command line and no configuration: euca2ools
    does not verify by default (as the originals), and the call goes over TLS; a region
    section with ``verify-ssl`` and ``ca-bundle`` verifies against the cloud's CA."""
    creds = tls.credentials()
    (tmp_path / "empty.ini").write_text("")
    env = {"PATH": str(BIN) + ":/usr/bin:/bin", "HOME": str(tmp_path),
           "EUCA_CONFIG_PATH": str(tmp_path / "empty.ini")}
    proc = subprocess.run([str(BIN / "euca-describe-availability-zones"), "-U",
                           tls.https_url + "/services/compute", "-I", creds["key"], "-S",
                           creds["secret"]], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "AVAILABILITYZONE" in proc.stdout
    ini = tmp_path / "verify.ini"
    ini.write_text(f"[region tls]\nec2-url = {tls.https_url}/services/compute\n"
                   f"verify-ssl = true\nca-bundle = {tls.ca}\n\n[user tls-admin]\n"
                   f"key-id = {creds['key']}\nsecret-key = {creds['secret']}\n")
    proc = subprocess.run([str(BIN / "euca-describe-availability-zones"), "--region",
                           "tls-admin@tls"], capture_output=True, text=True,
                          env=env | {"EUCA_CONFIG_PATH": str(ini)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "AVAILABILITYZONE" in proc.stdout


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_public_name_is_in_the_certificate(scheme: str) -> None:
    """With a ``public_url`` naming the cloud by a host name, euca2ools.ini gives HTTPS
    URLs at that name, and the generated certificate names it: a client verifies the
    name it was told."""
    cloud = new_cloud(https=True)
    port = cloud.port if scheme == "http" else cloud.https_port
    cloud.config_text = f'[cloud]\npublic_url = "{scheme}://cloud.example:{port}"\n'
    try:
        cloud.start()
        assert ini_urls(cloud)["ec2"] == \
            f"https://cloud.example:{cloud.https_port}/services/compute"
        ctx = ssl.create_default_context(cafile=str(cloud.ca))
        with socket.create_connection(("127.0.0.1", cloud.https_port), timeout=30) as raw, \
                ctx.wrap_socket(raw, server_hostname="cloud.example") as sock:
            sock.sendall(b"GET /console/ HTTP/1.1\r\nHost: cloud.example\r\n"
                         b"Connection: close\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 ")
    finally:
        cleanup(cloud)


@pytest.mark.skipif(not Path("/usr/bin/curl").exists(), reason="curl is not installed")
def test_curl_over_https(tls: CloudProcess, s3: Any, blobs: dict[str, bytes],
                         tmp_path: Path) -> None:
    """curl verifying the CA: an upload with ``Expect: 100-continue`` to a presigned URL,
    downloads on one reused connection, HTTP/1.0, a range, a resumed download, and a
    rate-limited reader (the server's writes wait for it)."""
    ca = str(tls.ca)

    def curl(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["/usr/bin/curl", "-sS", "--fail", "--cacert", ca, *args],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc

    up = tmp_path / "up.bin"
    up.write_bytes(os.urandom(6 * MiB + 1))
    url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "curled"})
    curl("-T", str(up), url)
    s3.put_object_acl(Bucket=BUCKET, Key="curled", ACL="public-read")
    base = f"{tls.https_url}{S3_PATH}/{BUCKET}"
    small = _public_object(s3, "public-small", blobs[f"obj-{SMALL}"])
    # Two URLs, one connection (curl says so on stderr with -v).
    out = curl("-v", "-o", str(tmp_path / "a"), f"{base}/curled", "-o", str(tmp_path / "b"),
               tls.https_url + small)
    assert "Re-using existing connection" in out.stderr
    assert (tmp_path / "a").read_bytes() == up.read_bytes()
    assert (tmp_path / "b").read_bytes() == blobs[f"obj-{SMALL}"]
    curl("--http1.0", "-o", str(tmp_path / "c"), f"{base}/curled")
    assert (tmp_path / "c").read_bytes() == up.read_bytes()
    curl("-r", "1000-1048575", "-o", str(tmp_path / "d"), f"{base}/curled")
    assert (tmp_path / "d").read_bytes() == up.read_bytes()[1000:1048576]
    partial = tmp_path / "e"
    partial.write_bytes(up.read_bytes()[:3 * MiB + 5])
    curl("-C", "-", "-o", str(partial), f"{base}/curled")
    assert partial.read_bytes() == up.read_bytes()
    curl("--limit-rate", "4M", "-o", str(tmp_path / "f"), f"{base}/curled")
    assert (tmp_path / "f").read_bytes() == up.read_bytes()


def test_tls_versions(tls: CloudProcess) -> None:
    """TLS 1.2 and 1.3 are served; older versions are refused whatever the system's
    OpenSSL configuration allows."""
    import warnings

    for version, served in ((ssl.TLSVersion.TLSv1_3, True), (ssl.TLSVersion.TLSv1_2, True),
                            (ssl.TLSVersion.TLSv1_1, False)):
        ctx = ssl.create_default_context(cafile=str(tls.ca))
        with warnings.catch_warnings():  # setting TLS 1.1 is deprecated: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ctx.maximum_version = version
        if not served:
            ctx.set_ciphers("ALL:@SECLEVEL=0")  # this client would speak it
        with socket.create_connection(("127.0.0.1", tls.https_port), timeout=30) as raw:
            if served:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
                    assert sock.version() == version.name.replace("_", ".")
            else:
                with pytest.raises(ssl.SSLError):
                    ctx.wrap_socket(raw, server_hostname="127.0.0.1")
