"""Elasticity experiments: the cloud's own Auto Scaling and CloudWatch in virtual time.

An experiment with an ``[autoscaling]`` table declares Auto Scaling groups, their launch
configurations and scaling policies (simple, step, target tracking) over a request-load
trace.  The simulator builds a real :class:`server.cloud.Cloud` (SQLite in a temporary
directory, virtual nodes) whose clock is a :class:`~simulator.clock.SimpyClock`, creates
the groups, policies and alarms through the services' own handlers, and starts only the
components the experiment exercises: the CLC, the CCs and NCs, Auto Scaling
(``server/autoscaling``: its reconciliation loop, policies, cooldowns and warm-up) and
CloudWatch (``server/cloudwatch``: the instance-metrics publisher, alarm evaluation and
alarm actions).  Nothing of the scaling decision is implemented here.

What the simulator adds is what the real world would: the users' requests.  Every load
step, each group's request rate is spread evenly over its InService members (as a load
balancer would) and handed to their nodes as CPU load (``euca:cpu-load``, the virtual
hypervisor's load model), which the NCs report and CloudWatch publishes as
``AWS/EC2 CPUUtilization``.  The same step measures the metrics:

- ``instance_hours``: pending and running instances of the group, integrated;
- ``under_provisioned_s``: time the request rate exceeded what InService members serve
  (``capacity_per_instance`` requests/s each at 100 % CPU), and ``unserved_pct``, the
  share of requests above that capacity;
- ``scaling_actions``: changes of the group's desired capacity; ``launches`` and
  ``terminations``: instances started and ended by the group;
- ``energy_kwh``: the group's zone (each group has its own zone, so its nodes serve it
  alone): each node's power model at its CPU utilisation, ``off_watts`` while the CC has
  it powered down.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import simpy

from server import ids
from server.cloud import Cloud
from server.config import parse as parse_config
from server.nc.types import NodeStatus
from simulator.clock import SimpyClock
from simulator.experiment import Experiment
from simulator.power import PowerModel, power_model

#: Virtual time starts here (2026-01-05 00:00 UTC, a Monday): the server's records carry
#: real-looking dates and cron schedules fall on ordinary days.
EPOCH = dt.datetime(2026, 1, 5, tzinfo=dt.UTC).timestamp()
#: The CPU load of an instance serving no requests (the load model's idle value).
IDLE_CPU = 1.0
_POLICY_KEYS = ("PolicyType", "AdjustmentType", "ScalingAdjustment", "Cooldown",
                "MinAdjustmentMagnitude", "StepAdjustments", "MetricAggregationType",
                "EstimatedInstanceWarmup", "TargetTrackingConfiguration", "Enabled")
_ALARM_DEFAULTS = {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
                   "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1}


def _strings(value: Any) -> Any:
    """A TOML value as query parameters: numbers and booleans as their wire text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return {k: _strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v) for v in value]
    return str(value)


class LoadTrace:
    """Requests per second over time: points linearly interpolated, held past the ends."""

    def __init__(self, points: list[tuple[float, float]]):
        if not points:
            raise ValueError("a load trace needs at least one point")
        points = sorted(points)
        self.times = [t for t, _ in points]
        self.rates = [r for _, r in points]

    @classmethod
    def from_spec(cls, spec: Any, base_dir: str) -> LoadTrace:
        """``"file.csv"`` (``time_s,requests_per_second``) or ``[[t, rps], ...]``."""
        if isinstance(spec, str):
            path = spec if os.path.isabs(spec) else os.path.join(base_dir, spec)
            with open(path, newline="", encoding="utf-8") as f:
                rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
            if rows and not _is_number(rows[0][0]):
                rows = rows[1:]  # header
            return cls([(float(r[0]), float(r[1])) for r in rows])
        if isinstance(spec, list):
            return cls([(float(t), float(r)) for t, r in spec])
        raise ValueError("load: a CSV file name or a list of [time_s, requests_per_second]")

    def at(self, t: float) -> float:
        """The request rate at ``t`` seconds into the experiment."""
        i = bisect.bisect_right(self.times, t)
        if i == 0:
            return self.rates[0]
        if i == len(self.times):
            return self.rates[-1]
        t0, t1 = self.times[i - 1], self.times[i]
        r0, r1 = self.rates[i - 1], self.rates[i]
        return r0 + (r1 - r0) * (t - t0) / (t1 - t0)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class GroupTally:
    """What one group's load steps measured."""

    name: str
    zone: str
    load: LoadTrace
    capacity: float
    instance_s: float = 0.0
    under_s: float = 0.0
    requests: float = 0.0
    unserved: float = 0.0
    energy_j: float = 0.0
    desired_changes: int = 0
    launches: int = 0
    terminations: int = 0
    peak_instances: int = 0
    cpu_s: float = 0.0  # mean CPU of InService members x time (while any are)
    served_s: float = 0.0
    last_desired: int | None = None
    seen: set[str] = field(default_factory=set)


