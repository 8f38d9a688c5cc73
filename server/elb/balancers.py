"""Balancer handlers: create, describe and delete balancers, their listeners, zones,
instances, health check, security groups, subnets, tags and the account's limits."""

from __future__ import annotations

import re
from typing import Any

from server import errors
from server.elb import errors as elb_errors
from server.elb.common import balancer_name, component, find, int_param
from server.elb.component import HOSTED_ZONE_ID
from server.elb.model import FRONT_PROTOCOLS, HTTP_PROTOCOLS, Listener, LoadBalancer
from server.protocol.query import Context
from server.protocol.xml import iso8601

MAX_BALANCERS = 20
MAX_LISTENERS = 100
MAX_TAGS = 10
MAX_INSTANCES = 1000
_TARGET = re.compile(r"^(HTTP|HTTPS|TCP|SSL):(\d{1,5})(/.*)?$")


# -- listeners --------------------------------------------------------------------------
def parse_listener(ctx: Context, raw: Any) -> Listener:
    """One ``Listeners.member.N`` structure, validated."""
    get = raw.get if isinstance(raw, dict) else (lambda _k: None)
    proto = str(get("Protocol") or "").upper()
    if proto not in FRONT_PROTOCOLS:
        raise elb_errors.UnsupportedProtocol(
            f"Protocol {get('Protocol')!r} is not supported: HTTP, HTTPS, TCP or SSL")
    port = int_param(ctx, raw, "LoadBalancerPort", 1, 65535)
    back = str(get("InstanceProtocol") or proto).upper()
    if back not in FRONT_PROTOCOLS:
        raise elb_errors.UnsupportedProtocol(f"InstanceProtocol {back!r} is not supported")
    if (proto in HTTP_PROTOCOLS) != (back in HTTP_PROTOCOLS):
        raise errors.ValidationError(f"Listener protocol {proto} and instance protocol "
                                     f"{back} are not compatible")
    iport = int_param(ctx, raw, "InstancePort", 1, 65535)
    cert = str(get("SSLCertificateId") or "")
    if proto in ("HTTPS", "SSL"):
        if not cert:
            raise errors.ValidationError(f"A {proto} listener needs an SSLCertificateId")
        check_certificate(ctx, cert)
    elif cert:
        raise errors.ValidationError(f"A {proto} listener takes no SSLCertificateId")
    return Listener(proto, port, back, iport, cert)


def check_certificate(ctx: Context, arn: str) -> None:
    """CertificateNotFound unless the ARN names one of the account's server certificates."""
    if component(ctx).find_certificate(ctx.account_id, arn) is None:
        raise elb_errors.CertificateNotFound(
            f"The specified SSL ID does not refer to a valid SSL certificate in AWS IAM: {arn}")


def _add_listeners(ctx: Context, lb: LoadBalancer, new: list[Listener]) -> None:
    for li in new:
        have = lb.listener(li.port)
        if have is not None:
            same = (have.protocol, have.instance_protocol, have.instance_port,
                    have.certificate) == (li.protocol, li.instance_protocol,
                                          li.instance_port, li.certificate)
            if not same:
                raise elb_errors.DuplicateListener(
                    f"A listener already exists for {lb.name} with LoadBalancerPort {li.port}, "
                    "but with a different InstancePort, Protocol, or SSLCertificateId")
            continue
        lb.listeners.append(li)
    if len(lb.listeners) > MAX_LISTENERS:
        raise errors.ValidationError(f"A load balancer has at most {MAX_LISTENERS} listeners")
    lb.listeners.sort(key=lambda x: x.port)


def _zones(ctx: Context, names: list[str]) -> list[str]:
    known = [z.name for z in ctx.cloud.config.zones]
    bad = [n for n in names if n not in known]
    if bad:
        raise errors.ValidationError(f"Invalid Availability Zone(s): {', '.join(bad)}")
    return sorted(set(names))


