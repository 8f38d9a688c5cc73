"""A cloud of processes on separate hosts: CLC+Walrus, two CCs, four NCs.

Each component runs as its own ``eucalyptus-cloud --components ...`` process in its
own network namespace (tests/netcloud.py), so every "host" is a real network endpoint.
Through boto3: instances run across zones; an NC killed with SIGKILL is DOWN within
two CC polls, its instances kept and re-adopted when it restarts; a dead CC makes its
zone's RunInstances fail with InsufficientInstanceCapacity until it returns with the
zone's instances; internal requests that are unsigned, tampered with or stale are
refused with 403.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cbor2
import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netcloud import NetCloud, netns_unavailable, start_netcloud, wait_for  # noqa: E402

from server.remote.signing import Keyring  # noqa: E402

POLL = 1.0
ZONES = {"zone-a": ["node-a1", "node-a2"], "zone-b": ["node-b1", "node-b2"]}

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def cloud() -> Iterator[NetCloud]:
    reason = netns_unavailable()
    if reason:
        pytest.skip(reason)
    net = start_netcloud(ZONES, poll_interval=POLL)
    try:
        yield net
    finally:
        net.stop()


def states(ec2: Any, ids: list[str]) -> dict[str, str]:
    out = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    return {i["InstanceId"]: i["State"]["Name"] for r in out for i in r["Instances"]}


def run(ec2: Any, zone: str, count: int) -> list[str]:
    image = ec2.describe_images()["Images"][0]["ImageId"]
    out = ec2.run_instances(ImageId=image, MinCount=count, MaxCount=count,
                            InstanceType="m1.small", Placement={"AvailabilityZone": zone})
    return [i["InstanceId"] for i in out["Instances"]]


def all_running(ec2: Any, ids: list[str]) -> bool:
    return set(states(ec2, ids).values()) == {"running"}


def cc_view(cloud: NetCloud, zone: str) -> dict[str, Any]:
    """The CC's own state, asked as the CLC (signed with the CLC's key)."""
    body = cbor2.dumps({"after": 0})
    keys = Keyring(str(cloud.keys_dir), "clc")
    answer = cloud.internal(f"cc-{zone}", "/cc/state", body, keys.sign("POST", "/cc/state", body))
    assert answer.status_code == 200, answer.content
    return dict(cbor2.loads(answer.content)["result"])


def node_status(cloud: NetCloud, zone: str, node: str) -> str:
    return next(n["status"] for n in cc_view(cloud, zone)["nodes"] if n["name"] == node)


def free_small(ec2: Any, zone: str) -> int:
    rows = ec2.describe_availability_zones(ZoneNames=[zone, "verbose"])["AvailabilityZones"]
    row = next(r for r in rows if r["ZoneName"] == "|- m1.small")
    return int(row["State"].split()[0])


def test_instances_run_across_zones(cloud: NetCloud) -> None:
    ec2 = cloud.client()
    zones = {z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]}
    assert zones == set(ZONES)
    ids = run(ec2, "zone-a", 3) + run(ec2, "zone-b", 3)
    wait_for("instances running", lambda: all_running(ec2, ids))
    out = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    placed = {i["Placement"]["AvailabilityZone"] for r in out for i in r["Instances"]}
    assert placed == {"zone-a", "zone-b"}
    # Round-robin over each zone's two node processes: both zones use both their nodes.
    for zone, nodes in ZONES.items():
        view = cc_view(cloud, zone)
        used = {n["name"] for n in view["nodes"] if n["instances"]}
        assert used == set(nodes)
    console = ec2.get_console_output(InstanceId=ids[0])
    assert "Output" in console
    # EBS: the CLC's storage controller attaches through the CC to the node process.
    vol = ec2.create_volume(Size=1, AvailabilityZone="zone-a")["VolumeId"]
    wait_for("volume available", lambda: ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0][
        "State"] == "available")
    ec2.attach_volume(VolumeId=vol, InstanceId=ids[0], Device="/dev/sdf")
    wait_for("attached", lambda: [a["State"] for a in ec2.describe_volumes(
        VolumeIds=[vol])["Volumes"][0]["Attachments"]] == ["attached"])
    ec2.detach_volume(VolumeId=vol)
    wait_for("detached", lambda: ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0][
        "State"] == "available")
    ec2.delete_volume(VolumeId=vol)
    # DescribeSensors (CloudWatch's instance metrics) is relayed from the nodes by the CC.
    body = cbor2.dumps({"seconds": 60.0})
    clc = Keyring(str(cloud.keys_dir), "clc")
    sensors = cloud.internal("cc-zone-a", "/cc/sensors", body,
                             clc.sign("POST", "/cc/sensors", body))
    samples = cbor2.loads(sensors.content)["result"]
    assert set(samples) == set(ids[:3])
    assert "CPUUtilization" in samples[ids[0]]
    ec2.terminate_instances(InstanceIds=ids)
    wait_for("terminated", lambda: set(states(ec2, ids).values()) == {"terminated"})


def test_internal_requests_are_signed(cloud: NetCloud) -> None:
    body = cbor2.dumps({"after": 0})
    clc = Keyring(str(cloud.keys_dir), "clc")
    ok = cloud.internal("cc-zone-a", "/cc/state", body, clc.sign("POST", "/cc/state", body))
    assert ok.status_code == 200
    unsigned = cloud.internal("cc-zone-a", "/cc/state", body)
    assert unsigned.status_code == 403
    assert cbor2.loads(unsigned.content)["code"] == "AccessDenied"
    tampered = cloud.internal("cc-zone-a", "/cc/state", cbor2.dumps({"after": 1}),
                              clc.sign("POST", "/cc/state", body))
    assert tampered.status_code == 403
    assert "does not match" in cbor2.loads(tampered.content)["error"]
    headers = clc.sign("POST", "/cc/state", body)
    assert cloud.internal("cc-zone-a", "/cc/state", body, headers).status_code == 200
    replayed = cloud.internal("cc-zone-a", "/cc/state", body, headers)
    assert replayed.status_code == 403 and "replay" in cbor2.loads(replayed.content)["error"]
    other_path = cloud.internal("cc-zone-a", "/cc/terminate", body,
                                clc.sign("POST", "/cc/state", body))
    assert other_path.status_code == 403
    stale = Keyring(str(cloud.keys_dir), "clc", now=lambda: time.time() - 3600)
    old = cloud.internal("cc-zone-a", "/cc/state", body, stale.sign("POST", "/cc/state", body))
    assert old.status_code == 403
    # A node answers only its CC: the CLC's own valid signature is refused there.
    nc = cloud.internal("node-a1", "/node/state", body, clc.sign("POST", "/node/state", body))
    assert nc.status_code == 403


def test_killed_node_goes_down_and_is_readopted(cloud: NetCloud) -> None:
    ec2 = cloud.client()
    ids = run(ec2, "zone-a", 2)
    wait_for("instances running", lambda: all_running(ec2, ids))
    on_a1 = [i for i in ids if i in next(
        n["instances"] for n in cc_view(cloud, "zone-a")["nodes"] if n["name"] == "node-a1")]
    assert on_a1, "round-robin put one of two instances on each node"
    before = free_small(ec2, "zone-a")
    cloud.kill("node-a1")
    killed = time.monotonic()
    wait_for("node DOWN", lambda: node_status(cloud, "zone-a", "node-a1") == "DOWN",
             timeout=10)
    # Down within two polls (plus the time to ask the CC).
    assert time.monotonic() - killed <= 2 * POLL + 1.0
    # Its capacity leaves the zone; its instances are kept and reported impaired.
    wait_for("capacity gone", lambda: free_small(ec2, "zone-a") < before)
    down = next(n for n in cc_view(cloud, "zone-a")["nodes"] if n["name"] == "node-a1")
    assert set(on_a1) <= set(down["instances"])
    wait_for("impaired", lambda: {s["InstanceId"]: s["InstanceStatus"]["Status"] for s in
                                  ec2.describe_instance_status(InstanceIds=on_a1)[
                                      "InstanceStatuses"]} == {i: "impaired" for i in on_a1})
    assert set(states(ec2, on_a1).values()) == {"running"}
    cloud.start("node-a1")
    wait_for("node UP", lambda: node_status(cloud, "zone-a", "node-a1") == "UP", timeout=60)
    wait_for("status ok", lambda: {s["InstanceStatus"]["Status"] for s in
                                   ec2.describe_instance_status(InstanceIds=on_a1)[
                                       "InstanceStatuses"]} == {"ok"})
    assert free_small(ec2, "zone-a") == before
    # The restarted node runs them again, and they can be terminated there.
    ec2.terminate_instances(InstanceIds=ids)
    wait_for("terminated", lambda: set(states(ec2, ids).values()) == {"terminated"})


def test_hung_node_goes_down_without_stalling_its_zone(cloud: NetCloud) -> None:
    ec2 = cloud.client()
    cloud.pause("node-b1", True)
    try:
        stopped = time.monotonic()
        wait_for("node DOWN", lambda: node_status(cloud, "zone-b", "node-b1") == "DOWN",
                 timeout=10)
        # Its poll timed out (0.8 of the interval): still within two polls.
        assert time.monotonic() - stopped <= 2 * POLL + 1.0
        # The zone goes on with its other node, polled as before.
        ids = run(ec2, "zone-b", 2)
        wait_for("instances running", lambda: all_running(ec2, ids))
        assert set(ids) <= set(next(n["instances"] for n in cc_view(cloud, "zone-b")["nodes"]
                                    if n["name"] == "node-b2"))
    finally:
        cloud.pause("node-b1", False)
    wait_for("node UP", lambda: node_status(cloud, "zone-b", "node-b1") == "UP", timeout=10)
    ec2.terminate_instances(InstanceIds=ids)
    wait_for("terminated", lambda: set(states(ec2, ids).values()) == {"terminated"})


def test_cc_restart_keeps_the_zone(cloud: NetCloud) -> None:
    ec2 = cloud.client()
    ids = run(ec2, "zone-b", 3)
    wait_for("instances running", lambda: all_running(ec2, ids))
    ids, gone = ids[:2], ids[2:]
    cloud.kill("cc-zone-b")

    def refused() -> bool:
        try:
            run(ec2, "zone-b", 1)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "InsufficientInstanceCapacity"
            assert "zone-b is unavailable" in exc.response["Error"]["Message"]
            return True
        return False

    wait_for("RunInstances refused", refused)
    zones = {z["ZoneName"]: z["State"]
             for z in ec2.describe_availability_zones()["AvailabilityZones"]}
    assert zones == {"zone-a": "available", "zone-b": "unavailable"}
    other = run(ec2, "zone-a", 1)  # the other zone is unaffected
    wait_for("other zone's instance running", lambda: all_running(ec2, other))
    ec2.terminate_instances(InstanceIds=other)
    # A termination accepted while the CC is away is carried out when it is back.
    ec2.terminate_instances(InstanceIds=gone)
    cloud.start("cc-zone-b")
    cloud.wait_listening("cc-zone-b")
    # The restarted CC re-reads its nodes' instances: they are still its zone's.
    view = wait_for("CC knows its instances",
                    lambda: (v := cc_view(cloud, "zone-b")) and set(ids) <= set(v["placement"])
                    and v)
    assert set(ids) <= set(view["placement"])
    more = wait_for("RunInstances accepted", lambda: _try_run(ec2, "zone-b"))
    assert {z["State"] for z in ec2.describe_availability_zones()["AvailabilityZones"]} == {
        "available"}
    wait_for("new instance running", lambda: all_running(ec2, more))
    assert set(states(ec2, ids).values()) == {"running"}
    wait_for("terminated while away", lambda: set(states(ec2, gone).values()) == {"terminated"})
    ec2.terminate_instances(InstanceIds=ids + more)
    wait_for("terminated", lambda: set(states(ec2, ids + more).values()) == {"terminated"})


def _try_run(ec2: Any, zone: str) -> list[str] | None:
    try:
        return run(ec2, zone, 1)
    except ClientError:
        return None


def test_cc_restarted_while_a_node_is_down_adopts_it_later(cloud: NetCloud) -> None:
    ec2 = cloud.client()
    ids = run(ec2, "zone-b", 2)
    wait_for("instances running", lambda: all_running(ec2, ids))
    on_b2 = [i for i in ids if i in next(
        n["instances"] for n in cc_view(cloud, "zone-b")["nodes"] if n["name"] == "node-b2")]
    assert on_b2
    cloud.kill("node-b2")
    cloud.kill("cc-zone-b")
    cloud.start("cc-zone-b")
    cloud.wait_listening("cc-zone-b")
    wait_for("node DOWN at the new CC",
             lambda: node_status(cloud, "zone-b", "node-b2") == "DOWN")
    assert not set(on_b2) & set(cc_view(cloud, "zone-b")["placement"])
    cloud.start("node-b2")
    wait_for("node UP", lambda: node_status(cloud, "zone-b", "node-b2") == "UP", timeout=60)
    # The node's instances are the zone's again: the CC adopted them from the node.
    wait_for("adopted", lambda: set(on_b2) <= set(cc_view(cloud, "zone-b")["placement"]))
    ec2.terminate_instances(InstanceIds=ids)
    wait_for("terminated", lambda: set(states(ec2, ids).values()) == {"terminated"})


def ec2_query(cloud: NetCloud, action: str, params: dict[str, str]) -> Any:
    """A signed EC2 query for the Eucalyptus extensions boto3 does not know."""
    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    assert cloud.forwarder is not None
    request = AWSRequest("POST", f"http://127.0.0.1:{cloud.forwarder.port}/services/compute",
                         data={"Action": action, "Version": "2016-11-15", **params})
    SigV4Auth(Credentials(cloud.creds["key"], cloud.creds["secret"]), "ec2",
              "localhost").add_auth(request)
    return requests.post(request.url, data=request.body, headers=dict(request.headers),
                         timeout=30)


def test_maintenance_and_evacuation_move_instances_between_node_processes(
        cloud: NetCloud) -> None:
    ec2 = cloud.client()
    ids = run(ec2, "zone-a", 4)
    wait_for("instances running", lambda: all_running(ec2, ids))
    nodes = {n["name"]: set(n["instances"]) for n in cc_view(cloud, "zone-a")["nodes"]}
    assert set(ids) & nodes["node-a2"], "round-robin used both nodes"
    # Maintenance: node-a2 takes no new instances (what euserv-modify-service -s stop does).
    body = cbor2.dumps({"name": "node-a2", "enabled": False})
    clc = Keyring(str(cloud.keys_dir), "clc")
    assert cloud.internal("cc-zone-a", "/cc/set_enabled", body,
                          clc.sign("POST", "/cc/set_enabled", body)).status_code == 200
    answer = ec2_query(cloud, "MigrateInstances", {"SourceHost": "node-a2"})
    assert answer.status_code == 200, answer.text

    def hosts() -> dict[str, str]:
        out = ec2.describe_instances(InstanceIds=ids)["Reservations"]
        return {i["InstanceId"]: i["Placement"].get("HostId", "") for r in out
                for i in r["Instances"]}

    wait_for("evacuated", lambda: set(hosts().values()) == {"node-a1"}, timeout=60)
    assert set(states(ec2, ids).values()) == {"running"}
    view = {n["name"]: n for n in cc_view(cloud, "zone-a")["nodes"]}
    assert not view["node-a2"]["instances"] and view["node-a2"]["status"] == "DISABLED"
    assert set(ids) <= set(view["node-a1"]["instances"])
    console = ec2.get_console_output(InstanceId=ids[0])  # answered by the new node
    assert "Output" in console
    more = run(ec2, "zone-a", 1)
    wait_for("running", lambda: all_running(ec2, more))
    assert hosts_of(ec2, more) == {"node-a1"}
    body = cbor2.dumps({"name": "node-a2", "enabled": True})
    cloud.internal("cc-zone-a", "/cc/set_enabled", body, clc.sign("POST", "/cc/set_enabled", body))
    ec2.terminate_instances(InstanceIds=ids + more)
    wait_for("terminated", lambda: set(states(ec2, ids + more).values()) == {"terminated"})


def hosts_of(ec2: Any, ids: list[str]) -> set[str]:
    out = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    return {i["Placement"].get("HostId", "") for r in out for i in r["Instances"]}


def test_clc_restart_keeps_every_zone(cloud: NetCloud) -> None:
    ec2 = cloud.client()
    ids = run(ec2, "zone-a", 2) + run(ec2, "zone-b", 2)
    wait_for("instances running", lambda: all_running(ec2, ids))
    cloud.kill("clc")
    cloud.start("clc")
    cloud.wait_listening("clc", timeout=120)
    ec2 = cloud.client()
    assert set(states(ec2, ids).values()) == {"running"}
    for zone in ZONES:  # the CCs kept them: the CLC's restore re-adopted, not re-ran
        assert set(ids) & set(cc_view(cloud, zone)["placement"])
    more = run(ec2, "zone-b", 1)
    wait_for("running", lambda: all_running(ec2, more))
    ec2.terminate_instances(InstanceIds=ids + more)
    wait_for("terminated", lambda: set(states(ec2, ids + more).values()) == {"terminated"})


def test_services_show_remote_components_and_node_states(cloud: NetCloud) -> None:
    """euserv-describe-services shows the CCs and nodes connected by the command line,
    each with its live state; a node put in maintenance with euserv-modify-service."""
    expected = {f"{z}-cc": "enabled" for z in ZONES} | {
        n: "enabled" for nodes in ZONES.values() for n in nodes}
    wait_for("all enabled", lambda: {k: v for k, v in cloud.service_states().items()
                                     if k in expected} == expected)
    out = cloud.euca("euserv-describe-services", "--filter", "service-type=node",
                     "--by-host").stdout
    assert len(out.splitlines()) == 4
    cloud.euca("euserv-modify-service", "-s", "stop", "node-b1")
    assert cloud.service_states("node-b1") == {"node-b1": "disabled"}
    assert node_status(cloud, "zone-b", "node-b1") == "DISABLED"
    cloud.euca("euserv-modify-service", "-s", "start", "node-b1")
    wait_for("enabled", lambda: node_status(cloud, "zone-b", "node-b1") == "UP")
    assert cloud.service_states("node-b1") == {"node-b1": "enabled"}
    assert cloud.euca("euserv-describe-services", "--show-events", "node-a2").stdout.startswith(
        "SERVICE\tnode\tzone-a\tnode-a2\t")
    proc = cloud.euca("euserv-modify-service", "-s", "stop", "zone-a-cc", check=False)
    assert proc.returncode == 1 and "register it" in proc.stderr
