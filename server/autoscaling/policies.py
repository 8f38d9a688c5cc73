"""Scaling policies (simple, step, target tracking), their execution, and scheduled
actions run on the cloud's clock."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import TYPE_CHECKING, Any

from server import errors
from server.autoscaling import cron
from server.autoscaling.common import (
    ScalingActivityInProgress,
    bool_param,
    find_group,
    int_param,
    name_param,
    page,
    service,
)
from server.autoscaling.model import Group, Policy, ScheduledAction
from server.protocol.query import Context
from server.protocol.xml import iso8601

if TYPE_CHECKING:
    from server.autoscaling.controller import AutoScaling

POLICY_TYPES = ("SimpleScaling", "StepScaling", "TargetTrackingScaling")
ADJUSTMENT_TYPES = ("ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity")
PREDEFINED_METRICS = ("ASGAverageCPUUtilization", "ASGAverageNetworkIn",
                      "ASGAverageNetworkOut", "ALBRequestCountPerTarget")


def _find_policy(ctx: Context, group_name: str | None, name: str) -> Policy:
    svc = service(ctx)
    if name.startswith("arn:"):
        pol = next((p for p in svc.policies.values() if p.arn == name
                    and p.account_id == ctx.account_id), None)
    else:
        if not group_name:
            raise errors.ValidationError("AutoScalingGroupName is required with a policy name")
        group = find_group(ctx, group_name)
        pol = svc.policies.get(f"{ctx.account_id}/{group.name}/{name}")
    if pol is None:
        raise errors.ValidationError(f"Policy {name} not found")
    return pol


def _steps(ctx: Context) -> list[dict[str, Any]]:
    out = []
    for step in ctx.params.structs("StepAdjustments"):
        adj = step.get("ScalingAdjustment")
        if adj is None:
            raise errors.ValidationError("Each step adjustment needs a ScalingAdjustment")
        low = step.get("MetricIntervalLowerBound")
        high = step.get("MetricIntervalUpperBound")
        try:
            out.append({"ScalingAdjustment": int(adj),
                        "MetricIntervalLowerBound": float(low) if low not in (None, "") else None,
                        "MetricIntervalUpperBound": float(high) if high not in (None, "")
                        else None})
        except ValueError:
            raise errors.ValidationError("Invalid step adjustment") from None
    if not out:
        raise errors.ValidationError("StepAdjustments are required for a StepScaling policy")
    return out


def _target_tracking(ctx: Context) -> dict[str, Any]:
    conf = ctx.params.struct("TargetTrackingConfiguration")
    target = conf.get("TargetValue")
    if target is None:
        raise errors.ValidationError("TargetTrackingConfiguration.TargetValue is required")
    try:
        value = float(target)
    except ValueError:
        raise errors.ValidationError(f"Invalid TargetValue {target}") from None
    predefined = conf.struct("PredefinedMetricSpecification")
    custom = conf.struct("CustomizedMetricSpecification")
    if bool(predefined) == bool(custom):
        raise errors.ValidationError("Give exactly one of PredefinedMetricSpecification and "
                                     "CustomizedMetricSpecification")
    out: dict[str, Any] = {"TargetValue": value,
                           "DisableScaleIn": str(conf.get("DisableScaleIn", "")).lower() == "true"}
    if predefined:
        kind = predefined.get("PredefinedMetricType")
        if kind not in PREDEFINED_METRICS:
            raise errors.ValidationError(f"Invalid PredefinedMetricType {kind}")
        out["PredefinedMetricSpecification"] = {"PredefinedMetricType": kind,
                                                "ResourceLabel": predefined.get("ResourceLabel")}
    else:
        for key in ("MetricName", "Namespace", "Statistic"):
            if not custom.get(key):
                raise errors.ValidationError(f"CustomizedMetricSpecification.{key} is required")
        out["CustomizedMetricSpecification"] = {
            "MetricName": custom.get("MetricName"), "Namespace": custom.get("Namespace"),
            "Statistic": custom.get("Statistic"), "Unit": custom.get("Unit"),
            "Dimensions": [{"Name": d.get("Name"), "Value": d.get("Value")}
                           for d in custom.structs("Dimensions")]}
    return out


def put_scaling_policy(ctx: Context) -> Any:
    """PutScalingPolicy: create or replace a policy; target tracking gets its alarms."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    name = name_param(ctx, "PolicyName")
    kind = ctx.params.get("PolicyType") or "SimpleScaling"
    if kind not in POLICY_TYPES:
        raise errors.ValidationError(f"Invalid PolicyType {kind}")
    key = f"{ctx.account_id}/{group.name}/{name}"
    previous = svc.policies.get(key)
    region = ctx.cloud.config.cloud["region"]
    pol = Policy(
        id=key, account_id=ctx.account_id, name=name, group=group.name,
        arn=previous.arn if previous else
        (f"arn:aws:autoscaling:{region}:{ctx.account_id}:scalingPolicy:{uuid.uuid4()}:"
         f"autoScalingGroupName/{group.name}:policyName/{name}"),
        policy_type=kind, enabled=bool(bool_param(ctx, "Enabled", True)))
    if kind in ("SimpleScaling", "StepScaling"):
        adjustment = ctx.params.get("AdjustmentType")
        if adjustment not in ADJUSTMENT_TYPES:
            raise errors.ValidationError(f"Invalid AdjustmentType {adjustment}: one of "
                                         f"{', '.join(ADJUSTMENT_TYPES)}")
        pol.adjustment_type = adjustment
        magnitude = int_param(ctx, "MinAdjustmentMagnitude", None, minimum=1)
        if magnitude is None:
            magnitude = int_param(ctx, "MinAdjustmentStep", None, minimum=1)
        if magnitude is not None and adjustment != "PercentChangeInCapacity":
            raise errors.ValidationError("MinAdjustmentMagnitude is only valid with "
                                         "PercentChangeInCapacity")
        pol.min_adjustment_magnitude = magnitude
    if kind == "SimpleScaling":
        pol.scaling_adjustment = int_param(ctx, "ScalingAdjustment", None, minimum=None)
        if pol.scaling_adjustment is None:
            raise errors.ValidationError("ScalingAdjustment is required for a SimpleScaling "
                                         "policy")
        if pol.adjustment_type == "ExactCapacity" and pol.scaling_adjustment < 0:
            raise errors.ValidationError("ExactCapacity adjustments must not be negative")
        pol.cooldown = int_param(ctx, "Cooldown", None)
    elif kind == "StepScaling":
        pol.steps = _steps(ctx)
        pol.metric_aggregation = ctx.params.get("MetricAggregationType") or "Average"
        pol.warmup = int_param(ctx, "EstimatedInstanceWarmup", None)
    else:
        pol.target_tracking = _target_tracking(ctx)
        pol.warmup = int_param(ctx, "EstimatedInstanceWarmup", None)
    if previous is not None and previous.policy_type == "TargetTrackingScaling" and \
            kind != "TargetTrackingScaling":
        svc.alarms.delete_alarms(previous)
    if kind == "TargetTrackingScaling":
        pol.alarms = svc.alarms.put_alarms(pol)
    svc.policies[key] = pol
    svc.save(pol)
    return {"PolicyARN": pol.arn, "Alarms": pol.alarms}


