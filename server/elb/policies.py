"""Policies (stickiness, proxy protocol, SSL negotiation), their assignment to listeners
and backend ports, listener certificates and the balancer's attributes."""

from __future__ import annotations

from typing import Any

from server import errors
from server.elb import errors as elb_errors
from server.elb import ssl_policies as ssl
from server.elb.balancers import check_certificate
from server.elb.common import bool_value, component, find, int_param
from server.elb.model import Policy
from server.protocol.query import Context

MAX_POLICIES = 50
STICKINESS = ("AppCookieStickinessPolicyType", "LBCookieStickinessPolicyType")

#: Policy type -> (description, [(attribute, type, cardinality, default, description)]).
POLICY_TYPES: dict[str, tuple[str, list[tuple[str, str, str, str, str]]]] = {
    "AppCookieStickinessPolicyType": (
        "Stickiness policy with session lifetimes controlled by the lifetime of the "
        "application-generated cookie. This policy can be associated only with HTTP/HTTPS "
        "listeners.",
        [("CookieName", "String", "ONE", "", "The name of the application cookie used for "
          "stickiness.")]),
    "LBCookieStickinessPolicyType": (
        "Stickiness policy with session lifetimes controlled by the browser (user-agent) or "
        "a specified expiration period. This policy can be associated only with HTTP/HTTPS "
        "listeners.",
        [("CookieExpirationPeriod", "Long", "ZERO_OR_ONE", "", "The time period, in seconds, "
          "after which the cookie should be considered stale. If not specified, the "
          "stickiness session lasts for the duration of the browser session.")]),
    "ProxyProtocolPolicyType": (
        "Policy that controls whether to include the IP address and port of the originating "
        "request for TCP messages. This policy operates on TCP/SSL listeners only",
        [("ProxyProtocol", "Boolean", "ONE", "", "Enable proxy protocol.")]),
    "SSLNegotiationPolicyType": (
        "Listener policy that defines the ciphers and protocols that will be accepted by "
        "the load balancer. This policy can be associated only with HTTPS/SSL listeners.",
        [(a, "Boolean", "ZERO_OR_ONE", "", f"Enable {a}.") for a in ssl.PROTOCOLS] +
        [(ssl.SERVER_ORDER, "Boolean", "ZERO_OR_ONE", "", "Use the server's cipher order "
          "(false: the client's).")] +
        [(c, "Boolean", "ZERO_OR_ONE", "", f"Enable the {c} cipher.") for c in ssl.CIPHERS] +
        [(ssl.REFERENCE, "String", "ZERO_OR_ONE", "",
          "The name of a predefined security policy.")]),
}

def _describe_policy(p: Policy) -> dict[str, Any]:
    return {"PolicyName": p.name, "PolicyTypeName": p.type_name,
            "PolicyAttributeDescriptions": [{"AttributeName": k, "AttributeValue": v}
                                            for k, v in p.attributes]}


def _add_policy(ctx: Context, policy: Policy) -> Any:
    lb = find(ctx)
    if lb.policy(policy.name) is not None:
        raise elb_errors.DuplicatePolicyName(f"Policy {policy.name} already exists for "
                                             f"{lb.name}")
    if len(lb.policies) >= MAX_POLICIES:
        raise elb_errors.TooManyPolicies(f"A load balancer has at most {MAX_POLICIES} policies")
    lb.policies.append(policy)
    component(ctx).save(lb)
    return {}


def _policy_name(ctx: Context) -> str:
    name = str(ctx.params.str("PolicyName", required=True))
    if len(name) > 255 or not all(c.isalnum() or c in "-_" for c in name):
        raise errors.ValidationError(f"PolicyName {name[:64]!r} isn't valid")
    return name


