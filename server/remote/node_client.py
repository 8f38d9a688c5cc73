"""The CC's proxy of a node in another process: :class:`RemoteNode` satisfies the Node port.

The CC works on what it last learned of each node (as Eucalyptus' CC does: its
``ncDescribeResource``/``ncDescribeInstances`` poll refreshes that view), so the
Protocol's reads (``available()``, ``instances``) answer from the last poll and never
block the control loop.  Operations go out on a per-node worker thread, in order; their
effects come back as events with the next poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.nc.sensors import Sample
from server.nc.types import (
    BlockDevice,
    Done,
    InstanceEvent,
    InstanceReport,
    InstanceSpec,
    InstanceState,
    Outcome,
    Resources,
)
from server.ports.node import Node
from server.remote import wire
from server.remote.http import InternalClient, Outbox, RemoteError, Unreachable

log = logging.getLogger(__name__)

#: Longest a live migration's copy may take (the virtual one copies memory at 62.5 MB/s).
MIGRATION_TIMEOUT = 600.0


@dataclass(slots=True)
class RemoteInstance:
    """One instance as the node's last poll reported it."""

    spec: InstanceSpec
    state: InstanceState
    since: float


@dataclass(slots=True)
class NodeState:
    """One poll's answer, decoded (off the loop)."""

    epoch: str
    seq: int
    capacity: Resources
    available: Resources
    instances: dict[str, RemoteInstance]
    events: list[InstanceEvent]


