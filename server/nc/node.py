"""The Node Controller: each instance's life on one node, over a hypervisor driver.

Event-driven and time-free: requests and driver callbacks move an instance between
the states of :data:`TRANSITIONS`; the clock is only used to stamp events and to
forget torn-down instances after ``teardown_forget_seconds`` (reference §4).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING

from server.clock import Clock
from server.nc.hypervisor import Hypervisor
from server.nc.sensors import Sample
from server.nc.types import (
    EMPTY,
    BlockDevice,
    Done,
    InstanceEvent,
    InstanceReport,
    InstanceSpec,
    InstanceState,
    Outcome,
    Resources,
)

if TYPE_CHECKING:
    from server.ports.node import Node

S = InstanceState

#: Allowed transitions of the NC instance state machine.
TRANSITIONS: dict[InstanceState, frozenset[InstanceState]] = {
    S.STAGING: frozenset({S.BOOTING, S.RUNNING, S.SHUTTING_DOWN, S.FAILED}),
    S.BOOTING: frozenset({S.RUNNING, S.SHUTTING_DOWN, S.FAILED}),
    S.RUNNING: frozenset({S.REBOOTING, S.SHUTTING_DOWN, S.MIGRATING, S.FAILED}),
    S.REBOOTING: frozenset({S.RUNNING, S.SHUTTING_DOWN, S.FAILED}),
    S.MIGRATING: frozenset({S.RUNNING, S.SHUTTING_DOWN, S.TERMINATED, S.FAILED}),
    S.SHUTTING_DOWN: frozenset({S.TERMINATED}),
    S.FAILED: frozenset({S.SHUTTING_DOWN, S.TERMINATED}),
    S.TERMINATED: frozenset(),
}

#: States whose instances hold node resources.
HOLDS_RESOURCES = frozenset({S.STAGING, S.BOOTING, S.RUNNING, S.REBOOTING, S.MIGRATING,
                             S.SHUTTING_DOWN, S.FAILED})

# Enum attribute lookups cost ~50 ns each through the metaclass; the state machine's
# hot path (millions of transitions in a simulation) uses plain module constants.
_STAGING = S.STAGING
_BOOTING = S.BOOTING
_RUNNING = S.RUNNING
_REBOOTING = S.REBOOTING
_SHUTTING_DOWN = S.SHUTTING_DOWN
_TERMINATED = S.TERMINATED
_FAILED = S.FAILED
_MIGRATING = S.MIGRATING


class IllegalTransition(Exception):
    """An instance was asked to move to a state its current state does not allow."""


class NodeInstance:
    """One instance as its NC tracks it."""

    __slots__ = ("launch_time", "since", "spec", "state", "volumes")

    def __init__(self, spec: InstanceSpec, state: InstanceState, since: float,
                 launch_time: float, volumes: Mapping[str, BlockDevice] = EMPTY):
        self.spec = spec
        self.state = state
        self.since = since
        self.launch_time = launch_time
        # Replaced (never changed in place) on attach and detach, so the shared empty
        # default costs no dict per instance.
        self.volumes = volumes

    def __repr__(self) -> str:
        return (f"NodeInstance({self.spec.instance_id!r}, {self.state.value}, "
                f"since={self.since})")


Reporter = Callable[[InstanceEvent], None]


class NodeController:
    """Runs instances on one node through a :class:`Hypervisor`."""

    def __init__(self, name: str, clock: Clock, driver: Hypervisor, report: Reporter,
                 *, teardown_forget_seconds: float = 180.0,
                 capacity: Resources | None = None):
        self.name = name
        self.clock = clock
        self.driver = driver
        self.report = report
        self.teardown_forget_seconds = teardown_forget_seconds
        self.capacity = capacity or driver.describe()
        self.instances: dict[str, NodeInstance] = {}
        # What instances hold, as three counters rather than a Resources value: a
        # simulation adds and removes an instance's demand millions of times.
        self._cores = self._memory_mb = self._disk_gb = 0
        self.enabled = True
        self._graveyard: deque[tuple[float, str]] = deque()  # (forget at, instance), in order

    # -- resources -----------------------------------------------------------------
    def used(self) -> Resources:
        """Resources held by this node's instances."""
        return Resources(self._cores, self._memory_mb, self._disk_gb)

    def available(self) -> Resources:
        """Capacity less what instances hold (ncDescribeResource's 'available')."""
        cap = self.capacity
        return Resources(cap.cores - self._cores, cap.memory_mb - self._memory_mb,
                         cap.disk_gb - self._disk_gb)

    def _hold(self, demand: Resources) -> None:
        self._cores += demand.cores
        self._memory_mb += demand.memory_mb
        self._disk_gb += demand.disk_gb

    def _release(self, demand: Resources) -> None:
        self._cores -= demand.cores
        self._memory_mb -= demand.memory_mb
        self._disk_gb -= demand.disk_gb

    # -- state machine -------------------------------------------------------------
    def _move(self, inst: NodeInstance, state: InstanceState, reason: str = "") -> None:
        old = inst.state
        if state not in TRANSITIONS[old]:
            raise IllegalTransition(f"{inst.spec.instance_id}: {old.value} -> {state.value}")
        inst.state = state
        now = inst.since = self.clock.now()
        spec = inst.spec
        if state is not _TERMINATED:  # every other state holds the instance's resources
            self.report(InstanceEvent(spec.instance_id, self.name, state, now, reason))
            return
        if old in HOLDS_RESOURCES:  # _release, inline
            demand = spec.resources
            self._cores -= demand.cores
            self._memory_mb -= demand.memory_mb
            self._disk_gb -= demand.disk_gb
        self.report(InstanceEvent(spec.instance_id, self.name, state, now, reason))
        # Forgotten lazily (see _purge) rather than by a timer per instance: at a
        # million instances the timers would be a fifth of all scheduled events.
        graveyard = self._graveyard
        graveyard.append((now + self.teardown_forget_seconds, spec.instance_id))
        if graveyard[0][0] <= now:  # keeps a quiet node's graveyard to the last minutes
            instances = self.instances  # _purge, inline (about once per teardown)
            while graveyard and graveyard[0][0] <= now:
                gone = instances.get(graveyard.popleft()[1])
                if gone is not None and gone.state is _TERMINATED:
                    del instances[gone.spec.instance_id]

    def _purge(self) -> None:
        """Forget instances torn down more than ``teardown_forget_seconds`` ago."""
        graveyard = self._graveyard
        if not graveyard:
            return
        now = self.clock.now()
        while graveyard and graveyard[0][0] <= now:
            _, instance_id = graveyard.popleft()
            inst = self.instances.get(instance_id)
            if inst is not None and inst.state is _TERMINATED:
                del self.instances[instance_id]

    # -- operations (ncRunInstance, ncTerminateInstance, ...) -----------------------
    def run_instance(self, spec: InstanceSpec) -> None:
        """Start staging an instance; the driver reports when it runs."""
        now = self.clock.now()
        graveyard = self._graveyard
        if graveyard and graveyard[0][0] <= now:  # _purge's own test, without the call
            self._purge()
        instance_id = spec.instance_id
        instances = self.instances
        existing = instances.get(instance_id)
        if existing is not None:
            if existing.state is not _TERMINATED:
                raise IllegalTransition(f"{instance_id} already on {self.name}")
            # A stopped EBS instance starting again where it last ran: the old record is
            # only kept so the CC can still see it torn down.
            del instances[instance_id]
        inst = NodeInstance(spec, _STAGING, now, now)
        # Volumes given at launch (EBS root, -b mappings) are attached like later ones.
        if spec.block_devices:
            inst.volumes = {b.volume_id: b for b in spec.block_devices if b.volume_id}
        instances[instance_id] = inst
        demand = spec.resources  # _hold, inline
        self._cores += demand.cores
        self._memory_mb += demand.memory_mb
        self._disk_gb += demand.disk_gb
        self.report(InstanceEvent(instance_id, self.name, _STAGING, now))
        # Driver callbacks are partials of methods rather than closures: no cells and
        # function objects per instance (a simulation keeps ~10^5 of them pending).
        self.driver.start(spec, partial(self._started, inst))

    def _started(self, inst: NodeInstance, outcome: Outcome) -> None:
        """The driver's report on a start: the instance runs, or failed and is torn down."""
        state = inst.state
        if state is not _STAGING and state is not _BOOTING:
            return  # terminated while booting: the teardown path owns it now
        if outcome.ok:
            self._move(inst, _RUNNING)
        else:
            self._move(inst, _FAILED, outcome.error)
            self.terminate_instance(inst.spec.instance_id)

    def terminate_instance(self, instance_id: str) -> None:
        """Tear an instance down (idempotent for instances already going)."""
        inst = self.instances.get(instance_id)
        if inst is None or inst.state is _SHUTTING_DOWN or inst.state is _TERMINATED:
            return
        self._move(inst, _SHUTTING_DOWN)
        self.driver.stop(instance_id, partial(self._stopped, inst))

    def _stopped(self, inst: NodeInstance, outcome: Outcome) -> None:
        """The driver's report on a teardown: the instance is gone."""
        if inst.state is _SHUTTING_DOWN:
            self._move(inst, _TERMINATED, "" if outcome.ok else outcome.error)

    def reboot_instance(self, instance_id: str) -> None:
        """Reboot a running instance."""
        inst = self._get(instance_id)
        self._move(inst, _REBOOTING)

        def rebooted(outcome: Outcome) -> None:
            if inst.state is _REBOOTING:
                self._move(inst, _RUNNING if outcome.ok else _FAILED, outcome.error)

        self.driver.reboot(instance_id, rebooted)

    def attach_volume(self, instance_id: str, device: BlockDevice, done: Done) -> None:
        """Hot-plug a volume into a running instance."""
        inst = self._get(instance_id)

        def attached(outcome: Outcome) -> None:
            if outcome.ok:
                inst.volumes = {**inst.volumes, device.volume_id: device}
            done(outcome)

        self.driver.attach_volume(instance_id, device, attached)

    def detach_volume(self, instance_id: str, volume_id: str, done: Done) -> None:
        """Unplug a volume from an instance."""
        inst = self._get(instance_id)
        device = inst.volumes.get(volume_id)
        if device is None:
            done(Outcome(False, f"{volume_id} is not attached to {instance_id}"))
            return

        def detached(outcome: Outcome) -> None:
            if outcome.ok:
                inst.volumes = {k: v for k, v in inst.volumes.items() if k != volume_id}
            done(outcome)

        self.driver.detach_volume(instance_id, device, detached)

    def migrate_instance(self, instance_id: str, dest: Node, done: Done) -> None:
        """ncMigrateInstances: live-migrate a running instance to ``dest`` through the driver.

        The destination holds the instance's resources from the start (the copy needs
        them); the source releases them when the driver reports the copy complete.
        """
        inst = self._get(instance_id)
        migrate = getattr(self.driver, "migrate", None)
        if not isinstance(dest, NodeController):  # a node in another process
            done(Outcome(False, f"{dest.name} is not reachable for live migration"))
            return
        if migrate is None or inst.state is not _RUNNING:
            done(Outcome(False, f"{instance_id} cannot migrate from {self.name}"))
            return
        if instance_id in dest.instances:
            done(Outcome(False, f"{instance_id} already on {dest.name}"))
            return
        self._move(inst, _MIGRATING, f"to {dest.name}")
        now = self.clock.now()
        incoming = NodeInstance(inst.spec, _MIGRATING, now, inst.launch_time, dict(inst.volumes))
        dest.instances[instance_id] = incoming
        dest._hold(inst.spec.resources)

        def migrated(outcome: Outcome) -> None:
            arrived = dest.instances.get(instance_id) is incoming and incoming.state is _MIGRATING
            if inst.state is not _MIGRATING or not outcome.ok or not arrived:
                if arrived:
                    del dest.instances[instance_id]
                    dest._release(inst.spec.resources)
                if inst.state is _MIGRATING:  # roll back: the source keeps running it
                    self._move(inst, _RUNNING, outcome.error)
                done(outcome if not outcome.ok else Outcome(False, "instance went away"))
                return
            del self.instances[instance_id]
            self._release(inst.spec.resources)
            incoming.state = _RUNNING
            incoming.since = dest.clock.now()
            dest.report(InstanceEvent(instance_id, dest.name, _RUNNING, incoming.since,
                                      f"migrated from {self.name}"))
            done(outcome)

        migrate(instance_id, dest.driver, migrated)

    # -- live migration to and from nodes in other processes (the CC carries it) ----------
    def send_instance(self, instance_id: str, dest_name: str, done: Done) -> None:
        """Source side of a migration to a node in another process: the driver copies the
        instance out; then this node forgets it (or keeps running it if the copy failed)."""
        inst = self._get(instance_id)
        send = getattr(self.driver, "send", None)
        if send is None or inst.state is not _RUNNING:
            done(Outcome(False, f"{instance_id} cannot migrate from {self.name}"))
            return
        self._move(inst, _MIGRATING, f"to {dest_name}")

        def sent(outcome: Outcome) -> None:
            if inst.state is not _MIGRATING or not outcome.ok:
                if inst.state is _MIGRATING:  # roll back: this node keeps running it
                    self._move(inst, _RUNNING, outcome.error)
                done(outcome if not outcome.ok else Outcome(False, "instance went away"))
                return
            del self.instances[instance_id]
            self._release(inst.spec.resources)
            done(outcome)

        send(instance_id, sent)

    def receive_instance(self, spec: InstanceSpec, launch_time: float) -> None:
        """Destination side: hold an incoming instance's resources while it is copied in."""
        existing = self.instances.get(spec.instance_id)
        if existing is not None and existing.state is not _TERMINATED:
            raise IllegalTransition(f"{spec.instance_id} already on {self.name}")
        incoming = NodeInstance(spec, _MIGRATING, self.clock.now(), launch_time,
                                {b.volume_id: b for b in spec.block_devices if b.volume_id})
        self.instances[spec.instance_id] = incoming
        self._hold(spec.resources)

    def finish_receive(self, instance_id: str, ok: bool, source: str) -> None:
        """The copy ended: the incoming instance runs here, or is dropped."""
        inst = self.instances.get(instance_id)
        if inst is None or inst.state is not _MIGRATING:
            return
        if not ok:
            del self.instances[instance_id]
            self._release(inst.spec.resources)
            return
        receive = getattr(self.driver, "receive", None)
        if receive is not None:
            receive(inst.spec)
        inst.state = _RUNNING
        inst.since = self.clock.now()
        self.report(InstanceEvent(instance_id, self.name, _RUNNING, inst.since,
                                  f"migrated from {source}"))

    def crash(self, reason: str = "node failure") -> list[str]:
        """The node's hardware failed: every instance on it is lost (FAILED, then TERMINATED)."""
        lost = [iid for iid, i in self.instances.items() if i.state is not _TERMINATED]
        for iid in lost:
            inst = self.instances[iid]
            if inst.state is not _FAILED:
                if _FAILED not in TRANSITIONS[inst.state]:
                    inst.state = _FAILED  # shutting down when the node died: same end
                else:
                    self._move(inst, _FAILED, reason)
            self._move(inst, _TERMINATED, reason)
        return lost

    def set_load(self, instance_id: str, load: dict[str, float]) -> None:
        """Hand an instance's modelled load to a driver that models load (virtual)."""
        setter = getattr(self.driver, "set_load", None)
        if setter is not None and instance_id in self.instances:
            setter(instance_id, load)

    def sensor_samples(self, seconds: float) -> dict[str, Sample]:
        """DescribeSensors: a sample of each running instance over ``seconds``, from
        drivers that measure or model (empty for those that do not)."""
        sense = getattr(self.driver, "sensor_sample", None)
        if sense is None:
            return {}
        out: dict[str, Sample] = {}
        for iid, inst in self.instances.items():
            if inst.state is _RUNNING:
                got = sense(iid, seconds)
                if got is not None:
                    out[iid] = got
        return out

    def console_output(self, instance_id: str) -> bytes:
        """The instance's console text."""
        self._get(instance_id)
        return self.driver.console_output(instance_id)

    def describe_instances(self) -> list[InstanceReport]:
        """ncDescribeInstances: every instance this node knows."""
        self._purge()
        return [InstanceReport(i.spec.instance_id, i.state, i.spec.vm_type, i.spec.resources,
                               i.launch_time, self.name, tuple(i.volumes))
                for i in self.instances.values()]

    def _get(self, instance_id: str) -> NodeInstance:
        inst = self.instances.get(instance_id)
        if inst is None:
            raise KeyError(instance_id)
        return inst


def _satisfies_port(nc: NodeController) -> Node:
    """Type check only: a NodeController is a Node (mypy verifies the Protocol here)."""
    return nc
