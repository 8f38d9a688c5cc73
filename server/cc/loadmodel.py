"""The CC's CPU-load view of hosts and instances, used by dynamic consolidation.

Capacity is in MIPS as in Beloglazov & Buyya (CCPE 2012): a host has PEs of
``pe_mips`` each, an instance asks for ``demand`` MIPS now (its utilisation times its
nominal MIPS) and keeps a utilisation history, latest first.  Allocation follows a
time-shared, over-subscribable CPU scheduler: each instance gets its demand capped at
one PE; if the sum exceeds the host, everyone is scaled down.
"""

from __future__ import annotations

from collections.abc import Callable

HISTORY_LENGTH = 30

PowerCurve = Callable[[float], float]


class VmLoad:
    """One instance's CPU demand and utilisation history."""

    __slots__ = ("bw", "bw_demand", "demand", "history", "host", "id", "index", "mips", "ram_demand",
                 "ram_mb")

    def __init__(self, vm_id: str, index: int, mips: float, ram_mb: float, bw: float):
        self.id = vm_id
        self.index = index
        self.mips = mips
        self.ram_mb = ram_mb
        self.bw = bw
        self.demand = mips            # a VM being created asks for its full MIPS
        # Memory and bandwidth it holds on a host.  CloudSim's PlanetLab setup models both
        # with zero utilisation once a VM runs, so only creation is limited by them.
        self.ram_demand = ram_mb
        self.bw_demand = bw
        self.history: list[float] = []
        self.host: HostLoad | None = None

    def record(self, utilisation: float) -> None:
        """Append the latest utilisation sample to the history (kept to 30 values)."""
        self.history.insert(0, utilisation)
        if len(self.history) > HISTORY_LENGTH:
            self.history.pop()


class HostLoad:
    """One host's capacity, power curve and the instances on it, with running sums."""

    __slots__ = ("_hist", "_raw", "alloc", "bw", "bw_used", "index", "mips", "mips_start", "name",
                 "pe_mips", "power", "power_start", "ram_mb", "ram_used", "req", "u_start", "vms")

    def __init__(self, index: int, name: str, pes: int, pe_mips: float, ram_mb: float,
                 bw: float, power: PowerCurve):
        self.index = index
        self.name = name
        self.pe_mips = pe_mips
        self.mips = pes * pe_mips
        self.ram_mb = ram_mb
        self.bw = bw
        self.power = power
        self.vms: list[VmLoad] = []
        self.req = 0.0         # sum of demands
        self.alloc = 0.0       # sum of demands capped at one PE each
        self.ram_used = 0.0
        self.bw_used = 0.0
        self.mips_start = 0.0  # allocated MIPS when the round started (CloudSim's host view)
        self.u_start = 0.0
        self.power_start = power(0.0)
        self._hist: list[float] | None = None
        self._raw: list[float] | None = None  # untrimmed history sums

    # -- membership ------------------------------------------------------------------
    def add(self, vm: VmLoad) -> None:
        """Place ``vm`` here (the running sums follow)."""
        self.vms.append(vm)
        self.req += vm.demand
        self.alloc += min(vm.demand, self.pe_mips)
        self.ram_used += vm.ram_demand
        self.bw_used += vm.bw_demand
        self._hist = self._raw = None

    def remove(self, vm: VmLoad) -> None:
        """Take ``vm`` off this host.

        The sums are taken afresh in list order (as a simulator summing its VMs would),
        not by subtraction, whose rounding would make equal hosts differ by a hair.
        """
        self.vms.remove(vm)
        self.refresh()

    def refresh(self) -> None:
        """Recompute the sums after demands changed (a new sample)."""
        pe = self.pe_mips
        self.req = sum(v.demand for v in self.vms)
        self.alloc = sum(min(v.demand, pe) for v in self.vms)
        self.ram_used = sum(v.ram_demand for v in self.vms)
        self.bw_used = sum(v.bw_demand for v in self.vms)
        self._hist = self._raw = None

    def start_round(self, utilisation: float | None = None) -> None:
        """Freeze the utilisation and power a consolidation round judges this host by.

        ``utilisation`` is the host's as measured by whoever drives the round (e.g. a
        simulator accounting for migrations in flight); default: the allocation now.
        """
        if utilisation is None:
            self.mips_start = self.allocated_mips()
            self.u_start = self.mips_start / self.mips
        else:
            self.u_start = utilisation
            self.mips_start = utilisation * self.mips
        self.power_start = self.power(self.u_start)

    # -- derived figures -----------------------------------------------------------------
    def allocated_mips(self) -> float:
        """MIPS actually given to instances (capped demands, scaled to capacity)."""
        return self.alloc if self.alloc < self.mips else self.mips

    def utilisation(self) -> float:
        """Allocated MIPS over capacity, in [0, 1]."""
        return self.allocated_mips() / self.mips

    def vm_allocated(self, vm: VmLoad) -> float:
        """MIPS ``vm`` gets here (its capped demand, scaled down if over-subscribed)."""
        capped = min(vm.demand, self.pe_mips)
        if self.alloc > self.mips:
            return capped * self.mips / self.alloc
        return capped

    def suitable(self, vm: VmLoad) -> bool:
        """Room for ``vm``: a PE big enough, free MIPS, memory and bandwidth."""
        d = vm.demand
        free = self.mips - self.alloc
        return (self.pe_mips >= d and (free if free > 0.0 else 0.0) >= d
                and self.ram_mb - self.ram_used >= vm.ram_demand
                and self.bw - self.bw_used >= vm.bw_demand)

    def history(self) -> list[float]:
        """Host utilisation history (latest first): its instances' histories in host terms."""
        if self._hist is None:
            self._hist = _trim(list(self._raw_sums()))
        return self._hist

    def history_with(self, extra: VmLoad) -> list[float]:
        """The history as it would be with ``extra`` also on this host."""
        raw = self._raw_sums()
        scale = extra.mips / self.mips
        hist = extra.history
        if len(hist) <= len(raw):
            out = raw[:]
            for i, u in enumerate(hist):
                out[i] += u * scale
        else:
            out = [u * scale for u in hist]
            for i, v in enumerate(raw):
                out[i] += v
        return _trim(out)

    def _raw_sums(self) -> list[float]:
        if self._raw is None:
            out: list[float] = []
            for vm in self.vms:
                scale = vm.mips / self.mips
                hist = vm.history
                if len(out) < len(hist):
                    out.extend([0.0] * (len(hist) - len(out)))
                for i, u in enumerate(hist):
                    out[i] += u * scale
            self._raw = out
        return self._raw


def _trim(values: list[float]) -> list[float]:
    """Drop the zero tail (CloudSim trims host histories so)."""
    while values and values[-1] == 0.0:
        values.pop()
    return values
