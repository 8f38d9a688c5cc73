"""Dynamic VM consolidation (Beloglazov & Buyya, CCPE 2012): which instances to live-migrate.

Each round, the CC finds overloaded hosts (THR, IQR, MAD or LR detection), picks
instances off them until they are not overloaded (MMT or MC selection), places those
with power-aware best fit decreasing (PABFD), then tries to empty the least utilised
hosts one by one.  The result is a migration plan; the CC carries it out with
MigrateInstances (:mod:`server.cc.migration`).  Semantics follow CloudSim 3.0.3's power
package: a host's power before a move as at the start of the round and after it from
what is allocated on it now (moves planned earlier in the round included), "switched
off" hosts (0 % utilisation) only used for VMs from overloaded hosts, adaptive
detectors falling back to a 0.7 static threshold while the history is short.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from server.cc.loadmodel import HostLoad, VmLoad
from server.cc.stats import (
    covariance_inverse,
    drop_variable,
    iqr,
    mad,
    robust_regression,
    simple_regression,
)

MIN_HISTORY = 12        # samples an adaptive detector needs before trusting its statistics
LR_WINDOW = 10          # local regression looks at the last 10 samples


# -- overload detection -------------------------------------------------------------------
class OverloadDetector(Protocol):
    """Decides whether a host is overloaded."""

    def overloaded(self, host: HostLoad, extra: VmLoad | None = None) -> bool:
        """True if ``host`` (with ``extra`` added, if given) is overloaded."""


@dataclass(frozen=True)
class StaticThreshold:
    """THR: overloaded when requested MIPS exceed ``threshold`` of capacity."""

    threshold: float = 0.8

    def overloaded(self, host: HostLoad, extra: VmLoad | None = None) -> bool:
        """Requested over capacity above the threshold."""
        req = host.req + (extra.demand if extra is not None else 0.0)
        return req / host.mips > self.threshold


FALLBACK = StaticThreshold(0.7)


@dataclass(frozen=True)
class InterQuartileRange:
    """IQR: upper threshold 1 - s * IQR(host history)."""

    safety: float = 1.5

    def overloaded(self, host: HostLoad, extra: VmLoad | None = None) -> bool:
        """Requested utilisation above the adaptive threshold."""
        hist = host.history() if extra is None else host.history_with(extra)
        if len(hist) < MIN_HISTORY:  # CloudSim's countNonZeroBeginning: the trimmed length
            return FALLBACK.overloaded(host, extra)
        req = host.req + (extra.demand if extra is not None else 0.0)
        return req / host.mips > 1.0 - self.safety * iqr(hist)


@dataclass(frozen=True)
class MedianAbsoluteDeviation:
    """MAD: upper threshold 1 - s * MAD(host history)."""

    safety: float = 2.5

    def overloaded(self, host: HostLoad, extra: VmLoad | None = None) -> bool:
        """Requested utilisation above the adaptive threshold."""
        hist = host.history() if extra is None else host.history_with(extra)
        if len(hist) < MIN_HISTORY:
            return FALLBACK.overloaded(host, extra)
        req = host.req + (extra.demand if extra is not None else 0.0)
        return req / host.mips > 1.0 - self.safety * mad(hist)


@dataclass(frozen=True)
class LocalRegression:
    """LR: overloaded when s times the utilisation predicted one migration ahead reaches 1."""

    safety: float = 1.2
    interval: float = 300.0
    bandwidth_mbps: float = 62.5  # MB/s for migrations: half of a 1 Gbit/s link, as the copy

    def overloaded(self, host: HostLoad, extra: VmLoad | None = None) -> bool:
        """Linear trend of the last 10 samples, extrapolated past the longest migration."""
        hist = host.history() if extra is None else host.history_with(extra)
        if len(hist) < LR_WINDOW:
            return FALLBACK.overloaded(host, extra)
        ys = hist[LR_WINDOW - 1::-1]  # oldest to newest
        fit = self.fit(ys)
        if fit is None:
            return FALLBACK.overloaded(host, extra)
        intercept, slope = fit
        vms = host.vms if extra is None else [*host.vms, extra]
        longest = max((vm.ram_mb / self.bandwidth_mbps for vm in vms), default=0.0)
        ahead = math.ceil(longest / self.interval)
        return (intercept + slope * (LR_WINDOW + ahead)) * self.safety >= 1.0

    def fit(self, ys: list[float]) -> tuple[float, float] | None:
        """Intercept and slope of the trend through ``ys`` at x = 1, 2, ..."""
        return simple_regression(ys)


@dataclass(frozen=True)
class LocalRegressionRobust(LocalRegression):
    """LRR: LR whose trend is re-fitted with bisquare weights on the first fit's residuals."""

    def fit(self, ys: list[float]) -> tuple[float, float] | None:
        """The robust (tricube x bisquare weighted) trend."""
        return robust_regression(ys)


