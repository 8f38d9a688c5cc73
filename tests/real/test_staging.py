"""Staging a real guest without a daemon: the image cache, the overlay, the config drive.

These need qemu-img and genisoimage (skipped without them), not libvirtd.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from server.nc.domain import config_drive_files, domain_xml
from server.nc.images import ImageCache, ImageNotAvailable, ImageStore, image_format
from server.nc.types import InstanceSpec, Resources

SPEC = InstanceSpec(
    "i-00000000000000abc", "m1.small", Resources(1, 256, 5), image_id="emi-1",
    kernel_id="eki-1", ramdisk_id="eri-1", private_ip="10.1.0.7", public_ip="198.51.100.9",
    user_data=b"#cloud-config\n", public_key="ssh-rsa AAAAB3Nza key: with colon",
    groups=("default", "web"), reservation_id="r-1",
    metadata={"availability_zone": "zone-a", "hostname": "euca-10-1-0-7.eucalyptus.internal"})

needs_tools = pytest.mark.skipif(
    shutil.which("qemu-img") is None or shutil.which("genisoimage") is None,
    reason="qemu-img and genisoimage are needed (scripts/sysdeps.sh)")


class SlowSource:
    """An image source that takes a while and counts its downloads."""

    def __init__(self, delay: float = 0.2, fail: bool = False):
        self.delay = delay
        self.fail = fail
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def fetch(self, image_id: str, dest_path: str) -> None:
        with self._lock:
            self.calls.append(image_id)
        with open(dest_path, "wb") as fh:
            fh.write(b"half an image")
            time.sleep(self.delay)
            if self.fail:
                raise ImageNotAvailable(f"{image_id} went away")
            fh.write(b" and the rest" + image_id.encode())


def test_concurrent_launches_fetch_once(tmp_path: Path) -> None:
    """Eight launches of one image (and one of another) at once: one download each."""
    source = SlowSource()
    cache = ImageCache(str(tmp_path), source)
    paths: list[str] = []
    threads = [threading.Thread(target=lambda i=i: paths.append(cache.get(i)))
               for i in ["emi-1"] * 8 + ["eki-1"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(source.calls) == ["eki-1", "emi-1"]
    assert cache.fetches == {"emi-1": 1, "eki-1": 1}
    assert len(set(paths)) == 2 and sorted(p.name for p in tmp_path.iterdir()) == \
        ["eki-1", "emi-1"]
    assert cache.get("emi-1") == str(tmp_path / "emi-1") and len(source.calls) == 2


def test_failed_download_leaves_nothing(tmp_path: Path) -> None:
    """A failed fetch leaves no partial image, and the next launch tries again."""
    source = SlowSource(0.0, fail=True)
    cache = ImageCache(str(tmp_path), source)
    with pytest.raises(ImageNotAvailable):
        cache.get("emi-1")
    assert list(tmp_path.iterdir()) == []
    source.fail = False
    assert Path(cache.get("emi-1")).read_bytes().endswith(b"emi-1")
    with pytest.raises(ImageNotAvailable):
        cache.get("../etc/passwd")


def test_config_drive_files() -> None:
    """meta-data is YAML with the instance's facts; user-data is passed through."""
    files = config_drive_files(SPEC)
    meta = files["meta-data"].decode().splitlines()
    assert "instance-id: i-00000000000000abc" in meta
    assert "local-hostname: euca-10-1-0-7.eucalyptus.internal" in meta
    assert "availability-zone: zone-a" in meta and "security-groups: default,web" in meta
    assert "ami-id: emi-1" in meta and "public-ipv4: 198.51.100.9" in meta
    assert meta[-2:] == ["public-keys:", "  - " + json.dumps("ssh-rsa AAAAB3Nza key: with colon")]
    assert files["user-data"] == b"#cloud-config\n"


def test_domain_xml_for_a_staged_guest() -> None:
    """Direct kernel boot, the qcow2 root as vda, the config drive read-only, a console file."""
    from xml.etree import ElementTree as ET

    staged = InstanceSpec(**{**{f: getattr(SPEC, f) for f in SPEC.__dataclass_fields__},
                             "metadata": {"kernel_path": "/c/eki-1", "ramdisk_path": "/c/eri-1",
                                          "root_path": "/i/root.qcow2",
                                          "seed_iso": "/i/seed.iso"}})
    root = ET.fromstring(domain_xml(staged, "qemu:///system", "/w"))
    assert root.get("type") == "qemu"
    assert (root.findtext("os/kernel"), root.findtext("os/initrd")) == ("/c/eki-1", "/c/eri-1")
    assert "console=ttyS0" in (root.findtext("os/cmdline") or "")
    disks = {d.find("target").get("dev"): d for d in root.iter("disk")}  # type: ignore[union-attr]
    assert disks["vda"].find("source").get("file") == "/i/root.qcow2"  # type: ignore[union-attr]
    assert disks["vda"].find("driver").get("type") == "qcow2"  # type: ignore[union-attr]
    assert disks["vdz"].find("readonly") is not None
    assert root.find("devices/serial/source").get("path") == \
        "/w/i-00000000000000abc.console.log"  # type: ignore[union-attr]


