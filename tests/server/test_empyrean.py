"""The Empyrean and Properties APIs by raw signed requests: cloud admin only, malformed
requests refused with 4xx codes, and properties that change what the cloud does."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from helpers import ec2_query, error_code, new_account, wait_state

#: One zone of two nodes with the virtual volume backend.
ONE_ZONE = """
[[zones]]
name = "zone-p"
nodes = 2
storage_backend = "virtual"
"""


def call(cloud: Any, path: str, scope: str, params: dict[str, str],
         key: str | None = None, secret: str | None = None) -> requests.Response:
    """A signed query request to ``/services/PATH`` with SigV4 scope ``scope``."""
    creds = cloud.credentials()
    req = AWSRequest("POST", cloud.url + path, data={"Version": "eucalyptus", **params})
    SigV4Auth(Credentials(key or creds["key"], secret or creds["secret"]), scope,
              "us-east-1").add_auth(req)
    return requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=10)


def empyrean(cloud: Any, params: dict[str, str], **kw: Any) -> requests.Response:
    """A signed Empyrean (bootstrap) request."""
    return call(cloud, "/services/Empyrean", "bootstrap", params, **kw)


def properties(cloud: Any, params: dict[str, str], **kw: Any) -> requests.Response:
    """A signed Properties request."""
    return call(cloud, "/services/Properties", "properties", params, **kw)


def code(resp: requests.Response) -> str:
    """The error code of an error answer."""
    found = re.search(r"<Code>(.+?)</Code>", resp.text)
    return found.group(1) if found else ""


def set_property(cloud: Any, name: str, value: str) -> None:
    """ModifyPropertyValue, which must succeed."""
    resp = properties(cloud, {"Action": "ModifyPropertyValue", "Name": name, "Value": value})
    assert resp.status_code == 200, resp.text


def test_cloud_admin_only(cloud: Any) -> None:
    """Another account's administrator and unsigned callers are refused every action;
    the bundling certificate stays public at the same path."""
    _account, key, secret = new_account(cloud, "notadmin")
    for params in ({"Action": "DescribeServices"}, {"Action": "DescribeEvents"},
                   {"Action": "ModifyService", "Name": "zone-1-node-01", "State": "stop"}):
        resp = empyrean(cloud, params, key=key, secret=secret)
        assert resp.status_code == 403 and code(resp) == "AccessDenied", resp.text
    resp = properties(cloud, {"Action": "DescribeProperties"}, key=key, secret=secret)
    assert resp.status_code == 403 and code(resp) == "AccessDenied"
    resp = requests.post(cloud.url + "/services/Properties",
                         data={"Action": "DescribeProperties"}, timeout=10)
    assert resp.status_code == 403 and code(resp) == "MissingAuthenticationToken"
    resp = requests.post(cloud.url + "/services/Empyrean",
                         data={"Action": "DescribeServiceCertificates"}, timeout=10)
    assert resp.status_code == 200 and "BEGIN CERTIFICATE" in resp.text
    resp = empyrean(cloud, {"Action": "DescribeServices", "ServiceName.1": "zone-1-node-01"})
    assert resp.status_code == 200 and "<localState>ENABLED</localState>" in resp.text
    resp = empyrean(cloud, {"Action": "DescribeServices", "ServiceName.1": "eucalyptus",
                            "ShowEvents": "true"})
    assert "<statusDetails>" in resp.text and "cloud started with" in resp.text


@pytest.mark.parametrize("path,params,expected", [
    ("e", {"Action": "ModifyService", "Name": "zone-1-node-01"}, "MissingParameter"),
    ("e", {"Action": "ModifyService", "Name": "zone-1-node-01", "State": "pause"},
     "InvalidParameterValue"),
    ("e", {"Action": "ModifyService", "Name": "nonesuch", "State": "stop"},
     "InvalidParameterValue"),
    ("e", {"Action": "RegisterService", "Name": "n", "Type": "node", "Host": "h",
           "Partition": "zone-1", "Port": "eighty"}, "InvalidParameterValue"),
    ("e", {"Action": "RegisterService", "Type": "node", "Host": "h"}, "MissingParameter"),
    ("e", {"Action": "DescribeServices", "Filter.1.Name": "colour", "Filter.1.Value.1": "x"},
     "InvalidParameterValue"),
    ("e", {"Action": "DescribeEvents", "MaxRecords": "0"}, "InvalidParameterValue"),
    ("e", {"Action": "DescribeServices", "ShowEvents": "maybe"}, "InvalidParameterValue"),
    ("e", {"Action": "DeregisterService"}, "MissingParameter"),
    ("p", {"Action": "ModifyPropertyValue", "Name": "cloud.vmstate.terminated_time"},
     "MissingParameter"),
    ("p", {"Action": "ModifyPropertyValue", "Name": "zone-1.cluster.scheduler",
           "Value.1": "GREEDY"}, "InvalidParameterValue"),
    ("p", {"Action": "ModifyPropertyValue", "Name": "cloud.quota.max_instances_per_account",
           "Value": "-1"}, "InvalidParameterValue"),
    ("p", {"Action": "FrobnicateProperty"}, "InvalidAction"),
])
def test_malformed_requests(cloud: Any, path: str, params: dict[str, str], expected: str) -> None:
    """Each malformed request gets its AWS code and a 400, never a 500."""
    resp = (empyrean if path == "e" else properties)(cloud, params)
    assert resp.status_code == 400 and code(resp) == expected, resp.text


def nodes_of(cloud: Any) -> dict[str, set[str]]:
    """Node name -> instance ids (DescribeNodes)."""
    text = ec2_query(cloud, "DescribeNodes", {}).text
    out: dict[str, set[str]] = {}
    for item in re.findall(r"<name>(.+?)</name>(.*?)(?=<name>|</nodeSet>)", text, re.S):
        out[item[0]] = set(re.findall(r"<instanceId>(.+?)</instanceId>", item[1]))
    return out


def test_properties_change_what_the_cloud_does(make_cloud: Any) -> None:
    """The scheduler, the storage limit, the instance quota, the DNS subdomain and the
    terminated-instance retention each change the running cloud's behaviour."""
    cloud = make_cloud(ONE_ZONE)
    ec2 = cloud.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    set_property(cloud, "zone-p.cluster.scheduler", "greedy")
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=3,
                                                      MaxCount=3)["Instances"]]
    running = wait_state(ec2, ids, "running")
    assert set(ids) <= nodes_of(cloud)["zone-p-node-01"]  # GREEDY packs the first node
    set_property(cloud, "cloud.vmstate.instance_subdomain", ".example.test")
    dns = ec2.describe_instances(InstanceIds=ids[:1])["Reservations"][0]["Instances"][0]
    assert dns["PrivateDnsName"].endswith(".example.test"), dns["PrivateDnsName"]
    assert not running[0]["PrivateDnsName"].endswith(".example.test")

    set_property(cloud, "cloud.quota.max_instances_per_account", "3")
    with pytest.raises(ClientError) as err:
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)
    assert error_code(err) == "InstanceLimitExceeded"
    set_property(cloud, "cloud.quota.max_instances_per_account", "0")

    set_property(cloud, "zone-p.storage.maxvolumesizeingb", "2")
    with pytest.raises(ClientError) as err:
        ec2.create_volume(AvailabilityZone="zone-p", Size=3)
    assert "maximum volume size of 2 GiB" in str(err.value)
    ec2.create_volume(AvailabilityZone="zone-p", Size=2)

    set_property(cloud, "cloud.vmstate.terminated_time", "0.05")  # 3 s
    ec2.terminate_instances(InstanceIds=ids[:1])
    deadline = time.time() + 30
    while ec2.describe_instances(Filters=[{"Name": "instance-id", "Values": ids[:1]}])[
            "Reservations"]:
        assert time.time() < deadline, "the terminated instance is still shown"
        time.sleep(0.5)
    resp = properties(cloud, {"Action": "DescribeProperties", "Property.1": "cloud.vmstate"})
    assert "<value>0.05</value>" in resp.text and "<value>.example.test</value>" in resp.text
    resp = properties(cloud, {"Action": "ModifyPropertyValue", "Name": "zone-p.cluster.scheduler",
                              "Reset": "true"})
    assert "<oldValue>GREEDY</oldValue>" in resp.text and "<value>ROUNDROBIN</value>" in resp.text
    more = [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=2,
                                                       MaxCount=2)["Instances"]]
    wait_state(ec2, more, "running")
    assert set(more) & nodes_of(cloud)["zone-p-node-02"]  # ROUNDROBIN spreads again