#: Predefined metrics of target tracking: (namespace, metric name, statistic).
PREDEFINED = {"ASGAverageCPUUtilization": ("AWS/EC2", "CPUUtilization", "Average"),
              "ASGAverageNetworkIn": ("AWS/EC2", "NetworkIn", "Average"),
              "ASGAverageNetworkOut": ("AWS/EC2", "NetworkOut", "Average"),
              "ALBRequestCountPerTarget": ("AWS/ApplicationELB", "RequestCountPerTarget",
                                           "Sum")}


def alarm_specs(pol: Policy) -> list[dict[str, Any]]:
    """The two alarms a target-tracking policy owns, as PutMetricAlarm parameters (what an
    :class:`~server.autoscaling.controller.AlarmPort` creates): scale out after 3 minutes
    above the target, scale in after 15 minutes below 90 % of it (unless DisableScaleIn)."""
    conf = pol.target_tracking or {}
    target = float(conf.get("TargetValue", 0.0))
    predefined = conf.get("PredefinedMetricSpecification")
    if predefined:
        namespace, metric, statistic = PREDEFINED[predefined["PredefinedMetricType"]]
        dimensions = [{"Name": "AutoScalingGroupName", "Value": pol.group}]
    else:
        custom = conf.get("CustomizedMetricSpecification") or {}
        namespace, metric = str(custom.get("Namespace")), str(custom.get("MetricName"))
        statistic = custom.get("Statistic") or "Average"
        dimensions = list(custom.get("Dimensions") or [])
    base = {"Namespace": namespace, "MetricName": metric, "Statistic": statistic,
            "Dimensions": dimensions, "Period": 60, "AlarmActions": [pol.arn]}
    prefix = f"TargetTracking-{pol.group}"
    specs = [dict(base, AlarmName=f"{prefix}-AlarmHigh-{pol.id.rsplit('/', 1)[-1]}",
                  ComparisonOperator="GreaterThanThreshold", Threshold=target,
                  EvaluationPeriods=3)]
    if not conf.get("DisableScaleIn"):
        specs.append(dict(base, AlarmName=f"{prefix}-AlarmLow-{pol.id.rsplit('/', 1)[-1]}",
                          ComparisonOperator="LessThanThreshold", Threshold=target * 0.9,
                          EvaluationPeriods=15))
    return specs


