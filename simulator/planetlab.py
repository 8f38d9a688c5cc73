"""The PlanetLab validation: Beloglazov & Buyya (CCPE 2012) on the 2011-03-03 traces.

Hosts are server NCs on virtual hardware, placed and migrated by the server's CC
(initial placement and consolidation plans from :mod:`server.cc.consolidation`, moves
through MigrateInstances and the virtual driver's modelled copy time).  This module
only supplies the workload (one CPU trace per VM, a sample every 300 s), measures
energy with SPECpower interpolation and computes the paper's SLA metrics:

- SLATAH: mean over hosts of (time at 100 % utilisation) / (time active);
- PDM: mean over VMs of (capacity lost to migrations) / (capacity requested), a
  migration costing 10 % of the VM's demand for its duration;
- SLAV = SLATAH x PDM.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server.cc.cluster import ClusterController
from server.cc.consolidation import Consolidator, find_host, first_fit, make_consolidator
from server.cc.loadmodel import HostLoad, VmLoad
from server.nc.node import NodeController
from server.nc.types import InstanceSpec, Outcome, Resources
from simulator.clock import SimpyClock
from simulator.hardware import VirtualHypervisor
from simulator.power import PowerModel, interval_energy_j, power_model

DEFAULT_HOST_TYPES = [
    {"name": "HP ProLiant ML110 G4", "pes": 2, "pe_mips": 1860, "ram_mb": 4096, "bw_mbit": 1000,
     "power": "hp-proliant-ml110-g4"},
    {"name": "HP ProLiant ML110 G5", "pes": 2, "pe_mips": 2660, "ram_mb": 4096, "bw_mbit": 1000,
     "power": "hp-proliant-ml110-g5"},
]
DEFAULT_VM_TYPES = [
    {"name": "high-cpu-medium", "mips": 2500, "ram_mb": 870, "bw_mbit": 100},
    {"name": "extra-large", "mips": 2000, "ram_mb": 1740, "bw_mbit": 100},
    {"name": "small", "mips": 1000, "ram_mb": 1740, "bw_mbit": 100},
    {"name": "micro", "mips": 500, "ram_mb": 613, "bw_mbit": 100},
]


@dataclass
class PlanetLabConfig:
    """The experiment's knobs (defaults: the paper's setup)."""

    trace_dir: str
    policy: str = "thr-mmt-0.8"
    hosts: int = 800
    interval: float = 300.0
    steps: int = 288
    vms: int | None = None        # default: one per trace file
    # CloudSim's setup gives running VMs zero memory/bandwidth utilisation, so only VM
    # creation is limited by them; true makes memory and bandwidth bind migrations too.
    enforce_memory: bool = False
    host_types: list[dict[str, Any]] = field(default_factory=lambda: list(DEFAULT_HOST_TYPES))
    vm_types: list[dict[str, Any]] = field(default_factory=lambda: list(DEFAULT_VM_TYPES))


def load_traces(trace_dir: str, limit: int | None = None) -> list[tuple[str, list[float]]]:
    """Traces in byte-sorted file-name order, as utilisation fractions."""
    names = sorted(os.listdir(trace_dir))
    if limit is not None:
        names = names[:limit]
    out = []
    for name in names:
        with open(os.path.join(trace_dir, name), encoding="ascii") as f:
            out.append((name, [int(line) / 100.0 for line in f if line.strip()]))
    return out


def parse_policy(policy: str) -> tuple[str, Consolidator | None]:
    """``npa``, ``dvfs`` or ``<detector>-<selector>-<parameter>`` (e.g. ``thr-mmt-0.8``)."""
    p = policy.lower()
    if p in ("npa", "dvfs"):
        return p, None
    det, sel, param = p.split("-", 2)
    return "migration", make_consolidator(det, sel, float(param))


@dataclass
class _Sla:
    host_active: list[float]
    host_violation: list[float]
    vm_requested: list[float]
    vm_degraded: list[float]


class PlanetLabRun:
    """One run of the validation; :meth:`run` returns the metrics and a time series."""

    def __init__(self, cfg: PlanetLabConfig, progress: Callable[[int, int], None] | None = None):
        self.cfg = cfg
        self.progress = progress
        self.mode, self.consolidator = parse_policy(cfg.policy)
        self.traces = load_traces(cfg.trace_dir, cfg.vms)
        self.clock = SimpyClock()
        self.models: list[PowerModel] = []
        self.hosts: list[HostLoad] = []
        ncs = []
        # One model object per host type, so idle hosts of a type group together.
        type_models = [power_model(ht["power"]) for ht in cfg.host_types]
        for i in range(cfg.hosts):
            ht = cfg.host_types[i % len(cfg.host_types)]
            model = type_models[i % len(cfg.host_types)]
            self.models.append(model)
            name = f"host-{i:03d}"
            bw_mbit = float(ht.get("bw_mbit", 1000))
            self.hosts.append(HostLoad(i, name, int(ht["pes"]), float(ht["pe_mips"]),
                                       float(ht["ram_mb"]), bw_mbit, model.watts))
            # Half the link carries migrations (the other half guest traffic): MB/s.
            bandwidth = bw_mbit / 8.0 / 2.0
            capacity = Resources(10, int(ht["ram_mb"]), 10_000)
            hv = VirtualHypervisor(name, self.clock, capacity, boot=_zero, teardown=_zero,
                                   migration=_copy_time(bandwidth))
            ncs.append(NodeController(name, self.clock, hv, lambda e: None, capacity=capacity))
        # MAX_CORES 10 per node: CPU is over-committed and accounted in MIPS by the load model.
        self.cc = ClusterController("planetlab", self.clock, ncs, policy="GREEDY",
                                    max_instances=10**9)
        self.vms: list[VmLoad] = []
        n = len(self.traces)
        block = math.ceil(n / len(cfg.vm_types))
        for i in range(n):
            vt = cfg.vm_types[i // block]
            self.vms.append(VmLoad(f"i-{i:04d}", i, float(vt["mips"]), float(vt["ram_mb"]),
                                   float(vt.get("bw_mbit", 100))))
        self.by_id = {vm.id: vm for vm in self.vms}
        self.migration_started: dict[str, float] = {}
        self.cc.migrations.listeners.append(self._migrated)
        self.sla = _Sla([0.0] * cfg.hosts, [0.0] * cfg.hosts, [0.0] * n, [0.0] * n)
        self.migrations = 0
        self.failed_migrations = 0
        self._out_until: dict[int, float] = {}  # host -> when its last outgoing copy ends
        self._in_until: dict[int, float] = {}   # host -> when its last incoming copy ends

    # -- placement through the CC ------------------------------------------------------
    def _place_initial(self) -> None:
        for vm in self.vms:  # VMs are created asking for their full MIPS
            if self.mode == "migration":
                assert self.consolidator is not None
                host = find_host(vm, self.hosts, set(), self.consolidator.detector,
                                 idle_classes=self._idle_classes())
            else:
                host = first_fit(vm, self.hosts)
            if host is None:
                raise RuntimeError(f"no host can take {vm.id}")
            host.add(vm)
            vm.host = host
            spec = InstanceSpec(vm.id, "planetlab", Resources(1, int(vm.ram_mb), 1))
            self.cc.run_on(host.name, spec)
        self.clock.run(until=0.0)
        if not self.cfg.enforce_memory:
            for vm in self.vms:
                vm.ram_demand = 0.0
                vm.bw_demand = 0.0

    def _idle_classes(self) -> dict[object, list[int]]:
        classes: dict[object, list[int]] = {}
        for h in self.hosts:
            if h.mips_start == 0.0:
                classes.setdefault((h.mips, h.pe_mips, h.ram_mb, h.bw, h.power), []).append(h.index)
        return classes

    def _migrated(self, iid: str, dest: str, outcome: Outcome) -> None:
        vm = self.by_id[iid]
        started = self.migration_started.pop(iid)
        if not outcome.ok:
            self.failed_migrations += 1
            return
        seconds = self.clock.now() - started
        self.sla.vm_degraded[vm.index] += 0.1 * vm.demand * seconds
        assert self.cc.node_of(iid) is not None and self.cc.node_of(iid).name == dest  # type: ignore[union-attr]

    # -- the run -----------------------------------------------------------------------
    def run(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Simulate every step; returns ``(metrics, series)``."""
        cfg = self.cfg
        self._place_initial()
        energy_j = 0.0
        prev_u = [0.0] * cfg.hosts
        series: list[dict[str, Any]] = []
        steps = min(cfg.steps, min(len(t) for _, t in self.traces))
        for k in range(steps):
            t = k * cfg.interval
            self.clock.run(until=t)
            for vm, (_, trace) in zip(self.vms, self.traces, strict=True):
                vm.demand = trace[k] * vm.mips
                vm.record(trace[k])
            for h in self.hosts:
                h.refresh()
            u_now = [h.utilisation() for h in self.hosts]
            if k > 0:
                if self.mode == "npa":
                    energy_j += sum(m.max_w for m in self.models) * cfg.interval
                else:
                    energy_j += sum(interval_energy_j(m, a, b, cfg.interval)
                                    for m, a, b in zip(self.models, prev_u, u_now, strict=True))
            pre = [(h.alloc > 0.0, h.req > h.allocated_mips() + 1e-9) for h in self.hosts]
            moved = 0
            if self.consolidator is not None and k > 0:
                moved = self._consolidate(t)
            self.clock.run(until=t + cfg.interval * 0.999)  # copies finish inside the step
            prev_u = [h.utilisation() for h in self.hosts]
            if k < steps - 1:
                self._account_sla(t, pre)
            series.append({
                "time_s": t, "active_hosts": sum(1 for u in prev_u if u > 0),
                "utilisation": _mean([u for u in prev_u if u > 0]),
                "power_w": sum(m.watts(u) for m, u in zip(self.models, prev_u, strict=True) if u > 0)
                if self.mode != "npa" else sum(m.max_w for m in self.models),
                "energy_kwh": energy_j / 3.6e6, "migrations": self.migrations, "moved": moved,
            })
            if self.progress:
                self.progress(k + 1, steps)
        return self._metrics(energy_j, steps), series

    def _consolidate(self, t: float) -> int:
        assert self.consolidator is not None
        plan = self.consolidator.plan(self.hosts)
        # Several moves of one VM in a round (CloudSim allows it) collapse to its last target.
        final: dict[str, tuple[VmLoad, HostLoad]] = {}
        for m in plan:
            final[m.vm.id] = (m.vm, m.dest)
            self.migrations += 1
        for vm, dest in final.values():
            src = vm.host
            assert src is not None
            if dest is src or vm.id in self.cc.migrations.in_flight:
                continue  # back where it was, or still copying (a very slow link)
            src.remove(vm)
            dest.add(vm)
            vm.host = dest
            self.migration_started[vm.id] = t
            end = t + vm.ram_mb / (src.bw / 16.0)
            self._out_until[src.index] = max(self._out_until.get(src.index, t), end)
            if vm.demand > 0.0:
                self._in_until[dest.index] = max(self._in_until.get(dest.index, t), end)
            self.cc.migrate_to(vm.id, dest.name)
        return len(final)

    def _account_sla(self, t: float, pre: list[tuple[bool, bool]]) -> None:
        """SLA figures for the interval after ``t``, CloudSim-style.

        A host violates its SLA while its instances get less CPU than they ask for:
        over-subscription, a demand above one PE, or (CloudSim's migration model) while
        it receives a VM, which gets only 10 % of its demand there during the copy.
        Before its last outgoing copy ends a host is in its pre-migration state.
        """
        dt = self.cfg.interval
        sla = self.sla
        for h in self.hosts:
            i = h.index
            pre_active, pre_violating = pre[i]
            out_len = min(max(self._out_until.get(i, t) - t, 0.0), dt)
            in_len = min(max(self._in_until.get(i, t) - t, 0.0), dt)
            post_active = h.alloc > 0.0
            post_violating = post_active and h.req > h.allocated_mips() + 1e-9
            early = max(in_len, out_len if pre_violating else 0.0)
            if post_violating:
                violation = dt - out_len + early if early <= out_len else dt
            else:
                violation = early
            if post_active:
                active = dt
            else:
                active = max(in_len, out_len if pre_active else 0.0)
            if active > 0.0:
                sla.host_active[i] += active
                sla.host_violation[i] += min(violation, active)
            for vm in h.vms:
                sla.vm_requested[vm.index] += vm.demand * dt
        self._out_until.clear()
        self._in_until.clear()

    def _metrics(self, energy_j: float, steps: int) -> dict[str, Any]:
        sla = self.sla
        active = sum(sla.host_active)
        requested = sum(sla.vm_requested)
        # CloudSim's figures: ratios of totals over hosts and over VMs.
        slatah = sum(sla.host_violation) / active if active else 0.0
        pdm = sum(sla.vm_degraded) / requested if requested else 0.0
        # The paper's formulas written as means of per-host and per-VM ratios.
        slatah_mean = _mean([v / a for v, a in zip(sla.host_violation, sla.host_active,
                                                   strict=True) if a > 0])
        pdm_mean = _mean([d / r for d, r in zip(sla.vm_degraded, sla.vm_requested, strict=True)
                          if r > 0])
        stats = self.consolidator.stats if self.consolidator else {}
        return {
            "policy": self.cfg.policy,
            "hosts": self.cfg.hosts,
            "vms": len(self.vms),
            "steps": steps,
            "simulated_seconds": (steps - 1) * self.cfg.interval,
            "energy_kwh": round(energy_j / 3.6e6, 6),
            "migrations": self.migrations,
            "slatah_pct": round(slatah * 100.0, 6),
            "pdm_pct": round(pdm * 100.0, 6),
            "slav_pct": round(slatah * pdm * 100.0, 8),
            "esv": round(energy_j / 3.6e6 * slatah * pdm, 8),
            "slatah_mean_pct": round(slatah_mean * 100.0, 6),
            "pdm_mean_pct": round(pdm_mean * 100.0, 6),
            "failed_migrations": self.failed_migrations,
            "overloaded_host_rounds": stats.get("overloaded", 0),
            "cc_migrations_completed": self.cc.migrations.completed,
            "active_host_hours": round(active / 3600.0, 4),
        }


def _zero() -> float:
    return 0.0


def _copy_time(bandwidth_mbps: float) -> Callable[[InstanceSpec], float]:
    return lambda spec: spec.resources.memory_mb / bandwidth_mbps


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
