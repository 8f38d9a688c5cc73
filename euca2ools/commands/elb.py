"""eulb-* Elastic Load Balancing (classic ELB, API 2012-06-01): balancers, listeners,
instances and their health, health checks, zones and subnets, policies, attributes and tags.

Lists go on the wire as ``Name.member.N``.  Output records, as euca2ools 3.x prints them:

* ``LOAD_BALANCER`` name, DNS name, [``--show-long``: canonical hosted zone name and ID,
  ``{interval=..,target=..,timeout=..,healthy-threshold=..,unhealthy-threshold=..}``,
  zones, subnets, VPC, instances, listeners ``{protocol=..,lb-port=..,instance-protocol=..,
  instance-port=..,cert-id=..,{POLICY,..}}``, back end servers, app-cookie and lb-cookie
  stickiness policies (an lb-cookie policy shows its ``expiration-period``: it has no cookie
  name), other policies, source security group, security groups], created time, scheme;
* ``DNS_NAME`` (create), ``HEALTH_CHECK`` target, interval, timeout, healthy and unhealthy
  thresholds, ``INSTANCE`` id [state [description, reason code]], ``AVAILABILITY_ZONES``,
  ``SUBNETS`` and ``SECURITY_GROUPS`` (comma and space separated), ``POLICY`` name, type
  [attributes], ``POLICY_TYPE`` name, description [attribute types];
* attributes as ``Name.Sub<TAB>value`` lines; tags as a table (``--show-headers``).
"""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..exceptions import ArgumentError
from ..xmlparse import as_list

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation

SERVICE = "elasticloadbalancing"
_PROTOCOLS = ("HTTP", "HTTPS", "SSL", "TCP")
_LISTENER_KEYS = ("protocol", "lb-port", "instance-port", "instance-protocol", "cert-id")


# -- argument types -----------------------------------------------------------------------------
def comma_list(text: str) -> list[str]:
    """``A,B,C`` as a list (blank items dropped)."""
    return [item.strip() for item in text.split(",") if item.strip()]


def instance_list(text: str) -> list[dict[str, str]]:
    """``i-1,i-2`` as ELB ``Instance`` structures."""
    return [{"InstanceId": iid} for iid in comma_list(text)]


def port_list(text: str) -> list[int]:
    """``80,443`` as port numbers."""
    try:
        return [int(port) for port in comma_list(text)]
    except ValueError:
        raise ValueError(f"'{text}' must be a comma-separated list of port numbers") from None


def listener(spec: str) -> dict[str, Any]:
    """``protocol=HTTP, lb-port=80, instance-port=8080[, instance-protocol=P, cert-id=ARN]``
    as a ``Listener`` structure, checked as euca2ools checks it."""
    pairs: dict[str, str] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"listener '{spec}': element '{part.strip()}' must have format "
                             "KEY=VALUE")
        pairs[key.strip()] = value.strip()
    extra = [key for key in pairs if key not in _LISTENER_KEYS]
    if extra:
        raise ValueError(f"listener '{spec}': invalid element(s): "
                         + ", ".join(f"'{key}'" for key in extra))
    out: dict[str, Any] = {}
    protocol = pairs.get("protocol")
    if protocol is None:
        raise ValueError(f"listener '{spec}': protocol is required")
    if protocol.upper() not in _PROTOCOLS:
        raise ValueError(f"listener '{spec}': protocol '{protocol}' is invalid (choose from "
                         "'HTTP', 'HTTPS', 'SSL', 'TCP')")
    out["Protocol"] = protocol.upper()
    for key, wire in (("lb-port", "LoadBalancerPort"), ("instance-port", "InstancePort")):
        if key not in pairs:
            raise ValueError(f"listener '{spec}': {key} is required")
        try:
            out[wire] = int(pairs[key])
        except ValueError:
            raise ValueError(f"listener '{spec}': {key} must be an integer") from None
    if "instance-protocol" in pairs:
        back = pairs["instance-protocol"].upper()
        if back not in _PROTOCOLS:
            raise ValueError(f"listener '{spec}': instance-protocol '{pairs['instance-protocol']}' "
                             "is invalid (choose from 'HTTP', 'HTTPS', 'SSL', 'TCP')")
        # A layer-7 front end needs a layer-7 back end, and layer 4 likewise.
        web = ("HTTP", "HTTPS")
        if (back in web) != (out["Protocol"] in web):
            kinds = "'HTTP' or 'HTTPS'" if out["Protocol"] in web else "'SSL' or 'TCP'"
            raise ValueError(f"listener '{spec}': instance-protocol must be {kinds} when "
                             f"protocol is {kinds}")
        out["InstanceProtocol"] = back
    if "cert-id" in pairs:
        out["SSLCertificateId"] = pairs["cert-id"]
    return out


