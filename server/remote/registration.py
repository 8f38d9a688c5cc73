"""Registering components on other hosts: clusters with the CLC, nodes with their CC.

These are the functions the service registry (``euserv-register-service -t cluster|node``)
calls; until it does, ``eucalyptus-cloud``'s ``--cluster``/``--node`` flags call them.
:class:`RemoteSettings` is what a process's command line says about the other hosts.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import shutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from server.clock import loop_of
from server.nc.types import NodeStatus
from server.remote.cluster_client import DEFAULT_CLC_POLL, RemoteCluster
from server.remote.cluster_server import DEFAULT_POLL_INTERVAL
from server.remote.http import InternalClient
from server.remote.signing import Keyring

if TYPE_CHECKING:
    from server.cc.cluster import NodeInfo
    from server.cloud import Cloud
    from server.empyrean.registry import ServiceRecord
    from server.tls import TLSFiles

log = logging.getLogger(__name__)

COMPONENT_NAMES = ("clc", "walrus", "sc", "cc", "nc")
CLC_ID = "clc"


def cc_id(zone: str) -> str:
    """A CC's component id (its key file is ``cc-ZONE.key``)."""
    return f"cc-{zone}"


def nc_id(name: str) -> str:
    """An NC's component id (its key file is ``nc-NAME.key``)."""
    return f"nc-{name}"


@dataclass
class RemoteSettings:
    """Which components this process runs and where the others are."""

    components: frozenset[str] = frozenset(COMPONENT_NAMES)
    keys_dir: str = ""
    zone: str = ""
    node_name: str = ""
    #: zone -> HOST:PORT of its CC (CLC side).
    clusters: dict[str, str] = field(default_factory=dict)
    #: node name -> HOST:PORT of its NC (CC side).
    nodes: dict[str, str] = field(default_factory=dict)
    poll_interval: float = DEFAULT_POLL_INTERVAL
    clc_poll_interval: float = DEFAULT_CLC_POLL
    internal_tls: bool = False

    @property
    def all_in_one(self) -> bool:
        """True when this process runs every component (the default)."""
        return "cc" in self.components and "clc" in self.components

    def url(self, address: str) -> str:
        """The URL of an internal endpoint at HOST:PORT."""
        return f"{'https' if self.internal_tls else 'http'}://{address}"

    def tls_verify(self) -> str | bool:
        """What clients verify internal endpoints against: the keys directory's CA."""
        from server.tls import CA_FILE

        return os.path.join(self.keys_dir, CA_FILE) if self.internal_tls else True


def parse_components(text: str) -> frozenset[str]:
    """``clc,walrus`` -> the set; ValueError names an unknown one."""
    names = frozenset(p.strip().lower() for p in text.split(",") if p.strip())
    unknown = sorted(names - set(COMPONENT_NAMES))
    if unknown or not names:
        raise ValueError(f"--components: unknown component(s) {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(COMPONENT_NAMES)}")
    if len(names & {"clc", "cc", "nc"}) != 1 and names != frozenset(COMPONENT_NAMES):
        raise ValueError("--components: run exactly one of clc, cc or nc in a process "
                         "(or all of them: the default)")
    return names