# -- VM selection -------------------------------------------------------------------------
class VmSelector(Protocol):
    """Picks the next instance to move off an overloaded host."""

    def select(self, host: HostLoad) -> VmLoad | None:
        """An instance on ``host``, or None when it has none."""


class MinimumMigrationTime:
    """MMT: the instance with the least memory (shortest copy); first on ties."""

    def select(self, host: HostLoad) -> VmLoad | None:
        """Least RAM first."""
        best: VmLoad | None = None
        for vm in host.vms:
            if best is None or vm.ram_mb < best.ram_mb:
                best = vm
        return best


class MinimumUtilisation:
    """MU: the instance using the least of its CPU now; first on ties."""

    def select(self, host: HostLoad) -> VmLoad | None:
        """Lowest current utilisation (demand over nominal MIPS) first."""
        best: VmLoad | None = None
        best_u = math.inf
        for vm in host.vms:
            u = vm.demand / vm.mips
            if u < best_u:
                best, best_u = vm, u
        return best


class RandomSelection:
    """RS: an instance drawn uniformly from the host's (CloudSim draws from an unseeded
    ``Random``; here the draw is seeded, so a run is reproducible)."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)

    def select(self, host: HostLoad) -> VmLoad | None:
        """Any instance, each with the same chance."""
        if not host.vms:
            return None
        return host.vms[self._rng.randrange(len(host.vms))]


class MaximumCorrelation:
    """MC: the instance whose utilisation history the others' explain best (highest R²).

    R² of each instance's history regressed (with intercept) on the others' comes from
    one inverse of their cross-product matrix; when the next pick is for the same host
    minus the instance just taken, the inverse is downdated instead of recomputed.
    """

    fallback = MinimumMigrationTime()

    def __init__(self) -> None:
        self._cache: tuple[int, list[str], int, list[list[float]], list[float]] | None = None

    def select(self, host: HostLoad) -> VmLoad | None:
        """Highest multiple-regression R² against the host's other instances."""
        vms = host.vms
        if not vms:
            return None
        m = min(len(vm.history) for vm in vms)
        n = len(vms)
        if n < 2 or m < n:  # not enough degrees of freedom for the regressions
            return self.fallback.select(host)
        if m == n:
            # Exactly determined: every regression fits its samples, so every R² is 1
            # (the residuals' squares vanish beside 1) and the first instance wins.
            return vms[0]
        ids = [vm.id for vm in vms]
        solved = self._downdated(host.index, ids, m)
        if solved is None:
            solved = covariance_inverse([vm.history[:m] for vm in vms])
        if solved is None:
            self._cache = None
            return self.fallback.select(host)
        inv, diag = solved
        self._cache = (host.index, ids, m, inv, diag)
        best_i, best_r2 = 0, 0.0
        for i in range(n):
            r2 = 1.0 - 1.0 / (diag[i] * inv[i][i])
            if r2 > best_r2:
                best_i, best_r2 = i, r2
        return vms[best_i]

    def _downdated(self, index: int, ids: list[str], m: int
                   ) -> tuple[list[list[float]], list[float]] | None:
        cache = self._cache
        if cache is None or cache[0] != index or cache[2] != m or len(cache[1]) != len(ids) + 1:
            return None
        old = cache[1]
        j = next((k for k, (a, b) in enumerate(zip(old, ids, strict=False)) if a != b), len(ids))
        if old[:j] + old[j + 1:] != ids:
            return None
        return drop_variable(cache[3], cache[4], j)


