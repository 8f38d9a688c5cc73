#!/usr/bin/env python3
"""Auto Scaling: seconds from a policy's execution (what an alarm action does) to the
new instances running, against the same cloud's RunInstances until running (the floor)
and moto_server (which records instances at once and boots nothing).

Usage: ``python benchmarks/autoscaling_bench.py [--count N] [--runs R]``.  The cloud runs
with its defaults (one zone, virtual hypervisor, ``boot_seconds = 1``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import boto3
from botocore.config import Config
from harness import Served, start_cloud, start_moto


def clients(served: Served, moto: bool) -> tuple[Any, Any]:
    """(autoscaling, ec2) boto3 clients for a server."""
    base = f"http://127.0.0.1:{served.port}"
    kw = dict(region_name="us-east-1", aws_access_key_id=served.key,
              aws_secret_access_key=served.secret, config=Config(retries={"max_attempts": 1}))
    asg = boto3.client("autoscaling", endpoint_url=base + ("" if moto else "/services/AutoScaling"),
                       **kw)
    ec2 = boto3.client("ec2", endpoint_url=base + ("" if moto else "/services/compute"), **kw)
    return asg, ec2


def running(ec2: Any, ids: list[str]) -> int:
    """How many of ``ids`` run."""
    if not ids:
        return 0
    resp = ec2.describe_instances(InstanceIds=ids)
    return sum(1 for r in resp["Reservations"] for i in r["Instances"]
               if i["State"]["Name"] == "running")


def policy_to_running(asg: Any, ec2: Any, name: str, count: int, zone: str) -> float:
    """Create a group of 0, execute a +count policy, wait until count instances run."""
    image = ec2.describe_images()["Images"][0]["ImageId"]
    asg.create_launch_configuration(LaunchConfigurationName=name, ImageId=image,
                                    InstanceType="m1.small")
    asg.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName=name,
                                  MinSize=0, MaxSize=count, DesiredCapacity=0,
                                  AvailabilityZones=[zone])
    asg.put_scaling_policy(AutoScalingGroupName=name, PolicyName="out",
                           AdjustmentType="ChangeInCapacity", ScalingAdjustment=count)
    start = time.perf_counter()
    asg.execute_policy(AutoScalingGroupName=name, PolicyName="out")
    while True:
        members = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
            "AutoScalingGroups"][0]["Instances"]
        ids = [m["InstanceId"] for m in members]
        if len(ids) == count and running(ec2, ids) == count:
            elapsed = time.perf_counter() - start
            asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
            while asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
                    "AutoScalingGroups"] and time.perf_counter() - start < 120:
                time.sleep(0.1)
            return elapsed
        if time.perf_counter() - start > 120:
            raise RuntimeError("scale-out did not finish in 120 s")
        time.sleep(0.02)


def run_to_running(ec2: Any, count: int) -> float:
    """RunInstances(count) until every instance runs."""
    image = ec2.describe_images()["Images"][0]["ImageId"]
    start = time.perf_counter()
    resp = ec2.run_instances(ImageId=image, MinCount=count, MaxCount=count,
                             InstanceType="m1.small")
    ids = [i["InstanceId"] for i in resp["Instances"]]
    while running(ec2, ids) < count:
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    ec2.terminate_instances(InstanceIds=ids)
    return elapsed


def main() -> None:
    """Print the figures side by side."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    cloud = start_cloud()
    try:
        asg, ec2 = clients(cloud, moto=False)
        zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
        ours = [policy_to_running(asg, ec2, f"b{n}", args.count, zone) for n in range(args.runs)]
        floor = [run_to_running(ec2, args.count) for _ in range(args.runs)]
    finally:
        cloud.stop()
    moto_fig = "n/a"
    try:
        moto = start_moto()
        try:
            masg, mec2 = clients(moto, moto=True)
            figures = [policy_to_running(masg, mec2, f"m{n}", args.count, "us-east-1a")
                       for n in range(args.runs)]
            moto_fig = f"{statistics.median(figures):.3f}"
        finally:
            moto.stop()
    except Exception as exc:  # moto's Auto Scaling is optional here
        moto_fig = f"n/a ({type(exc).__name__})"
    label1 = f"ExecutePolicy +{args.count} until all running, median of {args.runs} (s)"
    label2 = f"RunInstances({args.count}) until all running, same cloud (s)"
    print(f"{'':58s} {'eucalyptus':>10s} {'moto':>10s}")
    print(f"{label1:58s} {statistics.median(ours):10.3f} {moto_fig:>10s}")
    print(f"{label2:58s} {statistics.median(floor):10.3f}")
    print("(the virtual hypervisor boots in boot_seconds = 1; moto boots nothing)")


if __name__ == "__main__":
    main()
