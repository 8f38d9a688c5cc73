"""awscli and s3cmd, unmodified, against Walrus: round trips, listings, sync, errors."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent
MiB = 1024 * 1024
SIZES = [0, 1, 5 * MiB + 1]


def aws(cloud: Any, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run awscli with the cloud admin's keys from euca2ools.ini."""
    creds = cloud.credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=creds["key"], AWS_SECRET_ACCESS_KEY=creds["secret"],
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    cmd = [str(BIN / "aws"), "--endpoint-url", cloud.url + "/services/objectstorage", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def s3cmd(cloud: Any, cfg: Path, *args: str, check: bool = True
          ) -> subprocess.CompletedProcess[str]:
    """Run s3cmd with a config file for the cloud."""
    cmd = [str(BIN / "s3cmd"), "-c", str(cfg), "--no-progress", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module", params=["v4", "v2"])
def s3cmd_cfg(request: pytest.FixtureRequest, s3cloud: Any, tmp_path_factory: Any) -> Path:
    creds = s3cloud.credentials()
    host = f"127.0.0.1:{s3cloud.port}"
    path = tmp_path_factory.mktemp("s3cmd") / f"s3cfg-{request.param}"
    path.write_text(f"[default]\naccess_key = {creds['key']}\nsecret_key = {creds['secret']}\n"
                    f"host_base = {host}\nhost_bucket = {host}\nuse_https = False\n"
                    f"signature_v2 = {'True' if request.param == 'v2' else 'False'}\n"
                    "bucket_location = us-east-1\n")
    return path


def test_awscli_round_trip(s3cloud: Any, tmp_path: Path) -> None:
    bucket = "cli-" + uuid.uuid4().hex[:10]
    aws(s3cloud, "s3", "mb", f"s3://{bucket}")
    for size in SIZES:
        src = tmp_path / f"f{size}"
        data = os.urandom(size)
        src.write_bytes(data)
        aws(s3cloud, "s3", "cp", str(src), f"s3://{bucket}/dir/f{size}",
            "--metadata", "color=blue")
        head = json.loads(aws(s3cloud, "s3api", "head-object", "--bucket", bucket,
                              "--key", f"dir/f{size}").stdout)
        assert head["ContentLength"] == size and head["Metadata"] == {"color": "blue"}
        if size < 8 * MiB:  # below awscli's multipart threshold the ETag is the MD5
            assert head["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
        out = tmp_path / f"g{size}"
        aws(s3cloud, "s3", "cp", f"s3://{bucket}/dir/f{size}", str(out))
        assert out.read_bytes() == data
    listing = aws(s3cloud, "s3", "ls", f"s3://{bucket}/dir/").stdout
    assert all(f"f{size}" in listing for size in SIZES)
    sync_src = tmp_path / "tree"
    (sync_src / "a" / "b").mkdir(parents=True)
    for name in ("a/x", "a/b/y", "sp ace", "plus+sign"):
        (sync_src / name).write_text(name)
    aws(s3cloud, "s3", "sync", str(sync_src), f"s3://{bucket}/sync")
    back = tmp_path / "back"
    aws(s3cloud, "s3", "sync", f"s3://{bucket}/sync", str(back))
    for name in ("a/x", "a/b/y", "sp ace", "plus+sign"):
        assert (back / name).read_text() == name
    listed = json.loads(aws(s3cloud, "s3api", "list-objects-v2", "--bucket", bucket,
                            "--max-items", "3").stdout)
    assert len(listed["Contents"]) == 3 and "NextToken" in listed
    bad = aws(s3cloud, "s3", "rb", f"s3://{bucket}", check=False)
    assert bad.returncode != 0 and "BucketNotEmpty" in bad.stderr
    aws(s3cloud, "s3", "rb", f"s3://{bucket}", "--force")
    missing = aws(s3cloud, "s3api", "get-object", "--bucket", bucket, "--key", "x",
                  str(tmp_path / "nothing"), check=False)
    assert "NoSuchBucket" in missing.stderr


def test_awscli_multipart(s3cloud: Any, tmp_path: Path) -> None:
    bucket = "mpc-" + uuid.uuid4().hex[:10]
    aws(s3cloud, "s3", "mb", f"s3://{bucket}")
    data = os.urandom(20 * MiB + 3)
    (tmp_path / "big").write_bytes(data)
    aws(s3cloud, "s3", "cp", str(tmp_path / "big"), f"s3://{bucket}/big")
    head = json.loads(aws(s3cloud, "s3api", "head-object", "--bucket", bucket,
                          "--key", "big").stdout)
    chunk = 8 * MiB
    md5s = b"".join(hashlib.md5(data[i:i + chunk]).digest() for i in range(0, len(data), chunk))
    assert head["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    aws(s3cloud, "s3", "cp", f"s3://{bucket}/big", str(tmp_path / "big2"))
    assert (tmp_path / "big2").read_bytes() == data
    aws(s3cloud, "s3", "rb", f"s3://{bucket}", "--force")


def test_s3cmd_round_trip(s3cloud: Any, s3cmd_cfg: Path, tmp_path: Path) -> None:
    bucket = "s3c-" + uuid.uuid4().hex[:10]
    s3cmd(s3cloud, s3cmd_cfg, "mb", f"s3://{bucket}")
    for size in SIZES + [16 * MiB]:  # 16 MiB is a multipart upload (15 MiB chunks)
        data = os.urandom(size)
        (tmp_path / "up").write_bytes(data)
        s3cmd(s3cloud, s3cmd_cfg, "put", str(tmp_path / "up"), f"s3://{bucket}/d d/f{size}",
              "--add-header=x-amz-meta-color:blue")
        s3cmd(s3cloud, s3cmd_cfg, "get", "--force", f"s3://{bucket}/d d/f{size}",
              str(tmp_path / "down"))
        assert (tmp_path / "down").read_bytes() == data
        info = s3cmd(s3cloud, s3cmd_cfg, "info", f"s3://{bucket}/d d/f{size}").stdout
        assert "x-amz-meta-color: blue" in info
        if size < 15 * MiB:
            assert hashlib.md5(data).hexdigest() in info
    ls = s3cmd(s3cloud, s3cmd_cfg, "ls", "-r", f"s3://{bucket}").stdout
    assert ls.count(f"s3://{bucket}/d d/f") == len(SIZES) + 1
    bad = s3cmd(s3cloud, s3cmd_cfg, "rb", f"s3://{bucket}", check=False)
    assert "BucketNotEmpty" in bad.stderr
    s3cmd(s3cloud, s3cmd_cfg, "del", "-r", "--force", f"s3://{bucket}")
    s3cmd(s3cloud, s3cmd_cfg, "rb", f"s3://{bucket}")


@pytest.mark.slow
def test_200mib_all_clients(s3cloud: Any, s3: Any, s3cmd_cfg: Path, tmp_path: Path) -> None:
    """200 MiB through boto3, awscli and s3cmd, byte-identical with S3 multipart ETags."""
    bucket = "big-" + uuid.uuid4().hex[:10]
    s3.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    digest = hashlib.md5()
    with open(src, "wb") as fh:
        for _ in range(200):
            block = os.urandom(MiB)
            digest.update(block)
            fh.write(block)

    def same(path: Path) -> bool:
        h = hashlib.md5()
        with open(path, "rb") as fh:
            while block := fh.read(8 * MiB):
                h.update(block)
        return h.hexdigest() == digest.hexdigest()

    s3.upload_file(str(src), bucket, "boto3")
    s3.download_file(bucket, "boto3", str(tmp_path / "b"))
    assert same(tmp_path / "b")
    aws(s3cloud, "s3", "cp", str(src), f"s3://{bucket}/awscli")
    aws(s3cloud, "s3", "cp", f"s3://{bucket}/awscli", str(tmp_path / "a"))
    assert same(tmp_path / "a")
    s3cmd(s3cloud, s3cmd_cfg, "put", str(src), f"s3://{bucket}/s3cmd")
    s3cmd(s3cloud, s3cmd_cfg, "get", "--force", f"s3://{bucket}/s3cmd", str(tmp_path / "c"))
    assert same(tmp_path / "c")
    for key in ("boto3", "awscli", "s3cmd"):
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 200 * MiB
        assert s3.head_object(Bucket=bucket, Key=key)["ETag"].endswith('"')
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)