def _tags(ctx: Context) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in ctx.params.list("Tags"):
        if not isinstance(t, dict) or not t.get("Key"):
            raise errors.ValidationError("Each tag needs a Key")
        key = str(t["Key"])
        if key in out:
            raise elb_errors.DuplicateTagKeys(f"Duplicate tag key: {key}")
        if key.lower().startswith("aws:") or len(key) > 128 or len(str(t.get("Value", ""))) > 256:
            raise errors.ValidationError(f"Invalid tag key or value: {key[:128]}")
        out[key] = str(t.get("Value") or "")
    return out


def _no_vpc(ctx: Context) -> None:
    raise elb_errors.InvalidConfigurationRequest(
        "This cloud has no VPC: load balancers are placed in Availability Zones, not subnets")


# -- balancers --------------------------------------------------------------------------
def create_load_balancer(ctx: Context) -> Any:
    """CreateLoadBalancer: a balancer with its listeners in Availability Zones."""
    elb = component(ctx)
    name = balancer_name(ctx)
    listeners = [parse_listener(ctx, raw) for raw in ctx.params.list("Listeners")]
    if not listeners:
        raise errors.ValidationError("Listeners is required")
    if ctx.params.strings("Subnets"):
        _no_vpc(ctx)
    zones = _zones(ctx, ctx.params.strings("AvailabilityZones"))
    if not zones:
        raise errors.ValidationError("Either AvailabilityZones or SubnetIds must be specified")
    scheme = ctx.params.str("Scheme", "internet-facing")
    if scheme not in ("internet-facing", "internal"):
        raise elb_errors.InvalidScheme(f"Invalid Scheme {scheme}: internet-facing or internal")
    groups = _security_groups(ctx)
    tags = _tags(ctx)
    if len(tags) > MAX_TAGS:
        raise elb_errors.TooManyTags(f"A load balancer has at most {MAX_TAGS} tags")
    existing = elb.balancers.get((ctx.account_id, name))
    if existing is not None:
        mine = sorted((li.protocol, li.port, li.instance_protocol, li.instance_port)
                      for li in existing.listeners)
        asked = sorted((li.protocol, li.port, li.instance_protocol, li.instance_port)
                       for li in listeners)
        if mine != asked:
            raise elb_errors.DuplicateLoadBalancerName(
                f"Load Balancer named '{name}' already exists and it is configured with "
                "different parameters.")
        return {"DNSName": existing.dns_name}
    if len(elb.owned(ctx.account_id)) >= MAX_BALANCERS:
        raise elb_errors.TooManyLoadBalancers(
            f"Exceeded quota of account {ctx.account_id}: at most {MAX_BALANCERS} load "
            "balancers")
    if len({li.port for li in listeners}) != len(listeners):
        raise elb_errors.DuplicateListener("Two listeners share a LoadBalancerPort")
    lb = LoadBalancer(ctx.account_id, name, ctx.cloud.clock.now(), elb.allocate_address(),
                      elb.dns_name(ctx.account_id, name), zones=zones,
                      security_groups=groups, scheme=scheme, tags=tags)
    _add_listeners(ctx, lb, listeners)
    elb.save(lb)
    return {"DNSName": lb.dns_name}


def delete_load_balancer(ctx: Context) -> Any:
    """DeleteLoadBalancer (deleting one that does not exist succeeds, as on AWS)."""
    elb = component(ctx)
    lb = elb.balancers.get((ctx.account_id, ctx.params.str("LoadBalancerName", required=True)))
    if lb is not None:
        elb.delete(lb)
    return {}