def tag_definition(spec: str) -> dict[str, str]:
    """``KEY=VALUE`` (or a bare ``KEY``) as a ``Tag``."""
    key, sep, value = spec.partition("=")
    if not key:
        raise ValueError(f"tag '{spec}' must have format KEY=VALUE")
    return {"Key": key, "Value": value} if sep else {"Key": key}


def tag_key(spec: str) -> dict[str, str]:
    """A tag key to remove."""
    if not spec:
        raise ValueError("a tag key may not be empty")
    return {"Key": spec}


def policy_attribute(spec: str) -> dict[str, str]:
    """``name=NAME, value=VALUE`` as a ``PolicyAttribute``."""
    attr: dict[str, str] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        if key.strip() == "name" and sep:
            attr["AttributeName"] = value.strip()
        elif key.strip() == "value" and sep:
            attr["AttributeValue"] = value.strip()
        else:
            raise ValueError(f"attribute '{spec}': '{key.strip()}' is not a valid part of an "
                             "attribute (choose from 'name', 'value')")
    for wire, word in (("AttributeName", "name"), ("AttributeValue", "value")):
        if wire not in attr:
            raise ValueError(f"attribute '{spec}': {word} is required")
    return attr


def name_value_attribute(spec: str) -> dict[str, str]:
    """``NAME=VALUE`` as a ``PolicyAttribute``."""
    name, sep, value = spec.partition("=")
    if not sep:
        raise ValueError(f"attribute '{spec}' must have format NAME=VALUE")
    if not name.strip():
        raise ValueError(f"attribute '{spec}' must have a name")
    return {"AttributeName": name.strip(), "AttributeValue": value.strip()}


def name_value_attributes(spec: str) -> list[dict[str, str]]:
    """``NAME=VALUE,NAME=VALUE`` as ``PolicyAttribute`` structures."""
    return [name_value_attribute(part) for part in spec.split(",") if part.strip()]


def attribute_setting(spec: str) -> tuple[str, str]:
    """``ATTR=VALUE`` for ModifyLoadBalancerAttributes (``ATTR`` may be dotted)."""
    name, sep, value = spec.partition("=")
    if not sep or not name:
        raise ValueError(f"invalid ATTR=VALUE pair: {spec}")
    return name, value


# -- printers -----------------------------------------------------------------------------------
def _long(inv: Invocation) -> bool:
    return bool(inv.args.get("show_long"))


def _braced(items: list[str]) -> str | None:
    return "{" + ",".join(items) + "}" if items else None


def _pairs(source: dict[str, Any], names: tuple[tuple[str, str], ...]) -> list[str]:
    return [f"{name}={source[wire]}" for name, wire in names if source.get(wire)]


def _health_check_text(check: Any) -> str | None:
    if not isinstance(check, dict):
        return None
    bits = _pairs(check, (("interval", "Interval"), ("target", "Target"), ("timeout", "Timeout"),
                          ("healthy-threshold", "HealthyThreshold"),
                          ("unhealthy-threshold", "UnhealthyThreshold")))
    return _braced(bits)


def _listener_text(desc: dict[str, Any]) -> str:
    lsn = desc.get("Listener") or {}
    bits = _pairs(lsn, (("protocol", "Protocol"), ("lb-port", "LoadBalancerPort"),
                        ("instance-protocol", "InstanceProtocol"),
                        ("instance-port", "InstancePort"), ("cert-id", "SSLCertificateId")))
    policies = [str(p) for p in as_list(desc.get("PolicyNames"))]
    if policies:
        bits.append("{" + ",".join(policies) + "}")
    return "{" + ",".join(bits) + "}"


def _backend_text(desc: dict[str, Any]) -> str:
    bits = []
    if desc.get("InstancePort"):
        bits.append(f"instance-port={desc['InstancePort']}")
    if "PolicyNames" in desc:
        bits.append("policies={" + ",".join(str(p) for p in as_list(desc["PolicyNames"])) + "}")
    return "{" + ",".join(bits) + "}"


