"""AWS/ELB metrics from the data plane's counters, and access logs into Walrus.

Each minute of the cloud's clock every balancer's counters are read (HAProxy's
``show stat``) and their growth published as RequestCount, HTTPCode_Backend_2XX..5XX,
HTTPCode_ELB_5XX, Latency and SurgeQueueLength, with HealthyHostCount and
UnHealthyHostCount from DescribeInstanceHealth's verdicts, by ``LoadBalancerName``.

Access-log entries (ELB's classic format) are collected from the data plane and written
every EmitInterval minutes (5 or 60) as one object per balancer and interval, under
``PREFIX/AWSLogs/ACCOUNT/elasticloadbalancing/REGION/YYYY/MM/DD/``; the cloud key
``elb_log_minute_seconds`` shortens the minute for tests.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
import time
from typing import TYPE_CHECKING, Any

from server.ports.loadbalancer import Traffic

if TYPE_CHECKING:
    from server.elb.component import ELB
    from server.elb.model import LoadBalancer

log = logging.getLogger(__name__)

NAMESPACE = "AWS/ELB"
METRICS_EVERY = 60.0


def growth(prev: Traffic | None, cur: Traffic) -> Traffic:
    """The counts of ``cur`` since ``prev`` (requests, backend codes, ELB 5xx); all of
    ``cur`` where its counters restarted from zero (a new HAProxy worker: start or reload)."""
    restarted = prev is None or prev.generation != cur.generation

    def grown(a: int, b: int | None) -> int:
        return a if restarted or b is None or a < b else a - b

    return Traffic(
        grown(cur.requests, prev.requests if prev else None),
        {code: grown(n, prev.backend_codes.get(code) if prev else None)
         for code, n in cur.backend_codes.items()},
        grown(cur.elb_5xx, prev.elb_5xx if prev else None),
        cur.latency, cur.surge_queue, cur.generation)


def _seconds(ms: str) -> str:
    try:
        value = int(ms)
    except ValueError:
        return "-1"
    return "-1" if value < 0 else f"{value / 1000:.6f}"


def elb_entry(when: float, name: str, raw: str) -> str:
    """One HAProxy log line as ELB's access-log entry (times in seconds)."""
    parts = raw.split(" ", 5)
    if len(parts) < 6:
        return ""
    client, backend, tr, tres, td, rest = parts
    if backend.startswith("-") or backend.startswith("<"):
        backend = "-"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + \
        f".{int(when * 1e6) % 1_000_000:06d}Z"
    return " ".join((stamp, name, client, backend, _seconds(tr), _seconds(tres),
                     _seconds(td), rest))


class Telemetry:
    """Publishes every balancer's metrics and access logs on the ELB component's tick."""

    def __init__(self, elb: ELB):
        self.elb = elb
        self.cloud = elb.cloud
        self._last: dict[str, Traffic] = {}
        self._next_metrics = 0.0
        #: balancer key -> (interval start, entries waiting)
        self._logs: dict[str, tuple[float, list[str]]] = {}

    def tick(self) -> None:
        """Collect logs; publish metrics each minute; write logs each interval."""
        now = self.cloud.clock.now()
        for lb in list(self.elb.balancers.values()):
            self._collect(lb, now)
        if now >= self._next_metrics:
            if self._next_metrics:
                self.publish(now)
            self._next_metrics = now + METRICS_EVERY

    # -- metrics --------------------------------------------------------------------------
    def publish(self, now: float) -> None:
        """One minute's datapoints of every balancer."""
        watch = self.cloud.components.get("cloudwatch")
        if watch is None:
            return
        from server.cloudwatch.metrics import store_datums

        by_account: dict[str, list[Any]] = {}
        for lb in list(self.elb.balancers.values()):
            by_account.setdefault(lb.account_id, []).extend(self.datums(lb, now))
        for account, datums in by_account.items():
            if datums:
                store_datums(watch, account, NAMESPACE, datums, now)

    def datums(self, lb: LoadBalancer, now: float) -> list[Any]:
        """The balancer's datapoints for the minute ending now."""
        key = self.elb.key(lb)
        ts = now - METRICS_EVERY
        dims = (("LoadBalancerName", lb.name),)
        states = self.elb.health(lb)
        healthy = sum(1 for s in states if s["State"] == "InService")
        out: list[Any] = [
            ("HealthyHostCount", dims, ts, "Count", 60, [(float(healthy), 1.0)], None),
            ("UnHealthyHostCount", dims, ts, "Count", 60,
             [(float(len(states) - healthy), 1.0)], None)]
        cur = self.elb.plane.traffic(key)
        if cur is None:
            return out
        new = growth(self._last.get(key), cur)
        self._last[key] = cur
        if new.requests:
            out.append(("RequestCount", dims, ts, "Count", 60, [(float(new.requests), 1.0)],
                        None))
            out.append(("Latency", dims, ts, "Seconds", 60, [(cur.latency, 1.0)], None))
        for code, n in new.backend_codes.items():
            if n:
                out.append((f"HTTPCode_Backend_{code}", dims, ts, "Count", 60,
                            [(float(n), 1.0)], None))
        if new.elb_5xx:
            out.append(("HTTPCode_ELB_5XX", dims, ts, "Count", 60, [(float(new.elb_5xx), 1.0)],
                        None))
        out.append(("SurgeQueueLength", dims, ts, "Count", 60, [(float(cur.surge_queue), 1.0)],
                    None))
        return out

    # -- access logs ----------------------------------------------------------------------
    def _collect(self, lb: LoadBalancer, now: float) -> None:
        key = self.elb.key(lb)
        raw = self.elb.plane.take_access_log(key)
        access = lb.attributes["AccessLog"]
        if not access["Enabled"] or not access.get("S3BucketName"):
            self._logs.pop(key, None)
            return
        start, entries = self._logs.get(key, (now, []))
        entries.extend(e for e in (elb_entry(now, lb.name, r) for r in raw) if e)
        minute = float(self.cloud.config.cloud.get("elb_log_minute_seconds", 60.0))
        if now - start >= int(access["EmitInterval"]) * minute:
            if entries:
                self.write_log(lb, now, entries)
            self._logs[key] = (now, [])
        else:
            self._logs[key] = (start, entries)

    def write_log(self, lb: LoadBalancer, now: float, entries: list[str]) -> str:
        """Write one interval's entries as an object; its key."""
        access = lb.attributes["AccessLog"]
        walrus: Any = self.cloud.components.get("walrus")
        if walrus is None:
            return ""
        region = self.cloud.config.cloud["region"]
        t = time.gmtime(now)
        prefix = str(access.get("S3BucketPrefix") or "").strip("/")
        key = (f"{prefix + '/' if prefix else ''}AWSLogs/{lb.account_id}/elasticloadbalancing/"
               f"{region}/{time.strftime('%Y/%m/%d', t)}/{lb.account_id}_elasticloadbalancing_"
               f"{region}_{lb.name}_{time.strftime('%Y%m%dT%H%MZ', t)}_{lb.address}_"
               f"{secrets.token_hex(4)}.log")
        fd, path = tempfile.mkstemp(prefix="elb-log-")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write("\n".join(entries) + "\n")
            walrus.put_object_from_file(access["S3BucketName"], key, path, "text/plain")
        except Exception:
            log.exception("balancer %s: cannot write its access log", lb.name)
            return ""
        finally:
            os.unlink(path)
        return key
