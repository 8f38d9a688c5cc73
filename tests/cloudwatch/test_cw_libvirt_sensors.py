"""The libvirt driver's sensors: domain CPU, block and interface statistics as samples
(libvirt's test:///default driver and its built-in ``test`` domain)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

libvirt = pytest.importorskip("libvirt")

from server.clock import ManualClock  # noqa: E402
from server.nc.libvirt_driver import LibvirtHypervisor  # noqa: E402
from server.nc.types import Resources  # noqa: E402


def test_measure_turns_counter_changes_into_a_sample(tmp_path: Path) -> None:
    """The first reading has nothing to compare with; the second is a full sample."""
    hv = LibvirtHypervisor("n1", ManualClock(), "test:///default", Resources(4, 4096, 100),
                           str(tmp_path))
    assert hv.measure("test") is None
    time.sleep(0.05)
    sample = hv.measure("test")
    assert sample is not None
    assert set(sample) >= {"CPUUtilization", "NetworkIn", "NetworkOut", "DiskReadBytes",
                           "DiskWriteOps", "StatusCheckFailed"}
    cpu, unit = sample["CPUUtilization"]
    assert unit == "Percent" and 0.0 <= cpu <= 100.0
    assert all(value >= 0 for value, _unit in sample.values())
    hv.pool.shutdown(wait=True)
