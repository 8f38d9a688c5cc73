"""Real instances: bundled images staged from Walrus and booted by libvirtd/QEMU (TCG).

One scenario through the public API (boto3), as a user would run it: bundle, upload
and register the test guest's kernel, ramdisk and image; run two instances at once on
a ``hypervisor = "libvirt"`` zone; read their real serial consoles (the guest prints
its instance id from its config drive); ask the metadata service about them; hot-plug
a volume and see it in the guest; restart the cloud and find the guests adopted, not
lost; terminate, and check that no domain, disk or QEMU process is left behind.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from realbundle import upload_and_register

from server.metadata import sign
from server.nc.domain import domain_xml
from server.nc.types import InstanceSpec, Resources

pytestmark = pytest.mark.libvirtd

SECRET = "real-instances-secret"
CONFIG = f"""
[cloud]
metadata_secret = "{SECRET}"

[[zones]]
name = "real"
hypervisor = "libvirt"
libvirt_uri = "qemu:///system"
nodes = 1
node_cores = 4
node_memory_mb = 2048
"""


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.5) -> Any:
    """Poll ``check`` until it returns something true; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def states(ec2: Any, ids: list[str]) -> dict[str, str]:
    """Instance id -> state name."""
    out = {}
    for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]:
        for i in r["Instances"]:
            out[i["InstanceId"]] = i["State"]["Name"]
    return out


def console(ec2: Any, iid: str) -> str:
    """The guest's console text (boto3 decodes GetConsoleOutput's base64)."""
    return str(ec2.get_console_output(InstanceId=iid).get("Output") or "")


def last_block_line(text: str) -> list[str]:
    """The block devices the guest printed most recently."""
    lines = re.findall(r"EUCA-BLOCK: ([^\r\n]*)", text)
    return lines[-1].split() if lines else []


