"""Guest networking on real QEMU guests (EDGE mode), inside a test network namespace.

Two guests in two groups on a ``network = "edge"`` libvirt zone whose bridge, taps,
dnsmasq and nftables rules live in a namespace made by ``scripts/netns-node.sh``: they
get their addresses by DHCP, read their metadata from 169.254.169.254, and ping and
TCP between them (and from the namespace, standing in for the outside) is allowed or
refused exactly as their groups' rules say, changing within 2 s of an authorize or a
revoke.  An elastic IP answers from the namespace until it is disassociated; a restarted
cloud keeps the guests connected with the same rules; terminating leaves nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from realbundle import upload_and_register
from test_real_instances import console, qemu_processes, states, wait_for

from server.nc.netns import socket_in

pytestmark = pytest.mark.libvirtd

ROOT = Path(__file__).resolve().parent.parent.parent
SUBNET = "10.77.0.0/24"
TABLE = "euca_net"


@pytest.fixture
def netns() -> Iterator[str]:
    """A namespace for the zone's network (removed afterwards, with all in it)."""
    if os.geteuid() != 0:
        pytest.skip("guest networking tests need root (network namespaces)")
    for tool in ("ip", "nft", "dnsmasq"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/sysdeps.sh)")
    name = uuid.uuid4().hex[:8]
    script = str(ROOT / "scripts" / "netns-node.sh")
    ns = subprocess.run([script, "up", name], capture_output=True, text=True, check=True,
                        timeout=30).stdout.strip()
    yield ns
    subprocess.run([script, "down", name], check=False, timeout=60)


def config(ns: str) -> str:
    """A one-node libvirt zone with guest networking in ``ns``."""
    return f"""
[[zones]]
name = "net"
hypervisor = "libvirt"
libvirt_uri = "qemu:///system"
nodes = 1
node_cores = 4
node_memory_mb = 2048
private_subnet = "{SUBNET}"
public_ips = ["198.51.100.20-198.51.100.29"]
network = "edge"
network_namespace = "{ns}"
network_public_interface = "eucapub0"
"""


def http_get(ns: str, address: str, port: int = 80, timeout: float = 0.5) -> str | None:
    """GET / from inside the namespace; the body, or None when refused or dropped."""
    try:
        sock = socket_in(ns, lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    except OSError:
        return None
    try:
        sock.settimeout(timeout)
        sock.connect((address, port))
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        return data.split(b"\r\n\r\n", 1)[-1].decode().strip()
    except OSError:
        return None
    finally:
        sock.close()


def timed(what: str, check: Callable[[], Any], limit: float) -> float:
    """Seconds until ``check`` holds; fails when that takes longer than ``limit``."""
    start = time.monotonic()
    wait_for(what, check, limit, every=0.05)
    return time.monotonic() - start


def probe(ec2: Any, iid: str) -> str:
    """The last ``tcp=.. icmp=..`` the probing guest printed."""
    found = re.findall(r"(?m)^EUCA-PROBE: (tcp=\w+ icmp=\w+)", console(ec2, iid))
    return found[-1] if found else ""


def nft_tables(ns: str) -> str:
    """The zone's nftables tables as the kernel has them."""
    out = []
    for family in ("inet", "bridge"):
        out.append(subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "table", family,
                                   TABLE], capture_output=True, text=True, check=True).stdout)
    return "".join(out)


def taps(ns: str) -> list[str]:
    """The guests' ports in the namespace."""
    links = json.loads(subprocess.run(["ip", "-n", ns, "-j", "link", "show"],
                                      capture_output=True, text=True, check=True).stdout)
    return sorted(link["ifname"] for link in links if link["ifname"].startswith("vn"))


def public_addresses(ns: str) -> str:
    """The /32s on the namespace's public interface."""
    return subprocess.run(["ip", "-n", ns, "-4", "-o", "addr", "show", "dev", "eucapub0"],
                          capture_output=True, text=True, check=True).stdout


PROBER = """#!/bin/sh
last=""
while true; do
  if http-get {target} / >/dev/null; then t=ok; else t=fail; fi
  if ping -c 1 -W 1 {target} >/dev/null 2>&1; then p=ok; else p=fail; fi
  now="tcp=$t icmp=$p"
  [ "$now" != "$last" ] && echo "EUCA-PROBE: $now" && last="$now"
  sleep 0.2
done
"""


