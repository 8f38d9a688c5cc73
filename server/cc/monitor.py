"""The CC's node health monitor: a node whose hypervisor stops answering leaves scheduling.

Like the NC's monitoring thread (reference §1.3: every 5 s it checks libvirt), the
monitor asks each node's driver, off the control loop, whether its hypervisor answers.
A node that does not is marked DOWN at its CC (its capacity leaves the scheduler and the
resource counts); when it answers again the CC marks it UP and re-reads its capacity.
Drivers without ``check_health`` (the virtual one) are left alone.

A driver may also report which of its domains run.  An instance that was running before
the check began and whose domain no longer runs (the guest powered off, QEMU died) is
terminated through its NC, as an instance-store instance that shuts down is in EC2.  A
running domain whose instance the NC does not run (a terminate that failed while libvirt
was down; a crash between the CLC's termination and the NC's) is destroyed: as the CC's
``unknown_instance_handlers = terminate-done`` does, nothing runs that nobody accounts for.
The first check runs when the cloud starts, after the CLC has restored its instances.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from server.cc.cluster import ClusterController
from server.clock import Clock
from server.nc.types import InstanceState, NodeStatus

if TYPE_CHECKING:
    from server.ports.cluster import Cluster

log = logging.getLogger(__name__)

#: Seconds between health checks (Eucalyptus' NC MONITORING_PERIOD).
MONITORING_PERIOD = 5.0

#: ``report(healthy, running domain names or None)``; drivers may omit the second.
HealthReport = Callable[..., None]


class NodeHealthMonitor:
    """Checks every node's hypervisor on the clock and tells its CC when one is down or back."""

    def __init__(self, clock: Clock, clusters: Mapping[str, Cluster],
                 period: float = MONITORING_PERIOD):
        self.clock = clock
        self.clusters = clusters
        self.period = period
        self.marked_down: set[str] = set()   # nodes this monitor took down (and may bring up)
        self._in_flight: set[str] = set()    # a hung hypervisor gets one check at a time
        self._stopped = False

    def start(self) -> None:
        """Run the first check now and then every ``period`` seconds."""
        self._stopped = False
        self.tick()

    def stop(self) -> None:
        """Stop checking (the pending timer fires once more and does nothing)."""
        self._stopped = True

    def tick(self) -> None:
        """One pass: ask every node that can be asked."""
        if self._stopped:
            return
        for cc in self.clusters.values():
            if not isinstance(cc, ClusterController):
                continue  # a CC in another process checks its own nodes
            for view in cc.nodes:
                check = getattr(getattr(view.nc, "driver", None), "check_health", None)
                if check is None or view.name in self._in_flight:
                    continue
                self._in_flight.add(view.name)
                check(functools.partial(self.report, cc, view.name, self.clock.now()))
        self.clock.call_later(self.period, self.tick)

    def report(self, cc: ClusterController, name: str, asked_at: float, healthy: bool,
               domains: Mapping[str, bool] | None = None) -> None:
        """A node's check (begun at ``asked_at``) finished; on the control loop.

        ``domains`` maps the node's domains to whether they run, if the driver knows.
        """
        self._in_flight.discard(name)
        view = cc.by_name.get(name)
        if view is None:
            return
        if healthy and domains is not None:
            self._reconcile(cc, name, asked_at, domains)
        if not healthy and view.status is not NodeStatus.DOWN:
            log.warning("node %s: hypervisor unreachable; marking it DOWN", name)
            self.marked_down.add(name)
            cc.node_down(name)
        elif healthy and name in self.marked_down:
            # Only nodes this monitor took down come back: a node the CC failed for
            # another reason (node_failed) stays down until that is resolved.
            log.info("node %s: hypervisor answers again; marking it UP", name)
            self.marked_down.discard(name)
            cc.node_up(name)

    def _reconcile(self, cc: ClusterController, name: str, asked_at: float,
                   domains: Mapping[str, bool]) -> None:
        # Only instances already RUNNING when the check began: one that started since
        # may have had no domain yet when the driver listed them.
        nc = cc.by_name[name].nc
        gone = [iid for iid, inst in nc.instances.items()
                if inst.state is InstanceState.RUNNING and inst.since < asked_at
                and not domains.get(iid, False)]
        for iid in gone:
            log.warning("node %s: the domain of %s stopped; terminating it", name, iid)
            nc.terminate_instance(iid)
        live = {iid for iid, inst in nc.instances.items()
                if inst.state is not InstanceState.TERMINATED}
        for iid in sorted(set(domains) - live):
            log.warning("node %s: domain %s has no instance; removing it", name, iid)
            driver = getattr(nc, "driver", None)  # local nodes only (the monitor's)
            if driver is not None:
                driver.stop(iid, lambda outcome: None)
