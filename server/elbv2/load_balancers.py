"""Load balancer handlers: create, describe and delete Application and Network Load
Balancers, the account's limits and the SSL policies listeners may use."""

from __future__ import annotations

import hashlib
from typing import Any

from server import errors
from server.elb.component import HOSTED_ZONE_ID
from server.elbv2 import errors as v2_errors
from server.elbv2.common import (
    TYPE_TAGS,
    arn_prefix,
    check_name,
    component,
    find_lb,
    new_id,
    page,
)
from server.elbv2.model import AppLoadBalancer, default_lb_attributes
from server.elbv2.tags import parse_tags
from server.protocol.query import Context
from server.protocol.xml import iso8601

MAX_BALANCERS = 50

LIMITS = {"application-load-balancers": 50, "network-load-balancers": 50,
          "target-groups": 3000, "targets-per-application-load-balancer": 1000,
          "targets-per-network-load-balancer": 3000,
          "listeners-per-application-load-balancer": 50,
          "listeners-per-network-load-balancer": 50, "rules-per-application-load-balancer": 100,
          "target-groups-per-action-on-application-load-balancer": 5,
          "condition-values-per-alb-rule": 5, "condition-wildcards-per-alb-rule": 5,
          "certificates-per-application-load-balancer": 25}


def describe(lb: AppLoadBalancer) -> dict[str, Any]:
    """The ``LoadBalancer`` shape."""
    return {"LoadBalancerArn": lb.arn, "DNSName": lb.dns_name,
            "CanonicalHostedZoneId": HOSTED_ZONE_ID, "CreatedTime": iso8601(lb.created),
            "LoadBalancerName": lb.name, "Scheme": lb.scheme, "State": {"Code": "active"},
            "Type": lb.type, "AvailabilityZones": [{"ZoneName": z} for z in lb.zones],
            "SecurityGroups": list(lb.security_groups) if lb.type == "application" else None,
            "IpAddressType": lb.ip_address_type}


def _zones(ctx: Context) -> list[str]:
    """The balancer's zones: the Subnets (or SubnetMappings) named, each a zone of this
    cloud (it has no VPC: a zone stands for its subnet); every zone when none is named."""
    known = [z.name for z in ctx.cloud.config.zones]
    named = ctx.params.strings("Subnets") + [
        m.str("SubnetId", required=True) for m in ctx.params.structs("SubnetMappings")]
    for name in named:
        if name not in known:
            raise v2_errors.SubnetNotFound(
                f"The subnet ID '{name[:64]}' is not valid: this cloud has no VPC, name "
                f"Availability Zones ({', '.join(known)})")
    return sorted(set(named)) if named else sorted(known)


def dns_name(ctx: Context, name: str, scheme: str) -> str:
    """``[internal-]NAME-NNNNNNNNNN.REGION.elb.DOMAIN`` (AWS's shape)."""
    digits = int(hashlib.sha256(f"{ctx.account_id}/v2/{name}".encode()).hexdigest(), 16) \
        % 10**10
    cfg = ctx.cloud.config.cloud
    prefix = "internal-" if scheme == "internal" else ""
    return f"{prefix}{name}-{digits:010d}.{cfg['region']}.elb.{cfg['dns_domain']}".lower()


def create_load_balancer(ctx: Context) -> Any:
    """CreateLoadBalancer: an application (default) or network balancer."""
    v2 = component(ctx)
    name = check_name(ctx.params.str("Name", required=True), "LoadBalancer")
    kind = ctx.params.str("Type", "application")
    if kind not in TYPE_TAGS:
        raise errors.ValidationError(f"Load balancer type '{kind[:32]}' must be application "
                                     "or network (gateway balancers are not supported)")
    scheme = ctx.params.str("Scheme", "internet-facing")
    if scheme not in ("internet-facing", "internal"):
        raise errors.ValidationError(f"Scheme '{scheme[:32]}' must be internet-facing or "
                                     "internal")
    if ctx.params.str("IpAddressType", "ipv4") != "ipv4":
        raise errors.ValidationError("This cloud's balancers have IPv4 addresses only")
    zones = _zones(ctx)
    groups = _security_groups(ctx)
    tags = parse_tags(ctx.params.structs("Tags"))
    mine = v2.owned(v2.lbs, ctx.account_id)
    for lb in mine:
        if lb.name == name:
            if (lb.type, lb.scheme, lb.zones) == (kind, scheme, zones):
                return {"LoadBalancers": [describe(lb)]}  # the same settings: idempotent
            raise v2_errors.DuplicateLoadBalancerName(
                f"A load balancer with the same name '{name}' exists, but with different "
                "settings")
    if len(mine) >= MAX_BALANCERS:
        raise v2_errors.TooManyLoadBalancers(f"You have reached the limit of "
                                             f"{MAX_BALANCERS} load balancers")
    arn = f"{arn_prefix(ctx)}loadbalancer/{TYPE_TAGS[kind]}/{name}/{new_id()}"
    lb = AppLoadBalancer(ctx.account_id, name, arn, kind, ctx.cloud.clock.now(),
                         v2.elb.allocate_address(), dns_name(ctx, name, scheme), scheme, zones,
                         groups if kind == "application" else [], "ipv4",
                         default_lb_attributes(kind), tags)
    v2.save(lb)
    return {"LoadBalancers": [describe(lb)]}


