"""Auto Scaling groups: create, update, delete, describe; desired capacity; processes;
metrics collection and notification configurations (recorded)."""

from __future__ import annotations

import uuid
from typing import Any

from server import errors
from server.autoscaling import service_role
from server.autoscaling.common import (
    MAX_GROUP_SIZE,
    MAX_GROUPS,
    AlreadyExists,
    LimitExceeded,
    ResourceInUse,
    ScalingActivityInProgress,
    bool_param,
    find_group,
    int_param,
    name_param,
    page,
    service,
)
from server.autoscaling.model import PROCESSES, TERMINATION_POLICIES, Group, Member
from server.protocol.query import Context
from server.protocol.xml import iso8601

HEALTH_CHECK_TYPES = ("EC2", "ELB")
METRICS = ("GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances",
           "GroupPendingInstances", "GroupStandbyInstances", "GroupTerminatingInstances",
           "GroupTotalInstances")


def _zones(ctx: Context, required: bool) -> list[str]:
    zones = ctx.params.strings("AvailabilityZones")
    if not zones and ctx.params.get("VPCZoneIdentifier"):
        raise errors.ValidationError("VPCZoneIdentifier is not supported by this cloud (EC2 "
                                     "Classic networking): give AvailabilityZones")
    if not zones and required:
        raise errors.ValidationError("At least one Availability Zone or VPC Subnet is required.")
    for zone in zones:
        if zone not in ctx.cloud.clusters:
            raise errors.ValidationError(f"The availability zone '{zone}' is not legal")
    return list(dict.fromkeys(zones))


def _termination_policies(ctx: Context) -> list[str] | None:
    policies = ctx.params.strings("TerminationPolicies")
    for pol in policies:
        if pol not in TERMINATION_POLICIES:
            raise errors.ValidationError(f"Unsupported termination policy: {pol}")
    return policies or None


def _launch_source(ctx: Context) -> tuple[str | None, dict[str, str] | None]:
    """(launch configuration name, launch template spec), checked; (None, None) if absent."""
    svc = service(ctx)
    lc_name = ctx.params.get("LaunchConfigurationName") or None
    lt = ctx.params.struct("LaunchTemplate")
    if not lt:
        mixed = ctx.params.struct("MixedInstancesPolicy").struct("LaunchTemplate").struct(
            "LaunchTemplateSpecification")
        lt = mixed
    if lc_name and lt:
        raise errors.ValidationError("Valid requests must contain either LaunchTemplate, "
                                     "LaunchConfigurationName, InstanceId or "
                                     "MixedInstancesPolicy parameter.")
    if lc_name:
        if f"{ctx.account_id}/{lc_name}" not in svc.launch_configs:
            raise errors.ValidationError(f"Launch configuration name not found - {lc_name}")
        return lc_name, None
    if lt:
        from server.clc.launchtemplates import find_template

        template = find_template(ctx.cloud, ctx.account_id, lt.get("LaunchTemplateId") or "",
                                 lt.get("LaunchTemplateName") or "", validation=True)
        version = lt.get("Version") or "$Default"
        return None, {"id": template.id, "name": template.name, "version": version}
    return None, None


def _sizes(group: Group, min_size: int, max_size: int, desired: int) -> None:
    if min_size > max_size:
        raise errors.ValidationError(f"Max bound, {max_size}, must be greater than or equal to "
                                     f"min bound, {min_size}")
    if max_size > MAX_GROUP_SIZE:
        raise errors.ValidationError(f"Max size must be at most {MAX_GROUP_SIZE}")
    if not min_size <= desired <= max_size:
        raise errors.ValidationError(f"Desired capacity:{desired} must be between the specified "
                                     f"min size:{min_size} and max size:{max_size}")


def _tags(ctx: Context, group_name: str) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for tag in ctx.params.structs("Tags"):
        key = tag.get("Key")
        if not key:
            raise errors.ValidationError("Tag key must not be empty")
        if str(key).startswith("aws:"):
            raise errors.ValidationError("Tag keys starting with 'aws:' are reserved for "
                                         "internal use")
        rid = tag.get("ResourceId") or group_name
        if rid != group_name:
            raise errors.ValidationError(f"Tag ResourceId {rid} is not the group {group_name}")
        out[key] = {"Key": key, "Value": tag.get("Value") or "",
                    "PropagateAtLaunch": str(tag.get("PropagateAtLaunch", "")).lower() == "true"}
    if len(out) > 50:
        raise LimitExceeded("A group can have at most 50 tags")
    return list(out.values())


