"""Several zones, POWERSAVE through the API, retention, boot timing and the node view."""

from __future__ import annotations

import re
import time

import pytest
from botocore.exceptions import ClientError
from helpers import ec2_query, new_account, wait_state

TWO_ZONES = """
[cloud]
terminated_retention_seconds = 2

[[zones]]
name = "zone-a"
scheduler = "GREEDY"
nodes = 2
node_cores = 4
node_memory_mb = 4096
node_disk_gb = 100
boot_seconds = 1.0

[[zones]]
name = "zone-b"
scheduler = "POWERSAVE"
nodes = 2
node_cores = 2
power_idle_seconds = 1
power_wake_seconds = 1
boot_seconds = 0.5
private_subnet = "10.9.0.0/24"
public_ips = ["203.0.113.10-203.0.113.40"]
"""


@pytest.fixture(scope="module")
def cloud2(database):
    """A two-zone cloud."""
    from cloudproc import postgres_url, running_cloud

    with running_cloud(TWO_ZONES, database=postgres_url() if database == "postgresql" else None) as c:
        yield c


def test_zones_and_capacity(cloud2) -> None:
    """Each zone is a cluster with its own capacity rows."""
    ec2 = cloud2.client("ec2")
    assert [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]] == \
        ["zone-a", "zone-b"]
    rows = ec2.describe_availability_zones(ZoneNames=["verbose"])["AvailabilityZones"]
    smalls = [r["State"] for r in rows if r["ZoneName"] == "|- m1.small"]
    assert smalls == ["0008 / 0008   1    256     5", "0004 / 0004   1    256     5"]


def test_boot_timing_and_greedy_packing(cloud2) -> None:
    """Pending on return, running by boot_seconds + 1 s; GREEDY packs the first node."""
    ec2 = cloud2.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    t0 = time.time()
    r = ec2.run_instances(ImageId=image, MinCount=3, MaxCount=3,
                          Placement={"AvailabilityZone": "zone-a"})
    ids = [i["InstanceId"] for i in r["Instances"]]
    assert {i["State"]["Name"] for i in r["Instances"]} == {"pending"}
    running = wait_state(ec2, ids, "running", timeout=5)
    assert time.time() - t0 <= 1.0 + 1.0
    assert {i["Placement"]["HostId"] for i in running} == {"zone-a-node-01"}
    assert all(i["PrivateIpAddress"].startswith("10.1.") for i in running)
    ec2.terminate_instances(InstanceIds=ids)
    wait_state(ec2, ids, "terminated")


def test_terminated_instances_disappear_after_retention(cloud2) -> None:
    """Terminated instances leave Describe after terminated_retention_seconds."""
    ec2 = cloud2.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                            Placement={"AvailabilityZone": "zone-a"})["Instances"][0]["InstanceId"]
    ec2.terminate_instances(InstanceIds=[iid])
    wait_state(ec2, [iid], "terminated")
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            ec2.describe_instances(InstanceIds=[iid])
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
            return
        time.sleep(0.2)
    raise AssertionError("terminated instance still listed after retention")


def test_powersave_sleeps_and_wakes_nodes(cloud2) -> None:
    """Idle POWERSAVE nodes power down; a launch wakes one and the instance then runs."""
    ec2 = cloud2.client("ec2")
    nodes = _nodes(cloud2, "zone-b")
    deadline = time.time() + 5
    while time.time() < deadline and {n["powerState"] for n in nodes} != {"off"}:
        time.sleep(0.2)
        nodes = _nodes(cloud2, "zone-b")
    assert {n["powerState"] for n in nodes} == {"off"}
    image = ec2.describe_images()["Images"][0]["ImageId"]
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                            Placement={"AvailabilityZone": "zone-b"})["Instances"][0]["InstanceId"]
    assert _nodes(cloud2, "zone-b")[0]["powerState"] == "waking"
    wait_state(ec2, [iid], "running", timeout=5)
    assert _nodes(cloud2, "zone-b")[0]["powerState"] == "on"
    ec2.terminate_instances(InstanceIds=[iid])
    wait_state(ec2, [iid], "terminated")


def _nodes(cloud, zone: str) -> list[dict]:
    """DescribeNodes (a Eucalyptus extension) through a raw signed query call."""
    resp = ec2_query(cloud, "DescribeNodes", {"ZoneName.1": zone})
    assert resp.status_code == 200, resp.text
    items = re.findall(r"<item><name>(.*?)</name>.*?<powerState>(.*?)</powerState>", resp.text)
    return [{"name": n, "powerState": p} for n, p in items]


def test_describe_nodes_is_admin_only(cloud2) -> None:
    """The node view needs the cloud admin; an account admin gets UnauthorizedOperation (403)."""
    _, key, secret = new_account(cloud2, "tenant-nodes")
    resp = ec2_query(cloud2, "DescribeNodes", {}, key=key, secret=secret)
    assert resp.status_code == 403 and "<Code>UnauthorizedOperation</Code>" in resp.text
    resp = ec2_query(cloud2, "DescribeNodes", {})
    assert resp.status_code == 200 and resp.text.count("<coresTotal>") == 4


def test_migrate_instances_moves_an_instance(make_cloud) -> None:
    """MigrateInstances (admin) live-migrates an instance; its node follows in Describe."""
    c = make_cloud('[[zones]]\nname = "m"\nscheduler = "GREEDY"\nnodes = 2\n')
    ec2 = c.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    assert wait_state(ec2, [iid], "running")[0]["Placement"]["HostId"] == "m-node-01"
    resp = ec2_query(c, "MigrateInstances", {"InstanceId": iid})
    assert resp.status_code == 200, resp.text
    deadline = time.time() + 20
    while time.time() < deadline:
        inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        if inst["Placement"]["HostId"] == "m-node-02":
            break
        time.sleep(0.2)
    assert inst["Placement"]["HostId"] == "m-node-02" and inst["State"]["Name"] == "running"
    bad = ec2_query(c, "MigrateInstances", {"InstanceId": iid, "SourceHost": "m-node-01"})
    assert bad.status_code == 400 and "InvalidParameterCombination" in bad.text
