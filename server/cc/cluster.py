"""The Cluster Controller: one per zone; keeps the node view, places instances, relays.

All of it is event-driven logic on a :class:`~server.clock.Clock`: the server runs it
in real time, the simulator in virtual time.  Placement is atomic because the CC's
methods run on one control loop and never yield half-way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from server.cc.index import BLOCK, NodeIndex
from server.cc.migration import Migrations
from server.cc.policies import Policy, make_policy
from server.cc.view import NodeView
from server.clock import Clock
from server.nc.sensors import Sample
from server.nc.types import (
    BlockDevice,
    Done,
    InstanceEvent,
    InstanceSpec,
    InstanceState,
    NodeStatus,
    Outcome,
    Resources,
)
from server.ports.cluster import Cluster
from server.ports.node import Node

MAX_INSTANCES_PER_CC = 2048
# Plain constants for the hot paths: enum attribute lookups go through the metaclass.
_UP, _WAKING, _ASLEEP = NodeStatus.UP, NodeStatus.WAKING, NodeStatus.ASLEEP
_TERMINATED = InstanceState.TERMINATED

EventListener = Callable[[InstanceEvent], None]
NodeListener = Callable[["NodeView"], None]


class NodeBusy(ValueError):
    """A node that still has instances cannot be deregistered."""


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """One node as the admin's describe-nodes action shows it."""

    name: str
    zone: str
    status: str
    power: str
    total: Resources
    used: Resources
    instances: tuple[str, ...]


