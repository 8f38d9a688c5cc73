"""The hypervisor driver interface and the registry that resolves drivers by name.

``server/`` never imports ``simulator/`` statically: the ``virtual`` driver is looked up
by name in :data:`DRIVERS` and imported when first asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol

from server.clock import Clock
from server.nc.types import BlockDevice, Done, InstanceSpec, Resources


class Hypervisor(Protocol):
    """What the NC needs from a hypervisor; calls return at once, ``done`` reports later."""

    def describe(self) -> Resources:
        """The node's total resources."""

    def start(self, spec: InstanceSpec, done: Done) -> None:
        """Stage and boot an instance; ``done`` when it runs (or failed)."""

    def stop(self, instance_id: str, done: Done) -> None:
        """Destroy an instance and release its disks; ``done`` when gone."""

    def reboot(self, instance_id: str, done: Done) -> None:
        """Reboot an instance."""

    def console_output(self, instance_id: str) -> bytes:
        """The instance's console text so far."""

    def attach_volume(self, instance_id: str, device: BlockDevice, done: Done) -> None:
        """Hot-plug a disk into a running instance."""

    def detach_volume(self, instance_id: str, device: BlockDevice, done: Done) -> None:
        """Unplug a disk from a running instance."""

    def instances(self) -> list[str]:
        """IDs of instances the hypervisor is running (for rediscovery after a restart)."""

    def healthy(self) -> bool:
        """False when the hypervisor cannot be reached."""


DriverFactory = Callable[[str, dict[str, Any], Clock], Hypervisor]

#: driver name -> "module:factory"; factories take (node name, zone config, clock).
DRIVERS: dict[str, str] = {
    "virtual": "simulator.hardware:virtual_driver",
    "libvirt": "server.nc.libvirt_driver:libvirt_driver",
}


def make_driver(kind: str, node: str, config: dict[str, Any], clock: Clock) -> Hypervisor:
    """Build the driver called ``kind`` for ``node``."""
    try:
        target = DRIVERS[kind]
    except KeyError:
        raise ValueError(f"unknown hypervisor {kind!r}; choose one of {sorted(DRIVERS)}") from None
    module, _, attr = target.partition(":")
    factory: DriverFactory = getattr(importlib.import_module(module), attr)
    return factory(node, config, clock)
