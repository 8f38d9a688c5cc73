"""The service registry: every component of this cloud, its state, and the events.

Each service has a type (``eucalyptus`` for the CLC, ``cluster``, ``storage``, ``node``,
``walrusbackend``, the user-facing APIs...), a partition (the availability zone for CCs,
SCs and NCs; ``eucalyptus`` for cloud-wide services), a host and a state: ENABLED,
DISABLED, NOTREADY, BROKEN or STOPPED, as ``euserv-describe-services`` shows them.

The in-process components register themselves when the cloud starts; RegisterService adds
remote ones, which stay NOTREADY until a transport connects them (subscribers of
:meth:`ServiceRegistry.on_register` do that, and report with
:meth:`ServiceRegistry.set_state`).  A node's state is its CC's view of it, live: UP
(or asleep, waking) is ENABLED, maintenance is DISABLED, a node that stopped reporting
is NOTREADY.  Disabling a node is maintenance mode: its CC places nothing new on it,
and the administrator's choice survives restarts.

Events are state changes and faults (a node going down and coming back, an
administrator stopping a service), kept in the database, the newest :data:`MAX_EVENTS`.
"""

from __future__ import annotations

import functools
import logging
import re
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from server import errors
from server.cc.cluster import ClusterController, NodeBusy
from server.nc.types import NodeStatus
from server.remote.cluster_client import RemoteCluster

if TYPE_CHECKING:
    from server.cc.cluster import NodeInfo
    from server.cc.view import NodeView
    from server.cloud import Cloud
    from server.ports.cluster import Cluster

log = logging.getLogger(__name__)

metadata = sa.MetaData()

services_table = sa.Table(
    "euserv_services", metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("partition", sa.String(255), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("port", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("local", sa.Boolean, nullable=False),
    sa.Column("registered", sa.Float, nullable=False),
)

events_table = sa.Table(
    "euserv_events", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("uuid", sa.String(36), nullable=False),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("service_name", sa.String(255), nullable=False),
    sa.Column("service_type", sa.String(64), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)

ENABLED, DISABLED, NOTREADY, BROKEN, STOPPED = "ENABLED", "DISABLED", "NOTREADY", "BROKEN", \
    "STOPPED"
STATES = (ENABLED, DISABLED, NOTREADY, BROKEN, STOPPED)
#: The partition of cloud-wide services, as Eucalyptus names it.
CLOUD_PARTITION = "eucalyptus"
#: Events kept (oldest dropped first).
MAX_EVENTS = 1000
#: ModifyService's ``State`` values -> the state they ask for.
TRANSITIONS = {"enable": ENABLED, "disable": DISABLED, "stop": STOPPED, "start": ENABLED}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,254}$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:]+\]?$")


@dataclass(frozen=True)
class ServiceType:
    """One kind of service (DescribeAvailableServiceTypes)."""

    name: str
    description: str
    #: RegisterService accepts it (components that run on their own hosts).
    registerable: bool
    #: Lives in an availability zone (RegisterService needs ``-z``).
    zoned: bool = False
    #: The port a remote one listens on unless told (Eucalyptus' defaults).
    port: int = 8773


SERVICE_TYPES: dict[str, ServiceType] = {t.name: t for t in (
    ServiceType("eucalyptus", "The cloud controller (CLC)", False),
    ServiceType("bootstrap", "The service registry (Empyrean)", False),
    ServiceType("properties", "Cloud properties (euctl)", False),
    ServiceType("compute", "The EC2 API", False),
    ServiceType("euare", "The IAM API", False),
    ServiceType("tokens", "The STS API", False),
    ServiceType("objectstorage", "The S3 API", False),
    ServiceType("autoscaling", "The Auto Scaling API", False),
    ServiceType("cloudwatch", "The CloudWatch API", False),
    ServiceType("loadbalancing", "The Elastic Load Balancing API", False),
    ServiceType("walrusbackend", "Walrus, the object store behind the S3 API", True),
    ServiceType("cluster", "A cluster controller (CC), one per availability zone", True,
                zoned=True, port=8774),
    ServiceType("storage", "A storage controller (SC, EBS volumes), one per availability zone",
                True, zoned=True),
    ServiceType("node", "A node controller (NC), registered with its zone's CC", True,
                zoned=True, port=8775),
)}