class ClusterController:
    """Places instances on a zone's nodes with a scheduling policy and tracks capacity."""

    def __init__(self, zone: str, clock: Clock, nodes: Sequence[Node], *,
                 policy: str | Policy = "ROUNDROBIN",
                 power_idle_seconds: float = 300.0,
                 power_wake_seconds: float = 60.0,
                 poll_interval: float | None = None,
                 max_instances: int = MAX_INSTANCES_PER_CC):
        self.zone = zone
        self.clock = clock
        self.policy = make_policy(policy) if isinstance(policy, str) else policy
        self.power_idle_seconds = power_idle_seconds
        self.power_wake_seconds = power_wake_seconds
        self.poll_interval = poll_interval
        self.max_instances = max_instances
        self.listeners: list[EventListener] = []
        self.node_listeners: list[NodeListener] = []
        self.nodes: list[NodeView] = []
        self.by_name: dict[str, NodeView] = {}
        self.instance_node: dict[str, NodeView] = {}
        self.demands: dict[str, Resources] = {}
        self._awake: dict[str, NodeIndex] = {}
        self._asleep: dict[str, NodeIndex] = {}
        # (cores, memory, disk, awake index, asleep index) per type; None = rebuild.
        # Anything that replaces the index objects must reset it.
        self._fit_table: list[tuple[int, int, int, NodeIndex, NodeIndex]] | None = None
        self.migrations = Migrations(self)
        #: False while the administrator has the CC disabled or stopped: no new instances.
        self.available = True
        for nc in nodes:
            self.add_node(nc)
        if poll_interval:
            self.clock.call_later(poll_interval, self._poll)

    # -- topology -------------------------------------------------------------------
    def add_node(self, nc: Node) -> NodeView:
        """Register a node (clusteradmin-register-nodes)."""
        view = NodeView(len(self.nodes), nc, nc.capacity, nc.available(),
                        powered_since=self.clock.now())
        self.nodes.append(view)
        self.by_name[nc.name] = view
        # Without polling, reports go straight to _apply (one call less per state change).
        nc.report = functools.partial(self._on_nc_event if self.poll_interval else self._apply,
                                      view)
        for inst in nc.instances.values():
            # A node keeps its ended instances a while (for their teardown reports): those
            # are not the zone's any more, and would hold the node forever if adopted.
            if inst.state is not _TERMINATED:
                self.adopt(view, inst.spec.instance_id, inst.spec.resources)
        self._grow_indices()
        self.reindex(view)
        if self.policy.powers_down and not view.instances:
            self.arm_idle(view)
        return view

    def remove_node(self, name: str) -> None:
        """Deregister a node (clusteradmin-deregister-nodes): it leaves scheduling, the
        capacity counts and the polls, and its later reports reach nobody.

        Raises KeyError for an unknown node and :class:`NodeBusy` while it has instances
        (placed, reserved or migrating to it): they must be evacuated or terminated first."""
        view = self.by_name.get(name)
        if view is None:
            raise KeyError(f"no node {name} in {self.zone}")
        if view.instances or view.deferred:
            held = sorted(view.instances.keys() | {s.instance_id for s in view.deferred})
            raise NodeBusy(f"Node {name} still has instances ({', '.join(held)})")
        for timer in (view.idle_timer, view.wake_timer):
            if timer is not None:
                timer.cancel()
        view.idle_timer = view.wake_timer = None
        view.buffered = []
        view.nc.report = _unheard
        del self.by_name[name]
        self.nodes.remove(view)
        # Placement indices are positions in self.nodes: renumber, then rebuild the
        # fit indices (a rare administrative act; rebuilding is simpler than patching).
        for position, other in enumerate(self.nodes):
            other.index = position
        self.set_vm_types(self.demands)

    def adopt(self, view: NodeView, instance_id: str, demand: Resources) -> None:
        """Count an instance a node runs that this CC did not place (a node registered with
        its instances, a CC restarted, a node back whose instances the CC never knew)."""
        if instance_id in self.instance_node:
            return
        view.instances[instance_id] = demand
        self.instance_node[instance_id] = view
        if view.idle_timer is not None:
            view.idle_timer.cancel()
            view.idle_timer = None

    def _grow_indices(self) -> None:
        size = len(self.nodes)
        for table in (self._awake, self._asleep):
            for name, old in list(table.items()):
                if old.size < size:
                    new = NodeIndex(max(size, old.size * 2))
                    for v in self.nodes[:-1]:
                        if v.index in old:
                            new.add(v.index)
                    table[name] = new
                    self._fit_table = None

    def set_vm_types(self, types: dict[str, Resources]) -> None:
        """Tell the CC the VM types it places (rebuilds the per-type fit indices)."""
        self.demands = dict(types)
        size = max(len(self.nodes), 1)
        self._awake = {t: NodeIndex(size) for t in types}
        self._asleep = {t: NodeIndex(size) for t in types}
        self._fit_table = None
        for view in self.nodes:
            self.reindex(view)

    def reindex(self, view: NodeView) -> None:
        """Update every type's fit index for one node after its state or capacity changed.

        Public for the CC's helpers (migration, health) that change a node's view."""
        table = self._fit_table
        if table is None:  # rebuilt after set_vm_types / _grow_indices replaced the indices
            table = self._fit_table = [
                (d.cores, d.memory_mb, d.disk_gb, self._awake[n], self._asleep[n])
                for n, d in self.demands.items()]
        i = view.index
        status = view.status
        awake = status is _UP or status is _WAKING
        asleep = status is _ASLEEP
        avail = view.avail
        cores, memory, disk = avail.cores, avail.memory_mb, avail.disk_gb
        block, bit = divmod(i, BLOCK)
        bit = 1 << bit
        # Inlined Resources.fits, and each index touched only when the node's membership
        # changes: this runs for every placement and every termination, and most of them
        # leave most indices as they were.
        for c, m, d, awake_index, asleep_index in table:
            fits = cores >= c and memory >= m and disk >= d
            if awake and fits:
                if not awake_index.blocks[block] & bit:
                    awake_index.add(i)
            elif awake_index.blocks[block] & bit:
                awake_index.discard(i)
            if asleep and fits:
                if not asleep_index.blocks[block] & bit:
                    asleep_index.add(i)
            elif asleep_index.blocks[block] & bit:
                asleep_index.discard(i)

    # -- placement (CC RunInstances) ------------------------------------------------
    def _indices_for(self, spec: InstanceSpec) -> tuple[NodeIndex, NodeIndex]:
        demand = self.demands.get(spec.vm_type)
        if demand is spec.resources or demand == spec.resources:  # identity: the common, cheap case
            return self._awake[spec.vm_type], self._asleep[spec.vm_type]
        # An ad-hoc demand (a type modified since): build the indices by scanning.
        awake, asleep = NodeIndex(len(self.nodes) or 1), NodeIndex(len(self.nodes) or 1)
        for v in self.nodes:
            if v.avail.fits(spec.resources):
                if v.status in (NodeStatus.UP, NodeStatus.WAKING):
                    awake.add(v.index)
                elif v.status is NodeStatus.ASLEEP:
                    asleep.add(v.index)
        return awake, asleep

    def place(self, spec: InstanceSpec) -> NodeView | None:
        """Reserve a node for one instance (no NC call yet); None when nothing fits."""
        instance_node = self.instance_node
        if len(instance_node) >= self.max_instances or not self.available:
            return None
        demand = spec.resources
        if self.demands.get(spec.vm_type) is demand:  # _indices_for's common case, inline
            i = self.policy.choose(self._awake[spec.vm_type], self._asleep[spec.vm_type])
        else:
            i = self.policy.choose(*self._indices_for(spec))
        if i is None:
            return None
        view = self.nodes[i]
        self.policy.placed(i, len(self.nodes))
        avail = view.avail  # avail.minus(demand), inline: once per placement
        view.avail = Resources(avail.cores - demand.cores, avail.memory_mb - demand.memory_mb,
                               avail.disk_gb - demand.disk_gb)
        view.instances[spec.instance_id] = demand
        instance_node[spec.instance_id] = view
        if view.idle_timer is not None:
            view.idle_timer.cancel()
            view.idle_timer = None
        self.reindex(view)
        return view

    def unplace(self, spec: InstanceSpec) -> None:
        """Undo :meth:`place` for an instance that was never started."""
        view = self.instance_node.pop(spec.instance_id, None)
        if view is None:
            return
        view.instances.pop(spec.instance_id, None)
        view.avail = view.avail.plus(spec.resources)
        self.reindex(view)
        if self.policy.powers_down and not view.instances:
            self.arm_idle(view)

    def run_instances(self, specs: Sequence[InstanceSpec], min_count: int) -> list[str]:
        """Place and start as many of ``specs`` as fit, at least ``min_count`` or none.

        Returns the node name of each started instance, in order; ``[]`` when fewer
        than ``min_count`` fit (nothing is started then).
        """
        if len(specs) == 1:  # the common case (and a simulator's hot path), without lists
            view = self.place(specs[0])
            if view is None:
                return []
            self._start(view, specs[0])
            return [view.name]
        return self.run_instances_prepared(specs, min_count, lambda placed: specs[:placed])

    def run_instances_prepared(
            self, specs: Sequence[InstanceSpec], min_count: int,
            before_start: Callable[[int], Sequence[InstanceSpec]]) -> list[str]:
        """Like :meth:`run_instances`, but let the caller finish the specs once placed.

        ``before_start(n)`` is called with the number placed (>= ``min_count``) and
        returns the final specs to start (e.g. with public addresses assigned): at most
        ``n`` and at least ``min_count``; reservations beyond them are undone.  If it
        raises, every reservation is undone and the exception propagates.
        """
        if len(specs) == 1:  # the common case (and a simulator's hot path), without lists
            view = self.place(specs[0])
            if view is None:
                return []
            try:
                final = before_start(1)
            except BaseException:
                self.unplace(specs[0])
                raise
            if not final:
                self.unplace(specs[0])
                return []
            self._start(view, final[0])
            return [view.name]
        placed: list[tuple[InstanceSpec, NodeView]] = []
        for spec in specs:
            view = self.place(spec)
            if view is None:
                break
            placed.append((spec, view))
        if len(placed) < min_count:
            for spec, _ in reversed(placed):
                self.unplace(spec)
            return []
        try:
            final = list(before_start(len(placed)))
            if len(final) < min_count:
                raise ValueError("before_start returned fewer than min_count specs")
        except BaseException:
            for spec, _ in reversed(placed):
                self.unplace(spec)
            raise
        for spec, _ in reversed(placed[len(final):]):
            self.unplace(spec)  # the caller could finish only some (e.g. addresses ran out)
        for spec, (_, view) in zip(final, placed, strict=False):
            self._start(view, spec)
        return [view.name for _, view in placed[:len(final)]]

    def run_on(self, node: str, spec: InstanceSpec) -> None:
        """Start an instance on a named node (explicit placement; used by replay and tests)."""
        view = self.by_name[node]
        view.avail = view.avail.minus(spec.resources)
        view.instances[spec.instance_id] = spec.resources
        self.instance_node[spec.instance_id] = view
        self.reindex(view)
        self._start(view, spec)

    def _start(self, view: NodeView, spec: InstanceSpec) -> None:
        if view.status is _ASLEEP:
            self._wake(view)
        if view.status is _WAKING:
            view.deferred.append(spec)
            self._emit(InstanceEvent(spec.instance_id, view.name, InstanceState.STAGING,
                                     self.clock.now(), "waiting for node to wake"))
            return
        view.nc.run_instance(spec)

    #: Start an instance :meth:`place` reserved ``view`` for (a remote CLC's second step).
    #: The same function as ``_start``: no extra frame per placement.
    start_placed = _start

    # -- power (POWERSAVE) ------------------------------------------------------------
    def arm_idle(self, view: NodeView) -> None:
        """POWERSAVE: power an idle UP node down after ``power_idle_seconds``."""
        if view.idle_timer is not None or view.status is not NodeStatus.UP:
            return
        view.idle_timer = self.clock.call_later(self.power_idle_seconds,
                                                lambda: self._power_down(view))

    def _power_down(self, view: NodeView) -> None:
        view.idle_timer = None
        if view.instances or view.status is not NodeStatus.UP:
            return
        self._account_power(view, on=False)
        view.status = NodeStatus.ASLEEP
        self.reindex(view)
        self._node_changed(view)

    def _wake(self, view: NodeView) -> None:
        view.status = NodeStatus.WAKING
        self._account_power(view, on=True)
        self.reindex(view)
        self._node_changed(view)
        view.wake_timer = self.clock.call_later(self.power_wake_seconds,
                                                lambda: self._awoke(view))

    def _awoke(self, view: NodeView) -> None:
        view.wake_timer = None
        if view.status is not NodeStatus.WAKING:
            return
        view.status = NodeStatus.UP
        self.reindex(view)
        self._node_changed(view)
        deferred, view.deferred = view.deferred, []
        for spec in deferred:
            if spec.instance_id in view.instances:
                view.nc.run_instance(spec)
        if self.policy.powers_down and not view.instances:
            self.arm_idle(view)

    def _account_power(self, view: NodeView, *, on: bool) -> None:
        now = self.clock.now()
        if on and view.powered_since is None:
            view.powered_since = now
        elif not on and view.powered_since is not None:
            view.powered_seconds += now - view.powered_since
            view.powered_since = None

    def powered_seconds(self, view: NodeView) -> float:
        """Seconds this node has been powered (on or waking) so far."""
        extra = self.clock.now() - view.powered_since if view.powered_since is not None else 0.0
        return view.powered_seconds + extra

    # -- node health ------------------------------------------------------------------
    def node_down(self, name: str) -> None:
        """Mark a node DOWN: it leaves scheduling and the capacity counts."""
        view = self.by_name[name]
        if view.status is NodeStatus.DOWN:
            return
        view.status = NodeStatus.DOWN
        self.reindex(view)
        self._node_changed(view)

    def node_up(self, name: str) -> None:
        """A DOWN node reports again: its capacity returns from its NC."""
        view = self.by_name[name]
        if view.status is not NodeStatus.DOWN:
            return
        view.status = NodeStatus.UP
        view.avail = view.nc.available()
        self.reindex(view)
        self._node_changed(view)

    def node_failed(self, name: str, reason: str = "node failure") -> list[str]:
        """Hardware failure: the node's instances are lost and it leaves scheduling (DOWN)."""
        view = self.by_name[name]
        for spec in view.deferred:
            self.unplace(spec)
        view.deferred = []
        self.node_down(name)
        lost = view.nc.crash(reason)
        if self.poll_interval:  # the CC would not hear of it before its next poll anyway
            for event in view.buffered:
                self._apply(view, event)
            view.buffered = []
        return lost

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Maintenance mode (euserv-modify-service stop/start on an NC)."""
        view = self.by_name[name]
        if enabled and view.status is NodeStatus.DISABLED:
            view.status = NodeStatus.UP
        elif not enabled and view.status is NodeStatus.UP:
            view.status = NodeStatus.DISABLED
        view.nc.enabled = enabled
        self.reindex(view)
        self._node_changed(view)

    def set_available(self, available: bool) -> None:
        """Disable (or enable again) the whole CC: euserv-modify-service on a cluster.  A
        disabled CC places nothing new and reports no free room; its instances run on."""
        self.available = available

    def set_policy(self, policy: str | Policy) -> None:
        """Change the scheduler at run time (``euctl ZONE.cluster.scheduler``).

        Leaving POWERSAVE wakes the sleeping nodes (the new policy never powers them
        down, so they would otherwise stay asleep); entering it arms the idle timers.
        """
        new = make_policy(policy) if isinstance(policy, str) else policy
        old, self.policy = self.policy, new
        for view in self.nodes:
            if new.powers_down and not old.powers_down and not view.instances:
                self.arm_idle(view)
            elif old.powers_down and not new.powers_down:
                if view.idle_timer is not None:
                    view.idle_timer.cancel()
                    view.idle_timer = None
                if view.status is _ASLEEP:
                    self._wake(view)

    def _node_changed(self, view: NodeView) -> None:
        for listener in self.node_listeners:
            listener(view)

    # -- reports from NCs -------------------------------------------------------------
    def _on_nc_event(self, view: NodeView, event: InstanceEvent) -> None:
        if self.poll_interval:
            view.buffered.append(event)  # the CC learns of it at its next poll
            return
        self._apply(view, event)

    def _apply(self, view: NodeView, event: InstanceEvent) -> None:
        if event.state is _TERMINATED:
            demand = view.instances.pop(event.instance_id, None)
            if demand is not None:
                if self.instance_node.get(event.instance_id) is view:
                    del self.instance_node[event.instance_id]
                if not self.poll_interval:  # avail.plus(demand), inline
                    avail = view.avail
                    view.avail = Resources(avail.cores + demand.cores,
                                           avail.memory_mb + demand.memory_mb,
                                           avail.disk_gb + demand.disk_gb)
                self.reindex(view)
                if self.policy.powers_down and not view.instances:
                    self.arm_idle(view)
        for listener in self.listeners:  # _emit, inlined: every NC report passes here
            listener(event)

    def _emit(self, event: InstanceEvent) -> None:
        for listener in self.listeners:
            listener(event)

    def _poll(self) -> None:
        """One CC poll: refresh each node's resources and collect its instance events."""
        for view in self.nodes:
            events, view.buffered = view.buffered, []
            for event in events:
                self._apply(view, event)
            if view.status not in (NodeStatus.DOWN,):
                avail = view.nc.available()
                for spec in view.deferred:
                    avail = avail.minus(spec.resources)
                view.avail = avail
                self.reindex(view)
        if self.poll_interval:
            self.clock.call_later(self.poll_interval, self._poll)

    # -- live migration (MigrateInstances, admin only) --------------------------------
    def migrate_instances(self, instance_id: str | None = None, source_node: str | None = None,
                          include: Sequence[str] = (), exclude: Sequence[str] = ()
                          ) -> list[tuple[str, str]]:
        """Migrate one instance, or evacuate a node; returns ``(instance, destination)`` pairs.

        Raises :class:`~server.cc.migration.MigrationError` on bad arguments or when a
        single named instance has nowhere to go.
        """
        return self.migrations.request(instance_id, source_node, include, exclude)

    def migrate_to(self, instance_id: str, node: str) -> None:
        """Migrate one instance to a named node (consolidation plans choose destinations)."""
        self.migrations.start_to(instance_id, node)

    # -- relayed operations -----------------------------------------------------------
    def node_of(self, instance_id: str) -> NodeView | None:
        """The node an instance is on (or reserved on)."""
        return self.instance_node.get(instance_id)

    def terminate_instance(self, instance_id: str) -> None:
        """Relay ncTerminateInstance (or drop a start still waiting for a node to wake)."""
        view = self.instance_node.get(instance_id)
        if view is None:
            return
        for spec in view.deferred:
            if spec.instance_id == instance_id:
                view.deferred.remove(spec)
                self.unplace(spec)
                now = self.clock.now()
                self._emit(InstanceEvent(instance_id, view.name, InstanceState.SHUTTING_DOWN, now))
                self._emit(InstanceEvent(instance_id, view.name, InstanceState.TERMINATED, now))
                return
        view.nc.terminate_instance(instance_id)

    def reboot_instance(self, instance_id: str) -> None:
        """Relay ncRebootInstance."""
        view = self.instance_node.get(instance_id)
        if view is not None and instance_id in view.nc.instances:
            view.nc.reboot_instance(instance_id)

    def console_output(self, instance_id: str) -> bytes:
        """Relay ncGetConsoleOutput."""
        view = self.instance_node.get(instance_id)
        if view is None or instance_id not in view.nc.instances:
            return b""
        return view.nc.console_output(instance_id)

    def attach_volume(self, instance_id: str, device: BlockDevice, done: Done) -> None:
        """Relay ncAttachVolume."""
        view = self.instance_node.get(instance_id)
        if view is None:
            done(Outcome(False, f"{instance_id} is not on any node"))
            return
        view.nc.attach_volume(instance_id, device, done)

    def detach_volume(self, instance_id: str, volume_id: str, done: Done) -> None:
        """Relay ncDetachVolume."""
        view = self.instance_node.get(instance_id)
        if view is None:
            done(Outcome(False, f"{instance_id} is not on any node"))
            return
        view.nc.detach_volume(instance_id, volume_id, done)

    # -- sensors (DescribeSensors) -----------------------------------------------------
    def set_instance_load(self, instance_id: str, load: dict[str, float]) -> None:
        """Relay an instance's modelled load to its node (virtual hypervisors)."""
        view = self.instance_node.get(instance_id)
        if view is not None:
            view.nc.set_load(instance_id, load)

    def describe_sensors(self, seconds: float) -> dict[str, Sample]:
        """Every reachable node's instance samples over ``seconds``."""
        out: dict[str, Sample] = {}
        for v in self.nodes:
            if v.status not in (NodeStatus.DOWN, NodeStatus.ASLEEP):
                out.update(v.nc.sensor_samples(seconds))
        return out

    # -- views (DescribeResources, describe-nodes) ------------------------------------
    def describe_resources(self) -> dict[str, tuple[int, int]]:
        """Per VM type ``(free, max)`` instance counts, as the CC reports them (§3.2)."""
        out: dict[str, tuple[int, int]] = {}
        live = [v for v in self.nodes if v.status not in (NodeStatus.DOWN, NodeStatus.DISABLED)]
        if not self.available:  # a disabled CC offers nothing (its zone is not chosen)
            return {name: (0, min(sum(v.total.count_of(d) for v in live), self.max_instances))
                    for name, d in self.demands.items()}
        for name, demand in self.demands.items():
            free = sum(v.avail.count_of(demand) for v in live)
            most = sum(v.total.count_of(demand) for v in live)
            out[name] = (min(free, self.max_instances), min(most, self.max_instances))
        return out

    def describe_nodes(self) -> list[NodeInfo]:
        """Every node with its state, power, capacity and instances."""
        out = []
        for v in self.nodes:
            power = {NodeStatus.ASLEEP: "off", NodeStatus.WAKING: "waking"}.get(v.status, "on")
            out.append(NodeInfo(v.name, self.zone, v.status.value, power, v.total,
                                v.total.minus(v.avail), tuple(sorted(v.instances))))
        return out


def _unheard(event: InstanceEvent) -> None:
    """Where a deregistered node's late reports go: nowhere (its CC has forgotten it)."""


def _satisfies_port(cc: ClusterController) -> Cluster:
    """Type check only: a ClusterController is a Cluster (mypy verifies the Protocol here)."""
    return cc
