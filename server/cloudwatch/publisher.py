"""The cloud's own AWS/EC2 and AWS/EBS metrics: one sample per instance per minute of the
cloud's clock.

Instances with detailed monitoring (MonitorInstances) publish each minute; the others every
five minutes, as one statistic set over the five minutes.  Each metric is published per
instance (InstanceId) and aggregated by InstanceType, ImageId, AutoScalingGroupName (of
the instances tagged ``aws:autoscaling:groupName``) and over all instances.

The samples are the NCs' sensor reports relayed by each CC (DescribeSensors): measured by
drivers that can, modelled by the virtual hypervisor, whose load model an instance's
``euca:*-load`` tags drive (handed down through the CC each minute) as well as its user
data (see :mod:`server.nc.sensors`).  An instance whose node reports nothing is sampled
from the same model here.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import TYPE_CHECKING, Any

from server.cloudwatch.metrics import store_datums
from server.cloudwatch.store import Dims
from server.nc.sensors import Sample, load_from_tags, load_from_user_data, modelled_sample

if TYPE_CHECKING:
    from server.cloudwatch.service import CloudWatch
    from server.sc.model import Volume

log = logging.getLogger(__name__)

NAMESPACE = "AWS/EC2"
#: The tag Auto Scaling puts on the instances it launches (its value: the group's name).
GROUP_TAG = "aws:autoscaling:groupName"
SAMPLE_EVERY = 60.0
BASIC_PERIOD = 300


def _user_data(b64: str) -> bytes:
    try:
        return base64.b64decode(b64) if b64 else b""
    except (binascii.Error, ValueError):
        return b""


class InstanceMetrics:
    """Samples running instances each minute and publishes AWS/EC2 metrics."""

    def __init__(self, watch: CloudWatch):
        self.watch = watch
        self.cloud = watch.cloud
        self._timer: Any = None
        #: basic monitoring: instance -> metric -> (count, sum, min, max, unit) of this period
        self._pending: dict[str, dict[str, list[Any]]] = {}
        #: instances whose tags drive their node's load model
        self._driven: set[str] = set()

    def sensors(self, running: list[Any]) -> dict[str, Sample]:
        """Hand tag-driven loads down to the nodes, then collect their sensor reports."""
        clc = self.cloud.clc
        for inst in running:
            load = load_from_tags(clc.tags.get(inst.id, {}))
            if load or inst.id in self._driven:
                cc = self.cloud.clusters.get(inst.zone)
                if cc is not None:
                    cc.set_instance_load(inst.id, load)
                if load:
                    self._driven.add(inst.id)
                else:
                    self._driven.discard(inst.id)
        samples: dict[str, Sample] = {}
        for cc in self.cloud.clusters.values():
            samples.update(cc.describe_sensors(SAMPLE_EVERY))
        return samples

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
        aggregates: dict[tuple[str, str, Dims, float], list[Any]] = {}
        period_end = int(now // BASIC_PERIOD) * BASIC_PERIOD
        boundary = now - period_end < SAMPLE_EVERY
        running = []
        for inst in list(clc.instances.values()):
            if inst.state == "running":
                running.append(inst)
            else:
                self._pending.pop(inst.id, None)
                self._driven.discard(inst.id)
        reported = self.sensors(running)
        samples: dict[str, Sample] = {}
        for inst in running:
            values = reported.get(inst.id)
            if values is None:
                load = load_from_user_data(_user_data(inst.user_data))
                values = modelled_sample(load | load_from_tags(clc.tags.get(inst.id, {})),
                                         SAMPLE_EVERY)
            samples[inst.id] = values
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
            # Members of an Auto Scaling group (its tag on them) also count for the group.
            asg = clc.tags.get(inst.id, {}).get(GROUP_TAG)
            if asg:
                groups.append((("AutoScalingGroupName", asg),))
            datums = by_account.setdefault(inst.account_id, [])
            for name, (count, total, lo, hi, unit) in self._pending.pop(inst.id).items():
                datums.append((name, own, ts, unit, 60, [], (count, total, lo, hi)))
                for dims in groups[1:]:
                    agg = aggregates.setdefault((inst.account_id, name, dims, ts),
                                                [0.0, 0.0, float("inf"), float("-inf"), unit])
                    agg[0] += count
                    agg[1] += total
                    agg[2] = min(agg[2], lo)
                    agg[3] = max(agg[3], hi)
        for (account, name, dims, ts), (count, total, lo, hi, unit) in aggregates.items():
            by_account.setdefault(account, []).append(
                (name, dims, ts, unit, 60, [], (count, total, lo, hi)))
        for account, datums in by_account.items():
            store_datums(self.watch, account, NAMESPACE, datums, now)
        self.publish_volumes(now, samples)

    def publish_volumes(self, now: float, samples: dict[str, Sample]) -> None:
        """AWS/EBS per attached volume, each minute: its instance's disk traffic shared
        among the instance's volumes, and idle time when there was none."""
        volumes = self.cloud.ebs.volumes
        if not volumes:
            return
        attached: dict[str, list[Volume]] = {}
        for vol in list(volumes.values()):
            if vol.instance_id in samples and vol.attach_state == "attached":
                attached.setdefault(vol.instance_id, []).append(vol)
        by_account: dict[str, list[Any]] = {}
        ts = now - SAMPLE_EVERY
        for iid, vols in attached.items():
            sample = samples[iid]
            share = 1.0 / len(vols)
            rb, wb = sample["DiskReadBytes"][0] * share, sample["DiskWriteBytes"][0] * share
            ro, wo = sample["DiskReadOps"][0] * share, sample["DiskWriteOps"][0] * share
            busy = ro + wo > 0
            for vol in vols:
                dims: Dims = (("VolumeId", vol.id),)
                for name, value, unit in (
                        ("VolumeReadBytes", rb, "Bytes"), ("VolumeWriteBytes", wb, "Bytes"),
                        ("VolumeReadOps", ro, "Count"), ("VolumeWriteOps", wo, "Count"),
                        ("VolumeIdleTime", 0.0 if busy else SAMPLE_EVERY, "Seconds"),
                        ("VolumeQueueLength", 0.0, "Count")):
                    by_account.setdefault(vol.account_id, []).append(
                        (name, dims, ts, unit, 60, [(value, 1.0)], None))
        for account, datums in by_account.items():
            store_datums(self.watch, account, "AWS/EBS", datums, now)
