"""Experiment files (TOML): cluster, policy, VM types, workload, failures, duration.

See ``simulator/experiments/*.toml`` for commented examples.  A file with a
``[planetlab]`` table is a PlanetLab consolidation experiment instead.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

from server.nc.types import Resources

#: Eucalyptus 4.x default VM types (reference §3.3), used when a file names none.
DEFAULT_VM_TYPES: dict[str, Resources] = {
    "t1.micro": Resources(1, 256, 5), "m1.small": Resources(1, 256, 5),
    "m1.medium": Resources(1, 512, 10), "c1.medium": Resources(2, 512, 10),
    "m1.large": Resources(2, 512, 10), "m1.xlarge": Resources(2, 1024, 10),
    "c1.xlarge": Resources(2, 2048, 10), "m2.xlarge": Resources(2, 2048, 10),
    "m3.xlarge": Resources(4, 2048, 15), "m2.2xlarge": Resources(2, 4096, 30),
    "m3.2xlarge": Resources(4, 4096, 30), "cc1.4xlarge": Resources(8, 3072, 60),
    "m2.4xlarge": Resources(8, 4096, 60), "hi1.4xlarge": Resources(8, 6144, 120),
    "cc2.8xlarge": Resources(16, 6144, 120), "cg1.4xlarge": Resources(16, 12288, 200),
    "cr1.8xlarge": Resources(16, 16384, 240), "hs1.8xlarge": Resources(48, 119808, 24000),
}


@dataclass
class NodeGroup:
    """``count`` identical nodes."""

    count: int
    resources: Resources
    power: Any = field(default_factory=lambda: {"linear": [100.0, 250.0]})
    off_watts: float = 0.0


@dataclass
class Experiment:
    """A parsed experiment file."""

    name: str
    seed: int
    duration: float
    sample_interval: float
    policy: str
    groups: list[NodeGroup]
    vm_types: dict[str, Resources]
    workload: dict[str, Any]
    cluster: dict[str, Any]
    failures: dict[str, Any]
    base_dir: str
    raw: dict[str, Any]
    planetlab: dict[str, Any] | None = None

    @property
    def nodes(self) -> int:
        """Total node count."""
        return sum(g.count for g in self.groups)


def _resources(d: dict[str, Any]) -> Resources:
    return Resources(int(d.get("cores", 8)), int(d.get("memory_mb", 16384)), int(d.get("disk_gb", 200)))


def parse(raw: dict[str, Any], base_dir: str = ".", name: str = "experiment") -> Experiment:
    """Build an :class:`Experiment` from a TOML document's tables."""
    exp = raw.get("experiment", {})
    cluster = dict(raw.get("cluster", {}))
    groups: list[NodeGroup] = []
    for g in cluster.get("node_groups", []):
        groups.append(NodeGroup(int(g["count"]), _resources(g), g.get("power", {"linear": [100, 250]}),
                                float(g.get("off_watts", 0.0))))
    if not groups:
        node = dict(cluster.get("node", {}))
        groups.append(NodeGroup(int(cluster.get("nodes", 10)), _resources(node),
                                node.get("power", {"linear": [100, 250]}),
                                float(node.get("off_watts", 0.0))))
    types_raw = raw.get("vm_types")
    vm_types = ({k: _resources(v) for k, v in types_raw.items()} if types_raw
                else dict(DEFAULT_VM_TYPES))
    return Experiment(
        name=str(exp.get("name", name)),
        seed=int(exp.get("seed", 0)),
        duration=float(exp.get("duration", 86400.0)),
        sample_interval=float(exp.get("sample_interval", 300.0)),
        policy=str(cluster.get("policy", "ROUNDROBIN")),
        groups=groups,
        vm_types=vm_types,
        workload=dict(raw.get("workload", {})),
        cluster=cluster,
        failures=dict(raw.get("failures", {})),
        base_dir=base_dir,
        raw=raw,
        planetlab=raw.get("planetlab"),
    )


def load(path: str) -> Experiment:
    """Read an experiment file."""
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    stem = os.path.splitext(os.path.basename(path))[0]
    return parse(raw, os.path.dirname(os.path.abspath(path)), stem)