def _print_balancer(inv: Invocation, lb: dict[str, Any]) -> None:
    bits: list[Any] = ["LOAD_BALANCER", lb.get("LoadBalancerName"), lb.get("DNSName")]
    if _long(inv):
        bits += [lb.get("CanonicalHostedZoneName"), lb.get("CanonicalHostedZoneNameID"),
                 _health_check_text(lb.get("HealthCheck")),
                 ",".join(str(z) for z in as_list(lb.get("AvailabilityZones"))),
                 ",".join(str(s) for s in as_list(lb.get("Subnets"))),
                 lb.get("VPCId"),
                 ",".join(str(i.get("InstanceId")) for i in as_list(lb.get("Instances"))
                          if isinstance(i, dict)),
                 ",".join(_listener_text(d) for d in as_list(lb.get("ListenerDescriptions"))
                          if isinstance(d, dict)) or None,
                 ",".join(_backend_text(d) for d in as_list(lb.get("BackendServerDescriptions"))
                          if isinstance(d, dict)) or None]
        raw_policies = lb.get("Policies")
        policies: dict[str, Any] = raw_policies if isinstance(raw_policies, dict) else {}
        for kind in ("AppCookieStickinessPolicies", "LBCookieStickinessPolicies"):
            texts = []
            for pol in as_list(policies.get(kind)):
                if not isinstance(pol, dict):
                    continue
                # An LB cookie policy has an expiration period, not a cookie name.
                second = (f"cookie-name={pol.get('CookieName', '')}" if "CookieName" in pol
                          else f"expiration-period={pol.get('CookieExpirationPeriod', '')}")
                texts.append(f"{{policy-name={pol.get('PolicyName', '')},{second}}}")
            bits.append(",".join(texts) or None)
        bits.append(_braced([str(p) for p in as_list(policies.get("OtherPolicies"))]))
        group = lb.get("SourceSecurityGroup")
        bits.append(f"{{owner-alias={group.get('OwnerAlias', '')},group-name="
                    f"{group.get('GroupName', '')}}}" if isinstance(group, dict) and group else None)
        bits.append(_braced([str(g) for g in as_list(lb.get("SecurityGroups"))]))
    bits += [lb.get("CreatedTime"), lb.get("Scheme")]
    inv.emit(*bits)


def _describe_balancers(inv: Invocation) -> None:
    """Every page of DescribeLoadBalancers (``Marker``/``NextMarker``)."""
    params = dict(inv.params)
    for _ in range(1000):  # a server repeating its marker must not loop forever
        result = inv.call("DescribeLoadBalancers", params)
        for lb in as_list(result.get("LoadBalancerDescriptions")):
            if isinstance(lb, dict):
                _print_balancer(inv, lb)
        marker = result.get("NextMarker")
        if not marker:
            break
        params["Marker"] = marker


def _print_dns_name(inv: Invocation, result: Any) -> None:
    inv.emit("DNS_NAME", result.get("DNSName"))


def _print_health_check(inv: Invocation, result: Any) -> None:
    check = result.get("HealthCheck") or {}
    inv.emit("HEALTH_CHECK", check.get("Target"), check.get("Interval"), check.get("Timeout"),
             check.get("HealthyThreshold"), check.get("UnhealthyThreshold"))


def _print_instances(inv: Invocation, result: Any) -> None:
    for inst in as_list(result.get("Instances")):
        if isinstance(inst, dict):
            inv.emit("INSTANCE", inst.get("InstanceId"))


def _print_instance_health(inv: Invocation, result: Any) -> None:
    for state in as_list(result.get("InstanceStates")):
        if not isinstance(state, dict):
            continue
        bits = ["INSTANCE", state.get("InstanceId"), state.get("State")]
        if _long(inv):
            bits += [state.get("Description"), state.get("ReasonCode")]
        inv.emit(*bits)


