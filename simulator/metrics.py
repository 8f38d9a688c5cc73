"""Run metrics: counters and time integrals updated in O(1) per event, plus a time series.

Energy, busy cores and powered nodes are integrated exactly between events (they are
piecewise constant), not sampled, so the figures do not depend on the sample interval.
"""

from __future__ import annotations

import math
from array import array
from typing import TYPE_CHECKING, Any

from server.nc.types import NodeStatus

if TYPE_CHECKING:
    from server.cc.cluster import ClusterController
    from simulator.clock import SimpyClock
    from simulator.experiment import Experiment


class Metrics:
    """Everything a run measures."""

    def __init__(self, clock: SimpyClock):
        self.clock = clock
        self.placed = self.rejected = self.completed = self.failed = self.lost = 0
        self.migrations = self.node_failures = 0
        # Raw doubles: a million-lifecycle run would otherwise keep a million float
        # objects alive (four times the memory, all of it touched by the allocator).
        self.waits = array("d")
        self.series: list[dict[str, Any]] = []
        self._t = 0.0
        self.power_w = 0.0
        self.busy = 0.0
        self.powered = 0
        self.energy_j = 0.0
        self.busy_core_s = 0.0
        self.powered_node_s = 0.0
        self.total_cores = 0
        self._powered: list[bool] = []

    def start(self, nodes: int, total_cores: int, power_w: float) -> None:
        """Every node starts powered and idle."""
        self.total_cores = total_cores
        self.power_w = power_w
        self.powered = nodes
        self._powered = [True] * nodes

    def _advance(self) -> None:
        now = self.clock.env.now
        dt = now - self._t
        if dt > 0.0:
            self.energy_j += self.power_w * dt
            self.busy_core_s += self.busy * dt
            self.powered_node_s += self.powered * dt
            self._t = now

    def busy_cores(self, delta: float) -> None:
        """Cores in use changed by ``delta``."""
        self._advance()
        self.busy += delta

    def load_change(self, busy_delta: float, power_delta_w: float) -> None:
        """Cores in use and power draw changed together (one instance started or ended)."""
        now = self.clock.env.now
        dt = now - self._t
        if dt > 0.0:
            self.energy_j += self.power_w * dt
            self.busy_core_s += self.busy * dt
            self.powered_node_s += self.powered * dt
            self._t = now
        self.busy += busy_delta
        self.power_w += power_delta_w

    def power_change(self, delta_w: float) -> None:
        """Total power draw changed by ``delta_w``."""
        self._advance()
        self.power_w += delta_w

    def set_powered(self, index: int, on: bool) -> None:
        """A node was powered on or off (asleep, failed)."""
        if self._powered[index] != on:
            self._advance()
            self._powered[index] = on
            self.powered += 1 if on else -1

    def sample(self, cc: ClusterController) -> None:
        """Append one time-series row."""
        self._advance()
        waking = sum(1 for v in cc.nodes if v.status is NodeStatus.WAKING) if cc.policy.powers_down else 0
        self.series.append({
            "time_s": round(self._t, 3),
            "instances": len(cc.instance_node),
            "powered_nodes": self.powered,
            "waking_nodes": waking,
            "busy_cores": round(self.busy, 6),
            "utilisation": round(self.busy / self.total_cores, 6) if self.total_cores else 0.0,
            "power_w": round(self.power_w, 3),
            "energy_kwh": round(self.energy_j / 3.6e6, 6),
            "placed": self.placed,
            "rejected": self.rejected,
        })

    def summary(self, cc: ClusterController, nodes: list[Any], exp: Experiment) -> dict[str, Any]:
        """The run's headline figures (metrics.json)."""
        self._advance()
        requests = self.placed + self.rejected
        waits = sorted(self.waits)
        duration = self._t or 1.0
        return {
            "experiment": exp.name,
            "policy": cc.policy.name,
            "nodes": len(cc.nodes),
            "duration_s": self._t,
            "requests": requests,
            "placed": self.placed,
            "rejected": self.rejected,
            "rejection_rate": round(self.rejected / requests, 6) if requests else 0.0,
            "completed": self.completed,
            "failed": self.failed,
            "lost_to_node_failures": self.lost,
            "node_failures": self.node_failures,
            "mean_wait_s": round(sum(waits) / len(waits), 6) if waits else 0.0,
            "p95_wait_s": round(_percentile(waits, 95.0), 6),
            "utilisation": round(self.busy_core_s / (self.total_cores * duration), 6),
            "utilisation_of_powered": round(
                self.busy_core_s / (self.powered_node_s * self.total_cores / len(nodes)), 6)
            if self.powered_node_s else 0.0,
            "energy_kwh": round(self.energy_j / 3.6e6, 6),
            "node_hours_powered": round(self.powered_node_s / 3600.0, 6),
            "migrations": self.migrations,
        }


def _percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]
