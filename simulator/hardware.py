"""Virtual hardware: a hypervisor driver whose instances exist only as timed state.

The server uses it (on the real-time clock) as the embedded default hypervisor, and
the simulator uses it on a simpy clock.  Durations come from the zone config:
``staging_seconds``, ``boot_seconds``, ``teardown_seconds`` (numbers, or distribution
tables drawn from an RNG seeded by ``seed`` and the node name), and live migration takes
the instance's memory over ``migration_bandwidth_mbps`` (megabytes per second).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from server.clock import Clock
from server.nc.sensors import Sample, load_from_user_data, modelled_sample
from server.nc.types import OK, BlockDevice, Done, InstanceSpec, Outcome, Resources
from simulator.distributions import sampler

Duration = Callable[[], float]


#: The console of an instance on a node that keeps none (never appended to).
_NO_LOG: list[str] = []


def _fixed(seconds: float) -> Duration:
    return lambda: seconds


class VirtualInstance:
    """An instance on virtual hardware: its spec, console log and attached disks.

    The log and the disks start as shared empty tuples/None and become a list/dict on
    first use: a simulation keeps ~10^5 of these alive and most never log or attach.
    """

    __slots__ = ("_disks", "console", "running", "spec")

    def __init__(self, spec: InstanceSpec, console: bool = True):
        self.spec = spec
        self.console: list[str] = [] if console else _NO_LOG
        self._disks: dict[str, BlockDevice] | None = None
        self.running = False

    @property
    def disks(self) -> dict[str, BlockDevice]:
        """Attached disks by guest device name."""
        if self._disks is None:
            self._disks = {}
        return self._disks


class VirtualHypervisor:
    """A node's virtual hypervisor: instances boot and stop after modelled durations."""

    def __init__(self, node: str, clock: Clock, resources: Resources, *,
                 staging: Duration = _fixed(0.0), boot: Duration = _fixed(1.0),
                 teardown: Duration = _fixed(0.5), attach: Duration = _fixed(0.2),
                 migration: Callable[[InstanceSpec], float] | None = None,
                 console: bool = True):
        self.node = node
        self.clock = clock
        self.resources = resources
        self.staging = staging
        self.boot = boot
        self.teardown = teardown
        self.attach = attach
        # Default: 1 Gbit/s shared half-and-half with guest traffic (62.5 MB/s), as CloudSim.
        self.migration = migration or (lambda spec: spec.resources.memory_mb / 62.5)
        self.vms: dict[str, VirtualInstance] = {}
        #: modelled load per instance, set from outside (tags): see server/nc/sensors.py
        self.loads: dict[str, dict[str, float]] = {}
        self.up = True
        # The simulator turns console text off: formatting it per boot costs more than
        # the rest of an instance's life at a million instances.
        self.console = console

    def describe(self) -> Resources:
        """The node's total resources."""
        return self.resources

    def _log(self, vm: VirtualInstance, line: str) -> None:
        if self.console:
            vm.console.append(line)

    def start(self, spec: InstanceSpec, done: Done) -> None:
        """Stage, then boot after the modelled durations."""
        vm = VirtualInstance(spec, self.console)
        self.vms[spec.instance_id] = vm
        if self.console:
            self._log(vm, f"[    0.000000] Virtual node {self.node}: staging {spec.image_id}")
        delay = self.staging() + self.boot()
        # A partial of a method, not a closure: no cells and function object per instance.
        self.clock.call_later(delay, partial(self._booted, vm, delay, done))

    def _booted(self, vm: VirtualInstance, delay: float, done: Done) -> None:
        spec = vm.spec
        if self.vms.get(spec.instance_id) is not vm:
            return
        vm.running = True
        if self.console:
            self._log(vm, f"[    {delay:.6f}] Booting {spec.instance_id} ({spec.vm_type}, "
                          f"{spec.resources.cores} vCPU, {spec.resources.memory_mb} MB)")
            self._log(vm, f"[    {delay:.6f}] eth0: {spec.private_ip or 'no address'}")
            self._log(vm, f"{spec.instance_id} login:")
        done(OK)

    def stop(self, instance_id: str, done: Done) -> None:
        """Tear the instance down after the modelled duration."""
        if self.console:
            vm = self.vms.get(instance_id)
            if vm is not None:
                self._log(vm, "reboot: Power down")
        self.clock.call_later(self.teardown(), partial(self._gone, instance_id, done))

    def _gone(self, instance_id: str, done: Done) -> None:
        self.vms.pop(instance_id, None)
        if self.loads:
            self.loads.pop(instance_id, None)
        done(OK)

    def reboot(self, instance_id: str, done: Done) -> None:
        """Reboot: the console shows it, the instance returns after the boot time."""
        vm = self.vms.get(instance_id)
        if vm is None:
            done(Outcome(False, "no such instance"))
            return
        self._log(vm, "reboot: Restarting system")
        self.clock.call_later(self.boot(), lambda: done(OK))

    def set_load(self, instance_id: str, load: dict[str, float]) -> None:
        """Drive an instance's modelled load (it overrides its user data's)."""
        self.loads[instance_id] = dict(load)

    def sensor_sample(self, instance_id: str, seconds: float) -> Sample | None:
        """The load model's sample of a running instance (None for others)."""
        vm = self.vms.get(instance_id)
        if vm is None or not vm.running:
            return None
        load = load_from_user_data(vm.spec.user_data) | self.loads.get(instance_id, {})
        return modelled_sample(load, seconds)

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

    def migrate(self, instance_id: str, dest: object, done: Done) -> None:
        """Live-migrate to another virtual node after the modelled copy time."""
        vm = self.vms.get(instance_id)
        if vm is None or not isinstance(dest, VirtualHypervisor):
            done(Outcome(False, "no such instance or destination not virtual"))
            return

        def copied() -> None:
            if not (self.up and dest.up) or self.vms.get(instance_id) is not vm:
                done(Outcome(False, "migration aborted"))
                return
            del self.vms[instance_id]
            dest.vms[instance_id] = vm
            self._log(vm, f"migrated from {self.node} to {dest.node}")
            done(OK)

        self.clock.call_later(self.migration(vm.spec), copied)

    def send(self, instance_id: str, done: Done) -> None:
        """Live-migrate out to a node in another process after the modelled copy time."""
        vm = self.vms.get(instance_id)
        if vm is None:
            done(Outcome(False, "no such instance"))
            return

        def copied() -> None:
            if not self.up or self.vms.get(instance_id) is not vm:
                done(Outcome(False, "migration aborted"))
                return
            del self.vms[instance_id]
            done(OK)

        self.clock.call_later(self.migration(vm.spec), copied)

    def receive(self, spec: InstanceSpec) -> None:
        """An instance copied in from a node in another process: it runs here now."""
        vm = VirtualInstance(spec, self.console)
        vm.running = True
        self.vms[spec.instance_id] = vm
        self._log(vm, f"migrated to {self.node}")

    def instances(self) -> list[str]:
        """Instances present on this virtual node."""
        return list(self.vms)

    def healthy(self) -> bool:
        """Virtual nodes are reachable unless a failure was injected."""
        return self.up


def virtual_driver(node: str, config: dict[str, Any], clock: Clock) -> VirtualHypervisor:
    """Driver factory for ``hypervisor = "virtual"`` zones."""
    import random
    import zlib

    resources = Resources(int(config.get("node_cores", 8)), int(config.get("node_memory_mb", 16384)),
                          int(config.get("node_disk_gb", 200)))
    # Each node draws from its own stream so adding a node does not perturb the others.
    rng = random.Random(int(config.get("seed", 0)) * 1_000_003 + zlib.crc32(node.encode()))
    bandwidth = float(config.get("migration_bandwidth_mbps", 62.5))
    return VirtualHypervisor(
        node, clock, resources,
        staging=sampler(config.get("staging_seconds", 0.0), rng),
        boot=sampler(config.get("boot_seconds", 1.0), rng),
        teardown=sampler(config.get("teardown_seconds", 0.5), rng),
        migration=lambda spec: spec.resources.memory_mb / bandwidth,
    )
