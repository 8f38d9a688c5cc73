"""Metrics of Application and Network Load Balancers from the data plane's counters.

Each minute of the cloud's clock: per target group (dimensions ``TargetGroup`` and
``LoadBalancer``, AWS's ``targetgroup/NAME/ID`` and ``app/NAME/ID``) HealthyHostCount and
UnHealthyHostCount from DescribeTargetHealth's verdicts; per application balancer
(``LoadBalancer``) the growth of RequestCount, HTTPCode_Target_2XX..5XX_Count,
HTTPCode_ELB_5XX_Count and TargetResponseTime, in ``AWS/ApplicationELB`` (network
balancers: ``AWS/NetworkELB``, host counts only).
"""

from __future__ import annotations

import gzip
import logging
import os
import secrets
import tempfile
import time
from typing import TYPE_CHECKING, Any

from server.elb.telemetry import elb_entry, growth
from server.ports.loadbalancer import Traffic

if TYPE_CHECKING:
    from server.elbv2.component import ELBv2
    from server.elbv2.model import AppLoadBalancer

log = logging.getLogger(__name__)

METRICS_EVERY = 60.0
#: Minutes between an application balancer's access-log objects (AWS: 5).
LOG_MINUTES = 5
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
        #: balancer key -> (interval start, entries waiting)
        self._logs: dict[str, tuple[float, list[str]]] = {}

    def tick(self) -> None:
        """Collect access logs (written every 5 minutes); publish the minute's
        datapoints when a minute has passed."""
        now = self.v2.cloud.clock.now()
        for lb in list(self.v2.lbs.values()):
            self._collect(lb, now)
        if now < self._next:
            return
        if self._next:
            self.publish(now)
        self._next = now + METRICS_EVERY

    # -- access logs ----------------------------------------------------------------------
    def _collect(self, lb: AppLoadBalancer, now: float) -> None:
        key = self.v2.key(lb)
        raw = self.v2.elb.plane.take_access_log(key)
        bucket = lb.attributes.get("access_logs.s3.bucket", "")
        if lb.attributes.get("access_logs.s3.enabled") != "true" or not bucket:
            self._logs.pop(key, None)
            return
        start, entries = self._logs.get(key, (now, []))
        groups = {f"tg-{arn.rsplit('/', 1)[-1]}": arn for arn in self.v2.groups_used(lb)}
        entries.extend(e for e in (alb_entry(now, dimension(lb.arn), r, groups) for r in raw)
                       if e)
        minute = float(self.v2.cloud.config.cloud.get("elb_log_minute_seconds", 60.0))
        if now - start >= LOG_MINUTES * minute:
            if entries:
                self.write_log(lb, now, entries)
            self._logs[key] = (now, [])
        else:
            self._logs[key] = (start, entries)

    def write_log(self, lb: AppLoadBalancer, now: float, entries: list[str]) -> str:
        """Write one interval's entries as a gzip object, named as AWS names them; its key."""
        walrus: Any = self.v2.cloud.components.get("walrus")
        if walrus is None:
            return ""
        region = self.v2.cloud.config.cloud["region"]
        t = time.gmtime(now)
        prefix = lb.attributes.get("access_logs.s3.prefix", "").strip("/")
        name = dimension(lb.arn).replace("/", ".")
        key = (f"{prefix + '/' if prefix else ''}AWSLogs/{lb.account_id}/elasticloadbalancing/"
               f"{region}/{time.strftime('%Y/%m/%d', t)}/{lb.account_id}_elasticloadbalancing_"
               f"{region}_{name}_{time.strftime('%Y%m%dT%H%MZ', t)}_{lb.address}_"
               f"{secrets.token_hex(4)}.log.gz")
        fd, path = tempfile.mkstemp(prefix="alb-log-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(gzip.compress(("\n".join(entries) + "\n").encode()))
            walrus.put_object_from_file(lb.attributes["access_logs.s3.bucket"], key, path,
                                        "application/x-gzip")
        except Exception:
            log.exception("balancer %s: cannot write its access log", lb.name)
            return ""
        finally:
            os.unlink(path)
        return key

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
        new = growth(self._last.get(key), cur)
        self._last[key] = cur
        lb_dims = (lb_dim,)
        if new.requests:
            out += [("RequestCount", lb_dims, ts, "Count", 60, [(float(new.requests), 1.0)],
                     None),
                    ("TargetResponseTime", lb_dims, ts, "Seconds", 60, [(cur.latency, 1.0)],
                     None)]
        for code, n in new.backend_codes.items():
            if n:
                out.append((f"HTTPCode_Target_{code}_Count", lb_dims, ts, "Count", 60,
                            [(float(n), 1.0)], None))
        if new.elb_5xx:
            out.append(("HTTPCode_ELB_5XX_Count", lb_dims, ts, "Count", 60,
                        [(float(new.elb_5xx), 1.0)], None))
        return out


def alb_entry(when: float, balancer: str, raw: str, groups: dict[str, str]) -> str:
    """One HAProxy log line (``TYPE`` then the classic fields and the backend) as an
    Application Load Balancer's access-log entry: ``type time elb client:port
    target:port request_time target_time response_time elb_status target_status
    received sent "request" "user_agent" ssl_cipher ssl_protocol target_group_arn``."""
    kind, _, rest = raw.partition(" ")
    body, _, backend = rest.rpartition(" ")
    line = elb_entry(when, balancer, body)
    if not line:
        return ""
    return f"{kind} {line} {groups.get(backend, '-')}"
