"""awscli as a real client: the same session a new user would run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import wait_state

AWS = str(Path(sys.executable).parent / "aws")


def aws(cloud, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``aws --endpoint-url ... ARGS`` with the admin's credentials."""
    creds = cloud.credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=creds["key"], AWS_SECRET_ACCESS_KEY=creds["secret"],
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    proc = subprocess.run([AWS, "--endpoint-url", cloud.url + "/services/compute", "--output",
                           "json", *args], capture_output=True, text=True, env=env, timeout=60)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_awscli_session(cloud) -> None:
    """Describe, run, wait, tag, terminate with awscli."""
    image = json.loads(aws(cloud, "ec2", "describe-images").stdout)["Images"][0]["ImageId"]
    out = json.loads(aws(cloud, "ec2", "run-instances", "--image-id", image, "--count", "2",
                         "--instance-type", "m1.small").stdout)
    ids = [i["InstanceId"] for i in out["Instances"]]
    wait_state(cloud.client("ec2"), ids, "running")  # awscli's waiter polls only every 15 s
    aws(cloud, "ec2", "create-tags", "--resources", *ids, "--tags", "Key=Name,Value=cli")
    listed = json.loads(aws(cloud, "ec2", "describe-instances", "--filters",
                            "Name=tag:Name,Values=cli").stdout)
    assert sorted(i["InstanceId"] for r in listed["Reservations"] for i in r["Instances"]) == \
        sorted(ids)
    zones = json.loads(aws(cloud, "ec2", "describe-availability-zones", "--zone-names",
                           "verbose").stdout)["AvailabilityZones"]
    assert any(z["ZoneName"] == "|- m1.small" and z["State"].startswith("0030 / 0032")
               for z in zones)
    aws(cloud, "ec2", "terminate-instances", "--instance-ids", *ids)
    wait_state(cloud.client("ec2"), ids, "terminated")


def test_awscli_errors(cloud) -> None:
    """awscli shows AWS's error codes and exits non-zero."""
    proc = aws(cloud, "ec2", "describe-instances", "--instance-ids", "i-00000000000000000",
               check=False)
    assert proc.returncode != 0 and "InvalidInstanceID.NotFound" in proc.stderr
    proc = aws(cloud, "ec2", "describe-instances", "--filters", "Name=nope,Values=x", check=False)
    assert proc.returncode != 0 and "InvalidParameterValue" in proc.stderr
