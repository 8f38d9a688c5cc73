"""Helpers for the EBS tests: waiting for states, checksums of backing files, the CLI."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

BIN = Path(sys.executable).parent

TWO_ZONES = '[[zones]]\nname = "zone-a"\nnodes = 2\n[[zones]]\nname = "zone-b"\nnodes = 2\n'


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll ``probe`` until it returns something truthy."""
    deadline = time.time() + timeout
    last: Any = None
    while time.time() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def volume(ec2: Any, vid: str) -> dict[str, Any]:
    """One volume as DescribeVolumes shows it."""
    return ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]  # type: ignore[no-any-return]


def wait_volume(ec2: Any, vid: str, state: str, attach: str | None = None,
                timeout: float = 20.0) -> dict[str, Any]:
    """Wait for a volume state (and attachment state, if given)."""
    def probe() -> dict[str, Any] | None:
        v = volume(ec2, vid)
        atts = [a["State"] for a in v["Attachments"]]
        if v["State"] == state and (attach is None or atts == [attach]):
            return v
        return None
    return wait_for(f"{vid} {state}/{attach}", probe, timeout)  # type: ignore[no-any-return]


def wait_gone(ec2: Any, vid: str) -> None:
    """Wait until DescribeVolumes says InvalidVolume.NotFound."""
    def probe() -> bool:
        try:
            volume(ec2, vid)
        except ClientError as exc:
            return exc.response["Error"]["Code"] == "InvalidVolume.NotFound"
        return False
    wait_for(f"{vid} deleted", probe)


def wait_snapshot(ec2: Any, sid: str, seen: list[str] | None = None) -> dict[str, Any]:
    """Wait for a snapshot to complete, recording the progress values seen."""
    def probe() -> dict[str, Any] | None:
        s = ec2.describe_snapshots(SnapshotIds=[sid])["Snapshots"][0]
        if seen is not None:
            seen.append(s["Progress"])
        return s if s["State"] != "pending" else None
    snap: dict[str, Any] = wait_for(f"{sid} completed", probe)
    assert snap["State"] == "completed", snap
    return snap


def wait_instances(ec2: Any, ids: list[str], state: str) -> list[dict[str, Any]]:
    """Wait until every instance is in ``state``."""
    def probe() -> list[dict[str, Any]] | None:
        resp = ec2.describe_instances(InstanceIds=ids)
        insts = [i for r in resp["Reservations"] for i in r["Instances"]]
        return insts if insts and all(i["State"]["Name"] == state for i in insts) else None
    return wait_for(f"{ids} {state}", probe)  # type: ignore[no-any-return]


def run_one(ec2: Any, zone: str, image: str | None = None, **kw: Any) -> str:
    """Run one instance in ``zone`` and wait until it runs."""
    image = image or ec2.describe_images()["Images"][0]["ImageId"]
    iid: str = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                 Placement={"AvailabilityZone": zone},
                                 **kw)["Instances"][0]["InstanceId"]
    wait_instances(ec2, [iid], "running")
    return iid


def backing_file(cloud: Any, zone: str, vid: str) -> Path:
    """A file-backend volume's backing file."""
    return Path(cloud.data_dir) / "volumes" / zone / f"{vid}.img"


def sha256(path: Path) -> str:
    """SHA-256 of a whole file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def write_pattern(path: Path, offset: int, data: bytes) -> None:
    """Write known bytes into a volume's backing file (as a guest would)."""
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def code(exc: Any) -> str:
    """The AWS error code of a pytest.raises(ClientError) result."""
    return str(exc.value.response["Error"]["Code"])


def euca(cloud: Any, *args: str, check: bool = True) -> list[list[str]]:
    """Run a euca-* command against ``cloud``; its output as tab-split lines."""
    env = cloud.env()
    env["HOME"] = str(cloud.data_dir)  # no ~/.euca files of whoever runs the tests
    proc = subprocess.run([str(BIN / args[0]), *args[1:]], env=env, capture_output=True,
                          text=True, timeout=60)
    if check:
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return [line.split("\t") for line in proc.stdout.splitlines()]


def new_account(cloud: Any, name: str) -> tuple[str, str, str]:
    """A new account and its admin's access key (euare-accountcreate -k), via signed IAM."""
    import re

    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    creds = cloud.credentials()

    def call(params: dict[str, str]) -> str:
        req = AWSRequest("POST", cloud.url + "/services/Euare",
                         data={"Version": "2010-05-08", **params})
        SigV4Auth(Credentials(creds["key"], creds["secret"]), "iam", "us-east-1").add_auth(req)
        resp = requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=10)
        assert resp.status_code == 200, resp.text
        return str(resp.text)

    text = call({"Action": "CreateAccount", "AccountName": name})
    account = re.search(r"<AccountId>(\d+)</AccountId>", text)
    text = call({"Action": "CreateAccessKey", "UserName": "admin", "DelegateAccount": name})
    key = re.search(r"<AccessKeyId>(.+?)</AccessKeyId>", text)
    secret = re.search(r"<SecretAccessKey>(.+?)</SecretAccessKey>", text)
    assert account and key and secret
    return account.group(1), key.group(1), secret.group(1)
