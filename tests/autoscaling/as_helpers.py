"""Helpers of the Auto Scaling tests: a two-zone cloud, clients, waiting for groups."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

#: Two zones of two small nodes each; a fast clock so cooldowns and schedules pass quickly.
TWO_ZONES = """
[cloud]
clock_speed = {speed}
max_instances_per_account = {quota}

[[zones]]
name = "zone-a"
nodes = 2
node_cores = {cores}
boot_seconds = 1.0

[[zones]]
name = "zone-b"
nodes = 2
node_cores = {cores}
boot_seconds = 1.0
private_subnet = "10.9.0.0/24"
"""


def config(speed: float = 10.0, quota: int = 0, cores: int = 8) -> str:
    """The two-zone configuration."""
    return TWO_ZONES.format(speed=speed, quota=quota, cores=cores)


def autoscaling(cloud: Any, key: str | None = None, secret: str | None = None) -> Any:
    """A boto3 Auto Scaling client at /services/AutoScaling."""
    return cloud.client("autoscaling", key=key, secret=secret, path="/services/AutoScaling")


def image_id(ec2: Any) -> str:
    """The cloud's default machine image."""
    images = ec2.describe_images()["Images"]
    return str(next(i["ImageId"] for i in images if i["ImageId"].startswith("emi-")))


def wait_for(check: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or check}: {last!r}")


def group(asg: Any, name: str) -> dict[str, Any]:
    """One group's description."""
    return dict(asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
                ["AutoScalingGroups"][0])


def in_service(asg: Any, ec2: Any, name: str, count: int) -> list[dict[str, Any]]:
    """Wait until the group has ``count`` InService members whose instances run."""
    def check() -> list[dict[str, Any]] | None:
        members = [m for m in group(asg, name)["Instances"] if m["LifecycleState"] == "InService"]
        if len(members) != count:
            return None
        ids = [m["InstanceId"] for m in members]
        if not ids:
            return members
        states = [i["State"]["Name"] for r in ec2.describe_instances(InstanceIds=ids)
                  ["Reservations"] for i in r["Instances"]]
        return members if states.count("running") == count else None

    return list(wait_for(check, what=f"{count} instances in service in {name}"))


def group_instances(ec2: Any, name: str) -> list[dict[str, Any]]:
    """Live EC2 instances tagged with the group's name."""
    resp = ec2.describe_instances(Filters=[
        {"Name": "tag:aws:autoscaling:groupName", "Values": [name]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])
    return [i for r in resp["Reservations"] for i in r["Instances"]]
