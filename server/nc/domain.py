"""Domain definitions for instances: libvirt XML and the config drive's contents.

Pure functions of an :class:`~server.nc.types.InstanceSpec` (no libvirt, no I/O), so they
are tested on their own; :mod:`server.nc.libvirt_driver` defines, starts and plugs them.
"""

from __future__ import annotations

import json
import os
import re
from xml.sax.saxutils import escape, quoteattr

from server.nc.types import BlockDevice, InstanceSpec

METADATA_NS = "http://eucalyptus.cloud/ns/instance/1"


def domain_type(uri: str) -> str:
    """The domain type for a connection URI (never ``kvm``: it hangs on machines without it)."""
    if uri.startswith("test:"):
        return "test"
    if uri.startswith("xen"):
        return "xen"
    return "qemu"


def _dev_name(device: str) -> str:
    """Guest device name for libvirt's <target dev=...>: /dev/sdf -> vdf (virtio)."""
    name = device.rsplit("/", 1)[-1].rstrip("0123456789")
    for prefix in ("xvd", "sd", "hd", "vd"):
        if name.startswith(prefix) and len(name) > len(prefix):
            return "vd" + name[len(prefix):]
    return name


def disk_xml(device: BlockDevice) -> str:
    """The <disk> element that attaches a volume's backing file to a domain."""
    target = _dev_name(device.device)
    return (f"<disk type='file' device='disk'><driver name='qemu' type={quoteattr(device.fmt)}/>"
            f"<source file={quoteattr(device.path or '/dev/null')}/>"
            f"<target dev={quoteattr(target)} bus='virtio'/>"
            f"<serial>{escape(device.volume_id)}</serial></disk>")


def _yaml_scalar(value: str) -> str:
    """A YAML scalar: plain when that is unambiguous, else a (JSON = YAML) quoted string."""
    return value if re.fullmatch(r"[A-Za-z0-9._/@+,-]+", value) else json.dumps(value)


def guest_hostname(spec: InstanceSpec) -> str:
    """The guest's host name: the CLC's (``metadata['hostname']``) or one from its address."""
    name = spec.metadata.get("hostname", "")
    if name:
        return name
    return "euca-" + spec.private_ip.replace(".", "-") if spec.private_ip else spec.instance_id


def config_drive_files(spec: InstanceSpec) -> dict[str, bytes]:
    """The NoCloud config drive's ``meta-data`` (YAML) and ``user-data`` for an instance.

    cloud-init reads ``instance-id``, ``local-hostname`` and ``public-keys``; the other
    keys carry the EC2 meta-data an image may want without a network (the same values
    the metadata service answers at ``/latest/meta-data/``).
    """
    meta = spec.metadata
    fields = [
        ("instance-id", spec.instance_id),
        ("local-hostname", guest_hostname(spec)),
        ("hostname", guest_hostname(spec)),
        ("ami-id", spec.image_id),
        ("kernel-id", spec.kernel_id),
        ("ramdisk-id", spec.ramdisk_id),
        ("instance-type", spec.vm_type),
        ("local-ipv4", spec.private_ip),
        ("public-ipv4", spec.public_ip),
        ("mac", spec.mac),
        ("reservation-id", spec.reservation_id),
        ("ami-launch-index", str(spec.launch_index)),
        ("availability-zone", meta.get("availability_zone", "")),
        ("security-groups", ",".join(spec.groups)),
    ]
    lines = [f"{k}: {_yaml_scalar(v)}" for k, v in fields if v]
    if spec.public_key:
        lines += ["public-keys:", f"  - {_yaml_scalar(spec.public_key.strip())}"]
    return {"meta-data": ("\n".join(lines) + "\n").encode(), "user-data": spec.user_data}


def domain_xml(spec: InstanceSpec, uri: str, work_dir: str) -> str:
    """The domain definition for an instance: the type's cores and memory, its disks."""
    kind = domain_type(uri)
    disks = "".join(disk_xml(b) for b in spec.block_devices)
    os_xml = "<os><type>hvm</type></os>"
    console = ""
    boot = spec.metadata
    if kind == "qemu":
        kernel, initrd = boot.get("kernel_path", ""), boot.get("ramdisk_path", "")
        # no_timer_check: under TCG on a busy host the kernel's IO-APIC timer check
        # can fail and panic the guest at boot; the timer works all the same.
        cmdline = boot.get("cmdline", "console=ttyS0 no_timer_check")
        os_xml = "<os><type arch='x86_64' machine='pc'>hvm</type>" + \
            (f"<kernel>{escape(kernel)}</kernel>" if kernel else "") + \
            (f"<initrd>{escape(initrd)}</initrd>" if initrd else "") + \
            (f"<cmdline>{escape(cmdline)}</cmdline>" if kernel else "<boot dev='hd'/>") + \
            "</os>"
        root = boot.get("root_path", "")
        if root:
            disks = (f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                     f"<source file={quoteattr(root)}/><target dev='vda' bus='virtio'/></disk>"
                     + disks)
        seed = boot.get("seed_iso", "")
        if seed:
            # A read-only virtio disk rather than an IDE cdrom: the guest then needs no
            # ATA/SCSI/cdrom drivers, only virtio-blk and isofs (cloud-init finds a NoCloud
            # seed by its "cidata" label on any block device).  ``vdz`` keeps it after
            # the root disk and any volume, so the guest sees the root disk as vda.
            disks += (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                      f"<source file={quoteattr(seed)}/><target dev='vdz' bus='virtio'/>"
                      "<readonly/></disk>")
        log_path = os.path.join(work_dir, f"{spec.instance_id}.console.log")
        # append: a reboot adds to the console log instead of starting it afresh.
        console = (f"<serial type='file'><source path={quoteattr(log_path)} append='on'/>"
                   "<target port='0'/></serial>")
    meta = (f"<metadata><euca:instance xmlns:euca='{METADATA_NS}'>"
            f"<euca:id>{escape(spec.instance_id)}</euca:id>"
            f"<euca:type>{escape(spec.vm_type)}</euca:type>"
            f"<euca:image>{escape(spec.image_id)}</euca:image>"
            f"<euca:account>{escape(spec.account_id)}</euca:account>"
            f"<euca:ip>{escape(spec.private_ip)}</euca:ip>"
            # Which NC owns the domain: several clouds (or nodes) may share one libvirtd.
            f"<euca:node>{escape(os.path.abspath(work_dir))}</euca:node>"
            "</euca:instance></metadata>")
    return (f"<domain type='{kind}'><name>{escape(spec.instance_id)}</name>{meta}"
            f"<memory unit='MiB'>{spec.resources.memory_mb}</memory>"
            f"<vcpu>{spec.resources.cores}</vcpu>{os_xml}"
            "<features><acpi/><apic/></features>"
            "<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot>"
            f"<devices>{disks}{console}</devices></domain>")
