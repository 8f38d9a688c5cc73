"""Elastic Load Balancing data plane: requests per second and added latency through a
balancer (HAProxy run by the cloud) against direct requests to its instance.

Everything runs in a throw-away network namespace (needs root and haproxy): one virtual
instance whose private address is given to the namespace, a fast responder on it (a
second HAProxy answering ``200 ok`` itself, so the client and the balancer are what is
measured), and clients on keep-alive connections inside the namespace.

    sudo .venv/bin/python benchmarks/elb_throughput.py [--seconds 5] [--clients 4] [--alb]

``--alb`` adds an Application Load Balancer (elbv2) on the same instance: its listener
first tests ``--rules`` path rules that do not match (HAProxy ACLs), then forwards by its
default action, as a balancer with a rule table would.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tests.cloudproc import new_cloud  # noqa: E402
from tests.elb.elb_helpers import config, elb, health, run_instances, wait_for  # noqa: E402
from tests.elb.netns import Namespace, why_not  # noqa: E402

RESPONDER = """
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend f
    bind {address}:8080
    http-request return status 200 content-type text/plain string ok
"""

#: argv: host port seconds; prints {"requests": n, "latencies_us": [sampled]}
CLIENT = textwrap.dedent('''
    import http.client, json, sys, time
    host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    conn = http.client.HTTPConnection(host, port, timeout=10)
    n, lat = 0, []
    end = time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter()
        if t0 >= end:
            break
        conn.request("GET", "/")
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit(f"status {r.status}")
        n += 1
        if n % 10 == 0:
            lat.append((time.perf_counter() - t0) * 1e6)
    print(json.dumps({"requests": n, "latencies_us": lat}))
''')


def measure(ns: Namespace, host: str, port: int, seconds: float,
            clients: int) -> tuple[float, float, float]:
    """(requests/s over all clients, median and p99 latency in microseconds)."""
    script = ns.workdir / "bench_client.py"
    script.write_text(CLIENT)
    procs = [subprocess.Popen(["ip", "netns", "exec", ns.name, sys.executable, str(script),
                               host, str(port), str(seconds)], stdout=subprocess.PIPE)
             for _ in range(clients)]
    total, lat = 0, []
    for p in procs:
        out, _ = p.communicate(timeout=seconds + 60)
        if p.returncode != 0:
            raise RuntimeError(f"client failed against {host}:{port}")
        data = json.loads(out)
        total += data["requests"]
        lat += data["latencies_us"]
    lat.sort()
    return total / seconds, lat[len(lat) // 2], lat[int(len(lat) * 0.99)]


def _alb(cloud: Any, instance_id: str, rules: int, hosts: dict[str, str]) -> str:
    """An ALB forwarding to the instance after ``rules`` non-matching rules; its address
    once the target is healthy."""
    client = cloud.client("elbv2", path="/services/LoadBalancing")
    tg = client.create_target_group(
        Name="bench-tg", Protocol="HTTP", Port=8080, HealthCheckIntervalSeconds=5,
        HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2)["TargetGroups"][0][
            "TargetGroupArn"]
    client.register_targets(TargetGroupArn=tg, Targets=[{"Id": instance_id}])
    lb = client.create_load_balancer(Name="bench-alb")["LoadBalancers"][0]
    li = client.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP",
                                Port=80, DefaultActions=[{"Type": "forward",
                                                          "TargetGroupArn": tg}])
    for n in range(rules):
        client.create_rule(ListenerArn=li["Listeners"][0]["ListenerArn"], Priority=n + 1,
                           Conditions=[{"Field": "path-pattern", "Values": [f"/r{n}/*"]}],
                           Actions=[{"Type": "fixed-response",
                                     "FixedResponseConfig": {"StatusCode": "404"}}])
    wait_for(lambda: client.describe_target_health(TargetGroupArn=tg)[
        "TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "healthy", 60,
        "the ALB's target healthy")
    hosts.update(dict(reversed(line.split()) for line in
                      (Path(cloud.data_dir) / "elb" / "hosts").read_text().splitlines()
                      if line))
    return hosts[lb["DNSName"]]


def main() -> None:
    """Run the comparison and print it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--alb", action="store_true", help="also measure an elbv2 balancer")
    ap.add_argument("--rules", type=int, default=10, help="non-matching rules before the "
                    "ALB's default action")
    args = ap.parse_args()
    reason = why_not()
    if reason:
        raise SystemExit(f"elb_throughput: {reason}")
    work = Path(tempfile.mkdtemp(prefix="elb-bench-"))
    ns = Namespace(work)
    cloud = new_cloud(config(net=81, extra=f'elb_netns = "{ns.name}"'))
    responder = None
    try:
        cloud.start()
        ec2, client = cloud.client("ec2"), elb(cloud)
        inst = run_instances(ec2, "zone-a")[0]
        address = inst["PrivateIpAddress"]
        ns.add_address(address)
        (work / "responder.cfg").write_text(RESPONDER.format(address=address))
        responder = subprocess.Popen(["ip", "netns", "exec", ns.name, "haproxy", "-db", "-f",
                                      str(work / "responder.cfg")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dns = client.create_load_balancer(
            LoadBalancerName="bench", AvailabilityZones=["zone-a"],
            Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP",
                        "InstancePort": 8080}])["DNSName"]
        client.configure_health_check(LoadBalancerName="bench", HealthCheck={
            "Target": "HTTP:8080/", "Interval": 5, "Timeout": 2, "UnhealthyThreshold": 2,
            "HealthyThreshold": 2})
        client.register_instances_with_load_balancer(
            LoadBalancerName="bench", Instances=[{"InstanceId": inst["InstanceId"]}])
        wait_for(lambda: health(client, "bench")[inst["InstanceId"]]["State"] == "InService",
                 60, "the instance InService")
        hosts = dict(reversed(line.split()) for line in
                     (Path(cloud.data_dir) / "elb" / "hosts").read_text().splitlines() if line)
        lb_address = hosts[dns]
        alb_address = _alb(cloud, inst["InstanceId"], args.rules, hosts) if args.alb else ""
        time.sleep(0.5)
        direct = measure(ns, address, 8080, args.seconds, args.clients)
        through = measure(ns, lb_address, 80, args.seconds, args.clients)
        print(f"ELB data plane, {args.clients} keep-alive clients x {args.seconds:g} s "
              "(HTTP GET, 2-byte answers)")
        print(f"{'':34} {'direct':>10} {'via ELB':>10} {'ratio':>7}")
        print(f"{'requests/s':34} {direct[0]:>10,.0f} {through[0]:>10,.0f} "
              f"{through[0] / direct[0]:>6.2f}x")
        print(f"{'median latency (us)':34} {direct[1]:>10,.0f} {through[1]:>10,.0f} "
              f"{through[1] - direct[1]:>+7,.0f}")
        print(f"{'p99 latency (us)':34} {direct[2]:>10,.0f} {through[2]:>10,.0f} "
              f"{through[2] - direct[2]:>+7,.0f}")
        if alb_address:
            alb = measure(ns, alb_address, 80, args.seconds, args.clients)
            print(f"{'':34} {'direct':>10} {'via ALB':>10} {'ratio':>7}  "
                  f"({args.rules} rules before the default)")
            print(f"{'requests/s':34} {direct[0]:>10,.0f} {alb[0]:>10,.0f} "
                  f"{alb[0] / direct[0]:>6.2f}x")
            print(f"{'median latency (us)':34} {direct[1]:>10,.0f} {alb[1]:>10,.0f} "
                  f"{alb[1] - direct[1]:>+7,.0f}")
            print(f"{'p99 latency (us)':34} {direct[2]:>10,.0f} {alb[2]:>10,.0f} "
                  f"{alb[2] - direct[2]:>+7,.0f}")
    finally:
        if responder is not None:
            responder.terminate()
            responder.wait()
        cloud.stop()
        ns.close()


if __name__ == "__main__":
    main()
