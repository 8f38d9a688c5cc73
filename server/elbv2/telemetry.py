"""Metrics of Application and Network Load Balancers from the data plane's counters.

Each minute of the cloud's clock: per target group (dimensions ``TargetGroup`` and
``LoadBalancer``, AWS's ``targetgroup/NAME/ID`` and ``app/NAME/ID``) HealthyHostCount and
UnHealthyHostCount from DescribeTargetHealth's verdicts; per application balancer
(``LoadBalancer``) the growth of RequestCount, HTTPCode_Target_2XX..5XX_Count,
HTTPCode_ELB_5XX_Count and TargetResponseTime, in ``AWS/ApplicationELB`` (network
balancers: ``AWS/NetworkELB``, host counts only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.ports.loadbalancer import Traffic

if TYPE_CHECKING:
    from server.elbv2.component import ELBv2
    from server.elbv2.model import AppLoadBalancer

METRICS_EVERY = 60.0
NAMESPACES = {"application": "AWS/ApplicationELB", "network": "AWS/NetworkELB"}


def dimension(arn: str) -> str:
    """AWS's dimension value of a balancer or group: the ARN's resource after its type
    (``app/NAME/ID``, ``targetgroup/NAME/ID``)."""
    resource = arn.split(":", 5)[-1]
    return resource.split("/", 1)[1] if resource.startswith("loadbalancer/") else resource


class Telemetry:
    """Publishes every elbv2 balancer's datapoints once a minute (called on the
    component's tick)."""

    def __init__(self, v2: ELBv2):
        self.v2 = v2
        self._last: dict[str, Traffic] = {}
        self._next = 0.0

    def tick(self) -> None:
        """Publish the minute's datapoints when a minute has passed."""
        now = self.v2.cloud.clock.now()
        if now < self._next:
            return
        if self._next:
            self.publish(now)
        self._next = now + METRICS_EVERY

    def publish(self, now: float) -> None:
        """One minute's datapoints of every balancer."""
        watch = self.v2.cloud.components.get("cloudwatch")
        if watch is None:
            return
        from server.cloudwatch.metrics import store_datums

        batches: dict[tuple[str, str], list[Any]] = {}
        for lb in list(self.v2.lbs.values()):
            key = (lb.account_id, NAMESPACES[lb.type])
            batches.setdefault(key, []).extend(self.datums(lb, now))
        for (account, namespace), datums in batches.items():
            if datums:
                store_datums(watch, account, namespace, datums, now)

    def datums(self, lb: AppLoadBalancer, now: float) -> list[Any]:
        """The balancer's datapoints for the minute ending now."""
        ts = now - METRICS_EVERY
        lb_dim = ("LoadBalancer", dimension(lb.arn))
        out: list[Any] = []
        for arn in self.v2.groups_used(lb):
            tg = self.v2.tgs.get(arn)
            if tg is None:
                continue
            states = [d["TargetHealth"]["State"] for d in self.v2.target_health(tg)]
            dims = (lb_dim, ("TargetGroup", dimension(tg.arn)))  # by name, as stored
            healthy = states.count("healthy")
            out += [("HealthyHostCount", dims, ts, "Count", 60, [(float(healthy), 1.0)], None),
                    ("UnHealthyHostCount", dims, ts, "Count", 60,
                     [(float(states.count("unhealthy")), 1.0)], None)]
        if lb.type != "application":
            return out
        key = self.v2.key(lb)
        cur = self.v2.elb.plane.traffic(key)
        if cur is None:
            return out
        prev = self._last.get(key)
        self._last[key] = cur

        def grown(a: int, b: int | None) -> int:
            # Counters start from zero with each HAProxy worker (start or reload).
            if b is None or prev is None or prev.generation != cur.generation or a < b:
                return a
            return a - b

        lb_dims = (lb_dim,)
        requests = grown(cur.requests, prev.requests if prev else None)
        if requests:
            out += [("RequestCount", lb_dims, ts, "Count", 60, [(float(requests), 1.0)], None),
                    ("TargetResponseTime", lb_dims, ts, "Seconds", 60, [(cur.latency, 1.0)],
                     None)]
        for code, count in cur.backend_codes.items():
            n = grown(count, prev.backend_codes.get(code) if prev else None)
            if n:
                out.append((f"HTTPCode_Target_{code}_Count", lb_dims, ts, "Count", 60,
                            [(float(n), 1.0)], None))
        elb5 = grown(cur.elb_5xx, prev.elb_5xx if prev else None)
        if elb5:
            out.append(("HTTPCode_ELB_5XX_Count", lb_dims, ts, "Count", 60, [(float(elb5), 1.0)],
                        None))
        return out