def test_guest_networking(libvirtd: str, guest_image: Path, netns: str,
                          make_cloud: Callable[..., Any]) -> None:
    cloud = make_cloud(config(netns))
    try:
        scenario(cloud, libvirtd, guest_image, netns)
    except BaseException:
        # What the node had, for the failure's report.
        print("\n--- cloud log ---\n" + cloud.log_path.read_text()[-4000:])
        for cmd in (["ip", "-n", netns, "addr"], ["ip", "netns", "exec", netns, "nft",
                                                   "list", "ruleset"]):
            print(subprocess.run(cmd, capture_output=True, text=True).stdout[-3000:])
        for path in cloud.data_dir.glob("nc/*/*.console.log"):
            print(f"--- {path.name} ---\n" + path.read_text(errors="replace")[-3000:])
        raise
    finally:
        remove_guests(libvirtd, cloud.data_dir)


def remove_guests(uri: str, data_dir: Path) -> None:
    """Destroy the domains this test's cloud made (a failed test would leave them)."""
    import libvirt

    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)  # no stderr noise
    conn = libvirt.open(uri)
    try:
        for dom in conn.listAllDomains():
            try:
                if f"<euca:node>{data_dir}/" in dom.XMLDesc(0):
                    if dom.isActive():
                        dom.destroy()
                    dom.undefine()
            except libvirt.libvirtError:
                pass  # the cloud removed it meanwhile
    finally:
        conn.close()