def create_auto_scaling_group(ctx: Context) -> Any:
    """CreateAutoScalingGroup: the controller launches up to the desired capacity at once."""
    svc = service(ctx)
    name = name_param(ctx, "AutoScalingGroupName")
    key = f"{ctx.account_id}/{name}"
    if key in svc.groups:
        raise AlreadyExists(f"AutoScalingGroup by this name already exists - A group with the "
                            f"name {name} already exists")
    if sum(1 for g in svc.groups.values() if g.account_id == ctx.account_id) >= MAX_GROUPS:
        raise LimitExceeded(f"You have reached your limit of {MAX_GROUPS} Auto Scaling "
                            "groups.")
    lc_name, template = _launch_source(ctx)
    if lc_name is None and template is None:
        raise errors.ValidationError("Valid requests must contain either LaunchTemplate, "
                                     "LaunchConfigurationName, InstanceId or "
                                     "MixedInstancesPolicy parameter.")
    min_size = int_param(ctx, "MinSize")
    max_size = int_param(ctx, "MaxSize")
    if min_size is None or max_size is None:
        raise errors.ValidationError("MinSize and MaxSize are required")
    desired = int_param(ctx, "DesiredCapacity", min_size)
    zones = _zones(ctx, required=True)
    health = ctx.params.get("HealthCheckType") or "EC2"
    if health not in HEALTH_CHECK_TYPES:
        raise errors.ValidationError(f"Invalid health check type: {health} (EC2 or ELB)")
    now = ctx.cloud.clock.now()
    region = ctx.cloud.config.cloud["region"]
    group = Group(
        id=key, account_id=ctx.account_id, name=name,
        arn=(f"arn:aws:autoscaling:{region}:{ctx.account_id}:autoScalingGroup:{uuid.uuid4()}"
             f":autoScalingGroupName/{name}"),
        min_size=min_size, max_size=max_size, desired=desired, zones=zones, created=now,
        launch_config=lc_name or "", launch_template=template,
        default_cooldown=int_param(ctx, "DefaultCooldown", 300),
        health_check_type=health, grace_period=int_param(ctx, "HealthCheckGracePeriod", 0),
        termination_policies=_termination_policies(ctx) or ["Default"],
        protect_new=bool(bool_param(ctx, "NewInstancesProtectedFromScaleIn", False)),
        load_balancers=ctx.params.strings("LoadBalancerNames"),
        target_groups=ctx.params.strings("TargetGroupARNs"),
        placement_group=ctx.params.get("PlacementGroup") or "")
    _sizes(group, min_size, max_size, desired)
    group.tags = _tags(ctx, name)
    group.cause = (f"a user request created an AutoScalingGroup changing the desired capacity "
                   f"from 0 to {desired}")
    service_role.ensure(ctx.cloud, ctx.account_id)
    svc.groups[key] = group
    svc.save(group)
    svc.wake(key)
    return None


def update_auto_scaling_group(ctx: Context) -> Any:
    """UpdateAutoScalingGroup: sizes, zones, launch source, health checks, policies."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    if group.deleting:
        raise ScalingActivityInProgress("The group is being deleted")
    lc_name, template = _launch_source(ctx)
    min_size = int_param(ctx, "MinSize", group.min_size)
    max_size = int_param(ctx, "MaxSize", group.max_size)
    desired = int_param(ctx, "DesiredCapacity", None)
    if desired is None:
        desired = min(max(group.desired, min_size), max_size)
    _sizes(group, min_size, max_size, desired)
    zones = _zones(ctx, required=False)
    health = ctx.params.get("HealthCheckType")
    if health is not None and health not in HEALTH_CHECK_TYPES:
        raise errors.ValidationError(f"Invalid health check type: {health} (EC2 or ELB)")
    policies = _termination_policies(ctx)
    if lc_name:
        group.launch_config, group.launch_template = lc_name, None
    elif template:
        group.launch_config, group.launch_template = "", template
    if zones:
        group.zones = zones
    if health:
        group.health_check_type = health
    group.grace_period = int_param(ctx, "HealthCheckGracePeriod", group.grace_period)
    group.default_cooldown = int_param(ctx, "DefaultCooldown", group.default_cooldown)
    if policies:
        group.termination_policies = policies
    protect = bool_param(ctx, "NewInstancesProtectedFromScaleIn")
    if protect is not None:
        group.protect_new = protect
    if ctx.params.get("PlacementGroup") is not None:
        group.placement_group = ctx.params.get("PlacementGroup") or ""
    group.min_size, group.max_size = min_size, max_size
    svc.set_desired(group, desired, f"a user request update of AutoScalingGroup constraints to "
                    f"min: {min_size}, max: {max_size}, desired: {desired}")
    return None


def delete_auto_scaling_group(ctx: Context) -> Any:
    """DeleteAutoScalingGroup: empty groups at once; ForceDelete terminates the members."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    force = bool(bool_param(ctx, "ForceDelete", False))
    if group.members and not force:
        raise ResourceInUse("You cannot delete an AutoScalingGroup while there are instances "
                            "or pending Spot instance request(s) still in the group.")
    active = [a for a in svc.activities.get(group.id, []) if a.end is None]
    if active and not force and not group.members:
        raise ScalingActivityInProgress("You cannot delete an AutoScalingGroup while there are "
                                        "scaling activities in progress for that group.")
    if not group.members:
        svc.drop_group(group)
        return None
    group.deleting = True
    group.desired = group.min_size = 0
    svc.save(group)
    svc.wake(group.id)
    return None