def describe(ctx: Context, lb: LoadBalancer) -> dict[str, Any]:
    """The ``LoadBalancerDescription`` shape."""
    pol = {"AppCookieStickinessPolicies": [
        {"PolicyName": p.name, "CookieName": p.value("CookieName")}
        for p in lb.policies if p.type_name == "AppCookieStickinessPolicyType"],
        "LBCookieStickinessPolicies": [
        {"PolicyName": p.name, "CookieExpirationPeriod":
         int(p.value("CookieExpirationPeriod", "0") or 0) or None}
        for p in lb.policies if p.type_name == "LBCookieStickinessPolicyType"],
        "OtherPolicies": [p.name for p in lb.policies if p.type_name not in (
            "AppCookieStickinessPolicyType", "LBCookieStickinessPolicyType")]}
    return {
        "LoadBalancerName": lb.name, "DNSName": lb.dns_name,
        "CanonicalHostedZoneName": lb.dns_name, "CanonicalHostedZoneNameID": HOSTED_ZONE_ID,
        "ListenerDescriptions": [li.describe() for li in lb.listeners],
        "Policies": pol,
        "BackendServerDescriptions": [{"InstancePort": int(port), "PolicyNames": names}
                                      for port, names in sorted(lb.backend_policies.items(),
                                                                key=lambda kv: int(kv[0]))
                                      if names],
        "AvailabilityZones": list(lb.zones), "Subnets": list(lb.subnets),
        "Instances": [{"InstanceId": i} for i in lb.instances],
        "HealthCheck": dict(lb.health_check),
        "SourceSecurityGroup": {"OwnerAlias": ctx.account_id,
                                "GroupName": f"euca-internal-elb-{lb.name}"},
        "SecurityGroups": list(lb.security_groups),
        "CreatedTime": iso8601(lb.created), "Scheme": lb.scheme}


def describe_load_balancers(ctx: Context) -> Any:
    """DescribeLoadBalancers (by name, paged with Marker / PageSize)."""
    elb = component(ctx)
    names = ctx.params.strings("LoadBalancerNames")
    if names:
        found = []
        for n in names:
            lb = elb.balancers.get((ctx.account_id, n))
            if lb is None:
                raise elb_errors.LoadBalancerNotFound(
                    f"There is no ACTIVE Load Balancer named '{n}'")
            found.append(lb)
    else:
        found = elb.owned(ctx.account_id)
    size = ctx.params.int("PageSize", 400, minimum=1, maximum=400)
    marker = ctx.params.str("Marker", "")
    if marker:
        found = [lb for lb in found if lb.name > marker]
    page, rest = found[:size], found[size:]
    out: dict[str, Any] = {"LoadBalancerDescriptions": [describe(ctx, lb) for lb in page]}
    if rest:
        out["NextMarker"] = page[-1].name
    return out


def create_load_balancer_listeners(ctx: Context) -> Any:
    """CreateLoadBalancerListeners."""
    lb = find(ctx)
    listeners = [parse_listener(ctx, raw) for raw in ctx.params.list("Listeners")]
    if not listeners:
        raise errors.ValidationError("Listeners is required")
    _add_listeners(ctx, lb, listeners)
    component(ctx).save(lb)
    return {}


def delete_load_balancer_listeners(ctx: Context) -> Any:
    """DeleteLoadBalancerListeners (ports without a listener are ignored, as on AWS)."""
    lb = find(ctx)
    ports = set()
    for p in ctx.params.strings("LoadBalancerPorts"):
        try:
            ports.add(int(p))
        except ValueError:
            raise errors.ValidationError(f"Invalid LoadBalancerPort {p!r}") from None
    lb.listeners = [li for li in lb.listeners if li.port not in ports]
    component(ctx).save(lb)
    return {}


# -- zones, subnets, groups -------------------------------------------------------------
def enable_availability_zones(ctx: Context) -> Any:
    """EnableAvailabilityZonesForLoadBalancer."""
    lb = find(ctx)
    add = _zones(ctx, ctx.params.strings("AvailabilityZones"))
    if not add:
        raise errors.ValidationError("AvailabilityZones is required")
    lb.zones = sorted(set(lb.zones) | set(add))
    component(ctx).save(lb)
    return {"AvailabilityZones": list(lb.zones)}


def disable_availability_zones(ctx: Context) -> Any:
    """DisableAvailabilityZonesForLoadBalancer (at least one zone stays)."""
    lb = find(ctx)
    drop = set(ctx.params.strings("AvailabilityZones"))
    if not drop:
        raise errors.ValidationError("AvailabilityZones is required")
    left = [z for z in lb.zones if z not in drop]
    if not left:
        raise elb_errors.InvalidConfigurationRequest(
            "The requested configuration change is invalid: a load balancer keeps at least "
            "one Availability Zone")
    lb.zones = left
    component(ctx).save(lb)
    return {"AvailabilityZones": list(lb.zones)}


