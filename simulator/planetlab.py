"""The PlanetLab validation: Beloglazov & Buyya (CCPE 2012) on the 2011-03-03 traces.

Hosts are server NCs on virtual hardware, placed and migrated by the server's CC
(initial placement and consolidation plans from :mod:`server.cc.consolidation`, moves
through MigrateInstances and the virtual driver's modelled copy time).  This module
supplies the workload (one CPU trace per VM, a sample every 300 s) and measures what
CloudSim 3.0.3 measures, with its timing: see ``simulator/README.md`` ("PlanetLab
validation") for each rule and the CloudSim method it follows.  In short:

- the datacentre updates every host at ``0.1 + 300 k`` s and whenever a migration
  ends; a VM asks for its trace interpolated at that instant;
- energy is the trapezoid of each host's SPECpower draw between two updates, nothing
  when the host was idle at the first of them;
- a VM asking for nothing at an update has finished and leaves the datacentre;
- during a copy the VM runs on its source at 90 % and costs its destination 10 %;
- SLATAH and PDM come from the hosts' and VMs' allocated-versus-requested histories.
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from server.cc.cluster import ClusterController
from server.cc.consolidation import (
    Consolidator,
    OverloadDetector,
    find_host,
    first_fit,
    make_consolidator,
)
from server.cc.loadmodel import HostLoad, VmLoad
from server.nc.node import NodeController
from server.nc.types import InstanceSpec, Outcome, Resources
from simulator.clock import SimpyClock
from simulator.hardware import VirtualHypervisor
from simulator.power import PowerModel, power_model

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
#: CloudSim's datacentre events come one "minimum time between events" after each
#: multiple of the interval (the VM-creation acknowledgements arrive that late): 0.1 s
#: in CloudSim 3.0.3 (its runs print their update times: 300.1, 600.1, ...).
EVENT_OFFSET = 0.1
#: A host is "fully" used between 100 % and 101 % (CloudSim rounds such values to 1).
FULL_SLACK = 1.01


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
    # Trace file names in the order VMs take them (default: the directory listing).
    trace_order: list[str] | None = None
    # When the datacentre's updates come after each multiple of the interval: CloudSim's
    # minimum time between events (0.1 s; VM histories are kept only with 0.1).
    event_offset: float = EVENT_OFFSET
    # Seeds random VM selection (RS), the only random choice in these experiments.
    seed: int = 0
    host_types: list[dict[str, Any]] = field(default_factory=lambda: list(DEFAULT_HOST_TYPES))
    vm_types: list[dict[str, Any]] = field(default_factory=lambda: list(DEFAULT_VM_TYPES))


def find_trace_dir(day: str = "20110303", start: str | None = None) -> str | None:
    """The shared PlanetLab trace directory of ``day``, if one is around.

    ``EUCA_SIM_PLANETLAB`` (a directory holding ``<day>/``) wins; otherwise the first
    ``shared/data/planetlab/<day>`` found walking up from ``start`` (default: this
    checkout), so a main checkout and its work trees both find the shared copy.
    """
    env = os.environ.get("EUCA_SIM_PLANETLAB")
    if env and os.path.isdir(os.path.join(env, day)):
        return os.path.join(env, day)
    here = os.path.abspath(start or os.path.dirname(os.path.dirname(__file__)))
    while True:
        candidate = os.path.join(here, "shared", "data", "planetlab", day)
        if os.path.isdir(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def trace_names(trace_dir: str, order: Sequence[str] | None = None) -> list[str]:
    """File names in the order VMs take them.

    CloudSim takes ``File.listFiles()``, i.e. the order the file system lists the
    directory in (``os.listdir`` here): it differs between file systems, so give
    ``order`` (e.g. from ``--trace-order``) to reproduce a particular run.
    """
    if order is None:
        return [n for n in os.listdir(trace_dir) if os.path.isfile(os.path.join(trace_dir, n))]
    missing = [n for n in order if not os.path.isfile(os.path.join(trace_dir, n))]
    if missing:
        raise ValueError(f"trace order names {len(missing)} file(s) not in {trace_dir}, "
                         f"e.g. {missing[0]!r}")
    return list(order)


def read_trace_order(path: str) -> list[str]:
    """A ``--trace-order`` file: one trace file name a line (blank lines ignored).

    Lines are kept whole apart from the line break: some PlanetLab names contain spaces.
    """
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\r\n") for line in f if line.strip()]


def load_traces(trace_dir: str, limit: int | None = None, order: Sequence[str] | None = None
                ) -> list[tuple[str, list[float]]]:
    """Traces as utilisation fractions, in VM order (see :func:`trace_names`)."""
    names = trace_names(trace_dir, order)
    if limit is not None:
        names = names[:limit]
    out = []
    for name in names:
        with open(os.path.join(trace_dir, name), encoding="ascii") as f:
            out.append((name, [int(line) / 100.0 for line in f if line.strip()]))
    return out


def parse_policy(policy: str, seed: int = 0) -> tuple[str, Consolidator | None]:
    """``npa``, ``dvfs`` or ``<detector>-<selector>-<parameter>`` (e.g. ``thr-mmt-0.8``);
    ``seed`` seeds random selection (``rs``)."""
    p = policy.lower()
    if p in ("npa", "dvfs"):
        return p, None
    try:
        det, sel, param = p.split("-", 2)
        value = float(param)
    except ValueError:
        raise ValueError(f"unknown policy {policy!r}: npa, dvfs or DETECTOR-SELECTOR-PARAMETER "
                         "(e.g. thr-mmt-0.8)") from None
    return "migration", make_consolidator(det, sel, value, seed)


class _Accounts:
    """CloudSim's state histories, folded as they come (Helper.getSlaTimePerActiveHost,
    Helper.getSlaMetrics): an entry counts for the time until the next one; a later
    entry at the same instant replaces it."""

    def __init__(self, hosts: int, vms: int):
        self.host_last: list[tuple[float, float, float, bool] | None] = [None] * hosts
        self.host_active = [0.0] * hosts
        self.host_violation = [0.0] * hosts
        self.vm_last: list[tuple[float, float, float, bool] | None] = [None] * vms
        self.vm_requested = [0.0] * vms
        self.vm_allocated = [0.0] * vms
        self.vm_migration_loss = [0.0] * vms
        self.violations = 0          # under-allocated VM intervals (for the average)
        self.violation_sum = 0.0
        # Helper.getTimesBeforeHostShutdown: over each host's final history, entries going
        # from active to inactive, starting from "active" (so a host never used counts once).
        self.host_was_active = [True] * hosts
        self.shutdowns = 0

    def host(self, i: int, t: float, allocated: float, requested: float, active: bool) -> None:
        last = self.host_last[i]
        if last is not None and last[0] != t:
            self._settle_host(i, last[3])
            if last[3]:
                dt = t - last[0]
                self.host_active[i] += dt
                if last[1] < last[2]:
                    self.host_violation[i] += dt
        self.host_last[i] = (t, allocated, requested, active)

    def _settle_host(self, i: int, active: bool) -> None:
        # An entry is final once a later instant follows it (same-instant ones replace it).
        if self.host_was_active[i] and not active:
            self.shutdowns += 1
        self.host_was_active[i] = active

    def host_shutdowns(self) -> int:
        """Helper.getTimesBeforeHostShutdown's count over the histories so far."""
        pending = sum(1 for i, last in enumerate(self.host_last)
                      if last is not None and self.host_was_active[i] and not last[3])
        return self.shutdowns + pending

    def vm(self, i: int, t: float, allocated: float, requested: float, migrating: bool) -> None:
        last = self.vm_last[i]
        if last is not None and last[0] != t:
            dt = t - last[0]
            _, alloc, req, mig = last
            self.vm_requested[i] += req * dt
            self.vm_allocated[i] += alloc * dt
            if alloc < req:
                self.violations += 1
                self.violation_sum += (req - alloc) / req
                if mig:
                    self.vm_migration_loss[i] += (req - alloc) * dt
        self.vm_last[i] = (t, allocated, requested, migrating)