def create_load_balancer_policy(ctx: Context) -> Any:
    """CreateLoadBalancerPolicy of one of the policy types."""
    name = _policy_name(ctx)
    type_name = str(ctx.params.str("PolicyTypeName", required=True))
    if type_name not in POLICY_TYPES:
        raise elb_errors.PolicyTypeNotFound(f"There is no policy type named '{type_name}'")
    allowed = {a[0] for a in POLICY_TYPES[type_name][1]}
    attrs: list[list[str]] = []
    for raw in ctx.params.list("PolicyAttributes"):
        if not isinstance(raw, dict) or not raw.get("AttributeName"):
            raise errors.ValidationError("Each PolicyAttribute needs an AttributeName")
        key = str(raw["AttributeName"])
        if key not in allowed:
            raise elb_errors.InvalidConfigurationRequest(
                f"Attribute {key} is not valid for policy type {type_name}")
        attrs.append([key, str(raw.get("AttributeValue") or "")])
    if type_name == "SSLNegotiationPolicyType":
        attrs = _ssl_attributes(attrs)
    for key in ("CookieName", "ProxyProtocol"):
        if key in allowed and not any(k == key for k, _ in attrs):
            raise errors.ValidationError(f"Policy type {type_name} needs attribute {key}")
    return _add_policy(ctx, Policy(name, type_name, attrs))


def _ssl_attributes(attrs: list[list[str]]) -> list[list[str]]:
    """An SSL negotiation policy's attributes: a predefined policy's when it refers to
    one, else booleans enabling at least one protocol and one cipher."""
    ref = next((v for k, v in attrs if k == ssl.REFERENCE), "")
    if ref:
        sample = ssl.predefined(ref)
        if sample is None:
            raise elb_errors.PolicyNotFound(f"There is no predefined policy named '{ref}'")
        return [list(a) for a in sample.attributes] + [[ssl.REFERENCE, ref]]
    for key, value in attrs:
        if value.lower() not in ("true", "false"):
            raise elb_errors.InvalidConfigurationRequest(
                f"Attribute {key} takes true or false, not {value[:64]!r}")
    enabled = {k for k, v in attrs if v.lower() == "true"}
    if not enabled & set(ssl.TLS_PROTOCOLS):
        raise elb_errors.InvalidConfigurationRequest(
            "An SSL negotiation policy enables at least one of the protocols TLSv1, "
            "TLSv1.1 and TLSv1.2 (SSLv3 is not supported)")
    if not enabled & set(ssl.CIPHERS):
        raise elb_errors.InvalidConfigurationRequest(
            "An SSL negotiation policy enables at least one cipher")
    return attrs


def create_lb_cookie_stickiness_policy(ctx: Context) -> Any:
    """CreateLBCookieStickinessPolicy: the balancer's own cookie (AWSELB)."""
    name = _policy_name(ctx)
    period = ctx.params.get("CookieExpirationPeriod")
    attrs = []
    if period not in (None, ""):
        attrs = [["CookieExpirationPeriod",
                  str(int_param(ctx, ctx.params, "CookieExpirationPeriod", 0, 2**31 - 1))]]
    return _add_policy(ctx, Policy(name, "LBCookieStickinessPolicyType", attrs))


def create_app_cookie_stickiness_policy(ctx: Context) -> Any:
    """CreateAppCookieStickinessPolicy: follow the application's cookie."""
    name = _policy_name(ctx)
    cookie = str(ctx.params.str("CookieName", required=True))
    if not cookie.replace("-", "").replace("_", "").isalnum():
        raise errors.ValidationError(f"CookieName {cookie[:64]!r} isn't valid")
    return _add_policy(ctx, Policy(name, "AppCookieStickinessPolicyType",
                                   [["CookieName", cookie]]))


def delete_load_balancer_policy(ctx: Context) -> Any:
    """DeleteLoadBalancerPolicy (not while a listener or backend port uses it)."""
    lb = find(ctx)
    name = str(ctx.params.str("PolicyName", required=True))
    if lb.policy(name) is None:
        return {}
    used = any(name in li.policies for li in lb.listeners) or \
        any(name in names for names in lb.backend_policies.values())
    if used:
        raise elb_errors.InvalidConfigurationRequest(
            f"Policy {name} is in use: remove it from the listeners and backend ports first")
    lb.policies = [p for p in lb.policies if p.name != name]
    component(ctx).save(lb)
    return {}


def describe_load_balancer_policies(ctx: Context) -> Any:
    """DescribeLoadBalancerPolicies of a balancer, or the predefined ones."""
    names = [n for n in ctx.params.strings("PolicyNames") if n]
    if ctx.params.get("LoadBalancerName"):
        pool = find(ctx).policies
    else:
        pool = ssl.PREDEFINED_POLICIES
    if names:
        missing = [n for n in names if not any(p.name == n for p in pool)]
        if missing:
            raise elb_errors.PolicyNotFound(f"There is no policy named '{missing[0]}'")
        pool = [p for p in pool if p.name in names]
    return {"PolicyDescriptions": [_describe_policy(p) for p in pool]}


