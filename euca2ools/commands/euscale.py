"""euscale-*: Auto Scaling groups, launch configurations, policies, scheduled actions,
activities, tags and the service's type lists."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..exceptions import ArgumentError
from ..xmlparse import as_list
from .types import base64_text, read_file_b64

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation

SERVICE = "autoscaling"


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _members(result: Any, *path: str) -> list[Any]:
    for key in path:
        result = result.get(key) if isinstance(result, dict) else None
    return as_list(result)


def _join(value: Any, key: str | None = None) -> str:
    items = as_list(value)
    if key is not None:
        items = [i.get(key) for i in items if isinstance(i, dict)]
    return ",".join(str(i) for i in items if i)


def _long(inv: Invocation) -> bool:
    return bool(inv.args.get("show_long"))


_SHOW_LONG = Arg("--show-long", name="show_long", flag=True,
                 help="show all of the information available")
_GROUP_POS = Arg("ASGROUP", dest="AutoScalingGroupName", help="name of the auto-scaling group")


# -- printers ---------------------------------------------------------------------------------
def _print_groups(inv: Invocation, result: Any) -> None:
    for g in _members(result, "AutoScalingGroups"):
        zones = _join(g.get("AvailabilityZones"))
        lbs = _join(g.get("LoadBalancerNames"))
        source = g.get("LaunchConfigurationName") or (g.get("LaunchTemplate") or {}).get(
            "LaunchTemplateName")
        policies = _join(g.get("TerminationPolicies"))
        if _long(inv):
            inv.emit("AUTO-SCALING-GROUP", g.get("AutoScalingGroupName"), source, zones, lbs,
                     g.get("MinSize"), g.get("MaxSize"), g.get("DesiredCapacity"), policies,
                     g.get("CreatedTime"), g.get("HealthCheckType"), g.get("DefaultCooldown"),
                     g.get("HealthCheckGracePeriod"), g.get("VPCZoneIdentifier"),
                     g.get("PlacementGroup"), g.get("AutoScalingGroupARN"))
        else:
            inv.emit("AUTO-SCALING-GROUP", g.get("AutoScalingGroupName"), source, zones, lbs,
                     g.get("MinSize"), g.get("MaxSize"), g.get("DesiredCapacity"), policies)
        for m in as_list(g.get("Instances")):
            inv.emit("INSTANCE", m.get("InstanceId"), m.get("AvailabilityZone"),
                     m.get("LifecycleState"), m.get("HealthStatus"),
                     m.get("LaunchConfigurationName"))
        for p in as_list(g.get("SuspendedProcesses")):
            inv.emit("SUSPENDED-PROCESS", p.get("ProcessName"), p.get("SuspensionReason"),
                     g.get("AutoScalingGroupName"))
        for m in as_list(g.get("EnabledMetrics")):
            inv.emit("ENABLED-METRICS", m.get("Metric"), m.get("Granularity"))
        for t in as_list(g.get("Tags")):
            _print_tag(inv, t)


def _print_tag(inv: Invocation, t: dict[str, Any]) -> None:
    inv.emit("TAG", t.get("ResourceType"), t.get("ResourceId"), t.get("Key"), t.get("Value"),
             t.get("PropagateAtLaunch"))


def _print_tags(inv: Invocation, result: Any) -> None:
    for t in _members(result, "Tags"):
        _print_tag(inv, t)


def _print_instances(inv: Invocation, result: Any) -> None:
    for m in _members(result, "AutoScalingInstances"):
        inv.emit("INSTANCE", m.get("InstanceId"), m.get("AutoScalingGroupName"),
                 m.get("AvailabilityZone"), m.get("LifecycleState"), m.get("HealthStatus"),
                 m.get("LaunchConfigurationName"))


def _print_launch_configs(inv: Invocation, result: Any) -> None:
    for lc in _members(result, "LaunchConfigurations"):
        if _long(inv):
            inv.emit("LAUNCH-CONFIG", lc.get("LaunchConfigurationName"), lc.get("ImageId"),
                     lc.get("InstanceType"), lc.get("KeyName"), lc.get("KernelId"),
                     lc.get("RamdiskId"), _join(lc.get("SecurityGroups")),
                     lc.get("CreatedTime"),
                     (lc.get("InstanceMonitoring") or {}).get("Enabled"),
                     lc.get("LaunchConfigurationARN"), lc.get("IamInstanceProfile"),
                     lc.get("EbsOptimized"))
        else:
            inv.emit("LAUNCH-CONFIG", lc.get("LaunchConfigurationName"), lc.get("ImageId"),
                     lc.get("InstanceType"))
        if _long(inv) and lc.get("UserData"):
            inv.emit("USER-DATA", lc.get("UserData"))


def _print_policies(inv: Invocation, result: Any) -> None:
    for p in _members(result, "ScalingPolicies"):
        fields = [p.get("AutoScalingGroupName"), p.get("PolicyName"),
                  p.get("ScalingAdjustment"), p.get("AdjustmentType"), p.get("PolicyARN")]
        if _long(inv):
            fields += [p.get("PolicyType"), p.get("Cooldown"), p.get("MinAdjustmentMagnitude"),
                       _join(p.get("Alarms"), "AlarmName")]
        inv.emit("SCALING-POLICY", *fields)


def _print_activity(inv: Invocation, a: dict[str, Any]) -> None:
    fields = [a.get("ActivityId"), a.get("EndTime"), a.get("AutoScalingGroupName"),
              a.get("StatusCode"), a.get("StatusMessage")]
    if _long(inv):
        fields += [a.get("Description"), a.get("Cause"), a.get("Progress"),
                   a.get("StartTime")]
    inv.emit("ACTIVITY", *fields)


def _print_activities(inv: Invocation, result: Any) -> None:
    for a in _members(result, "Activities"):
        _print_activity(inv, a)


def _print_one_activity(inv: Invocation, result: Any) -> None:
    activity = result.get("Activity") if isinstance(result, dict) else None
    if activity:
        _print_activity(inv, activity)


def _print_scheduled(inv: Invocation, result: Any) -> None:
    for s in _members(result, "ScheduledUpdateGroupActions"):
        fields = [s.get("AutoScalingGroupName"), s.get("ScheduledActionName"),
                  s.get("StartTime"), s.get("Recurrence"), s.get("MinSize"), s.get("MaxSize"),
                  s.get("DesiredCapacity")]
        if _long(inv):
            fields += [s.get("EndTime"), s.get("TimeZone"), s.get("ScheduledActionARN")]
        inv.emit("UPDATE-GROUP-ACTION", *fields)


def _print_notifications(inv: Invocation, result: Any) -> None:
    for n in _members(result, "NotificationConfigurations"):
        inv.emit("NOTIFICATION-CONFIG", n.get("AutoScalingGroupName"), n.get("TopicARN"),
                 n.get("NotificationType"))


def _print_limits(inv: Invocation, result: Any) -> None:
    for key in ("MaxNumberOfAutoScalingGroups", "MaxNumberOfLaunchConfigurations",
                "NumberOfAutoScalingGroups", "NumberOfLaunchConfigurations"):
        if result.get(key) is not None:
            inv.emit(key, result.get(key))


def _lister(prefix: str, path: str, key: str | None) -> Any:
    def printer(inv: Invocation, result: Any) -> None:
        for item in _members(result, path):
            inv.emit(prefix, item.get(key) if key and isinstance(item, dict) else item)
    return printer


def _print_metric_types(inv: Invocation, result: Any) -> None:
    _lister("METRIC-COLLECTION-TYPE", "Metrics", "Metric")(inv, result)
    _lister("METRIC-GRANULARITY-TYPE", "Granularities", "Granularity")(inv, result)


# -- preparers --------------------------------------------------------------------------------
def _tag_specs(inv: Invocation) -> None:
    """--tag "id=NAME, t=auto-scaling-group, k=KEY, v=VAL, p=BOOL" as Tags.member.N."""
    tags = []
    for spec in inv.args.get("tag") or []:
        parts: dict[str, str] = {}
        for item in spec.split(","):
            if not item.strip():
                continue
            key, sep, value = item.strip().partition("=")
            if not sep or key not in ("id", "t", "k", "v", "p"):
                raise ArgumentError(f"argument --tag: invalid tag specification '{spec}' (use "
                                    "id=NAME, t=auto-scaling-group, k=KEY, v=VAL, p=BOOL)")
            parts[key] = value
        if "k" not in parts:
            raise ArgumentError(f"argument --tag: '{spec}' has no key (k=KEY)")
        tag: dict[str, Any] = {"Key": parts["k"]}
        if "id" in parts:
            tag["ResourceId"] = parts["id"]
            tag["ResourceType"] = parts.get("t") or "auto-scaling-group"
        if "v" in parts:
            tag["Value"] = parts["v"]
        if "p" in parts:
            tag["PropagateAtLaunch"] = parts["p"].lower() in ("true", "yes", "1")
        tags.append(tag)
    if tags:
        inv.params["Tags.member"] = tags


def _prepare_group(inv: Invocation) -> None:
    a = inv.args
    if a.get("zones"):
        inv.params["AvailabilityZones.member"] = _csv(a["zones"])
    if a.get("load_balancers"):
        inv.params["LoadBalancerNames.member"] = _csv(a["load_balancers"])
    if a.get("termination_policies"):
        inv.params["TerminationPolicies.member"] = _csv(a["termination_policies"])
    _tag_specs(inv)


def _prepare_launch_config(inv: Invocation) -> None:
    a = inv.args
    a["user_data"] = a.get("user_data") or a.get("user_data_force")
    groups: list[str] = []
    for g in a.get("group") or []:
        groups += _csv(g)
    if groups:
        inv.params["SecurityGroups.member"] = groups
    if a.get("user_data"):
        inv.params["UserData"] = base64_text(a["user_data"])
    elif a.get("user_data_file"):
        inv.params["UserData"] = read_file_b64(a["user_data_file"])
    if a.get("monitoring_enabled"):
        inv.params["InstanceMonitoring.Enabled"] = True
    elif a.get("monitoring_disabled"):
        inv.params["InstanceMonitoring.Enabled"] = False
    mappings = []
    for spec in a.get("block_device_mapping") or []:
        device, sep, target = spec.partition("=")
        if not sep:
            raise ArgumentError(f"argument -b/--block-device-mapping: '{spec}' must be "
                                "DEVICE=ephemeralN|none|SNAP:SIZE:DELETE")
        if target.startswith("ephemeral"):
            mappings.append({"DeviceName": device, "VirtualName": target})
        elif target == "none":
            mappings.append({"DeviceName": device, "NoDevice": True})
        else:
            snap, _, rest = target.partition(":")
            size, _, _ = rest.partition(":")
            ebs: dict[str, Any] = {}
            if snap:
                ebs["SnapshotId"] = snap
            if size:
                ebs["VolumeSize"] = size
            mappings.append({"DeviceName": device, "Ebs": ebs})
    if mappings:
        inv.params["BlockDeviceMappings.member"] = mappings


def _prepare_processes(inv: Invocation) -> None:
    procs: list[str] = []
    for p in inv.args.get("processes") or []:
        procs += _csv(p)
    if procs:
        inv.params["ScalingProcesses.member"] = procs


def _prepare_metrics(inv: Invocation) -> None:
    metrics: list[str] = []
    for m in inv.args.get("metrics") or []:
        metrics += _csv(m)
    if metrics:
        inv.params["Metrics.member"] = metrics


def _prepare_notification(inv: Invocation) -> None:
    types: list[str] = []
    for t in inv.args.get("notification_types") or []:
        types += _csv(t)
    inv.params["NotificationTypes.member"] = types


def _prepare_cooldown(inv: Invocation) -> None:
    if inv.args.get("honor_cooldown"):
        inv.params["HonorCooldown"] = True
    elif inv.args.get("no_honor_cooldown"):
        inv.params["HonorCooldown"] = False


def _cooldown_args() -> Group:
    return Group(Arg("-h", "--honor-cooldown", name="honor_cooldown", flag=True,
                     help="reject the request if the group is in cooldown"),
                 Arg("-H", "--no-honor-cooldown", name="no_honor_cooldown", flag=True,
                     help="override any cooldown period (default)"))


def _group_options(create: bool) -> list[Arg | Group]:
    return [
        Arg("-l", "--launch-configuration", dest="LaunchConfigurationName", metavar="LAUNCHCONFIG",
            required=create, help="name of the launch configuration to use"),
        Arg("-M", "--max-size", dest="MaxSize", type=int, metavar="COUNT", required=create,
            help="maximum group size"),
        Arg("-m", "--min-size", dest="MinSize", type=int, metavar="COUNT", required=create,
            help="minimum group size"),
        Arg("--default-cooldown", dest="DefaultCooldown", type=int, metavar="SECONDS",
            help="amount of time after a scaling activity before another may start"),
        Arg("--desired-capacity", dest="DesiredCapacity", type=int, metavar="COUNT",
            help="number of running instances the group should contain"),
        Arg("--grace-period", dest="HealthCheckGracePeriod", type=int, metavar="SECONDS",
            help="time to allow instances to start before checking their health"),
        Arg("--health-check-type", dest="HealthCheckType", choices=("EC2", "ELB"),
            metavar="{EC2,ELB}", help="service to obtain health check status from"),
        Arg("--placement-group", dest="PlacementGroup", metavar="GROUP",
            help="placement group in which to launch new instances"),
        Arg("--termination-policies", name="termination_policies", metavar="POLICY1,POLICY2,...",
            help="order in which to consider instances for termination"),
        Arg("-z", "--availability-zones", name="zones", metavar="ZONE1,ZONE2,...",
            complete="zone", help="comma-separated list of availability zones for the group"),
        Arg("--vpc-zone-identifier", dest="VPCZoneIdentifier", metavar="ZONES",
            help="comma-separated list of subnets (not supported by this cloud)"),
    ]


COMMANDS = [
    Command(
        "euscale-create-auto-scaling-group", SERVICE, "CreateAutoScalingGroup",
        "Create a new auto-scaling group",
        [_GROUP_POS, *_group_options(True),
         Arg("--load-balancers", name="load_balancers", metavar="ELB1,ELB2,...",
             help="comma-separated list of load balancers to use"),
         Arg("--tag", name="tag", multiple=True,
             metavar="\"k=KEY[, id=NAME, t=auto-scaling-group, v=VAL, p=BOOL]\"",
             help="key and optional value of a tag to create (may be repeated)"),
         Arg("--new-instances-protected-from-scale-in", dest="NewInstancesProtectedFromScaleIn",
             flag=True, help="protect new instances from scale-in")],
        prepare=_prepare_group),
    Command(
        "euscale-create-launch-config", SERVICE, "CreateLaunchConfiguration",
        "Create a new auto-scaling instance launch configuration",
        [Arg("LAUNCHCONFIG", dest="LaunchConfigurationName",
             help="name of the new launch configuration"),
         Arg("-i", "--image-id", dest="ImageId", metavar="IMAGE", required=True,
             complete="image", help="machine image to use for instances"),
         Arg("-t", "--instance-type", dest="InstanceType", metavar="TYPE", required=True,
             complete="instance-type", help="instance type for use for instances"),
         Arg("--associate-public-ip-address", dest="AssociatePublicIpAddress",
             choices=("true", "false"), metavar="{true,false}",
             help="whether to assign a public IP address to instances"),
         Arg("-b", "--block-device-mapping", name="block_device_mapping", multiple=True,
             metavar="DEVICE=MAPPED",
             help="define a block device mapping for the instances (may be repeated)"),
         Arg("--ebs-optimized", dest="EbsOptimized", flag=True,
             help="whether instances are optimized for EBS I/O"),
         Arg("-g", "--group", name="group", multiple=True, metavar="GROUP1,GROUP2,...",
             complete="group", help="security groups to associate with instances"),
         Arg("--iam-instance-profile", dest="IamInstanceProfile", metavar="PROFILE",
             help="ARN or name of the instance profile of instances"),
         Arg("--kernel", dest="KernelId", metavar="KERNEL", help="kernel image to use"),
         Arg("-k", "--key", dest="KeyName", metavar="KEYPAIR", complete="keypair",
             help="name of the key pair to use for instances"),
         Group(Arg("--monitoring-enabled", name="monitoring_enabled", flag=True,
                   help="enable detailed monitoring (default)"),
               Arg("--monitoring-disabled", name="monitoring_disabled", flag=True,
                   help="disable detailed monitoring")),
         Arg("--ramdisk", dest="RamdiskId", metavar="RAMDISK", help="ramdisk image to use"),
         Group(Arg("-d", "--user-data", name="user_data", metavar="DATA",
                   help="user data to make available to instances"),
               Arg("--user-data-force", name="user_data_force", metavar="DATA",
                   help="same as -d, even if DATA looks like a file name"),
               Arg("-f", "--user-data-file", name="user_data_file", metavar="FILE",
                   complete="file", help="file containing user data for instances")),
         Arg("--spot-price", dest="SpotPrice", metavar="PRICE",
             help="maximum hourly price for spot instances")],
        prepare=_prepare_launch_config),
    Command(
        "euscale-create-or-update-tags", SERVICE, "CreateOrUpdateTags",
        "Create or update one or more resource tags",
        [Arg("--tag", name="tag", multiple=True, required=True,
             metavar="\"id=NAME, t=auto-scaling-group, k=KEY, v=VAL, p=BOOL\"",
             help="a tag to create or update (may be repeated)")],
        prepare=_tag_specs),
    Command(
        "euscale-delete-auto-scaling-group", SERVICE, "DeleteAutoScalingGroup",
        "Delete an auto-scaling group",
        [_GROUP_POS, Arg("-d", "--force-delete", dest="ForceDelete", flag=True,
                         help="delete the group and terminate its instances")]),
    Command(
        "euscale-delete-launch-config", SERVICE, "DeleteLaunchConfiguration",
        "Delete an auto-scaling instance launch configuration",
        [Arg("LAUNCHCONFIG", dest="LaunchConfigurationName",
             help="name of the launch configuration to delete")]),
    Command(
        "euscale-delete-notification-configuration", SERVICE, "DeleteNotificationConfiguration",
        "Delete an auto-scaling group's notification configuration",
        [_GROUP_POS, Arg("-t", "--topic-arn", dest="TopicARN", metavar="TOPIC", required=True,
                         help="ARN of the SNS topic associated with the configuration")]),
    Command(
        "euscale-delete-policy", SERVICE, "DeletePolicy", "Delete a scaling policy",
        [Arg("POLICY", dest="PolicyName", help="name of the policy to delete"),
         Arg("-g", "--auto-scaling-group", dest="AutoScalingGroupName", metavar="ASGROUP",
             required=True, help="name of the auto-scaling group the policy is associated with")]),
    Command(
        "euscale-delete-scheduled-action", SERVICE, "DeleteScheduledAction",
        "Delete a scheduled action",
        [Arg("ACTION", dest="ScheduledActionName", help="name of the scheduled action to delete"),
         Arg("-g", "--auto-scaling-group", dest="AutoScalingGroupName", metavar="ASGROUP",
             required=True, help="name of the auto-scaling group the action is associated with")]),
    Command(
        "euscale-delete-tags", SERVICE, "DeleteTags", "Delete one or more resource tags",
        [Arg("--tag", name="tag", multiple=True, required=True,
             metavar="\"id=NAME, t=auto-scaling-group, k=KEY, v=VAL, p=BOOL\"",
             help="a tag to delete (may be repeated)")],
        prepare=_tag_specs),
    Command(
        "euscale-describe-account-limits", SERVICE, "DescribeAccountLimits",
        "Describe your account's limits on auto-scaling resources", [],
        output=_print_limits),
    Command(
        "euscale-describe-adjustment-types", SERVICE, "DescribeAdjustmentTypes",
        "Describe policy adjustment types usable with scaling policies", [],
        output=_lister("ADJUSTMENT-TYPE", "AdjustmentTypes", "AdjustmentType")),
    Command(
        "euscale-describe-auto-scaling-groups", SERVICE, "DescribeAutoScalingGroups",
        "Describe auto-scaling groups",
        [Arg("ASGROUP", dest="AutoScalingGroupNames.member", nargs="*",
             help="limit results to specific auto-scaling groups"), _SHOW_LONG],
        output=_print_groups),
    Command(
        "euscale-describe-auto-scaling-instances", SERVICE, "DescribeAutoScalingInstances",
        "Describe instances in auto-scaling groups",
        [Arg("INSTANCE", dest="InstanceIds.member", nargs="*", complete="instance",
             help="limit results to specific instances"), _SHOW_LONG],
        output=_print_instances),
    Command(
        "euscale-describe-auto-scaling-notification-types", SERVICE,
        "DescribeAutoScalingNotificationTypes",
        "List all notification types supported by the service", [],
        output=_lister("NOTIFICATION-TYPE", "AutoScalingNotificationTypes", None)),
    Command(
        "euscale-describe-launch-configs", SERVICE, "DescribeLaunchConfigurations",
        "Describe auto-scaling instance launch configurations",
        [Arg("LAUNCHCONFIG", dest="LaunchConfigurationNames.member", nargs="*",
             help="limit results to specific launch configurations"), _SHOW_LONG],
        output=_print_launch_configs),
    Command(
        "euscale-describe-metric-collection-types", SERVICE, "DescribeMetricCollectionTypes",
        "Describe auto-scaling metrics and granularities", [], output=_print_metric_types),
    Command(
        "euscale-describe-notification-configurations", SERVICE,
        "DescribeNotificationConfigurations",
        "Describe notification actions associated with auto-scaling groups",
        [Arg("ASGROUP", dest="AutoScalingGroupNames.member", nargs="*",
             help="limit results to specific auto-scaling groups")],
        output=_print_notifications),
    Command(
        "euscale-describe-policies", SERVICE, "DescribePolicies", "Describe auto-scaling policies",
        [Arg("POLICY", dest="PolicyNames.member", nargs="*",
             help="limit results to specific auto-scaling policies"),
         Arg("-g", "--auto-scaling-group", dest="AutoScalingGroupName", metavar="ASGROUP",
             help="limit results to a specific auto-scaling group"), _SHOW_LONG],
        output=_print_policies),
    Command(
        "euscale-describe-process-types", SERVICE, "DescribeScalingProcessTypes",
        "List all types of scaling processes", [],
        output=_lister("PROCESS", "Processes", "ProcessName")),
    Command(
        "euscale-describe-scaling-activities", SERVICE, "DescribeScalingActivities",
        "Describe past and current auto-scaling activities",
        [Arg("ACTIVITY", dest="ActivityIds.member", nargs="*",
             help="limit results to specific auto-scaling activities"),
         Arg("-g", "--auto-scaling-group", dest="AutoScalingGroupName", metavar="ASGROUP",
             help="limit results to a specific auto-scaling group"), _SHOW_LONG],
        output=_print_activities),
    Command(
        "euscale-describe-scheduled-actions", SERVICE, "DescribeScheduledActions",
        "Describe scheduled auto-scaling group actions",
        [Arg("ACTION", dest="ScheduledActionNames.member", nargs="*",
             help="limit results to specific actions"),
         Arg("-g", "--group", dest="AutoScalingGroupName", metavar="ASGROUP",
             help="limit results to a specific auto-scaling group"),
         Arg("--start-time", dest="StartTime", metavar="TIME",
             help="earliest start time to return (ISO 8601)"),
         Arg("--end-time", dest="EndTime", metavar="TIME",
             help="latest start time to return (ISO 8601)"), _SHOW_LONG],
        output=_print_scheduled),
    Command(
        "euscale-describe-tags", SERVICE, "DescribeTags", "Describe auto-scaling tags", [],
        filters=("auto-scaling-group", "key", "value", "propagate-at-launch"),
        prepare=lambda inv: inv.params.update(
            {"Filters.member": [{"Name": f["Name"], "Values.member": f["Value"]}
                                for f in inv.params.pop("Filter", [])]}),
        output=_print_tags),
    Command(
        "euscale-describe-termination-policy-types", SERVICE, "DescribeTerminationPolicyTypes",
        "List all termination policies supported by the service", [],
        output=_lister("TERMINATION-POLICY-TYPE", "TerminationPolicyTypes", None)),
    Command(
        "euscale-disable-metrics-collection", SERVICE, "DisableMetricsCollection",
        "Disable monitoring of an auto-scaling group's group metrics",
        [_GROUP_POS, Arg("-m", "--metrics", name="metrics", multiple=True,
                         metavar="METRIC1,METRIC2,...",
                         help="list of metrics to disable (default: all metrics)")],
        prepare=_prepare_metrics),
    Command(
        "euscale-enable-metrics-collection", SERVICE, "EnableMetricsCollection",
        "Enable monitoring of an auto-scaling group's group metrics",
        [_GROUP_POS,
         Arg("-g", "--granularity", dest="Granularity", metavar="GRANULARITY", required=True,
             help="granularity at which to collect metrics (e.g., '1Minute')"),
         Arg("-m", "--metrics", name="metrics", multiple=True, metavar="METRIC1,METRIC2,...",
             help="list of metrics to collect (default: all metrics)")],
        prepare=_prepare_metrics),
    Command(
        "euscale-execute-policy", SERVICE, "ExecutePolicy",
        "Manually set an auto-scaling instance's health status",
        [Arg("POLICY", dest="PolicyName", help="name or ARN of the policy to run"),
         Arg("-g", "--auto-scaling-group", dest="AutoScalingGroupName", metavar="ASGROUP",
             help="name or ARN of the auto-scaling group"), _cooldown_args()],
        prepare=_prepare_cooldown),
    Command(
        "euscale-put-notification-configuration", SERVICE, "PutNotificationConfiguration",
        "Create or replace an auto-scaling group's notification configuration",
        [_GROUP_POS,
         Arg("-n", "--notification-types", name="notification_types", multiple=True,
             required=True, metavar="TYPE1,TYPE2,...",
             help="comma-separated list of event types that will trigger notification"),
         Arg("-t", "--topic-arn", dest="TopicARN", metavar="TOPIC", required=True,
             help="ARN of the SNS topic to publish notifications to")],
        prepare=_prepare_notification),
    Command(
        "euscale-put-scaling-policy", SERVICE, "PutScalingPolicy",
        "Create or update an auto-scaling group's scaling policy; prints the policy's ARN",
        [Arg("POLICY", dest="PolicyName", help="name of the policy to create or update"),
         Arg("-g", "--auto-scaling-group", dest="AutoScalingGroupName", metavar="ASGROUP",
             required=True, help="name of the auto-scaling group the policy is associated with"),
         Arg("-a", "--adjustment", dest="ScalingAdjustment", type=int, metavar="SCALE",
             required=True, help="amount to scale the group's capacity of instances"),
         Arg("-t", "--type", dest="AdjustmentType", required=True,
             choices=("ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"),
             metavar="{ChangeInCapacity,ExactCapacity,PercentChangeInCapacity}",
             help="whether the adjustment is the new desired size or an increment to the "
             "group's current capacity"),
         Arg("--cooldown", dest="Cooldown", type=int, metavar="SECONDS",
             help="waiting period after successful auto-scaling activities"),
         Arg("-s", "--min-adjustment-step", dest="MinAdjustmentStep", type=int,
             metavar="PERCENT",
             help="for PercentChangeInCapacity policies, minimum change in the group's "
             "capacity")],
        output=lambda inv, result: inv.echo(str(result.get("PolicyARN", "")))),
    Command(
        "euscale-put-scheduled-update-group-action", SERVICE, "PutScheduledUpdateGroupAction",
        "Schedule a scaling action for an auto-scaling group",
        [Arg("ACTION", dest="ScheduledActionName", help="name of the new scheduled action"),
         Arg("-g", "--auto-scaling-group", dest="AutoScalingGroupName", metavar="ASGROUP",
             required=True, help="auto-scaling group the new action should affect"),
         Arg("-b", "--start-time", dest="StartTime", metavar="TIME",
             help="time for this action to start (ISO 8601)"),
         Arg("-e", "--end-time", dest="EndTime", metavar="TIME",
             help="time for this action to end (ISO 8601)"),
         Arg("-r", "--recurrence", dest="Recurrence", metavar="CRONSPEC",
             help="time when recurring future actions will start, in crontab format"),
         Arg("--time-zone", dest="TimeZone", metavar="ZONE",
             help="time zone of the recurrence (IANA name, default UTC)"),
         Arg("--desired-capacity", dest="DesiredCapacity", type=int, metavar="COUNT",
             help="new capacity setting for the group"),
         Arg("--max-size", dest="MaxSize", type=int, metavar="COUNT",
             help="maximum number of instances to allow in the group"),
         Arg("--min-size", dest="MinSize", type=int, metavar="COUNT",
             help="minimum number of instances to allow in the group")]),
    Command(
        "euscale-resume-processes", SERVICE, "ResumeProcesses",
        "Resume an auto-scaling group's auto-scaling processes",
        [_GROUP_POS, Arg("--processes", name="processes", multiple=True,
                         metavar="PROCESS1,PROCESS2,...",
                         help="comma-separated list of auto-scaling processes to resume "
                         "(default: all processes)")],
        prepare=_prepare_processes),
    Command(
        "euscale-set-desired-capacity", SERVICE, "SetDesiredCapacity",
        "Set an auto-scaling group's desired capacity",
        [_GROUP_POS,
         Arg("-c", "--desired-capacity", dest="DesiredCapacity", type=int, metavar="COUNT",
             required=True, help="new capacity setting for the group"), _cooldown_args()],
        prepare=_prepare_cooldown),
    Command(
        "euscale-set-instance-health", SERVICE, "SetInstanceHealth",
        "Manually set an auto-scaling instance's health status",
        [Arg("INSTANCE", dest="InstanceId", complete="instance",
             help="ID of the instance to update"),
         Arg("-s", "--status", dest="HealthStatus", required=True,
             choices=("Healthy", "Unhealthy"), metavar="{Healthy,Unhealthy}",
             help="new status"),
         Group(Arg("--respect-grace-period", name="respect", flag=True,
                   help="respect the group's health check grace period"),
               Arg("--no-respect-grace-period", name="no_respect", flag=True,
                   help="ignore the group's health check grace period (default)"))],
        prepare=lambda inv: inv.params.update(
            {"ShouldRespectGracePeriod": bool(inv.args.get("respect"))})),
    Command(
        "euscale-suspend-processes", SERVICE, "SuspendProcesses",
        "Suspend an auto-scaling group's auto-scaling processes",
        [_GROUP_POS, Arg("--processes", name="processes", multiple=True,
                         metavar="PROCESS1,PROCESS2,...",
                         help="comma-separated list of auto-scaling processes to suspend "
                         "(default: all processes)")],
        prepare=_prepare_processes),
    Command(
        "euscale-terminate-instance-in-auto-scaling-group", SERVICE,
        "TerminateInstanceInAutoScalingGroup",
        "Manually terminate an auto-scaling instance",
        [Arg("INSTANCE", dest="InstanceId", complete="instance",
             help="ID of the instance to terminate"),
         Group(Arg("-d", "--decrement-desired-capacity", name="decrement", flag=True,
                   help="also reduce the desired capacity of the auto-scaling group by 1"),
               Arg("-D", "--no-decrement-desired-capacity", name="no_decrement", flag=True,
                   help="leave the auto-scaling group's desired capacity as-is; a new "
                   "instance may be launched to compensate"), required=True),
         _SHOW_LONG],
        prepare=lambda inv: inv.params.update(
            {"ShouldDecrementDesiredCapacity": bool(inv.args.get("decrement"))}),
        output=_print_one_activity),
    Command(
        "euscale-update-auto-scaling-group", SERVICE, "UpdateAutoScalingGroup",
        "Update an auto-scaling group's parameters",
        [_GROUP_POS, *_group_options(False)],
        prepare=_prepare_group),
]
