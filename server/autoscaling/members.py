"""A group's instances: describe, health, protection, terminate, attach/detach, standby;
and the scaling activities that tell what happened to them and why."""

from __future__ import annotations

from typing import Any

from server import errors
from server.autoscaling.common import (
    bool_param,
    find_group,
    member_group,
    name_param,
    page,
    service,
)
from server.autoscaling.groups import member_xml
from server.autoscaling.model import GROUP_TAG, Activity, Group, Member
from server.protocol.query import Context
from server.protocol.xml import iso8601


def describe_auto_scaling_instances(ctx: Context) -> Any:
    """DescribeAutoScalingInstances: members of the caller's groups."""
    svc = service(ctx)
    wanted = ctx.params.strings("InstanceIds")
    rows = []
    for group in svc.groups.values():
        if group.account_id != ctx.account_id:
            continue
        for m in group.members.values():
            if not wanted or m["id"] in wanted:
                rows.append((group, Member(**m)))
    rows.sort(key=lambda r: r[1].id)
    chunk, token = page(ctx, rows)
    return {"AutoScalingInstances": [member_xml(g, m, with_group=True) for g, m in chunk],
            "NextToken": token}


def _member(ctx: Context, instance_id: str) -> tuple[Group, Member]:
    group = member_group(ctx, instance_id)
    return group, Member(**group.members[instance_id])


def set_instance_health(ctx: Context) -> Any:
    """SetInstanceHealth: Unhealthy members are replaced by the loop."""
    svc = service(ctx)
    iid = name_param(ctx, "InstanceId")
    status = name_param(ctx, "HealthStatus")
    if status not in ("Healthy", "Unhealthy"):
        raise errors.ValidationError(f"Invalid health status {status}: Healthy or Unhealthy")
    group, member = _member(ctx, iid)
    respect = bool_param(ctx, "ShouldRespectGracePeriod", True)
    if respect and status == "Unhealthy" and \
            ctx.cloud.clock.now() < member.launched + group.grace_period:
        return None  # still in its grace period: AWS ignores the report
    member.health = status
    svc.put_member(group, member)
    svc.save(group)
    svc.wake(group.id)
    return None


def set_instance_protection(ctx: Context) -> Any:
    """SetInstanceProtection: members protected from scale-in."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    protect = bool_param(ctx, "ProtectedFromScaleIn")
    if protect is None:
        raise errors.ValidationError("ProtectedFromScaleIn is required")
    iids = ctx.params.strings("InstanceIds")
    for iid in iids:
        if iid not in group.members:
            raise errors.ValidationError(f"The instance {iid} is not part of Auto Scaling group "
                                         f"{group.name}.")
    for iid in iids:
        group.members[iid]["protected"] = protect
    svc.save(group)
    return {}  # an empty SetInstanceProtectionResult, as AWS answers


def terminate_instance_in_group(ctx: Context) -> Any:
    """TerminateInstanceInAutoScalingGroup: with or without decrementing the capacity."""
    svc = service(ctx)
    iid = name_param(ctx, "InstanceId")
    decrement = bool_param(ctx, "ShouldDecrementDesiredCapacity")
    if decrement is None:
        raise errors.ValidationError("ShouldDecrementDesiredCapacity is required")
    group, member = _member(ctx, iid)
    if decrement:
        if group.desired - 1 < group.min_size:
            raise errors.ValidationError(
                f"Currently, desiredSize equals minSize ({group.min_size}). Terminating "
                "instance without replacement will violate group's min size constraint. "
                "Either set shouldDecrementDesiredCapacity flag to false or lower group's "
                "min size.")
        group.desired -= 1
        why = ("a user request explicitly terminated the instance, shrinking the capacity "
               f"from {group.desired + 1} to {group.desired}")
    else:
        why = "a user request explicitly terminated the instance"
    svc.terminate(group, member, why)
    svc.save(group)
    svc.wake(group.id)
    act = svc.activities[group.id][-1]
    return {"Activity": activity_xml(group, act)}


def attach_instances(ctx: Context) -> Any:
    """AttachInstances: running instances of the caller join the group (desired grows)."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    clc = ctx.cloud.clc
    iids = ctx.params.strings("InstanceIds")
    for iid in iids:
        inst = clc.instances.get(iid)
        if inst is None or inst.account_id != ctx.account_id or inst.state != "running":
            raise errors.ValidationError(f"Instance {iid} is not in a valid state (it must be "
                                         "running)")
        if inst.zone not in group.zones:
            raise errors.ValidationError(f"Instance {iid} is in {inst.zone}, which is not one "
                                         f"of the group's Availability Zones")
        if clc.tags.get(iid, {}).get(GROUP_TAG):
            raise errors.ValidationError(f"The instance {iid} is already part of an Auto "
                                         "Scaling group")
    if group.desired + len(iids) > group.max_size:
        raise errors.ValidationError(
            f"Attaching {len(iids)} instance(s) would exceed the group's max size "
            f"{group.max_size}")
    for iid in iids:
        inst = clc.instances[iid]
        clc.tags.setdefault(iid, {})[GROUP_TAG] = group.name
        clc.save_tags(iid, ctx.account_id)
        act = svc.activity(group, f"Attaching an existing EC2 instance: {iid}",
                           f"At {iso8601(ctx.cloud.clock.now())} an instance was added in "
                           "response to a user request.")
        svc.finish_activity(group, act.id, "Successful")
        svc.put_member(group, Member(iid, inst.zone, "InService", launched=inst.launch_time,
                                     instance_type=inst.vm_type))
    group.desired += len(iids)
    svc.save(group)
    return None


