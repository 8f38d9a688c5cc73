"""EBS-backed instances: launch-time volumes (root snapshot, ``-b`` mappings) and CreateImage.

An EBS-backed instance's root volume must exist before its node boots it, and the
CLC builds the node's instance spec right after ``check_launch``; so the volumes are
created there, before placement, with their data (for the file backend, a restore
of the snapshot's image).  Volumes of instances that end up not placed are deleted
on the next turn of the loop (:meth:`BlockStorage.reap_unlaunched`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from server import errors, ids
from server.auth.authz import action, arn, combine, each_param
from server.clc.ebs import MAX_ATTACHMENTS, BlockStorage
from server.clc.model import Image, Instance
from server.clc.snapshots import start_snapshot
from server.sc.model import (
    AttachmentLimitExceeded,
    IncorrectState,
    InvalidSnapshotNotFound,
    Snapshot,
    Volume,
)

if TYPE_CHECKING:
    from server.protocol.params import Params
    from server.protocol.query import Context


def launch_mappings(image: Image, params: Params) -> list[dict[str, Any]]:
    """The image's EBS mappings, overridden by RunInstances' ``BlockDeviceMapping.N``."""
    by_device: OrderedDict[str, dict[str, Any]] = OrderedDict(
        (m["device"], dict(m)) for m in image.block_devices)
    for bdm in params.structs("BlockDeviceMapping"):
        device = bdm.str("DeviceName", required=True)
        if bdm.get("NoDevice") is not None:
            by_device.pop(device, None)
            continue
        if bdm.str("VirtualName"):
            by_device[device] = {"device": device, "virtual_name": bdm.str("VirtualName")}
            continue
        if bdm.get("Ebs") is None and device not in by_device:
            raise errors.MissingParameter("The request must contain the parameter ebs")
        ebs = bdm.struct("Ebs")
        mapping = by_device.get(device, {"device": device})
        mapping.pop("virtual_name", None)
        if ebs.str("SnapshotId"):
            mapping["snapshot_id"] = ebs.str("SnapshotId")
            mapping["from_request"] = True
        size = ebs.int("VolumeSize")
        if size is not None and size < 1:
            raise errors.InvalidParameterValue(
                f"Value ({size}) for parameter volumeSize is invalid. Expected a positive "
                "number of GiB.")
        if size:
            mapping["size"] = size
        delete = ebs.bool("DeleteOnTermination")
        if delete is not None:
            mapping["delete_on_termination"] = delete
        if not mapping.get("snapshot_id") and not mapping.get("size"):
            raise errors.MissingParameter("The request must contain the parameter size or "
                                          f"snapshotId (block device mapping {device})")
        by_device[device] = mapping
    return [m for m in by_device.values()
            if not m.get("virtual_name") and not m.get("no_device")]


def create_launch_volumes(ebs: BlockStorage, ctx: Context, image: Image,
                          insts: list[Instance], params: Params) -> None:
    """Check the mappings and limits; create and attach every instance's volumes."""
    mappings = launch_mappings(image, params)
    if image.root_device_type == "ebs" and not any(
            m["device"] == image.root_device_name and m.get("snapshot_id") for m in mappings):
        raise errors.InvalidParameterValue(
            f"Image {image.id} has no root snapshot for {image.root_device_name}")
    if not mappings or not insts:
        return
    if len(mappings) > MAX_ATTACHMENTS:
        raise AttachmentLimitExceeded(f"At most {MAX_ATTACHMENTS} volumes per instance "
                                      f"({len(mappings)} requested)")
    zone = insts[0].zone
    sc = ebs.sc(zone)
    planned: list[tuple[dict[str, Any], int, str]] = []  # mapping, size, snapshot location
    for m in mappings:
        location, size = "", int(m.get("size") or 0)
        if m.get("snapshot_id"):
            # The image's own mappings work for whoever may launch the image (as AWS);
            # snapshots named in the request must be restorable by the caller.
            snap = ebs.completed_snapshot(ctx, m["snapshot_id"]) if m.get("from_request") \
                else ebs.snapshots.get(m["snapshot_id"])
            if snap is None:
                raise InvalidSnapshotNotFound(f"The snapshot '{m['snapshot_id']}' does not exist.")
            if snap.state != "completed":
                raise IncorrectState(f"Snapshot '{snap.id}' is {snap.state}, not completed.")
            size = size or snap.volume_size
            if size < snap.volume_size:
                raise errors.InvalidParameterValue(
                    f"Volume of {size} GiB for {m['device']} is smaller than snapshot "
                    f"{snap.id} ({snap.volume_size} GiB)")
            location = snap.location
        planned.append((m, size, location))
    sc.check_capacity([size for _, size, _ in planned] * len(insts))

    made: list[Volume] = []
    now = ebs.clock.now()
    try:
        for inst in insts:
            for m, size, location in planned:
                vol = ebs.new_volume(inst.account_id, zone, size, m.get("snapshot_id", ""),
                                     m.get("volume_type", "standard"))
                sc.create_volume_now(vol, location)
                made.append(vol)
                delete = bool(m.get("delete_on_termination", True))
                vol.set_state("in-use")
                vol.set_attachment("attached")
                vol.instance_id, vol.device, vol.attach_time = inst.id, m["device"], now
                vol.delete_on_termination = delete
                ebs.save(vol)
                inst.block_devices.append({
                    "device": m["device"], "volume_id": vol.id,
                    "path": sc.export_volume(vol, inst.id),
                    "size": size, "fmt": vol.fmt, "status": "attached", "attach_time": now,
                    "delete_on_termination": delete})
    except Exception as exc:  # copy or download failed: undo what was made
        for vol in made:
            ebs._release(vol, None)
            sc.delete_volume(vol)
        for inst in insts:
            inst.block_devices = [b for b in inst.block_devices if not b.get("volume_id")]
        raise errors.AWSError(f"Could not create the instance's volumes: {exc}",
                              code="InternalError", status=500) from None
    ebs.clock.call_later(0.0, lambda: ebs.reap_unlaunched(insts))