def attach_to_subnets(ctx: Context) -> Any:
    """AttachLoadBalancerToSubnets: no VPC here."""
    find(ctx)
    _no_vpc(ctx)


def detach_from_subnets(ctx: Context) -> Any:
    """DetachLoadBalancerFromSubnets: no VPC here."""
    find(ctx)
    _no_vpc(ctx)


def _security_groups(ctx: Context) -> list[str]:
    wanted = ctx.params.strings("SecurityGroups")
    groups = ctx.cloud.clc.groups
    mine = {g.id for g in groups.values() if g.account_id == ctx.account_id}
    bad = [g for g in wanted if g not in mine]
    if bad:
        raise elb_errors.InvalidSecurityGroup(
            f"One or more security groups are invalid: {', '.join(bad)}")
    return wanted


def apply_security_groups(ctx: Context) -> Any:
    """ApplySecurityGroupsToLoadBalancer."""
    lb = find(ctx)
    groups = _security_groups(ctx)
    if not groups:
        raise errors.ValidationError("SecurityGroups is required")
    lb.security_groups = groups
    component(ctx).save(lb)
    return {"SecurityGroups": groups}


# -- instances --------------------------------------------------------------------------
def _instance_ids(ctx: Context) -> list[str]:
    ids = []
    for raw in ctx.params.list("Instances"):
        iid = raw.get("InstanceId") if isinstance(raw, dict) else None
        if not iid:
            raise errors.ValidationError("Each member of Instances needs an InstanceId")
        ids.append(str(iid))
    if not ids:
        raise errors.ValidationError("Instances is required")
    return ids


def register_instances(ctx: Context) -> Any:
    """RegisterInstancesWithLoadBalancer: the account's instances, not terminated."""
    elb = component(ctx)
    lb = find(ctx)
    ids = _instance_ids(ctx)
    bad = [i for i in ids if (inst := elb.instance(i)) is None or
           inst.account_id != ctx.account_id or inst.state in ("terminated", "shutting-down")]
    if bad:
        raise elb_errors.InvalidInstance(
            f"The requested instance(s) {', '.join(repr(b) for b in bad)} are not valid")
    for iid in ids:
        if iid not in lb.instances:
            lb.instances.append(iid)
    if len(lb.instances) > MAX_INSTANCES:
        raise errors.ValidationError(f"A load balancer has at most {MAX_INSTANCES} instances")
    elb.save(lb)
    return {"Instances": [{"InstanceId": i} for i in lb.instances]}


def deregister_instances(ctx: Context) -> Any:
    """DeregisterInstancesFromLoadBalancer (established connections drain if configured)."""
    elb = component(ctx)
    lb = find(ctx)
    ids = _instance_ids(ctx)
    bad = [i for i in ids if i not in lb.instances]
    if bad:
        raise elb_errors.InvalidInstance(
            f"The requested instance(s) {', '.join(repr(b) for b in bad)} are not valid")
    lb.instances = [i for i in lb.instances if i not in ids]
    elb.save(lb)
    return {"Instances": [{"InstanceId": i} for i in lb.instances]}


def describe_instance_health(ctx: Context) -> Any:
    """DescribeInstanceHealth: InService / OutOfService with reason code and description."""
    lb = find(ctx)
    ids = [str(raw["InstanceId"]) for raw in ctx.params.list("Instances")
           if isinstance(raw, dict) and raw.get("InstanceId")]
    bad = [i for i in ids if i not in lb.instances]
    if bad:
        raise elb_errors.InvalidInstance(
            f"The requested instance(s) {', '.join(repr(b) for b in bad)} are not valid")
    return {"InstanceStates": component(ctx).health(lb, ids or None)}


