"""Helpers: a small cluster of server NCs on virtual hardware, on the simpy clock."""

from __future__ import annotations

from collections.abc import Callable

from server.cc.cluster import ClusterController
from server.nc.node import NodeController
from server.nc.types import InstanceEvent, InstanceSpec, Resources
from simulator.clock import SimpyClock
from simulator.hardware import VirtualHypervisor

SMALL = Resources(1, 512, 5)
LARGE = Resources(2, 2048, 10)
TYPES = {"m1.small": SMALL, "m1.large": LARGE}

Trace = list[tuple[float, str, str, str]]


def make_cluster(clock: SimpyClock, nodes: int = 3, *, policy: str = "GREEDY",
                 capacity: Resources = Resources(2, 4096, 20), boot: float = 10.0,
                 teardown: float = 2.0, **kw: float) -> tuple[ClusterController, Trace]:
    """A CC over ``nodes`` NCs named node-a, node-b, ...; returns it and its event trace."""
    ncs = []
    for i in range(nodes):
        name = f"node-{chr(ord('a') + i)}"
        hv = VirtualHypervisor(name, clock, capacity, boot=lambda b=boot: b,
                               teardown=lambda t=teardown: t)
        ncs.append(NodeController(name, clock, hv, lambda e: None, capacity=capacity))
    cc = ClusterController("zone-1", clock, ncs, policy=policy, **kw)  # type: ignore[arg-type]
    cc.set_vm_types(TYPES)
    trace: Trace = []

    def record(ev: InstanceEvent) -> None:
        trace.append((ev.time, ev.instance_id, ev.state.value, ev.node))

    cc.listeners.append(record)
    return cc, trace


def spec(iid: str, vm_type: str = "m1.small") -> InstanceSpec:
    """An instance of a test VM type."""
    return InstanceSpec(iid, vm_type, TYPES[vm_type])


Later = Callable[[float, Callable[[], None]], None]
