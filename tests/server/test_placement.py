"""CC placement: tables of cases for GREEDY, ROUNDROBIN and POWERSAVE on a manual clock."""

from __future__ import annotations

import pytest

from server.cc.cluster import ClusterController
from server.clock import ManualClock
from server.nc.node import NodeController
from server.nc.types import InstanceEvent, InstanceSpec, Resources
from simulator.hardware import VirtualHypervisor

SMALL = Resources(1, 256, 5)
BIG = Resources(4, 2048, 20)
TYPES = {"m1.small": SMALL, "big": BIG}


def _cluster(policy: str, nodes: int = 3, cores: int = 4, **kw: float) -> tuple[
        ClusterController, ManualClock, list[tuple[float, str, str, str]]]:
    clock = ManualClock()
    trace: list[tuple[float, str, str, str]] = []
    ncs = [NodeController(f"n{i}", clock,
                          VirtualHypervisor(f"n{i}", clock, Resources(cores, 4096, 100)),
                          lambda e: None) for i in range(nodes)]
    cc = ClusterController("z", clock, ncs, policy=policy, **kw)
    cc.set_vm_types(TYPES)

    def record(event: InstanceEvent) -> None:
        trace.append((event.time, event.instance_id, event.state.value, event.node))

    cc.listeners.append(record)
    return cc, clock, trace


def _spec(n: int, demand: Resources = SMALL, vm_type: str = "m1.small") -> InstanceSpec:
    return InstanceSpec(f"i-{n}", vm_type, demand)


@pytest.mark.parametrize("policy,expected", [
    ("GREEDY", ["n0", "n0", "n0", "n0", "n1", "n1"]),
    ("ROUNDROBIN", ["n0", "n1", "n2", "n0", "n1", "n2"]),
    ("POWERSAVE", ["n0", "n0", "n0", "n0", "n1", "n1"]),
])
def test_policy_order(policy: str, expected: list[str]) -> None:
    """Each policy's node choice for six small instances on three 4-core nodes."""
    cc, _, _ = _cluster(policy)
    placed = [cc.run_instances([_spec(n)], 1)[0] for n in range(6)]
    assert placed == expected


def test_full_trace_greedy() -> None:
    """The whole event log of one instance's life, in virtual time."""
    cc, clock, trace = _cluster("GREEDY")
    cc.run_instances([_spec(1)], 1)
    clock.advance(1.0)
    cc.terminate_instance("i-1")
    clock.advance(1.0)
    assert trace == [(0.0, "i-1", "staging", "n0"), (1.0, "i-1", "running", "n0"),
                     (1.0, "i-1", "shutting-down", "n0"), (1.5, "i-1", "terminated", "n0")]


def test_min_count_is_all_or_nothing() -> None:
    """MinCount that cannot fit starts nothing and leaves capacity untouched."""
    cc, _, _ = _cluster("ROUNDROBIN", nodes=2, cores=2)
    before = cc.describe_resources()
    assert cc.run_instances([_spec(n) for n in range(5)], 5) == []
    assert cc.describe_resources() == before
    assert len(cc.run_instances([_spec(n) for n in range(5)], 2)) == 4


def test_capacity_returns_after_terminate() -> None:
    """Terminated instances give their resources back."""
    cc, clock, _ = _cluster("GREEDY", nodes=1, cores=2)
    assert len(cc.run_instances([_spec(1), _spec(2)], 2)) == 2
    assert cc.describe_resources()["m1.small"] == (0, 2)
    assert cc.run_instances([_spec(3)], 1) == []
    cc.terminate_instance("i-1")
    clock.advance(5)
    assert cc.describe_resources()["m1.small"] == (1, 2)
    assert cc.run_instances([_spec(3)], 1) == ["n0"]


def test_free_counts_per_type_are_independent() -> None:
    """Free/max per type is each type's own count (they overlap), as the CC reports it."""
    cc, _, _ = _cluster("GREEDY", nodes=2, cores=4)
    assert cc.describe_resources() == {"m1.small": (8, 8), "big": (2, 2)}
    cc.run_instances([_spec(1)], 1)
    assert cc.describe_resources() == {"m1.small": (7, 8), "big": (1, 2)}


def test_roundrobin_skips_full_nodes_and_wraps() -> None:
    """The cursor moves past the chosen node; full nodes are skipped."""
    cc, _, _ = _cluster("ROUNDROBIN", nodes=3, cores=4)
    assert cc.run_instances([_spec(1, BIG, "big")], 1) == ["n0"]
    assert [cc.run_instances([_spec(n)], 1)[0] for n in range(2, 6)] == ["n1", "n2", "n1", "n2"]


def test_powersave_powers_idle_nodes_down_and_wakes_them() -> None:
    """Idle nodes sleep after the idle threshold; a placement wakes one (after the wake time)."""
    cc, clock, trace = _cluster("POWERSAVE", nodes=2, cores=1,
                                power_idle_seconds=300, power_wake_seconds=60)
    clock.advance(301)
    assert [n.power for n in cc.describe_nodes()] == ["off", "off"]
    assert cc.run_instances([_spec(1)], 1) == ["n0"]
    assert cc.describe_nodes()[0].power == "waking"
    clock.advance(59)
    assert ("running" not in [t[2] for t in trace])
    clock.advance(1)
    assert cc.describe_nodes()[0].power == "on"
    clock.advance(1)
    assert trace[-1][2] == "running" and trace[-1][0] == pytest.approx(362.0)  # woke at 361, booted 1 s
    cc.terminate_instance("i-1")
    clock.advance(301)
    assert cc.describe_nodes()[0].power == "off"


def test_down_node_leaves_scheduling() -> None:
    """A DOWN node takes no instances and drops out of the counts until it returns."""
    cc, _, _ = _cluster("GREEDY", nodes=2, cores=1)
    cc.node_down("n0")
    assert cc.describe_resources()["m1.small"] == (1, 1)
    assert cc.run_instances([_spec(1)], 1) == ["n1"]
    assert cc.run_instances([_spec(2)], 1) == []
    cc.node_up("n0")
    assert cc.run_instances([_spec(2)], 1) == ["n0"]


def test_set_policy_at_run_time() -> None:
    """Changing the scheduler (euctl ZONE.cluster.scheduler): GREEDY -> POWERSAVE arms the
    idle timers, POWERSAVE -> ROUNDROBIN wakes the sleeping nodes and places round-robin."""
    from server.nc.types import NodeStatus

    cc, clock, _ = _cluster("GREEDY", nodes=3, power_idle_seconds=10, power_wake_seconds=5)
    cc.run_instances([_spec(1)], 1)
    clock.advance(11)
    assert all(v.status is NodeStatus.UP for v in cc.nodes)
    cc.set_policy("POWERSAVE")
    clock.advance(11)
    assert [v.status for v in cc.nodes] == [NodeStatus.UP, NodeStatus.ASLEEP, NodeStatus.ASLEEP]
    cc.set_policy("ROUNDROBIN")
    assert [v.status for v in cc.nodes][1:] == [NodeStatus.WAKING, NodeStatus.WAKING]
    clock.advance(5)
    assert all(v.status is NodeStatus.UP for v in cc.nodes)
    assert [cc.run_instances([_spec(n)], 1)[0] for n in (2, 3, 4)] == ["n0", "n1", "n2"]
