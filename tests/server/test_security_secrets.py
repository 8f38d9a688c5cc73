"""Secrets at rest: a private data dir, and no secret in plain text in the database.

The data dir is 0700 and every file in it 0600 whatever the umask the cloud starts
with; access key secrets (the cloud admin's included) are sealed in the database under
``secrets.key``; the metadata secret and Walrus' master key are sealed in their files;
a data dir written before all this (plain secrets, loose modes) still loads, is
converted, and its keys keep working.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest


def _private(data_dir: Path) -> list[str]:
    """Paths under ``data_dir`` that another user could read (empty when none)."""
    loose = []
    if stat.S_IMODE(data_dir.stat().st_mode) != 0o700:
        loose.append(f". {oct(data_dir.stat().st_mode)}")
    for root, dirs, files in os.walk(data_dir):
        for name in dirs + files:
            path = Path(root) / name
            if path.is_symlink():
                continue
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                loose.append(f"{path.relative_to(data_dir)} {oct(mode)}")
    return loose


def _raw_bytes(data_dir: Path) -> bytes:
    """Every byte of the SQLite database files."""
    return b"".join(p.read_bytes() for p in data_dir.glob("cloud.db*"))


def _start_with_umask(c: Any, umask: int) -> Any:
    old = os.umask(umask)
    try:
        return c.start()
    finally:
        os.umask(old)


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_data_dir_private_whatever_the_umask(make_cloud: Any, umask: int) -> None:
    """Data dir 0700; database, journals, keys, euca2ools.ini, blobs, volumes 0600."""
    c = make_cloud(start=False)
    os.chmod(c.data_dir, 0o755)
    _start_with_umask(c, umask)
    s3 = c.client("s3")
    s3.create_bucket(Bucket="modes")
    s3.put_object(Bucket="modes", Key="k", Body=b"x" * 1000)
    ec2 = c.client("ec2")
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    ec2.create_volume(Size=1, AvailabilityZone=zone)
    ec2.create_key_pair(KeyName="k")
    c.client("iam").create_user(UserName="u")
    c.client("iam").create_access_key(UserName="u")
    assert (c.data_dir / "secrets.key").exists()
    assert _private(c.data_dir) == []
    c.restart()
    assert _private(c.data_dir) == []


def test_no_plain_secret_in_the_database(make_cloud: Any) -> None:
    """Neither the admin's nor a user's secret key is in the database files; both work,
    also after a restart."""
    c = make_cloud()
    admin = c.credentials()
    key = c.client("iam").create_access_key(UserName="admin")["AccessKey"]
    s3 = c.client("s3")
    s3.create_bucket(Bucket="sse")  # SSE-S3 makes Walrus create its master key
    s3.put_object(Bucket="sse", Key="k", Body=b"x", ServerSideEncryption="AES256")
    c.stop()
    raw = _raw_bytes(c.data_dir)
    assert admin["secret"].encode() not in raw
    assert key["SecretAccessKey"].encode() not in raw
    c.start()
    assert c.client("ec2").describe_regions()["Regions"]
    assert c.client("ec2", key=key["AccessKeyId"], secret=key["SecretAccessKey"]) \
        .describe_regions()["Regions"]
    for name in ("metadata_secret", "walrus/master.key"):
        text = (c.data_dir / name).read_text()
        assert text.startswith("sealed:v1:"), name
    assert len((c.data_dir / "secrets.key").read_bytes().strip()) == 44  # base64 of 32 bytes


def test_wrong_key_file_is_refused(make_cloud: Any) -> None:
    """A replaced secrets.key cannot open the sealed secrets: the cloud says so and stops
    (it does not start with keys nobody can use)."""
    c = make_cloud()
    c.stop()
    (c.data_dir / "secrets.key").write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    with pytest.raises(RuntimeError) as err:
        c.start(timeout=15)
    assert "secrets.key" in str(err.value)


def test_plain_data_dir_is_converted(make_cloud: Any) -> None:
    """A data dir from before sealing (plain secrets in the database and files, modes of
    a 022 umask) loads: keys work, secrets get sealed, modes get private."""
    c = make_cloud()
    admin = c.credentials()
    user = c.client("iam")
    user.create_user(UserName="old")
    user.put_user_policy(UserName="old", PolicyName="describe", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}))
    old_key = user.create_access_key(UserName="old")["AccessKey"]
    s3 = c.client("s3")
    s3.create_bucket(Bucket="kept")
    s3.put_object(Bucket="kept", Key="k", Body=b"kept bytes", ServerSideEncryption="AES256")
    c.stop()
    # What the previous version left: open every sealed value and write it back plain.
    from server.auth.secrets import SecretBox

    box = SecretBox.for_data_dir(str(c.data_dir))
    db = sqlite3.connect(c.data_dir / "cloud.db")
    rows = db.execute("SELECT id, doc FROM clc_resources WHERE kind='access_key'").fetchall()
    for rid, text in rows:
        doc = json.loads(text)
        box.open_record("access_key", rid, doc)
        db.execute("UPDATE clc_resources SET doc=? WHERE kind='access_key' AND id=?",
                   (json.dumps(doc), rid))
    db.commit()
    db.close()
    for name in ("metadata_secret", "walrus/master.key"):
        path = c.data_dir / name
        path.write_text(box.read_file(str(path), name) or "")
    (c.data_dir / "secrets.key").unlink()
    for root, dirs, files in os.walk(c.data_dir):
        for d in dirs:
            os.chmod(Path(root) / d, 0o755)
        for f in files:
            os.chmod(Path(root) / f, 0o644)
    os.chmod(c.data_dir, 0o755)
    assert admin["secret"].encode() in _raw_bytes(c.data_dir)

    _start_with_umask(c, 0o022)
    assert c.client("ec2").describe_regions()["Regions"]
    assert c.client("ec2", key=old_key["AccessKeyId"], secret=old_key["SecretAccessKey"]) \
        .describe_regions()["Regions"]
    assert c.client("s3").get_object(Bucket="kept", Key="k")["Body"].read() == b"kept bytes"
    c.stop()
    raw = _raw_bytes(c.data_dir)
    assert admin["secret"].encode() not in raw
    assert old_key["SecretAccessKey"].encode() not in raw
    for name in ("metadata_secret", "walrus/master.key"):
        assert (c.data_dir / name).read_text().startswith("sealed:v1:"), name
    assert stat.S_IMODE(c.data_dir.stat().st_mode) == 0o700
    for name in ("cloud.db", "euca2ools.ini", "secrets.key", "metadata_secret"):
        assert stat.S_IMODE((c.data_dir / name).stat().st_mode) == 0o600, name
