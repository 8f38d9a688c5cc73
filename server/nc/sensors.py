"""Instance sensors: what an NC reports about each running instance's use of CPU, network
and disk (Eucalyptus' DescribeSensors), as CloudWatch's AWS/EC2 metrics.

A driver that can measure (libvirt's domain statistics) reports measured values; the
virtual hypervisor reports a load model instead.  The model's load is set by
``euca:cpu-load`` (percent), ``euca:network-load`` and ``euca:disk-load`` (bytes per
second) lines in the instance's user data (``euca:cpu-load=85``), or by the same keys as
instance tags, which the CLC hands down through the CC (:meth:`set_load`), so tests and
the simulator can raise and lower an instance's load.
"""

from __future__ import annotations

import re

#: metric name -> (value, unit) over one sampling interval
Sample = dict[str, tuple[float, str]]
LOAD_KEYS = ("cpu-load", "network-load", "disk-load")
IDLE_CPU = 1.0
IDLE_NETWORK = 200.0
_USER_DATA = re.compile(rb"euca:(cpu-load|network-load|disk-load)\s*[=:]\s*([0-9.]+)")


def load_from_user_data(user_data: bytes) -> dict[str, float]:
    """The load lines of an instance's (decoded) user data."""
    out: dict[str, float] = {}
    for key, value in _USER_DATA.findall(user_data or b""):
        try:
            out[key.decode()] = float(value)
        except ValueError:
            continue
    return out


def load_from_tags(tags: dict[str, str]) -> dict[str, float]:
    """The load an instance's ``euca:*-load`` tags set."""
    out: dict[str, float] = {}
    for key in LOAD_KEYS:
        raw = tags.get(f"euca:{key}")
        if raw is None:
            continue
        try:
            out[key] = float(raw)
        except ValueError:
            continue
    return out


def modelled_sample(load: dict[str, float], seconds: float) -> Sample:
    """One sample of the load model over ``seconds``."""
    cpu = max(0.0, min(100.0, load.get("cpu-load", IDLE_CPU)))
    net = max(0.0, load.get("network-load", IDLE_NETWORK)) * seconds
    disk = max(0.0, load.get("disk-load", 0.0)) * seconds
    return {
        "CPUUtilization": (cpu, "Percent"),
        "NetworkIn": (net, "Bytes"), "NetworkOut": (net, "Bytes"),
        "NetworkPacketsIn": (float(round(net / 1000.0)), "Count"),
        "NetworkPacketsOut": (float(round(net / 1000.0)), "Count"),
        "DiskReadBytes": (disk, "Bytes"), "DiskWriteBytes": (disk, "Bytes"),
        "DiskReadOps": (float(round(disk / 4096.0)), "Count"),
        "DiskWriteOps": (float(round(disk / 4096.0)), "Count"),
        "StatusCheckFailed": (0.0, "Count"), "StatusCheckFailed_Instance": (0.0, "Count"),
        "StatusCheckFailed_System": (0.0, "Count"),
    }
