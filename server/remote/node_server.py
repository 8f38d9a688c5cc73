"""The Node port served over HTTP by a node's own process (``--components nc``).

:class:`NodeService` wraps a :class:`~server.nc.node.NodeController`: its reports go to
an event log the CC collects with each poll (``/node/state``, with the events after the
CC's cursor), and the specs of the instances it runs are kept in the node's data
directory, so that a node process that restarts (a crash, ``kill -9``) re-creates its
instances, as an NC re-discovers its domains from libvirt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
from collections import deque
from collections.abc import Callable
from typing import Any

from server.nc.node import IllegalTransition, NodeController
from server.nc.types import InstanceEvent, InstanceState, Outcome
from server.remote import wire
from server.remote.http import Handler, RemoteError
from server.util import atomic_write

log = logging.getLogger(__name__)

#: Events kept for a CC that polls late (older ones are dropped; the state still shows).
EVENT_LOG = 10000
STATE_FILE = "node-instances.json"


class NodeService:
    """One NC behind signed HTTP: its operations and its polled state."""

    def __init__(self, nc: NodeController, data_dir: str):
        self.nc = nc
        self.data_dir = data_dir
        #: Changes with every process start, so a CC resets its event cursor.
        self.epoch = secrets.token_hex(8)
        self.seq = 0
        self.events: deque[tuple[int, InstanceEvent]] = deque(maxlen=EVENT_LOG)
        nc.report = self._report
        self._dirty = False
        self._batching = False

    # -- persistence ------------------------------------------------------------------
    @property
    def state_path(self) -> str:
        """Where the node keeps the specs of the instances it runs."""
        return os.path.join(self.data_dir, STATE_FILE)

    def restore(self) -> list[str]:
        """Re-create the instances the node ran before it stopped; their ids."""
        try:
            with open(self.state_path, encoding="utf-8") as fh:
                saved = json.load(fh)
        except FileNotFoundError:
            return []
        except ValueError as exc:  # kept aside for the admin; the node starts empty
            log.error("node %s: %s is unreadable (%s); moved to %s.bad", self.nc.name,
                      self.state_path, exc, self.state_path)
            os.replace(self.state_path, self.state_path + ".bad")
            return []
        restored = []
        for raw in saved.get("instances", []):
            spec = wire.to_spec(_unjson(raw))
            if spec.instance_id not in self.nc.instances:
                self.nc.run_instance(spec)
                restored.append(spec.instance_id)
        if restored:
            log.info("node %s: re-created %d instance(s) it ran before", self.nc.name,
                     len(restored))
        return restored

    def _save(self) -> None:
        self._dirty = False
        live = [_json(wire.spec(i.spec)) for i in self.nc.instances.values()
                if i.state is not InstanceState.TERMINATED]
        atomic_write(self.state_path, json.dumps({"instances": live}).encode(), mode=0o600)

    def _report(self, event: InstanceEvent) -> None:
        self.seq += 1
        self.events.append((self.seq, event))
        if event.state is InstanceState.STAGING or event.state is InstanceState.TERMINATED:
            if self._batching:
                self._dirty = True  # one write at the end of the batch
            else:
                self._save()  # before the CC can learn of it: nothing acknowledged is lost

    def batch_hooks(self) -> tuple[Callable[[], None], Callable[[], None]]:
        """(begin, end) of a batch of operations: the instances are written once, at the end."""
        def begin() -> None:
            self._batching = True

        def end() -> None:
            self._batching = False
            if self._dirty:
                self._save()

        return begin, end

    # -- operations --------------------------------------------------------------------
    def routes(self) -> dict[str, Handler]:
        """Path -> handler of every Node operation."""
        return {
            "/node/state": self.state,
            "/node/run": self.run,
            "/node/terminate": lambda r: self.nc.terminate_instance(str(r["instance_id"])),
            "/node/reboot": lambda r: self._known(r, self.nc.reboot_instance),
            "/node/console": lambda r: self._known(r, self.nc.console_output),
            "/node/attach": self.attach,
            "/node/detach": self.detach,
            "/node/crash": lambda r: self.nc.crash(str(r.get("reason", "node failure"))),
            "/node/set_load": lambda r: self.nc.set_load(
                str(r["instance_id"]), {str(k): float(v) for k, v in r["load"].items()}),
            "/node/sensors": lambda r: {
                iid: {m: list(v) for m, v in sample.items()}
                for iid, sample in self.nc.sensor_samples(float(r["seconds"])).items()},
            "/node/enabled": self.set_enabled,
            "/node/migrate_in": self.migrate_in,
            "/node/migrate_out": self.migrate_out,
            "/node/migrate_finish": self.migrate_finish,
        }

    def state(self, request: Any) -> dict[str, Any]:
        """ncDescribeResource + ncDescribeInstances + the events after the caller's cursor."""
        after = int(request.get("after", 0)) if request.get("epoch") == self.epoch else 0
        return {
            "epoch": self.epoch, "seq": self.seq, "name": self.nc.name,
            "capacity": wire.resources(self.nc.capacity),
            "available": wire.resources(self.nc.available()),
            "enabled": self.nc.enabled,
            "instances": [[wire.spec(i.spec), i.state.value, i.since]
                          for i in self.nc.instances.values()],
            "events": [wire.event(e) for seq, e in self.events if seq > after],
        }

    def run(self, request: Any) -> None:
        """ncRunInstance (a repeated request for an instance already here is a no-op)."""
        spec = wire.to_spec(request["spec"])
        existing = self.nc.instances.get(spec.instance_id)
        if existing is not None and existing.state is not InstanceState.TERMINATED:
            return
        self.nc.run_instance(spec)

    def _known(self, request: Any, op: Any) -> Any:
        try:
            return op(str(request["instance_id"]))
        except KeyError:
            raise RemoteError(f"{request['instance_id']} is not on {self.nc.name}",
                              "InstanceNotFound") from None

    async def attach(self, request: Any) -> list[Any]:
        """ncAttachVolume; answers when the driver is done."""
        done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._known(request, lambda iid: self.nc.attach_volume(
            iid, wire.to_device(request["device"]), done.set_result))
        return wire.outcome(await done)

    async def detach(self, request: Any) -> list[Any]:
        """ncDetachVolume; answers when the driver is done."""
        done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._known(request, lambda iid: self.nc.detach_volume(
            iid, str(request["volume_id"]), done.set_result))
        return wire.outcome(await done)

    def migrate_in(self, request: Any) -> None:
        """Destination of a migration: hold the incoming instance's resources."""
        try:
            self.nc.receive_instance(wire.to_spec(request["spec"]),
                                     float(request.get("launch_time", 0.0)))
        except IllegalTransition as exc:
            raise RemoteError(str(exc), "IncorrectInstanceState") from None

    async def migrate_out(self, request: Any) -> list[Any]:
        """Source of a migration: copy the instance out; answers when the copy ended."""
        done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._known(request, lambda iid: self.nc.send_instance(
            iid, str(request["dest"]), done.set_result))
        outcome = await done
        if outcome.ok:
            self._save()
        return wire.outcome(outcome)

    def migrate_finish(self, request: Any) -> None:
        """Destination: the copy ended (``ok``): run the instance here, or drop it."""
        self.nc.finish_receive(str(request["instance_id"]), bool(request["ok"]),
                               str(request.get("source", "")))
        self._save()

    def set_enabled(self, request: Any) -> None:
        """Maintenance mode, as the CC decided it."""
        self.nc.enabled = bool(request["enabled"])


def _json(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec dict made JSON-safe (user data as hex)."""
    return {**spec, "user_data": bytes(spec["user_data"]).hex()}


def _unjson(raw: dict[str, Any]) -> dict[str, Any]:
    return {**raw, "user_data": bytes.fromhex(raw.get("user_data", ""))}
