"""A classic load balancer as the ELB component records it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: Listener protocols and the instance protocols each may forward to.
FRONT_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "SSL")
#: Layer-7 protocols (HAProxy ``mode http``); the others are layer 4 (``mode tcp``).
HTTP_PROTOCOLS = ("HTTP", "HTTPS")


def default_health_check() -> dict[str, Any]:
    """AWS's default health check of a new balancer."""
    return {"Target": "TCP:80", "Interval": 30, "Timeout": 5, "UnhealthyThreshold": 2,
            "HealthyThreshold": 10}


def default_attributes() -> dict[str, Any]:
    """AWS's default attributes of a balancer created through the API."""
    return {"CrossZoneLoadBalancing": {"Enabled": False},
            "AccessLog": {"Enabled": False, "S3BucketName": "", "EmitInterval": 60,
                          "S3BucketPrefix": ""},
            "ConnectionDraining": {"Enabled": False, "Timeout": 300},
            "ConnectionSettings": {"IdleTimeout": 60}}


@dataclass
class Listener:
    """One listener: a front port and protocol, forwarded to an instance port."""

    protocol: str
    port: int
    instance_protocol: str
    instance_port: int
    certificate: str = ""
    policies: list[str] = field(default_factory=list)

    @property
    def layer7(self) -> bool:
        """True when HAProxy handles the listener in HTTP mode."""
        return self.protocol in HTTP_PROTOCOLS

    def describe(self) -> dict[str, Any]:
        """The ``ListenerDescription`` shape."""
        out: dict[str, Any] = {"Protocol": self.protocol, "LoadBalancerPort": self.port,
                               "InstanceProtocol": self.instance_protocol,
                               "InstancePort": self.instance_port}
        if self.certificate:
            out["SSLCertificateId"] = self.certificate
        return {"Listener": out, "PolicyNames": list(self.policies)}


@dataclass
class Policy:
    """A named policy of a balancer: its type and attributes (in the order given)."""

    name: str
    type_name: str
    attributes: list[list[str]] = field(default_factory=list)

    def value(self, name: str, default: str = "") -> str:
        """An attribute's (first) value."""
        return next((v for k, v in self.attributes if k == name), default)


@dataclass
class LoadBalancer:
    """A balancer: its listeners, instances, health check, attributes and policies."""

    account_id: str
    name: str
    created: float
    #: The address HAProxy listens on (one per balancer, so two balancers share ports).
    address: str
    dns_name: str
    zones: list[str] = field(default_factory=list)
    listeners: list[Listener] = field(default_factory=list)
    instances: list[str] = field(default_factory=list)
    health_check: dict[str, Any] = field(default_factory=default_health_check)
    attributes: dict[str, Any] = field(default_factory=default_attributes)
    policies: list[Policy] = field(default_factory=list)
    #: InstancePort (as a string) -> policy names (ProxyProtocol, backend authentication).
    backend_policies: dict[str, list[str]] = field(default_factory=dict)
    security_groups: list[str] = field(default_factory=list)
    subnets: list[str] = field(default_factory=list)
    scheme: str = "internet-facing"
    tags: dict[str, str] = field(default_factory=dict)

    def listener(self, port: int) -> Listener | None:
        """The listener on a front port."""
        return next((li for li in self.listeners if li.port == port), None)

    def policy(self, name: str) -> Policy | None:
        """A policy by name."""
        return next((p for p in self.policies if p.name == name), None)

    @property
    def draining(self) -> float:
        """Seconds of connection draining (0 when disabled)."""
        cd = self.attributes["ConnectionDraining"]
        return float(cd["Timeout"]) if cd["Enabled"] else 0.0

    @property
    def idle_timeout(self) -> int:
        """The idle timeout in seconds."""
        return int(self.attributes["ConnectionSettings"]["IdleTimeout"])

    @property
    def cross_zone(self) -> bool:
        """True when every instance gets an equal share whatever its zone."""
        return bool(self.attributes["CrossZoneLoadBalancing"]["Enabled"])

    def doc(self) -> dict[str, Any]:
        """The record as JSON-able data."""
        return asdict(self)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> LoadBalancer:
        """Rebuild a record from :meth:`doc`'s output (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in doc.items() if k in known}
        data["listeners"] = [Listener(**li) for li in data.get("listeners", [])]
        data["policies"] = [Policy(**p) for p in data.get("policies", [])]
        attrs = default_attributes()
        attrs.update(data.get("attributes") or {})
        data["attributes"] = attrs
        return cls(**data)