# -- placement (PABFD) --------------------------------------------------------------------
def find_host(vm: VmLoad, hosts: Sequence[HostLoad], excluded: set[int],
              detector: OverloadDetector | None, *,
              idle_classes: dict[object, list[HostLoad]] | None = None
              ) -> HostLoad | None:
    """Power-aware best fit: the allowed host whose power grows least by taking ``vm``.

    As CloudSim 3.0.3's PowerVmAllocationPolicyMigrationAbstract.findHostForVm: the
    power *after* is that of the MIPS allocated on the host now (instances placed
    earlier in this round included) plus the instance's demand; the power *before* is
    the host's at the start of the round (:meth:`HostLoad.start_round`).  A host with
    nothing allocated skips the overload check.  Ties go to the lowest index.
    ``idle_classes`` (hosts idle at round start, grouped by identical hardware, in
    index order) lets the search look at one still-empty host per class instead of
    all.  The expensive overload check only runs for a host that would otherwise win,
    which does not change the result.
    """
    best: HostLoad | None = None
    best_diff = math.inf
    d = vm.demand
    ram, bw = vm.ram_demand, vm.bw_demand
    skip_idle = idle_classes is not None
    for host in hosts:
        if (skip_idle and host.mips_start == 0.0 and not host.vms) or host.index in excluded:
            continue
        # Inlined HostLoad.suitable: this loop runs millions of times per experiment.
        cap = host.mips
        used = host.alloc
        free = cap - used
        if (host.pe_mips < d or (free if free > 0.0 else 0.0) < d
                or host.ram_mb - host.ram_used < ram or host.bw - host.bw_used < bw):
            continue
        diff = host.power(((used if used < cap else cap) + d) / cap) - host.power_start
        if diff < best_diff and (used == 0.0 or detector is None
                                 or not detector.overloaded(host, vm)):
            best, best_diff = host, diff
    if idle_classes is not None:
        for members in idle_classes.values():
            for host in members:
                if host.index in excluded or host.vms or not host.suitable(vm):
                    continue
                diff = host.power(d / host.mips) - host.power_start
                if diff < best_diff or (diff == best_diff and best is not None
                                        and host.index < best.index):
                    best, best_diff = host, diff
                break  # the first usable host of a class stands for the rest
    return best


def _index(host: HostLoad) -> int:
    return host.index


def first_fit(vm: VmLoad, hosts: Sequence[HostLoad]) -> HostLoad | None:
    """The lowest-index host with room (the non-power-aware baseline)."""
    for host in hosts:
        if host.suitable(vm):
            return host
    return None


@dataclass
class Migration:
    """One planned live migration."""

    vm: VmLoad
    source: HostLoad
    dest: HostLoad


