"""Workloads: what users ask the cloud for, and when.

A workload is an iterator of :class:`Request` in arrival order: Poisson arrivals with
lifetime and instance-type distributions, or a CSV trace with columns
``arrival,type,lifetime`` (seconds; an optional ``cpu`` column gives the instance's CPU
utilisation in [0, 1]).  Per-instance CPU utilisation can also come from a directory of
trace files (one value in percent per line, PlanetLab-style), assigned round-robin.
"""

from __future__ import annotations

import csv
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from simulator.distributions import sampler, weighted_names


@dataclass(slots=True)  # not frozen: a million of these are built per large run
class Request:
    """One RunInstances request for a single instance."""

    arrival: float
    vm_type: str
    lifetime: float
    cpu: float = 1.0       # CPU utilisation of the instance's cores while running
    trace: int = -1        # index of a CPU-utilisation trace, or -1


def poisson(cfg: dict[str, Any], rng: random.Random, duration: float) -> Iterator[Request]:
    """Poisson arrivals at ``rate_per_hour`` (or ``rate_per_second``) until ``duration``."""
    rate = float(cfg.get("rate_per_second", 0.0)) or float(cfg["rate_per_hour"]) / 3600.0
    limit = int(cfg.get("count", 0)) or None
    lifetime = sampler(cfg.get("lifetime", 3600.0), rng)
    types = weighted_names(dict(cfg.get("types", {"m1.small": 1.0})), rng)
    cpu = sampler(cfg.get("cpu", 1.0), rng)
    traces = int(cfg.get("_trace_count", 0))
    t = 0.0
    n = 0
    while True:
        t += rng.expovariate(rate)
        if t >= duration or (limit is not None and n >= limit):
            return
        yield Request(t, types(), lifetime(), min(max(cpu(), 0.0), 1.0),
                      n % traces if traces else -1)
        n += 1


def csv_trace(path: str, duration: float, traces: int = 0) -> Iterator[Request]:
    """Replay ``arrival,type,lifetime[,cpu]`` rows (a header row is allowed), sorted by arrival."""
    rows: list[Request] = []
    with open(path, newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.reader(f)):
            if not row or row[0].startswith("#"):
                continue
            try:
                arrival = float(row[0])
            except ValueError:
                continue  # header
            if arrival >= duration:
                continue
            cpu = float(row[3]) if len(row) > 3 and row[3] else 1.0
            rows.append(Request(arrival, row[1].strip(), float(row[2]), cpu,
                                n % traces if traces else -1))
    rows.sort(key=lambda r: r.arrival)
    yield from rows


def load_cpu_traces(directory: str) -> list[list[float]]:
    """Every file of a trace directory (byte-sorted names) as utilisation fractions."""
    out = []
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), encoding="ascii") as f:
            out.append([int(line) / 100.0 for line in f if line.strip()])
    return out


def make_workload(cfg: dict[str, Any], rng: random.Random, duration: float,
                  base_dir: str = ".") -> Iterator[Request]:
    """The workload an experiment's ``[workload]`` table describes."""
    kind = str(cfg.get("kind", "poisson"))
    if kind == "poisson":
        return poisson(cfg, rng, duration)
    if kind in ("trace", "csv"):
        path = os.path.join(base_dir, str(cfg["file"]))
        return csv_trace(path, duration, int(cfg.get("_trace_count", 0)))
    raise ValueError(f"unknown workload kind {kind!r} (poisson or trace)")
