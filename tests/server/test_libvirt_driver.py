"""The libvirt driver on libvirt's test:///default driver, alone and through the server."""

from __future__ import annotations

import asyncio

import pytest

libvirt = pytest.importorskip("libvirt")

from helpers import wait_state  # noqa: E402

from server.clock import RealClock  # noqa: E402
from server.nc.libvirt_driver import LibvirtHypervisor, disk_xml, domain_xml  # noqa: E402
from server.nc.types import BlockDevice, InstanceSpec, Outcome, Resources  # noqa: E402

SPEC = InstanceSpec("i-0123456789abcdef0", "m1.small", Resources(1, 256, 5), image_id="emi-1")


def test_domain_xml_has_type_cores_memory() -> None:
    """Domain XML: the instance's name, vCPUs and memory; qemu, never kvm."""
    xml = domain_xml(SPEC, "qemu:///system", "/tmp")
    assert "<domain type='qemu'>" in xml and "<vcpu>1</vcpu>" in xml
    assert "<memory unit='MiB'>256</memory>" in xml and "<acpi/>" in xml
    assert "<domain type='test'>" in domain_xml(SPEC, "test:///default", "/tmp")


def test_disk_xml() -> None:
    """A volume becomes a virtio disk with its backing file and the volume ID as serial."""
    from xml.etree import ElementTree as ET

    disk = ET.fromstring(disk_xml(BlockDevice("/dev/sdf", "vol-1", "/data/vol-1.img", 1)))
    assert disk.find("source").get("file") == "/data/vol-1.img"
    assert (disk.find("target").get("dev"), disk.find("target").get("bus")) == ("vdf", "virtio")
    assert disk.find("serial").text == "vol-1"


def test_lifecycle_and_volume_on_test_driver(tmp_path) -> None:
    """Start, attach (persistent config), detach, stop and undefine on test:///default."""

    async def scenario() -> None:
        clock = RealClock(asyncio.get_running_loop())
        hv = LibvirtHypervisor("n1", clock, "test:///default", Resources(4, 4096, 100),
                               str(tmp_path))

        async def call(op, *args) -> Outcome:
            fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
            op(*args, fut.set_result)
            return await asyncio.wait_for(fut, 10)

        assert (await call(hv.start, SPEC)).ok
        conn = libvirt.open("test:///default")
        dom = conn.lookupByName(SPEC.instance_id)
        assert dom.isActive() and dom.maxVcpus() >= 1
        assert SPEC.instance_id in hv.instances()
        dev = BlockDevice("/dev/sdf", "vol-abc", str(tmp_path / "vol.img"), 1)
        assert (await call(hv.attach_volume, SPEC.instance_id, dev)).ok
        assert any("vol-abc" in d for d in hv.domain_disks(SPEC.instance_id))
        assert (await call(hv.detach_volume, SPEC.instance_id, dev)).ok
        assert not any("vol-abc" in d for d in hv.domain_disks(SPEC.instance_id))
        assert b"domain" in hv.console_output(SPEC.instance_id)
        assert (await call(hv.stop, SPEC.instance_id)).ok
        assert SPEC.instance_id not in [d.name() for d in conn.listAllDomains()]

    asyncio.run(scenario())


def test_libvirt_zone_through_the_api(make_cloud) -> None:
    """A libvirt zone (test:///default) runs instances through the public API."""
    c = make_cloud('[[zones]]\nname = "lv"\nhypervisor = "libvirt"\n'
                   'libvirt_uri = "test:///default"\nnodes = 2\n')
    ec2 = c.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=2,
                                                      MaxCount=2)["Instances"]]
    running = wait_state(ec2, ids, "running")
    assert {i["Placement"]["AvailabilityZone"] for i in running} == {"lv"}
    assert "state" in ec2.get_console_output(InstanceId=ids[0])["Output"]
    ec2.terminate_instances(InstanceIds=ids)
    wait_state(ec2, ids, "terminated")
