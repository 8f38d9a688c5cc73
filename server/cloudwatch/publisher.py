"""The cloud's own AWS/EC2 metrics: one sample per instance per minute of the cloud's clock.

Instances with detailed monitoring (MonitorInstances) publish each minute; the others every
five minutes, as one statistic set over the five minutes.  Each metric is published per
instance (InstanceId) and aggregated by InstanceType, ImageId and over all instances.

The samples come from the virtual hypervisor's load model: an instance's ``euca:cpu-load``
tag (percent; or a ``euca:cpu-load=NN`` line in its user data) sets its CPU, and
``euca:network-load`` / ``euca:disk-load`` (bytes per second) its traffic, so tests and
the simulator can raise and lower load.  Without them an instance idles near 1 % CPU.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import TYPE_CHECKING, Any

from server.cloudwatch.metrics import store_datums
from server.cloudwatch.store import Dims

if TYPE_CHECKING:
    from server.cloudwatch.service import CloudWatch

log = logging.getLogger(__name__)

NAMESPACE = "AWS/EC2"
SAMPLE_EVERY = 60.0
BASIC_PERIOD = 300
IDLE_CPU = 1.0
_USER_DATA = re.compile(r"euca:(cpu-load|network-load|disk-load)\s*[=:]\s*([0-9.]+)")


def load_of(tags: dict[str, str], user_data_b64: str) -> dict[str, float]:
    """The modelled load of an instance: tags win over user data."""
    load: dict[str, float] = {}
    if user_data_b64:
        try:
            text = base64.b64decode(user_data_b64).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            text = ""
        for key, value in _USER_DATA.findall(text):
            load[key] = float(value)
    for key in ("cpu-load", "network-load", "disk-load"):
        raw = tags.get(f"euca:{key}")
        if raw is not None:
            try:
                load[key] = float(raw)
            except ValueError:
                continue
    return load


def sample(load: dict[str, float], seconds: float) -> dict[str, tuple[float, str]]:
    """One sensor sample over ``seconds``: metric name -> (value, unit)."""
    cpu = max(0.0, min(100.0, load.get("cpu-load", IDLE_CPU)))
    net = max(0.0, load.get("network-load", 200.0)) * seconds
    disk = max(0.0, load.get("disk-load", 0.0)) * seconds
    return {
        "CPUUtilization": (cpu, "Percent"),
        "NetworkIn": (net, "Bytes"), "NetworkOut": (net, "Bytes"),
        "NetworkPacketsIn": (round(net / 1000.0), "Count"),
        "NetworkPacketsOut": (round(net / 1000.0), "Count"),
        "DiskReadBytes": (disk, "Bytes"), "DiskWriteBytes": (disk, "Bytes"),
        "DiskReadOps": (round(disk / 4096.0), "Count"),
        "DiskWriteOps": (round(disk / 4096.0), "Count"),
        "StatusCheckFailed": (0.0, "Count"), "StatusCheckFailed_Instance": (0.0, "Count"),
        "StatusCheckFailed_System": (0.0, "Count"),
    }


class InstanceMetrics:
    """Samples running instances each minute and publishes AWS/EC2 metrics."""

    def __init__(self, watch: CloudWatch):
        self.watch = watch
        self.cloud = watch.cloud
        self._timer: Any = None
        #: basic monitoring: instance -> metric -> (count, sum, min, max, unit) of this period
        self._pending: dict[str, dict[str, list[Any]]] = {}

    def start(self) -> None:
        """Sample on the cloud's clock."""
        self._timer = self.cloud.clock.call_later(SAMPLE_EVERY, self._tick)

    def stop(self) -> None:
        """Stop sampling."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        try:
            self.publish(self.cloud.clock.now())
        except Exception:
            log.exception("publishing instance metrics failed")
        self._timer = self.cloud.clock.call_later(SAMPLE_EVERY, self._tick)

    def publish(self, now: float) -> None:
        """Take one sample of every running instance and publish what is due."""
        clc = self.cloud.clc
        by_account: dict[str, list[Any]] = {}
        aggregates: dict[tuple[str, str, Dims], list[Any]] = {}
        period_end = int(now // BASIC_PERIOD) * BASIC_PERIOD
        boundary = now - period_end < SAMPLE_EVERY
        for inst in list(clc.instances.values()):
            if inst.state != "running":
                self._pending.pop(inst.id, None)
                continue
            values = sample(load_of(clc.tags.get(inst.id, {}), inst.user_data), SAMPLE_EVERY)
            detailed = inst.monitoring == "enabled"
            pending = self._pending.setdefault(inst.id, {})
            for name, (x, unit) in values.items():
                acc = pending.setdefault(name, [0.0, 0.0, float("inf"), float("-inf"), unit])
                acc[0] += 1
                acc[1] += x
                acc[2] = min(acc[2], x)
                acc[3] = max(acc[3], x)
            if not (detailed or boundary):
                continue
            ts = now - SAMPLE_EVERY if detailed else period_end - BASIC_PERIOD
            own: Dims = (("InstanceId", inst.id),)
            groups: list[Dims] = [own, (("InstanceType", inst.vm_type),),
                                  (("ImageId", inst.image_id),), ()]
            datums = by_account.setdefault(inst.account_id, [])
            for name, (count, total, lo, hi, unit) in self._pending.pop(inst.id).items():
                datums.append((name, own, ts, unit, 60, [], (count, total, lo, hi)))
                for dims in groups[1:]:
                    agg = aggregates.setdefault((inst.account_id, name, dims),
                                                [0.0, 0.0, float("inf"), float("-inf"), ts])
                    agg[0] += count
                    agg[1] += total
                    agg[2] = min(agg[2], lo)
                    agg[3] = max(agg[3], hi)
                    agg.append(unit)
        for (account, name, dims), (count, total, lo, hi, ts, unit, *_rest) in aggregates.items():
            by_account.setdefault(account, []).append(
                (name, dims, ts, unit, 60, [], (count, total, lo, hi)))
        for account, datums in by_account.items():
            store_datums(self.watch, account, NAMESPACE, datums, now)
