"""The Auto Scaling service (Query API 2011-01-01) at ``/services/AutoScaling``.

``setup(cloud)`` builds the :class:`~server.autoscaling.controller.AutoScaling` component
(``cloud.components["autoscaling"]``, and its alarm hook
``cloud.components["scaling_policies"]``), registers the service and starts the groups'
loops with the cloud.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.auth.authz import Action, action, arn
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


def _a(handler: Handler, name: str, resources: object = None) -> Action:
    if resources is None:
        return action(handler, f"autoscaling:{name}")
    return action(handler, f"autoscaling:{name}", resources=resources)  # type: ignore[arg-type]


ACTIONS: dict[str, Action] = {
    "CreateLaunchConfiguration": _a(launchconfigs.create_launch_configuration,
                                    "CreateLaunchConfiguration", _lc_arn),
    "DescribeLaunchConfigurations": _a(launchconfigs.describe_launch_configurations,
                                       "DescribeLaunchConfigurations"),
    "DeleteLaunchConfiguration": _a(launchconfigs.delete_launch_configuration,
                                    "DeleteLaunchConfiguration", _lc_arn),
    "CreateAutoScalingGroup": _a(groups.create_auto_scaling_group, "CreateAutoScalingGroup",
                                 _group_arn),
    "UpdateAutoScalingGroup": _a(groups.update_auto_scaling_group, "UpdateAutoScalingGroup",
                                 _group_arn),
    "DeleteAutoScalingGroup": _a(groups.delete_auto_scaling_group, "DeleteAutoScalingGroup",
                                 _group_arn),
    "DescribeAutoScalingGroups": _a(groups.describe_auto_scaling_groups,
                                    "DescribeAutoScalingGroups"),
    "SetDesiredCapacity": _a(groups.set_desired_capacity, "SetDesiredCapacity", _group_arn),
    "SuspendProcesses": _a(groups.suspend_processes, "SuspendProcesses", _group_arn),
    "ResumeProcesses": _a(groups.resume_processes, "ResumeProcesses", _group_arn),
    "EnableMetricsCollection": _a(groups.enable_metrics_collection, "EnableMetricsCollection",
                                  _group_arn),
    "DisableMetricsCollection": _a(groups.disable_metrics_collection,
                                   "DisableMetricsCollection", _group_arn),
    "PutNotificationConfiguration": _a(groups.put_notification_configuration,
                                       "PutNotificationConfiguration", _group_arn),
    "DeleteNotificationConfiguration": _a(groups.delete_notification_configuration,
                                          "DeleteNotificationConfiguration", _group_arn),
    "DescribeNotificationConfigurations": _a(groups.describe_notification_configurations,
                                             "DescribeNotificationConfigurations"),
    "DescribeAutoScalingInstances": _a(members.describe_auto_scaling_instances,
                                       "DescribeAutoScalingInstances"),
    "SetInstanceHealth": _a(members.set_instance_health, "SetInstanceHealth"),
    "SetInstanceProtection": _a(members.set_instance_protection, "SetInstanceProtection",
                                _group_arn),
    "TerminateInstanceInAutoScalingGroup": _a(members.terminate_instance_in_group,
                                              "TerminateInstanceInAutoScalingGroup"),
    "AttachInstances": _a(members.attach_instances, "AttachInstances", _group_arn),
    "DetachInstances": _a(members.detach_instances, "DetachInstances", _group_arn),
    "EnterStandby": _a(members.enter_standby, "EnterStandby", _group_arn),
    "ExitStandby": _a(members.exit_standby, "ExitStandby", _group_arn),
    "DescribeScalingActivities": _a(members.describe_scaling_activities,
                                    "DescribeScalingActivities"),
    "CreateOrUpdateTags": _a(tags.create_or_update_tags, "CreateOrUpdateTags"),
    "DeleteTags": _a(tags.delete_tags, "DeleteTags"),
    "DescribeTags": _a(tags.describe_tags, "DescribeTags"),
    "PutScalingPolicy": _a(policies.put_scaling_policy, "PutScalingPolicy", _group_arn),
    "ExecutePolicy": _a(policies.execute_policy, "ExecutePolicy", _group_arn),
    "DescribePolicies": _a(policies.describe_policies, "DescribePolicies"),
    "DeletePolicy": _a(policies.delete_policy, "DeletePolicy", _group_arn),
    "PutScheduledUpdateGroupAction": _a(policies.put_scheduled_update_group_action,
                                        "PutScheduledUpdateGroupAction", _group_arn),
    "DescribeScheduledActions": _a(policies.describe_scheduled_actions,
                                   "DescribeScheduledActions"),
    "DeleteScheduledAction": _a(policies.delete_scheduled_action, "DeleteScheduledAction",
                                _group_arn),
    "PutLifecycleHook": _a(hooks.put_lifecycle_hook, "PutLifecycleHook", _group_arn),
    "DeleteLifecycleHook": _a(hooks.delete_lifecycle_hook, "DeleteLifecycleHook", _group_arn),
    "DescribeLifecycleHooks": _a(hooks.describe_lifecycle_hooks, "DescribeLifecycleHooks"),
    "CompleteLifecycleAction": _a(hooks.complete_lifecycle_action, "CompleteLifecycleAction",
                                  _group_arn),
    "RecordLifecycleActionHeartbeat": _a(hooks.record_lifecycle_action_heartbeat,
                                         "RecordLifecycleActionHeartbeat", _group_arn),
    "DescribeAccountLimits": _a(info.describe_account_limits, "DescribeAccountLimits"),
    "DescribeAdjustmentTypes": _a(info.describe_adjustment_types, "DescribeAdjustmentTypes"),
    "DescribeScalingProcessTypes": _a(info.describe_scaling_process_types,
                                      "DescribeScalingProcessTypes"),
    "DescribeTerminationPolicyTypes": _a(info.describe_termination_policy_types,
                                         "DescribeTerminationPolicyTypes"),
    "DescribeMetricCollectionTypes": _a(info.describe_metric_collection_types,
                                        "DescribeMetricCollectionTypes"),
    "DescribeAutoScalingNotificationTypes": _a(info.describe_notification_types,
                                               "DescribeAutoScalingNotificationTypes"),
    "DescribeLifecycleHookTypes": _a(info.describe_lifecycle_hook_types,
                                     "DescribeLifecycleHookTypes"),
}


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
