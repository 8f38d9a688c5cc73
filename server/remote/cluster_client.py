"""The CLC's proxy of a zone's CC in another process: :class:`RemoteCluster`.

It satisfies the Cluster port.  Like Eucalyptus' CLC, it polls its CC (``/cc/state``)
for the zone's instance events and its resource, node and placement views; the views
answer the CLC's reads without a network call.  Requests that change something (run,
terminate, attach, ...) are sent at once, bounded by a timeout.

A CC that does not answer makes its zone unavailable: RunInstances in it fails with
``InsufficientInstanceCapacity`` ("... zone-a is unavailable: its cluster controller
does not answer"), the error AWS gives when a zone cannot take instances, and the
zone's free counts read 0.  The next poll that is answered makes it available again.
A CC the administrator disabled (``euserv-modify-service -s DISABLED``) is unavailable the
same way an in-process one is: it places nothing new, and its instances run on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from server import errors
from server.cc.cluster import NodeBusy, NodeInfo
from server.cc.migration import MigrationError
from server.nc.sensors import Sample
from server.nc.types import BlockDevice, Done, InstanceSpec, NodeStatus, Outcome, Resources
from server.ports.cluster import Cluster, EventListener, MigrationListener
from server.remote import wire
from server.remote.http import InternalClient, Outbox, RemoteError, Unreachable

log = logging.getLogger(__name__)

#: Seconds between the CLC's polls of a remote CC.
DEFAULT_CLC_POLL = 1.0


@dataclass(frozen=True, slots=True)
class PlacedOn:
    """A node as the CLC's view of a remote zone knows it."""

    name: str
    status: NodeStatus


@dataclass
class MigrationListeners:
    """Who hears of finished migrations (the CLC)."""

    listeners: list[MigrationListener] = field(default_factory=list)


class _Nodes(Mapping[str, PlacedOn]):
    """The zone's nodes by name; before the CC was ever reached, every name may be one
    (the CLC restores its instances at start and must not drop them for a late CC)."""

    def __init__(self, cluster: RemoteCluster):
        self.cluster = cluster

    def __getitem__(self, name: str) -> PlacedOn:
        if not self.cluster.synced:
            return PlacedOn(name, NodeStatus.DOWN)
        return self.cluster.node_views[name]

    def __contains__(self, name: object) -> bool:
        return not self.cluster.synced or name in self.cluster.node_views

    def __iter__(self) -> Iterator[str]:
        return iter(self.cluster.node_views)

    def __len__(self) -> int:
        return len(self.cluster.node_views)