def configure_health_check(ctx: Context) -> Any:
    """ConfigureHealthCheck: target, interval, timeout and thresholds."""
    lb = find(ctx)
    raw = ctx.params.get("HealthCheck")
    if not isinstance(raw, dict):
        raise errors.ValidationError("HealthCheck is required")
    target = str(raw.get("Target") or "")
    m = _TARGET.match(target)
    if not m or not 1 <= int(m.group(2)) <= 65535 or \
            (m.group(1) in ("HTTP", "HTTPS")) != bool(m.group(3)):
        raise errors.ValidationError(
            f"HealthCheck Target {target!r} must be HTTP:port/path, HTTPS:port/path, "
            "TCP:port or SSL:port")
    interval = int_param(ctx, raw, "Interval", 5, 300, "HealthCheck Interval")
    timeout = int_param(ctx, raw, "Timeout", 2, 60, "HealthCheck Timeout")
    if timeout >= interval:
        raise errors.ValidationError("HealthCheck Timeout must be less than Interval")
    healthy = int_param(ctx, raw, "HealthyThreshold", 2, 10, "HealthyThreshold")
    unhealthy = int_param(ctx, raw, "UnhealthyThreshold", 2, 10, "UnhealthyThreshold")
    lb.health_check = {"Target": target, "Interval": interval, "Timeout": timeout,
                       "UnhealthyThreshold": unhealthy, "HealthyThreshold": healthy}
    component(ctx).save(lb)
    return {"HealthCheck": dict(lb.health_check)}


# -- tags and limits --------------------------------------------------------------------
def add_tags(ctx: Context) -> Any:
    """AddTags to one balancer (values replace those of the same key)."""
    names = ctx.params.strings("LoadBalancerNames")
    if len(names) != 1:
        raise errors.ValidationError("LoadBalancerNames takes exactly one name")
    tags = _tags(ctx)
    if not tags:
        raise errors.ValidationError("Tags is required")
    elb = component(ctx)
    lb = elb.balancers.get((ctx.account_id, names[0]))
    if lb is None:
        raise elb_errors.LoadBalancerNotFound(f"There is no ACTIVE Load Balancer named "
                                              f"'{names[0]}'")
    merged = {**lb.tags, **tags}
    if len(merged) > MAX_TAGS:
        raise elb_errors.TooManyTags(f"A load balancer has at most {MAX_TAGS} tags")
    lb.tags = merged
    elb.save(lb)
    return {}


def remove_tags(ctx: Context) -> Any:
    """RemoveTags (by key)."""
    names = ctx.params.strings("LoadBalancerNames")
    if len(names) != 1:
        raise errors.ValidationError("LoadBalancerNames takes exactly one name")
    elb = component(ctx)
    lb = elb.balancers.get((ctx.account_id, names[0]))
    if lb is None:
        raise elb_errors.LoadBalancerNotFound(f"There is no ACTIVE Load Balancer named "
                                              f"'{names[0]}'")
    keys = {str(t.get("Key")) for t in ctx.params.list("Tags") if isinstance(t, dict)}
    if not keys:
        raise errors.ValidationError("Tags is required")
    lb.tags = {k: v for k, v in lb.tags.items() if k not in keys}
    elb.save(lb)
    return {}


def describe_tags(ctx: Context) -> Any:
    """DescribeTags of up to 20 balancers."""
    names = ctx.params.strings("LoadBalancerNames")
    if not 1 <= len(names) <= 20:
        raise errors.ValidationError("LoadBalancerNames takes 1 to 20 names")
    elb = component(ctx)
    out = []
    for n in names:
        lb = elb.balancers.get((ctx.account_id, n))
        if lb is None:
            raise elb_errors.LoadBalancerNotFound(f"There is no ACTIVE Load Balancer named "
                                                  f"'{n}'")
        out.append({"LoadBalancerName": n, "Tags": [{"Key": k, "Value": v}
                                                    for k, v in sorted(lb.tags.items())]})
    return {"TagDescriptions": out}


def describe_account_limits(ctx: Context) -> Any:
    """DescribeAccountLimits."""
    return {"Limits": [{"Name": "classic-load-balancers", "Max": str(MAX_BALANCERS)},
                       {"Name": "classic-listeners", "Max": str(MAX_LISTENERS)},
                       {"Name": "classic-registered-instances", "Max": str(MAX_INSTANCES)}]}