#: The SigV4 name of a served API -> its service type.
API_TYPES = {"ec2": "compute", "iam": "euare", "sts": "tokens", "s3": "objectstorage",
             "autoscaling": "autoscaling", "monitoring": "cloudwatch",
             "elasticloadbalancing": "loadbalancing",
             "bootstrap": "bootstrap", "properties": "properties"}
#: Services an administrator may not stop or disable: the way back in.
ESSENTIAL = frozenset({"eucalyptus", "bootstrap", "properties", "euare", "tokens"})


@dataclass(frozen=True)
class ServiceRecord:
    """One registered service."""

    name: str
    type: str
    partition: str
    host: str
    port: int
    state: str
    #: Runs in this process (registered at start, not by RegisterService).
    local: bool
    registered: float

    @property
    def full_name(self) -> str:
        """Eucalyptus' ARN of the service."""
        return f"arn:euca:eucalyptus:{self.partition}:{self.type}:{self.name}/"


@dataclass(frozen=True)
class Event:
    """A state change or fault of one service."""

    uuid: str
    ts: float
    severity: str
    service_name: str
    service_type: str
    host: str
    message: str


RegisterHook = Callable[[ServiceRecord], Any]


class ServiceRegistry:
    """The services of one cloud, persisted, with their events."""

    def __init__(self, cloud: Cloud):
        self.cloud = cloud
        self.engine = cloud.engine
        self.services: dict[str, ServiceRecord] = {}
        self._register_hooks: list[RegisterHook] = []
        self._deregister_hooks: list[RegisterHook] = []
        self._node_status: dict[str, NodeStatus] = {}
        #: API name -> the service object a stand-in replaces while it is stopped.
        self._gated: dict[str, Any] = {}
        self._events_since_prune = 0
        with self.engine.connect() as conn:
            for row in conn.execute(sa.select(services_table)).mappings():
                self.services[row["name"]] = ServiceRecord(
                    row["name"], row["type"], row["partition"], row["host"], int(row["port"]),
                    row["state"], bool(row["local"]), float(row["registered"]))

    # -- subscribers (the remote transport connects registered services) -------------
    def on_register(self, callback: RegisterHook) -> None:
        """Call ``callback(record)`` after each RegisterService (and for every remote
        service already registered, when the cloud starts)."""
        self._register_hooks.append(callback)

    def on_deregister(self, callback: RegisterHook) -> None:
        """Call ``callback(record)`` after each DeregisterService."""
        self._deregister_hooks.append(callback)

    # -- start-up --------------------------------------------------------------------
    def start(self) -> None:
        """Register the in-process components, put nodes back in maintenance where the
        administrator left them, and watch the CCs' node states."""
        host, port = self.cloud.config.host_port
        now = self.cloud.clock.now()
        seen: set[str] = set()
        for name, kind, partition in self._local_components():
            seen.add(name)
            old = self.services.get(name)
            state = old.state if old is not None and old.local else ENABLED
            self._save(ServiceRecord(name, kind, partition, host, port, state, True,
                                     old.registered if old is not None else now))
        for name in [n for n, r in self.services.items() if r.local and n not in seen]:
            self._delete(name)  # a component this cloud no longer runs (zone removed)
        for record in list(self.services.values()):
            self._gate(record)
            self._cluster_availability(record)
        for zone, cc in self._local_clusters():
            for view in cc.nodes:
                node = self.services.get(view.name)
                if node is not None and node.state in (DISABLED, STOPPED):
                    cc.set_enabled(view.name, False)
                self._node_status[view.name] = view.status
            cc.node_listeners.append(functools.partial(self._node_changed, zone))
        for record in list(self.services.values()):
            if not record.local:
                self._notify(self._register_hooks, record)
        self.record_event("eucalyptus", "INFO", f"cloud started with {len(seen)} local services")

    def _local_components(self) -> Iterable[tuple[str, str, str]]:
        """``(name, type, partition)`` of every component running in this process."""
        cloud = self.cloud
        yield "eucalyptus", "eucalyptus", CLOUD_PARTITION
        for api, kind in API_TYPES.items():
            if api in cloud.app.endpoints:
                yield kind, kind, CLOUD_PARTITION
        if cloud.components.get("walrus") is not None:
            yield "walrus", "walrusbackend", CLOUD_PARTITION
        storage = _storage_zones(cloud)
        for zone, cc in cloud.clusters.items():
            if not isinstance(cc, ClusterController):
                continue  # a CC in another process: registered with RegisterService
            yield f"{zone}-cc", "cluster", zone
            if zone in storage:
                yield f"{zone}-sc", "storage", zone
            for view in cc.nodes:
                yield view.name, "node", zone

    # -- queries ---------------------------------------------------------------------
    def current(self, record: ServiceRecord) -> ServiceRecord:
        """The record with its live state: a node's is its CC's view of it (in this process
        or, for a registered node, the remote CC's as of its last poll); a registered CC's
        is whether it answers."""
        if record.type == "node":
            found = self._node(record.name)
            if found is not None:
                return replace(record, state=_node_state(found[1].status))
        elif record.type == "cluster" and not record.local and \
                record.state in (ENABLED, NOTREADY):
            remote = self.cloud.clusters.get(record.partition)
            if remote is not None and not isinstance(remote, ClusterController):
                live = ENABLED if getattr(remote, "available", False) else NOTREADY
                return replace(record, state=live)
        return record

    def describe(self, names: Iterable[str] = (),
                 filters: dict[str, list[str]] | None = None) -> list[ServiceRecord]:
        """Services by name (all when none), filtered by ``partition``, ``host``,
        ``service-type``, ``state``, ``internal`` or ``public``."""
        known = {**self.connected_by_flags(), **self.services}
        wanted = list(names)
        for name in wanted:
            if name not in known:
                raise errors.InvalidParameterValue(f"No such service: {name}")
        out = [self.current(known[n]) for n in (wanted or sorted(known))]
        for key, values in (filters or {}).items():
            out = [r for r in out if _filter_value(r, key) in values]
        return out

    def events(self, names: Iterable[str] = (), limit: int = MAX_EVENTS) -> list[Event]:
        """The newest events (oldest first), of the named services or all."""
        query = sa.select(events_table).order_by(events_table.c.seq.desc()).limit(limit)
        wanted = list(names)
        if wanted:
            query = query.where(events_table.c.service_name.in_(wanted))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [Event(r["uuid"], float(r["ts"]), r["severity"], r["service_name"],
                      r["service_type"], r["host"], r["message"]) for r in reversed(rows)]

    def connected_by_flags(self) -> dict[str, ServiceRecord]:
        """CCs in other processes that were not registered here (``eucalyptus-cloud
        --cluster``) and the nodes remote CCs report that were not either (``--node``):
        shown with their live state, not kept (the command line names them each time)."""
        out: dict[str, ServiceRecord] = {}
        registered = {r.partition for r in self.services.values() if r.type == "cluster"}
        for zone, cc in self.cloud.clusters.items():
            if not isinstance(cc, RemoteCluster):
                continue
            url = urllib.parse.urlsplit(cc.client.base_url)
            host, port = url.hostname or "", url.port or SERVICE_TYPES["cluster"].port
            if zone not in registered:
                name = f"{zone}-cc"
                out[name] = ServiceRecord(name, "cluster", zone, host, port, ENABLED, False, 0.0)
            for node in cc.describe_nodes():
                if node.name not in self.services:
                    # The CLC knows a node only through its CC: the CC's host stands for it.
                    out[node.name] = ServiceRecord(node.name, "node", zone, host, port,
                                                   _node_state(NodeStatus(node.status)), False,
                                                   0.0)
        return out

    # -- changes ---------------------------------------------------------------------
    def register(self, name: str, kind: str, host: str, port: int | None = None,
                 partition: str | None = None) -> ServiceRecord:
        """RegisterService: record a remote service (NOTREADY until a transport connects
        it) and tell the subscribers."""
        if not _NAME.match(name or ""):
            raise errors.InvalidParameterValue(
                f"Invalid service name {name!r}: letters, digits and . _ : - (255 at most)")
        stype = SERVICE_TYPES.get(kind or "")
        if stype is None or not stype.registerable:
            kinds = ", ".join(sorted(t.name for t in SERVICE_TYPES.values() if t.registerable))
            raise errors.InvalidParameterValue(
                f"Service type {kind!r} cannot be registered; registrable types: {kinds}")
        if not host or not _HOST.match(host):
            raise errors.InvalidParameterValue(f"Invalid host {host!r}")
        if port is None:
            port = stype.port
        if not 0 < port < 65536:
            raise errors.InvalidParameterValue(f"Invalid port {port}: 1 to 65535")
        if partition and not _NAME.match(partition):
            raise errors.InvalidParameterValue(f"Invalid availability zone {partition!r}")
        if stype.zoned:
            if not partition:
                raise errors.MissingParameter(
                    f"A {kind} service needs an availability zone (-z ZONE)")
            if kind != "cluster" and partition not in self._zones():
                raise errors.InvalidParameterValue(
                    f"No cluster serves availability zone {partition!r}: register its "
                    "cluster first")
        else:
            partition = partition or CLOUD_PARTITION
        if name in self.services:
            raise errors.InvalidParameterValue(f"A service named {name} is already registered")
        record = ServiceRecord(name, kind, partition, host, port, NOTREADY, False,
                               self.cloud.clock.now())
        self._save(record)
        self.record_event(name, "INFO", f"registered {kind} service at {host}:{port}"
                          f" in {partition}")
        self._notify(self._register_hooks, record)
        return record

    def deregister(self, name: str) -> ServiceRecord:
        """DeregisterService: forget a registered (remote) service."""
        record = self._get(name)
        if record.local:
            raise errors.InvalidParameterValue(
                f"{name} runs in the cloud process itself and cannot be deregistered; "
                "stop it with euserv-modify-service -s stop")
        if record.type == "cluster" and any(
                r.partition == record.partition and r.type in ("node", "storage")
                and r.name != name for r in self.services.values()) and \
                sum(1 for r in self.services.values()
                    if r.type == "cluster" and r.partition == record.partition) == 1:
            raise errors.InvalidParameterValue(
                f"Zone {record.partition} still has services: deregister them first")
        if record.type == "cluster" and any(
                i.zone == record.partition and i.state != "terminated"
                for i in self.cloud.clc.instances.values()):
            raise errors.InvalidParameterValue(
                f"Zone {record.partition} still has instances: terminate them first")
        if record.type == "node":
            self._remove_node(record)
        self._delete(name)
        self.record_event(name, "INFO", f"deregistered {record.type} service", record)
        self._notify(self._deregister_hooks, record)
        return record

    def _remove_node(self, record: ServiceRecord) -> None:
        """A node leaves its CC (as a CC leaves the cloud): refused while instances are on
        it, as the CLC or the CC sees them (running, starting, stopping, migrating)."""
        name = record.name
        found = self._node(name)
        advice = "evacuate (euserv-migrate-instances) or terminate them first"
        held = {i.id for i in self.cloud.clc.instances.values()
                if i.node == name and i.zone == record.partition
                and i.state not in ("terminated", "stopped")}
        if found is not None:
            held.update(*(n.instances for n in found[0].describe_nodes() if n.name == name))
        if held:
            raise errors.InvalidParameterValue(
                f"Node {name} still has instances ({', '.join(sorted(held))}): {advice}")
        if found is not None:
            try:
                found[0].remove_node(name)
            except NodeBusy as exc:  # the CC saw an instance the CLC has not heard of yet
                raise errors.InvalidParameterValue(f"{exc}: {advice}") from None
            except ValueError as exc:
                raise errors.InvalidParameterValue(f"Node {name}: {exc}") from None
        self._node_status.pop(name, None)

    def modify(self, name: str, transition: str) -> ServiceRecord:
        """ModifyService: ``enable``, ``disable``, ``start`` or ``stop`` a service.  For a
        node, ``disable`` and ``stop`` are maintenance mode (no new instances)."""
        want = TRANSITIONS.get((transition or "").lower())
        if want is None:
            raise errors.InvalidParameterValue(
                f"Invalid state {transition!r}: one of {', '.join(TRANSITIONS)}")
        flagged = self.connected_by_flags().get(name) if name not in self.services else None
        record = flagged or self._get(name)
        before = self.current(record).state
        if record.type in ESSENTIAL and want in (DISABLED, STOPPED):
            raise errors.InvalidParameterValue(
                f"{name} ({record.type}) cannot be {want.lower()}: the administrator would "
                "lose the way back in")
        if record.type == "node":
            found = self._node(name)
            if found is not None:
                cc, view = found
                if view.status is NodeStatus.DOWN and want == ENABLED:
                    raise errors.AWSError(f"Node {name} is not reporting; it cannot be enabled",
                                          code="IncorrectState")
                cc.set_enabled(name, want == ENABLED)
        if flagged is not None:  # named by the command line, not kept: the CC keeps it
            if flagged.type != "node":
                raise errors.InvalidParameterValue(
                    f"{name} was connected by the command line, not registered: register it "
                    "to manage it")
            after = self.current(replace(flagged, state=want)).state
            if after != before:
                self.record_event(name, "INFO", f"state changed from {before} to {after} "
                                  f"({transition.lower()} by the administrator)", flagged)
            return replace(flagged, state=after)
        self._save(replace(record, state=want))
        self._gate(self.services[name])
        self._cluster_availability(self.services[name])
        after = self.current(self.services[name]).state
        if after != before:
            self.record_event(name, "INFO", f"state changed from {before} to {after} "
                              f"({transition.lower()} by the administrator)")
        return self.services[name]

    def set_state(self, name: str, state: str, reason: str = "") -> None:
        """Report a service's state (a transport that connected or lost it)."""
        if state not in STATES:
            raise ValueError(f"unknown service state {state!r}")
        record = self.services.get(name)
        if record is None or record.state == state:
            return
        self._save(replace(record, state=state))
        severity = "ERROR" if state in (BROKEN, NOTREADY) else "INFO"
        self.record_event(name, severity, f"state changed from {record.state} to {state}"
                          + (f": {reason}" if reason else ""))

    def record_event(self, name: str, severity: str, message: str,
                     record: ServiceRecord | None = None) -> None:
        """Keep one event about service ``name``."""
        record = record or self.services.get(name)
        kind = record.type if record else ""
        host = record.host if record else ""
        with self.engine.begin() as conn:
            conn.execute(events_table.insert().values(
                uuid=str(uuid.uuid4()), ts=self.cloud.clock.now(), severity=severity,
                service_name=name, service_type=kind, host=host, message=message))
            self._events_since_prune += 1
            if self._events_since_prune >= 100:
                self._events_since_prune = 0
                newest = conn.execute(sa.select(sa.func.max(events_table.c.seq))).scalar() or 0
                conn.execute(events_table.delete().where(events_table.c.seq <= newest - MAX_EVENTS))
        log.info("service event: %s %s %s", severity, name, message)

    # -- helpers ---------------------------------------------------------------------
    def _cluster_availability(self, record: ServiceRecord) -> None:
        """A disabled or stopped CC (in this process or another) takes no new instances,
        an in-process SC no new volumes.  NOTREADY is not the administrator's: a remote CC
        that does not answer is unavailable by itself."""
        if record.type == "cluster":
            cc = self.cloud.clusters.get(record.partition)
            if cc is not None:
                cc.set_available(record.state not in (DISABLED, STOPPED))
        elif record.type == "storage" and record.local:
            zones = getattr(self.cloud.components.get("sc"), "zones", None)
            sc = zones.get(record.partition) if isinstance(zones, dict) else None
            if sc is not None:
                sc.available = record.state == ENABLED

    def _gate(self, record: ServiceRecord) -> None:
        """A stopped or disabled in-process API answers 503; an enabled one serves again."""
        from server.empyrean.gate import UnavailableService, swap

        api = next((a for a, kind in API_TYPES.items() if kind == record.type), None)
        if api is None or not record.local:
            return
        app = self.cloud.app
        down = record.state in (DISABLED, STOPPED)
        if down and api not in self._gated:
            path = app.endpoints.get(api)
            original = app.by_path.get(path.lower()) if path else None
            if original is None:
                return
            self._gated[api] = original
            swap(app, original, UnavailableService(
                original, f"The {record.type} service is {record.state.lower()} by the "
                "cloud administrator"))
        elif not down and api in self._gated:
            original = self._gated.pop(api)
            stand_in = app.by_path.get(app.endpoints[api].lower())
            swap(app, stand_in, original)

    def _node_changed(self, zone: str, view: NodeView) -> None:
        """A CC's node changed state: faults (down, back) become events."""
        self._node_status_changed(zone, view.name, view.status, len(view.instances))

    def remote_node_changed(self, zone: str, node: NodeInfo) -> None:
        """A remote CC reported a node in a new state (its poll): the same events."""
        self._node_status_changed(zone, node.name, NodeStatus(node.status), len(node.instances))

    def _node_status_changed(self, zone: str, name: str, new: NodeStatus, instances: int) -> None:
        old = self._node_status.get(name)
        self._node_status[name] = new
        if old is new:
            return
        if new is NodeStatus.DOWN:
            self.record_event(name, "ERROR", f"node stopped reporting to the CC of {zone}: "
                              f"its capacity left the zone ({instances} instances kept)")
        elif old is NodeStatus.DOWN:
            self.record_event(name, "INFO", f"node reporting again to the CC of {zone}")

    def _local_clusters(self) -> list[tuple[str, ClusterController]]:
        """The CCs running in this process (remote ones report through the transport)."""
        return [(zone, cc) for zone, cc in self.cloud.clusters.items()
                if isinstance(cc, ClusterController)]

    def _node(self, name: str) -> tuple[Cluster, Any] | None:
        """The CC a node is registered with and its view of the node (a :class:`NodeView`
        in this process, the last poll's for a remote CC: both have ``status``)."""
        for cc in self.cloud.clusters.values():
            view = cc.by_name.get(name)
            if view is not None:
                return cc, view
        return None

    def _zones(self) -> set[str]:
        zones = set(self.cloud.clusters)
        zones.update(r.partition for r in self.services.values() if r.type == "cluster")
        return zones

    def _get(self, name: str) -> ServiceRecord:
        record = self.services.get(name or "")
        if record is None:
            raise errors.InvalidParameterValue(f"No such service: {name}")
        return record

    def _save(self, record: ServiceRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(services_table.delete().where(services_table.c.name == record.name))
            conn.execute(services_table.insert().values(
                name=record.name, type=record.type, partition=record.partition,
                host=record.host, port=record.port, state=record.state, local=record.local,
                registered=record.registered))
        self.services[record.name] = record

    def _delete(self, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(services_table.delete().where(services_table.c.name == name))
        self.services.pop(name, None)

    @staticmethod
    def _notify(hooks: list[RegisterHook], record: ServiceRecord) -> None:
        for hook in hooks:
            try:
                hook(record)
            except Exception:
                log.exception("service registry subscriber failed for %s", record.name)


def _node_state(status: NodeStatus) -> str:
    if status is NodeStatus.DISABLED:
        return DISABLED
    if status is NodeStatus.DOWN:
        return NOTREADY
    return ENABLED  # UP, or powered down/waking by POWERSAVE: still schedulable


def _storage_zones(cloud: Cloud) -> set[str]:
    sc = cloud.components.get("sc")
    zones = getattr(sc, "zones", None)
    return set(zones) if isinstance(zones, dict) else set()


def _filter_value(record: ServiceRecord, key: str) -> str:
    if key in ("partition", "availability-zone"):
        return record.partition
    if key == "host":
        return record.host
    if key == "service-type":
        return record.type
    if key == "state":
        return record.state
    if key == "internal":
        return "true" if record.type in ("cluster", "storage", "node", "walrusbackend",
                                         "eucalyptus") else "false"
    if key == "public":
        return "true" if record.type in API_TYPES.values() else "false"
    raise errors.InvalidParameterValue(
        f"Invalid filter {key!r}: availability-zone, host, internal, public, service-type, "
        "state")