def group_xml(svc: Any, group: Group) -> dict[str, Any]:
    """One AutoScalingGroups member."""
    members = sorted((Member(**m) for m in group.members.values()), key=lambda m: m.id)
    template = None
    if group.launch_template:
        template = {"LaunchTemplateId": group.launch_template.get("id"),
                    "LaunchTemplateName": group.launch_template.get("name"),
                    "Version": group.launch_template.get("version")}
    return {
        "AutoScalingGroupName": group.name, "AutoScalingGroupARN": group.arn,
        "LaunchConfigurationName": group.launch_config or None,
        "LaunchTemplate": template,
        "MinSize": group.min_size, "MaxSize": group.max_size,
        "DesiredCapacity": group.desired, "DefaultCooldown": group.default_cooldown,
        "AvailabilityZones": list(group.zones),
        "LoadBalancerNames": list(group.load_balancers),
        "TargetGroupARNs": list(group.target_groups),
        "HealthCheckType": group.health_check_type,
        "HealthCheckGracePeriod": group.grace_period,
        "Instances": [member_xml(group, m) for m in members],
        "CreatedTime": iso8601(group.created),
        "SuspendedProcesses": [{"ProcessName": p, "SuspensionReason": r}
                               for p, r in sorted(group.suspended.items())],
        "PlacementGroup": group.placement_group or None,
        "VPCZoneIdentifier": group.vpc_zone_identifier or None,
        "EnabledMetrics": [{"Metric": m, "Granularity": group.granularity}
                           for m in group.metrics],
        "Status": "Delete in progress" if group.deleting else None,
        "Tags": [tag_xml(group, t) for t in group.tags],
        "TerminationPolicies": list(group.termination_policies),
        "NewInstancesProtectedFromScaleIn": group.protect_new,
        "ServiceLinkedRoleARN": service_role.role_arn(group.account_id),
    }


def member_xml(group: Group, m: Member, with_group: bool = False) -> dict[str, Any]:
    """One Instances member (of a group, or of DescribeAutoScalingInstances)."""
    out: dict[str, Any] = {"InstanceId": m.id}
    if with_group:
        out["AutoScalingGroupName"] = group.name
    out.update({
        "InstanceType": m.instance_type or None,
        "AvailabilityZone": m.zone, "LifecycleState": m.lifecycle,
        "HealthStatus": m.health if not with_group else m.health.upper(),
        "LaunchConfigurationName": m.launch_config or None,
        "LaunchTemplate": ({"LaunchTemplateId": m.launch_template.get("id"),
                            "LaunchTemplateName": m.launch_template.get("name"),
                            "Version": m.launch_template.get("version")}
                           if m.launch_template else None),
        "ProtectedFromScaleIn": m.protected})
    return out


def tag_xml(group: Group, tag: dict[str, Any]) -> dict[str, Any]:
    """One TagDescription."""
    return {"ResourceId": group.name, "ResourceType": "auto-scaling-group", "Key": tag["Key"],
            "Value": tag.get("Value", ""), "PropagateAtLaunch": bool(tag.get("PropagateAtLaunch"))}


def describe_auto_scaling_groups(ctx: Context) -> Any:
    """DescribeAutoScalingGroups: by name, with Filters on tags, paged."""
    svc = service(ctx)
    names = ctx.params.strings("AutoScalingGroupNames")
    groups = sorted((g for g in svc.groups.values() if g.account_id == ctx.account_id),
                    key=lambda g: g.name)
    if names:
        groups = [g for g in groups if g.name in names or g.arn in names]
    for filt in ctx.params.structs("Filters"):
        fname = filt.get("Name") or ""
        values = filt.strings("Values")
        if fname.startswith("tag:"):
            key = fname[4:]
            groups = [g for g in groups if any(t["Key"] == key and t.get("Value") in values
                                               for t in g.tags)]
        elif fname == "tag-key":
            groups = [g for g in groups if any(t["Key"] in values for t in g.tags)]
        elif fname == "tag-value":
            groups = [g for g in groups if any(t.get("Value") in values for t in g.tags)]
        else:
            raise errors.ValidationError(f"Filter name {fname} is not valid")
    chunk, token = page(ctx, groups)
    return {"AutoScalingGroups": [group_xml(svc, g) for g in chunk], "NextToken": token}


