"""The Node port: what a Cluster Controller asks of a Node Controller (reference §1.3).

In one process the CC holds :class:`~server.nc.node.NodeController` objects; across
hosts it holds :class:`~server.remote.node_client.RemoteNode` proxies that speak the
same messages over signed HTTP.  Both satisfy :class:`Node`.  Operations return at
once; their results arrive as :class:`~server.nc.types.InstanceEvent` reports (pushed
through ``report``, or collected by the CC's poll) or through ``done`` callbacks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from server.nc.sensors import Sample
from server.nc.types import (
    BlockDevice,
    Done,
    InstanceEvent,
    InstanceReport,
    InstanceSpec,
    InstanceState,
    Resources,
)


class NodeInstanceView(Protocol):
    """One instance as its node last reported it."""

    @property
    def spec(self) -> InstanceSpec:
        """What the node was asked to run."""

    @property
    def state(self) -> InstanceState:
        """The NC state."""

    @property
    def since(self) -> float:
        """When it entered that state (the node's clock)."""


class Node(Protocol):
    """One Node Controller: ncRunInstance, ncTerminateInstance, ncDescribeResource, ..."""

    @property
    def name(self) -> str:
        """The node's name (its host, as registered with the CC)."""

    @property
    def capacity(self) -> Resources:
        """The node's total resources."""

    @property
    def instances(self) -> Mapping[str, NodeInstanceView]:
        """Every instance the node knows (ncDescribeInstances), by instance id."""

    report: Callable[[InstanceEvent], None]
    enabled: bool

    def available(self) -> Resources:
        """Capacity less what the instances hold (ncDescribeResource)."""

    def run_instance(self, spec: InstanceSpec) -> None:
        """ncRunInstance: stage and boot an instance."""

    def terminate_instance(self, instance_id: str) -> None:
        """ncTerminateInstance (idempotent)."""

    def reboot_instance(self, instance_id: str) -> None:
        """ncRebootInstance."""

    def console_output(self, instance_id: str) -> bytes:
        """ncGetConsoleOutput."""

    def attach_volume(self, instance_id: str, device: BlockDevice, done: Done) -> None:
        """ncAttachVolume."""

    def detach_volume(self, instance_id: str, volume_id: str, done: Done) -> None:
        """ncDetachVolume."""

    def migrate_instance(self, instance_id: str, dest: Node, done: Done) -> None:
        """ncMigrateInstances: live-migrate a running instance to ``dest``."""

    def crash(self, reason: str = "node failure") -> list[str]:
        """The node's hardware failed: its instances are lost; returns their ids."""

    def set_load(self, instance_id: str, load: dict[str, float]) -> None:
        """An instance's modelled load (virtual hypervisors)."""

    def sensor_samples(self, seconds: float) -> dict[str, Sample]:
        """DescribeSensors: a sample per running instance over ``seconds``."""

    def describe_instances(self) -> list[InstanceReport]:
        """ncDescribeInstances."""