def describe_load_balancer_policy_types(ctx: Context) -> Any:
    """DescribeLoadBalancerPolicyTypes."""
    names = ctx.params.strings("PolicyTypeNames")
    for n in names:
        if n not in POLICY_TYPES:
            raise elb_errors.PolicyTypeNotFound(f"There is no policy type named '{n}'")
    out = []
    for name, (text, attrs) in POLICY_TYPES.items():
        if names and name not in names:
            continue
        out.append({"PolicyTypeName": name, "Description": text,
                    "PolicyAttributeTypeDescriptions": [
                        {"AttributeName": a, "AttributeType": t, "Description": d,
                         "DefaultValue": dv or None, "Cardinality": c}
                        for a, t, c, dv, d in attrs]})
    return {"PolicyTypeDescriptions": out}


def set_policies_of_listener(ctx: Context) -> Any:
    """SetLoadBalancerPoliciesOfListener (an empty list removes them)."""
    lb = find(ctx)
    port = int_param(ctx, ctx.params, "LoadBalancerPort", 1, 65535)
    listener = lb.listener(port)
    if listener is None:
        raise elb_errors.ListenerNotFound(f"There is no listener on port {port} of {lb.name}")
    names = [n for n in ctx.params.strings("PolicyNames") if n]
    kinds = []
    for n in names:
        pol = lb.policy(n)
        if pol is None:
            raise elb_errors.PolicyNotFound(f"There is no policy named '{n}' of {lb.name}")
        kinds.append(pol.type_name)
        if pol.type_name in STICKINESS and not listener.layer7:
            raise elb_errors.InvalidConfigurationRequest(
                f"Stickiness policies apply to HTTP and HTTPS listeners, not {listener.protocol}")
        if pol.type_name == "SSLNegotiationPolicyType" and \
                listener.protocol not in ("HTTPS", "SSL"):
            raise elb_errors.InvalidConfigurationRequest(
                "SSL negotiation policies apply to HTTPS and SSL listeners")
        if pol.type_name == "ProxyProtocolPolicyType":
            raise elb_errors.InvalidConfigurationRequest(
                "Proxy protocol policies apply to backend ports "
                "(SetLoadBalancerPoliciesForBackendServer)")
    if sum(1 for k in kinds if k in STICKINESS) > 1:
        raise elb_errors.InvalidConfigurationRequest("A listener takes one stickiness policy")
    listener.policies = names
    component(ctx).save(lb)
    return {}


def set_policies_for_backend_server(ctx: Context) -> Any:
    """SetLoadBalancerPoliciesForBackendServer (proxy protocol to an instance port)."""
    lb = find(ctx)
    port = int_param(ctx, ctx.params, "InstancePort", 1, 65535)
    names = [n for n in ctx.params.strings("PolicyNames") if n]
    for n in names:
        pol = lb.policy(n)
        if pol is None:
            raise elb_errors.PolicyNotFound(f"There is no policy named '{n}' of {lb.name}")
        if pol.type_name in STICKINESS or pol.type_name == "SSLNegotiationPolicyType":
            raise elb_errors.InvalidConfigurationRequest(
                f"Policy {n} of type {pol.type_name} does not apply to backend servers")
    if names:
        lb.backend_policies[str(port)] = names
    else:
        lb.backend_policies.pop(str(port), None)
    component(ctx).save(lb)
    return {}


def set_listener_ssl_certificate(ctx: Context) -> Any:
    """SetLoadBalancerListenerSSLCertificate of an HTTPS or SSL listener."""
    lb = find(ctx)
    port = int_param(ctx, ctx.params, "LoadBalancerPort", 1, 65535)
    listener = lb.listener(port)
    if listener is None:
        raise elb_errors.ListenerNotFound(f"There is no listener on port {port} of {lb.name}")
    if listener.protocol not in ("HTTPS", "SSL"):
        raise elb_errors.InvalidConfigurationRequest(
            f"The listener on port {port} is {listener.protocol}: only HTTPS and SSL "
            "listeners have certificates")
    arn = str(ctx.params.str("SSLCertificateId", required=True))
    check_certificate(ctx, arn)
    listener.certificate = arn
    component(ctx).save(lb)
    return {}


