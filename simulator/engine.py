"""Runs an experiment: the server's CC and NCs on virtual hardware in simpy time.

The simulator contributes only what the real world would: virtual nodes (the virtual
hypervisor driver with modelled durations, power draw, failures) and users (the
workload).  Every placement, power-down, wake-up, poll and state change is the code in
``server/cc`` and ``server/nc``.  Metrics are accumulated from the events the CC
reports, in O(1) per event, so a run can hold millions of instance lifecycles.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from server.cc.cluster import ClusterController
from server.cc.view import NodeView
from server.nc.node import NodeController
from server.nc.types import InstanceEvent, InstanceSpec, InstanceState, NodeStatus, Resources
from simulator.clock import SimpyClock
from simulator.distributions import sampler
from simulator.experiment import Experiment
from simulator.hardware import VirtualHypervisor
from simulator.metrics import Metrics
from simulator.power import LinearPower, PowerModel, power_model
from simulator.workload import Request, load_cpu_traces, make_workload

S = InstanceState
_STAGING, _RUNNING, _TERMINATED, _MIGRATING = S.STAGING, S.RUNNING, S.TERMINATED, S.MIGRATING
_UP = NodeStatus.UP
Progress = Callable[[float, float, int], None]  # (simulated s so far, in all, events so far)


class _Node:
    """Simulator-side facts about one node: power model, load and energy integral."""

    __slots__ = ("cores", "hv", "idle_w", "load", "model", "off_w", "power_w", "watts_per_core")

    def __init__(self, hv: VirtualHypervisor, model: PowerModel, off_w: float, cores: int):
        self.hv = hv
        self.model = model
        self.off_w = off_w
        self.cores = cores
        self.load = 0.0        # busy cores (instance cores x CPU utilisation)
        self.power_w = model.watts(0.0)
        # Linear models are evaluated inline on the hot path; others via model.watts.
        self.idle_w = -1.0
        self.watts_per_core = 0.0
        if isinstance(model, LinearPower) and cores > 0:
            self.idle_w = model.idle_w
            self.watts_per_core = (model.peak_w - model.idle_w) / cores


class _Live:
    """One instance from its request until it is gone: what the metrics need.

    It copies the few facts of its request it needs rather than keeping the request:
    one object less per live instance (a large run holds ~10^5 of them, touched again
    only at their ends, when they are no longer in the CPU caches).
    """

    __slots__ = ("busy", "cores", "cpu", "lifetime", "node", "running", "t0", "trace")

    def __init__(self, req: Request, cores: int, t0: float):
        self.cores = cores
        self.cpu = req.cpu
        self.trace = req.trace
        self.lifetime = req.lifetime
        self.t0 = t0
        self.node = -1        # node index once staging
        self.busy = 0.0       # busy cores it adds there
        self.running = False


class Simulation:
    """One experiment run with one seed."""

    def __init__(self, exp: Experiment, seed: int | None = None, progress: Progress | None = None,
                 trace: list[tuple[float, str, str, str]] | None = None):
        self.exp = exp
        self.seed = exp.seed if seed is None else seed
        self.progress = progress
        self.trace = trace  # when given, every CC event is appended (tests, replay checks)
        self.clock = SimpyClock()
        self.metrics = Metrics(self.clock)
        cl = exp.cluster
        self.nodes: list[_Node] = []
        ncs: list[NodeController] = []
        i = 0
        for group in exp.groups:
            model = power_model(group.power)
            for _ in range(group.count):
                name = f"node-{i + 1:05d}"
                rng = random.Random(self.seed * 1_000_003 + zlib.crc32(name.encode()))
                hv = VirtualHypervisor(
                    name, self.clock, group.resources,
                    staging=sampler(cl.get("staging_seconds", 0.0), rng),
                    boot=sampler(cl.get("boot_seconds", 10.0), rng),
                    teardown=sampler(cl.get("teardown_seconds", 2.0), rng),
                    migration=_migration_time(float(cl.get("migration_bandwidth_mbps", 62.5))),
                    console=False)
                ncs.append(NodeController(name, self.clock, hv, _ignore, capacity=group.resources,
                                          teardown_forget_seconds=float(
                                              cl.get("teardown_forget_seconds", 180.0))))
                self.nodes.append(_Node(hv, model, group.off_watts, group.resources.cores))
                i += 1
        poll = float(cl.get("poll_interval", 0.0)) or None
        self.cc = ClusterController(
            "sim", self.clock, ncs, policy=exp.policy,
            power_idle_seconds=float(cl.get("power_idle_seconds", 300.0)),
            power_wake_seconds=float(cl.get("power_wake_seconds", 60.0)),
            poll_interval=poll, max_instances=int(cl.get("max_instances", 10**12)))
        self.cc.set_vm_types(exp.vm_types)
        self.cc.listeners.append(self._on_event)
        self.cc.node_listeners.append(self._on_node)
        self.total_cores = sum(n.cores for n in self.nodes)
        self.metrics.start(len(self.nodes), self.total_cores, sum(n.power_w for n in self.nodes))
        self.live: dict[str, _Live] = {}  # instances from request to termination
        self.cpu_traces: list[list[float]] = []
        wl = dict(exp.workload)
        if "cpu_traces" in wl:
            import os
            self.cpu_traces = load_cpu_traces(os.path.join(exp.base_dir, str(wl["cpu_traces"])))
            wl["_trace_count"] = len(self.cpu_traces)
        self.trace_interval = float(wl.get("cpu_trace_interval", 300.0))
        self.workload: Iterator[Request] = make_workload(
            wl, random.Random(self.seed), exp.duration, exp.base_dir)
        self._count = 0
        self._spec_cache: dict[str, Resources] = dict(exp.vm_types)

    # -- workload ------------------------------------------------------------------------
    def _next_arrival(self) -> None:
        req = next(self.workload, None)
        if req is None:
            return
        # partial, not a lambda: made and called in C, once per lifecycle
        self.clock.call_later(req.arrival - self.clock.env._now, partial(self._arrive, req))

    def _arrive(self, req: Request) -> None:
        nxt = next(self.workload, None)  # _next_arrival, inline (once per lifecycle)
        if nxt is not None:
            self.clock.call_later(nxt.arrival - self.clock.env._now, partial(self._arrive, nxt))
        self._count += 1
        iid = f"i-{self._count:08x}"
        demand = self._spec_cache.get(req.vm_type)
        if demand is None:
            self.metrics.rejected += 1
            return
        self.live[iid] = _Live(req, demand.cores, self.clock.env._now)
        spec = InstanceSpec(iid, req.vm_type, demand)
        # run_instances for one spec, without its sequences: place, then start
        view = self.cc.place(spec)
        if view is not None:
            self.metrics.placed += 1
            self.cc.start_placed(view, spec)
        else:
            self.metrics.rejected += 1
            del self.live[iid]
            if self.trace is not None:
                self.trace.append((self.clock.env.now, iid, "rejected", ""))

    # -- reports from the CC -------------------------------------------------------------
    def _on_event(self, ev: InstanceEvent) -> None:
        if self.trace is not None:
            self.trace.append((ev.time, ev.instance_id, ev.state.value, ev.node))
        state = ev.state
        iid = ev.instance_id
        # Branches in order of frequency; SHUTTING_DOWN and FAILED need nothing here.
        if state is _STAGING:
            live = self.live.get(iid)
            if live is not None and live.node < 0:
                live.busy = live.cores * (live.cpu if live.trace < 0 else self._cpu(live))
                live.node = self.cc.by_name[ev.node].index
                self._add_load(live.node, live.busy)
        elif state is _RUNNING:
            if ev.reason and ev.reason.startswith("migrated"):
                self._moved(iid, self.cc.by_name[ev.node].index)
                return
            live = self.live.get(iid)
            if live is None or live.running:
                return
            live.running = True
            self.metrics.waits.append(self.clock.env._now - live.t0)
            self.clock.call_later(live.lifetime, partial(self.cc.terminate_instance, iid))
        elif state is _TERMINATED:
            live = self.live.pop(iid, None)
            if live is not None:
                if live.node >= 0:
                    self._add_load(live.node, -live.busy)
                if ev.reason:
                    self.metrics.failed += 1
                else:
                    self.metrics.completed += 1
        elif state is _MIGRATING:
            self.metrics.migrations += 1

    def _cpu(self, req: _Live) -> float:
        if req.trace >= 0 and self.cpu_traces:
            tr = self.cpu_traces[req.trace]
            return tr[int(self.clock.env.now // self.trace_interval) % len(tr)]
        return req.cpu

    def _moved(self, iid: str, dest: int) -> None:
        live = self.live.get(iid)
        if live is not None and live.node >= 0:
            self._add_load(live.node, -live.busy)
            live.node = dest
            self._add_load(dest, live.busy)

    def _add_load(self, idx: int, busy: float) -> None:
        node = self.nodes[idx]
        node.load += busy
        status = self.cc.nodes[idx].status
        if status is _UP:  # the common case, inline
            load = node.load
            if node.idle_w >= 0.0 and 0.0 <= load <= node.cores:
                watts = node.idle_w + node.watts_per_core * load
            else:
                u = load / node.cores
                watts = node.model.watts(u if u < 1.0 else 1.0)
            m = self.metrics  # Metrics.load_change, inlined
            now = self.clock.env._now
            dt = now - m._t
            if dt > 0.0:
                m.energy_j += m.power_w * dt
                m.busy_core_s += m.busy * dt
                m.powered_node_s += m.powered * dt
                m._t = now
            m.busy += busy
            m.power_w += watts - node.power_w
            node.power_w = watts
        else:
            self.metrics.busy_cores(busy)
            self._repower(node, status)

    def _repower(self, node: _Node, status: NodeStatus) -> None:
        if status is NodeStatus.ASLEEP:
            watts = node.off_w
        elif status is NodeStatus.DOWN and not node.hv.up:
            watts = 0.0
        else:
            u = node.load / node.cores if node.cores else 0.0
            watts = node.model.watts(u if u < 1.0 else 1.0)
        self.metrics.power_change(watts - node.power_w)
        node.power_w = watts

    def _on_node(self, view: NodeView) -> None:
        node = self.nodes[view.index]
        self._repower(node, view.status)
        powered = view.status not in (NodeStatus.ASLEEP,) and node.hv.up
        self.metrics.set_powered(view.index, powered)

    # -- trace-driven CPU ------------------------------------------------------------------
    def _retrace(self) -> None:
        for live in list(self.live.values()):
            if live.trace < 0 or live.node < 0:
                continue
            new = live.cores * self._cpu(live)
            if new != live.busy:
                self._add_load(live.node, new - live.busy)
                live.busy = new
        self.clock.call_later(self.trace_interval, self._retrace)

    # -- failures --------------------------------------------------------------------------
    def _schedule_failures(self) -> None:
        f = self.exp.failures
        names = [v.name for v in self.cc.nodes]
        for item in f.get("schedule", []):
            node = str(item["node"])
            at, length = float(item["at"]), float(item.get("duration", 0.0))
            self.clock.call_later(at, self._failure(node, length))
        mtbf = float(f.get("mtbf_hours", 0.0)) * 3600.0
        if mtbf > 0:
            rng = random.Random(self.seed * 7919 + 17)
            repair = sampler(f.get("repair_seconds", {"dist": "exponential",
                                                      "mean": float(f.get("mttr_hours", 1.0)) * 3600.0}),
                             rng)
            t = 0.0
            # One merged Poisson stream of failures over all nodes; victims drawn uniformly.
            while True:
                t += rng.expovariate(len(names) / mtbf)
                if t >= self.exp.duration:
                    break
                node, length = names[rng.randrange(len(names))], repair()
                self.clock.call_later(t, self._failure(node, length))

    def _failure(self, name: str, repair: float) -> Callable[[], None]:
        return lambda: self._fail(name, repair)

    def _fail(self, name: str, repair: float) -> None:
        view = self.cc.by_name[name]
        node = self.nodes[view.index]
        if not node.hv.up:
            return
        node.hv.up = False
        self.metrics.node_failures += 1
        lost = self.cc.node_failed(name, "node failure")
        self.metrics.lost += len(lost)
        self._on_node(view)
        if repair > 0:
            self.clock.call_later(repair, lambda: self._recover(name))

    def _recover(self, name: str) -> None:
        view = self.cc.by_name[name]
        self.nodes[view.index].hv.up = True
        self.cc.node_up(name)
        self._on_node(view)

    # -- run -------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Simulate until the experiment's duration; returns the metrics."""
        import gc

        # The hot path makes no reference cycles, and generational GC passes over ~10^6
        # live objects would cost as much as the simulation itself; collect once at the end.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if was_enabled:
                gc.enable()

    def _run(self) -> dict[str, Any]:
        self._next_arrival()
        self._schedule_failures()
        if self.cpu_traces:
            self.clock.call_later(self.trace_interval, self._retrace)
        step = self.exp.sample_interval
        t = 0.0
        self.metrics.sample(self.cc)
        while t < self.exp.duration:
            t = min(t + step, self.exp.duration)
            self.clock.run(until=t)
            self.metrics.sample(self.cc)
            if self.progress:
                m = self.metrics
                self.progress(t, self.exp.duration, m.placed + m.rejected + m.completed)
        return self.metrics.summary(self.cc, self.nodes, self.exp)


def _ignore(_event: InstanceEvent) -> None:
    """NCs report to their CC; the CC rebinds this when it adopts the node."""


def _migration_time(bandwidth_mbps: float) -> Callable[[InstanceSpec], float]:
    return lambda spec: spec.resources.memory_mb / bandwidth_mbps
