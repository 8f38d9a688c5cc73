"""Guest networking (EDGE) figures, next to Eucalyptus 4.x EDGE (eucanetd).

    sudo .venv/bin/python benchmarks/guest_network.py [--changes N]
    .venv/bin/python benchmarks/guest_network.py --view-only

With root, libvirtd (scripts/libvirtd.sh start), QEMU, nftables and dnsmasq it boots one
real guest on a ``network = "edge"`` zone inside a throw-away network namespace and
measures:

- RunInstances to the guest answering HTTP on its elastic IP (from the namespace);
- a security group change taking effect: AuthorizeSecurityGroupIngress returning to the
  guest's port answering, and RevokeSecurityGroupIngress returning to it refusing.

Eucalyptus' eucanetd polls for the network view every 1-5 s (reference: "eucanetd
(EDGE) polls every 1-5 s") after the CLC -> CC -> NC broadcast, so a rule change there
takes up to a poll interval; those are documented figures, not measured here.
``--view-only`` (no root) times computing the views and rendering the rules of a zone.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "real")]


def view_only(instances: int) -> None:
    """Time the CC's view computation and the node's rule rendering."""
    from server.net.nftables import ruleset
    from server.net.view import compute_views

    groups = {f"sg-{g}": SimpleNamespace(ingress=[
        {"proto": "tcp", "from": 80, "to": 80, "cidrs": ["0.0.0.0/0"], "groups": []},
        {"proto": "tcp", "from": 22, "to": 22, "cidrs": [],
         "groups": [["a", f"sg-{(g + 1) % 20}", "x"]]}]) for g in range(20)}
    insts = [SimpleNamespace(id=f"i-{n}", zone="z", node=f"n{n % 10}", state="running",
                             private_ip=f"10.{1 + n // 65000}.{n // 250 % 250}.{2 + n % 250}",
                             public_ip="", groups=[[f"sg-{n % 20}", "g"]])
             for n in range(instances)]
    start = time.perf_counter()
    views = compute_views("z", "10.0.0.0/8", [f"n{i}" for i in range(10)], insts, groups)
    computed = time.perf_counter() - start
    start = time.perf_counter()
    text = ruleset(views["n0"], 8775)
    rendered = time.perf_counter() - start
    print(f"{instances} instances, 10 nodes, 20 groups: views {computed * 1000:.1f} ms, "
          f"one node's ruleset {rendered * 1000:.1f} ms ({len(text.splitlines())} lines)")


def real(changes: int) -> None:
    """Boot one guest and time the elastic IP and rule changes."""
    from cloudproc import cleanup, new_cloud
    from realbundle import upload_and_register
    from test_guest_networking import config, http_get, remove_guests

    name = uuid.uuid4().hex[:8]
    script = str(ROOT / "scripts" / "netns-node.sh")
    ns = subprocess.run([script, "up", name], capture_output=True, text=True,
                        check=True).stdout.strip()
    cloud = new_cloud(config(ns)).start()
    try:
        image_dir = Path("/tmp/euca-test-image")
        subprocess.run([str(ROOT / "scripts" / "build-test-image.sh"), str(image_dir)],
                       check=True)
        ec2 = cloud.client("ec2")
        eki = upload_and_register(cloud, image_dir / "vmlinuz", "kernel", "bench-kernel")
        eri = upload_and_register(cloud, image_dir / "initrd.gz", "ramdisk", "bench-ramdisk")
        emi = upload_and_register(cloud, image_dir / "disk.img", "machine", "bench-image",
                                  kernel_id=eki, ramdisk_id=eri)
        web = ec2.create_security_group(GroupName="web", Description="bench")["GroupId"]
        port80 = [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                   "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=port80)
        eip = ec2.allocate_address()["PublicIp"]
        start = time.monotonic()
        inst = ec2.run_instances(ImageId=emi, MinCount=1, MaxCount=1, InstanceType="m1.small",
                                 SecurityGroupIds=[web], UserData="port=80")["Instances"][0]
        iid, ip = inst["InstanceId"], inst["PrivateIpAddress"]
        ec2.associate_address(InstanceId=iid, PublicIp=eip)
        while http_get(ns, eip) != iid:
            if time.monotonic() - start > 600:
                raise SystemExit("the guest did not answer on its elastic IP in 600 s")
            time.sleep(0.1)
        boot = time.monotonic() - start
        opened, closed = [], []
        for _ in range(changes):
            t = time.monotonic()
            ec2.revoke_security_group_ingress(GroupId=web, IpPermissions=port80)
            while http_get(ns, ip, timeout=0.2) is not None:
                pass
            closed.append(time.monotonic() - t)
            t = time.monotonic()
            ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=port80)
            while http_get(ns, ip, timeout=0.2) != iid:
                pass
            opened.append(time.monotonic() - t)
        ec2.terminate_instances(InstanceIds=[iid])
        print(f"{'figure':<44} {'this cloud':>12} {'Eucalyptus EDGE':>18}")
        print(f"{'RunInstances -> HTTP on the elastic IP':<44} {boot:>10.1f} s "
              f"{'(guest boot)':>18}")
        for label, values in (("authorize -> port answers", opened),
                              ("revoke -> port refuses", closed)):
            med = statistics.median(values)
            print(f"{label + f' (median of {changes})':<44} {med * 1000:>9.0f} ms "
                  f"{'1-5 s poll':>18}")
            print(f"{label + ' (max)':<44} {max(values) * 1000:>9.0f} ms")
    finally:
        remove_guests("qemu:///system", cloud.data_dir)
        cleanup(cloud)
        subprocess.run([script, "down", name], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--changes", type=int, default=5, help="rule changes to time")
    parser.add_argument("--view-only", action="store_true", help="no guests: time the views")
    parser.add_argument("--instances", type=int, default=5000, help="--view-only's zone size")
    args = parser.parse_args()
    if args.view_only:
        view_only(args.instances)
    else:
        real(args.changes)


if __name__ == "__main__":
    main()