def test_stopped_api_answers_service_unavailable(make_cloud: Any) -> None:
    """A stopped Auto Scaling API and a disabled S3 answer 503 ServiceUnavailable in their
    own formats, across a restart, until they are started again; the rest serves on."""
    cloud = make_cloud()
    asg = cloud.client("autoscaling", path="/services/AutoScaling")
    s3 = cloud.client("s3")
    assert "AutoScalingGroups" in asg.describe_auto_scaling_groups()
    for name, state in (("autoscaling", "stop"), ("objectstorage", "disable")):
        resp = empyrean(cloud, {"Action": "ModifyService", "Name": name, "State": state})
        assert resp.status_code == 200, resp.text
    for _ in range(2):
        with pytest.raises(ClientError) as err:
            asg.describe_auto_scaling_groups()
        assert error_code(err) == "ServiceUnavailable"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        with pytest.raises(ClientError) as err:
            s3.list_buckets()
        assert error_code(err) == "ServiceUnavailable"
        assert cloud.client("ec2").describe_regions()["Regions"]
        resp = empyrean(cloud, {"Action": "DescribeServices", "ServiceName.1": "autoscaling"})
        assert "<localState>STOPPED</localState>" in resp.text
        cloud.restart()
    for name in ("autoscaling", "objectstorage"):
        resp = empyrean(cloud, {"Action": "ModifyService", "Name": name, "State": "start"})
        assert resp.status_code == 200, resp.text
    assert "AutoScalingGroups" in asg.describe_auto_scaling_groups()
    assert "Buckets" in s3.list_buckets()


