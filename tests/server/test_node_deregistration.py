"""A CC forgets a deregistered node (ClusterController.remove_node), on a manual clock.

Refused while the node has instances (naming them); otherwise its capacity leaves the
zone, it is placed on and polled no more, its late reports reach nobody, and the
remaining nodes are scheduled as before (placement indices are positions).  Added
again, the node comes back empty and takes instances.
"""

from __future__ import annotations

import pytest

from server.cc.cluster import ClusterController
from server.clock import ManualClock
from server.nc.node import NodeController
from server.nc.types import InstanceEvent, InstanceSpec, InstanceState, NodeStatus, Resources
from simulator.hardware import VirtualHypervisor

SMALL = Resources(1, 256, 5)


def _cluster(policy: str, nodes: int = 3, **kw: float) -> tuple[
        ClusterController, ManualClock, list[NodeController], list[InstanceEvent]]:
    clock = ManualClock()
    ncs = [NodeController(f"n{i}", clock,
                          VirtualHypervisor(f"n{i}", clock, Resources(2, 4096, 100)),
                          lambda e: None) for i in range(nodes)]
    cc = ClusterController("z", clock, ncs, policy=policy, **kw)
    cc.set_vm_types({"m1.small": SMALL})
    heard: list[InstanceEvent] = []
    cc.listeners.append(heard.append)
    return cc, clock, ncs, heard


def _spec(n: int) -> InstanceSpec:
    return InstanceSpec(f"i-{n}", "m1.small", SMALL)


def test_a_node_with_instances_is_not_removed() -> None:
    cc, clock, _, _ = _cluster("GREEDY")
    assert [cc.run_instances([_spec(n)], 1)[0] for n in (1, 2)] == ["n0", "n0"]
    with pytest.raises(ValueError, match=r"Node n0 still has instances \(i-1, i-2\)"):
        cc.remove_node("n0")
    with pytest.raises(KeyError):
        cc.remove_node("nonesuch")
    assert [n.name for n in cc.describe_nodes()] == ["n0", "n1", "n2"]
    for n in (1, 2):
        cc.terminate_instance(f"i-{n}")
    clock.advance(5)
    cc.remove_node("n0")
    assert [n.name for n in cc.describe_nodes()] == ["n1", "n2"]


def test_removed_node_leaves_capacity_scheduling_and_reports() -> None:
    cc, clock, ncs, heard = _cluster("ROUNDROBIN")
    assert cc.describe_resources()["m1.small"] == (6, 6)
    cc.remove_node("n1")
    assert cc.describe_resources()["m1.small"] == (4, 4)
    assert "n1" not in cc.by_name and [v.index for v in cc.nodes] == [0, 1]
    placed = [cc.run_instances([_spec(n)], 1)[0] for n in range(4)]
    assert placed == ["n0", "n2", "n0", "n2"]
    assert cc.run_instances([_spec(9)], 1) == []  # the removed node's room is gone
    clock.advance(2)
    assert {e.node for e in heard} == {"n0", "n2"}
    # Whatever the forgotten node still says reaches nobody.
    before = len(heard)
    ncs[1].run_instance(_spec(50))
    clock.advance(2)
    assert len(heard) == before and cc.node_of("i-50") is None


def test_removed_node_can_be_added_again_and_takes_instances() -> None:
    cc, clock, ncs, _ = _cluster("GREEDY", nodes=2)
    assert cc.run_instances([_spec(0)], 1) == ["n0"]
    clock.advance(2)
    cc.terminate_instance("i-0")
    clock.advance(2)
    cc.remove_node("n0")
    assert cc.run_instances([_spec(1)], 1) == ["n1"]
    # The node still lists its ended instance (for its teardown reports): not adopted.
    assert ncs[0].instances["i-0"].state is InstanceState.TERMINATED
    view = cc.add_node(ncs[0])
    assert view.index == 1 and not view.instances and view.status is NodeStatus.UP
    assert cc.describe_resources()["m1.small"] == (3, 4)
    assert [cc.run_instances([_spec(n)], 1)[0] for n in (2, 3, 4)] == ["n1", "n0", "n0"]
    clock.advance(2)
    assert cc.describe_nodes()[1].instances == ("i-3", "i-4")


def test_powersave_timers_of_a_removed_node_do_nothing() -> None:
    cc, clock, _, _ = _cluster("POWERSAVE", nodes=2, power_idle_seconds=10,
                               power_wake_seconds=5)
    cc.remove_node("n0")
    clock.advance(11)  # n0's idle timer was cancelled; n1 sleeps
    assert [(n.name, n.power) for n in cc.describe_nodes()] == [("n1", "off")]
    assert cc.run_instances([_spec(1)], 1) == ["n1"]
    clock.advance(7)
    assert cc.describe_nodes()[0].power == "on"


def test_a_polling_cc_polls_a_removed_node_no_more() -> None:
    cc, clock, ncs, heard = _cluster("GREEDY", nodes=2, poll_interval=1.0)
    assert cc.run_instances([_spec(1)], 1) == ["n0"]
    clock.advance(3)
    cc.terminate_instance("i-1")
    clock.advance(3)
    cc.remove_node("n0")
    ncs[0].run_instance(_spec(2))  # started behind the CC's back: never adopted
    clock.advance(3)
    assert cc.node_of("i-2") is None and "i-2" not in {e.instance_id for e in heard}
    assert cc.describe_resources()["m1.small"] == (2, 2)
