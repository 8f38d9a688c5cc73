"""Helpers of the ELB tests: clients, instances, waiting."""

from __future__ import annotations

from typing import Any

from tests.autoscaling.as_helpers import image_id, wait_for

#: Two virtual zones; a fast clock so health checks and minutes pass quickly.
TWO_ZONES = """
[cloud]
clock_speed = {speed}
{extra}

[[zones]]
name = "zone-a"
nodes = 2
boot_seconds = 1.0
private_subnet = "10.{net}.1.0/24"

[[zones]]
name = "zone-b"
nodes = 2
boot_seconds = 1.0
private_subnet = "10.{net}.2.0/24"
"""


def config(speed: float = 1.0, extra: str = "", net: int = 77) -> str:
    """The two-zone configuration."""
    return TWO_ZONES.format(speed=speed, extra=extra, net=net)


def elb(cloud: Any, key: str | None = None, secret: str | None = None) -> Any:
    """A boto3 classic ELB client at /services/LoadBalancing."""
    return cloud.client("elb", key=key, secret=secret, path="/services/LoadBalancing")


def run_instances(ec2: Any, zone: str, count: int = 1) -> list[dict[str, Any]]:
    """Run instances in a zone and wait until they run; their descriptions."""
    ids = [i["InstanceId"] for i in ec2.run_instances(
        ImageId=image_id(ec2), MinCount=count, MaxCount=count, InstanceType="m1.small",
        Placement={"AvailabilityZone": zone})["Instances"]]

    def running() -> list[dict[str, Any]] | None:
        insts = [i for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
                 for i in r["Instances"]]
        ok = all(i["State"]["Name"] == "running" and i.get("PrivateIpAddress") for i in insts)
        return insts if ok else None

    return list(wait_for(running, what=f"instances {ids} running"))


def health(client: Any, name: str) -> dict[str, dict[str, str]]:
    """``{instance id: state}`` of a balancer."""
    return {s["InstanceId"]: s for s in
            client.describe_instance_health(LoadBalancerName=name)["InstanceStates"]}
