"""A classic load balancer in front of two real QEMU guests (EDGE networking).

One ``network = "edge"`` libvirt zone whose bridge lives in a namespace made by
``scripts/netns-node.sh``; the cloud runs its balancers' HAProxy in that same namespace
(``elb_netns``) so they reach the guests' private addresses.  Two guests answer HTTP on
port 80 with their instance ids; a balancer with an HTTP:80 listener and a short health
check puts both InService, 1,000 requests through it from inside the namespace all
succeed and reach both guests.  When one guest's port is closed (its group's rule
revoked) HAProxy's checks put it OutOfService within interval x unhealthy threshold;
once it is terminated it goes OutOfService at once; no request fails after either.
An Auto Scaling group with LoadBalancerNames registers its (real) instance, which goes
InService and takes requests, and deregisters it when the group is deleted.

It prints requests/s and the mean latency through the balancer and direct to a guest.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from realbundle import upload_and_register
from test_guest_networking import http_get, netns, remove_guests  # noqa: F401 (fixture)
from test_real_instances import console, states, wait_for

from tests.autoscaling.as_helpers import autoscaling
from tests.elb.elb_helpers import elb, health

pytestmark = pytest.mark.libvirtd

SUBNET = "10.79.0.0/24"
INTERVAL, TIMEOUT, UNHEALTHY = 5, 2, 2
PORT80 = [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
           "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]

#: N sequential requests, each on a new connection, from inside the namespace; prints
#: {"bodies": {body: count}, "failures": n, "seconds": wall time}.  argv: host port n
CLIENT = textwrap.dedent('''
    import http.client, json, sys, time
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    bodies, failures, errors = {}, 0, []
    start = time.monotonic()
    for _ in range(count):
        try:
            conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request("GET", "/")
            resp = conn.getresponse()
            body = resp.read().decode().strip()
            conn.close()
            if resp.status != 200:
                failures += 1
                errors.append(resp.status)
                continue
            bodies[body] = bodies.get(body, 0) + 1
        except Exception as exc:
            failures += 1
            errors.append(repr(exc))
    print(json.dumps({"bodies": bodies, "failures": failures, "errors": errors[:5],
                      "seconds": time.monotonic() - start}))
''')


def config(ns: str) -> str:
    """A one-node libvirt zone with guest networking in ``ns``; balancers there too."""
    return f"""
[cloud]
elb_netns = "{ns}"

[[zones]]
name = "lb"
hypervisor = "libvirt"
libvirt_uri = "qemu:///system"
nodes = 1
node_cores = 4
node_memory_mb = 2048
private_subnet = "{SUBNET}"
public_ips = ["198.51.100.40-198.51.100.49"]
network = "edge"
network_namespace = "{ns}"
network_public_interface = "eucapub0"
"""


def requests(ns: str, script: Path, host: str, count: int) -> dict[str, Any]:
    """Run ``count`` requests from inside the namespace; the client's summary."""
    res = subprocess.run(["ip", "netns", "exec", ns, sys.executable, str(script), host, "80",
                          str(count)], capture_output=True, text=True, timeout=300, check=True)
    return dict(json.loads(res.stdout))


def test_balancer_in_front_of_real_guests(libvirtd: str, guest_image: Path, netns: str,  # noqa: F811
                                          make_cloud: Callable[..., Any],
                                          tmp_path: Path) -> None:
    if shutil.which("haproxy") is None:
        pytest.skip("haproxy is not installed (scripts/sysdeps.sh)")
    cloud = make_cloud(config(netns))
    client = elb(cloud)
    try:
        scenario(cloud, client, guest_image, netns, tmp_path)
    except BaseException:
        print("\n--- cloud log ---\n" + cloud.log_path.read_text()[-4000:])
        for path in Path(cloud.data_dir).glob("elb/*/haproxy.log"):
            print(f"--- {path} ---\n" + path.read_text(errors="replace")[-2000:])
        for path in Path(cloud.data_dir).glob("nc/*/*.console.log"):
            print(f"--- {path.name} ---\n" + path.read_text(errors="replace")[-2000:])
        raise
    finally:
        # A group left by a failure would launch replacements while the domains go.
        groups = autoscaling(cloud).describe_auto_scaling_groups()["AutoScalingGroups"]
        for group in groups:
            autoscaling(cloud).delete_auto_scaling_group(
                AutoScalingGroupName=group["AutoScalingGroupName"], ForceDelete=True)
        for lb in client.describe_load_balancers()["LoadBalancerDescriptions"]:
            client.delete_load_balancer(LoadBalancerName=lb["LoadBalancerName"])
        remove_guests(libvirtd, Path(cloud.data_dir))


