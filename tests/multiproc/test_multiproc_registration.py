"""The admin tools drive a multi-process cloud: clusters and nodes registered with
``euserv-register-service``, not with command-line flags.

The CLC (+Walrus) starts knowing no CC, the CC knowing no node (tests/netcloud.py with
``flags=False``, each "host" in its own network namespace).  The installed euserv-*
commands, run as subprocesses against the CLC, register the CC and its two nodes; then
the zone is available and runs instances; a killed NC shows as not enabled (in
euserv-describe-services and the dashboard's Services view); maintenance
(``euserv-modify-service -s stop``) and evacuation (``euserv-migrate-instances``) move
instances between node processes; a disabled CC's zone takes no new instances; a restarted
CLC keeps the registrations, their states and its instances.  A node is deregistered only
once its instances are gone (the refusal names them); its CC then forgets it, also across
a CC restart, and it can be registered again.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netcloud import PORT, NetCloud, netns_unavailable, start_netcloud, wait_for  # noqa: E402

POLL = 1.0
ZONE = "zone-a"
NODES = ["node-a1", "node-a2"]

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def cloud() -> Iterator[NetCloud]:
    reason = netns_unavailable()
    if reason:
        pytest.skip(reason)
    net = start_netcloud({ZONE: NODES}, poll_interval=POLL, flags=False)
    try:
        yield net
    finally:
        net.stop()


def placement(ec2: Any, ids: list[str]) -> dict[str, tuple[str, str]]:
    """Instance -> (state, node)."""
    out = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    return {i["InstanceId"]: (i["State"]["Name"], i["Placement"].get("HostId", ""))
            for r in out for i in r["Instances"]}


def running(ec2: Any, ids: list[str]) -> bool:
    return {s for s, _ in placement(ec2, ids).values()} == {"running"}


def zone_states(ec2: Any) -> dict[str, str]:
    return {z["ZoneName"]: z["State"]
            for z in ec2.describe_availability_zones()["AvailabilityZones"]}


def run(ec2: Any, count: int) -> list[str]:
    image = ec2.describe_images()["Images"][0]["ImageId"]
    out = ec2.run_instances(ImageId=image, MinCount=count, MaxCount=count,
                            InstanceType="m1.small", Placement={"AvailabilityZone": ZONE})
    return [i["InstanceId"] for i in out["Instances"]]


def small_capacity(ec2: Any) -> tuple[int, int]:
    """The zone's (free, max) m1.small count (DescribeAvailabilityZones verbose)."""
    rows = ec2.describe_availability_zones(ZoneNames=[ZONE, "verbose"])["AvailabilityZones"]
    state = next(r["State"] for r in rows if r["ZoneName"] == "|- m1.small")
    free, _, most = state.split()[:3]
    return int(free), int(most)


def all_ended(ec2: Any) -> bool:
    """Every instance the cloud ran is terminated (none is left on a node)."""
    return {i["State"]["Name"] for r in ec2.describe_instances()["Reservations"]
            for i in r["Instances"]} <= {"terminated"}


def _try_run(ec2: Any) -> list[str] | None:
    """One instance run, or None while the zone refuses it; ended at once."""
    try:
        ids = run(ec2, 1)
    except ClientError:
        return None
    ec2.terminate_instances(InstanceIds=ids)
    return ids


def dashboard_states(cloud: NetCloud) -> dict[str, tuple[str, str, str]]:
    """Service name -> (type, zone, state) as the dashboard's Services view shows them."""
    from tui.cloud import Cloud
    from tui.model import DATASETS

    services = DATASETS["services"]
    rows = services.tables(services.fetch(Cloud.from_config(config_path=str(cloud.ini))))
    return {key: (str(cells[0]), str(cells[1]), str(cells[4]))
            for key, cells in rows["services"]}


