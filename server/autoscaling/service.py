"""The Auto Scaling service (Query API 2011-01-01) at ``/services/AutoScaling``.

``setup(cloud)`` builds the :class:`~server.autoscaling.controller.AutoScaling` component
(``cloud.components["autoscaling"]``, and its alarm hook
``cloud.components["scaling_policies"]``), registers the service and starts the groups'
loops with the cloud.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.auth.authz import Action, arn, service_actions
from server.autoscaling import (
    groups,
    hooks,
    info,
    launchconfigs,
    members,
    policies,
    service_role,
    tags,
)
from server.autoscaling.controller import AutoScaling, ScalingPolicies
from server.protocol.query import Context, Handler, QueryService

if TYPE_CHECKING:
    from server.cloud import Cloud

API_VERSION = "2011-01-01"


def _group_arn(ctx: Context) -> list[str]:
    name = ctx.params.get("AutoScalingGroupName")
    if not isinstance(name, str) or not name:
        return ["*"]
    if name.startswith("arn:"):
        return [name]
    return [arn(ctx, "autoscaling", f"autoScalingGroup:*:autoScalingGroupName/{name}")]


def _lc_arn(ctx: Context) -> list[str]:
    name = ctx.params.get("LaunchConfigurationName")
    if not isinstance(name, str) or not name:
        return ["*"]
    return [arn(ctx, "autoscaling", f"launchConfiguration:*:launchConfigurationName/{name}")]


ACTIONS: dict[str, Action] = service_actions("autoscaling", {
    "CreateLaunchConfiguration": (launchconfigs.create_launch_configuration, _lc_arn),
    "DescribeLaunchConfigurations": launchconfigs.describe_launch_configurations,
    "DeleteLaunchConfiguration": (launchconfigs.delete_launch_configuration, _lc_arn),
    "CreateAutoScalingGroup": (groups.create_auto_scaling_group, _group_arn),
    "UpdateAutoScalingGroup": (groups.update_auto_scaling_group, _group_arn),
    "DeleteAutoScalingGroup": (groups.delete_auto_scaling_group, _group_arn),
    "DescribeAutoScalingGroups": groups.describe_auto_scaling_groups,
    "SetDesiredCapacity": (groups.set_desired_capacity, _group_arn),
    "SuspendProcesses": (groups.suspend_processes, _group_arn),
    "ResumeProcesses": (groups.resume_processes, _group_arn),
    "EnableMetricsCollection": (groups.enable_metrics_collection, _group_arn),
    "DisableMetricsCollection": (groups.disable_metrics_collection, _group_arn),
    "PutNotificationConfiguration": (groups.put_notification_configuration, _group_arn),
    "DeleteNotificationConfiguration": (groups.delete_notification_configuration, _group_arn),
    "DescribeNotificationConfigurations": groups.describe_notification_configurations,
    "DescribeAutoScalingInstances": members.describe_auto_scaling_instances,
    "SetInstanceHealth": members.set_instance_health,
    "SetInstanceProtection": (members.set_instance_protection, _group_arn),
    "TerminateInstanceInAutoScalingGroup": members.terminate_instance_in_group,
    "AttachInstances": (members.attach_instances, _group_arn),
    "DetachInstances": (members.detach_instances, _group_arn),
    "EnterStandby": (members.enter_standby, _group_arn),
    "ExitStandby": (members.exit_standby, _group_arn),
    "DescribeScalingActivities": members.describe_scaling_activities,
    "CreateOrUpdateTags": tags.create_or_update_tags,
    "DeleteTags": tags.delete_tags,
    "DescribeTags": tags.describe_tags,
    "PutScalingPolicy": (policies.put_scaling_policy, _group_arn),
    "ExecutePolicy": (policies.execute_policy, _group_arn),
    "DescribePolicies": policies.describe_policies,
    "DeletePolicy": (policies.delete_policy, _group_arn),
    "PutScheduledUpdateGroupAction": (policies.put_scheduled_update_group_action, _group_arn),
    "DescribeScheduledActions": policies.describe_scheduled_actions,
    "DeleteScheduledAction": (policies.delete_scheduled_action, _group_arn),
    "PutLifecycleHook": (hooks.put_lifecycle_hook, _group_arn),
    "DeleteLifecycleHook": (hooks.delete_lifecycle_hook, _group_arn),
    "DescribeLifecycleHooks": hooks.describe_lifecycle_hooks,
    "CompleteLifecycleAction": (hooks.complete_lifecycle_action, _group_arn),
    "RecordLifecycleActionHeartbeat": (hooks.record_lifecycle_action_heartbeat, _group_arn),
    "DescribeAccountLimits": info.describe_account_limits,
    "DescribeAdjustmentTypes": info.describe_adjustment_types,
    "DescribeScalingProcessTypes": info.describe_scaling_process_types,
    "DescribeTerminationPolicyTypes": info.describe_termination_policy_types,
    "DescribeMetricCollectionTypes": info.describe_metric_collection_types,
    "DescribeAutoScalingNotificationTypes": info.describe_notification_types,
    "DescribeLifecycleHookTypes": info.describe_lifecycle_hook_types,
})


class AutoScalingService(QueryService):
    """The Auto Scaling Query API."""

    signing_names = ("autoscaling",)
    iam_prefix = "autoscaling"
    path = "/services/AutoScaling"
    api_version = API_VERSION
    xmlns = f"http://autoscaling.amazonaws.com/doc/{API_VERSION}/"

    def action_table(self) -> dict[str, Handler]:
        """Every Auto Scaling action."""
        return dict(ACTIONS)


def setup(cloud: Cloud) -> None:
    """Build the component, register the service, start the loops with the cloud."""
    component = AutoScaling(cloud)
    cloud.components["autoscaling"] = component
    cloud.identity.roles.in_use[service_role.ROLE_PATH] = service_role.groups_using(cloud)
    cloud.components["scaling_policies"] = ScalingPolicies(component)
    cloud.app.register(AutoScalingService(cloud))
    cloud.start_hooks.append(component.start)
