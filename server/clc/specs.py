"""The NC's instance spec built from a CLC instance record (ncRunInstance's message)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from server.clc.model import Instance
from server.metadata import instance_hostname
from server.nc.types import BlockDevice, InstanceSpec, Resources

if TYPE_CHECKING:
    from server.clc.controller import CloudController


def spec_for(clc: CloudController, inst: Instance) -> InstanceSpec:
    """The NC's view of an instance record (ncRunInstance's message)."""
    vt = clc.vm_types[inst.vm_type]
    key = clc.key_pairs.get((inst.account_id, inst.key_name))
    return InstanceSpec(
        instance_id=inst.id, vm_type=inst.vm_type,
        resources=Resources(vt.cpu, vt.memory, vt.disk), image_id=inst.image_id,
        kernel_id=inst.kernel_id, ramdisk_id=inst.ramdisk_id, private_ip=inst.private_ip,
        public_ip=inst.public_ip, mac=inst.mac, key_name=inst.key_name,
        public_key=key.public_key if key else "",
        user_data=base64.b64decode(inst.user_data) if inst.user_data else b"",
        launch_index=inst.launch_index, groups=tuple(g[1] for g in inst.groups),
        account_id=inst.account_id, reservation_id=inst.reservation_id,
        root_device_type=inst.root_device_type,
        # For the guest's config drive (the metadata service answers the same values).
        metadata={"availability_zone": inst.zone, "hostname": instance_hostname(
            inst.private_ip, clc.config.cloud.get("dns_domain") or "eucalyptus.internal")},
        block_devices=tuple(
            BlockDevice(b["device"], b.get("volume_id", ""), b.get("path", ""),
                        int(b.get("size", 0) or 0), b.get("fmt", "raw"))
            for b in inst.block_devices if b.get("volume_id") or b.get("path")))