def test_registered_components_run_instances_and_survive_restarts(cloud: NetCloud) -> None:
    ec2 = cloud.client()
    assert not [s for s in cloud.service_states() if s in NODES or s == "cc-a"]
    # Nothing registered yet: no zone, and RunInstances is a client error, not a fault.
    assert ec2.describe_availability_zones()["AvailabilityZones"] == []
    with pytest.raises(ClientError) as refused:
        run(ec2, 1)
    assert 400 <= refused.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500
    cc = cloud.hosts[f"cc-{ZONE}"]
    out = cloud.euca("euserv-register-service", "-t", "cluster", "-h", cc.address,
               "--port", str(PORT), "-z", ZONE, "cc-a").stdout
    assert out.split()[:4] == ["SERVICE", "cluster", ZONE, "cc-a"]
    for node in NODES:
        cloud.euca("euserv-register-service", "-t", "node", "-h", cloud.hosts[node].address,
             "--port", str(PORT), "-z", ZONE, node)
    wait_for("services enabled", lambda: cloud.service_states("cc-a", *NODES) == {
        "cc-a": "enabled", **{n: "enabled" for n in NODES}})
    shown = dashboard_states(cloud)
    assert shown["cc-a"] == ("cluster", ZONE, "ENABLED")
    assert {n: shown[n] for n in NODES} == {n: ("node", ZONE, "ENABLED") for n in NODES}
    assert zone_states(ec2) == {ZONE: "available"}
    verbose = ec2.describe_availability_zones(ZoneNames=[ZONE, "verbose"])["AvailabilityZones"]
    assert verbose[0]["State"] == f"{cc.address} arn:euca:eucalyptus:{ZONE}:cluster:cc-a/"

    ids = run(ec2, 4)
    wait_for("instances running", lambda: running(ec2, ids))
    assert {n for _, n in placement(ec2, ids).values()} == set(NODES)

    # Maintenance plus evacuation of a registered node, through the commands.
    cloud.euca("euserv-modify-service", "-s", "stop", "node-a2")
    assert cloud.service_states("node-a2") == {"node-a2": "disabled"}
    cloud.euca("euserv-migrate-instances", "-s", "node-a2")
    wait_for("evacuated", lambda: {n for _, n in placement(ec2, ids).values()} == {"node-a1"},
             timeout=60)
    assert running(ec2, ids)
    wait_for("still disabled", lambda: cloud.service_states("node-a2") == {
        "node-a2": "disabled"})
    # A restarted CC forgets maintenance; the CLC's registry puts the node back in it.
    cloud.kill(f"cc-{ZONE}")
    cloud.start(f"cc-{ZONE}")
    cloud.wait_listening(f"cc-{ZONE}")
    wait_for("zone back", lambda: _try_run(ec2))
    wait_for("in maintenance again", lambda: cloud.service_states("node-a2") == {
        "node-a2": "disabled"}, timeout=10)
    assert {n for _, n in placement(ec2, ids).values()} == {"node-a1"}
    cloud.euca("euserv-modify-service", "-s", "start", "node-a2")
    wait_for("enabled again", lambda: cloud.service_states("node-a2") == {
        "node-a2": "enabled"})

    # A killed NC: its CC sees it DOWN, the registry shows it not enabled.
    cloud.kill("node-a2")
    wait_for("node not ready", lambda: cloud.service_states("node-a2") == {
        "node-a2": "notready"}, timeout=15)
    assert dashboard_states(cloud)["node-a2"] == ("node", ZONE, "NOTREADY")
    events = cloud.euca("euserv-describe-events", "-f",
                  "format:{subject-name}|{message}").stdout
    assert "node-a2|node stopped reporting" in events
    cloud.start("node-a2")
    wait_for("node back", lambda: cloud.service_states("node-a2") == {"node-a2": "enabled"},
             timeout=60)

    # The administrator disables the remote CC: its zone takes no new instances (as an
    # in-process CC), the running ones run on.
    cloud.euca("euserv-modify-service", "-s", "disable", "cc-a")
    assert cloud.service_states("cc-a") == {"cc-a": "disabled"}
    assert zone_states(ec2) == {ZONE: "unavailable"}
    with pytest.raises(ClientError) as full:
        run(ec2, 1)
    assert full.value.response["Error"]["Code"] == "InsufficientInstanceCapacity"
    assert running(ec2, ids)

    # A restarted CLC keeps the registrations (and the CC disabled), re-connects them, and
    # keeps its instances.
    cloud.kill("clc")
    cloud.start("clc")
    cloud.wait_listening("clc", timeout=120)
    ec2 = cloud.client()
    wait_for("re-connected", lambda: cloud.service_states("cc-a", *NODES) == {
        "cc-a": "disabled", **{n: "enabled" for n in NODES}})
    assert running(ec2, ids)
    assert zone_states(ec2) == {ZONE: "unavailable"}
    cloud.euca("euserv-modify-service", "-s", "enable", "cc-a")
    assert zone_states(ec2) == {ZONE: "available"}
    more = run(ec2, 1)
    wait_for("running after the restart", lambda: running(ec2, more))
    proc = cloud.euca("euserv-deregister-service", "cc-a", check=False)
    assert proc.returncode == 1 and "deregister them first" in proc.stderr

    # A node that still has instances is not deregistered: the error names them.
    on_a1 = sorted(i for i, (_, n) in placement(ec2, ids + more).items() if n == "node-a1")
    proc = cloud.euca("euserv-deregister-service", "node-a1", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert on_a1[0] in proc.stderr
    assert "evacuate (euserv-migrate-instances) or terminate them first" in proc.stderr
    assert cloud.service_states("node-a1") == {"node-a1": "enabled"}
    # Evacuated, it is: its CC forgets it (no longer reported, its capacity gone).
    most = small_capacity(ec2)[1]
    cloud.euca("euserv-migrate-instances", "-s", "node-a1")
    wait_for("evacuated", lambda: {n for _, n in placement(ec2, ids + more).values()} == {
        "node-a2"}, timeout=60)
    cloud.euca("euserv-deregister-service", "node-a1")
    assert "node-a1" not in cloud.service_states()
    assert small_capacity(ec2)[1] < most
    # A restarted CC does not register it again from its saved node list.
    cloud.kill(f"cc-{ZONE}")
    cloud.start(f"cc-{ZONE}")
    cloud.wait_listening(f"cc-{ZONE}")
    wait_for("zone back", lambda: _try_run(ec2))
    assert "node-a1" not in cloud.service_states()
    # Registered again, it comes back empty and takes instances.
    cloud.euca("euserv-register-service", "-t", "node", "-h", cloud.hosts["node-a1"].address,
               "--port", str(PORT), "-z", ZONE, "node-a1")
    wait_for("node-a1 back", lambda: cloud.service_states("node-a1") == {
        "node-a1": "enabled"})
    wait_for("its capacity back", lambda: small_capacity(ec2)[1] == most)
    cloud.euca("euserv-modify-service", "-s", "stop", "node-a2")
    again = run(ec2, 1)
    wait_for("running on node-a1", lambda: placement(ec2, again) == {
        again[0]: ("running", "node-a1")})
    cloud.euca("euserv-modify-service", "-s", "start", "node-a2")

    every = ids + more + again
    ec2.terminate_instances(InstanceIds=every)
    wait_for("terminated", lambda: all_ended(ec2))
    for node in NODES:
        cloud.euca("euserv-deregister-service", node)
    # A deregistered CC is disconnected: its zone leaves the cloud.
    cloud.euca("euserv-deregister-service", "cc-a")
    assert ec2.describe_availability_zones()["AvailabilityZones"] == []
    assert not {"cc-a", f"{ZONE}-cc", *NODES} & set(cloud.service_states())

    # Registered while the CC is down (and it lost its data): NOTREADY, then connected,
    # its node registered with it, when it is back.
    cloud.kill(f"cc-{ZONE}")
    shutil.rmtree(cc.data_dir)
    cloud.euca("euserv-register-service", "-t", "cluster", "-h", cc.address, "--port",
               str(PORT), "-z", ZONE, "cc-a")
    cloud.euca("euserv-register-service", "-t", "node", "-h", cloud.hosts["node-a1"].address,
               "--port", str(PORT), "-z", ZONE, "node-a1")
    assert cloud.service_states("cc-a", "node-a1") == {"cc-a": "notready",
                                                       "node-a1": "notready"}
    cloud.start(f"cc-{ZONE}")
    cloud.wait_listening(f"cc-{ZONE}")
    wait_for("connected", lambda: cloud.service_states("cc-a", "node-a1") == {
        "cc-a": "enabled", "node-a1": "enabled"})
    assert "node-a2" not in cloud.service_states()  # the new CC does not know it

    # A node deregistered while its CC is down: the CC is told when it answers again (it
    # had registered the node again from its saved list), and forgets it then.
    cloud.kill(f"cc-{ZONE}")
    cloud.euca("euserv-deregister-service", "node-a1")
    cloud.start(f"cc-{ZONE}")
    cloud.wait_listening(f"cc-{ZONE}")
    wait_for("zone back", lambda: zone_states(ec2) == {ZONE: "available"})
    wait_for("forgotten", lambda: "node-a1" not in cloud.service_states())
