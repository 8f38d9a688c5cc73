"""The Describe*Types calls and DescribeAccountLimits."""

from __future__ import annotations

from typing import Any

from server.autoscaling.common import MAX_GROUPS, MAX_LAUNCH_CONFIGS, service
from server.autoscaling.groups import METRICS, NOTIFICATION_TYPES
from server.autoscaling.model import PROCESSES, TERMINATION_POLICIES
from server.autoscaling.policies import ADJUSTMENT_TYPES
from server.protocol.query import Context


def describe_account_limits(ctx: Context) -> Any:
    """DescribeAccountLimits: the limits and what the caller uses of them."""
    svc = service(ctx)
    return {"MaxNumberOfAutoScalingGroups": MAX_GROUPS,
            "MaxNumberOfLaunchConfigurations": MAX_LAUNCH_CONFIGS,
            "NumberOfAutoScalingGroups": sum(1 for g in svc.groups.values()
                                             if g.account_id == ctx.account_id),
            "NumberOfLaunchConfigurations": sum(1 for lc in svc.launch_configs.values()
                                                if lc.account_id == ctx.account_id)}


def describe_adjustment_types(ctx: Context) -> Any:
    """DescribeAdjustmentTypes."""
    return {"AdjustmentTypes": [{"AdjustmentType": t} for t in ADJUSTMENT_TYPES]}


def describe_scaling_process_types(ctx: Context) -> Any:
    """DescribeScalingProcessTypes."""
    return {"Processes": [{"ProcessName": p} for p in PROCESSES]}


def describe_termination_policy_types(ctx: Context) -> Any:
    """DescribeTerminationPolicyTypes."""
    return {"TerminationPolicyTypes": list(TERMINATION_POLICIES)}


def describe_metric_collection_types(ctx: Context) -> Any:
    """DescribeMetricCollectionTypes."""
    return {"Metrics": [{"Metric": m} for m in METRICS],
            "Granularities": [{"Granularity": "1Minute"}]}


def describe_notification_types(ctx: Context) -> Any:
    """DescribeAutoScalingNotificationTypes."""
    return {"AutoScalingNotificationTypes": list(NOTIFICATION_TYPES)}


def describe_lifecycle_hook_types(ctx: Context) -> Any:
    """DescribeLifecycleHookTypes."""
    return {"LifecycleHookTypes": ["autoscaling:EC2_INSTANCE_LAUNCHING",
                                   "autoscaling:EC2_INSTANCE_TERMINATING"]}