def target_tracking_capacity(group: Group, pol: Policy, metric_value: float,
                             current: int | None = None) -> int:
    """The capacity that brings the tracked metric to its target, as AWS scales: out in
    proportion to the metric (ceil(current * value / target)), in conservatively.

    Scaling in removes capacity only as far as the metric, spread over the instances that
    remain, stays at or under the target: ceil, not floor, of the proportional capacity.
    (AWS: target tracking scales out as fast as it can but in gradually, and does not
    remove capacity that would put the metric back above the target.)  Rounding down
    would flap: two instances at 30 % of a 50 % target give 1.2, one instance would run
    at 60 %, and the next scale-out would bring the second back.

    ``current`` is the capacity the metric describes (the desired capacity unless
    instances still warming up are left out): scaling out never goes below the desired
    capacity, so the launches under way are not asked for twice."""
    conf = pol.target_tracking or {}
    target = float(conf.get("TargetValue") or 0.0)
    base = max(group.desired if current is None else current, 1)
    if target <= 0:
        return group.desired
    wanted = base * metric_value / target
    if metric_value > target:
        new = max(math.ceil(wanted), group.desired)
    else:
        # The fewest instances that keep the metric at or under the target (a hair of
        # tolerance: 3 x 33.33 % / 50 % is 2, not 2.0000000001).
        new = math.ceil(wanted - 1e-9)
        if current is not None and current < group.desired:
            new = group.desired  # no scale-in while a scale-out is warming up
    if conf.get("DisableScaleIn") and new < group.desired:
        new = group.desired
    return max(group.min_size, min(group.max_size, new))


def warmed_up(group: Group, pol: Policy, now: float) -> int:
    """The members whose metrics count for target tracking: in service and past the
    policy's instance warm-up (EstimatedInstanceWarmup, else the group's cooldown)."""
    warmup = pol.warmup if pol.warmup is not None else group.default_cooldown
    return sum(1 for m in group.members.values()
               if m["lifecycle"] == "InService" and m["launched"] + warmup <= now)


def _adjusted(group: Group, pol: Policy, adjustment: int, current: int | None = None) -> int:
    """The new desired capacity a policy's adjustment asks for, within the group's bounds
    (``current``: the capacity it applies to, the desired capacity unless given)."""
    current = group.desired if current is None else current
    if pol.adjustment_type == "ExactCapacity":
        wanted = adjustment
    elif pol.adjustment_type == "PercentChangeInCapacity":
        change = current * adjustment / 100.0
        # AWS: (0, 1) -> 1, (-1, 0) -> -1, otherwise towards zero.
        if 0 < change < 1:
            step = 1
        elif -1 < change < 0:
            step = -1
        else:
            step = math.trunc(change)
        if pol.min_adjustment_magnitude and 0 < abs(step) < pol.min_adjustment_magnitude:
            step = pol.min_adjustment_magnitude * (1 if step > 0 else -1)
        wanted = current + step
    else:
        wanted = current + adjustment
    return max(group.min_size, min(group.max_size, wanted))


