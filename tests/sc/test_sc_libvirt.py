"""Attach and detach against libvirt's test:///default driver: the domain's <disk> XML.

test:///default keeps its state inside one process, so this test runs the cloud in
its own process (uvicorn in a thread) and reads the domain definition through the
zone's libvirt driver.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

libvirt = pytest.importorskip("libvirt")

from cloudproc import CloudProcess, free_port  # noqa: E402
from sc_helpers import backing_file, code, wait_instances, wait_volume  # noqa: E402


@pytest.fixture
def inprocess(tmp_path: Path) -> Iterator[tuple[Any, CloudProcess]]:
    """A libvirt-zone cloud served from this process."""
    import uvicorn

    from server.cloud import Cloud
    from server.config import parse

    port = free_port()
    config = parse({"cloud": {"data_dir": str(tmp_path), "listen": f"127.0.0.1:{port}"},
                    "zones": [{"name": "lv", "hypervisor": "libvirt",
                               "libvirt_uri": "test:///default", "nodes": 2},
                              {"name": "other", "nodes": 1}]})
    cloud = Cloud(config)
    server = uvicorn.Server(uvicorn.Config(cloud.app, host="127.0.0.1", port=port,
                                           lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started
    yield cloud, CloudProcess(tmp_path, port)
    server.should_exit = True
    thread.join(10)


def _disks(cloud: Any, iid: str) -> list[ET.Element]:
    cc = cloud.clusters["lv"]
    driver = cc.node_of(iid).nc.driver
    return [ET.fromstring(d) for d in driver.domain_disks(iid)]


def test_attach_detach_disk_xml(inprocess: tuple[Any, CloudProcess]) -> None:
    """Attach adds a virtio <disk> with the backing file and serial; detach removes it."""
    cloud, proc = inprocess
    ec2 = proc.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                            Placement={"AvailabilityZone": "lv"})["Instances"][0]["InstanceId"]
    wait_instances(ec2, [iid], "running")
    vid = ec2.create_volume(AvailabilityZone="lv", Size=1)["VolumeId"]
    wait_volume(ec2, vid, "available")
    assert not [d for d in _disks(cloud, iid) if d.findtext("serial") == vid]

    ec2.attach_volume(VolumeId=vid, InstanceId=iid, Device="/dev/sdf")
    wait_volume(ec2, vid, "in-use", "attached")
    [disk] = [d for d in _disks(cloud, iid) if d.findtext("serial") == vid]
    assert (disk.get("type"), disk.get("device")) == ("file", "disk")
    assert disk.find("source").get("file") == str(backing_file(proc, "lv", vid))
    assert disk.find("driver").get("type") == "raw"
    assert (disk.find("target").get("dev"), disk.find("target").get("bus")) == ("vdf", "virtio")

    other = ec2.create_volume(AvailabilityZone="other", Size=1)["VolumeId"]
    wait_volume(ec2, other, "available")
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as exc:
        ec2.attach_volume(VolumeId=other, InstanceId=iid, Device="/dev/sdg")
    assert code(exc) == "InvalidVolume.ZoneMismatch"

    ec2.detach_volume(VolumeId=vid)
    wait_volume(ec2, vid, "available")
    assert not [d for d in _disks(cloud, iid) if d.findtext("serial") == vid]
    ec2.terminate_instances(InstanceIds=[iid])
    wait_instances(ec2, [iid], "terminated")


def test_ebs_root_volume_is_a_domain_disk(inprocess: tuple[Any, CloudProcess]) -> None:
    """An EBS-backed instance's domain boots with its root volume, again after stop/start."""
    cloud, proc = inprocess
    ec2 = proc.client("ec2")
    vid = ec2.create_volume(AvailabilityZone="lv", Size=1)["VolumeId"]
    wait_volume(ec2, vid, "available")
    sid = ec2.create_snapshot(VolumeId=vid)["SnapshotId"]
    from sc_helpers import wait_snapshot

    wait_snapshot(ec2, sid)
    image = ec2.register_image(Name="lv-ebs", RootDeviceName="/dev/sda1", BlockDeviceMappings=[
        {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": sid}}])["ImageId"]
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                            Placement={"AvailabilityZone": "lv"})["Instances"][0]["InstanceId"]
    inst = wait_instances(ec2, [iid], "running")[0]
    root = inst["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    [disk] = [d for d in _disks(cloud, iid) if d.findtext("serial") == root]
    assert disk.find("target").get("dev") == "vda"
    assert disk.find("source").get("file") == str(backing_file(proc, "lv", root))
    ec2.stop_instances(InstanceIds=[iid])
    wait_instances(ec2, [iid], "stopped")
    ec2.start_instances(InstanceIds=[iid])
    wait_instances(ec2, [iid], "running")
    assert [d for d in _disks(cloud, iid) if d.findtext("serial") == root]
    ec2.terminate_instances(InstanceIds=[iid])