def _joined(prefix: str, key: str) -> Any:
    def printer(inv: Invocation, result: Any) -> None:
        inv.emit(prefix, ", ".join(str(v) for v in as_list(result.get(key))))
    return printer


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested attributes as (``Name.Sub``, value) pairs; ``{Key, Value}`` lists by key."""
    out: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, sub in value.items():
            out += _flatten(sub, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for n, sub in enumerate(value, 1):
            if isinstance(sub, dict) and "Key" in sub:
                out.append((f"{prefix}.{sub['Key']}", sub.get("Value")))
            else:
                out += _flatten(sub, f"{prefix}.{n}")
    else:
        out.append((prefix, value))
    return out


def _print_attributes(inv: Invocation, result: Any) -> None:
    attrs = dict(result.get("LoadBalancerAttributes") or {})
    if not attrs.get("AdditionalAttributes"):
        attrs.pop("AdditionalAttributes", None)  # an empty list, not an attribute
    for key, value in sorted(_flatten(attrs)):
        inv.emit(key, value)


def _print_policies(inv: Invocation, result: Any) -> None:
    for pol in as_list(result.get("PolicyDescriptions")):
        if not isinstance(pol, dict):
            continue
        bits = ["POLICY", pol.get("PolicyName"), pol.get("PolicyTypeName")]
        if _long(inv):
            attrs = [f"{{name={a.get('AttributeName')},value={a.get('AttributeValue')}}}"
                     for a in as_list(pol.get("PolicyAttributeDescriptions")) if isinstance(a, dict)]
            bits.append(",".join(attrs) or None)
        inv.emit(*bits)


def _print_policy_types(inv: Invocation, result: Any) -> None:
    for ptype in as_list(result.get("PolicyTypeDescriptions")):
        if not isinstance(ptype, dict):
            continue
        bits = ["POLICY_TYPE", ptype.get("PolicyTypeName"), ptype.get("Description")]
        if _long(inv):
            attrs = []
            for a in as_list(ptype.get("PolicyAttributeTypeDescriptions")):
                if isinstance(a, dict):
                    attrs.append("{" + ",".join(
                        f"{name}={a.get(wire) or ''}" for name, wire in (
                            ("name", "AttributeName"), ("description", "Description"),
                            ("type", "AttributeType"), ("default-value", "DefaultValue"),
                            ("cardinality", "Cardinality"))) + "}")
            bits.append(",".join(attrs))
        inv.emit(*bits)


def _print_tags(inv: Invocation, result: Any) -> None:
    """A left-aligned table, two spaces after each column (headers with --show-headers)."""
    empty = "(nil)" if inv.show_empty else ""
    rows = [("TAG", "load-balancer", str(desc.get("LoadBalancerName") or empty),
             str(tag.get("Key") or empty), str(tag.get("Value") or empty))
            for desc in as_list(result.get("TagDescriptions")) if isinstance(desc, dict)
            for tag in as_list(desc.get("Tags")) if isinstance(tag, dict)]
    if inv.args.get("show_headers"):
        rows.insert(0, ("TAG", "TYPE", "NAME", "KEY", "VALUE"))
    if not rows:
        return
    widths = [max(len(row[n]) for row in rows) for n in range(5)]
    for row in rows:
        inv.echo("".join(cell.ljust(width) + "  " for cell, width in zip(row, widths, strict=True)))


# -- preparers ----------------------------------------------------------------------------------
def _prepare_policy_names(inv: Invocation) -> None:
    """``-p POLICY1,POLICY2`` (``-p ''`` clears them: an empty ``PolicyNames``)."""
    from ..client import EMPTY

    names = comma_list(inv.args.get("policy_names") or "")
    inv.params["PolicyNames"] = {"member": names} if names else EMPTY


def _prepare_policy(inv: Invocation) -> None:
    """-a, -A and --attributes-from-file together make PolicyAttributes."""
    attrs = list(inv.args.get("attribute") or [])
    for group in inv.args.get("attributes") or []:
        attrs += group
    filename = inv.args.get("attributes_from_file")
    if filename:
        import sys

        stream = sys.stdin if filename == "-" else open(filename, encoding="utf-8")  # noqa: SIM115
        with stream:
            for number, line in enumerate(stream, 1):
                if not line.strip() or line.startswith("#"):
                    continue
                try:
                    attrs.append(name_value_attribute(line.strip()))
                except ValueError as err:
                    raise ArgumentError(f"error on {filename} line {number}: {err}") from None
    if attrs:
        inv.params["PolicyAttributes.member"] = attrs


def _prepare_attributes(inv: Invocation) -> None:
    inv.params["LoadBalancerAttributes"] = dict(inv.args.get("attrs") or [])


def _prepare_health_check(inv: Invocation) -> None:
    target = inv.args.get("HealthCheck.Target") or ""
    protocol, _, rest = target.partition(":")
    if not rest:
        raise ArgumentError("argument -t/--target: must have form PROTOCOL:PORT[/PATH]")
    if protocol.lower() in ("http", "https") and "/" not in rest:
        raise ArgumentError(f"argument -t/--target: path is required for protocol '{protocol}'")


# -- shared arguments ---------------------------------------------------------------------------
def _elb(help: str) -> Arg:
    return Arg("ELB", dest="LoadBalancerName", complete="loadbalancer", help=f"{help} (required)")


_MODIFY = "name of the load balancer to modify"


def _show_long(what: str) -> Arg:
    return Arg("--show-long", name="show_long", flag=True, help=f"show all of the {what}' info")


def _listeners_arg() -> Arg:
    return Arg("-l", "--listener", dest="Listeners.member", required=True, multiple=True,
               type=listener,
               metavar="\"lb-port=PORT, protocol={HTTP,HTTPS,SSL,TCP}, instance-port=PORT, "
                       "instance-protocol={HTTP,HTTPS,SSL,TCP}, cert-id=ARN\"",
               help="port/protocol settings for the load balancer, where lb-port is the external "
                    "port number, protocol is the external protocol, instance-port is the back end "
                    "server port number, instance-protocol is the protocol to use for routing "
                    "traffic to back end instances, and cert-id is the ARN of the server "
                    "certificate to use for encrypted connections.  lb-port, protocol, and "
                    "instance-port are required.  This option may be used multiple times.  "
                    "(at least 1 required)")


def _zones_arg(help: str) -> Arg:
    return Arg("-z", "--availability-zones", dest="AvailabilityZones.member", required=True,
               type=comma_list, metavar="ZONE1,ZONE2,...", complete="zone", help=help)


def _subnets_arg(help: str) -> Arg:
    return Arg("-s", "--subnets", dest="Subnets.member", required=True, type=comma_list,
               metavar="SUBNET1,SUBNET2,...", help=help)


def _instances_arg(help: str, required: bool = True) -> Arg:
    return Arg("--instances", dest="Instances.member", required=required, type=instance_list,
               metavar="INSTANCE1,INSTANCE2,...", complete="instance", help=help)


def _policy_names_arg(help: str) -> Arg:
    return Arg("-p", "--policy-names", name="policy_names", required=True,
               metavar="POLICY1,POLICY2,...", help=help)


COMMANDS = [
    Command(
        "eulb-apply-security-groups-to-lb", SERVICE, "ApplySecurityGroupsToLoadBalancer",
        "[VPC only] Associate one or more security groups with a load balancer.  All previous "
        "associations with security groups will be replaced",
        [_elb(_MODIFY),
         Arg("-g", "--security-groups", dest="SecurityGroups.member", required=True,
             type=comma_list, metavar="GROUP1,GROUP2,...", complete="group",
             help="security groups to associate the load balancer with (required)")],
        output=_joined("SECURITY_GROUPS", "SecurityGroups"), show_empty=True),
    Command(
        "eulb-attach-lb-to-subnets", SERVICE, "AttachLoadBalancerToSubnets",
        "[VPC only] Add a load balancer to one or more subnets",
        [_elb(_MODIFY), _subnets_arg("IDs of the subnets to add the load balancer to (required)")],
        output=_joined("SUBNETS", "Subnets"), show_empty=True),
    Command(
        "eulb-configure-healthcheck", SERVICE, "ConfigureHealthCheck",
        "Configure health checking for instances registered with a load balancer",
        [_elb(_MODIFY),
         Arg("--healthy-threshold", dest="HealthCheck.HealthyThreshold", required=True, type=int,
             metavar="COUNT", help="number of consecutive successful health checks that will "
             "mark instances as Healthy (required)"),
         Arg("--interval", dest="HealthCheck.Interval", required=True, type=int,
             metavar="SECONDS", help="approximate interval between health checks (required)"),
         Arg("-t", "--target", dest="HealthCheck.Target", required=True,
             metavar="PROTOCOL:PORT[/PATH]",
             help="connection target for health checks (required)"),
         Arg("--timeout", dest="HealthCheck.Timeout", required=True, type=int, metavar="SECONDS",
             help="maximum health check duration (required)"),
         Arg("--unhealthy-threshold", dest="HealthCheck.UnhealthyThreshold", required=True,
             type=int, metavar="COUNT", help="number of consecutive failed health checks that "
             "will mark instances as Unhealthy (required)")],
        prepare=_prepare_health_check, output=_print_health_check, show_empty=True),
    Command(
        "eulb-create-app-cookie-stickiness-policy", SERVICE, "CreateAppCookieStickinessPolicy",
        "Create a new stickiness policy for a load balancer, whereby the server application "
        "generates a cookie and adds it to its responses.  The load balancer will then use this "
        "cookie to route requests from each user to the same back end instance.  This type of "
        "policy can only be associated with HTTP or HTTPS listeners",
        [_elb(_MODIFY),
         Arg("-c", "--cookie-name", dest="CookieName", required=True, metavar="COOKIE",
             help="name of the cookie used for stickiness (required)"),
         Arg("-p", "--policy-name", dest="PolicyName", required=True, metavar="POLICY",
             help="name of the new policy (required)")]),
    Command(
        "eulb-create-lb", SERVICE, "CreateLoadBalancer", "Create a load balancer",
        [Arg("ELB", dest="LoadBalancerName", help="name of the new load balancer (required)"),
         Group(Arg("-s", "--subnets", dest="Subnets.member", type=comma_list,
                   metavar="SUBNET1,SUBNET2,...",
                   help="[VPC only] subnets the load balancer should run in (required)"),
               Arg("-z", "--availability-zones", dest="AvailabilityZones.member",
                   type=comma_list, metavar="ZONE1,ZONE2,...", complete="zone",
                   help="[Non-VPC only] availability zones the load balancer should run in "
                        "(required)"),
               required=True),
         _listeners_arg(),
         Arg("-i", "--scheme", dest="Scheme", choices=("internal",), metavar="internal",
             help="[VPC only] \"internal\" to make the new load balancer private to a VPC"),
         Arg("-g", "--security-groups", dest="SecurityGroups.member", type=comma_list,
             metavar="GROUP1,GROUP2,...", complete="group",
             help="[VPC only] IDs of the security groups to assign to the new load balancer"),
         Arg("-t", "--tag", dest="Tags.member", multiple=True, type=tag_definition,
             metavar="KEY[=VALUE]", help="key and optional value of a tag to add to the new "
             "load balancer (may be repeated)")],
        output=_print_dns_name, show_empty=True,
        description="After the load balancer is created, instances must be registered with it "
                    "separately."),
    Command(
        "eulb-create-lb-cookie-stickiness-policy", SERVICE, "CreateLBCookieStickinessPolicy",
        "Create a new stickiness policy for a load balancer, whereby the load balancer "
        "automatically generates cookies that it uses to route requests from each user to the "
        "same back end instance.  This type of policy can only be associated with HTTP or HTTPS "
        "listeners",
        [_elb(_MODIFY),
         Arg("-e", "--expiration-period", dest="CookieExpirationPeriod", required=True, type=int,
             metavar="SECONDS", help="time period after which cookies should be considered "
             "stale (default: user's session length) (required)"),
         Arg("-p", "--policy-name", dest="PolicyName", required=True, metavar="POLICY",
             help="name of the new policy (required)")]),
    Command(
        "eulb-create-lb-listeners", SERVICE, "CreateLoadBalancerListeners",
        "Add one or more listeners to a load balancer",
        [_elb(_MODIFY), _listeners_arg()]),
    Command(
        "eulb-create-lb-policy", SERVICE, "CreateLoadBalancerPolicy",
        "Add a new policy to a load balancer",
        [_elb(_MODIFY),
         Arg("-n", "--policy-name", dest="PolicyName", required=True, metavar="POLICY",
             help="name of the new policy (required)"),
         Arg("-t", "--policy-type", dest="PolicyTypeName", required=True, metavar="POLTYPE",
             help="type of the new policy.  For a list of policy types, use "
                  "eulb-describe-lb-policy-types.  (required)"),
         Arg("-a", "--attribute", name="attribute", multiple=True, type=policy_attribute,
             metavar="\"name=NAME, value=VALUE\"", help="name and value for each attribute "
             "associated with the new policy.  Use this option multiple times to supply "
             "multiple attributes."),
         Arg("-A", "--attributes", name="attributes", multiple=True, type=name_value_attributes,
             metavar="NAME=VALUE,...", help="a comma-delimited list of attribute names and "
             "values to associate with the new policy, each pair of which is separated by "
             "\"=\".  This is a more concise alternative to the -a/--attribute option."),
         Arg("--attributes-from-file", name="attributes_from_file", metavar="FILE",
             complete="file", help="a file containing attribute names and values to associate "
             "with the new policy, one per line, each pair of which is separated by \"=\".  "
             "Lines that are blank or begin with \"#\" are ignored.")],
        prepare=_prepare_policy),
    Command(
        "eulb-create-tags", SERVICE, "AddTags", "Add one or more tags to a load balancer",
        [Arg("ELB", dest="LoadBalancerNames.member.1", complete="loadbalancer",
             help="name of the load balancer to tag (required)"),
         Arg("-t", "--tag", dest="Tags.member", required=True, multiple=True,
             type=tag_definition, metavar="KEY=VALUE",
             help="key and value of each tag to add (required)")]),
    Command(
        "eulb-delete-lb", SERVICE, "DeleteLoadBalancer", "Delete a load balancer",
        [_elb("name of the load balancer to delete")],
        description="If the load balancer does not exist, this command still succeeds."),
    Command(
        "eulb-delete-lb-listeners", SERVICE, "DeleteLoadBalancerListeners",
        "Delete one or more listeners from a load balancer",
        [_elb(_MODIFY),
         Arg("-l", "--lb-ports", dest="LoadBalancerPorts.member", required=True, type=port_list,
             metavar="PORT1,PORT2,...",
             help="port numbers of the listeners to remove (required)"),
         # Accepted and ignored, as euca2ools 3.x does, for scripts written for older tools.
         Arg("--force", name="force", flag=True, hidden=True)],
        description="If a listener named with -l/--lb-ports does not exist, this command still "
                    "succeeds."),
    Command(
        "eulb-delete-lb-policy", SERVICE, "DeleteLoadBalancerPolicy",
        "Delete a policy from a load balancer",
        [_elb("name of the load balancer that owns the policy"),
         Arg("-p", "--policy-name", dest="PolicyName", required=True, metavar="POLICY",
             help="name of the policy to delete (required)")]),
    Command(
        "eulb-delete-tags", SERVICE, "RemoveTags",
        "Remove one or more tags from a load balancer",
        [Arg("ELB", dest="LoadBalancerNames.member.1", complete="loadbalancer",
             help="name of the load balancer to untag (required)"),
         Arg("-t", "--tag", dest="Tags.member", required=True, multiple=True, type=tag_key,
             metavar="KEY", help="key of each tag to remove (required)")]),
    Command(
        "eulb-deregister-instances-from-lb", SERVICE, "DeregisterInstancesFromLoadBalancer",
        "Remove one or more instances from a load balancer",
        [_elb(_MODIFY),
         _instances_arg("IDs of the instances to remove from the load balancer (required)")],
        output=_print_instances, show_empty=True),
    Command(
        "eulb-describe-instance-health", SERVICE, "DescribeInstanceHealth",
        "Show the state of instances registered with a load balancer",
        [_elb("name of the load balancer to describe instances for"),
         _instances_arg("limit results to specific instances", required=False),
         _show_long("instances")],
        output=_print_instance_health, show_empty=True),
    Command(
        "eulb-describe-lb-attributes", SERVICE, "DescribeLoadBalancerAttributes",
        "Show a load balancer's attributes",
        [_elb("the load balancer to describe")],
        output=_print_attributes, show_empty=True),
    Command(
        "eulb-describe-lb-policies", SERVICE, "DescribeLoadBalancerPolicies",
        "Show information about load balancer policies",
        [Arg("ELB", dest="LoadBalancerName", nargs="?", complete="loadbalancer",
             help="show policies associated with a "
             "specific load balancer (default: only describe sample policies provided by the "
             "service)"),
         Arg("-p", "--policy-names", dest="PolicyNames.member", type=comma_list,
             metavar="POLICY1,POLICY2,...", help="limit results to specific policies"),
         _show_long("policies")],
        output=_print_policies, show_empty=True),
    Command(
        "eulb-describe-lb-policy-types", SERVICE, "DescribeLoadBalancerPolicyTypes",
        "Show information about load balancer policy types",
        [Arg("POLTYPE", dest="PolicyTypeNames.member", nargs="*",
             help="limit results to specific policy types"),
         _show_long("policy types")],
        output=_print_policy_types, show_empty=True),
    Command(
        "eulb-describe-lbs", SERVICE, "DescribeLoadBalancers",
        "Show information about load balancers",
        [Arg("ELB", dest="LoadBalancerNames.member", nargs="*", complete="loadbalancer",
             help="limit results to specific load balancers"),
         _show_long("load balancers")],
        run=_describe_balancers, show_empty=True),
    Command(
        "eulb-describe-tags", SERVICE, "DescribeTags",
        "Show the tags associated with one or more load balancers",
        [Arg("ELB", dest="LoadBalancerNames.member", nargs="+", complete="loadbalancer",
             help="load balancer(s) to show tags for (required)"),
         Arg("--show-headers", name="show_headers", flag=True, help="show column headers")],
        output=_print_tags, show_empty=True),
    Command(
        "eulb-detach-lb-from-subnets", SERVICE, "DetachLoadBalancerFromSubnets",
        "[VPC only] Remove a load balancer from one or more subnets",
        [_elb(_MODIFY),
         _subnets_arg("IDs of the subnets to remove the load balancer from (required)")],
        output=_joined("SUBNETS", "Subnets"), show_empty=True),
    Command(
        "eulb-disable-zones-for-lb", SERVICE, "DisableAvailabilityZonesForLoadBalancer",
        "Remove a load balancer from one or more availability zones",
        [_elb(_MODIFY),
         _zones_arg("availability zones to remove the load balancer from (required)")],
        output=_joined("AVAILABILITY_ZONES", "AvailabilityZones"), show_empty=True),
    Command(
        "eulb-enable-zones-for-lb", SERVICE, "EnableAvailabilityZonesForLoadBalancer",
        "Add a load balancer to one or more availability zones",
        [_elb(_MODIFY),
         _zones_arg("availability zones to add the load balancer to (required)")],
        output=_joined("AVAILABILITY_ZONES", "AvailabilityZones"), show_empty=True),
    Command(
        "eulb-modify-lb-attributes", SERVICE, "ModifyLoadBalancerAttributes",
        "Modify a load balancer's attributes",
        [_elb(_MODIFY),
         Arg("ATTR=VALUE", name="attrs", nargs="+", type=attribute_setting,
             help="name and new value of each attribute to modify, e.g. "
                  "ConnectionSettings.IdleTimeout=30 or CrossZoneLoadBalancing.Enabled=true "
                  "(required)")],
        prepare=_prepare_attributes),
    Command(
        "eulb-register-instances-with-lb", SERVICE, "RegisterInstancesWithLoadBalancer",
        "Add one or more instances to a load balancer",
        [_elb(_MODIFY),
         _instances_arg("IDs of the instances to register with the load balancer (required)")],
        output=_print_instances, show_empty=True),
    Command(
        "eulb-set-lb-listener-ssl-cert", SERVICE, "SetLoadBalancerListenerSSLCertificate",
        "Change the certificate that terminates a load balancer listener's SSL connections",
        [_elb(_MODIFY),
         Arg("-l", "--lb-port", dest="LoadBalancerPort", required=True, type=int,
             metavar="PORT", help="port that should use the certificate (required)"),
         Arg("-c", "--cert-id", dest="SSLCertificateId", required=True, metavar="ARN",
             help="ARN for the server certificate to use (required)")]),
    Command(
        "eulb-set-lb-policies-for-backend-server", SERVICE,
        "SetLoadBalancerPoliciesForBackendServer",
        "Change the policies associated with a port on which load-balanced back end servers "
        "listen",
        [_elb(_MODIFY),
         Arg("-i", "--instance-port", dest="InstancePort", required=True, type=int,
             metavar="PORT", help="port number of the back end server (required)"),
         _policy_names_arg("list of policies to associate with the back end server; an empty "
                           "list ('') removes them all (required)")],
        prepare=_prepare_policy_names),
    Command(
        "eulb-set-lb-policies-of-listener", SERVICE, "SetLoadBalancerPoliciesOfListener",
        "Change the policy associated with a load balancer listener",
        [_elb(_MODIFY),
         Arg("-l", "--lb-port", dest="LoadBalancerPort", required=True, type=int,
             metavar="PORT", help="port of the listener to modify (required)"),
         _policy_names_arg("list of policies to associate with the listener; an empty list "
                           "('') removes them all (required)")],
        prepare=_prepare_policy_names),
]