def execute(svc: AutoScaling, pol: Policy, *, honor_cooldown: bool, cause: str,
            metric_value: float | None = None, breach_threshold: float | None = None) -> None:
    """Run a policy: change the group's desired capacity, start its cooldown."""
    group = svc.groups.get(f"{pol.account_id}/{pol.group}")
    if group is None:
        raise errors.ValidationError(f"AutoScalingGroup name not found - {pol.group}")
    if pol.policy_type == "TargetTrackingScaling" and (cause == "user" or metric_value is None):
        raise errors.ValidationError("ExecutePolicy is not supported for a target tracking "
                                     "scaling policy.")
    if not pol.enabled:
        raise errors.ValidationError(f"Policy {pol.name} is disabled")
    if cause != "user" and "AlarmNotification" in group.suspended:
        return
    # Target tracking scales proportionally; instance warm-up, not cooldown, paces it.
    if pol.policy_type == "TargetTrackingScaling":
        assert metric_value is not None
        desired = target_tracking_capacity(group, pol, metric_value,
                                           warmed_up(group, pol, svc.clock.now()))
        if desired != group.desired:
            svc.set_desired(group, desired, f"{cause} triggered policy {pol.name} (metric "
                            f"value {metric_value:g}, target "
                            f"{(pol.target_tracking or {}).get('TargetValue')})")
        return
    now = svc.clock.now()
    if honor_cooldown and group.cooldown_until > now:
        raise ScalingActivityInProgress(
            f"Scaling activity cannot be performed because the group {group.name} is in its "
            f"cooldown period ({group.cooldown_until - now:.0f} seconds left).")
    if pol.policy_type == "StepScaling":
        if metric_value is None or breach_threshold is None:
            raise errors.ValidationError("MetricValue and BreachThreshold are required to "
                                         "execute a step scaling policy")
        diff = metric_value - breach_threshold
        step = next((s for s in pol.steps
                     if (s["MetricIntervalLowerBound"] is None
                         or diff >= s["MetricIntervalLowerBound"])
                     and (s["MetricIntervalUpperBound"] is None
                          or diff < s["MetricIntervalUpperBound"])), None)
        if step is None:
            raise errors.ValidationError(f"No step adjustment covers the metric value "
                                         f"{metric_value} (breach threshold {breach_threshold})")
        adjustment = int(step["ScalingAdjustment"])
    else:
        adjustment = int(pol.scaling_adjustment or 0)
    desired = _adjusted(group, pol, adjustment)
    if pol.policy_type == "StepScaling" and cause != "user" and adjustment > 0 and \
            pol.adjustment_type != "ExactCapacity":
        # An alarm repeating its breach while the policy's last scale-out warms up: the
        # step applies to the capacity before it, so the same step adds nothing again and
        # a larger one only the difference (as AWS does).
        if now < pol.warming_until and pol.warming_from is not None:
            desired = max(group.desired, _adjusted(group, pol, adjustment, pol.warming_from))
        else:
            pol.warming_from = group.desired
        if desired > group.desired:
            warmup = pol.warmup if pol.warmup is not None else group.default_cooldown
            pol.warming_until = now + warmup
            svc.save(pol)
    cooldown = pol.cooldown if pol.cooldown is not None else group.default_cooldown
    if pol.policy_type == "SimpleScaling":
        group.cooldown_until = now + cooldown
    if desired == group.desired:
        svc.save(group)
        return
    who = "a user request executed" if cause == "user" else f"{cause} triggered"
    svc.set_desired(group, desired, f"{who} policy {pol.name}")


def execute_policy(ctx: Context) -> Any:
    """ExecutePolicy (HonorCooldown defaults to false for a user's request)."""
    pol = _find_policy(ctx, ctx.params.get("AutoScalingGroupName"),
                       name_param(ctx, "PolicyName"))

    def number(param: str) -> float | None:
        value = ctx.params.get(param)
        if value in (None, ""):
            return None
        try:
            return float(value)
        except ValueError:
            raise errors.ValidationError(f"Invalid {param} {value}") from None

    execute(service(ctx), pol, honor_cooldown=bool(bool_param(ctx, "HonorCooldown", False)),
            cause="user", metric_value=number("MetricValue"),
            breach_threshold=number("BreachThreshold"))
    return None