def parse_addresses(pairs: tuple[str, ...], what: str) -> dict[str, str]:
    """``NAME=HOST:PORT`` flags -> {name: "HOST:PORT"}."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, address = pair.partition("=")
        host, colon, port = address.rpartition(":")
        if not sep or not name or not colon or not host or not port.isdigit():
            raise ValueError(f"--{what}: expected NAME=HOST:PORT, got {pair!r}")
        out[name] = address
    return out


def ensure_ca(keys_dir: str) -> None:
    """The keys directory's CA of the internal links, made by the first component to start."""
    from server.tls import CA_FILE, generate

    os.makedirs(keys_dir, mode=0o700, exist_ok=True)
    # Components that start together must not each make a CA: one makes it, under a lock.
    with open(os.path.join(keys_dir, ".ca.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(keys_dir, CA_FILE)):
            generate(keys_dir, [])


def tls_files(keys_dir: str, component: str, hosts: list[str]) -> TLSFiles:
    """A component's certificate, issued by the CA of the keys directory (made if missing)."""
    from server.tls import CA_FILE, CA_KEY_FILE, generate

    ensure_ca(keys_dir)
    own = os.path.join(keys_dir, "tls", component)
    os.makedirs(own, mode=0o700, exist_ok=True)
    for name in (CA_FILE, CA_KEY_FILE):
        if not os.path.exists(os.path.join(own, name)):
            shutil.copy2(os.path.join(keys_dir, name), os.path.join(own, name))
    return generate(own, hosts)


# -- the CLC side ------------------------------------------------------------------------
def configure(cloud: Cloud, settings: RemoteSettings) -> None:
    """Tell a CLC process where its clusters are (before it starts)."""
    if not settings.keys_dir:
        settings.keys_dir = os.path.join(cloud.data_dir, "keys")
    if settings.internal_tls:
        ensure_ca(settings.keys_dir)
    cloud.components["remote"] = settings
    cloud.start_hooks.append(lambda: mark_started(cloud))


def attach_remote_clusters(cloud: Cloud) -> bool:
    """A CLC whose CCs run elsewhere: one :class:`RemoteCluster` per registered zone.

    Returns False for the all-in-one cloud (its CCs are built in the process)."""
    settings: RemoteSettings | None = cloud.components.get("remote")
    if settings is None or settings.all_in_one:
        return False
    for zone, address in settings.clusters.items():
        register_cluster(cloud, zone, address)
    # Clusters registered with euserv-register-service before a restart: connected now,
    # before the CLC restores its instances against their views (not later, when the
    # registry starts: the instances would be gone by then).
    registry = cloud.components.get("service_registry")
    for record in list(registry.services.values()) if registry is not None else []:
        if record.type == "cluster" and not record.local and \
                record.partition not in cloud.clusters:
            try:
                register_cluster(cloud, record.partition, f"{record.host}:{record.port}")
            except Exception as exc:  # noqa: BLE001 - the registry reports it NOTREADY
                log.warning("cannot connect cluster %s: %s", record.name, exc)
    return True


def _keyring(cloud: Cloud) -> Keyring:
    settings: RemoteSettings = cloud.components["remote"]
    keyring: Keyring | None = cloud.components.get("remote_keyring")
    if keyring is None:
        keyring = Keyring(settings.keys_dir or os.path.join(cloud.data_dir, "keys"), CLC_ID)
        cloud.components["remote_keyring"] = keyring
    return keyring


def register_cluster(cloud: Cloud, zone: str, address: str) -> RemoteCluster:
    """Register the CC of ``zone`` at ``HOST:PORT`` with the CLC (euserv-register-service -t
    cluster -z ZONE -h HOST).  The zone must be in the cloud's configuration (its addresses)."""
    if zone not in {z.name for z in cloud.config.zones}:
        raise ValueError(f"zone {zone!r} is not in the cloud's configuration")
    existing = cloud.clusters.get(zone)
    if existing is not None:
        raise ValueError(f"zone {zone!r} already has a cluster controller")
    settings: RemoteSettings = cloud.components.setdefault("remote", RemoteSettings(
        components=frozenset({"clc", "walrus", "sc"})))
    client = InternalClient(settings.url(address), _keyring(cloud), timeout=5.0,
                            verify=settings.tls_verify())
    remote = RemoteCluster(zone, client, loop_of(cloud.clock),
                           poll_interval=settings.clc_poll_interval)
    remote.sync(timeout=2.0)  # the CLC restores its instances against the CC's view
    cloud.clusters[zone] = remote
    if cloud.components.get("service_registry") is not None:
        remote.node_listeners.append(functools.partial(_node_reported, cloud, remote))
        remote.back_listeners.append(functools.partial(_register_missing_nodes, cloud, remote))
    started = cloud.components.get("remote_started", False)
    if started:  # registered at run time: join the CLC as build_clusters' would have
        remote.set_vm_types(cloud.clc.type_resources())
        remote.listeners.append(cloud.clc.on_instance_event)
        remote.migrations.listeners.append(cloud.clc.on_migrated)
        remote.start()
    else:
        cloud.start_hooks.append(remote.start)
    cloud.stop_hooks.append(remote.stop)
    log.info("registered the CC of %s at %s", zone, address)
    return remote


def _node_reported(cloud: Cloud, remote: RemoteCluster, node: NodeInfo) -> None:
    """A remote CC reports a node in a new state: faults become the registry's events, and
    a node the administrator left in maintenance is put back there by a CC that restarted
    (a CC does not keep maintenance: the registry does)."""
    from server.empyrean.registry import DISABLED, STOPPED

    registry = cloud.components["service_registry"]
    registry.remote_node_changed(remote.zone, node)
    record = registry.services.get(node.name)
    if record is not None and record.type == "node" and record.state in (DISABLED, STOPPED) \
            and node.status == NodeStatus.UP.value:
        log.info("node %s is in maintenance: telling the CC of %s again", node.name, remote.zone)
        remote.keep_in_maintenance(node.name)


def _register_missing_nodes(cloud: Cloud, remote: RemoteCluster) -> None:
    """A CC that answers again: the nodes registered for its zone that it does not know
    (registered while it did not answer, or it lost its data dir) are registered with it."""
    registry = cloud.components["service_registry"]
    settings: RemoteSettings = cloud.components["remote"]
    for record in list(registry.services.values()):
        if record.type == "node" and record.partition == remote.zone and \
                record.name not in remote.node_views:
            log.info("registering node %s with the CC of %s again", record.name, remote.zone)
            remote.register_node_later(record.name, settings.url(f"{record.host}:{record.port}"))


def mark_started(cloud: Cloud) -> None:
    """Clusters registered from now on join a running CLC."""
    cloud.components["remote_started"] = True


def register_node(cloud: Cloud, zone: str, name: str, address: str) -> str:
    """Register a node (``HOST:PORT``) with the CC of ``zone`` (euserv-register-service -t
    node -z ZONE -h HOST NAME); the node's state as the CC sees it (UP or DOWN)."""
    cluster = cloud.clusters.get(zone)
    if not isinstance(cluster, RemoteCluster):
        raise ValueError(f"zone {zone!r} has no remote cluster controller")
    settings: RemoteSettings = cloud.components["remote"]
    return cluster.register_node(name, settings.url(address))


def connect_registered(cloud: Cloud, record: ServiceRecord) -> None:
    """Service-registry subscriber: a cluster or node registered with
    ``euserv-register-service`` (or kept from before a restart) is connected through
    the remote ports, and its state reported back (ENABLED, or NOTREADY while it cannot be)."""
    from server.empyrean.registry import DISABLED, ENABLED, NOTREADY, STOPPED

    registry = cloud.components.get("service_registry")
    if registry is None or record.type not in ("cluster", "node"):
        return
    address = f"{record.host}:{record.port}"
    try:
        if record.type == "cluster":
            current = cloud.clusters.get(record.partition)
            if current is None:
                register_cluster(cloud, record.partition, address)
            elif not isinstance(current, RemoteCluster):
                raise ValueError(f"zone {record.partition!r} runs its cluster controller "
                                 "in this process")
            if record.state in (DISABLED, STOPPED):  # connected, but as the admin left it
                cloud.clusters[record.partition].set_available(False)
                return
            registry.set_state(record.name, ENABLED, f"connected to {address}")
        else:
            state = register_node(cloud, record.partition, record.name, address)
            if record.state in (DISABLED, STOPPED):  # in maintenance, as the admin left it
                cloud.clusters[record.partition].set_enabled(record.name, False)
                return
            registry.set_state(record.name, ENABLED if state == "UP" else NOTREADY,
                               f"its cluster controller sees it {state}")
    except Exception as exc:  # noqa: BLE001 - any failure is the service's state, not a crash
        # Not connected (yet): the service stays NOTREADY, as Eucalyptus shows a registered
        # service it cannot reach; the reason goes to the log.
        log.warning("cannot connect %s %s at %s: %s", record.type, record.name, address, exc)
        registry.set_state(record.name, NOTREADY, str(exc))


def disconnect_deregistered(cloud: Cloud, record: ServiceRecord) -> None:
    """Service-registry subscriber: a deregistered cluster's CC is no longer polled and its
    zone leaves the cloud (the registry refuses while the zone has nodes or instances).  A
    deregistered node has already left its CC: the registry asked the CC (Cluster port
    ``remove_node``) before forgetting it, so that a refusal reaches the administrator."""
    if record.type != "cluster":
        return
    remote = cloud.clusters.get(record.partition)
    if not isinstance(remote, RemoteCluster):
        return
    remote.stop()
    del cloud.clusters[record.partition]
    if remote.stop in cloud.stop_hooks:
        cloud.stop_hooks.remove(remote.stop)
    log.info("deregistered the CC of %s", record.partition)