class _AtCreation:
    """The overload check of PABFD while the VMs are created (at 0 s).

    A VM created earlier already holds its full MIPS on its host, but asks for nothing
    until its cloudlet arrives (``Vm.getCurrentRequestedMips`` is the cloudlet
    scheduler's once ``processVmCreate`` has cleared ``isBeingInstantiated``), and no VM
    has a history yet: so ``isHostOverUtilizedAfterAllocation`` judges the new VM's
    request alone, on an otherwise empty host.
    """

    def __init__(self, detector: OverloadDetector):
        self.detector = detector
        self._probes: dict[tuple[float, float], HostLoad] = {}

    def overloaded(self, host: HostLoad, extra: VmLoad | None = None) -> bool:
        """The detector's verdict on ``extra`` alone on a host like ``host``."""
        key = (host.mips, host.bw)
        probe = self._probes.get(key)
        if probe is None:
            probe = HostLoad(host.index, host.name, 1, host.mips, host.ram_mb, host.bw,
                             host.power)
            self._probes[key] = probe
        return self.detector.overloaded(probe, extra)


class PlanetLabRun:
    """One run of the validation; :meth:`run` returns the metrics and a time series."""

    def __init__(self, cfg: PlanetLabConfig,
                 progress: Callable[[int, int, int], None] | None = None):
        self.cfg = cfg
        self.progress = progress
        self.mode, self.consolidator = parse_policy(cfg.policy, cfg.seed)
        self.traces = load_traces(cfg.trace_dir, cfg.vms, cfg.trace_order)
        if not self.traces:
            raise ValueError(f"no trace files in {cfg.trace_dir}")
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
            # CPU, memory and bandwidth are accounted by the load model (CloudSim's
            # PlanetLab VMs hold no memory once created), so the NC's slots do not bind.
            capacity = Resources(10_000, 10**9, 10**9)
            hv = VirtualHypervisor(name, self.clock, capacity, boot=_zero, teardown=_zero,
                                   migration=_copy_time(bandwidth), console=False)
            ncs.append(NodeController(name, self.clock, hv, lambda e: None, capacity=capacity))
        self.cc = ClusterController("planetlab", self.clock, ncs, policy="GREEDY",
                                    max_instances=10**9)
        self.vms: list[VmLoad] = []
        n = len(self.traces)
        block = math.ceil(n / len(cfg.vm_types))
        for i in range(n):
            vt = cfg.vm_types[i // block]
            self.vms.append(VmLoad(f"i-{i:04d}", i, float(vt["mips"]), float(vt["ram_mb"]),
                                   float(vt.get("bw_mbit", 100))))
        # CloudSim keeps 289 samples from files of 288: the last one repeats the 288th
        # (UtilizationModelPlanetLabInMemory's constructor), so the final interval is flat.
        self.samples = [_padded(t, cfg.steps + 1) for _, t in self.traces]
        self.by_id = {vm.id: vm for vm in self.vms}
        self.cc.migrations.listeners.append(self._migrated)
        self.accounts = _Accounts(cfg.hosts, n)
        # CloudSim's view: each host's VM list (migrating-in VMs included, in list order),
        # the VMs being copied in, and the host a VM is registered on.
        self.members: list[list[int]] = [[] for _ in range(cfg.hosts)]
        self.incoming: list[set[int]] = [set() for _ in range(cfg.hosts)]
        self.home: list[int] = [-1] * n
        self.migrating = [False] * n
        self.alive = [True] * n
        self.requested = [0.0] * n
        self.util = [0.0] * cfg.hosts       # host utilisation as last computed
        self.energy_j = 0.0
        self.last_update = 0.0
        self.migrations = 0
        self.finished_vms = 0
        self.failed_creations = 0
        self.updates = 0
        self.failed_migrations = 0
        self._u_time = -1.0
        self._u_now: list[float] = []

    # -- workload -----------------------------------------------------------------------
    def _utilisations(self, t: float) -> list[float]:
        """Every VM's UtilizationModelPlanetLabInMemory.getUtilization(t): linear between
        samples (same operations, so the same floating-point values)."""
        if self._u_time == t:
            return self._u_now
        interval = self.cfg.interval
        if t % interval == 0:
            k = int(t) // int(interval)
            out = [data[k] for data in self.samples]
        else:
            k1 = math.floor(t / interval)
            k2 = math.ceil(t / interval)
            span = (k2 - k1) * interval
            offset = t - k1 * interval
            out = [data[k1] + (data[k2] - data[k1]) / span * offset for data in self.samples]
        self._u_time, self._u_now = t, out
        return out

    # -- placement through the CC ------------------------------------------------------
    def _place_initial(self) -> None:
        classes = self._idle_classes()
        busy: list[HostLoad] = []  # hosts given a VM so far, in index order
        check = (_AtCreation(self.consolidator.detector) if self.consolidator is not None
                 else None)
        for vm in self.vms:  # VMs are created asking for their full MIPS
            if self.mode == "migration":
                host = find_host(vm, busy, set(), check, idle_classes=classes)
                if host is not None and not host.vms:
                    bisect.insort(busy, host, key=lambda h: h.index)
            else:
                host = first_fit(vm, self.hosts)
            if host is None:  # CloudSim's broker goes on without it
                self.alive[vm.index] = False
                self.failed_creations += 1
                continue
            host.add(vm)
            vm.host = host
            self.members[host.index].append(vm.index)
            self.home[vm.index] = host.index
            spec = InstanceSpec(vm.id, "planetlab", Resources(1, int(vm.ram_mb), 1))
            self.cc.run_on(host.name, spec)
        self.clock.run(until=0.0)
        if not self.cfg.enforce_memory:
            for vm in self.vms:
                vm.ram_demand = 0.0
                vm.bw_demand = 0.0
            for h in self.hosts:
                h.refresh()

    def _idle_classes(self) -> dict[object, list[HostLoad]]:
        classes: dict[object, list[HostLoad]] = {}
        for h in self.hosts:
            classes.setdefault((h.mips, h.pe_mips, h.ram_mb, h.bw, h.power), []).append(h)
        return classes

    def _migrated(self, iid: str, dest: str, outcome: Outcome) -> None:
        if not outcome.ok:
            self.failed_migrations += 1

    # -- CloudSim's host update ----------------------------------------------------------
    def _update_host(self, h: int, t: float, record_history: bool) -> None:
        """HostDynamicWorkload.updateVmsProcessing with VmSchedulerTimeSharedOverSubscription."""
        members = self.members[h]
        acc = self.accounts
        if not members:
            self.util[h] = 0.0
            last = acc.host_last[h]
            if last is None or last[3] or last[1] or last[2]:
                acc.host(h, t, 0.0, 0.0, False)
            return
        host = self.hosts[h]
        pe = host.pe_mips
        incoming = self.incoming[h]
        vms = self.vms
        # Requests, capped at one PE; the destination of a copy feels 10 % of it.
        capped: list[float] = []
        available = host.mips
        over = False
        now = self._utilisations(t)
        for v in members:
            u = now[v]
            r = u * vms[v].mips
            self.requested[v] = r
            if record_history and v not in incoming:
                vms[v].record(u)  # PowerVm.updateVmProcessing, once per interval
            c = r if r <= pe else pe
            capped.append(c)
            eff = c * 0.1 if v in incoming else c
            if not over and available >= eff:
                available -= eff
            else:
                over = True
        if over:
            total = 0.0
            for v, c in zip(members, capped, strict=True):
                total += c * 0.1 if v in incoming else c
            scale = host.mips / total
        used = 0.0
        requested = 0.0
        for v, c in zip(members, capped, strict=True):
            r = self.requested[v]
            mig_in = v in incoming
            out = self.migrating[v] and not mig_in
            if over:
                if out:
                    a = float(math.floor(c * scale * 0.9))
                elif mig_in:
                    a = float(math.floor(c * 0.1 * scale))
                else:
                    a = float(math.floor(c * scale))
            else:
                a = c * 0.9 if out else (c * 0.1 if mig_in else c)
            if not mig_in:
                acc.vm(v, t, a, r, out)
                if out:
                    a /= 0.9  # the source still carries the VM's full load
            used += a
            requested += r
        acc.host(h, t, used, requested, used > 0.0)
        u = used / host.mips
        if 1.0 < u < FULL_SLACK:
            u = 1.0
        self.util[h] = min(u, 1.0)

    def _update_all(self, t: float, record_history: bool = False) -> None:
        """PowerDatacenter.updateCloudetProcessingWithoutSchedulingFutureEventsForce."""
        dt = t - self.last_update
        before = self.util[:]
        for h in range(self.cfg.hosts):
            self._update_host(h, t, record_history)
        if dt > 0.0:
            if self.mode == "npa":
                self.energy_j += sum(m.max_w for m in self.models) * dt
            else:
                e = 0.0
                for m, a, b in zip(self.models, before, self.util, strict=True):
                    if a != 0.0:
                        pa = m.watts(a)
                        e += (pa + (m.watts(b) - pa) / 2.0) * dt
                self.energy_j += e
        # VMs asking for nothing have finished (HostDynamicWorkload.getCompletedVms).
        for h in range(self.cfg.hosts):
            members = self.members[h]
            if not members:
                continue
            done = [v for v in members if not self.migrating[v] and self.requested[v] == 0.0]
            for v in done:
                members.remove(v)
                self._finish(v, h)
        self.last_update = t
        self.updates += 1

    def _finish(self, v: int, h: int) -> None:
        vm = self.vms[v]
        self.alive[v] = False
        self.finished_vms += 1
        host = self.hosts[h]
        if vm in host.vms:
            host.remove(vm)
        vm.host = None
        self.home[v] = -1
        self.cc.terminate_instance(vm.id)

    # -- migrations ---------------------------------------------------------------------
    def _start_migrations(self, t: float, plan: list[Any]) -> list[tuple[float, int, int, int]]:
        """PowerDatacenter.updateCloudletProcessing: each planned move starts now."""
        events: list[tuple[float, int, int, int]] = []
        final: dict[int, int] = {}
        for seq, m in enumerate(plan):
            v, dest = m.vm.index, m.dest.index
            self.migrations += 1
            if v not in self.incoming[dest]:
                self.migrating[v] = True
                self.incoming[dest].add(v)
                self.members[dest].append(v)
                self._update_host(dest, t, False)
                self._update_host(self.home[v], t, False)
            bw = self.hosts[dest].bw
            events.append((t + self.vms[v].ram_mb / (bw / 16.0), seq, v, dest))
            final[v] = dest
        for v, dest in final.items():
            vm = self.vms[v]
            node = self.cc.node_of(vm.id)
            if node is not None and node.name != self.hosts[dest].name:
                self.cc.migrate_to(vm.id, self.hosts[dest].name)
        events.sort()
        return events

    def _complete(self, v: int, dest: int) -> None:
        """Datacenter.processVmMigrate: off the registered host, onto the destination."""
        src = self.home[v]
        vm = self.vms[v]
        if src >= 0 and v in self.members[src]:
            self.members[src].remove(v)
            if vm in self.hosts[src].vms:
                self.hosts[src].remove(vm)
        self.incoming[dest].discard(v)
        if v in self.members[dest]:
            self.members[dest].remove(v)
        self.members[dest].append(v)
        self.hosts[dest].add(vm)
        vm.host = self.hosts[dest]
        self.home[v] = dest
        self.migrating[v] = False

    def _run_migrations(self, events: list[tuple[float, int, int, int]]) -> None:
        """PowerDatacenter.processVmMigrate for each copy, in time order."""
        i = 0
        while i < len(events):
            t = events[i][0]
            if t >= self.end:
                break
            self.clock.run(until=t)
            if t > self.last_update:
                self._update_all(t)
            j = i
            while j < len(events) and events[j][0] == t:
                self._complete(events[j][2], events[j][3])
                j += 1
            self._update_all(t)  # the last copy of this instant settles the hosts
            i = j

    # -- the run -----------------------------------------------------------------------
    def run(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Simulate the day; returns ``(metrics, series)``."""
        cfg = self.cfg
        self._place_initial()
        steps = min(cfg.steps, min(len(t) for _, t in self.traces))
        self.end = steps * cfg.interval
        series: list[dict[str, Any]] = []
        rounds = steps - 1
        t = cfg.event_offset
        for k in range(1, steps):
            t += cfg.interval  # accumulated, as CloudSim's event times are
            if t >= self.end:
                break
            self.clock.run(until=t)
            # PowerVm.updateVmProcessing records a VM's utilisation only at updates where
            # (t - 0.1) mod interval == 0: every round with CloudSim's 0.1 s offset.
            self._update_all(t, record_history=math.fmod(t - 0.1, cfg.interval) == 0.0)
            moved = 0
            if self.consolidator is not None:
                self._sync_loads()
                plan = self.consolidator.plan(self.hosts, self.util)
                events = self._start_migrations(t, plan)
                moved = len({e[2] for e in events})
                self._run_migrations(events)
            active = [u for u in self.util if u > 0]
            series.append({
                "time_s": round(t, 3), "active_hosts": len(active),
                "utilisation": round(_mean(active), 6),
                "power_w": round(sum(m.max_w for m in self.models) if self.mode == "npa"
                                 else sum(m.watts(u) for m, u in zip(self.models, self.util,
                                                                     strict=True) if u > 0), 3),
                "energy_kwh": round(self.energy_j / 3.6e6, 6), "migrations": self.migrations,
                "moved": moved, "vms": sum(self.alive),
            })
            if self.progress:  # rounds done, rounds in all, datacentre events so far
                self.progress(k, rounds, self.updates + self.migrations)
        self.clock.run(until=self.last_update)
        return self._metrics(steps), series

    def _sync_loads(self) -> None:
        """The CC's load view of every host as CloudSim's allocation policy sees it."""
        for h, host in enumerate(self.hosts):
            mine = [self.vms[v] for v in self.members[h] if v not in self.incoming[h]]
            for vm in mine:
                vm.demand = self.requested[vm.index]
                vm.host = host
            host.vms = mine
            host.refresh()

    def _metrics(self, steps: int) -> dict[str, Any]:
        acc = self.accounts
        active = sum(acc.host_active)
        requested = sum(acc.vm_requested)
        allocated = sum(acc.vm_allocated)
        # Helper.printResults: ratios of totals over hosts and over VMs.
        slatah = sum(acc.host_violation) / active if active else 0.0
        pdm = sum(acc.vm_migration_loss) / requested if requested else 0.0
        overall = (requested - allocated) / requested if requested else 0.0
        average = acc.violation_sum / acc.violations if acc.violations else 0.0
        # The paper's formulas written as means of per-host and per-VM ratios.
        slatah_mean = _mean([v / a for v, a in zip(acc.host_violation, acc.host_active,
                                                   strict=True) if a > 0])
        pdm_mean = _mean([d / r for d, r in zip(acc.vm_migration_loss, acc.vm_requested,
                                                strict=True) if r > 0])
        stats = self.consolidator.stats if self.consolidator else {}
        energy_kwh = self.energy_j / 3.6e6
        return {
            "policy": self.cfg.policy,
            "hosts": self.cfg.hosts,
            "vms": len(self.vms),
            "steps": steps,
            "simulated_seconds": round(self.last_update, 3),
            "energy_kwh": round(energy_kwh, 6),
            "migrations": self.migrations,
            "slatah_pct": round(slatah * 100.0, 6),
            "pdm_pct": round(pdm * 100.0, 6),
            "slav_pct": round(slatah * pdm * 100.0, 8),
            "esv": round(energy_kwh * slatah * pdm, 8),
            "sla_overall_pct": round(overall * 100.0, 6),
            "sla_average_pct": round(average * 100.0, 6),
            "slatah_mean_pct": round(slatah_mean * 100.0, 6),
            "pdm_mean_pct": round(pdm_mean * 100.0, 6),
            "host_shutdowns": acc.host_shutdowns(),
            "finished_vms": self.finished_vms,
            "failed_creations": self.failed_creations,
            "failed_migrations": self.failed_migrations,
            "overloaded_host_rounds": stats.get("overloaded", 0),
            "cc_migrations_completed": self.cc.migrations.completed,
            "active_host_hours": round(active / 3600.0, 4),
        }


def _padded(samples: list[float], n: int) -> list[float]:
    """``samples`` to ``n`` values, the missing ones repeating the last."""
    out = list(samples[:n])
    out.extend([out[-1] if out else 0.0] * (n - len(out)))
    return out


def _zero() -> float:
    return 0.0


def _copy_time(bandwidth_mbps: float) -> Callable[[InstanceSpec], float]:
    return lambda spec: spec.resources.memory_mb / bandwidth_mbps


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
