"""euscale-* and awscli as subprocesses against the real cloud; launch templates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.autoscaling.as_helpers import (
    autoscaling,
    config,
    group,
    group_instances,
    image_id,
    in_service,
    wait_for,
)

BIN = Path(sys.executable).parent


@pytest.fixture
def two_zones(make_cloud: Any) -> Any:
    """A two-zone cloud with a fast clock."""
    return make_cloud(config())


def euscale(cloud: Any, name: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``euscale-NAME ARGS`` with the cloud's euca2ools.ini."""
    proc = subprocess.run([str(BIN / f"euscale-{name}"), *args], capture_output=True, text=True,
                          env=cloud.env(), timeout=60)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def aws(cloud: Any, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """Run awscli with the admin's credentials (endpoint per service)."""
    creds = cloud.credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=creds["key"], AWS_SECRET_ACCESS_KEY=creds["secret"],
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    path = "/services/AutoScaling" if args[0] == "autoscaling" else "/services/compute"
    proc = subprocess.run([str(BIN / "aws"), "--endpoint-url", cloud.url + path, "--output",
                           "json", *args], capture_output=True, text=True, env=env, timeout=60)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_euscale_session(two_zones: Any) -> None:
    """Launch config, group, policy, scheduled action, tags, activities with euscale-*."""
    cloud = two_zones
    ec2 = cloud.client("ec2")
    emi = image_id(ec2)
    euscale(cloud, "create-launch-config", "lc", "-i", emi, "-t", "m1.small")
    out = euscale(cloud, "describe-launch-configs", "lc").stdout.split("\n")[0].split("\t")
    assert out == ["LAUNCH-CONFIG", "lc", emi, "m1.small"]
    euscale(cloud, "create-auto-scaling-group", "web", "-l", "lc", "-m", "2", "-M", "5",
            "-z", "zone-a,zone-b", "--tag", "k=team, v=blue, p=true")
    asg = autoscaling(cloud)
    in_service(asg, ec2, "web", 2)
    lines = euscale(cloud, "describe-auto-scaling-groups", "web").stdout.splitlines()
    head = lines[0].split("\t")
    assert head[:8] == ["AUTO-SCALING-GROUP", "web", "lc", "zone-a,zone-b", "", "2", "5", "2"]
    insts = [ln.split("\t") for ln in lines if ln.startswith("INSTANCE")]
    assert len(insts) == 2 and {i[2] for i in insts} == {"zone-a", "zone-b"}
    assert all(i[3] == "InService" and i[4] == "Healthy" for i in insts)
    assert any(ln.startswith("TAG\tauto-scaling-group\tweb\tteam\tblue\ttrue") for ln in lines)
    arn = euscale(cloud, "put-scaling-policy", "up", "-g", "web", "-a", "1", "-t",
                  "ChangeInCapacity", "--cooldown", "900").stdout.strip()
    assert arn.startswith("arn:aws:autoscaling:") and arn.endswith("policyName/up")
    euscale(cloud, "execute-policy", "up", "-g", "web")
    proc = euscale(cloud, "execute-policy", "up", "-g", "web", "-h", ok=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("euscale-execute-policy: error (ScalingActivityInProgress):")
    assert group(asg, "web")["DesiredCapacity"] == 3
    in_service(asg, ec2, "web", 3)
    acts = euscale(cloud, "describe-scaling-activities", "-g", "web", "--show-long").stdout
    assert "executed policy up" in acts and "Successful" in acts
    proc = euscale(cloud, "set-desired-capacity", "web", "-c", "9", ok=False)
    assert proc.returncode == 1 and "ValidationError" in proc.stderr
    euscale(cloud, "suspend-processes", "web", "--processes", "Launch")
    lines = euscale(cloud, "describe-auto-scaling-groups", "web").stdout.splitlines()
    assert any(ln.startswith("SUSPENDED-PROCESS\tLaunch") for ln in lines)
    euscale(cloud, "resume-processes", "web")
    euscale(cloud, "put-scheduled-update-group-action", "nightly", "-g", "web", "-r",
            "0 2 * * *", "--desired-capacity", "2")
    sched = euscale(cloud, "describe-scheduled-actions", "-g", "web").stdout.split("\t")
    assert sched[:2] == ["UPDATE-GROUP-ACTION", "web"] and "0 2 * * *" in sched
    victim = insts[0][1]
    out = euscale(cloud, "terminate-instance-in-auto-scaling-group", victim, "-d").stdout
    assert out.startswith("ACTIVITY\t")
    wait_for(lambda: len(group_instances(ec2, "web")) == 2, what="scale-in by termination")
    types = euscale(cloud, "describe-termination-policy-types").stdout.split()
    assert "OldestLaunchConfiguration" in types
    assert "PROCESS\tAZRebalance" in euscale(cloud, "describe-process-types").stdout
    euscale(cloud, "delete-auto-scaling-group", "web", "-d")
    wait_for(lambda: not euscale(cloud, "describe-auto-scaling-groups").stdout,
             what="group deleted")
    euscale(cloud, "delete-launch-config", "lc")
    assert euscale(cloud, "describe-launch-configs").stdout == ""


def test_awscli_group_from_launch_template(two_zones: Any) -> None:
    """awscli: an EC2 launch template ($Latest / $Default versions) as a group's source."""
    cloud = two_zones
    ec2 = cloud.client("ec2")
    emi = image_id(ec2)
    data = json.dumps({"ImageId": emi, "InstanceType": "m1.small"})
    made = json.loads(aws(cloud, "ec2", "create-launch-template", "--launch-template-name",
                          "web-lt", "--launch-template-data", data).stdout)["LaunchTemplate"]
    assert made["DefaultVersionNumber"] == 1 and made["LatestVersionNumber"] == 1
    data2 = json.dumps({"InstanceType": "m1.medium"})
    v2 = json.loads(aws(cloud, "ec2", "create-launch-template-version", "--launch-template-id",
                        made["LaunchTemplateId"], "--source-version", "1",
                        "--launch-template-data", data2).stdout)["LaunchTemplateVersion"]
    assert v2["VersionNumber"] == 2 and v2["LaunchTemplateData"]["ImageId"] == emi
    aws(cloud, "autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "lt",
        "--launch-template", "LaunchTemplateName=web-lt,Version=$Latest", "--min-size", "2",
        "--max-size", "4", "--availability-zones", "zone-a", "zone-b")
    asg = autoscaling(cloud)
    in_service(asg, ec2, "lt", 2)
    insts = group_instances(ec2, "lt")
    assert {i["InstanceType"] for i in insts} == {"m1.medium"}
    described = json.loads(aws(cloud, "autoscaling", "describe-auto-scaling-groups",
                               "--auto-scaling-group-names", "lt").stdout)
    g = described["AutoScalingGroups"][0]
    assert g["LaunchTemplate"]["LaunchTemplateName"] == "web-lt"
    assert {m["LaunchTemplate"]["Version"] for m in g["Instances"]} == {"2"}
    versions = json.loads(aws(cloud, "ec2", "describe-launch-template-versions",
                              "--launch-template-name", "web-lt", "--versions",
                              "$Default").stdout)["LaunchTemplateVersions"]
    assert [v["VersionNumber"] for v in versions] == [1]
    limits = json.loads(aws(cloud, "autoscaling", "describe-account-limits").stdout)
    assert limits["NumberOfAutoScalingGroups"] == 1
    proc = aws(cloud, "autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name",
               "bad", "--launch-template", "LaunchTemplateName=nope", "--min-size", "1",
               "--max-size", "1", "--availability-zones", "zone-a", ok=False)
    assert proc.returncode != 0 and "ValidationError" in proc.stderr
