"""Target group handlers: create, describe, modify (the health check) and delete."""

from __future__ import annotations

import re
from typing import Any

from server import errors
from server.elb.common import int_value
from server.elbv2 import errors as v2_errors
from server.elbv2.common import (
    arn_prefix,
    check_name,
    component,
    find_lb,
    find_tg,
    new_id,
    page,
)
from server.elbv2.model import (
    HTTP_PROTOCOLS,
    TARGET_PROTOCOLS,
    TargetGroup,
    default_health,
    default_tg_attributes,
)
from server.elbv2.tags import parse_tags
from server.protocol.params import Params
from server.protocol.query import Context

MAX_GROUPS = 3000
_CODES = re.compile(r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$")


def describe(ctx: Context, tg: TargetGroup) -> dict[str, Any]:
    """The ``TargetGroup`` shape."""
    v2 = component(ctx)
    out: dict[str, Any] = {"TargetGroupArn": tg.arn, "TargetGroupName": tg.name,
                           "Protocol": tg.protocol, "Port": tg.port, "TargetType": tg.target_type,
                           "LoadBalancerArns": [lb.arn for lb in v2.balancers_of(tg)],
                           "IpAddressType": "ipv4"}
    out.update(tg.health)
    if tg.protocol in HTTP_PROTOCOLS:
        out["ProtocolVersion"] = tg.protocol_version
    return out


def _health(params: Params, protocol: str, base: dict[str, Any]) -> dict[str, Any]:
    """The health check settings given, over ``base``, validated."""
    hc = dict(base)
    proto = params.str("HealthCheckProtocol")
    if proto is not None:
        if proto not in TARGET_PROTOCOLS:
            raise errors.ValidationError(f"Health check protocol '{proto[:16]}' must be one of "
                                         f"{', '.join(TARGET_PROTOCOLS)}")
        if protocol in HTTP_PROTOCOLS and proto not in HTTP_PROTOCOLS:
            raise errors.ValidationError("The health check protocol of an HTTP or HTTPS "
                                         "target group must be HTTP or HTTPS")
        hc["HealthCheckProtocol"] = proto
    port = params.str("HealthCheckPort")
    if port is not None:
        if port != "traffic-port":
            int_value(port, "HealthCheckPort", 1, 65535)
        hc["HealthCheckPort"] = port
    path = params.str("HealthCheckPath")
    if path is not None:
        if not path.startswith("/") or len(path) > 1024 or re.search(r"[\s\"\\#]", path):
            raise errors.ValidationError("HealthCheckPath must start with '/' and hold no "
                                         "spaces, quotes, backslashes or '#'")
        hc["HealthCheckPath"] = path
    enabled = params.bool("HealthCheckEnabled")
    if enabled is not None:
        hc["HealthCheckEnabled"] = bool(enabled)
    for key, low, high in (("HealthCheckIntervalSeconds", 5, 300),
                           ("HealthCheckTimeoutSeconds", 2, 120),
                           ("HealthyThresholdCount", 2, 10),
                           ("UnhealthyThresholdCount", 2, 10)):
        if params.get(key) is not None:
            hc[key] = int_value(params.get(key), key, low, high)
    matcher = params.struct("Matcher")
    if matcher.get("HttpCode") is not None:
        code = matcher.str("HttpCode")
        if hc["HealthCheckProtocol"] not in HTTP_PROTOCOLS:
            raise errors.ValidationError("A TCP health check takes no Matcher")
        if not _CODES.match(code) or any(not 200 <= int(c) <= 499
                                         for c in re.findall(r"\d+", code)):
            raise errors.ValidationError(f"Matcher HttpCode '{code[:32]}' must be codes from "
                                         "200 to 499: '200', '200,202' or '200-299'")
        hc["Matcher"] = {"HttpCode": code}
    if hc["HealthCheckProtocol"] in HTTP_PROTOCOLS:
        hc.setdefault("HealthCheckPath", "/")
        hc.setdefault("Matcher", {"HttpCode": "200"})
    else:
        hc.pop("HealthCheckPath", None)
        hc.pop("Matcher", None)
    if hc["HealthCheckTimeoutSeconds"] >= hc["HealthCheckIntervalSeconds"]:
        raise errors.ValidationError("Health check timeout must be smaller than the interval")
    return hc


def create_target_group(ctx: Context) -> Any:
    """CreateTargetGroup (the same name and settings again answers the existing one)."""
    v2 = component(ctx)
    name = check_name(ctx.params.str("Name", required=True), "Target group")
    kind = ctx.params.str("TargetType", "instance")
    if kind not in ("instance", "ip"):
        raise errors.ValidationError(f"Target type '{kind[:16]}' must be instance or ip")
    protocol = ctx.params.str("Protocol", required=True)
    if protocol not in TARGET_PROTOCOLS:
        raise errors.ValidationError(f"Protocol '{protocol[:16]}' must be one of "
                                     f"{', '.join(TARGET_PROTOCOLS)}")
    port = int_value(ctx.params.str("Port", required=True), "Port", 1, 65535)
    version = ctx.params.str("ProtocolVersion", "HTTP1")
    if version not in ("HTTP1", "HTTP2", "GRPC"):
        raise errors.ValidationError("ProtocolVersion must be HTTP1, HTTP2 or GRPC")
    health = _health(ctx.params, protocol, default_health(protocol))
    tags = parse_tags(ctx.params.structs("Tags"))
    mine = v2.owned(v2.tgs, ctx.account_id)
    for tg in mine:
        if tg.name == name:
            if (tg.protocol, tg.port, tg.target_type, tg.health) == \
                    (protocol, port, kind, health):
                return {"TargetGroups": [describe(ctx, tg)]}
            raise v2_errors.DuplicateTargetGroupName(
                f"A target group with the same name '{name}' exists, but with different "
                "settings")
    if len(mine) >= MAX_GROUPS:
        raise v2_errors.TooManyTargetGroups(f"You have reached the limit of {MAX_GROUPS} "
                                            "target groups")
    tg = TargetGroup(ctx.account_id, name, f"{arn_prefix(ctx)}targetgroup/{name}/{new_id()}",
                     protocol, port, kind, health, [], default_tg_attributes(protocol), tags,
                     version)
    v2.save(tg)
    return {"TargetGroups": [describe(ctx, tg)]}


def describe_target_groups(ctx: Context) -> Any:
    """DescribeTargetGroups: of a balancer, by ARNs, by names, or all the account's."""
    v2 = component(ctx)
    lb_arn = ctx.params.str("LoadBalancerArn")
    arns = ctx.params.strings("TargetGroupArns")
    names = ctx.params.strings("Names")
    if sum(map(bool, (lb_arn, arns, names))) > 1:
        raise errors.ValidationError("Specify only one of LoadBalancerArn, TargetGroupArns "
                                     "and Names")
    if lb_arn:
        lb = find_lb(ctx, lb_arn)
        found = [v2.tgs[a] for a in v2.groups_used(lb) if a in v2.tgs]
    elif arns:
        found = [find_tg(ctx, a) for a in arns]
    elif names:
        mine = {tg.name: tg for tg in v2.owned(v2.tgs, ctx.account_id)}
        missing = [n for n in names if n not in mine]
        if missing:
            raise v2_errors.TargetGroupNotFound(
                f"One or more target groups not found: '{', '.join(missing)}'")
        found = [mine[n] for n in names]
    else:
        found = v2.owned(v2.tgs, ctx.account_id)
    return page(ctx, [describe(ctx, tg) for tg in found], "TargetGroups")


def modify_target_group(ctx: Context) -> Any:
    """ModifyTargetGroup: its health check settings."""
    v2 = component(ctx)
    tg = find_tg(ctx, ctx.params.str("TargetGroupArn", required=True))
    tg.health = _health(ctx.params, tg.protocol, tg.health)
    v2.save(tg)
    return {"TargetGroups": [describe(ctx, tg)]}


def delete_target_group(ctx: Context) -> Any:
    """DeleteTargetGroup: refused (ResourceInUse) while a listener or rule forwards to it."""
    v2 = component(ctx)
    tg = find_tg(ctx, ctx.params.str("TargetGroupArn", required=True))
    users = v2.balancers_of(tg)
    if users:
        raise v2_errors.ResourceInUse(f"Target group '{tg.arn}' is currently in use by a "
                                      f"listener or a rule of '{users[0].arn}'")
    v2.delete(tg)
    return {}
