"""The server's Auto Scaling plan driving the server's CCs in simpy time."""

from __future__ import annotations

from server.cc.cluster import ClusterController
from server.nc.node import NodeController
from server.nc.types import InstanceEvent, Resources
from simulator.autoscaling import SimulatedGroup
from simulator.clock import SimpyClock
from simulator.hardware import VirtualHypervisor

SMALL = Resources(1, 256, 5)


def _zone(clock: SimpyClock, name: str, nodes: int, cores: int) -> ClusterController:
    def ignore(_event: InstanceEvent) -> None:
        return None

    ncs = [NodeController(f"{name}-n{i}", clock,
                          VirtualHypervisor(f"{name}-n{i}", clock, Resources(cores, 4096, 100),
                                            console=False), ignore,
                          capacity=Resources(cores, 4096, 100)) for i in range(nodes)]
    cc = ClusterController(name, clock, ncs, policy="GREEDY")
    cc.set_vm_types({"m1.small": SMALL})
    return cc


def test_group_balances_replaces_and_scales_in_virtual_time() -> None:
    """4 over two zones: 2 + 2; a member killed outside is replaced; desired 1 scales in."""
    clock = SimpyClock()
    zones = {"a": _zone(clock, "a", 2, 4), "b": _zone(clock, "b", 2, 4)}
    group = SimulatedGroup(clock, zones, "m1.small", SMALL, desired=4)
    group.start()
    clock.run(until=30.0)
    assert group.in_service() == {"a": 2, "b": 2}
    victim = next(m for m in group.members.values() if m.zone == "a")
    zones["a"].terminate_instance(victim.id)
    clock.run(until=60.0)
    assert group.in_service() == {"a": 2, "b": 2} and victim.id not in group.members
    group.set_desired(1)
    clock.run(until=90.0)
    assert sum(group.in_service().values()) == 1
    assert [a.kind for a in group.activities].count("terminate") == 3


def test_full_zone_fails_then_the_other_zone_takes_the_instances() -> None:
    """Zone a holds one instance: failed launches there, the rest go to b."""
    clock = SimpyClock()
    zones = {"a": _zone(clock, "a", 1, 1), "b": _zone(clock, "b", 2, 4)}
    group = SimulatedGroup(clock, zones, "m1.small", SMALL, desired=4)
    group.start()
    clock.run(until=60.0)
    assert sum(group.in_service().values()) == 4
    assert group.in_service()["a"] == 1
    assert any(a.kind == "launch-failed" and a.zone == "a" for a in group.activities)
