#!/usr/bin/env python3
"""eulb-* against awscli: wall time of one command (start-up, signing, request, printing)
for the same load balancing calls on the same endpoint, median of R runs each, alternated.

The endpoint is moto_server (the cloud's load balancing is another component); N balancers
with two listeners each are made first, so describe prints N records.  Usage:
``python benchmarks/eulb_bench.py [--balancers N] [--runs R]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time

import boto3
from harness import BIN, start_moto

CALLS = [
    ("describe balancers",
     ["eulb-describe-lbs"], ["aws", "elb", "describe-load-balancers", "--output", "text"]),
    ("describe balancers, long",
     ["eulb-describe-lbs", "--show-long"], ["aws", "elb", "describe-load-balancers"]),
    ("instance health",
     ["eulb-describe-instance-health", "lb-0"],
     ["aws", "elb", "describe-instance-health", "--load-balancer-name", "lb-0"]),
    ("attributes",
     ["eulb-describe-lb-attributes", "lb-0"],
     ["aws", "elb", "describe-load-balancer-attributes", "--load-balancer-name", "lb-0"]),
    ("create and delete a listener",
     ["eulb-create-lb-listeners", "lb-0", "-l", "protocol=TCP,lb-port=2525,instance-port=25"],
     ["aws", "elb", "create-load-balancer-listeners", "--load-balancer-name", "lb-0",
      "--listeners", "Protocol=TCP,LoadBalancerPort=2525,InstancePort=25"]),
]
# Run after each create so that the next create succeeds the same way.
UNDO = {"create and delete a listener": (
    ["eulb-delete-lb-listeners", "lb-0", "-l", "2525"],
    ["aws", "elb", "delete-load-balancer-listeners", "--load-balancer-name", "lb-0",
     "--load-balancer-ports", "2525"])}


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Seconds one command takes; it must succeed."""
    exe = str(BIN / argv[0])
    start = time.perf_counter()
    subprocess.run([exe, *argv[1:]], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    """Make the balancers, then time each call both ways and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--balancers", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    served = start_moto()
    try:
        url = f"http://127.0.0.1:{served.port}/"
        elb = boto3.client("elb", endpoint_url=url, region_name="us-east-1",
                           aws_access_key_id=served.key, aws_secret_access_key=served.secret)
        for n in range(args.balancers):
            elb.create_load_balancer(LoadBalancerName=f"lb-{n}", AvailabilityZones=["us-east-1a"],
                                     Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80,
                                                 "InstancePort": 8080},
                                                {"Protocol": "TCP", "LoadBalancerPort": 443,
                                                 "InstancePort": 443}])
        with tempfile.TemporaryDirectory() as tmp:
            ini = os.path.join(tmp, "euca2ools.ini")
            with open(ini, "w") as handle:
                handle.write(f"[global]\ndefault-region = bench\n\n[region bench]\n"
                             f"elasticloadbalancing-url = {url}\nname = us-east-1\n"
                             f"user = bench\n\n[user bench]\nkey-id = {served.key}\n"
                             f"secret-key = {served.secret}\n")
            base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EUCA"))}
            # euca2ools reads AWS_DEFAULT_REGION as its region name: awscli alone gets it.
            envs = {"ours": dict(base, EUCA_CONFIG_PATH=ini, HOME=tmp),
                    "theirs": dict(base, HOME=tmp, AWS_ACCESS_KEY_ID=served.key,
                                   AWS_SECRET_ACCESS_KEY=served.secret,
                                   AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=url,
                                   AWS_CONFIG_FILE=os.devnull,
                                   AWS_SHARED_CREDENTIALS_FILE=os.devnull)}
            print(f"moto_server, {args.balancers} balancers, median of {args.runs} runs (seconds)")
            print(f"{'call':32} {'eulb-*':>8} {'aws elb':>8} {'ratio':>6}")
            for label, ours, theirs in CALLS:
                times: dict[str, list[float]] = {"ours": [], "theirs": []}
                for _ in range(args.runs):
                    for side, argv in (("ours", ours), ("theirs", theirs)):
                        times[side].append(timed(argv, envs[side]))
                        if label in UNDO:
                            undo = UNDO[label][0 if side == "ours" else 1]
                            subprocess.run([str(BIN / undo[0]), *undo[1:]], env=envs[side],
                                           check=True,
                                           stdout=subprocess.DEVNULL)
                a, b = statistics.median(times["ours"]), statistics.median(times["theirs"])
                print(f"{label:32} {a:8.3f} {b:8.3f} {b / a:5.1f}x")
    finally:
        served.stop()


if __name__ == "__main__":
    main()
