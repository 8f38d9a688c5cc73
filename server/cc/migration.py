"""MigrateInstances (reference §9): live migration chosen and tracked by the CC.

One instance, or every running instance of a source node (evacuation), moves to
destinations chosen round-robin among nodes that fit, honouring include/exclude lists
and never the source, as the C CC does.  The NC and its driver carry the copy out;
the CC reserves the destination at once and releases the source when the copy ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from server.cc.policies import Policy
from server.cc.view import NodeView
from server.nc.types import InstanceState, NodeStatus, Outcome, Resources

MigrationDone = Callable[[str, str, Outcome], None]


class ClusterState(Protocol):
    """What migration needs of its Cluster Controller: the node views, where each
    instance is, and the CC's bookkeeping after a view changes."""

    nodes: list[NodeView]
    by_name: dict[str, NodeView]
    instance_node: dict[str, NodeView]
    poll_interval: float | None
    policy: Policy

    def reindex(self, view: NodeView) -> None:
        """Update the fit indices after ``view`` changed."""

    def arm_idle(self, view: NodeView) -> None:
        """Power an idle node down later (POWERSAVE)."""


class MigrationError(ValueError):
    """A MigrateInstances request that cannot be carried out (bad arguments, no destination)."""


class Migrations:
    """The CC's migration bookkeeping: round-robin cursor and migrations in flight."""

    def __init__(self, cc: ClusterState):
        self.cc = cc
        self.cursor = 0
        self.in_flight: dict[str, tuple[str, str]] = {}
        self.completed = 0
        self.listeners: list[MigrationDone] = []

    def request(self, instance_id: str | None, source_node: str | None,
                include: Iterable[str], exclude: Iterable[str]) -> list[tuple[str, str]]:
        """Plan and start migrations; returns ``(instance_id, destination)`` pairs started."""
        cc = self.cc
        if (instance_id is None) == (source_node is None):
            raise MigrationError("give exactly one of an instance or a source node")
        if instance_id is not None:
            view = cc.instance_node.get(instance_id)
            if view is None:
                raise MigrationError(f"instance {instance_id} is not on any node")
            ids = [instance_id]
        else:
            assert source_node is not None
            view = cc.by_name.get(source_node)
            if view is None:
                raise MigrationError(f"unknown node {source_node}")
            ids = sorted(i for i in view.instances if i not in self.in_flight)
        allowed = set(include)
        banned = set(exclude)
        for name in allowed | banned:
            if name not in cc.by_name:
                raise MigrationError(f"unknown node {name}")
        started: list[tuple[str, str]] = []
        for iid in ids:
            inst = view.nc.instances.get(iid)
            if inst is None or inst.state is not InstanceState.RUNNING or iid in self.in_flight:
                if instance_id is not None:
                    raise MigrationError(f"instance {iid} is not running")
                continue
            dest = self._choose(view, inst.spec.resources, allowed, banned)
            if dest is None:
                if instance_id is not None:
                    raise MigrationError(f"no node can take {iid}")
                continue
            self._start(iid, view, dest, inst.spec.resources)
            started.append((iid, dest.name))
        return started

    def _choose(self, source: NodeView, demand: Resources, allowed: set[str],
                banned: set[str]) -> NodeView | None:
        """Round-robin from the cursor over UP nodes that fit (migration never wakes nodes)."""
        nodes = self.cc.nodes
        n = len(nodes)
        for k in range(n):
            view = nodes[(self.cursor + k) % n]
            if (view is source or view.status is not NodeStatus.UP
                    or (allowed and view.name not in allowed) or view.name in banned
                    or not view.avail.fits(demand)):
                continue
            self.cursor = (view.index + 1) % n
            return view
        return None

    def start_to(self, instance_id: str, dest_node: str) -> None:
        """Migrate one running instance to a named node (a consolidation plan's step)."""
        cc = self.cc
        view = cc.instance_node.get(instance_id)
        dest = cc.by_name.get(dest_node)
        if view is None or dest is None or dest is view:
            raise MigrationError(f"cannot migrate {instance_id} to {dest_node}")
        inst = view.nc.instances.get(instance_id)
        if inst is None or inst.state is not InstanceState.RUNNING or instance_id in self.in_flight:
            raise MigrationError(f"instance {instance_id} is not running")
        self._start(instance_id, view, dest, inst.spec.resources)

    def _start(self, iid: str, source: NodeView, dest: NodeView, demand: Resources) -> None:
        cc = self.cc
        dest.avail = dest.avail.minus(demand)
        dest.instances[iid] = demand
        if dest.idle_timer is not None:
            dest.idle_timer.cancel()
            dest.idle_timer = None
        cc.reindex(dest)
        self.in_flight[iid] = (source.name, dest.name)

        def finished(outcome: Outcome) -> None:
            self.in_flight.pop(iid, None)
            if outcome.ok:
                source.instances.pop(iid, None)
                if not cc.poll_interval:
                    source.avail = source.avail.plus(demand)
                cc.instance_node[iid] = dest
                cc.reindex(source)
                if cc.policy.powers_down and not source.instances:
                    cc.arm_idle(source)
                self.completed += 1
            else:
                dest.instances.pop(iid, None)
                dest.avail = dest.avail.plus(demand)
                cc.reindex(dest)
                if cc.policy.powers_down and not dest.instances:
                    cc.arm_idle(dest)
            for listener in self.listeners:
                listener(iid, dest.name, outcome)

        source.nc.migrate_instance(iid, dest.nc, finished)
