"""Power models of virtual hosts: watts as a function of CPU utilisation in [0, 1].

``linear`` is the classic idle + (peak - idle) * u model; ``specpower`` interpolates a
SPECpower_ssj2008-style table of watts at 0 %, 10 %, ..., 100 % load (CloudSim's
PowerModelSpecPower semantics).  Energy over an interval follows CloudSim: the
trapezoid between the powers at the interval's two ends, and nothing for a host that
was off (utilisation 0) at the start of the interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class LinearPower:
    """Idle watts at 0 % load rising linearly to peak watts at 100 %."""

    idle_w: float
    peak_w: float

    def watts(self, u: float) -> float:
        """Power draw at utilisation ``u``."""
        return self.idle_w + (self.peak_w - self.idle_w) * min(max(u, 0.0), 1.0)

    @property
    def max_w(self) -> float:
        """Power at full load."""
        return self.peak_w


@dataclass(frozen=True, slots=True)
class SpecPower:
    """Watts at 0, 10, ..., 100 % utilisation, linearly interpolated in between."""

    table: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.table) != 11:
            raise ValueError("a SPECpower table has 11 entries (0 %, 10 %, ..., 100 %)")

    def watts(self, u: float) -> float:
        """Power draw at utilisation ``u`` (clamped to [0, 1]).

        The arithmetic is PowerModelSpecPower.getPower's, operation for operation: PABFD
        compares power increases of hosts whose loads differ by a hair, and the same
        rounding keeps its ties (and so its choices) the same.
        """
        if u <= 0.0:
            return self.table[0]
        if u >= 1.0:
            return self.table[10]
        if math.fmod(u, 0.1) == 0.0:
            return self.table[int(u * 10)]
        i = math.floor(u * 10)
        lo = self.table[i]
        delta = (self.table[math.ceil(u * 10)] - lo) / 10
        return lo + delta * (u - i / 10) * 100

    @property
    def max_w(self) -> float:
        """Power at full load."""
        return self.table[10]


PowerModel = LinearPower | SpecPower

#: SPECpower tables of the servers in Beloglazov & Buyya (CCPE 2012).
SPECPOWER_TABLES: dict[str, tuple[float, ...]] = {
    "hp-proliant-ml110-g4": (86.0, 89.4, 92.6, 96.0, 99.5, 102.0, 106.0, 108.0, 112.0, 114.0, 117.0),
    "hp-proliant-ml110-g5": (93.7, 97.0, 101.0, 105.0, 110.0, 116.0, 121.0, 125.0, 129.0, 133.0, 135.0),
}


def power_model(spec: Any) -> PowerModel:
    """Build a model from experiment config: ``{linear = [idle, peak]}``, a table, or a name."""
    if isinstance(spec, str):
        return SpecPower(SPECPOWER_TABLES[spec])
    if isinstance(spec, Sequence):
        return SpecPower(tuple(float(x) for x in spec))
    if isinstance(spec, dict):
        if "linear" in spec:
            idle, peak = spec["linear"]
            return LinearPower(float(idle), float(peak))
        if "specpower" in spec:
            return power_model(spec["specpower"])
        if "idle_w" in spec:
            return LinearPower(float(spec["idle_w"]), float(spec["peak_w"]))
    raise ValueError(f"cannot read power model {spec!r}")


def interval_energy_j(model: PowerModel, u_from: float, u_to: float, seconds: float) -> float:
    """Joules over an interval whose utilisation went from ``u_from`` to ``u_to``.

    A host idle (0 %) at the start of the interval counts as switched off, as in
    CloudSim's PowerHost.getEnergyLinearInterpolation.
    """
    if u_from <= 0.0:
        return 0.0
    p0 = model.watts(u_from)
    return (p0 + (model.watts(u_to) - p0) / 2.0) * seconds
