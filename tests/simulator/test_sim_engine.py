"""The experiment engine: a CSV workload, a scheduled node failure, exact energy."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.engine import Simulation
from simulator.experiment import parse


def test_trace_replay_with_a_node_failure(tmp_path: Path) -> None:
    (tmp_path / "w.csv").write_text("arrival,type,lifetime,cpu\n"
                                    "0,m1.small,100,0.5\n10,m1.large,50,1.0\n20,m1.small,30,0.5\n")
    exp = parse({
        "experiment": {"name": "t", "duration": 200, "sample_interval": 50},
        "cluster": {"policy": "GREEDY", "nodes": 2, "boot_seconds": 5, "teardown_seconds": 1,
                    "node": {"cores": 2, "memory_mb": 4096, "disk_gb": 50,
                             "power": {"linear": [100, 200]}}},
        "vm_types": {"m1.small": {"cores": 1, "memory_mb": 512, "disk_gb": 5},
                     "m1.large": {"cores": 2, "memory_mb": 2048, "disk_gb": 10}},
        "workload": {"kind": "trace", "file": "w.csv"},
        "failures": {"schedule": [{"node": "node-00002", "at": 40, "duration": 60}]},
    }, base_dir=str(tmp_path))
    trace: list[tuple[float, str, str, str]] = []
    m = Simulation(exp, trace=trace).run()
    assert trace == [
        (0.0, "i-00000001", "staging", "node-00001"),
        (5.0, "i-00000001", "running", "node-00001"),
        (10.0, "i-00000002", "staging", "node-00002"),
        (15.0, "i-00000002", "running", "node-00002"),
        (20.0, "i-00000003", "staging", "node-00001"),
        (25.0, "i-00000003", "running", "node-00001"),
        (40.0, "i-00000002", "failed", "node-00002"),   # the node dies with its instance
        (40.0, "i-00000002", "terminated", "node-00002"),
        (55.0, "i-00000003", "shutting-down", "node-00001"),
        (56.0, "i-00000003", "terminated", "node-00001"),
        (105.0, "i-00000001", "shutting-down", "node-00001"),
        (106.0, "i-00000001", "terminated", "node-00001"),
    ]
    assert (m["placed"], m["rejected"], m["completed"], m["lost_to_node_failures"]) == (3, 0, 2, 1)
    assert m["mean_wait_s"] == 5.0
    # Linear 100..200 W over busy cores / cores: node 1 idles at 100 W plus 25 W for each
    # half-busy one-core instance; node 2 draws 200 W with i-2, nothing while failed.
    node1 = 100 * 200 + 25 * (106 - 0) + 25 * (56 - 20)
    node2 = 100 * (200 - 60) + 100 * (40 - 10)
    assert m["energy_kwh"] == pytest.approx((node1 + node2) / 3.6e6, abs=1e-6)
    assert m["node_hours_powered"] == pytest.approx((200 + 140) / 3600, abs=1e-6)