def scenario(cloud: Any, client: Any, guest_image: Path, ns: str, tmp_path: Path) -> None:
    """The test's steps (see the module docstring)."""
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    ec2 = cloud.client("ec2")
    eki = upload_and_register(cloud, guest_image / "vmlinuz", "kernel", "lb-kernel")
    eri = upload_and_register(cloud, guest_image / "initrd.gz", "ramdisk", "lb-ramdisk")
    emi = upload_and_register(cloud, guest_image / "disk.img", "machine", "lb-image",
                              kernel_id=eki, ramdisk_id=eri)
    # One group per guest, so one guest's port can be closed while the other's stays open.
    # HAProxy connects from the namespace (the zone's router address): port 80 from anywhere.
    ids, addresses, groups = [], {}, {}
    for name in ("web-a", "web-b"):
        group = ec2.create_security_group(GroupName=name, Description="behind the balancer")[
            "GroupId"]
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=PORT80)
        inst = ec2.run_instances(ImageId=emi, MinCount=1, MaxCount=1, InstanceType="m1.small",
                                 SecurityGroupIds=[group], UserData="port=80")["Instances"][0]
        ids.append(inst["InstanceId"])
        addresses[inst["InstanceId"]] = inst["PrivateIpAddress"]
        groups[inst["InstanceId"]] = group

    dns = client.create_load_balancer(
        LoadBalancerName="guests", AvailabilityZones=["lb"],
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP",
                    "InstancePort": 80}])["DNSName"]
    client.configure_health_check(LoadBalancerName="guests", HealthCheck={
        "Target": "HTTP:80/", "Interval": INTERVAL, "Timeout": TIMEOUT,
        "UnhealthyThreshold": UNHEALTHY, "HealthyThreshold": 2})
    client.register_instances_with_load_balancer(
        LoadBalancerName="guests", Instances=[{"InstanceId": i} for i in ids])
    hosts = dict(reversed(line.split()) for line in
                 (Path(cloud.data_dir) / "elb" / "hosts").read_text().splitlines() if line)
    address = hosts[dns]

    wait_for("both running", lambda: set(states(ec2, ids).values()) == {"running"}, 120)
    for iid in ids:
        wait_for(f"{iid}'s httpd", lambda iid=iid: "EUCA-HTTPD: 80" in console(ec2, iid), 180)
        wait_for(f"{iid} answering", lambda iid=iid: http_get(ns, addresses[iid]) == iid, 20)
    wait_for("both InService", lambda: all(
        s["State"] == "InService" for s in health(client, "guests").values()), 60)

    # -- 1,000 requests through the balancer: all succeed, both guests answer ----------
    through = requests(ns, script, address, 1000)
    assert through["failures"] == 0, through
    assert set(through["bodies"]) == set(ids), through
    assert all(n >= 300 for n in through["bodies"].values()), through
    direct = requests(ns, script, addresses[ids[0]], 1000)
    assert direct["failures"] == 0, direct

    # -- one guest unreachable (its port closed): HAProxy's checks take it out ---------
    down, up = ids[1], ids[0]
    ec2.revoke_security_group_ingress(GroupId=groups[down], IpPermissions=PORT80)
    closed = time.monotonic()
    wait_for("OutOfService by health checks",
             lambda: health(client, "guests")[down]["State"] == "OutOfService",
             INTERVAL * UNHEALTHY + 15)
    failed = time.monotonic() - closed
    # The rule goes within 2 s; the first failing check starts within INTERVAL of that,
    # the next INTERVAL apart, each failing by its TIMEOUT; + polling.
    assert failed <= INTERVAL * UNHEALTHY + TIMEOUT * UNHEALTHY + 2 + 3, failed
    state = health(client, "guests")[down]
    assert state["ReasonCode"] == "Instance" and "health checks" in state["Description"]
    assert health(client, "guests")[up]["State"] == "InService"
    after = requests(ns, script, address, 200)
    assert after["failures"] == 0 and after["bodies"] == {up: 200}, after
    ec2.authorize_security_group_ingress(GroupId=groups[down], IpPermissions=PORT80)
    wait_for("back InService", lambda: health(client, "guests")[down]["State"] == "InService",
             INTERVAL * 2 + 15)

    # -- one guest gone: OutOfService at once; no request fails after that -------------
    ec2.terminate_instances(InstanceIds=[down])
    gone = time.monotonic()
    wait_for("OutOfService", lambda: health(client, "guests")[down]["State"] == "OutOfService",
             INTERVAL * UNHEALTHY + 10)
    took = time.monotonic() - gone
    assert took <= INTERVAL * UNHEALTHY + 5, took  # the model's state + the cloud's sync
    assert health(client, "guests")[up]["State"] == "InService"
    after = requests(ns, script, address, 200)
    assert after["failures"] == 0 and after["bodies"] == {up: 200}, after

    # -- an Auto Scaling group with LoadBalancerNames registers its (real) instance ----
    asg = autoscaling(cloud)
    asg.create_launch_configuration(
        LaunchConfigurationName="web", ImageId=emi, InstanceType="m1.small",
        SecurityGroups=[groups[up]], UserData="port=80")  # boto3 encodes it
    asg.create_auto_scaling_group(AutoScalingGroupName="web", LaunchConfigurationName="web",
                                  MinSize=1, MaxSize=1, AvailabilityZones=["lb"],
                                  LoadBalancerNames=["guests"])
    member = wait_for("the group's instance registered", lambda: next(
        (i for i in health(client, "guests") if i not in ids), None), 120)
    wait_for("the group's instance InService",
             lambda: health(client, "guests")[member]["State"] == "InService", 180)
    spread = requests(ns, script, address, 100)
    assert spread["failures"] == 0 and set(spread["bodies"]) == {up, member}, spread
    asg.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)
    wait_for("the group's instance deregistered",
             lambda: member not in health(client, "guests"), 120)

    lb_ms, direct_ms = through["seconds"], direct["seconds"]  # 1,000 requests: s = ms each
    print("\nELB in front of real guests: "
          f"through the balancer {1000 / lb_ms:.0f} req/s ({lb_ms:.2f} ms each), "
          f"direct to a guest {1000 / direct_ms:.0f} req/s ({direct_ms:.2f} ms each), "
          f"added {lb_ms - direct_ms:.2f} ms per request; OutOfService {failed:.1f} s after "
          f"the port closed, {took:.1f} s after terminate")
