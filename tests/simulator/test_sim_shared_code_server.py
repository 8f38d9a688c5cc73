"""The shared-code property end to end: the real ``eucalyptus-cloud`` (virtual driver,
accelerated clock, boto3 over HTTP) and the simulator place a recorded trace alike."""

from __future__ import annotations

import time

import pytest

from server.cc.cluster import ClusterController
from server.nc.node import NodeController
from server.nc.types import InstanceSpec, Resources
from simulator.clock import SimpyClock
from simulator.experiment import DEFAULT_VM_TYPES
from simulator.hardware import VirtualHypervisor

SPEED = 40.0
NODE = Resources(2, 4096, 40)
# (virtual seconds, action, request number, VM type): one instance per RunInstances.
TRACE = [
    (0, "run", 0, "c1.medium"), (10, "run", 1, "m1.small"), (20, "run", 2, "m1.small"),
    (30, "terminate", 0, ""), (40, "run", 3, "m1.small"), (50, "run", 4, "c1.medium"),
    (60, "terminate", 2, ""), (70, "run", 5, "c1.medium"), (80, "run", 6, "m1.small"),
    (90, "run", 7, "c1.medium"),
]
CONFIG = """[cloud]
clock_speed = {speed}

[[zones]]
name = "zone-1"
scheduler = "{policy}"
nodes = 3
node_cores = 2
node_memory_mb = 4096
node_disk_gb = 40
boot_seconds = 2.0
teardown_seconds = 1.0
"""


def simulated(policy: str) -> list[str]:
    """The trace through the simulator: server CC/NC code on the simpy clock."""
    clock = SimpyClock()
    ncs = [NodeController(f"zone-1-node-{i:02d}", clock,
                          VirtualHypervisor(f"zone-1-node-{i:02d}", clock, NODE,
                                            boot=lambda: 2.0, teardown=lambda: 1.0),
                          lambda e: None, capacity=NODE) for i in (1, 2, 3)]
    cc = ClusterController("zone-1", clock, ncs, policy=policy)
    cc.set_vm_types(DEFAULT_VM_TYPES)
    placements: list[str] = []

    def act(action: str, n: int, vm_type: str) -> None:
        if action == "terminate":
            cc.terminate_instance(f"i-{n}")
            return
        names = cc.run_instances([InstanceSpec(f"i-{n}", vm_type, DEFAULT_VM_TYPES[vm_type])], 1)
        placements.append(names[0] if names else "rejected")

    for t, action, n, vm_type in TRACE:
        clock.call_later(t, lambda a=action, k=n, v=vm_type: act(a, k, v))
    clock.run(until=200)
    return placements


def served(policy: str) -> list[str]:
    """The same trace replayed in accelerated real time against a running cloud."""
    cloudproc = pytest.importorskip("cloudproc")
    from botocore.exceptions import ClientError

    cloud = cloudproc.new_cloud(CONFIG.format(speed=SPEED, policy=policy))
    try:
        cloud.start()
        ec2 = cloud.client("ec2")
        image = ec2.describe_images()["Images"][0]["ImageId"]
        ids: dict[int, str] = {}
        placements: list[str] = []
        t0 = time.monotonic()
        for t, action, n, vm_type in TRACE:
            time.sleep(max(0.0, t0 + t / SPEED - time.monotonic()))
            if action == "terminate":
                ec2.terminate_instances(InstanceIds=[ids[n]])
                continue
            try:
                r = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType=vm_type)
            except ClientError:
                placements.append("rejected")
                continue
            iid = r["Instances"][0]["InstanceId"]
            ids[n] = iid
            desc = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
            placements.append(desc["Placement"].get("HostId", "?"))
        return placements
    finally:
        cloudproc.cleanup(cloud)


@pytest.mark.parametrize("policy", ["GREEDY", "ROUNDROBIN"])
def test_server_and_simulator_place_a_recorded_trace_alike(policy: str) -> None:
    sim = simulated(policy)
    assert len(sim) == 8 and sim.count("rejected") >= 1  # the trace reaches capacity
    assert served(policy) == sim