# -- attributes -------------------------------------------------------------------------
def _describe_attributes(attrs: dict[str, Any]) -> dict[str, Any]:
    log = attrs["AccessLog"]
    access: dict[str, Any] = {"Enabled": bool(log["Enabled"])}
    if log.get("S3BucketName"):
        access.update(S3BucketName=log["S3BucketName"], EmitInterval=int(log["EmitInterval"]),
                      S3BucketPrefix=log.get("S3BucketPrefix", ""))
    return {"CrossZoneLoadBalancing": {"Enabled": bool(attrs["CrossZoneLoadBalancing"]
                                                       ["Enabled"])},
            "AccessLog": access,
            "ConnectionDraining": {"Enabled": bool(attrs["ConnectionDraining"]["Enabled"]),
                                   "Timeout": int(attrs["ConnectionDraining"]["Timeout"])},
            "ConnectionSettings": {"IdleTimeout": int(attrs["ConnectionSettings"]
                                                      ["IdleTimeout"])}}


def describe_attributes(ctx: Context) -> Any:
    """DescribeLoadBalancerAttributes."""
    return {"LoadBalancerAttributes": _describe_attributes(find(ctx).attributes)}


def modify_attributes(ctx: Context) -> Any:
    """ModifyLoadBalancerAttributes: cross-zone, access log, draining, idle timeout."""
    lb = find(ctx)
    raw = ctx.params.get("LoadBalancerAttributes")
    if not isinstance(raw, dict) or not raw:
        raise errors.ValidationError("LoadBalancerAttributes is required")
    attrs = {k: dict(v) for k, v in lb.attributes.items()}
    for key, value in raw.items():
        if key == "AdditionalAttributes":
            continue
        if key not in attrs or not isinstance(value, dict):
            raise elb_errors.LoadBalancerAttributeNotFound(
                f"The attribute {key} is not a load balancer attribute")
    if "CrossZoneLoadBalancing" in raw:
        attrs["CrossZoneLoadBalancing"]["Enabled"] = bool_value(
            raw["CrossZoneLoadBalancing"].get("Enabled"), "CrossZoneLoadBalancing.Enabled")
    if "ConnectionDraining" in raw:
        cd = raw["ConnectionDraining"]
        attrs["ConnectionDraining"]["Enabled"] = bool_value(cd.get("Enabled"),
                                                            "ConnectionDraining.Enabled")
        if cd.get("Timeout") not in (None, ""):
            attrs["ConnectionDraining"]["Timeout"] = int_param(
                ctx, cd, "Timeout", 1, 3600, "ConnectionDraining.Timeout")
    if "ConnectionSettings" in raw:
        attrs["ConnectionSettings"]["IdleTimeout"] = int_param(
            ctx, raw["ConnectionSettings"], "IdleTimeout", 1, 3600,
            "ConnectionSettings.IdleTimeout")
    if "AccessLog" in raw:
        al = raw["AccessLog"]
        enabled = bool_value(al.get("Enabled"), "AccessLog.Enabled")
        log = attrs["AccessLog"]
        log["Enabled"] = enabled
        if al.get("S3BucketName"):
            log["S3BucketName"] = str(al["S3BucketName"])
        if al.get("S3BucketPrefix") is not None:
            log["S3BucketPrefix"] = str(al.get("S3BucketPrefix") or "").strip("/")
        if al.get("EmitInterval") not in (None, ""):
            interval = int_param(ctx, al, "EmitInterval", 5, 60, "AccessLog.EmitInterval")
            if interval not in (5, 60):
                raise errors.ValidationError("AccessLog.EmitInterval must be 5 or 60")
            log["EmitInterval"] = interval
        if enabled:
            _check_bucket(ctx, str(log.get("S3BucketName") or ""))
    lb.attributes = attrs
    component(ctx).save(lb)
    return {"LoadBalancerName": lb.name,
            "LoadBalancerAttributes": _describe_attributes(lb.attributes)}


def _check_bucket(ctx: Context, name: str) -> None:
    if not name:
        raise errors.ValidationError("AccessLog.S3BucketName is required to enable access logs")
    walrus: Any = ctx.cloud.components.get("walrus")
    row = walrus.store.bucket_or_none(name) if walrus is not None else None
    if row is None or row.get("account_id") != ctx.account_id:
        raise elb_errors.InvalidConfigurationRequest(
            f"Access Denied for bucket: {name}. Please check S3bucket permission")