def policy_xml(pol: Policy) -> dict[str, Any]:
    """One ScalingPolicies member."""
    return {"AutoScalingGroupName": pol.group, "PolicyName": pol.name, "PolicyARN": pol.arn,
            "PolicyType": pol.policy_type,
            "AdjustmentType": pol.adjustment_type if pol.policy_type != "TargetTrackingScaling"
            else None,
            "MinAdjustmentStep": pol.min_adjustment_magnitude,
            "MinAdjustmentMagnitude": pol.min_adjustment_magnitude,
            "ScalingAdjustment": pol.scaling_adjustment, "Cooldown": pol.cooldown,
            "StepAdjustments": [{k: v for k, v in s.items() if v is not None}
                                for s in pol.steps],
            "MetricAggregationType": pol.metric_aggregation
            if pol.policy_type == "StepScaling" else None,
            "EstimatedInstanceWarmup": pol.warmup,
            "Alarms": pol.alarms,
            "TargetTrackingConfiguration": _tt_xml(pol.target_tracking),
            "Enabled": pol.enabled}


def _tt_xml(conf: dict[str, Any] | None) -> dict[str, Any] | None:
    if conf is None:
        return None
    out = dict(conf)
    if out.get("PredefinedMetricSpecification"):
        out["PredefinedMetricSpecification"] = {
            k: v for k, v in out["PredefinedMetricSpecification"].items() if v is not None}
    return out


def describe_policies(ctx: Context) -> Any:
    """DescribePolicies: of a group or all the caller's, by name and type."""
    svc = service(ctx)
    group_name = ctx.params.get("AutoScalingGroupName")
    if group_name:
        find_group(ctx, group_name)
    names = ctx.params.strings("PolicyNames")
    types = ctx.params.strings("PolicyTypes")
    rows = sorted((p for p in svc.policies.values() if p.account_id == ctx.account_id
                   and (not group_name or p.group == group_name)
                   and (not names or p.name in names or p.arn in names)
                   and (not types or p.policy_type in types)),
                  key=lambda p: (p.group, p.name))
    chunk, token = page(ctx, rows)
    return {"ScalingPolicies": [policy_xml(p) for p in chunk], "NextToken": token}


def delete_policy(ctx: Context) -> Any:
    """DeletePolicy (and the alarms a target-tracking policy owns)."""
    svc = service(ctx)
    pol = _find_policy(ctx, ctx.params.get("AutoScalingGroupName"),
                       name_param(ctx, "PolicyName"))
    svc.alarms.delete_alarms(pol)
    del svc.policies[pol.id]
    svc.forget(pol)
    return None