class RemoteNode:
    """A Node Controller reached over signed HTTP."""

    def __init__(self, name: str, client: InternalClient, loop: asyncio.AbstractEventLoop):
        self.name = name
        self.client = client
        self.loop = loop
        self.capacity = Resources(0, 0, 0)
        self._available = Resources(0, 0, 0)
        self.instances: dict[str, RemoteInstance] = {}
        self.report: Callable[[InstanceEvent], None] = lambda event: None
        self._enabled = True
        self.reachable = False
        self.epoch = ""
        self.seq = 0
        self._outbox = Outbox(client, f"nc-{name}")

    # -- the poll ----------------------------------------------------------------------
    def fetch(self, timeout: float) -> NodeState:
        """ncDescribeResource + ncDescribeInstances + new events (blocking; any thread)."""
        raw = self.client.call("/node/state", {"epoch": self.epoch, "after": self.seq},
                               timeout=timeout)
        instances = {}
        for spec, state, since in raw["instances"]:
            s = wire.to_spec(spec)
            instances[s.instance_id] = RemoteInstance(s, InstanceState(state), float(since))
        return NodeState(str(raw["epoch"]), int(raw["seq"]), wire.to_resources(raw["capacity"]),
                         wire.to_resources(raw["available"]), instances,
                         [wire.to_event(e) for e in raw["events"]])

    def apply(self, state: NodeState) -> None:
        """Take in one poll's answer (on the loop): new view, then its events, in order."""
        self.capacity = state.capacity
        self._available = state.available
        self.instances = state.instances
        self.epoch, self.seq = state.epoch, state.seq
        self.reachable = True
        for event in state.events:
            self.report(event)

    def close(self) -> None:
        """Stop sending."""
        self._outbox.close()

    # -- the Node port -------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        """False in maintenance mode (the CC decides; the node is told)."""
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        if value != self._enabled:
            self._send("/node/enabled", {"enabled": value})
        self._enabled = value

    def available(self) -> Resources:
        """Capacity less what the instances hold, as of the last poll."""
        return self._available

    def _send(self, path: str, payload: dict[str, Any],
              then: Callable[[Any, BaseException | None], None] | None = None) -> None:
        def answered(result: Any, error: BaseException | None) -> None:  # a worker thread
            if error is not None:
                log.warning("node %s: %s failed: %s", self.name, path, error)
            if then is not None:
                self.loop.call_soon_threadsafe(then, result, error)

        self._outbox.send(path, payload, answered)

    def run_instance(self, spec: InstanceSpec) -> None:
        """ncRunInstance (asynchronous; the node reports staging, then running)."""
        self._send("/node/run", {"spec": wire.spec(spec)})

    def terminate_instance(self, instance_id: str) -> None:
        """ncTerminateInstance."""
        self._send("/node/terminate", {"instance_id": instance_id})

    def reboot_instance(self, instance_id: str) -> None:
        """ncRebootInstance."""
        self._send("/node/reboot", {"instance_id": instance_id})

    def console_output(self, instance_id: str) -> bytes:
        """ncGetConsoleOutput (blocking, bounded by the client's timeout)."""
        try:
            return bytes(self.client.call("/node/console", {"instance_id": instance_id}))
        except (Unreachable, RemoteError) as exc:
            log.warning("node %s: console of %s: %s", self.name, instance_id, exc)
            return b""

    def _relay_done(self, done: Done) -> Callable[[Any, BaseException | None], None]:
        def then(result: Any, error: BaseException | None) -> None:
            done(Outcome(False, str(error)) if error is not None else wire.to_outcome(result))
        return then

    def attach_volume(self, instance_id: str, device: BlockDevice, done: Done) -> None:
        """ncAttachVolume."""
        self._send("/node/attach", {"instance_id": instance_id, "device": wire.device(device)},
                   self._relay_done(done))

    def detach_volume(self, instance_id: str, volume_id: str, done: Done) -> None:
        """ncDetachVolume."""
        self._send("/node/detach", {"instance_id": instance_id, "volume_id": volume_id},
                   self._relay_done(done))

    def migrate_instance(self, instance_id: str, dest: Node, done: Done) -> None:
        """ncMigrateInstances between two node processes, carried by the CC: the destination
        holds the resources, the source copies the instance out, the destination runs it
        (or drops it if the copy failed).  ``done`` on the loop when it is over."""
        inst = self.instances.get(instance_id)
        if not isinstance(dest, RemoteNode) or inst is None:
            self.loop.call_soon(done, Outcome(False, f"{instance_id} cannot migrate from "
                                                     f"{self.name} to {dest.name}"))
            return
        spec = inst.spec

        def work() -> Outcome:
            try:
                dest.client.call("/node/migrate_in", {"spec": wire.spec(spec),
                                                      "launch_time": inst.since})
            except (Unreachable, RemoteError) as exc:
                return Outcome(False, f"{dest.name}: {exc}")
            try:
                outcome = wire.to_outcome(self.client.call(
                    "/node/migrate_out", {"instance_id": instance_id, "dest": dest.name},
                    timeout=MIGRATION_TIMEOUT))
            except (Unreachable, RemoteError) as exc:
                outcome = Outcome(False, f"{self.name}: {exc}")
            try:
                dest.client.call("/node/migrate_finish", {"instance_id": instance_id,
                                                          "ok": outcome.ok, "source": self.name})
            except (Unreachable, RemoteError) as exc:
                log.warning("migration of %s: %s did not hear the end: %s", instance_id,
                            dest.name, exc)
            return outcome

        future = self.loop.run_in_executor(None, work)
        future.add_done_callback(lambda f: done(f.result()))

    def crash(self, reason: str = "node failure") -> list[str]:
        """Fail the node's instances (the CC's node-failure path)."""
        lost = [i for i, inst in self.instances.items() if inst.state is not InstanceState.TERMINATED]
        self._send("/node/crash", {"reason": reason})
        return lost

    def set_load(self, instance_id: str, load: dict[str, float]) -> None:
        """An instance's modelled load."""
        self._send("/node/set_load", {"instance_id": instance_id, "load": load})

    def sensor_samples(self, seconds: float) -> dict[str, Sample]:
        """DescribeSensors (blocking, bounded by the client's timeout)."""
        try:
            raw = self.client.call("/node/sensors", {"seconds": seconds})
        except (Unreachable, RemoteError):
            return {}
        return {iid: {m: (float(v[0]), str(v[1])) for m, v in sample.items()}
                for iid, sample in raw.items()}

    def describe_instances(self) -> list[InstanceReport]:
        """ncDescribeInstances, as of the last poll."""
        return [InstanceReport(iid, i.state, i.spec.vm_type, i.spec.resources, i.since,
                               self.name) for iid, i in self.instances.items()]


def _satisfies_port(node: RemoteNode) -> Node:
    """Type check only: a RemoteNode is a Node (mypy verifies the Protocol here)."""
    return node
