"""The records of the elbv2 API: load balancers, target groups (with their targets),
listeners and rules.  Actions and conditions are kept in the API's own shapes (plain
dicts), as validated by :mod:`server.elbv2.routing`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

#: Protocols of each balancer type's listeners (and of the target groups they forward to).
LISTENER_PROTOCOLS = {"application": ("HTTP", "HTTPS"), "network": ("TCP",)}
#: Target group protocols; layer 7 ones are HAProxy ``mode http``.
TARGET_PROTOCOLS = ("HTTP", "HTTPS", "TCP")
HTTP_PROTOCOLS = ("HTTP", "HTTPS")


def default_lb_attributes(kind: str) -> dict[str, str]:
    """AWS's attributes of a new balancer."""
    attrs = {"deletion_protection.enabled": "false",
             "access_logs.s3.enabled": "false", "access_logs.s3.bucket": "",
             "access_logs.s3.prefix": ""}
    if kind == "application":
        attrs.update({"idle_timeout.timeout_seconds": "60", "routing.http2.enabled": "true",
                      "routing.http.drop_invalid_header_fields.enabled": "false"})
    else:
        attrs["load_balancing.cross_zone.enabled"] = "false"
    return attrs


def default_tg_attributes(protocol: str) -> dict[str, str]:
    """AWS's attributes of a new target group."""
    attrs = {"deregistration_delay.timeout_seconds": "300", "stickiness.enabled": "false"}
    if protocol in HTTP_PROTOCOLS:
        attrs.update({"stickiness.type": "lb_cookie",
                      "stickiness.lb_cookie.duration_seconds": "86400",
                      "slow_start.duration_seconds": "0",
                      "load_balancing.algorithm.type": "round_robin"})
    else:
        attrs.update({"stickiness.type": "source_ip", "proxy_protocol_v2.enabled": "false"})
    return attrs


def default_health(protocol: str) -> dict[str, Any]:
    """AWS's health check of a new target group of a protocol."""
    http = protocol in HTTP_PROTOCOLS
    out: dict[str, Any] = {"HealthCheckProtocol": protocol if http else "TCP",
                           "HealthCheckPort": "traffic-port", "HealthCheckEnabled": True,
                           "HealthCheckIntervalSeconds": 30,
                           "HealthCheckTimeoutSeconds": 5 if http else 10,
                           "HealthyThresholdCount": 5 if http else 3,
                           "UnhealthyThresholdCount": 2 if http else 3}
    if http:
        out.update({"HealthCheckPath": "/", "Matcher": {"HttpCode": "200"}})
    return out


@dataclass
class AppLoadBalancer:
    """An Application or Network Load Balancer."""

    account_id: str
    name: str
    arn: str
    type: str  # application | network
    created: float
    #: The address HAProxy listens on (from the classic balancers' pool).
    address: str
    dns_name: str
    scheme: str = "internet-facing"
    zones: list[str] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    ip_address_type: str = "ipv4"
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def idle_timeout(self) -> int:
        """Seconds an idle connection stays open."""
        return int(self.attributes.get("idle_timeout.timeout_seconds", "350"))


@dataclass
class Target:
    """A registered target: an instance id or an IP address, and its port."""

    id: str
    port: int
    zone: str = ""


@dataclass
class TargetGroup:
    """A target group: its protocol, port, health check, targets and attributes."""

    account_id: str
    name: str
    arn: str
    protocol: str
    port: int
    target_type: str = "instance"  # instance | ip
    health: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    protocol_version: str = "HTTP1"

    def target(self, target_id: str, port: int) -> Target | None:
        """A registered target by id and port."""
        return next((t for t in self.targets if t.id == target_id and t.port == port), None)

    @property
    def deregistration_delay(self) -> int:
        """Seconds a deregistered target keeps its connections (draining)."""
        return int(self.attributes.get("deregistration_delay.timeout_seconds", "300"))


@dataclass
class Listener:
    """A listener of a balancer: protocol, port, certificates and its default actions."""

    account_id: str
    arn: str
    lb_arn: str
    protocol: str
    port: int
    #: The ARN of its default rule (DescribeRules lists it with IsDefault).
    default_rule_arn: str
    default_actions: list[dict[str, Any]] = field(default_factory=list)
    ssl_policy: str = ""
    certificates: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Rule:
    """A (non-default) rule of a listener: priority, conditions and actions."""

    account_id: str
    arn: str
    listener_arn: str
    priority: int
    conditions: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)


Record = AppLoadBalancer | TargetGroup | Listener | Rule
R = TypeVar("R", AppLoadBalancer, TargetGroup, Listener, Rule)

#: The kind stored with each record type.
KINDS: dict[str, type[Any]] = {"lb": AppLoadBalancer, "tg": TargetGroup,
                               "listener": Listener, "rule": Rule}


def kind_of(record: Record) -> str:
    """The stored kind of a record."""
    return next(k for k, cls in KINDS.items() if isinstance(record, cls))


def to_doc(record: Record) -> dict[str, Any]:
    """A record as JSON-able data."""
    return asdict(record)


def from_doc(kind: str, doc: dict[str, Any]) -> Record:
    """Rebuild a record from :func:`to_doc`'s output (unknown keys are ignored)."""
    cls = KINDS[kind]
    known = {f.name for f in fields(cls)}
    data = {k: v for k, v in doc.items() if k in known}
    if cls is TargetGroup:
        data["targets"] = [Target(**t) for t in data.get("targets", [])]
    return cls(**data)  # type: ignore[no-any-return]
