"""Shared pieces of the Auto Scaling handlers: errors, lookups, typed parameters, paging."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server import errors
from server.autoscaling.model import Group

if TYPE_CHECKING:
    from server.autoscaling.controller import AutoScaling
    from server.protocol.query import Context

AlreadyExists = errors._error("AlreadyExists", "AlreadyExists")
ResourceInUse = errors._error("ResourceInUse", "ResourceInUse")
LimitExceeded = errors._error("LimitExceeded", "LimitExceeded")
ScalingActivityInProgress = errors._error("ScalingActivityInProgress",
                                          "ScalingActivityInProgress")
InvalidNextToken = errors._error("InvalidNextToken", "InvalidNextToken")

#: Account limits (AWS's defaults), as DescribeAccountLimits reports them.
MAX_GROUPS = 200
MAX_LAUNCH_CONFIGS = 200
MAX_GROUP_SIZE = 10000
NAME_MAX = 255


def service(ctx: Context) -> AutoScaling:
    """The Auto Scaling component."""
    component: AutoScaling = ctx.cloud.components["autoscaling"]
    return component


def name_param(ctx: Context, param: str, *, required: bool = True) -> str:
    """A name parameter: 1-255 characters."""
    value = ctx.params.get(param)
    if value is None or value == "":
        if required:
            raise errors.ValidationError(
                f"1 validation error detected: Value null at '{_camel(param)}' failed to "
                "satisfy constraint: Member must not be null")
        return ""
    if not isinstance(value, str):
        raise errors.ValidationError(f"Invalid value for parameter {param}")
    if len(value) > NAME_MAX:
        raise errors.ValidationError(
            f"1 validation error detected: Value '{value}' at '{_camel(param)}' failed to "
            f"satisfy constraint: Member must have length less than or equal to {NAME_MAX}")
    return value


def int_param(ctx: Context, param: str, default: int | None = None, *,
              minimum: int | None = 0) -> Any:
    """An integer parameter, as AWS validates it (ValidationError)."""
    value = ctx.params.get(param)
    if value is None or value == "":
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise errors.ValidationError(f"Value '{value}' at '{_camel(param)}' failed to satisfy "
                                     "constraint: Member must be an integer") from None
    if minimum is not None and number < minimum:
        raise errors.ValidationError(
            f"1 validation error detected: Value '{number}' at '{_camel(param)}' failed to "
            f"satisfy constraint: Member must have value greater than or equal to {minimum}")
    return number


def bool_param(ctx: Context, param: str, default: bool | None = None) -> Any:
    """A boolean parameter (ValidationError when malformed)."""
    value = ctx.params.get(param)
    if value is None or value == "":
        return default
    low = str(value).lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise errors.ValidationError(f"Value '{value}' at '{_camel(param)}' failed to satisfy "
                                 "constraint: Member must be a boolean")


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def find_group(ctx: Context, name: str) -> Group:
    """The caller's group by name or ARN."""
    svc = service(ctx)
    if name.startswith("arn:"):
        group = next((g for g in svc.groups.values() if g.arn == name
                      and g.account_id == ctx.account_id), None)
    else:
        group = svc.groups.get(f"{ctx.account_id}/{name}")
    if group is None:
        raise errors.ValidationError(f"AutoScalingGroup name not found - {name}")
    return group


def member_group(ctx: Context, instance_id: str) -> Group:
    """The caller's group that has ``instance_id``."""
    for group in service(ctx).groups.values():
        if group.account_id == ctx.account_id and instance_id in group.members:
            return group
    raise errors.ValidationError(f"Instance Id not found - No managed instance found for "
                                 f"instance ID: {instance_id}")


def page(ctx: Context, items: list[Any], limit: int = 50, maximum: int = 100) -> tuple[
        list[Any], str | None]:
    """A page of ``items`` by MaxRecords / NextToken (a plain offset)."""
    size = int_param(ctx, "MaxRecords", limit, minimum=1)
    if size > maximum:
        raise errors.ValidationError(f"MaxRecords must be at most {maximum}")
    token = ctx.params.get("NextToken") or "0"
    try:
        start = int(str(token))
    except ValueError:
        raise InvalidNextToken("The token is not valid.") from None
    if start < 0 or start > len(items):
        raise InvalidNextToken("The token is not valid.")
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)