def create_image(ctx: Context) -> Any:
    """CreateImage: snapshot an EBS-backed instance's volumes and register them as an image."""
    from server.clc.images import check_ami_name
    from server.clc.instances import IncorrectInstanceState, get_instance

    ebs = ctx.cloud.ebs
    clc = ebs.clc
    p = ctx.params
    inst = get_instance(ctx, p.str("InstanceId", required=True))
    name = p.str("Name", required=True)
    check_ami_name(name)
    if inst.root_device_type != "ebs":
        raise errors.InvalidParameterValue(
            f"Instance {inst.id} is instance-store: CreateImage images EBS-backed instances; "
            "make an image of an instance-store Windows instance with BundleInstance "
            "(euca-bundle-instance), then register the bundle (euca-register "
            "BUCKET/PREFIX.manifest.xml)")
    if inst.state not in ("running", "stopped", "stopping"):
        raise IncorrectInstanceState(
            f"The instance '{inst.id}' is not in a state from which an image can be created.")
    if any(i.name == name and i.account_id == ctx.account_id for i in clc.images.values()):
        raise errors.AWSError(f"AMI name {name} is already in use by AMI",
                              code="InvalidAMIName.Duplicate")
    excluded = {b.str("DeviceName") for b in p.structs("BlockDeviceMapping")
                if b.get("NoDevice") is not None}
    volumes = [ebs.volumes[b["volume_id"]] for b in inst.block_devices
               if b.get("volume_id") in ebs.volumes and b["device"] not in excluded]
    if not any(v.device == inst.root_device_name for v in volumes):
        raise IncorrectState(f"Instance {inst.id} has no root volume attached")
    for vol in volumes:
        ebs.sc(vol.zone).check_snapshot_capacity(vol.size)
    image_id = ids.image_id("emi")
    img = Image(image_id, ctx.account_id, name, f"{ctx.account_id}/{name}", state="pending",
                description=p.str("Description") or "", architecture=inst.architecture,
                kernel_id=inst.kernel_id, ramdisk_id=inst.ramdisk_id, platform=inst.platform,
                root_device_type="ebs", root_device_name=inst.root_device_name,
                virtualization_type=inst.virtualization_type, created=ebs.clock.now())
    ephemeral = [{"device": b.str("DeviceName"), "virtual_name": b.str("VirtualName")}
                 for b in p.structs("BlockDeviceMapping") if b.str("VirtualName")]

    def finished(_snap: Snapshot) -> None:
        states = {ebs.snapshots[m["snapshot_id"]].state if m["snapshot_id"] in ebs.snapshots
                  else "error" for m in img.block_devices if m.get("snapshot_id")}
        if "pending" in states or clc.images.get(img.id) is not img:
            return
        img.state = "available" if states == {"completed"} else "failed"
        clc.save(img)

    for vol in volumes:
        # Snapshots report asynchronously, so ``finished`` runs after the image is saved.
        snap = start_snapshot(ebs, vol, ctx.account_id,
                              f"Created by CreateImage({inst.id}) for {image_id} from {vol.id}",
                              then=finished)
        img.block_devices.append({"device": vol.device, "snapshot_id": snap.id,
                                  "size": vol.size,
                                  "delete_on_termination": vol.delete_on_termination,
                                  "volume_type": vol.volume_type})
    img.block_devices.extend(ephemeral)
    clc.images[img.id] = img
    clc.save(img)
    return {"imageId": img.id}


ACTIONS = {
    "CreateImage": action(
        create_image, "ec2:CreateImage",
        resources=combine(each_param("InstanceId", "instance"),
                          lambda ctx: [arn(ctx, "ec2", "image/*", account="")])),
}