class ElasticityRun:
    """One elasticity experiment: build the cloud, drive the load, collect the metrics."""

    def __init__(self, exp: Experiment, progress: Callable[[float, float, int], None] | None
                 = None, seed: int | None = None):
        self.exp = exp
        self.seed = exp.seed if seed is None else seed
        self.progress = progress
        spec = dict(exp.raw.get("autoscaling") or {})
        self.spec = spec
        self.step = float(spec.get("load_step", 10.0))
        if self.step <= 0:
            raise ValueError("autoscaling.load_step must be positive")
        #: Seconds the cloud runs at the trace's first rate before measuring starts, so
        #: the groups begin in service rather than booting.
        self.warmup = float(spec.get("warmup", 600.0))
        if len(exp.groups) != 1:
            raise ValueError("an elasticity experiment takes one node type ([cluster] node)")
        self.node_group = exp.groups[0]
        self.power: PowerModel = power_model(self.node_group.power)
        groups = list(spec.get("groups") or [])
        if not groups:
            raise ValueError("[autoscaling] declares no groups ([[autoscaling.groups]])")
        self.group_specs = groups
        self.series: list[dict[str, Any]] = []
        self.tallies: dict[str, GroupTally] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    # -- the cloud ------------------------------------------------------------------------
    def _config(self, data_dir: str) -> Any:
        cl = self.exp.cluster
        res = self.node_group.resources
        zones: list[dict[str, Any]] = []
        for g in self.group_specs:
            zone = {"name": f"zone-{g['name']}", "scheduler": self.exp.policy,
                    "nodes": self.node_group.count, "node_cores": res.cores,
                    "node_memory_mb": res.memory_mb, "node_disk_gb": res.disk_gb,
                    "private_subnet": f"10.{len(zones) + 1}.0.0/16"}
            for key in ("boot_seconds", "staging_seconds", "teardown_seconds",
                        "power_idle_seconds", "power_wake_seconds", "poll_interval"):
                if key in cl:
                    zone[key] = float(cl[key])
            zones.append(zone)
        doc = {"cloud": {"data_dir": data_dir, "https_listen": "", "log_level": "warning",
                         "terminated_retention_seconds": 600.0}, "zones": zones}
        return parse_config(doc)

    def _call(self, handler: Callable[[Any], Any], action: str, params: dict[str, Any]) -> Any:
        """Call a service's own handler as the cloud administrator's account admin."""
        from server.auth.identity import ADMIN_ACCOUNT
        from server.ids import request_id
        from server.protocol.params import Params
        from server.protocol.query import Context

        identity = self.cloud.identity
        principal = identity.admin_principal(identity.account(ADMIN_ACCOUNT))
        ctx = Context(self.cloud, principal, Params(_strings(params)), action, request_id(),
                      "127.0.0.1", principal)
        result = handler(ctx)
        self.cloud.store.flush()
        return result

    def _declare(self) -> None:
        """Launch configurations, groups, policies and alarms through the API handlers."""
        from server.autoscaling import groups, launchconfigs, policies
        from server.cloudwatch import alarms

        clc = self.cloud.clc
        image = next(i.id for i in sorted(clc.images.values(), key=lambda i: i.id)
                     if i.id.startswith("emi-"))
        default_type = str(self.spec.get("instance_type", "m1.small"))
        default_load = self.spec.get("load")
        default_capacity = float(self.spec.get("capacity_per_instance", 100.0))
        for g in self.group_specs:
            name = str(g["name"])
            zone = f"zone-{name}"
            lc = {"LaunchConfigurationName": f"{name}-lc", "ImageId": image,
                  "InstanceType": str(g.get("instance_type", default_type)),
                  "InstanceMonitoring": {"Enabled": True}}
            self._call(launchconfigs.create_launch_configuration,
                       "CreateLaunchConfiguration", lc)
            group = {"AutoScalingGroupName": name, "LaunchConfigurationName": f"{name}-lc",
                     "AvailabilityZones": [zone]}
            for key in ("MinSize", "MaxSize", "DesiredCapacity", "DefaultCooldown",
                        "HealthCheckGracePeriod", "TerminationPolicies"):
                if key in g:
                    group[key] = g[key]
            self._call(groups.create_auto_scaling_group, "CreateAutoScalingGroup", group)
            load = g.get("load", default_load)
            if load is None:
                raise ValueError(f"group {name}: no load (autoscaling.load or the group's)")
            self.tallies[name] = GroupTally(
                name, zone, LoadTrace.from_spec(load, self.exp.base_dir),
                float(g.get("capacity_per_instance", default_capacity)))
            for pol in g.get("policies") or []:
                params = {"AutoScalingGroupName": name, "PolicyName": pol["PolicyName"]}
                params.update({k: v for k, v in pol.items() if k in _POLICY_KEYS})
                unknown = set(pol) - set(_POLICY_KEYS) - {"PolicyName", "alarm"}
                if unknown:
                    raise ValueError(f"policy {pol['PolicyName']}: unknown keys "
                                     f"{', '.join(sorted(unknown))}")
                arn = self._call(policies.put_scaling_policy, "PutScalingPolicy",
                                 params)["PolicyARN"]
                alarm = pol.get("alarm")
                if alarm is None:
                    continue
                doc = dict(_ALARM_DEFAULTS)
                doc.update(alarm)
                doc.setdefault("AlarmName", f"{name}-{pol['PolicyName']}")
                doc.setdefault("Dimensions", [{"Name": "AutoScalingGroupName", "Value": name}])
                doc["AlarmActions"] = [arn]
                self._call(alarms.put_metric_alarm, "PutMetricAlarm", doc)

    # -- the run --------------------------------------------------------------------------
    def run(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Simulate; return the metrics and the time series."""
        # The server names instances, images and accounts; names break ties (Auto Scaling
        # terminates the lowest instance ID among equals), so which instance goes, and
        # with it which node empties and powers down, follows the names: seeded, the same
        # file and seed give the same results.
        with tempfile.TemporaryDirectory(prefix="euca-sim-") as data_dir, ids.seeded(self.seed):
            return self._run(data_dir)

    def _run(self, data_dir: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        clock = SimpyClock(simpy.Environment(initial_time=EPOCH))
        self.start = EPOCH + self.warmup
        self.clock = clock
        # The whole cloud (CLC, CCs and NCs, identity, Auto Scaling, CloudWatch) on the
        # simulation's clock.
        self.cloud = cloud = Cloud(self._config(data_dir), clock=clock)
        try:
            cloud.build_clusters()
            cloud.clc.start()
            scaling = cloud.components["autoscaling"]
            watch = cloud.components["cloudwatch"]
            self.scaling = scaling
            self.watch = watch
            self._declare()
            cloud.clc.instance_listeners.append(self._on_instance)
            scaling.start()
            watch.start()
            duration = self.exp.duration
            clock.call_later(0.0, self._tick)
            clock.run(until=self.start)
            for tally in self.tallies.values():
                tally.launches = tally.terminations = 0
            chunk = max(self.step, duration / 200.0)
            t = 0.0
            while t < duration:
                t = min(duration, t + chunk)
                clock.run(until=self.start + t)
                if self.progress:  # the events counted: the groups' launches and terminations
                    self.progress(t, duration, sum(g.launches + g.terminations
                                                   for g in self.tallies.values()))
            watch.stop()
            cloud.store.flush()
            return self._metrics(), self.series
        finally:
            cloud.engine.dispose()

    def _on_instance(self, inst: Any, previous: str) -> None:
        """Count the group's launches and terminations as the CLC sees them."""
        from server.autoscaling.model import GROUP_TAG

        name = self.cloud.clc.tags.get(inst.id, {}).get(GROUP_TAG)
        tally = self.tallies.get(name or "")
        if tally is None:
            return
        if inst.id not in tally.seen:
            tally.seen.add(inst.id)
            tally.launches += 1
        if inst.state in ("shutting-down", "terminated") and \
                previous not in ("shutting-down", "terminated"):
            tally.terminations += 1

    def _tick(self) -> None:
        """One load step: spread each group's requests, then measure the step just begun."""
        now = self.clock.now() - self.start
        measuring = now >= 0.0
        clc = self.cloud.clc
        row: dict[str, Any] = {"time_s": round(now, 3)}
        for tally in self.tallies.values():
            group = self.scaling.groups[f"{self._account}/{tally.name}"]
            cc = self.cloud.clusters[tally.zone]
            serving = sorted(m["id"] for m in group.members.values()
                             if m["lifecycle"] == "InService"
                             and getattr(clc.instances.get(m["id"]), "state", "") == "running")
            rate = tally.load.at(now)
            capacity = tally.capacity * len(serving)
            cpu = min(100.0, 100.0 * rate / capacity) if capacity > 0 else 0.0
            for iid in serving:
                cc.set_instance_load(iid, {"cpu-load": max(cpu, IDLE_CPU)})
            live = sum(1 for m in group.members.values()
                       if getattr(clc.instances.get(m["id"]), "state", "") in
                       ("pending", "running"))
            if not measuring:
                tally.last_desired = group.desired
                continue
            watts = self._zone_watts(cc)
            dt_s = self.step
            tally.instance_s += live * dt_s
            tally.requests += rate * dt_s
            short = max(0.0, rate - capacity)
            tally.unserved += short * dt_s
            if short > 1e-9:
                tally.under_s += dt_s
            if serving:
                tally.cpu_s += cpu * dt_s
                tally.served_s += dt_s
            tally.energy_j += watts * dt_s
            tally.peak_instances = max(tally.peak_instances, live)
            if tally.last_desired is not None and group.desired != tally.last_desired:
                tally.desired_changes += 1
            tally.last_desired = group.desired
            prefix = tally.name
            row.update({f"{prefix}_load_rps": round(rate, 3),
                        f"{prefix}_capacity_rps": round(capacity, 3),
                        f"{prefix}_desired": group.desired,
                        f"{prefix}_in_service": len(serving),
                        f"{prefix}_instances": live,
                        f"{prefix}_cpu_pct": round(cpu, 3),
                        f"{prefix}_power_w": round(watts, 3)})
        if measuring and (now % float(self.exp.sample_interval) < self.step / 2
                          or not self.series):
            self.series.append(row)
        if now + self.step < self.exp.duration:
            self.clock.call_later(self.step, self._tick)

    @property
    def _account(self) -> str:
        from server.auth.identity import ADMIN_ACCOUNT

        return str(self.cloud.identity.account(ADMIN_ACCOUNT).id)

    def _zone_watts(self, cc: Any) -> float:
        """The zone's draw now: each node's model at its CPU use, off_watts when asleep."""
        total = 0.0
        for view in cc.nodes:
            if view.status is NodeStatus.ASLEEP:
                total += self.node_group.off_watts
                continue
            hv = view.nc.driver
            busy = 0.0
            for iid, vm in hv.vms.items():
                if vm.running:
                    load = hv.loads.get(iid, {}).get("cpu-load", IDLE_CPU)
                    busy += vm.spec.resources.cores * load / 100.0
            cores = view.total.cores or 1
            total += self.power.watts(min(1.0, busy / cores))
        return total

    def _metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {"experiment": self.exp.name, "duration_s": self.exp.duration,
                               "policy": self.exp.policy, "nodes": self.node_group.count,
                               "seed": self.seed, "groups": {}}
        energy = 0.0
        for tally in self.tallies.values():
            group = self.scaling.groups[f"{self._account}/{tally.name}"]
            kinds = sorted({p.policy_type for p in self.scaling.policies.values()
                            if p.group == tally.name})
            history = [h for h in self.watch.alarms.history(self._account)
                       if h["AlarmName"].startswith(f"{tally.name}-")
                       or h["AlarmName"].startswith(f"TargetTracking-{tally.name}-")]
            energy += tally.energy_j
            out["groups"][tally.name] = {
                "policy_types": kinds,
                "instance_hours": round(tally.instance_s / 3600.0, 4),
                "under_provisioned_s": round(tally.under_s, 3),
                "under_provisioned_pct": round(100.0 * tally.under_s / self.exp.duration, 3),
                "unserved_pct": round(100.0 * tally.unserved / tally.requests, 3)
                if tally.requests else 0.0,
                "scaling_actions": tally.desired_changes,
                "launches": tally.launches,
                "terminations": tally.terminations,
                "peak_instances": tally.peak_instances,
                "final_desired": group.desired,
                "mean_cpu_pct": round(tally.cpu_s / tally.served_s, 3)
                if tally.served_s else 0.0,
                "alarm_transitions": sum(1 for h in history
                                         if h["HistoryItemType"] == "StateUpdate"),
                "energy_kwh": round(tally.energy_j / 3.6e6, 4),
            }
        out["energy_kwh"] = round(energy / 3.6e6, 4)
        return out