@dataclass
class Consolidator:
    """Plans a consolidation round: relieve overloaded hosts, then empty underloaded ones."""

    detector: OverloadDetector
    selector: VmSelector
    stats: dict[str, int] = field(default_factory=lambda: {"overloaded": 0, "rounds": 0})

    def plan(self, hosts: Sequence[HostLoad], start: Sequence[float] | None = None
             ) -> list[Migration]:
        """The migrations of one round; hosts are left exactly as they were.

        ``start`` gives each host's utilisation at the start of the round as the
        caller measured it (default: from the instances' allocations now).
        """
        self.stats["rounds"] += 1
        for h in hosts:
            h.start_round(None if start is None else start[h.index])
        journal: list[tuple[bool, HostLoad, VmLoad]] = []  # (added?, host, vm) to undo

        def add(h: HostLoad, vm: VmLoad) -> None:
            h.add(vm)
            journal.append((True, h, vm))

        def remove(h: HostLoad, vm: VmLoad) -> None:
            h.remove(vm)
            journal.append((False, h, vm))

        overloaded = [h for h in hosts if h.vms and self.detector.overloaded(h)]
        self.stats["overloaded"] += len(overloaded)
        over_set = {h.index for h in overloaded}
        idle = [h for h in hosts if h.mips_start == 0.0]
        idle_classes: dict[object, list[HostLoad]] = {}
        for h in idle:
            # Bound methods of one power model compare equal: hosts sharing a model and
            # a shape are interchangeable while idle.
            key = (h.mips, h.pe_mips, h.ram_mb, h.bw, h.power)
            idle_classes.setdefault(key, []).append(h)
        active = [h for h in hosts if h.mips_start > 0.0]

        # Hosts worth a full look when placing: busy at the start of the round, plus idle
        # ones given an instance during it (idle, empty ones are searched by class).
        candidates = [h for h in hosts if h.mips_start > 0.0 or h.vms]

        # 1. Relieve overloaded hosts.
        to_move: list[tuple[VmLoad, HostLoad]] = []
        for h in overloaded:
            while True:
                vm = self.selector.select(h)
                if vm is None:
                    break
                to_move.append((vm, h))
                remove(h, vm)
                if not self.detector.overloaded(h):
                    break
        to_move.sort(key=lambda pair: -pair[0].demand)  # stable: decreasing demand
        plan: list[Migration] = []
        for vm, src in to_move:
            dest = find_host(vm, candidates, over_set, self.detector, idle_classes=idle_classes)
            if dest is not None:
                if dest.mips_start == 0.0 and not dest.vms:
                    bisect.insort(candidates, dest, key=_index)
                add(dest, vm)
                plan.append(Migration(vm, src, dest))

        # 2. Empty underloaded hosts, least utilised first; never onto switched-off hosts.
        idle_set = {h.index for h in idle}
        no_source = over_set | idle_set
        no_dest = over_set | idle_set
        order = sorted((h for h in active if h.index not in over_set),
                       key=lambda h: (h.u_start, h.index))
        for h in order:
            if h.index in no_source or h.u_start >= 1.0 or not h.vms:
                continue
            no_source.add(h.index)
            no_dest.add(h.index)
            vms = sorted(h.vms, key=lambda v: -v.demand)
            if not vms:
                continue
            batch: list[Migration] = []
            for vm in vms:
                dest = find_host(vm, active, no_dest, self.detector)
                if dest is None:
                    for m in batch:  # all or nothing: the host stays on
                        m.dest.remove(m.vm)
                        journal.pop()
                    batch = []
                    break
                add(dest, vm)
                batch.append(Migration(vm, h, dest))
            for m in batch:
                no_source.add(m.dest.index)
            plan.extend(batch)

        for added, h, vm in reversed(journal):  # restore the allocation
            if added:
                h.remove(vm)
            else:
                h.add(vm)
        for h in hosts:
            h.refresh()
        return plan


DETECTORS: dict[str, Callable[[float], OverloadDetector]] = {
    "thr": StaticThreshold, "iqr": InterQuartileRange, "mad": MedianAbsoluteDeviation,
    "lr": LocalRegression, "lrr": LocalRegressionRobust}
SELECTORS: dict[str, Callable[[int], VmSelector]] = {
    "mmt": lambda seed: MinimumMigrationTime(), "mc": lambda seed: MaximumCorrelation(),
    "mu": lambda seed: MinimumUtilisation(), "rs": RandomSelection}


def make_consolidator(detector: str, selector: str, parameter: float, seed: int = 0
                      ) -> Consolidator:
    """E.g. ``make_consolidator("thr", "mmt", 0.8)``: the paper's algorithm names
    (``seed`` seeds random selection, RS)."""
    try:
        det = DETECTORS[detector.lower()](parameter)
        sel = SELECTORS[selector.lower()](seed)
    except KeyError:
        raise ValueError(f"unknown consolidation {detector}-{selector}; detectors "
                         f"{sorted(DETECTORS)}, selectors {sorted(SELECTORS)}") from None
    return Consolidator(det, sel)