def qemu_processes(instance_id: str) -> list[int]:
    """PIDs of QEMU processes running this instance's domain."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"qemu-system" in cmdline and instance_id.encode() in cmdline:
            found.append(int(pid))
    return found


def test_real_guests_end_to_end(libvirtd: str, guest_image: Path,
                                make_cloud: Callable[..., Any]) -> None:
    import libvirt

    timings: dict[str, float] = {}
    cloud = make_cloud(CONFIG)
    ec2 = cloud.client("ec2")

    # -- images: bundle, upload, register (kernel, ramdisk, then the machine image) -----
    eki = upload_and_register(cloud, guest_image / "vmlinuz", "kernel", "euca-test-kernel")
    eri = upload_and_register(cloud, guest_image / "initrd.gz", "ramdisk", "euca-test-ramdisk")
    emi = upload_and_register(cloud, guest_image / "disk.img", "machine", "euca-test-image",
                              kernel_id=eki, ramdisk_id=eri)
    kinds = {i["ImageId"]: i["ImageType"]
             for i in ec2.describe_images(ImageIds=[eki, eri, emi])["Images"]}
    if kinds[eki] != "machine":  # RegisterImage takes the type from the manifest via Walrus
        assert kinds == {eki: "kernel", eri: "ramdisk", emi: "machine"}
    image = ec2.describe_images(ImageIds=[emi])["Images"][0]
    assert (image.get("KernelId"), image.get("RamdiskId")) == (eki, eri)
    ec2.create_key_pair(KeyName="real-key")

    # -- two guests at once ----------------------------------------------------------
    start = time.monotonic()
    run = ec2.run_instances(ImageId=emi, MinCount=2, MaxCount=2, InstanceType="m1.small",
                            KeyName="real-key", UserData="hello from user-data")
    ids = [i["InstanceId"] for i in run["Instances"]]
    wait_for("both instances running",
             lambda: set(states(ec2, ids).values()) == {"running"}, 90)
    timings["running"] = time.monotonic() - start
    conn = libvirt.open(libvirtd)
    for iid in ids:
        dom = conn.lookupByName(iid)
        assert dom.isActive()
        assert "<domain type='qemu'" in dom.XMLDesc(0).replace('"', "'")
        assert dom.info()[3] == 1 and dom.info()[1] == 256 * 1024  # m1.small: 1 core, 256 MiB

    outputs = {}
    for iid in ids:
        outputs[iid] = wait_for(
            f"{iid}'s guest to print its metadata",
            lambda iid=iid: (lambda t: t if "EUCA-BLOCK" in t else "")(console(ec2, iid)), 120)
    timings["console"] = time.monotonic() - start
    for iid, text in outputs.items():
        assert "EUCA-GUEST-UP" in text            # the real kernel ran our ramdisk's /init
        assert "EUCA-ROOT: euca-test-image v1" in text   # its root disk is the bundled emi
        assert f"EUCA-META: instance-id: {iid}" in text  # from its NoCloud config drive
        assert f"EUCA-META: ami-id: {emi}" in text
        assert "EUCA-META: availability-zone: real" in text
        assert "EUCA-USER-DATA: hello from user-data" in text

    # euca-get-console-output shows the same real serial text.
    euca = subprocess.run([str(Path(sys.executable).parent / "euca-get-console-output"), ids[0]],
                          env=cloud.env(), capture_output=True, text=True, timeout=60, check=False)
    assert euca.returncode == 0, euca.stderr
    assert ids[0] in euca.stdout and f"EUCA-META: instance-id: {ids[0]}" in euca.stdout

    # Each image was staged once on the node, though two launches wanted it at once.
    log_text = cloud.log_path.read_text()
    for image_id in (eki, eri, emi):
        assert log_text.count(f"staged {image_id} ") == 1, image_id
    cache = next(cloud.data_dir.glob("nc/*/cache"))
    assert sorted(p.name for p in cache.iterdir()) == sorted([eki, eri, emi])

    # -- the metadata service, as a node-local proxy asks it ------------------------
    iid = ids[0]
    headers = {"X-Instance-ID": iid, "X-Instance-ID-Signature": sign(SECRET, iid)}
    base = f"{cloud.url}/latest"
    assert requests.get(f"{base}/meta-data/instance-id", headers=headers, timeout=10).text == iid
    assert requests.get(f"{base}/meta-data/ami-id", headers=headers, timeout=10).text == emi
    assert requests.get(f"{base}/meta-data/kernel-id", headers=headers, timeout=10).text == eki
    assert requests.get(f"{base}/meta-data/ramdisk-id", headers=headers, timeout=10).text == eri
    assert requests.get(f"{base}/user-data", headers=headers, timeout=10).content == \
        b"hello from user-data"
    key = requests.get(f"{base}/meta-data/public-keys/0/openssh-key", headers=headers, timeout=10)
    assert key.status_code == 200 and key.text.startswith("ssh-rsa ")

    # -- EBS: hot-plug a volume into the running guest, then unplug it ---------------
    if cloud_has_ebs(ec2):
        before = last_block_line(console(ec2, iid))
        vol = ec2.create_volume(Size=1, AvailabilityZone="real")["VolumeId"]
        wait_for("the volume", lambda: ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]
                 ["State"] == "available", 30)
        ec2.attach_volume(VolumeId=vol, InstanceId=iid, Device="/dev/sdf")
        plugged = wait_for("the guest to see the volume", lambda: (
            lambda now: now if len(now) == len(before) + 1 else None)(
                last_block_line(console(ec2, iid))), 30)
        timings["hotplug"] = time.monotonic() - start
        assert set(before) < set(plugged)
        # A reboot with the volume attached: the guest boots again (its console log
        # continues) and still has the volume.
        ec2.reboot_instances(InstanceIds=[iid])
        wait_for("the rebooted guest to come up again",
                 lambda: console(ec2, iid).count("EUCA-READY") == 2, 60)
        assert states(ec2, [iid])[iid] == "running"
        assert len(last_block_line(console(ec2, iid))) == len(plugged)
        timings["reboot"] = time.monotonic() - start
        ec2.detach_volume(VolumeId=vol)
        wait_for("the guest to lose the volume",
                 lambda: last_block_line(console(ec2, iid)) == before, 30)
        wait_for("the volume to be available again", lambda: ec2.describe_volumes(
            VolumeIds=[vol])["Volumes"][0]["State"] == "available", 30)
        ec2.delete_volume(VolumeId=vol)

    # -- a restarted cloud rediscovers its guests from libvirt ----------------------
    pids = {i: qemu_processes(i) for i in ids}
    assert all(pids.values())
    cloud.kill()
    # A domain this node defined for an instance the cloud no longer knows (a crash
    # between define and the CLC's record): the restarted cloud removes it.
    work_dir = next(cloud.data_dir.glob("nc/*-node-01"))
    orphan = InstanceSpec("i-0000000000000dead", "m1.small", Resources(1, 256, 5))
    conn.defineXML(domain_xml(orphan, libvirtd, str(work_dir)))
    cloud.start()
    ec2 = cloud.client("ec2")
    wait_for("the restored instances", lambda: set(states(ec2, ids).values()) == {"running"}, 30)
    assert {i: qemu_processes(i) for i in ids} == pids  # the same QEMU processes: adopted
    wait_for("the orphan domain to go", lambda: orphan.instance_id not in
             [d.name() for d in conn.listAllDomains()], 15)
    assert "EUCA-META: instance-id" in console(ec2, ids[1])

    # -- a guest whose QEMU dies is terminated by its NC -----------------------------
    conn.lookupByName(ids[1]).destroy()
    wait_for("the crashed guest's instance to terminate",
             lambda: states(ec2, [ids[1]])[ids[1]] == "terminated", 30)
    assert ids[1] not in [d.name() for d in conn.listAllDomains()]  # undefined as well

    # -- terminate: nothing left behind ----------------------------------------------
    ec2.terminate_instances(InstanceIds=ids[:1])
    wait_for("both instances terminated",
             lambda: set(states(ec2, ids).values()) == {"terminated"}, 60)
    names = [d.name() for d in conn.listAllDomains()]
    for iid in ids:
        assert iid not in names
        assert not qemu_processes(iid)
        assert not list(cloud.data_dir.glob(f"nc/*/instances/{iid}"))
        assert not list(cloud.data_dir.glob(f"nc/*/{iid}.console.log"))
    conn.close()
    print("\nreal boot timings (s since RunInstances): "
          + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))


def cloud_has_ebs(ec2: Any) -> bool:
    """True when the cloud serves EBS (the storage controller is set up)."""
    try:
        ec2.describe_volumes()
        return True
    except Exception:
        return False


def test_image_that_cannot_be_staged(libvirtd: str, make_cloud: Callable[..., Any]) -> None:
    """An image with no bundle in Walrus: the instance fails with a reason, nothing remains."""
    import libvirt

    cloud = make_cloud(CONFIG)
    ec2 = cloud.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]  # the built-in default, no bundle
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    wait_for("the instance to fail", lambda: states(ec2, [iid])[iid] == "terminated", 30)
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert "cannot stage" in inst.get("StateReason", {}).get("Message", ""), inst
    conn = libvirt.open(libvirtd)
    assert iid not in [d.name() for d in conn.listAllDomains()]
    conn.close()
    assert not list(cloud.data_dir.glob(f"nc/*/instances/{iid}"))
