"""The CC side of guest networking: compute each node's view, push it when it changes.

Eucalyptus' CC broadcast the network view to its nodes every few seconds
(BroadcastNetworkInfo) and eucanetd polled for it; here any change to an instance,
security group or address schedules one recomputation on the control loop, and a node's
applier gets its view only when it differs from the last one it was given.  Real
appliers run on a thread per node that always applies the newest view (views are whole,
so skipping a stale one loses nothing; one that fails is tried again); recording
appliers run inline.

Zones take part when their config says ``network = "edge"``: ``hypervisor = "libvirt"``
zones get :class:`~server.nc.edge.EdgeApplier`, virtual ones a
:class:`~server.net.applier.RecordingApplier`.  Other zones are left alone.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from server.net.applier import NetworkApplier, RecordingApplier
from server.net.view import NodeView, compute_views

if TYPE_CHECKING:
    from server.cloud import Cloud

log = logging.getLogger(__name__)

#: How long a node's pusher waits before it applies a view that failed again.
RETRY_SECONDS = 2.0

#: Record kinds whose changes can change a view.
_RELEVANT = ("instance", "security_group", "address")


class NodePusher:
    """Delivers views to one node's applier: inline, or on a thread that applies the
    newest view it has been given."""

    def __init__(self, applier: NetworkApplier, threaded: bool):
        self.applier = applier
        self.threaded = threaded
        #: The last view the applier finished applying, and when (monotonic seconds).
        self.applied: NodeView | None = None
        self.applied_at = 0.0
        self.errors = 0
        self._latest: NodeView | None = None
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name=f"net-{getattr(applier, 'node', '')}")
            self._thread.start()

    def push(self, view: NodeView) -> None:
        """Hand a new view over (applied now, or as soon as the thread is free)."""
        if not self.threaded:
            self._apply(view)
            return
        with self._cond:
            self._latest = view
            self._cond.notify()

    def _apply(self, view: NodeView) -> bool:
        try:
            self.applier.apply(view)
        except Exception:
            self.errors += 1
            log.exception("network view for %s could not be applied", view.node)
            return False
        self.applied = view
        self.applied_at = time.monotonic()
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._latest is None and not self._closing:
                    self._cond.wait()
                if self._latest is None:
                    return
                view, self._latest = self._latest, None
            if not self._apply(view):
                # Try again (applying converges) unless a newer view comes first.
                with self._cond:
                    if self._latest is None and not self._closing:
                        self._cond.wait(RETRY_SECONDS)
                        if self._latest is None and not self._closing:
                            self._latest = view

    def close(self) -> None:
        """Finish the pending apply, then stop the applier's helpers."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.applier.close()


class NetworkService:
    """Keeps every networked zone's nodes programmed with their current view."""

    def __init__(self, cloud: Cloud):
        self.cloud = cloud
        #: zone -> node -> pusher, for the zones with ``network = "edge"``.
        self.pushers: dict[str, dict[str, NodePusher]] = {}
        self.pushed: dict[tuple[str, str], NodeView] = {}
        self._scheduled = False

    def start(self) -> None:
        """Make the zones' appliers and apply the current state (a restart converges)."""
        from server.metadata import shared_secret
        from server.nc.edge import EdgeApplier, edge_enabled

        for zone in self.cloud.config.zones:
            if not edge_enabled(zone.values):
                continue
            cc = self.cloud.clusters.get(zone.name)
            if cc is None:
                continue
            nodes: dict[str, NodePusher] = {}
            for name in cc.by_name:
                applier: Any
                if zone.hypervisor == "libvirt":
                    applier = EdgeApplier(name, zone.values,
                                          os.path.join(self.cloud.data_dir, "net", name),
                                          self.cloud.url, shared_secret(self.cloud))
                    nodes[name] = NodePusher(applier, threaded=True)
                else:
                    nodes[name] = NodePusher(RecordingApplier(name), threaded=False)
            self.pushers[zone.name] = nodes
        if self.pushers:
            self.cloud.clc.change_listeners.append(self.changed)
            self.recompute()

    def changed(self, record: Any) -> None:
        """A record changed: recompute once this turn of the loop is over."""
        if record.KIND in _RELEVANT and not self._scheduled:
            self._scheduled = True
            self.cloud.clock.call_later(0.0, self.recompute)

    def views(self, zone: str) -> dict[str, NodeView]:
        """The zone's views as the records say now."""
        cfg = self.cloud.config.zones[self.cloud.clc.zone_index(zone)]
        return compute_views(zone, cfg.private_subnet, self.pushers.get(zone, {}),
                             self.cloud.clc.instances.values(), self.cloud.clc.groups)

    def recompute(self) -> None:
        """Push each node the view it does not have yet."""
        self._scheduled = False
        for zone, nodes in self.pushers.items():
            for node, view in self.views(zone).items():
                if self.pushed.get((zone, node)) != view:
                    self.pushed[(zone, node)] = view
                    nodes[node].push(view)

    def stop(self) -> None:
        """Stop the appliers' helpers (the data plane stays for the running guests)."""
        for nodes in self.pushers.values():
            for pusher in nodes.values():
                pusher.close()


def setup(cloud: Cloud) -> None:
    """Register the service; it starts after the clusters are built."""
    service = NetworkService(cloud)
    cloud.components["network"] = service
    cloud.start_hooks.append(service.start)
    cloud.stop_hooks.append(service.stop)
