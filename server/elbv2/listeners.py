"""Listener handlers: create, describe, modify and delete listeners (HTTP and HTTPS with
IAM server certificates on application balancers, TCP on network ones)."""

from __future__ import annotations

from typing import Any

from server import errors
from server.elb.common import int_value
from server.elbv2 import errors as v2_errors
from server.elbv2.common import component, find_lb, find_listener, new_id, page
from server.elbv2.load_balancers import DEFAULT_SSL_POLICY, SSL_POLICIES
from server.elbv2.model import LISTENER_PROTOCOLS, AppLoadBalancer, Listener
from server.elbv2.routing import parse_actions, tg_arns
from server.elbv2.tags import parse_tags
from server.protocol.query import Context

MAX_LISTENERS = 50


def describe(li: Listener) -> dict[str, Any]:
    """The ``Listener`` shape."""
    out: dict[str, Any] = {"ListenerArn": li.arn, "LoadBalancerArn": li.lb_arn,
                           "Port": li.port, "Protocol": li.protocol,
                           "DefaultActions": li.default_actions}
    if li.certificates:
        out["Certificates"] = [{"CertificateArn": c} for c in li.certificates]
    if li.ssl_policy:
        out["SslPolicy"] = li.ssl_policy
    return out


def check_groups(ctx: Context, lb: AppLoadBalancer, actions: list[dict[str, Any]]) -> None:
    """The target groups actions forward to suit the balancer: protocols of its kind
    (IncompatibleProtocols), and no group already serving another balancer
    (TargetGroupAssociationLimit)."""
    v2 = component(ctx)
    for arn in tg_arns(actions):
        tg = v2.tgs[arn]
        if (tg.protocol == "TCP") != (lb.type == "network"):
            raise v2_errors.IncompatibleProtocols(
                f"The target group '{arn}' has protocol {tg.protocol}, which a "
                f"{lb.type} load balancer cannot forward to")
        others = [b for b in v2.balancers_of(tg) if b.arn != lb.arn]
        if others:
            raise v2_errors.TargetGroupAssociationLimit(
                f"The following target groups cannot be associated with more than one load "
                f"balancer: '{arn}'")


def _certificates(ctx: Context, protocol: str) -> list[str]:
    certs = [c.str("CertificateArn", required=True) for c in ctx.params.structs("Certificates")]
    if protocol == "HTTPS":
        if not certs:
            raise v2_errors.CertificateNotFound("A certificate must be specified for HTTPS "
                                                "listeners")
        for arn in certs:
            if component(ctx).elb.find_certificate(ctx.account_id, arn) is None:
                raise v2_errors.CertificateNotFound(f"Certificate '{arn[:256]}' not found")
    elif certs:
        raise errors.ValidationError(f"A {protocol} listener takes no certificates")
    return certs


def _ssl_policy(ctx: Context, protocol: str, current: str = "") -> str:
    name = ctx.params.str("SslPolicy")
    if protocol != "HTTPS":
        if name:
            raise errors.ValidationError(f"A {protocol} listener takes no SslPolicy")
        return ""
    if name is None:
        return current or DEFAULT_SSL_POLICY
    if name not in SSL_POLICIES:
        raise v2_errors.SSLPolicyNotFound(f"SSL policy '{name[:64]}' not found")
    return str(name)


def _protocol(ctx: Context, lb: AppLoadBalancer, default: str | None = None) -> str:
    protocol = ctx.params.str("Protocol", default)
    allowed = LISTENER_PROTOCOLS[lb.type]
    if protocol is None:
        raise errors.MissingParameter("The request must contain the parameter Protocol")
    if protocol not in allowed:
        raise v2_errors.UnsupportedProtocol(
            f"Protocol '{protocol[:16]}' is not supported by {lb.type} load balancers: "
            f"{', '.join(allowed)}")
    return str(protocol)


def create_listener(ctx: Context) -> Any:
    """CreateListener (the same port and settings again answers the existing one)."""
    v2 = component(ctx)
    lb = find_lb(ctx, ctx.params.str("LoadBalancerArn", required=True))
    protocol = _protocol(ctx, lb)
    port = int_value(ctx.params.str("Port", required=True), "Port", 1, 65535)
    certs = _certificates(ctx, protocol)
    policy = _ssl_policy(ctx, protocol)
    actions = parse_actions(ctx, ctx.params.structs("DefaultActions"), lb.type)
    check_groups(ctx, lb, actions)
    tags = parse_tags(ctx.params.structs("Tags"))
    existing = v2.listeners_of(lb)
    for li in existing:
        if li.port == port:
            if (li.protocol, li.default_actions, li.certificates) == (protocol, actions, certs):
                return {"Listeners": [describe(li)]}
            raise v2_errors.DuplicateListener(f"A listener already exists on port {port} "
                                              f"of '{lb.arn}'")
    if len(existing) >= MAX_LISTENERS:
        raise v2_errors.TooManyListeners(f"A load balancer can have at most {MAX_LISTENERS} "
                                         "listeners")
    lb_part = lb.arn.split(":loadbalancer/", 1)[1]
    prefix = lb.arn.split(":loadbalancer/", 1)[0]
    listener_id = new_id()
    arn = f"{prefix}:listener/{lb_part}/{listener_id}"
    default_rule = f"{prefix}:listener-rule/{lb_part}/{listener_id}/{new_id()}"
    li = Listener(ctx.account_id, arn, lb.arn, protocol, port, default_rule, actions, policy,
                  certs, tags)
    v2.save(li)
    return {"Listeners": [describe(li)]}


