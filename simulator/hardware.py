"""Virtual hardware: a hypervisor driver whose instances exist only as timed state.

The server uses it (on the real-time clock) as the embedded default hypervisor, and
the simulator uses it on a simpy clock.  Durations come from the zone config:
``staging_seconds``, ``boot_seconds``, ``teardown_seconds``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server.clock import Clock
from server.nc.types import OK, BlockDevice, Done, InstanceSpec, Outcome, Resources

Duration = Callable[[], float]


def _fixed(seconds: float) -> Duration:
    return lambda: seconds


@dataclass
class VirtualInstance:
    """An instance on virtual hardware: its spec, console log and attached disks."""

    spec: InstanceSpec
    console: list[str] = field(default_factory=list)
    disks: dict[str, BlockDevice] = field(default_factory=dict)
    running: bool = False


class VirtualHypervisor:
    """A node's virtual hypervisor: instances boot and stop after modelled durations."""

    def __init__(self, node: str, clock: Clock, resources: Resources, *,
                 staging: Duration = _fixed(0.0), boot: Duration = _fixed(1.0),
                 teardown: Duration = _fixed(0.5), attach: Duration = _fixed(0.2)):
        self.node = node
        self.clock = clock
        self.resources = resources
        self.staging = staging
        self.boot = boot
        self.teardown = teardown
        self.attach = attach
        self.vms: dict[str, VirtualInstance] = {}
        self.up = True

    def describe(self) -> Resources:
        """The node's total resources."""
        return self.resources

    def _log(self, vm: VirtualInstance, line: str) -> None:
        vm.console.append(line)

    def start(self, spec: InstanceSpec, done: Done) -> None:
        """Stage, then boot after the modelled durations."""
        vm = VirtualInstance(spec)
        self.vms[spec.instance_id] = vm
        self._log(vm, f"[    0.000000] Virtual node {self.node}: staging {spec.image_id}")
        delay = self.staging() + self.boot()

        def booted() -> None:
            if self.vms.get(spec.instance_id) is not vm:
                return
            vm.running = True
            self._log(vm, f"[    {delay:.6f}] Booting {spec.instance_id} ({spec.vm_type}, "
                          f"{spec.resources.cores} vCPU, {spec.resources.memory_mb} MB)")
            self._log(vm, f"[    {delay:.6f}] eth0: {spec.private_ip or 'no address'}")
            self._log(vm, f"{spec.instance_id} login:")
            done(OK)

        self.clock.call_later(delay, booted)

    def stop(self, instance_id: str, done: Done) -> None:
        """Tear the instance down after the modelled duration."""
        vm = self.vms.get(instance_id)
        if vm is not None:
            self._log(vm, "reboot: Power down")

        def gone() -> None:
            self.vms.pop(instance_id, None)
            done(OK)

        self.clock.call_later(self.teardown(), gone)

    def reboot(self, instance_id: str, done: Done) -> None:
        """Reboot: the console shows it, the instance returns after the boot time."""
        vm = self.vms.get(instance_id)
        if vm is None:
            done(Outcome(False, "no such instance"))
            return
        self._log(vm, "reboot: Restarting system")
        self.clock.call_later(self.boot(), lambda: done(OK))

    def console_output(self, instance_id: str) -> bytes:
        """The console lines so far."""
        vm = self.vms.get(instance_id)
        return ("\n".join(vm.console) + "\n").encode() if vm else b""

    def attach_volume(self, instance_id: str, device: BlockDevice, done: Done) -> None:
        """Attach a disk after the modelled attach time."""
        vm = self.vms.get(instance_id)
        if vm is None:
            done(Outcome(False, "no such instance"))
            return

        def attached() -> None:
            vm.disks[device.device] = device
            self._log(vm, f"virtio_blk: [{device.device}] {device.size_gb} GiB disk attached")
            done(OK)

        self.clock.call_later(self.attach(), attached)

    def detach_volume(self, instance_id: str, device: BlockDevice, done: Done) -> None:
        """Detach a disk after the modelled attach time."""
        vm = self.vms.get(instance_id)

        def detached() -> None:
            if vm is not None:
                vm.disks.pop(device.device, None)
            done(OK)

        self.clock.call_later(self.attach(), detached)

    def instances(self) -> list[str]:
        """Instances present on this virtual node."""
        return list(self.vms)

    def healthy(self) -> bool:
        """Virtual nodes are reachable unless a failure was injected."""
        return self.up


def virtual_driver(node: str, config: dict[str, Any], clock: Clock) -> VirtualHypervisor:
    """Driver factory for ``hypervisor = "virtual"`` zones."""
    resources = Resources(int(config.get("node_cores", 8)), int(config.get("node_memory_mb", 16384)),
                          int(config.get("node_disk_gb", 200)))
    return VirtualHypervisor(
        node, clock, resources,
        staging=_fixed(float(config.get("staging_seconds", 0.0))),
        boot=_fixed(float(config.get("boot_seconds", 1.0))),
        teardown=_fixed(float(config.get("teardown_seconds", 0.5))),
    )