def detach_instances(ctx: Context) -> Any:
    """DetachInstances: members leave the group (and keep running)."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    decrement = bool_param(ctx, "ShouldDecrementDesiredCapacity")
    if decrement is None:
        raise errors.ValidationError("ShouldDecrementDesiredCapacity is required")
    iids = ctx.params.strings("InstanceIds")
    for iid in iids:
        if iid not in group.members:
            raise errors.ValidationError(f"The instance {iid} is not part of Auto Scaling group "
                                         f"{group.name}.")
    if decrement and group.desired - len(iids) < group.min_size:
        raise errors.ValidationError("Detaching would violate the group's min size constraint")
    clc = ctx.cloud.clc
    out = []
    for iid in iids:
        del group.members[iid]
        tags = clc.tags.get(iid, {})
        tags.pop(GROUP_TAG, None)
        clc.save_tags(iid, ctx.account_id)
        act = svc.activity(group, f"Detaching EC2 instance: {iid}",
                           f"At {iso8601(ctx.cloud.clock.now())} instance {iid} was detached "
                           "in response to a user request.")
        svc.finish_activity(group, act.id, "Successful")
        out.append(activity_xml(group, act))
    if decrement:
        group.desired -= len(iids)
    svc.save(group)
    svc.wake(group.id)
    return {"Activities": out}


def _standby(ctx: Context, enter: bool) -> Any:
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    iids = ctx.params.strings("InstanceIds")
    decrement = bool_param(ctx, "ShouldDecrementDesiredCapacity")
    if enter and decrement is None:
        raise errors.ValidationError("ShouldDecrementDesiredCapacity is required")
    wanted, now_state = ("InService", "Standby") if enter else ("Standby", "InService")
    for iid in iids:
        m = group.members.get(iid)
        if m is None or m["lifecycle"] != wanted:
            raise errors.ValidationError(f"The instance {iid} is not in {wanted}.")
    if enter and decrement and group.desired - len(iids) < group.min_size:
        raise errors.ValidationError("Entering standby would violate the group's min size "
                                     "constraint")
    if not enter and group.desired + len(iids) > group.max_size:
        raise errors.ValidationError("Exiting standby would exceed the group's max size")
    out = []
    for iid in iids:
        group.members[iid]["lifecycle"] = now_state
        verb = "Moving EC2 instance to Standby" if enter else "Moving EC2 instance out of Standby"
        act = svc.activity(group, f"{verb}: {iid}",
                           f"At {iso8601(ctx.cloud.clock.now())} instance {iid} was moved "
                           f"{'to' if enter else 'out of'} standby in response to a user "
                           "request.")
        svc.finish_activity(group, act.id, "Successful")
        out.append(activity_xml(group, act))
    if enter and decrement:
        group.desired -= len(iids)
    if not enter:
        group.desired += len(iids)
    svc.save(group)
    svc.wake(group.id)
    return {"Activities": out}


def enter_standby(ctx: Context) -> Any:
    """EnterStandby: members stop counting towards capacity (and are not replaced)."""
    return _standby(ctx, True)


def exit_standby(ctx: Context) -> Any:
    """ExitStandby: members count again."""
    return _standby(ctx, False)


def activity_xml(group: Group, act: Activity) -> dict[str, Any]:
    """One Activities member."""
    return {"ActivityId": act.id, "AutoScalingGroupName": group.name,
            "Description": act.description, "Cause": act.cause,
            "StartTime": iso8601(act.start),
            "EndTime": iso8601(act.end) if act.end is not None else None,
            "StatusCode": act.status, "StatusMessage": act.message or None,
            "Progress": act.progress, "Details": act.details,
            "AutoScalingGroupARN": group.arn}


def describe_scaling_activities(ctx: Context) -> Any:
    """DescribeScalingActivities: newest first, of one group or all the caller's."""
    svc = service(ctx)
    name = ctx.params.get("AutoScalingGroupName")
    wanted = ctx.params.strings("ActivityIds")
    groups = [find_group(ctx, name)] if name else \
        [g for g in svc.groups.values() if g.account_id == ctx.account_id]
    rows = []
    for group in groups:
        for act in svc.activities.get(group.id, []):
            if not wanted or act.id in wanted:
                rows.append((group, act))
    rows.sort(key=lambda r: (r[1].start, r[1].id), reverse=True)
    chunk, token = page(ctx, rows, limit=100)
    return {"Activities": [activity_xml(g, a) for g, a in chunk], "NextToken": token}