def describe_listeners(ctx: Context) -> Any:
    """DescribeListeners: of a balancer, or by ARNs."""
    v2 = component(ctx)
    lb_arn = ctx.params.str("LoadBalancerArn")
    arns = ctx.params.strings("ListenerArns")
    if bool(lb_arn) == bool(arns):
        raise errors.ValidationError("Specify either LoadBalancerArn or ListenerArns")
    found = v2.listeners_of(find_lb(ctx, lb_arn)) if lb_arn else \
        [find_listener(ctx, a) for a in arns]
    return page(ctx, [describe(li) for li in found], "Listeners")


def modify_listener(ctx: Context) -> Any:
    """ModifyListener: port, protocol, certificates, SSL policy, default actions."""
    v2 = component(ctx)
    li = find_listener(ctx, ctx.params.str("ListenerArn", required=True))
    lb = v2.lbs[li.lb_arn]
    protocol = _protocol(ctx, lb, li.protocol)
    port = int_value(ctx.params.get("Port", li.port), "Port", 1, 65535)
    if port != li.port and any(o.port == port for o in v2.listeners_of(lb)):
        raise v2_errors.DuplicateListener(f"A listener already exists on port {port} of "
                                          f"'{lb.arn}'")
    if ctx.params.get("Certificates") is not None or protocol != li.protocol:
        certs = _certificates(ctx, protocol) if ctx.params.get("Certificates") is not None \
            else (li.certificates if protocol == "HTTPS" else [])
        if protocol == "HTTPS" and not certs:
            raise v2_errors.CertificateNotFound("A certificate must be specified for HTTPS "
                                                "listeners")
        # The given certificate becomes the default; certificates added for SNI stay.
        li.certificates = certs[:1] + [c for c in li.certificates[1:] if c not in certs[:1]] \
            if protocol == li.protocol else certs
    li.ssl_policy = _ssl_policy(ctx, protocol, li.ssl_policy if protocol == "HTTPS" else "")
    if ctx.params.get("DefaultActions") is not None:
        actions = parse_actions(ctx, ctx.params.structs("DefaultActions"), lb.type)
        check_groups(ctx, lb, actions)
        li.default_actions = actions
    li.protocol, li.port = protocol, port
    v2.save(li)
    return {"Listeners": [describe(li)]}


def delete_listener(ctx: Context) -> Any:
    """DeleteListener, with its rules."""
    v2 = component(ctx)
    li = find_listener(ctx, ctx.params.str("ListenerArn", required=True))
    v2.delete(*v2.rules_of(li), li)
    return {}


# -- certificates beyond the default (SNI) ------------------------------------------------
def _https(ctx: Context) -> Listener:
    li = find_listener(ctx, ctx.params.str("ListenerArn", required=True))
    if li.protocol != "HTTPS":
        raise v2_errors.InvalidConfigurationRequest(f"Listener '{li.arn}' is not an HTTPS "
                                                    "listener")
    return li


def add_listener_certificates(ctx: Context) -> Any:
    """AddListenerCertificates: more IAM server certificates, chosen by SNI."""
    li = _https(ctx)
    certs = _certificates(ctx, "HTTPS")
    if len(set(li.certificates) | set(certs)) > 25:
        raise v2_errors.TooManyCertificates("A listener can have at most 25 certificates")
    li.certificates += [c for c in certs if c not in li.certificates]
    component(ctx).save(li)
    return {"Certificates": [{"CertificateArn": c, "IsDefault": False} for c in certs]}


def remove_listener_certificates(ctx: Context) -> Any:
    """RemoveListenerCertificates (the default certificate stays: ModifyListener)."""
    li = _https(ctx)
    certs = [c.str("CertificateArn", required=True) for c in ctx.params.structs("Certificates")]
    if li.certificates and li.certificates[0] in certs:
        raise v2_errors.OperationNotPermitted("The default certificate cannot be removed")
    li.certificates = [c for c in li.certificates if c not in certs]
    component(ctx).save(li)
    return {}


def describe_listener_certificates(ctx: Context) -> Any:
    """DescribeListenerCertificates: the default one first."""
    li = find_listener(ctx, ctx.params.str("ListenerArn", required=True))
    return page(ctx, [{"CertificateArn": c, "IsDefault": i == 0}
                      for i, c in enumerate(li.certificates)], "Certificates")
