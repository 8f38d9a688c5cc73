"""Balancer security groups and the DNS service: what filtering costs and how fast a
rule change reaches the data plane.

A cloud with its balancers on the host's loopback (HAProxy ACLs, no root needed; needs
haproxy and dnsmasq) and one balancer without instances (HAProxy answers 503 itself, so
the figures are the balancer's accept path):

- new connections per second (one request each) from one client: no security group
  (ELB's default: nothing to check) side by side with a group of 1 and of 50 CIDRs;
- seconds from AuthorizeSecurityGroupIngress / RevokeSecurityGroupIngress returning to
  the first connection admitted / refused (median and max of ``--rounds``);
- DNS queries per second answered by the cloud's dnsmasq (a balancer name) side by side
  with NXDOMAIN answers.

    .venv/bin/python benchmarks/elb_security.py [--seconds 3] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tests.cloudproc import free_port, new_cloud  # noqa: E402
from tests.elb.elb_helpers import config, elb  # noqa: E402
from tests.elb.test_elb_security import _address, _resolver, probe  # noqa: E402

HTTP = {"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP",
        "InstancePort": 8080}
SOURCE = "127.0.0.7"


def connections_per_second(address: str, seconds: float) -> float:
    """New connections (one HTTP request each) per second from SOURCE."""
    n = 0
    end = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < end:
        with socket.socket() as s:
            s.settimeout(5)
            s.bind((SOURCE, 0))
            s.connect((address, 80))
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            if not s.recv(64).startswith(b"HTTP/"):
                raise SystemExit("refused: the group does not admit the client")
        n += 1
    return n / (time.perf_counter() - start)


def until(check: Any, timeout: float = 30.0) -> float:
    """Seconds until ``check()`` is true."""
    t0 = time.perf_counter()
    while not check():
        if time.perf_counter() - t0 > timeout:
            raise SystemExit("timed out")
        time.sleep(0.02)
    return time.perf_counter() - t0


def main() -> None:
    """Print the figures side by side."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    cloud = new_cloud(config(net=83, extra=f"dns_port = {free_port()}"))
    cloud.start()
    try:
        client, ec2 = elb(cloud), cloud.client("ec2")
        dns = client.create_load_balancer(LoadBalancerName="bench", Listeners=[HTTP],
                                          AvailabilityZones=["zone-a"])["DNSName"]
        address = _address(cloud, dns)
        until(lambda: probe(address, 80, SOURCE) == "answered")
        rates = {"no group (default)": connections_per_second(address, args.seconds)}
        gid = ec2.create_security_group(GroupName="bench", Description="b")["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
             "IpRanges": [{"CidrIp": f"{SOURCE}/32"}]}])
        client.apply_security_groups_to_load_balancer(LoadBalancerName="bench",
                                                      SecurityGroups=[gid])
        until(lambda: probe(address, 80, "127.0.0.8") == "refused")
        rates["group, 1 CIDR"] = connections_per_second(address, args.seconds)
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
             "IpRanges": [{"CidrIp": f"10.{2 * i}.0.0/16"} for i in range(49)]}])
        acl = next((Path(cloud.data_dir) / "elb").glob("*/listener-80.sources"))
        until(lambda: len(acl.read_text().split()) == 50)
        time.sleep(1.0)  # the reload
        rates["group, 50 CIDRs"] = connections_per_second(address, args.seconds)

        admit, refuse = [], []
        other = {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                 "IpRanges": [{"CidrIp": "127.0.0.9/32"}]}
        for _ in range(args.rounds):
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[other])
            admit.append(until(lambda: probe(address, 80, "127.0.0.9") == "answered"))
            ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[other])
            refuse.append(until(lambda: probe(address, 80, "127.0.0.9") == "refused"))

        res = _resolver(cloud)
        until(lambda: bool(res.resolve(dns, "A")))
        known = _qps(res, dns, args.seconds)
        unknown = _qps(res, "nothing." + dns.split(".", 1)[1], args.seconds)
    finally:
        cloud.stop()

    base = rates["no group (default)"]
    print("| new connections/s, 1 client | conn/s | vs no group |")
    print("|---|---|---|")
    for name, rate in rates.items():
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f}x |")
    print()
    print(f"| rule change to the data plane ({args.rounds} rounds) | median s | max s |")
    print("|---|---|---|")
    print(f"| authorize -> admitted | {statistics.median(admit):.2f} | {max(admit):.2f} |")
    print(f"| revoke -> refused | {statistics.median(refuse):.2f} | {max(refuse):.2f} |")
    print()
    print("| DNS (dnspython, one query at a time) | queries/s |")
    print("|---|---|")
    print(f"| a balancer's name (A) | {known:,.0f} |")
    print(f"| an unknown name (NXDOMAIN) | {unknown:,.0f} |")


def _qps(res: Any, name: str, seconds: float) -> float:
    import dns.exception

    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        try:
            res.resolve(name, "A")
        except dns.exception.DNSException:
            pass
        n += 1
    return n / (time.perf_counter() - start)


if __name__ == "__main__":
    main()