def scenario(cloud: Any, libvirtd: str, guest_image: Path, netns: str) -> None:
    """The test's steps (see the module docstring)."""
    import libvirt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    figures: dict[str, float] = {}
    ec2 = cloud.client("ec2")
    eki = upload_and_register(cloud, guest_image / "vmlinuz", "kernel", "net-kernel")
    eri = upload_and_register(cloud, guest_image / "initrd.gz", "ramdisk", "net-ramdisk")
    emi = upload_and_register(cloud, guest_image / "disk.img", "machine", "net-image",
                              kernel_id=eki, ramdisk_id=eri)
    public_key = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    ec2.import_key_pair(KeyName="net-key", PublicKeyMaterial=public_key.encode())
    web = ec2.create_security_group(GroupName="web", Description="the server")["GroupId"]
    client = ec2.create_security_group(GroupName="client", Description="the prober")["GroupId"]
    ping_from_client = [{"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1,
                         "UserIdGroupPairs": [{"GroupId": client}]}]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=ping_from_client)

    # -- two guests: a web server and a client probing it -----------------------------
    start = time.monotonic()
    server = ec2.run_instances(ImageId=emi, MinCount=1, MaxCount=1, InstanceType="m1.small",
                               KeyName="net-key", SecurityGroupIds=[web],
                               UserData="port=80")["Instances"][0]
    sid, sip = server["InstanceId"], server["PrivateIpAddress"]
    cid = ec2.run_instances(ImageId=emi, MinCount=1, MaxCount=1, InstanceType="m1.small",
                            SecurityGroupIds=[client],
                            UserData=PROBER.format(target=sip))["Instances"][0]["InstanceId"]
    wait_for("both running", lambda: set(states(ec2, [sid, cid]).values()) == {"running"}, 90)
    conn = libvirt.open(libvirtd)
    mac = "d0:0d:" + ":".join(f"{int(b):02x}" for b in sip.split("."))  # Eucalyptus' MAC
    assert f"<mac address='{mac}'/>" in conn.lookupByName(sid).XMLDesc(0).replace('"', "'")
    conn.close()

    # Each guest got its address by DHCP and read its own metadata at 169.254.169.254.
    text = wait_for("the server's metadata", lambda: (
        lambda t: t if "EUCA-HTTPD: 80" in t else "")(console(ec2, sid)), 180)
    figures["boot to service"] = time.monotonic() - start
    assert re.search(rf"(?m)^EUCA-NET: eth0 {re.escape(sip)}/24 router 10\.77\.0\.1", text)
    assert f"EUCA-MD-INSTANCE-ID: {sid}" in text
    assert f"EUCA-MD-PUBLIC-KEY: {public_key}" in text
    assert "EUCA-MD-USER-DATA: port=80" in text
    wait_for("the client's probes", lambda: probe(ec2, cid), 120)
    ctext = console(ec2, cid)
    assert f"EUCA-MD-INSTANCE-ID: {cid}" in ctext
    assert "EUCA-MD-PUBLIC-KEY: \n" in ctext.replace("\r", "")  # launched without a key
    assert "EUCA-MD-USER-DATA: #!/bin/sh" in ctext

    # -- rules: ping from the client's group only; no TCP yet -------------------------
    wait_for("client: ping allowed, tcp refused",
             lambda: probe(ec2, cid) == "tcp=fail icmp=ok", 20)
    assert http_get(netns, sip) is None  # the namespace is in no group

    port80 = [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
               "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=port80)
    figures["authorize port"] = timed("port 80 open", lambda: http_get(netns, sip) == sid, 2)
    ec2.revoke_security_group_ingress(GroupId=web, IpPermissions=port80)
    figures["revoke port"] = timed("port 80 closed", lambda: http_get(netns, sip) is None, 2)
    # The client saw port 80 open meanwhile (0.0.0.0/0 includes it); now closed again.
    wait_for("client: tcp refused again", lambda: probe(ec2, cid) == "tcp=fail icmp=ok", 10)

    from_client = [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                    "UserIdGroupPairs": [{"GroupId": client}]}]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=from_client)
    figures["authorize group (guest sees)"] = timed(
        "client: tcp allowed", lambda: probe(ec2, cid) == "tcp=ok icmp=ok", 10)
    assert http_get(netns, sip) is None  # a source-group rule admits the group only
    ec2.revoke_security_group_ingress(GroupId=web, IpPermissions=from_client + ping_from_client)
    figures["revoke group (guest sees)"] = timed(
        "client: all refused", lambda: probe(ec2, cid) == "tcp=fail icmp=fail", 10)

    # -- an elastic IP answers from the outside until it is disassociated -------------
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=port80)
    eip = ec2.allocate_address()["PublicIp"]
    ec2.associate_address(InstanceId=sid, PublicIp=eip)
    figures["associate"] = timed("the elastic IP", lambda: http_get(netns, eip) == sid, 2)
    ec2.disassociate_address(PublicIp=eip)
    figures["disassociate"] = timed("the elastic IP gone",
                                    lambda: http_get(netns, eip) is None, 2)
    ec2.associate_address(InstanceId=sid, PublicIp=eip)
    timed("the elastic IP again", lambda: http_get(netns, eip) == sid, 2)

    # -- a restarted cloud: the same rules, still connected ---------------------------
    rules_before = nft_tables(netns)
    assert f"{eip} : {sip}" in rules_before
    applied = next(cloud.data_dir.glob("net/*/applied.nft"))  # written after each apply
    applied_before = applied.stat().st_mtime_ns
    cloud.restart()
    ec2 = cloud.client("ec2")
    wait_for("the restored instances",
             lambda: set(states(ec2, [sid, cid]).values()) == {"running"}, 30)
    # The restarted cloud applied its view again: the same rules.
    wait_for("the view applied again",
             lambda: applied.stat().st_mtime_ns != applied_before, 20, every=0.1)
    assert nft_tables(netns) == rules_before
    assert http_get(netns, eip) == sid and http_get(netns, sip) == sid
    assert taps(netns) == sorted(["vn" + "".join(f"{int(b):02x}" for b in ip.split("."))
                                  for ip in (sip, ec2.describe_instances(InstanceIds=[cid])[
                                      "Reservations"][0]["Instances"][0]["PrivateIpAddress"])])

    # -- a reboot: QEMU opens the tap again; the guest comes back on the network ------
    ec2.reboot_instances(InstanceIds=[sid])
    wait_for("the rebooted server's service",
             lambda: console(ec2, sid).count("EUCA-HTTPD: 80") == 2, 120)
    wait_for("the elastic IP after the reboot", lambda: http_get(netns, eip) == sid, 10)

    # -- terminate: no tap, rule, lease, set member or public address is left ---------
    ec2.terminate_instances(InstanceIds=[sid, cid])
    wait_for("both terminated",
             lambda: set(states(ec2, [sid, cid]).values()) == {"terminated"}, 60)
    wait_for("the taps to go", lambda: taps(netns) == [], 10)
    wait_for("the public address to go", lambda: eip not in public_addresses(netns), 10)
    rules = nft_tables(netns)
    assert "10.77.0." not in rules.replace("10.77.0.1:", "") and eip not in rules
    leases = next(cloud.data_dir.glob("net/*/leases")).read_text()
    assert leases == ""
    assert not qemu_processes(sid) and not qemu_processes(cid)
    print("\nguest networking (s): " + ", ".join(f"{k} {v:.2f}" for k, v in figures.items()))
