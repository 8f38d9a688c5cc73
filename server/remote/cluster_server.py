"""The Cluster port served over HTTP by a CC's own process (``--components cc``).

:class:`ClusterService` runs one zone's :class:`~server.cc.cluster.ClusterController`
over :class:`~server.remote.node_client.RemoteNode` proxies.  Its :class:`NodePoller`
asks every node at once every ``poll_interval`` seconds (6 s by default, as Eucalyptus'
CC), each call with its own timeout, so one slow node delays nobody else (Eucalyptus
polled its nodes one after the other).  A node that does not answer a poll is DOWN: its
capacity leaves the zone's view, its instances are kept and still reported; when it
answers again it is UP with what it reports (a restarted node re-creates its instances).

The CLC collects the zone's events and views with ``/cc/state`` (its own poll).  The
registered nodes are kept in the CC's data directory; a restarted CC registers them
again and re-reads their instances from them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from server.cc.cluster import ClusterController
from server.cc.migration import MigrationError
from server.cc.view import NodeView
from server.nc.types import (
    InstanceEvent,
    InstanceSpec,
    InstanceState,
    NodeStatus,
    Outcome,
)
from server.remote import wire
from server.remote.http import Handler, InternalClient, RemoteError, Unreachable
from server.remote.node_client import NodeState, RemoteNode
from server.remote.signing import Keyring
from server.util import atomic_write

log = logging.getLogger(__name__)

#: Seconds between the CC's polls of its nodes (Eucalyptus' CC polls every 6 s).
DEFAULT_POLL_INTERVAL = 6.0
NODES_FILE = "cc-nodes.json"
EVENT_LOG = 50000
#: Longest a CLC's ``/cc/state`` may wait for news (it asks for its poll interval).
MAX_WAIT = 30.0
#: Once news came, how long to let more of it gather into the same answer.
GATHER_SECONDS = 0.02
#: A reservation the CLC neither started nor released in this long is released (the CLC
#: died between its two requests of a RunInstances).
RESERVATION_SECONDS = 60.0


class NodePoller:
    """Polls a CC's remote nodes concurrently; marks the silent ones DOWN, the back ones UP."""

    def __init__(self, cc: ClusterController, loop: asyncio.AbstractEventLoop,
                 interval: float = DEFAULT_POLL_INTERVAL, timeout: float | None = None):
        self.cc = cc
        self.loop = loop
        self.interval = interval
        #: Per call; under the interval so that a poll ends before the next begins.
        self.timeout = timeout or max(0.2, min(5.0, interval * 0.8))
        self._pool = ThreadPoolExecutor(32, thread_name_prefix="cc-poll")
        self._task: asyncio.Task[None] | None = None
        self.polls = 0

    def start(self) -> None:
        """Poll now and then every ``interval`` seconds."""
        self._task = self.loop.create_task(self._run())

    def stop(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _run(self) -> None:
        while True:
            started = self.loop.time()
            try:
                await self.poll_once()
            except Exception:
                log.exception("CC poll failed")
            await asyncio.sleep(max(0.0, self.interval - (self.loop.time() - started)))

    async def poll_once(self) -> None:
        """One fan-out poll of every remote node; results applied on the loop."""
        views = [v for v in self.cc.nodes if isinstance(v.nc, RemoteNode)]
        by_name = self.cc.by_name

        async def ask(view: NodeView) -> tuple[NodeView, NodeState | None]:
            nc = view.nc
            assert isinstance(nc, RemoteNode)
            try:
                state = await self.loop.run_in_executor(self._pool, nc.fetch, self.timeout)
            except (Unreachable, RemoteError) as exc:
                log.debug("node %s: no answer (%s)", view.name, exc)
                return view, None
            return view, state

        for view, state in await asyncio.gather(*(ask(v) for v in views)):
            if by_name.get(view.name) is view:  # not deregistered while it was asked
                self.apply(view, state)
        self.polls += 1

    def apply(self, view: NodeView, state: NodeState | None) -> None:
        """One node's poll result: refresh its view, or take it DOWN."""
        nc = view.nc
        assert isinstance(nc, RemoteNode)
        if state is None:
            if view.status is not NodeStatus.DOWN:
                log.warning("node %s stopped answering; marking it DOWN", view.name)
                nc.reachable = False
                self.cc.node_down(view.name)
            return
        nc.apply(state)
        for iid, inst in nc.instances.items():  # what it runs is this zone's, known or not
            if inst.state is not InstanceState.TERMINATED:
                self.cc.adopt(view, iid, inst.spec.resources)
        view.total = state.capacity  # a node may come back with another size
        if view.status is NodeStatus.DOWN:
            log.info("node %s answers again; marking it UP", view.name)
            self.cc.node_up(view.name)
        self.refresh(view)

    def refresh(self, view: NodeView) -> None:
        """The node's free capacity: what it reports, less what the CC reserved on it since."""
        if view.status is NodeStatus.DOWN:
            return
        avail = view.nc.available()
        known = view.nc.instances
        for iid, demand in view.instances.items():
            if iid not in known:  # placed here, not yet staging at the node
                avail = avail.minus(demand)
        view.avail = avail
        self.cc.reindex(view)


class ClusterService:
    """A zone's CC behind signed HTTP, with its remote nodes and its event log."""

    def __init__(self, cc: ClusterController, keyring: Keyring, data_dir: str,
                 loop: asyncio.AbstractEventLoop, *, poll_interval: float = DEFAULT_POLL_INTERVAL,
                 tls_verify: str | bool = True):
        self.cc = cc
        self.keyring = keyring
        self.data_dir = data_dir
        self.loop = loop
        self.tls_verify = tls_verify
        self.poller = NodePoller(cc, loop, poll_interval)
        self.epoch = secrets.token_hex(8)
        self.seq = 0
        self.events: deque[tuple[int, list[Any]]] = deque(maxlen=EVENT_LOG)
        self.addresses: dict[str, str] = {}
        self._news: asyncio.Future[None] | None = None
        #: instance -> (spec, when) of reservations not yet started
        self.reserved: dict[str, tuple[InstanceSpec, float]] = {}
        cc.listeners.append(self._on_event)
        cc.migrations.listeners.append(self._on_migrated)
        cc.node_listeners.append(lambda view: self._wake())

    # -- nodes ---------------------------------------------------------------------------
    @property
    def nodes_path(self) -> str:
        """Where the CC keeps its registered nodes."""
        return os.path.join(self.data_dir, NODES_FILE)

    def save_nodes(self) -> None:
        """Keep the registered nodes (name -> URL) for a restart."""
        atomic_write(self.nodes_path, json.dumps({"nodes": self.addresses}).encode(), mode=0o600)

    def restore(self) -> None:
        """Register again the nodes registered before a restart (their instances with them)."""
        try:
            with open(self.nodes_path, encoding="utf-8") as fh:
                saved = json.load(fh)
        except FileNotFoundError:
            return
        for name, url in saved.get("nodes", {}).items():
            self.register_node(name, url, save=False)

    def register_node(self, name: str, url: str, *, save: bool = True) -> NodeView:
        """Register a node (clusteradmin-register-nodes); asks it once for its state."""
        if name in self.cc.by_name:
            view = self.cc.by_name[name]
            if self.addresses.get(name) == url:
                return view
            raise RemoteError(f"node {name} is already registered at {self.addresses[name]}",
                              "NodeAlreadyRegistered")
        client = InternalClient(url, self.keyring, timeout=self.poller.timeout,
                                verify=self.tls_verify)
        nc = RemoteNode(name, client, self.loop)
        try:
            state: NodeState | None = nc.fetch(self.poller.timeout)
        except (Unreachable, RemoteError) as exc:
            log.warning("node %s at %s does not answer yet (%s)", name, url, exc)
            state = None
        if state is not None:
            state.events = []  # what it already runs is adopted, not replayed
            nc.apply(state)
        view = self.cc.add_node(nc)
        if state is None:
            self.cc.node_down(name)
        self.addresses[name] = url
        if save:
            self.save_nodes()
        log.info("registered node %s at %s (%s)", name, url, view.status.value)
        return view

    def deregister_node(self, name: str) -> None:
        """Deregister a node (clusteradmin-deregister-nodes): the CC stops polling it,
        its capacity leaves the zone, and the saved node list forgets it (a restarted
        CC does not register it again).  Refused while it has instances; a node the CC
        does not know is already gone (the CLC may repeat a request it queued)."""
        try:
            if name in self.cc.by_name:
                self.cc.remove_node(name)
        except ValueError as exc:
            raise RemoteError(str(exc), wire.NODE_BUSY) from None
        self.addresses.pop(name, None)
        self.save_nodes()
        self._wake()  # the CLC's waiting poll learns of it now
        log.info("deregistered node %s", name)

    # -- events for the CLC ------------------------------------------------------------------
    def _on_event(self, event: InstanceEvent) -> None:
        self.seq += 1
        self.events.append((self.seq, ["event", wire.event(event)]))
        self._wake()

    def _on_migrated(self, instance_id: str, node: str, outcome: Outcome) -> None:
        self.seq += 1
        self.events.append((self.seq, ["migrated", instance_id, node, wire.outcome(outcome)]))
        self._wake()

    def _wake(self) -> None:
        """Answer the CLC's waiting ``/cc/state``: there is news."""
        news, self._news = self._news, None
        if news is not None and not news.done():
            news.set_result(None)

    # -- operations ----------------------------------------------------------------------------
    def routes(self) -> dict[str, Handler]:
        """Path -> handler of every Cluster operation."""
        cc = self.cc
        return {
            "/cc/state": self.state,
            "/cc/vm_types": lambda r: cc.set_vm_types(
                {str(k): wire.to_resources(v) for k, v in r["types"].items()}),
            "/cc/place": self.place,
            "/cc/start": self.start,
            "/cc/unplace": self.unplace,
            "/cc/run_on": self.run_on,
            "/cc/terminate": lambda r: cc.terminate_instance(str(r["instance_id"])),
            "/cc/reboot": lambda r: cc.reboot_instance(str(r["instance_id"])),
            "/cc/console": lambda r: cc.console_output(str(r["instance_id"])),
            "/cc/attach": self.attach,
            "/cc/detach": self.detach,
            "/cc/migrate": self.migrate,
            "/cc/set_load": lambda r: cc.set_instance_load(
                str(r["instance_id"]), {str(k): float(v) for k, v in r["load"].items()}),
            "/cc/register_node": lambda r: self.register_node(
                str(r["name"]), str(r["url"])).status.value,
            "/cc/deregister_node": lambda r: self.deregister_node(str(r["name"])),
            "/cc/set_enabled": lambda r: cc.set_enabled(str(r["name"]), bool(r["enabled"])),
            "/cc/sensors": lambda r: {
                iid: {m: list(v) for m, v in sample.items()}
                for iid, sample in cc.describe_sensors(float(r["seconds"])).items()},
        }

    async def state(self, request: Any) -> dict[str, Any]:
        """The zone's view for the CLC: events after its cursor, resources, nodes, placement.

        With ``wait`` (seconds), a CLC that has seen everything is answered when there is
        news (an event, a node's change) or when the wait is over: it still polls, but
        learns of a change at once rather than at its next poll."""
        current = request.get("epoch") == self.epoch
        after = int(request.get("after", 0)) if current else 0
        wait = min(float(request.get("wait", 0.0)), MAX_WAIT)
        if wait > 0 and current and self.seq <= after:
            if self._news is None:
                self._news = self.loop.create_future()
            try:
                await asyncio.wait_for(asyncio.shield(self._news), wait)
            except TimeoutError:
                pass
            else:
                await asyncio.sleep(GATHER_SECONDS)
        return {
            "epoch": self.epoch, "seq": self.seq, "zone": self.cc.zone,
            "events": [e for seq, e in self.events if seq > after],
            "resources": {k: list(v) for k, v in self.cc.describe_resources().items()},
            "nodes": [wire.node_info(n) for n in self.cc.describe_nodes()],
            "placement": {iid: view.name for iid, view in self.cc.instance_node.items()},
        }

    def place(self, request: Any) -> list[str]:
        """Reserve nodes for ``specs`` (at least ``min_count`` or none): node names."""
        specs = [wire.to_spec(s) for s in request["specs"]]
        min_count = int(request["min_count"])
        placed: list[tuple[InstanceSpec, NodeView]] = []
        for spec in specs:
            view = self.cc.place(spec)
            if view is None:
                break
            placed.append((spec, view))
        if len(placed) < max(min_count, 1):
            for spec, _ in reversed(placed):
                self.cc.unplace(spec)
            return []
        now = self.loop.time()
        for spec, _ in placed:
            self.reserved[spec.instance_id] = (spec, now)
        if len(self.reserved) == len(placed):  # the first outstanding: look again later
            self.loop.call_later(RESERVATION_SECONDS, self.release_stale)
        return [view.name for _, view in placed]

    def release_stale(self) -> None:
        """Release reservations older than :data:`RESERVATION_SECONDS`."""
        cutoff = self.loop.time() - RESERVATION_SECONDS
        for iid, (spec, when) in list(self.reserved.items()):
            if when <= cutoff:
                log.warning("releasing %s: reserved but never started", iid)
                del self.reserved[iid]
                self.cc.unplace(spec)
        if self.reserved:
            oldest = min(when for _, when in self.reserved.values())
            self.loop.call_later(max(0.0, oldest - cutoff), self.release_stale)

    def start(self, request: Any) -> None:
        """Start reserved instances with their final specs; release the reservations left."""
        for raw in request.get("release", []):
            spec = wire.to_spec(raw)
            if self.reserved.pop(spec.instance_id, None) is not None:
                self.cc.unplace(spec)
        specs = [wire.to_spec(raw) for raw in request["specs"]]
        for spec in specs:
            if spec.instance_id not in self.reserved:
                raise RemoteError(f"{spec.instance_id} is not reserved (released after "
                                  f"{RESERVATION_SECONDS:g} s?)", "InstanceNotPlaced")
        for spec in specs:
            del self.reserved[spec.instance_id]
            view = self.cc.node_of(spec.instance_id)
            if view is not None:  # reserved, so placed (unless its node failed meanwhile)
                self.cc.start_placed(view, spec)

    def unplace(self, request: Any) -> None:
        """Undo reservations."""
        for raw in request["specs"]:
            spec = wire.to_spec(raw)
            if self.reserved.pop(spec.instance_id, None) is not None:
                self.cc.unplace(spec)

    def run_on(self, request: Any) -> None:
        """Start or re-adopt an instance on a named node (the CLC's restore after a restart)."""
        node = str(request["node"])
        spec = wire.to_spec(request["spec"])
        if node not in self.cc.by_name:
            raise RemoteError(f"no node {node} in {self.cc.zone}", "NodeNotFound")
        if self.cc.node_of(spec.instance_id) is not None:
            return  # the CC already has it (adopted from its node)
        self.cc.run_on(node, spec)

    async def attach(self, request: Any) -> list[Any]:
        """Relay ncAttachVolume; answers when the node is done."""
        done: asyncio.Future[Outcome] = self.loop.create_future()
        self.cc.attach_volume(str(request["instance_id"]), wire.to_device(request["device"]),
                              done.set_result)
        return wire.outcome(await done)

    async def detach(self, request: Any) -> list[Any]:
        """Relay ncDetachVolume; answers when the node is done."""
        done: asyncio.Future[Outcome] = self.loop.create_future()
        self.cc.detach_volume(str(request["instance_id"]), str(request["volume_id"]),
                              done.set_result)
        return wire.outcome(await done)

    def migrate(self, request: Any) -> list[list[str]]:
        """MigrateInstances: ``(instance, destination)`` pairs started."""
        try:
            pairs = self.cc.migrate_instances(
                request.get("instance_id"), request.get("source_node"),
                tuple(request.get("include", ())), tuple(request.get("exclude", ())))
        except (MigrationError, KeyError) as exc:
            raise RemoteError(str(exc), "InvalidParameterValue") from None
        return [list(p) for p in pairs]

