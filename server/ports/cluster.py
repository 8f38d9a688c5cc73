"""The Cluster port: what the CLC asks of a zone's Cluster Controller (reference §1.3).

In one process the CLC holds :class:`~server.cc.cluster.ClusterController` objects;
across hosts it holds :class:`~server.remote.cluster_client.RemoteCluster` proxies that
speak the same messages over signed HTTP.  Both satisfy :class:`Cluster`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from server.nc.sensors import Sample
from server.nc.types import BlockDevice, Done, InstanceEvent, InstanceSpec, NodeStatus, Outcome

EventListener = Callable[[InstanceEvent], None]
MigrationListener = Callable[[str, str, Outcome], None]


class PlacedNode(Protocol):
    """Where an instance is: the node's name and the CC's view of its state."""

    @property
    def name(self) -> str:
        """The node's name."""

    @property
    def status(self) -> NodeStatus:
        """UP, DOWN, DISABLED, ..."""


class MigrationEvents(Protocol):
    """Whom the CC tells when a live migration ends."""

    @property
    def listeners(self) -> list[MigrationListener]:
        """Called with ``(instance_id, destination node, outcome)``."""


class Cluster(Protocol):
    """One zone's Cluster Controller: placement, relayed node operations and views."""

    @property
    def zone(self) -> str:
        """The zone (cluster) name."""

    @property
    def listeners(self) -> list[EventListener]:
        """Called with every instance event the CC relays from its nodes."""

    @property
    def migrations(self) -> MigrationEvents:
        """Migration completion listeners."""

    @property
    def by_name(self) -> Mapping[str, Any]:
        """The zone's nodes by name."""

    @property
    def available(self) -> bool:
        """Whether the zone takes new instances: its CC answers and the administrator has
        not disabled it (DescribeAvailabilityZones shows ``unavailable`` otherwise)."""

    def set_available(self, available: bool) -> None:
        """The administrator's state of the CC (euserv-modify-service on a cluster): a
        disabled CC places nothing new and offers no free room; its instances run on."""

    def set_vm_types(self, types: dict[str, Any]) -> None:
        """The VM types the CC places (name -> Resources)."""

    def run_instances(self, specs: Sequence[InstanceSpec], min_count: int) -> list[str]:
        """Place and start at least ``min_count`` of ``specs`` or none; node names."""

    def run_instances_prepared(
            self, specs: Sequence[InstanceSpec], min_count: int,
            before_start: Callable[[int], Sequence[InstanceSpec]]) -> list[str]:
        """Place, let the caller finish the specs (addresses), then start them."""

    def run_on(self, node: str, spec: InstanceSpec) -> None:
        """Start (or re-adopt) an instance on a named node."""

    def terminate_instance(self, instance_id: str) -> None:
        """Relay ncTerminateInstance (stop too: the CLC keeps the EBS root)."""

    def reboot_instance(self, instance_id: str) -> None:
        """Relay ncRebootInstance."""

    def console_output(self, instance_id: str) -> bytes:
        """Relay ncGetConsoleOutput."""

    def attach_volume(self, instance_id: str, device: BlockDevice, done: Done) -> None:
        """Relay ncAttachVolume."""

    def detach_volume(self, instance_id: str, volume_id: str, done: Done) -> None:
        """Relay ncDetachVolume."""

    def node_of(self, instance_id: str) -> PlacedNode | None:
        """The node an instance is on (or reserved on)."""

    def describe_resources(self) -> dict[str, tuple[int, int]]:
        """Per VM type ``(free, max)`` instance counts."""

    def describe_nodes(self) -> Sequence[Any]:
        """Every node with its state, power, capacity and instances (NodeInfo)."""

    def describe_sensors(self, seconds: float) -> dict[str, Sample]:
        """Every reachable node's instance samples."""

    def set_instance_load(self, instance_id: str, load: dict[str, float]) -> None:
        """Relay an instance's modelled load to its node."""

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Maintenance mode of a node: a disabled node takes no new instances."""

    def remove_node(self, name: str) -> None:
        """Deregister a node: it leaves the zone's scheduling, capacity and polls.  Refused
        with a ValueError (``NodeBusy`` while it has instances)."""

    def migrate_instances(self, instance_id: str | None = None, source_node: str | None = None,
                          include: Sequence[str] = (), exclude: Sequence[str] = ()
                          ) -> list[tuple[str, str]]:
        """Migrate one instance, or evacuate a node."""
