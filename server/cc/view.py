"""The CC's view of one node (shared by the CC and its helpers: migration, health)."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.clock import Cancel
from server.nc.types import InstanceEvent, InstanceSpec, NodeStatus, Resources
from server.ports.node import Node


@dataclass(slots=True)
class NodeView:
    """The CC's view of one node: what it last learned plus its own reservations."""

    index: int
    nc: Node
    total: Resources
    avail: Resources
    status: NodeStatus = NodeStatus.UP
    #: The instances on (or reserved on) the node, each with the resources it holds.
    instances: dict[str, Resources] = field(default_factory=dict)
    idle_timer: Cancel | None = None
    wake_timer: Cancel | None = None
    deferred: list[InstanceSpec] = field(default_factory=list)
    buffered: list[InstanceEvent] = field(default_factory=list)
    powered_seconds: float = 0.0
    powered_since: float | None = None

    @property
    def name(self) -> str:
        """The node's name (its NC's)."""
        return self.nc.name