def test_pending_time_terminates_stuck_instances(make_cloud: Any) -> None:
    """cloud.vmstate.pending_time: an instance whose staging outlasts it is terminated, with
    the reason."""
    cloud = make_cloud('[[zones]]\nname = "zone-s"\nnodes = 1\nstaging_seconds = 600.0\n')
    ec2 = cloud.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    set_property(cloud, "cloud.vmstate.pending_time", "0.05")  # 3 s
    stuck = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    assert stuck["State"]["Name"] == "pending"
    done = wait_state(ec2, [stuck["InstanceId"]], "terminated", timeout=40.0)
    assert "still pending after 3 s" in done[0]["StateReason"]["Message"]


def test_node_faults_are_events(tmp_path: Any) -> None:
    """In process: a node its CC marks DOWN (as the health monitor does) is NOTREADY with an
    ERROR event; when it reports again it is ENABLED with an INFO event."""
    from server.cloud import Cloud
    from server.config import load

    local = Cloud(load(None, data_dir=str(tmp_path)))
    try:
        local.build_clusters()
        registry = local.components["service_registry"]
        registry.start()
        cc = local.clusters["zone-1"]
        cc.node_down("zone-1-node-03")
        assert registry.describe(["zone-1-node-03"])[0].state == "NOTREADY"
        cc.node_up("zone-1-node-03")
        assert registry.describe(["zone-1-node-03"])[0].state == "ENABLED"
        events = [(e.severity, e.message) for e in registry.events(["zone-1-node-03"])]
        assert events[0][0] == "ERROR" and "stopped reporting" in events[0][1]
        assert events[1][0] == "INFO" and "reporting again" in events[1][1]
        with pytest.raises(Exception, match="not reporting"):
            cc.node_down("zone-1-node-03")
            registry.modify("zone-1-node-03", "enable")
    finally:
        local.engine.dispose()


def test_disabled_cluster_takes_no_instances(make_cloud: Any) -> None:
    """A disabled CC's zone shows no free room and refuses new instances (its running ones
    stay), also after a restart; enabled again, it places as before.  A stopped SC refuses
    new volumes until it is started."""
    cloud = make_cloud()
    ec2 = cloud.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    first = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    wait_state(ec2, [first["InstanceId"]], "running")
    resp = empyrean(cloud, {"Action": "ModifyService", "Name": "zone-1-cc", "State": "disable"})
    assert resp.status_code == 200 and "<localState>DISABLED</localState>" in resp.text
    for _ in range(2):
        with pytest.raises(ClientError) as err:
            ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)
        assert error_code(err) == "InsufficientInstanceCapacity"
        zones = ec2.describe_availability_zones(ZoneNames=["verbose"])["AvailabilityZones"]
        assert any(z["ZoneName"] == "|- m1.small" and
                   str(z.get("State", z.get("ZoneState", ""))).startswith("0000 / 0032")
                   for z in zones), zones
        wait_state(ec2, [first["InstanceId"]], "running")
        cloud.restart()
    resp = empyrean(cloud, {"Action": "ModifyService", "Name": "zone-1-cc", "State": "enable"})
    assert resp.status_code == 200
    resp = empyrean(cloud, {"Action": "ModifyService", "Name": "zone-1-sc", "State": "stop"})
    assert resp.status_code == 200
    with pytest.raises(ClientError) as err:
        ec2.create_volume(AvailabilityZone="zone-1", Size=1)
    assert error_code(err) == "ServiceUnavailable"
    resp = empyrean(cloud, {"Action": "ModifyService", "Name": "zone-1-sc", "State": "start"})
    assert resp.status_code == 200
    ec2.create_volume(AvailabilityZone="zone-1", Size=1)
    more = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    wait_state(ec2, [more["InstanceId"]], "running")