# -- scheduled actions -------------------------------------------------------------------
def _time(ctx: Context, param: str) -> float | None:
    value = ctx.params.get(param)
    if value in (None, ""):
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise errors.ValidationError(f"Invalid {param} {value}: an ISO 8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def put_scheduled_update_group_action(ctx: Context) -> Any:
    """PutScheduledUpdateGroupAction: one-time (StartTime) or recurrent (cron, TimeZone)."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    name = name_param(ctx, "ScheduledActionName")
    start = _time(ctx, "StartTime")
    if start is None:
        start = _time(ctx, "Time")
    end = _time(ctx, "EndTime")
    recurrence = ctx.params.get("Recurrence") or ""
    tz_name = ctx.params.get("TimeZone") or ""
    min_size = int_param(ctx, "MinSize")
    max_size = int_param(ctx, "MaxSize")
    desired = int_param(ctx, "DesiredCapacity")
    if min_size is None and max_size is None and desired is None:
        raise errors.ValidationError("At least one of MinSize, MaxSize and DesiredCapacity "
                                     "must be given")
    now = ctx.cloud.clock.now()
    if start is None and not recurrence:
        raise errors.ValidationError("Give a StartTime, a Recurrence, or both")
    if start is not None and end is not None and end <= start:
        raise errors.ValidationError("EndTime must be after StartTime")
    if start is not None and not recurrence and start < now:
        raise errors.ValidationError(f"Given start time {iso8601(start)} is in the past")
    try:
        cron.zone(tz_name)
        if recurrence:
            cron.parse(recurrence)
    except cron.CronError as exc:
        raise errors.ValidationError(str(exc)) from None
    key = f"{ctx.account_id}/{group.name}/{name}"
    previous = svc.scheduled.get(key)
    region = ctx.cloud.config.cloud["region"]
    sa = ScheduledAction(
        id=key, account_id=ctx.account_id, name=name, group=group.name,
        arn=previous.arn if previous else
        (f"arn:aws:autoscaling:{region}:{ctx.account_id}:scheduledUpdateGroupAction:"
         f"{uuid.uuid4()}:autoScalingGroupName/{group.name}:scheduledActionName/{name}"),
        start=start, end=end, recurrence=recurrence, time_zone=tz_name, min_size=min_size,
        max_size=max_size, desired=desired)
    sa.next_run = _next_run(sa, now)
    svc.scheduled[key] = sa
    svc.save(sa)
    arm(svc, sa)
    return None


def _next_run(sa: ScheduledAction, now: float) -> float | None:
    if not sa.recurrence:
        return sa.start
    after = max(now, (sa.start or now) - 60.0)
    when = cron.next_time(sa.recurrence, after, sa.time_zone)
    if sa.end is not None and when > sa.end:
        return None
    return when


def arm(svc: AutoScaling, sa: ScheduledAction) -> None:
    """Call :func:`run_scheduled` at the action's next time (if it has one)."""
    if not svc._started or sa.next_run is None:
        return
    expected = (sa.id, sa.next_run)
    svc.clock.call_later(max(0.0, sa.next_run - svc.clock.now()),
                         lambda: run_scheduled(svc, expected))


def run_scheduled(svc: AutoScaling, expected: tuple[str, float | None]) -> None:
    """Apply a scheduled action (if it still is what was armed), then re-arm or drop it."""
    sa = svc.scheduled.get(expected[0])
    if sa is None or sa.next_run != expected[1]:
        return  # deleted or replaced since
    group = svc.groups.get(f"{sa.account_id}/{sa.group}")
    if group is not None and "ScheduledActions" not in group.suspended:
        min_size = sa.min_size if sa.min_size is not None else group.min_size
        max_size = sa.max_size if sa.max_size is not None else group.max_size
        desired = sa.desired if sa.desired is not None else group.desired
        desired = max(min_size, min(max_size, desired))
        if min_size <= max_size:
            group.min_size, group.max_size = min_size, max_size
            svc.set_desired(group, desired, f"a scheduled action update of AutoScalingGroup "
                            f"constraints to min: {min_size}, max: {max_size}, desired: "
                            f"{desired}")
    if sa.recurrence:
        sa.next_run = _next_run(sa, svc.clock.now())
    else:
        sa.next_run = None
    if sa.next_run is None:
        del svc.scheduled[sa.id]
        svc.forget(sa)
    else:
        svc.save(sa)
        arm(svc, sa)


def describe_scheduled_actions(ctx: Context) -> Any:
    """DescribeScheduledActions: by group, name and time window."""
    svc = service(ctx)
    group_name = ctx.params.get("AutoScalingGroupName")
    if group_name:
        find_group(ctx, group_name)
    names = ctx.params.strings("ScheduledActionNames")
    start = _time(ctx, "StartTime")
    end = _time(ctx, "EndTime")
    rows = []
    for sa in sorted(svc.scheduled.values(), key=lambda s: (s.group, s.name)):
        if sa.account_id != ctx.account_id or (group_name and sa.group != group_name):
            continue
        if names and sa.name not in names:
            continue
        if start is not None and (sa.next_run or 0) < start:
            continue
        if end is not None and (sa.next_run or 0) > end:
            continue
        rows.append(sa)
    chunk, token = page(ctx, rows)
    return {"ScheduledUpdateGroupActions": [{
        "AutoScalingGroupName": sa.group, "ScheduledActionName": sa.name,
        "ScheduledActionARN": sa.arn,
        "Time": iso8601(sa.next_run) if sa.next_run is not None else None,
        "StartTime": iso8601(sa.next_run if sa.next_run is not None else sa.start or 0),
        "EndTime": iso8601(sa.end) if sa.end is not None else None,
        "Recurrence": sa.recurrence or None, "MinSize": sa.min_size, "MaxSize": sa.max_size,
        "DesiredCapacity": sa.desired, "TimeZone": sa.time_zone or None} for sa in chunk],
        "NextToken": token}


def delete_scheduled_action(ctx: Context) -> Any:
    """DeleteScheduledAction."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    name = name_param(ctx, "ScheduledActionName")
    sa = svc.scheduled.pop(f"{ctx.account_id}/{group.name}/{name}", None)
    if sa is None:
        raise errors.ValidationError(f"Scheduled action name not found - {name}")
    svc.forget(sa)
    return None
