"""CloudWatch benchmark, side by side with moto_server in one run (boto3: AWS JSON 1.0).

Prints: PutMetricData datapoints per second in batches of 20 and of 1,000 values;
GetMetricStatistics over one day of 1-minute data for one metric; and over 1,000
instances' CPUUtilization aggregated by InstanceType (one day of 5-minute samples, the
aggregate published alongside each instance's metric, as CloudWatch's EC2 aggregates
are).  Query figures are the median client latency and the server's CPU time per call.

    .venv/bin/python benchmarks/cloudwatch_bench.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import time
from typing import Any

import boto3
from botocore.config import Config
from harness import Served, start_cloud, start_moto

UTC = dt.UTC


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client(server: Served, path: str) -> Any:
    """A boto3 CloudWatch client for ``server``."""
    return boto3.client("cloudwatch", endpoint_url=f"http://127.0.0.1:{server.port}{path}",
                        region_name="us-east-1", aws_access_key_id=server.key,
                        aws_secret_access_key=server.secret,
                        config=Config(retries={"max_attempts": 1}))


def put_rate(cw: Any, batch: int, seconds: float) -> float:
    """Datapoints per second for PutMetricData calls of ``batch`` single-value datums."""
    rng = random.Random(1)
    sent = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        cw.put_metric_data(Namespace="Bench", MetricData=[
            {"MetricName": "Put", "Dimensions": [{"Name": "Batch", "Value": str(batch)}],
             "Value": rng.random() * 100} for _ in range(batch)])
        sent += batch
    return sent / (time.perf_counter() - t0)


def timed(server: Served, call: Any, repeat: int = 7) -> tuple[float, float]:
    """Median client milliseconds and server CPU milliseconds per call."""
    call()  # warm
    lat = []
    cpu0 = cpu_seconds(server.proc.pid)
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        lat.append(time.perf_counter() - t0)
    cpu = (cpu_seconds(server.proc.pid) - cpu0) / repeat
    return statistics.median(lat) * 1000, cpu * 1000


def load_day(cw: Any, now: dt.datetime) -> None:
    """One day of 1-minute data for one metric (1,440 datapoints)."""
    start = now - dt.timedelta(days=1)
    items = [{"MetricName": "Day", "Timestamp": start + dt.timedelta(minutes=i),
              "Value": float(i % 97)} for i in range(1440)]
    for k in range(0, len(items), 1000):
        cw.put_metric_data(Namespace="Bench", MetricData=items[k:k + 1000])


def load_fleet(cw: Any, now: dt.datetime, instances: int = 1000) -> None:
    """1,000 instances' CPU over one day every 5 minutes: the InstanceType aggregate
    (the values of every instance per sample) and each instance's last hour."""
    rng = random.Random(7)
    start = now - dt.timedelta(days=1)
    agg = []
    for step in range(288):
        ts = start + dt.timedelta(minutes=5 * step)
        values = [round(rng.random() * 100, 1) for _ in range(instances)]
        for k in range(0, instances, 150):
            agg.append({"MetricName": "CPUUtilization", "Timestamp": ts, "Unit": "Percent",
                        "Dimensions": [{"Name": "InstanceType", "Value": "m1.small"}],
                        "Values": values[k:k + 150]})
    for k in range(0, len(agg), 500):
        cw.put_metric_data(Namespace="Bench/EC2", MetricData=agg[k:k + 500])
    own = [{"MetricName": "CPUUtilization", "Timestamp": now - dt.timedelta(minutes=5 * s),
            "Unit": "Percent", "Value": rng.random() * 100,
            "Dimensions": [{"Name": "InstanceId", "Value": f"i-{n:08x}"},
                           {"Name": "InstanceType", "Value": "m1.small"}]}
           for n in range(instances) for s in range(1, 13)]
    for k in range(0, len(own), 1000):
        cw.put_metric_data(Namespace="Bench/EC2", MetricData=own[k:k + 1000])


def main() -> None:
    """Run every figure on both servers and print them side by side."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="seconds per put figure")
    args = ap.parse_args()
    rows: dict[str, dict[str, str]] = {}
    servers = {"eucalyptus": start_cloud(), "moto_server": start_moto()}
    try:
        for name, server in servers.items():
            cw = client(server, "/services/CloudWatch" if name == "eucalyptus" else "/")
            now = dt.datetime.now(UTC).replace(second=0, microsecond=0)
            for batch in (20, 1000):
                rows.setdefault(f"PutMetricData datapoints/s (batches of {batch})", {})[name] = (
                    f"{put_rate(cw, batch, args.seconds):,.0f}")
            load_day(cw, now)
            lat, cpu = timed(server, lambda cw=cw, now=now: cw.get_metric_statistics(
                Namespace="Bench", MetricName="Day", StartTime=now - dt.timedelta(days=1),
                EndTime=now, Period=60, Statistics=["Average", "Maximum", "SampleCount"]))
            rows.setdefault("GetMetricStatistics 1 day of 1-min data: ms (server CPU ms)",
                            {})[name] = f"{lat:.1f} ({cpu:.1f})"
            t0 = time.perf_counter()
            load_fleet(cw, now)
            rows.setdefault("load 1,000 instances x 1 day (s)", {})[name] = (
                f"{time.perf_counter() - t0:.1f}")
            lat, cpu = timed(server, lambda cw=cw, now=now: cw.get_metric_statistics(
                Namespace="Bench/EC2", MetricName="CPUUtilization",
                Dimensions=[{"Name": "InstanceType", "Value": "m1.small"}],
                StartTime=now - dt.timedelta(days=1), EndTime=now, Period=300,
                Statistics=["Average", "Maximum"], Unit="Percent"))
            rows.setdefault("CPUUtilization by InstanceType, 1,000 instances, 1 day: ms "
                            "(server CPU ms)", {})[name] = f"{lat:.1f} ({cpu:.1f})"
            lat, cpu = timed(server, lambda cw=cw, now=now: cw.get_metric_statistics(
                Namespace="Bench/EC2", MetricName="CPUUtilization",
                Dimensions=[{"Name": "InstanceType", "Value": "m1.small"}],
                StartTime=now - dt.timedelta(days=1), EndTime=now, Period=3600,
                ExtendedStatistics=["p90"]), repeat=3)
            rows.setdefault("  same, p90 per hour: ms (server CPU ms)", {})[name] = (
                f"{lat:.1f} ({cpu:.1f})")
    finally:
        for server in servers.values():
            server.stop()
    width = max(len(k) for k in rows)
    print(f"{'':{width}}  {'eucalyptus':>16}  {'moto_server':>16}")
    for key, vals in rows.items():
        print(f"{key:{width}}  {vals.get('eucalyptus', '-'):>16}  {vals.get('moto_server', '-'):>16}")


if __name__ == "__main__":
    main()
