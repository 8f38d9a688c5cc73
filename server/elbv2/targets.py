"""Target handlers: RegisterTargets, DeregisterTargets and DescribeTargetHealth."""

from __future__ import annotations

import ipaddress
from typing import Any

from server import errors
from server.elb.common import int_value
from server.elbv2 import errors as v2_errors
from server.elbv2.common import component, find_tg
from server.elbv2.component import deregister
from server.elbv2.model import Target, TargetGroup
from server.protocol.query import Context

MAX_TARGETS = 1000


def _targets(ctx: Context, tg: TargetGroup, check: bool) -> list[Target]:
    """``Targets.member.N`` (Id, Port defaulting to the group's, AvailabilityZone)."""
    out = []
    for raw in ctx.params.structs("Targets"):
        ident = raw.str("Id", required=True)
        port = int_value(raw.get("Port", tg.port), "Port", 1, 65535)
        zone = raw.str("AvailabilityZone", "")
        if check and tg.target_type == "ip":
            try:
                addr = ipaddress.IPv4Address(ident)
            except ValueError:
                raise v2_errors.InvalidTarget(f"The IP address '{ident[:64]}' is not a valid "
                                              "IPv4 address") from None
            if addr.is_multicast or addr.is_unspecified:
                raise v2_errors.InvalidTarget(f"The IP address '{ident}' cannot be a target")
        elif check:
            inst = component(ctx).elb.instance(ident)
            if inst is None or inst.account_id != ctx.account_id or \
                    inst.state in ("terminated", "shutting-down"):
                raise v2_errors.InvalidTarget(
                    f"The following targets are not in a running state and cannot be "
                    f"registered: '{ident[:64]}'")
            zone = zone or inst.zone
        out.append(Target(ident, port, zone))
    if not out:
        raise errors.ValidationError("Targets is required")
    return out


def register_targets(ctx: Context) -> Any:
    """RegisterTargets (registering a registered target again changes nothing)."""
    v2 = component(ctx)
    tg = find_tg(ctx, ctx.params.str("TargetGroupArn", required=True))
    new = [t for t in _targets(ctx, tg, True) if tg.target(t.id, t.port) is None]
    if len(tg.targets) + len(new) > MAX_TARGETS:
        raise v2_errors.TooManyTargets(f"A target group can have at most {MAX_TARGETS} "
                                       "targets")
    for t in new:
        v2.draining.get(tg.arn, {}).pop((t.id, t.port), None)
        if tg.target(t.id, t.port) is None:  # named twice in one request: once
            tg.targets.append(t)
    if new:
        v2.save(tg)
    return {}


def deregister_targets(ctx: Context) -> Any:
    """DeregisterTargets: each drains for the group's deregistration delay."""
    v2 = component(ctx)
    tg = find_tg(ctx, ctx.params.str("TargetGroupArn", required=True))
    asked = _targets(ctx, tg, False)
    missing = [t.id for t in asked if tg.target(t.id, t.port) is None]
    if missing:
        raise v2_errors.InvalidTarget(f"The following targets are not registered in target "
                                      f"group '{tg.arn}': '{', '.join(missing)}'")
    deregister(v2, tg, [tg.target(t.id, t.port) or t for t in asked])
    return {}


def describe_target_health(ctx: Context) -> Any:
    """DescribeTargetHealth: of every target, or of the named ones."""
    v2 = component(ctx)
    tg = find_tg(ctx, ctx.params.str("TargetGroupArn", required=True))
    asked = _targets(ctx, tg, False) if ctx.params.get("Targets") else None
    return {"TargetHealthDescriptions": v2.target_health(tg, asked)}