def set_desired_capacity(ctx: Context) -> Any:
    """SetDesiredCapacity (HonorCooldown refuses while the group cools down)."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    desired = int_param(ctx, "DesiredCapacity")
    if desired is None:
        raise errors.ValidationError("DesiredCapacity is required")
    if desired > group.max_size:
        raise errors.ValidationError(f"New SetDesiredCapacity value {desired} is above max value "
                                     f"{group.max_size} for the AutoScalingGroup.")
    if desired < group.min_size:
        raise errors.ValidationError(f"New SetDesiredCapacity value {desired} is below min value "
                                     f"{group.min_size} for the AutoScalingGroup.")
    now = ctx.cloud.clock.now()
    if bool_param(ctx, "HonorCooldown", False) and group.cooldown_until > now:
        raise ScalingActivityInProgress(
            f"Scaling activity cannot be performed because the group {group.name} is in its "
            f"cooldown period ({group.cooldown_until - now:.0f} seconds left).")
    if desired != group.desired:
        group.cooldown_until = now + group.default_cooldown
    svc.set_desired(group, desired, "a user request explicitly set group desired capacity")
    return None


def _processes(ctx: Context) -> list[str]:
    names = ctx.params.strings("ScalingProcesses")
    for name in names:
        if name not in PROCESSES:
            raise errors.ValidationError(f"Process {name} is not a valid scaling process")
    return names or list(PROCESSES)


def suspend_processes(ctx: Context) -> Any:
    """SuspendProcesses: the named processes (all when none is named)."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    for name in _processes(ctx):
        group.suspended.setdefault(name, f"User suspended at {iso8601(ctx.cloud.clock.now())}")
    svc.save(group)
    return None


def resume_processes(ctx: Context) -> Any:
    """ResumeProcesses: the named processes (all when none is named)."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    for name in _processes(ctx):
        group.suspended.pop(name, None)
    svc.save(group)
    svc.wake(group.id)
    return None


def enable_metrics_collection(ctx: Context) -> Any:
    """EnableMetricsCollection (granularity 1Minute)."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    granularity = name_param(ctx, "Granularity")
    if granularity != "1Minute":
        raise errors.ValidationError(f"Invalid granularity {granularity}: only 1Minute")
    metrics = ctx.params.strings("Metrics") or list(METRICS)
    for m in metrics:
        if m not in METRICS:
            raise errors.ValidationError(f"Invalid metric {m}")
        if m not in group.metrics:
            group.metrics.append(m)
    group.granularity = granularity
    svc.save(group)
    return None


def disable_metrics_collection(ctx: Context) -> Any:
    """DisableMetricsCollection."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    metrics = ctx.params.strings("Metrics") or list(METRICS)
    group.metrics = [m for m in group.metrics if m not in metrics]
    svc.save(group)
    return None


NOTIFICATION_TYPES = ("autoscaling:EC2_INSTANCE_LAUNCH", "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
                      "autoscaling:EC2_INSTANCE_TERMINATE",
                      "autoscaling:EC2_INSTANCE_TERMINATE_ERROR",
                      "autoscaling:TEST_NOTIFICATION")


def put_notification_configuration(ctx: Context) -> Any:
    """PutNotificationConfiguration (recorded: this cloud has no SNS to deliver them)."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    topic = name_param(ctx, "TopicARN")
    types = ctx.params.strings("NotificationTypes")
    for t in types:
        if t not in NOTIFICATION_TYPES:
            raise errors.ValidationError(f"Invalid notification type {t}")
    group.notifications[topic] = types
    svc.save(group)
    return None


def delete_notification_configuration(ctx: Context) -> Any:
    """DeleteNotificationConfiguration."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    topic = name_param(ctx, "TopicARN")
    if group.notifications.pop(topic, None) is None:
        raise errors.ValidationError(f"No notification configuration for topic {topic}")
    svc.save(group)
    return None


def describe_notification_configurations(ctx: Context) -> Any:
    """DescribeNotificationConfigurations."""
    svc = service(ctx)
    names = ctx.params.strings("AutoScalingGroupNames")
    rows = []
    for g in sorted(svc.groups.values(), key=lambda g: g.name):
        if g.account_id != ctx.account_id or (names and g.name not in names):
            continue
        for topic, types in sorted(g.notifications.items()):
            rows += [{"AutoScalingGroupName": g.name, "TopicARN": topic,
                      "NotificationType": t} for t in types]
    chunk, token = page(ctx, rows)
    return {"NotificationConfigurations": chunk, "NextToken": token}