@needs_tools
def test_stage_makes_overlay_and_seed(tmp_path: Path) -> None:
    """stage(): a copy-on-write overlay on the cached image and a cidata ISO, per instance."""
    import asyncio

    pytest.importorskip("libvirt")
    from server.clock import RealClock
    from server.nc.libvirt_driver import LibvirtHypervisor

    class RawSource:
        def fetch(self, image_id: str, dest_path: str) -> None:
            subprocess.run(["qemu-img", "create", "-q", "-f", "raw", dest_path, "8M"], check=True)

    cache = ImageCache(str(tmp_path / "cache"), RawSource())
    hv = LibvirtHypervisor("n1", RealClock(asyncio.new_event_loop()), "qemu:///system",
                           Resources(2, 1024, 10), str(tmp_path / "work"), images=cache)
    staged = hv.stage(SPEC)
    hv.pool.shutdown()
    root = staged.metadata["root_path"]
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", root],
                                     capture_output=True, check=True, text=True).stdout)
    assert info["format"] == "qcow2" and info["backing-filename"] == cache.path("emi-1")
    assert info["backing-filename-format"] == "raw" and image_format(root) == "qcow2"
    assert info["virtual-size"] == 5 << 30  # m1.small's disk, not the 8 MiB image
    assert info["actual-size"] < 1 << 20
    assert staged.metadata["kernel_path"] == cache.path("eki-1")
    seed = Path(staged.metadata["seed_iso"])
    assert seed.read_bytes()[32808:32814] == b"cidata"  # ISO 9660 primary volume id
    assert staged.metadata["availability_zone"] == "zone-a"  # the CLC's facts are kept
    assert cache.fetches == {"eki-1": 1, "eri-1": 1, "emi-1": 1}


def test_image_store_refuses_unknown_images(tmp_path: Path) -> None:
    """The store names what it cannot stage: unregistered IDs, images without a bundle."""
    from server.cloud import Cloud
    from server.config import load

    cloud: Any = Cloud(load(None, data_dir=str(tmp_path)))
    try:
        store = ImageStore(cloud.clc, cloud.walrus)
        with pytest.raises(ImageNotAvailable, match="not a registered image"):
            store.fetch("emi-00000000", str(tmp_path / "x"))
        from server.clc.model import Image

        # Registered, but its manifest was never uploaded (like the built-in default).
        cloud.clc.images["emi-11111111"] = Image("emi-11111111", "acct", "gone",
                                                 "nobucket/gone.manifest.xml")
        with pytest.raises(ImageNotAvailable, match="cannot stage"):
            store.fetch("emi-11111111", str(tmp_path / "x"))
        cloud.clc.images["emi-22222222"] = Image("emi-22222222", "acct", "flat", "flat")
        with pytest.raises(ImageNotAvailable, match="no bundle location"):
            store.fetch("emi-22222222", str(tmp_path / "x"))
        assert not (tmp_path / "x").exists()
    finally:
        cloud.engine.dispose()


def test_domains_belong_to_their_node(tmp_path: Path) -> None:
    """A node adopts or removes only the domains tagged with its own work dir."""
    import asyncio

    libvirt = pytest.importorskip("libvirt")
    from server.clock import RealClock
    from server.nc.libvirt_driver import LibvirtHypervisor

    uri = "test:///default"
    mine, other = tmp_path / "mine", tmp_path / "other"
    hv = LibvirtHypervisor("n1", RealClock(asyncio.new_event_loop()), uri,
                           Resources(2, 1024, 10), str(mine))
    conn = libvirt.open(uri)
    try:
        conn.defineXML(domain_xml(InstanceSpec("i-0000000000000aaa1", "m1.small", SMALL),
                                  uri, str(mine)))
        conn.defineXML(domain_xml(InstanceSpec("i-0000000000000bbb2", "m1.small", SMALL),
                                  uri, str(other)))
        assert "i-0000000000000aaa1" in hv.instances()
        assert "i-0000000000000bbb2" not in hv.instances()
        states = hv.domain_states()
        assert states.get("i-0000000000000aaa1") is False and "i-0000000000000bbb2" not in states
    finally:
        for name in ("i-0000000000000aaa1", "i-0000000000000bbb2"):
            conn.lookupByName(name).undefine()
        hv.pool.shutdown()


SMALL = Resources(1, 256, 5)


def test_terminate_while_staging(tmp_path: Path) -> None:
    """A terminate that overtakes a slow staging: no domain is ever booted."""
    import asyncio

    libvirt = pytest.importorskip("libvirt")
    from server.clock import RealClock
    from server.nc.libvirt_driver import LibvirtHypervisor
    from server.nc.types import Outcome

    class SlowStaging(LibvirtHypervisor):
        def stage(self, spec: InstanceSpec) -> InstanceSpec:
            time.sleep(0.5)
            return spec

    spec = InstanceSpec("i-0000000000000ccc3", "m1.small", SMALL)

    async def scenario() -> tuple[Outcome, Outcome]:
        loop = asyncio.get_running_loop()
        hv = SlowStaging("n1", RealClock(loop), "test:///default", Resources(2, 1024, 10),
                         str(tmp_path))
        started: asyncio.Future[Outcome] = loop.create_future()
        stopped: asyncio.Future[Outcome] = loop.create_future()
        hv.start(spec, started.set_result)
        await asyncio.sleep(0.1)
        hv.stop(spec.instance_id, stopped.set_result)
        result = await asyncio.wait_for(started, 10), await asyncio.wait_for(stopped, 10)
        await asyncio.sleep(0.05)
        assert not hv._starting and not hv._cancelled  # nothing kept per instance
        hv.pool.shutdown()
        return result

    started, stopped = asyncio.run(scenario())
    assert not started.ok and "terminated while staging" in started.error
    assert stopped.ok
    names = [d.name() for d in libvirt.open("test:///default").listAllDomains()]
    assert spec.instance_id not in names