def _security_groups(ctx: Context) -> list[str]:
    """``SecurityGroups``: ids of the caller's security groups (InvalidSecurityGroup)."""
    wanted = ctx.params.strings("SecurityGroups")
    mine = {g.id for g in ctx.cloud.clc.groups.values() if g.account_id == ctx.account_id}
    bad = [g for g in wanted if g not in mine]
    if bad:
        raise v2_errors.InvalidSecurityGroup(
            f"One or more security groups are invalid: {', '.join(bad)[:256]}")
    return wanted


def set_security_groups(ctx: Context) -> Any:
    """SetSecurityGroups (application balancers: recorded, as the balancer is not a guest
    of the cloud's guest network)."""
    lb = find_lb(ctx, ctx.params.str("LoadBalancerArn", required=True))
    if lb.type != "application":
        raise v2_errors.InvalidConfigurationRequest("A network load balancer here has no "
                                                    "security groups")
    lb.security_groups = _security_groups(ctx)
    component(ctx).save(lb)
    return {"SecurityGroupIds": list(lb.security_groups)}


def set_subnets(ctx: Context) -> Any:
    """SetSubnets: the balancer's zones (Subnets name zones here)."""
    lb = find_lb(ctx, ctx.params.str("LoadBalancerArn", required=True))
    if not ctx.params.strings("Subnets") and not ctx.params.structs("SubnetMappings"):
        raise errors.ValidationError("Subnets or SubnetMappings is required")
    lb.zones = _zones(ctx)
    component(ctx).save(lb)
    return {"AvailabilityZones": [{"ZoneName": z} for z in lb.zones],
            "IpAddressType": lb.ip_address_type}


def set_ip_address_type(ctx: Context) -> Any:
    """SetIpAddressType: ``ipv4`` only."""
    find_lb(ctx, ctx.params.str("LoadBalancerArn", required=True))
    if ctx.params.str("IpAddressType", required=True) != "ipv4":
        raise errors.ValidationError("This cloud's balancers have IPv4 addresses only")
    return {"IpAddressType": "ipv4"}


def describe_load_balancers(ctx: Context) -> Any:
    """DescribeLoadBalancers: by ARNs, by names, or all of the account's."""
    v2 = component(ctx)
    arns = ctx.params.strings("LoadBalancerArns")
    names = ctx.params.strings("Names")
    if arns and names:
        raise errors.ValidationError("Specify either LoadBalancerArns or Names, not both")
    if arns:
        found = [find_lb(ctx, a) for a in arns]
    elif names:
        mine = {lb.name: lb for lb in v2.owned(v2.lbs, ctx.account_id)}
        missing = [n for n in names if n not in mine]
        if missing:
            raise v2_errors.LoadBalancerNotFound(
                f"Load balancers '[{', '.join(missing)}]' not found")
        found = [mine[n] for n in names]
    else:
        found = v2.owned(v2.lbs, ctx.account_id)
    return page(ctx, [describe(lb) for lb in found], "LoadBalancers")


def delete_load_balancer(ctx: Context) -> Any:
    """DeleteLoadBalancer, with its listeners and rules (a missing one: no error, as AWS
    answers); refused while deletion protection is on."""
    v2 = component(ctx)
    arn = ctx.params.str("LoadBalancerArn", required=True)
    lb = v2.lbs.get(arn)
    if lb is None or lb.account_id != ctx.account_id:
        return {}
    if lb.attributes.get("deletion_protection.enabled") == "true":
        raise v2_errors.OperationNotPermitted(
            f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled")
    listeners = v2.listeners_of(lb)
    rules = [r for li in listeners for r in v2.rules_of(li)]
    v2.delete(*rules, *listeners, lb)
    return {}


def describe_account_limits(ctx: Context) -> Any:
    """DescribeAccountLimits."""
    return {"Limits": [{"Name": k, "Max": str(v)} for k, v in LIMITS.items()]}


_TLS12 = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
          "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"]
_LEGACY = ["ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA", "AES128-GCM-SHA256",
           "AES256-GCM-SHA384", "AES128-SHA", "AES256-SHA"]
_TLS13 = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
#: Policy name -> (protocols, ciphers).
SSL_POLICIES = {
    "ELBSecurityPolicy-2016-08": (["TLSv1", "TLSv1.1", "TLSv1.2"], _TLS12 + _LEGACY),
    "ELBSecurityPolicy-TLS-1-1-2017-01": (["TLSv1.1", "TLSv1.2"], _TLS12 + _LEGACY),
    "ELBSecurityPolicy-TLS-1-2-2017-01": (["TLSv1.2"], _TLS12 + _LEGACY),
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06": (["TLSv1.2"], _TLS12 + _LEGACY),
    "ELBSecurityPolicy-FS-1-2-Res-2020-10": (["TLSv1.2"], _TLS12),
    "ELBSecurityPolicy-TLS13-1-2-2021-06": (["TLSv1.2", "TLSv1.3"], _TLS13 + _TLS12),
}
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08"


def describe_ssl_policies(ctx: Context) -> Any:
    """DescribeSSLPolicies: every policy, or the named ones (SSLPolicyNotFound)."""
    names = ctx.params.strings("Names")
    missing = [n for n in names if n not in SSL_POLICIES]
    if missing:
        raise v2_errors.SSLPolicyNotFound(f"SSL policy '{missing[0][:64]}' not found")
    out = []
    for name in names or list(SSL_POLICIES):
        protocols, ciphers = SSL_POLICIES[name]
        out.append({"SslProtocols": protocols,
                    "Ciphers": [{"Name": c, "Priority": i + 1} for i, c in enumerate(ciphers)],
                    "Name": name, "SupportedLoadBalancerTypes": ["application", "network"]})
    return page(ctx, out, "SslPolicies")
