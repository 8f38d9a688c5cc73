"""The load-balancing data plane as the ELB component sees it (the role of Eucalyptus'
"servo" instances): it is handed a complete, plain description of each balancer and
reports back the state of each backend and the traffic counters.  The HAProxy plane
(:mod:`server.elb.haproxy`) implements it; another host could, behind this interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Backend:
    """One registered instance the balancer may forward to."""

    instance_id: str
    address: str
    #: Relative share of new connections (zone balancing without cross-zone).
    weight: int = 1


@dataclass(frozen=True)
class Frontend:
    """One listener: what it accepts and how it forwards."""

    protocol: str  # HTTP | HTTPS | TCP | SSL
    port: int
    instance_protocol: str
    instance_port: int
    #: PEM of certificate, chain and private key (HTTPS and SSL listeners).
    certificate_pem: str = ""
    #: "" | "lb" (the balancer's AWSELB cookie) | "app" (follows the application's cookie)
    stickiness: str = ""
    cookie_name: str = ""
    cookie_seconds: int = 0
    #: Send the proxy protocol (v1) header to the instances.
    proxy_protocol: bool = False
    #: Lowest TLS version accepted ("" = HAProxy's default).
    tls_min: str = ""
    #: Highest TLS version accepted ("" = HAProxy's default).
    tls_max: str = ""
    #: OpenSSL cipher list of TLS 1.2 and older ("" = HAProxy's default).
    ciphers: str = ""
    #: The client's cipher order wins (Server-Defined-Cipher-Order false).
    prefer_client_ciphers: bool = False


@dataclass(frozen=True)
class Ingress:
    """Who may connect to one listener port: source CIDRs (``0.0.0.0/0`` = anyone,
    none = nobody), from the balancer's security groups."""

    port: int
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class BalancerSpec:
    """Everything the data plane needs to run one balancer."""

    key: str  # stable identity: ACCOUNT-NAME
    name: str
    address: str
    frontends: tuple[Frontend, ...]
    backends: tuple[Backend, ...]
    #: ``HTTP:80/path``, ``HTTPS:443/path``, ``TCP:22`` or ``SSL:443``.
    health_target: str
    interval: int
    timeout: int
    healthy_threshold: int
    unhealthy_threshold: int
    idle_timeout: int
    #: Seconds established connections to removed instances may finish in (0: closed).
    drain_seconds: float = 0.0
    access_log: bool = False
    #: Per listener port, the sources its security groups admit (None: not filtered).
    ingress: tuple[Ingress, ...] | None = None


@dataclass(frozen=True)
class BackendState:
    """One backend's health as the data plane sees it."""

    instance_id: str
    #: True: passing checks; False: failed UnhealthyThreshold checks; None: not known yet.
    up: bool | None
    detail: str = ""


@dataclass(frozen=True)
class Traffic:
    """Counters of one balancer since its data plane (re)started; monotonic until a reload."""

    requests: int = 0
    backend_codes: dict[str, int] = field(default_factory=dict)  # "2XX" -> count
    elb_5xx: int = 0
    #: Average backend response time over recent requests, seconds.
    latency: float = 0.0
    surge_queue: int = 0
    generation: int = 0  # changes when counters restart from zero


class LoadBalancerPort(Protocol):
    """The data plane: runs balancers, reports health, traffic and access-log lines."""

    def available(self) -> str:
        """"" when balancers can run here, else why not."""
        ...

    def apply(self, spec: BalancerSpec) -> None:
        """Run the balancer as described (start it, or reload it without dropping
        established connections)."""
        ...

    def remove(self, key: str) -> None:
        """Stop a balancer and forget it."""
        ...

    def backend_states(self, key: str) -> dict[str, BackendState]:
        """``{instance id: state}`` of a running balancer ({} when not running)."""
        ...

    def traffic(self, key: str) -> Traffic | None:
        """The balancer's counters, or None when not running."""
        ...

    def take_access_log(self, key: str) -> list[str]:
        """Access-log entries (ELB's format) received since the last call."""
        ...

    def stop(self) -> None:
        """Stop every balancer (the cloud stops)."""
        ...


# -- Application Load Balancers (elbv2) ----------------------------------------------------
@dataclass(frozen=True)
class AppTarget:
    """One target of a target group: HAProxy's server ``name`` at address:port."""

    name: str
    address: str
    port: int


@dataclass(frozen=True)
class TargetGroupSpec:
    """One target group as a backend: its targets, health check and stickiness."""

    name: str  # the backend's name (unique in the balancer)
    protocol: str  # HTTP | HTTPS | TCP
    targets: tuple[AppTarget, ...]
    check_enabled: bool = True
    check_protocol: str = "HTTP"
    #: The health check's port (0: each target's own port).
    check_port: int = 0
    check_path: str = "/"
    #: Passing HTTP codes as a regular expression over the status (``^(200)$``).
    check_codes: str = "^(200)$"
    interval: int = 30
    timeout: int = 5
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2
    #: Seconds of the balancer's stickiness cookie (0: no stickiness).
    sticky_seconds: int = 0
    algorithm: str = "roundrobin"  # roundrobin | leastconn


@dataclass(frozen=True)
class RouteCondition:
    """A test on the request: ``fetch`` (path, host, method, src, query or ``hdr:NAME``)
    against patterns (regular expressions, or addresses for ``src``, or exact methods)."""

    fetch: str
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Route:
    """A rule (or the default rule, with no conditions): when all conditions hold, the
    request gets the action: ``forward`` (to weighted backends), ``fixed-response`` or
    ``redirect`` (to ``location``, an HAProxy log-format string)."""

    conditions: tuple[RouteCondition, ...]
    action: str
    forward: tuple[tuple[str, int], ...] = ()
    status: int = 0
    content_type: str = ""
    body: str = ""
    location: str = ""
    #: The redirect's location for requests without a query string ("": ``location``).
    location_bare: str = ""


@dataclass(frozen=True)
class AppListenerSpec:
    """A listener: its routes in priority order, the default route last."""

    protocol: str  # HTTP | HTTPS | TCP
    port: int
    routes: tuple[Route, ...]
    certificate_pem: str = ""
    tls_min: str = ""
    #: PEMs of further certificates, chosen by the client's SNI.
    sni_pems: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppBalancerSpec(BalancerSpec):
    """An Application (or Network) Load Balancer: listeners with routes to target groups
    (its ``frontends`` and ``backends`` stay empty)."""

    listeners: tuple[AppListenerSpec, ...] = ()
    target_groups: tuple[TargetGroupSpec, ...] = ()
