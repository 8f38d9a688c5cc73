"""Lifecycle hooks: Put/Delete/DescribeLifecycleHooks, CompleteLifecycleAction and
RecordLifecycleActionHeartbeat.  Members wait in Pending:Wait / Terminating:Wait until
the action completes or its heartbeat timeout passes (then the hook's DefaultResult)."""

from __future__ import annotations

from typing import Any

from server import errors
from server.autoscaling.common import LimitExceeded, find_group, int_param, name_param, service
from server.autoscaling.controller import LAUNCHING, TERMINATING
from server.autoscaling.model import Group, LifecycleHook, Member
from server.protocol.query import Context

MAX_HOOKS = 50
RESULTS = ("CONTINUE", "ABANDON")


def put_lifecycle_hook(ctx: Context) -> Any:
    """PutLifecycleHook: create or update a hook of a group."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    name = name_param(ctx, "LifecycleHookName")
    key = f"{ctx.account_id}/{group.name}/{name}"
    previous = svc.hooks.get(key)
    transition = ctx.params.get("LifecycleTransition") or (previous.transition if previous
                                                           else None)
    if transition not in (LAUNCHING, TERMINATING):
        raise errors.ValidationError(f"Invalid LifecycleTransition {transition}: "
                                     f"{LAUNCHING} or {TERMINATING}")
    timeout = int_param(ctx, "HeartbeatTimeout", previous.heartbeat_timeout if previous
                        else 3600, minimum=30)
    if timeout > 7200:
        raise errors.ValidationError("HeartbeatTimeout must be at most 7200 seconds")
    result = ctx.params.get("DefaultResult") or (previous.default_result if previous
                                                 else "ABANDON")
    if result not in RESULTS:
        raise errors.ValidationError(f"Invalid DefaultResult {result}: CONTINUE or ABANDON")
    if previous is None and sum(1 for h in svc.hooks.values() if h.account_id == ctx.account_id
                                and h.group == group.name) >= MAX_HOOKS:
        raise LimitExceeded(f"A group can have at most {MAX_HOOKS} lifecycle hooks")
    hook = LifecycleHook(key, ctx.account_id, name, group.name, transition, timeout, result,
                         ctx.params.get("NotificationMetadata") or "",
                         ctx.params.get("NotificationTargetARN") or "",
                         ctx.params.get("RoleARN") or "")
    svc.hooks[key] = hook
    svc.save(hook)
    return {}


def delete_lifecycle_hook(ctx: Context) -> Any:
    """DeleteLifecycleHook."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    name = name_param(ctx, "LifecycleHookName")
    hook = svc.hooks.pop(f"{ctx.account_id}/{group.name}/{name}", None)
    if hook is None:
        raise errors.ValidationError(f"No Lifecycle Hook found with name {name} for group "
                                     f"{group.name}")
    svc.forget(hook)
    return {}


def describe_lifecycle_hooks(ctx: Context) -> Any:
    """DescribeLifecycleHooks of a group."""
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    names = ctx.params.strings("LifecycleHookNames")
    hooks = sorted((h for h in svc.hooks.values() if h.account_id == ctx.account_id
                    and h.group == group.name and (not names or h.name in names)),
                   key=lambda h: h.name)
    return {"LifecycleHooks": [{
        "LifecycleHookName": h.name, "AutoScalingGroupName": h.group,
        "LifecycleTransition": h.transition, "NotificationTargetARN": h.target_arn or None,
        "RoleARN": h.role_arn or None, "NotificationMetadata": h.metadata or None,
        "HeartbeatTimeout": h.heartbeat_timeout, "GlobalTimeout": h.heartbeat_timeout * 100,
        "DefaultResult": h.default_result} for h in hooks]}


def _waiting(ctx: Context) -> tuple[Group, Member]:
    svc = service(ctx)
    group = find_group(ctx, name_param(ctx, "AutoScalingGroupName"))
    hook_name = name_param(ctx, "LifecycleHookName")
    if f"{ctx.account_id}/{group.name}/{hook_name}" not in svc.hooks:
        raise errors.ValidationError(f"No Lifecycle Hook found with name {hook_name} for group "
                                     f"{group.name}")
    iid = ctx.params.get("InstanceId")
    token = ctx.params.get("LifecycleActionToken")
    if not iid and not token:
        raise errors.ValidationError("Give an InstanceId or a LifecycleActionToken")
    for m in group.members.values():
        if (iid and m["id"] == iid) or (token and m.get("hook_token") == token):
            member = Member(**m)
            if member.lifecycle.endswith(":Wait"):
                return group, member
    raise errors.ValidationError("No active Lifecycle Action found with "
                                 f"{'instance ID ' + iid if iid else 'token ' + str(token)}")


def complete_lifecycle_action(ctx: Context) -> Any:
    """CompleteLifecycleAction: CONTINUE or ABANDON a waiting member."""
    result = name_param(ctx, "LifecycleActionResult")
    if result not in RESULTS:
        raise errors.ValidationError(f"Invalid LifecycleActionResult {result}: CONTINUE or "
                                     "ABANDON")
    group, member = _waiting(ctx)
    service(ctx).complete_lifecycle(group, member.id, result)
    return {}


def record_lifecycle_action_heartbeat(ctx: Context) -> Any:
    """RecordLifecycleActionHeartbeat: restart the wait's timeout."""
    svc = service(ctx)
    group, member = _waiting(ctx)
    hooks = svc.group_hooks(group, LAUNCHING if member.lifecycle == "Pending:Wait"
                            else TERMINATING)
    member.hook_deadline = ctx.cloud.clock.now() + max(
        (h.heartbeat_timeout for h in hooks), default=3600)
    svc.put_member(group, member)
    svc.save(group)
    return {}
