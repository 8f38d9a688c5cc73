"""Attribute handlers: a balancer's (idle timeout, deletion protection, ...) and a
target group's (deregistration delay, lb_cookie stickiness, algorithm, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server import errors
from server.elb.common import int_value
from server.elbv2 import errors as v2_errors
from server.elbv2.common import component, find_lb, find_tg
from server.elbv2.model import HTTP_PROTOCOLS
from server.protocol.query import Context

Check = Callable[[str, str], str]


def _bool(key: str, value: str) -> str:
    if value.lower() not in ("true", "false"):
        raise errors.ValidationError(f"The value of '{key}' must be true or false")
    return value.lower()


def _int(low: int, high: int) -> Check:
    def check(key: str, value: str) -> str:
        return str(int_value(value, key, low, high))
    return check


def _text(key: str, value: str) -> str:
    if len(value) > 1024:
        raise errors.ValidationError(f"The value of '{key}' is too long")
    return value


def _choice(*values: str) -> Check:
    def check(key: str, value: str) -> str:
        if value not in values:
            raise errors.ValidationError(f"The value of '{key}' must be one of "
                                         f"{', '.join(values)}")
        return value
    return check


LB_CHECKS: dict[str, Check] = {
    "deletion_protection.enabled": _bool, "access_logs.s3.enabled": _bool,
    "access_logs.s3.bucket": _text, "access_logs.s3.prefix": _text,
    "idle_timeout.timeout_seconds": _int(1, 4000), "routing.http2.enabled": _bool,
    "routing.http.drop_invalid_header_fields.enabled": _bool,
    "load_balancing.cross_zone.enabled": _bool,
}
TG_CHECKS: dict[str, Check] = {
    "deregistration_delay.timeout_seconds": _int(0, 3600), "stickiness.enabled": _bool,
    "stickiness.type": _choice("lb_cookie", "source_ip"),
    "stickiness.lb_cookie.duration_seconds": _int(1, 604800),
    "slow_start.duration_seconds": _int(0, 900),
    "load_balancing.algorithm.type": _choice("round_robin", "least_outstanding_requests"),
    "proxy_protocol_v2.enabled": _bool,
}


def _changes(ctx: Context, known: dict[str, str], checks: dict[str, Check],
             what: str) -> dict[str, str]:
    out = {}
    raw = ctx.params.structs("Attributes")
    if not raw:
        raise errors.ValidationError("Attributes is required")
    for item in raw:
        key = item.str("Key", required=True)
        value = item.str("Value", "")
        if key not in known or key not in checks:
            raise errors.ValidationError(f"{what} attribute key '{key[:128]}' is not "
                                         "recognized")
        out[key] = checks[key](key, value)
    return out


def _check_bucket(ctx: Context, name: str) -> None:
    """Access logs go to a bucket of the balancer's owner."""
    if not name:
        raise errors.ValidationError("Access logs need an S3 bucket (access_logs.s3.bucket)")
    walrus: Any = ctx.cloud.components.get("walrus")
    row = walrus.store.bucket_or_none(name) if walrus is not None else None
    if row is None or row.get("account_id") != ctx.account_id:
        raise v2_errors.InvalidConfigurationRequest(
            f"Access Denied for bucket: {name[:64]}. Please check S3bucket permission")


def _shape(attrs: dict[str, str]) -> dict[str, Any]:
    return {"Attributes": [{"Key": k, "Value": v} for k, v in sorted(attrs.items())]}


def describe_load_balancer_attributes(ctx: Context) -> Any:
    """DescribeLoadBalancerAttributes."""
    return _shape(find_lb(ctx, ctx.params.str("LoadBalancerArn", required=True)).attributes)


def modify_load_balancer_attributes(ctx: Context) -> Any:
    """ModifyLoadBalancerAttributes (the balancer's data plane follows)."""
    lb = find_lb(ctx, ctx.params.str("LoadBalancerArn", required=True))
    changes = _changes(ctx, lb.attributes, LB_CHECKS, "Load balancer")
    merged = {**lb.attributes, **changes}
    if merged.get("access_logs.s3.enabled") == "true":
        _check_bucket(ctx, merged.get("access_logs.s3.bucket", ""))
    lb.attributes.update(changes)
    component(ctx).save(lb)
    return _shape(lb.attributes)


def describe_target_group_attributes(ctx: Context) -> Any:
    """DescribeTargetGroupAttributes."""
    return _shape(find_tg(ctx, ctx.params.str("TargetGroupArn", required=True)).attributes)


def modify_target_group_attributes(ctx: Context) -> Any:
    """ModifyTargetGroupAttributes: lb_cookie stickiness for HTTP(S) groups, source_ip
    for TCP ones."""
    tg = find_tg(ctx, ctx.params.str("TargetGroupArn", required=True))
    changes = _changes(ctx, tg.attributes, TG_CHECKS, "Target group")
    sticky = changes.get("stickiness.type")
    if sticky is not None and (sticky == "lb_cookie") != (tg.protocol in HTTP_PROTOCOLS):
        raise errors.ValidationError(f"Stickiness type '{sticky}' is not supported for "
                                     f"{tg.protocol} target groups")
    tg.attributes.update(changes)
    component(ctx).save(tg)
    return _shape(tg.attributes)
