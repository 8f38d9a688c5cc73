"""Placement is atomic: concurrent RunInstances never oversubscribe a zone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError
from helpers import wait_state

CONFIG = """
[[zones]]
name = "tight"
scheduler = "GREEDY"
nodes = 2
node_cores = 5
node_memory_mb = 4096
node_disk_gb = 100
"""


def test_32_concurrent_runs_start_exactly_capacity(make_cloud) -> None:
    """32 concurrent RunInstances against room for 10 start exactly 10 and refuse 22."""
    c = make_cloud(CONFIG)
    ec2 = c.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]

    def run(_: int) -> str | None:
        client = c.client("ec2")
        try:
            return str(client.run_instances(ImageId=image, MinCount=1,
                                            MaxCount=1)["Instances"][0]["InstanceId"])
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "InsufficientInstanceCapacity"
            return None

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(run, range(32)))
    started = [r for r in results if r]
    assert len(started) == 10
    rows = ec2.describe_availability_zones(ZoneNames=["verbose"])["AvailabilityZones"]
    assert next(r for r in rows if r["ZoneName"] == "|- m1.small")["State"].startswith(
        "0000 / 0010")
    wait_state(ec2, started, "running")
    ec2.terminate_instances(InstanceIds=started)
    wait_state(ec2, started, "terminated")
    rows = ec2.describe_availability_zones(ZoneNames=["verbose"])["AvailabilityZones"]
    assert next(r for r in rows if r["ZoneName"] == "|- m1.small")["State"].startswith(
        "0010 / 0010")
