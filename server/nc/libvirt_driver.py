"""The libvirt hypervisor driver: one domain per instance, via libvirt-python.

libvirt calls block, so they run on a small worker pool and report back to the
control loop through ``clock.call_soon_threadsafe`` (the driver's ``done`` callbacks
always run on the loop).  Domains carry their instance's facts in ``<metadata>`` so
a restarted NC rediscovers them.  Tested on libvirt's ``test:///default`` driver
(no daemon); real guests use ``qemu:///system`` with ``<domain type='qemu'>``.

For real guests (``qemu:`` URIs, with an ``image_store`` in the zone config) starting
an instance first stages it (reference §4 STAGING): the kernel, ramdisk and machine
image come from the node's :class:`~server.nc.images.ImageCache` (fetched from Walrus
once per node), the root disk is a qcow2 copy-on-write overlay on the cached image, and
a NoCloud config drive (ISO 9660, volume id ``cidata``) carries the instance's
meta-data and user-data.  All of an instance's files live in
``WORK_DIR/instances/<id>/`` and go when it is terminated.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from server.clock import Clock
from server.nc.domain import METADATA_NS, disk_xml, domain_type, domain_xml
from server.nc.edge import EdgeSettings, GuestNic, edge_enabled
from server.nc.images import ImageCache, ImageSource, image_format, make_config_drive, run_tool
from server.nc.sensors import Sample
from server.nc.types import OK, BlockDevice, Done, InstanceSpec, Outcome, Resources

log = logging.getLogger(__name__)

class LibvirtHypervisor:
    """A node's libvirt connection and the domains of its instances."""

    def __init__(self, node: str, clock: Clock, uri: str, resources: Resources,
                 work_dir: str, workers: int = 4, images: ImageCache | None = None,
                 nic: GuestNic | None = None):
        import libvirt

        self.libvirt = libvirt
        self.node = node
        self.clock = clock
        self.uri = uri
        self.resources = resources
        self.work_dir = work_dir
        #: The node's image cache; None: domains get no staged disks (test:///, no Walrus).
        self.images = images
        #: The guests' NIC on zones with guest networking (server/nc/edge.py); None: none.
        self.nic = nic
        self._private_ips: dict[str, str] = {}
        os.makedirs(work_dir, exist_ok=True)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"libvirt-{node}")
        self._lock = threading.Lock()
        self._conn: Any = None
        self.disks: dict[str, dict[str, BlockDevice]] = {}
        # One lock per instance serializes its start and stop: a terminate that arrives
        # while the instance is still staging waits, then tears down what start made.
        self._instance_locks: dict[str, threading.Lock] = {}
        # Starts not yet finished, and those of them a terminate has overtaken (both
        # only touched on the loop thread, read by workers).
        self._starting: set[str] = set()
        self._cancelled: set[str] = set()
        #: DescribeSensors: the last counters and sample per domain (written by workers)
        self._counters: dict[str, tuple[float, ...]] = {}
        self._samples: dict[str, Sample] = {}
        libvirt.registerErrorHandler(lambda _ctx, _err: None, None)  # no stderr noise

    # -- plumbing ------------------------------------------------------------------
    def conn(self) -> Any:
        """The (re)opened connection."""
        with self._lock:
            if self._conn is None or not self._conn.isAlive():
                self._conn = self.libvirt.open(self.uri)
            return self._conn

    def _submit(self, work: Callable[[], None], done: Done) -> None:
        def run() -> None:
            try:
                work()
                outcome = OK
            except Exception as exc:  # libvirtError and OS errors alike end the operation
                log.warning("%s: libvirt operation failed: %s", self.node, exc)
                outcome = Outcome(False, str(exc))
            self._report(done, outcome)

        self.pool.submit(run)

    def _report(self, done: Done, outcome: Outcome) -> None:
        self.clock_call(lambda: done(outcome))

    def _domain(self, instance_id: str) -> Any:
        return self.conn().lookupByName(instance_id)

    def _instance_lock(self, instance_id: str) -> threading.Lock:
        with self._lock:
            return self._instance_locks.setdefault(instance_id, threading.Lock())

    def instance_dir(self, instance_id: str) -> str:
        """Where an instance's root disk overlay and config drive live."""
        return os.path.join(self.work_dir, "instances", instance_id)

    def console_path(self, instance_id: str) -> str:
        """The guest's serial console log."""
        return os.path.join(self.work_dir, f"{instance_id}.console.log")

    # -- staging (reference §4 STAGING) ---------------------------------------------
    def stage(self, spec: InstanceSpec) -> InstanceSpec:
        """Prepare a real guest's disks; the spec with their paths in ``metadata``.

        Kernel, ramdisk and image come from the node's cache; the root disk is a qcow2
        overlay on the cached image (instances never write to the shared copy); the
        config drive is an ISO with the instance's meta-data and user-data.
        """
        if self.images is None or domain_type(self.uri) != "qemu":
            return spec
        directory = self.instance_dir(spec.instance_id)
        os.makedirs(directory, exist_ok=True)
        boot = dict(spec.metadata)
        if spec.kernel_id:
            boot["kernel_path"] = self.images.get(spec.kernel_id)
        if spec.ramdisk_id:
            boot["ramdisk_path"] = self.images.get(spec.ramdisk_id)
        if spec.image_id:
            base = self.images.get(spec.image_id)
            fmt = image_format(base)
            root = os.path.join(directory, "root.qcow2")
            argv = ["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", fmt, root]
            # The root disk gets the instance type's disk size (sparse: reads past the
            # image are zeros, so a guest can grow its file system into it).
            want = spec.resources.disk_gb << 30
            if fmt == "raw" and want > os.path.getsize(base):
                argv.append(str(want))
            run_tool(argv)
            boot["root_path"] = root
        boot["seed_iso"] = make_config_drive(spec, directory)
        return dataclasses.replace(spec, metadata=boot)

    def _remove_files(self, instance_id: str) -> None:
        shutil.rmtree(self.instance_dir(instance_id), ignore_errors=True)
        log_path = self.console_path(instance_id)
        if os.path.exists(log_path):
            os.unlink(log_path)

    # -- Hypervisor ----------------------------------------------------------------
    def describe(self) -> Resources:
        """The node's resources (configured, like MAX_CORES, rather than probed)."""
        return self.resources

    def start(self, spec: InstanceSpec, done: Done) -> None:
        """Stage, define and start the domain (or adopt a running one after an NC restart)."""
        iid = spec.instance_id
        self._starting.add(iid)

        def work() -> None:
            try:
                with self._instance_lock(iid):
                    self._start(spec)
            finally:
                self.clock_call(lambda: self._finish_start(iid))

        self._submit(work, done)

    def _start(self, spec: InstanceSpec) -> None:
        iid = spec.instance_id
        conn = self.conn()
        try:
            dom = conn.lookupByName(iid)  # rediscovered: keep its disks as they are
        except self.libvirt.libvirtError:
            dom = None
        if dom is None:
            if iid in self._cancelled:
                raise RuntimeError(f"{iid} was terminated before it was staged")
            staged = self.stage(spec)
            if iid in self._cancelled:
                raise RuntimeError(f"{iid} was terminated while staging")
            xml = domain_xml(staged, self.uri, self.work_dir)
            if self.nic is not None and spec.private_ip:
                xml = xml.replace("</devices>", self.nic.interface_xml(spec.private_ip)
                                  + "</devices>", 1)
            dom = conn.defineXML(xml)
        if self.nic is not None and spec.private_ip:
            self._private_ips[iid] = spec.private_ip
        if not dom.isActive():
            if iid in self._private_ips and self.nic is not None:
                self.nic.prepare(spec.private_ip)
            dom.create()
        if not dom.isActive():
            raise RuntimeError(f"domain {iid} did not start")
        if iid in self._private_ips and self.nic is not None:
            self.nic.plug(spec.private_ip)  # also when adopted: it converges
        self.disks.setdefault(iid, {})

    def _finish_start(self, instance_id: str) -> None:
        self._starting.discard(instance_id)
        self._cancelled.discard(instance_id)

    def clock_call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the control loop (from a worker thread)."""
        callback = getattr(self.clock, "call_soon_threadsafe", None)
        if callback is not None:
            callback(fn)
        else:
            fn()

    def stop(self, instance_id: str, done: Done) -> None:
        """Destroy and undefine the domain; remove its disks and console log."""
        if instance_id in self._starting:
            self._cancelled.add(instance_id)  # the start gives up rather than boot it
        self._submit(lambda: self._teardown(instance_id), done)

    def _teardown(self, instance_id: str) -> None:
        """Destroy and undefine a domain and remove its files (blocking)."""
        with self._instance_lock(instance_id):
            try:
                dom = self._domain(instance_id)
            except self.libvirt.libvirtError:
                dom = None  # never defined, or already gone: only files to remove
            if dom is not None:
                if dom.isActive():
                    try:
                        dom.destroy()
                    except self.libvirt.libvirtError:
                        if dom.isActive():  # not merely "it stopped on its own"
                            raise
                flags = getattr(self.libvirt, "VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA", 0) | \
                    getattr(self.libvirt, "VIR_DOMAIN_UNDEFINE_NVRAM", 0)
                try:
                    dom.undefineFlags(flags)
                except self.libvirt.libvirtError:
                    dom.undefine()
            self.disks.pop(instance_id, None)
            self._remove_files(instance_id)
            private_ip = self._private_ips.pop(instance_id, "")
            if self.nic is not None and private_ip:
                self.nic.unplug(private_ip)
        with self._lock:
            self._instance_locks.pop(instance_id, None)

    def reboot(self, instance_id: str, done: Done) -> None:
        """Reboot the guest: power it off and start it again from its definition.

        A hard reboot (EC2 falls back to one when a guest does not restart by itself):
        libvirt's ACPI reboot depends on the guest listening, which small or hung guests
        do not.  Disks are kept: the root overlay, and attached volumes, which are in the
        persistent definition (reference §11: a volume must survive a reboot).
        """
        def work() -> None:
            with self._instance_lock(instance_id):
                dom = self._domain(instance_id)
                if dom.isActive():
                    dom.destroy()
                private_ip = self._private_ips.get(instance_id, "")
                if self.nic is not None and private_ip:
                    self.nic.prepare(private_ip)  # QEMU opens the tap again out here
                dom.create()
                if self.nic is not None and private_ip:
                    self.nic.plug(private_ip)

        self._submit(work, done)

    def console_output(self, instance_id: str) -> bytes:
        """The guest's serial console log (a summary line on the test driver)."""
        path = self.console_path(instance_id)
        if os.path.exists(path):
            with open(path, "rb") as fh:
                fh.seek(max(0, os.path.getsize(path) - 64 * 1024))
                return fh.read()
        try:
            dom = self._domain(instance_id)
            state, _, mem, vcpus, _ = dom.info()
        except self.libvirt.libvirtError:
            return b""
        return (f"libvirt {self.uri}: domain {instance_id} state {state} "
                f"vcpus {vcpus} memory {mem // 1024} MiB\n").encode()

    def attach_volume(self, instance_id: str, device: BlockDevice, done: Done) -> None:
        """Hot-plug the volume's disk; drivers without hot-plug get it in the persistent config."""
        self._change_disk(instance_id, device, attach=True, done=done)

    def detach_volume(self, instance_id: str, device: BlockDevice, done: Done) -> None:
        """Unplug the volume's disk."""
        self._change_disk(instance_id, device, attach=False, done=done)

    def _change_disk(self, instance_id: str, device: BlockDevice, attach: bool,
                     done: Done) -> None:
        """Plug or unplug a disk, live and in the config when the domain runs."""
        xml = disk_xml(device)

        def work() -> None:
            dom = self._domain(instance_id)
            lv = self.libvirt
            flags = (lv.VIR_DOMAIN_AFFECT_LIVE | lv.VIR_DOMAIN_AFFECT_CONFIG
                     if dom.isActive() else lv.VIR_DOMAIN_AFFECT_CONFIG)
            try:
                if attach:
                    dom.attachDeviceFlags(xml, flags)
                else:
                    dom.detachDeviceFlags(xml, flags)
            except lv.libvirtError as exc:
                if exc.get_error_code() != lv.VIR_ERR_NO_SUPPORT:
                    raise
                # test:///default cannot hot-plug: rewrite the definition instead.
                if attach:
                    self._redefine_with(dom, xml)
                else:
                    self._redefine_with(dom, None, remove_serial=device.volume_id)
            if attach:
                self.disks.setdefault(instance_id, {})[device.volume_id] = device
            else:
                self.disks.get(instance_id, {}).pop(device.volume_id, None)

        self._submit(work, done)

    def _redefine_with(self, dom: Any, add: str | None, remove_serial: str = "") -> None:
        """Rewrite a domain's persistent definition with a disk added or removed."""
        from xml.etree import ElementTree as ET

        import defusedxml.ElementTree as DET

        root = DET.fromstring(dom.XMLDesc(self.libvirt.VIR_DOMAIN_XML_INACTIVE))
        devices = root.find("devices")
        if devices is None:
            devices = ET.SubElement(root, "devices")
        if add is not None:
            devices.append(DET.fromstring(add))
        if remove_serial:
            for disk in devices.findall("disk"):
                serial = disk.find("serial")
                if serial is not None and serial.text == remove_serial:
                    devices.remove(disk)
        self.conn().defineXML(ET.tostring(root, encoding="unicode"))

    def domain_disks(self, instance_id: str) -> list[str]:
        """The <disk> elements of a domain's persistent definition (for checks and tests)."""
        from xml.etree import ElementTree as ET

        import defusedxml.ElementTree as DET

        dom = self._domain(instance_id)
        root = DET.fromstring(dom.XMLDesc(self.libvirt.VIR_DOMAIN_XML_INACTIVE))
        return [ET.tostring(d, encoding="unicode") for d in root.iter("disk")]

    def instances(self) -> list[str]:
        """This node's instances (domains with our metadata) libvirt knows, for rediscovery."""
        return [dom.name() for dom in self.conn().listAllDomains() if self._owns(dom)]

    def _owns(self, dom: Any) -> bool:
        """True for domains this node defined (several clouds may share one libvirtd)."""
        import defusedxml.ElementTree as DET

        try:
            meta = dom.metadata(self.libvirt.VIR_DOMAIN_METADATA_ELEMENT, METADATA_NS)
        except self.libvirt.libvirtError:
            return False  # not an instance's domain at all
        # libvirt hands the element back without its namespace.  Strict: an untagged
        # or foreign domain is never ours to adopt or remove.
        root = DET.fromstring(meta)
        owner = root.findtext("node") or root.findtext(f"{{{METADATA_NS}}}node")
        return bool(owner == os.path.abspath(self.work_dir))

    def healthy(self) -> bool:
        """True when libvirt answers."""
        try:
            self.conn().getLibVersion()
            return True
        except Exception:
            with self._lock:
                self._conn = None
            return False

    def domain_states(self) -> dict[str, bool]:
        """This node's domains: instance ID -> whether it runs (blocking)."""
        return {d.name(): bool(d.isActive()) for d in self.conn().listAllDomains()
                if self._owns(d)}

    def check_health(self, report: Callable[[bool, dict[str, bool] | None], None]) -> None:
        """Off the control loop: does libvirt answer, and which of our domains run.

        ``report(healthy, domains)`` runs on the loop; ``domains`` (:meth:`domain_states`)
        is None when libvirt could not be asked.
        """
        def run() -> None:
            ok = self.healthy()
            running: dict[str, bool] | None = None
            if ok:
                try:
                    running = self.domain_states()
                except Exception:  # libvirt went away between the two calls
                    ok = False
            self.clock_call(lambda: report(ok, running))

        self.pool.submit(run)

    # -- sensors (DescribeSensors) ----------------------------------------------------------
    def sensor_sample(self, instance_id: str, seconds: float) -> Sample | None:
        """The latest measured sample of a domain; measures again off the loop, so the
        first call after a start has nothing yet (None)."""
        self.pool.submit(self._measure_quietly, instance_id)
        return self._samples.get(instance_id)

    def _measure_quietly(self, instance_id: str) -> None:
        try:
            self.measure(instance_id)
        except Exception as exc:  # a domain that went away: no sample this time
            log.debug("%s: no statistics for %s: %s", self.node, instance_id, exc)
            self._samples.pop(instance_id, None)

    def measure(self, instance_id: str) -> Sample | None:
        """Read a domain's counters (virDomainGetCPUStats, block and interface stats) and
        turn the change since the last reading into a sample (blocking)."""
        import defusedxml.ElementTree as DET

        dom = self._domain(instance_id)
        if not dom.isActive():
            return None
        root = DET.fromstring(dom.XMLDesc(0))
        cpu_ns = float(dom.getCPUStats(True)[0]["cpu_time"])
        vcpus = max(1, int(dom.info()[3]))
        disk = [0.0, 0.0, 0.0, 0.0]  # read ops, read bytes, write ops, write bytes
        for target in root.iterfind("devices/disk/target"):
            stats = dom.blockStats(target.get("dev"))
            for i in range(4):
                disk[i] += stats[i]
        net = [0.0, 0.0, 0.0, 0.0]  # rx bytes, rx packets, tx bytes, tx packets
        for target in root.iterfind("devices/interface/target"):
            stats = dom.interfaceStats(target.get("dev"))
            net = [net[0] + stats[0], net[1] + stats[1], net[2] + stats[4], net[3] + stats[5]]
        # Guest CPU time is measured against real elapsed time, not the cloud's clock.
        counters = (time.monotonic(), cpu_ns, *disk, *net)
        prev = self._counters.get(instance_id)
        self._counters[instance_id] = counters
        if prev is None or counters[0] <= prev[0]:
            return None
        d = [max(0.0, c - p) for c, p in zip(counters, prev, strict=True)]
        cpu = min(100.0, d[1] / (d[0] * 1e9 * vcpus) * 100.0)
        sample: Sample = {
            "CPUUtilization": (cpu, "Percent"),
            "DiskReadOps": (d[2], "Count"), "DiskReadBytes": (d[3], "Bytes"),
            "DiskWriteOps": (d[4], "Count"), "DiskWriteBytes": (d[5], "Bytes"),
            "NetworkIn": (d[6], "Bytes"), "NetworkPacketsIn": (d[7], "Count"),
            "NetworkOut": (d[8], "Bytes"), "NetworkPacketsOut": (d[9], "Count"),
            "StatusCheckFailed": (0.0, "Count"), "StatusCheckFailed_Instance": (0.0, "Count"),
            "StatusCheckFailed_System": (0.0, "Count")}
        self._samples[instance_id] = sample
        return sample


def libvirt_driver(node: str, config: dict[str, Any], clock: Clock) -> LibvirtHypervisor:
    """Driver factory for ``hypervisor = "libvirt"`` zones."""
    resources = Resources(int(config.get("node_cores", 8)), int(config.get("node_memory_mb", 16384)),
                          int(config.get("node_disk_gb", 200)))
    work_dir = os.path.join(config.get("data_dir", "."), "nc", node)
    uri = str(config.get("libvirt_uri", "test:///default"))
    source: ImageSource | None = config.get("image_store")
    # Only real guests boot staged images; test:/// domains stay disk-less (and fast).
    images = ImageCache(os.path.join(work_dir, "cache"), source) \
        if source is not None and domain_type(uri) == "qemu" else None
    nic = GuestNic(EdgeSettings(config)) if edge_enabled(config) and images is not None else None
    return LibvirtHypervisor(node, clock, uri, resources, work_dir, images=images, nic=nic)