class RemoteCluster:
    """A zone's Cluster Controller reached over signed HTTP."""

    def __init__(self, zone: str, client: InternalClient, loop: asyncio.AbstractEventLoop,
                 *, poll_interval: float = DEFAULT_CLC_POLL):
        self.zone = zone
        self.client = client
        self.loop = loop
        self.poll_interval = poll_interval
        self.listeners: list[EventListener] = []
        #: Who hears of a node whose state changed, as the CC reports it (the registry).
        self.node_listeners: list[Callable[[NodeInfo], Any]] = []
        #: Called when the CC answers again (or for the first time) after not answering.
        self.back_listeners: list[Callable[[], Any]] = []
        self.migrations = MigrationListeners()
        #: Whether the CC answered its last poll (a zone whose CC is gone is unavailable).
        self.answering = False
        #: The administrator's state (euserv-modify-service): a disabled CC places nothing.
        self.enabled = True
        self.synced = False
        self.epoch = ""
        self.seq = 0
        self.resources: dict[str, tuple[int, int]] = {}
        self.nodes: list[NodeInfo] = []
        self.node_views: dict[str, PlacedOn] = {}
        self.placement: dict[str, str] = {}
        self._types: dict[str, Resources] = {}
        self._pending_requests: list[tuple[str, dict[str, Any]]] = []
        # The poll (which may wait at the CC) and volume requests (which wait for the node).
        self._pool = ThreadPoolExecutor(4, thread_name_prefix=f"cc-{zone}")
        # Requests whose answer the CLC does not wait for go out in order, batched.
        self._outbox = Outbox(client, f"cc-{zone}")
        self._task: asyncio.Task[None] | None = None

    @property
    def by_name(self) -> Mapping[str, PlacedOn]:
        """The zone's nodes by name."""
        return _Nodes(self)

    # -- the poll ------------------------------------------------------------------------
    def start(self) -> None:
        """Poll the CC now and then every ``poll_interval`` seconds."""
        self._task = self.loop.create_task(self._run())

    def stop(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._outbox.close()

    async def _run(self) -> None:
        while True:
            try:
                answered = await self.poll_once(wait=self.poll_interval if self.answering
                                                else 0.0)
            except Exception:
                log.exception("poll of the CC of %s failed", self.zone)
                answered = False
            if not answered:
                await asyncio.sleep(self.poll_interval)

    def sync(self, timeout: float | None = None) -> bool:
        """One blocking poll for the views (at start-up, before the CLC restores its
        instances); the events wait for the first poll, when the CLC listens."""
        try:
            raw = self.client.call("/cc/state", {"epoch": self.epoch, "after": self.seq},
                                   timeout=timeout)
        except (Unreachable, RemoteError) as exc:
            self._lost(exc)
            return False
        self._apply(raw, views_only=True)
        return True

    async def poll_once(self, wait: float = 0.0) -> bool:
        """Ask the CC for its events and views (off the loop), then apply them.

        With ``wait``, the CC answers as soon as it has news, at the latest after ``wait``
        seconds.  False when the CC did not answer."""
        request = {"epoch": self.epoch, "after": self.seq, "wait": wait}
        try:
            raw = await self.loop.run_in_executor(
                self._pool, lambda: self.client.call(
                    "/cc/state", request, timeout=wait + self.client.timeout))
        except (Unreachable, RemoteError) as exc:
            self._lost(exc)
            return False
        self._apply(raw)
        return True

    def _lost(self, exc: Exception) -> None:
        if self.answering:
            log.warning("the CC of %s does not answer (%s); the zone is unavailable",
                        self.zone, exc)
        self.answering = False

    def _apply(self, raw: dict[str, Any], *, views_only: bool = False) -> None:
        came_back = not self.answering
        restarted = raw["epoch"] != self.epoch
        if not views_only:
            self.epoch, self.seq = str(raw["epoch"]), int(raw["seq"])
        self.resources = {str(k): (int(v[0]), int(v[1])) for k, v in raw["resources"].items()}
        self.nodes = [wire.to_node_info(n) for n in raw["nodes"]]
        before = self.node_views
        self.node_views = {n.name: PlacedOn(n.name, NodeStatus(n.status)) for n in self.nodes}
        for node in self.nodes:
            old = before.get(node.name)
            if old is None or old.status.value != node.status:
                for changed in self.node_listeners:
                    changed(node)
        self.placement = {str(k): str(v) for k, v in raw["placement"].items()}
        self.answering = self.synced = True
        if came_back:
            log.info("the CC of %s answers%s", self.zone, " (restarted)" if restarted else "")
            if self._types:
                self._send_types()
            requests, self._pending_requests = self._pending_requests, []
            for path, payload in requests:
                self._later(path, payload)
            for back in self.back_listeners:
                back()
        items = [] if views_only else raw["events"]
        if restarted:
            # A log from before this CLC knew the CC (the CLC or the CC restarted): only each
            # instance's latest state counts (a stopped and restarted instance's old
            # teardown must not end it now).
            latest = {item[1][0]: n for n, item in enumerate(items) if item[0] == "event"}
            items = [item for n, item in enumerate(items)
                     if item[0] != "event" or latest[item[1][0]] == n]
        for item in items:
            if item[0] == "event":
                event = wire.to_event(item[1])
                for listener in self.listeners:
                    listener(event)
            elif item[0] == "migrated":
                outcome = wire.to_outcome(item[3])
                for migrated in self.migrations.listeners:
                    migrated(str(item[1]), str(item[2]), outcome)

    # -- requests ------------------------------------------------------------------------
    def _call(self, path: str, payload: dict[str, Any]) -> Any:
        """A blocking request; an unreachable CC makes the zone unavailable."""
        if not self.answering:
            raise self._unavailable()
        try:
            return self.client.call(path, payload)
        except Unreachable as exc:
            self._lost(exc)
            raise self._unavailable() from None

    @property
    def available(self) -> bool:
        """Whether the zone takes new instances: its CC answers and is enabled."""
        return self.answering and self.enabled

    def set_available(self, available: bool) -> None:
        """Disable (or enable again) the zone's CC: euserv-modify-service on a cluster.  The
        CLC then places nothing there; the instances it has run on."""
        self.enabled = available

    def _unavailable(self) -> errors.AWSError:
        return errors.AWSError(
            f"Not enough resources available: {self.zone} is unavailable: its cluster "
            "controller does not answer.", code="InsufficientInstanceCapacity", status=500)

    def _quietly(self, path: str, payload: dict[str, Any]) -> Any:
        try:
            return self._call(path, payload)
        except (errors.AWSError, RemoteError) as exc:
            log.warning("%s in %s failed: %s", path, self.zone, exc)
            return None

    def _later(self, path: str, payload: dict[str, Any]) -> None:
        """Send a request off the loop (in order with the other such requests)."""
        if not self.answering:  # sent when the CC answers again
            self._pending_requests.append((path, payload))
            return
        def answered(result: Any, error: BaseException | None) -> None:  # a worker thread
            if isinstance(error, Unreachable):
                self._lost(error)
            elif error is not None:
                log.warning("%s in %s failed: %s", path, self.zone, error)

        self._outbox.send(path, payload, answered)

    def _send_types(self) -> None:
        self._quietly("/cc/vm_types", {"types": {k: wire.resources(v)
                                                 for k, v in self._types.items()}})

    def set_vm_types(self, types: dict[str, Any]) -> None:
        """The VM types the CC places (sent again whenever the CC comes back)."""
        self._types = dict(types)
        if self.answering:
            self._send_types()

    def run_instances(self, specs: Sequence[InstanceSpec], min_count: int) -> list[str]:
        """Place and start at least ``min_count`` of ``specs`` or none."""
        return self.run_instances_prepared(specs, min_count, lambda placed: specs[:placed])

    def run_instances_prepared(
            self, specs: Sequence[InstanceSpec], min_count: int,
            before_start: Callable[[int], Sequence[InstanceSpec]]) -> list[str]:
        """Reserve at the CC, let the caller finish the specs, then start them there."""
        if not self.enabled:  # as an in-process CC the administrator disabled: no room
            return []
        nodes: list[str] = self._call("/cc/place", {"specs": [wire.spec(s) for s in specs],
                                                    "min_count": min_count})
        if not nodes:
            return []
        placed = list(specs[:len(nodes)])
        try:
            final = list(before_start(len(nodes)))
            if len(final) < min_count:
                raise ValueError("before_start returned fewer than min_count specs")
        except BaseException:
            self._quietly("/cc/unplace", {"specs": [wire.spec(s) for s in placed]})
            raise
        self._call("/cc/start", {"specs": [wire.spec(s) for s in final],
                                 "release": [wire.spec(s) for s in placed[len(final):]]})
        for spec, node in zip(final, nodes, strict=False):
            self.placement[spec.instance_id] = node
        return nodes[:len(final)]

    def run_on(self, node: str, spec: InstanceSpec) -> None:
        """Start or re-adopt an instance on a named node (the CLC's restore at start-up;
        batched with the others, and queued while the CC is away)."""
        self._later("/cc/run_on", {"node": node, "spec": wire.spec(spec)})

    def terminate_instance(self, instance_id: str) -> None:
        """Relay ncTerminateInstance (the CLC does not wait: the events tell)."""
        self._later("/cc/terminate", {"instance_id": instance_id})

    def reboot_instance(self, instance_id: str) -> None:
        """Relay ncRebootInstance."""
        self._later("/cc/reboot", {"instance_id": instance_id})

    def console_output(self, instance_id: str) -> bytes:
        """Relay ncGetConsoleOutput."""
        out = self._quietly("/cc/console", {"instance_id": instance_id})
        return bytes(out) if out else b""

    def _volume(self, path: str, payload: dict[str, Any], done: Done) -> None:
        def work() -> Outcome:
            try:
                return wire.to_outcome(self._call(path, payload))
            except (errors.AWSError, RemoteError) as exc:
                return Outcome(False, str(exc))

        future = self.loop.run_in_executor(self._pool, work)
        future.add_done_callback(lambda f: done(f.result()))

    def attach_volume(self, instance_id: str, device: BlockDevice, done: Done) -> None:
        """Relay ncAttachVolume; ``done`` when the node is done."""
        self._volume("/cc/attach", {"instance_id": instance_id, "device": wire.device(device)},
                     done)

    def detach_volume(self, instance_id: str, volume_id: str, done: Done) -> None:
        """Relay ncDetachVolume; ``done`` when the node is done."""
        self._volume("/cc/detach", {"instance_id": instance_id, "volume_id": volume_id}, done)

    def node_of(self, instance_id: str) -> PlacedOn | None:
        """The node an instance is on, as of the last poll."""
        name = self.placement.get(instance_id)
        if name is None:
            return None
        if not self.answering:  # nothing is known of a zone whose CC is gone
            return PlacedOn(name, NodeStatus.DOWN)
        return self.node_views.get(name, PlacedOn(name, NodeStatus.DOWN))

    def describe_resources(self) -> dict[str, tuple[int, int]]:
        """Per VM type ``(free, max)``; none while the CC does not answer, no free room
        while the administrator has disabled it."""
        if not self.answering:
            return {}
        if not self.enabled:
            return {name: (0, most) for name, (_, most) in self.resources.items()}
        return dict(self.resources)

    def describe_nodes(self) -> list[NodeInfo]:
        """The zone's nodes as of the last poll."""
        return list(self.nodes)

    def describe_sensors(self, seconds: float) -> dict[str, Sample]:
        """Every reachable node's instance samples (DescribeSensors, relayed by the CC)."""
        raw = self._quietly("/cc/sensors", {"seconds": seconds}) if self.answering else None
        if not raw:
            return {}
        return {str(iid): {str(m): (float(v[0]), str(v[1])) for m, v in sample.items()}
                for iid, sample in raw.items()}

    def set_instance_load(self, instance_id: str, load: dict[str, float]) -> None:
        """Relay an instance's modelled load."""
        self._later("/cc/set_load", {"instance_id": instance_id, "load": load})

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Maintenance mode for a node of the zone."""
        self._call("/cc/set_enabled", {"name": name, "enabled": enabled})
        # Seen at once (not at the next poll) by whoever asked: the CC has done it.
        view = self.node_views.get(name)
        if view is not None and view.status is not NodeStatus.DOWN:
            self.node_views[name] = PlacedOn(name, NodeStatus.UP if enabled
                                             else NodeStatus.DISABLED)

    def keep_in_maintenance(self, name: str) -> None:
        """Put a node back in maintenance without waiting (a restarted CC forgot it)."""
        self._later("/cc/set_enabled", {"name": name, "enabled": False})

    def migrate_instances(self, instance_id: str | None = None, source_node: str | None = None,
                          include: Sequence[str] = (), exclude: Sequence[str] = ()
                          ) -> list[tuple[str, str]]:
        """Migrate one instance, or evacuate a node (the CC plans it)."""
        try:
            pairs = self._call("/cc/migrate", {
                "instance_id": instance_id, "source_node": source_node,
                "include": list(include), "exclude": list(exclude)})
        except RemoteError as exc:
            raise MigrationError(str(exc)) from None
        return [(str(a), str(b)) for a, b in pairs]

    def register_node(self, name: str, url: str) -> str:
        """Register a node with this zone's CC; its state (UP or DOWN)."""
        return str(self._call("/cc/register_node", {"name": name, "url": url}))

    def register_node_later(self, name: str, url: str) -> None:
        """Register a node without waiting: its state comes with the next poll."""
        self._later("/cc/register_node", {"name": name, "url": url})

    def remove_node(self, name: str) -> None:
        """Deregister a node from this zone's CC (``/cc/deregister_node``): NodeBusy when
        the CC refuses because the node has instances (ValueError for other refusals).  A
        CC that does not answer is told when it answers again; either way the node leaves
        this CLC's views at once."""
        if self.answering:
            try:
                self.client.call("/cc/deregister_node", {"name": name})
            except RemoteError as exc:
                busy = exc.code == wire.NODE_BUSY
                raise (NodeBusy if busy else ValueError)(str(exc)) from None
            except Unreachable as exc:
                self._lost(exc)
        if not self.answering:
            self._pending_requests.append(("/cc/deregister_node", {"name": name}))
        self.node_views.pop(name, None)
        self.nodes = [n for n in self.nodes if n.name != name]
        if self.answering:
            self.sync(timeout=self.client.timeout)  # the zone's capacity without the node


def _satisfies_port(cluster: RemoteCluster) -> Cluster:
    """Type check only: a RemoteCluster is a Cluster (mypy verifies the Protocol here)."""
    return cluster
