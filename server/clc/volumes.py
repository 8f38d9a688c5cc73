"""EC2 volume actions: Create, Delete, Describe, Attach, Detach, status and attributes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from server import errors
from server.auth.authz import action, combine, each_param, fixed, keys_from
from server.clc.filters import Filters, page
from server.clc.render import tag_set
from server.clc.tags import apply_tags, tag_specifications
from server.protocol.slices import rendered
from server.protocol.xml import iso8601
from server.sc.model import (
    IncorrectState,
    InvalidAttachmentNotFound,
    InvalidVolumeZoneMismatch,
    InvalidZoneNotFound,
    Volume,
    VolumeInUse,
)

if TYPE_CHECKING:
    from server.clc.ebs import BlockStorage
    from server.protocol.query import Context

#: Device names a volume may be attached as (Linux and Xen styles, as EC2 accepts them).
DEVICE = re.compile(r"^/dev/(sd[a-z][0-9]*|xvd[a-z][0-9]*|vd[a-z]|hd[a-z])$|^xvd[a-z]$")
#: AWS's volume types, each with its size range in GiB.
VOLUME_SIZES = {"standard": (1, 1024), "gp2": (1, 16384), "gp3": (1, 16384), "io1": (4, 16384),
                "io2": (4, 16384), "st1": (125, 16384), "sc1": (125, 16384)}
VOLUME_TYPES = tuple(VOLUME_SIZES)
#: Provisioned IOPS: the range, and the most IOPS per GiB, of each type that takes them.
VOLUME_IOPS = {"io1": (100, 64000, 50), "io2": (100, 256000, 1000), "gp3": (3000, 16000, 500)}
#: gp3's throughput range in MiB/s (the only type whose throughput is provisioned).
GP3_THROUGHPUT = (125, 1000)
#: What a gp3 volume has when its IOPS and throughput are not given.
GP3_BASELINE = (3000, 125)


def check_volume_type(volume_type: str, size: int, iops: int | None,
                      throughput: int | None) -> None:
    """AWS's constraints on a volume of ``volume_type``: its size, its IOPS (range and
    ratio to the size) and its throughput."""
    if volume_type not in VOLUME_SIZES:
        raise errors.InvalidParameterValue(f"Invalid value '{volume_type}' for volumeType")
    low, high = VOLUME_SIZES[volume_type]
    if not low <= size <= high:
        raise errors.InvalidParameterValue(
            f"Volume of {size} GiB is invalid for type {volume_type}: the size must be "
            f"between {low} and {high} GiB.")
    if iops is not None:
        if volume_type not in VOLUME_IOPS:
            raise errors.InvalidParameterCombination(
                f"The parameter iops is not supported for {volume_type} volumes.")
        least, most, ratio = VOLUME_IOPS[volume_type]
        if not least <= iops <= most:
            raise errors.InvalidParameterValue(
                f"Value ({iops}) for parameter iops is invalid. Expecting a value between "
                f"{least} and {most} for {volume_type} volumes.")
        if iops > max(least, size * ratio):
            raise errors.InvalidParameterValue(
                f"Iops to volume size ratio of {iops / size:f} is too high; maximum is "
                f"{ratio:f}.")
    if throughput is not None:
        if volume_type != "gp3":
            raise errors.InvalidParameterCombination(
                f"The parameter throughput is not supported for {volume_type} volumes.")
        if not GP3_THROUGHPUT[0] <= throughput <= GP3_THROUGHPUT[1]:
            raise errors.InvalidParameterValue(
                f"Value ({throughput}) for parameter throughput is invalid. Expecting a value "
                f"between {GP3_THROUGHPUT[0]} and {GP3_THROUGHPUT[1]}.")


def _ebs(ctx: Context) -> BlockStorage:
    """The handlers' backend: the CLC's EBS."""
    return ctx.cloud.ebs


def attachment_xml(vol: Volume) -> dict[str, Any]:
    """One ``attachmentSet`` item (also the Attach/DetachVolume answer)."""
    return {"volumeId": vol.id, "instanceId": vol.instance_id, "device": vol.device,
            "status": vol.attach_state, "attachTime": iso8601(vol.attach_time),
            "deleteOnTermination": vol.delete_on_termination}


def volume_xml(ctx: Context, vol: Volume) -> dict[str, Any]:
    """One ``volumeSet`` item."""
    return {
        "volumeId": vol.id, "size": vol.size, "snapshotId": vol.snapshot_id or None,
        "availabilityZone": vol.zone, "status": vol.state, "createTime": iso8601(vol.created),
        "attachmentSet": [attachment_xml(vol)] if vol.attached else [],
        "tagSet": tag_set(_ebs(ctx).clc, vol.id), "volumeType": vol.volume_type,
        "iops": vol.iops or (gp2_iops(vol.size) if vol.volume_type == "gp2" else None),
        "throughput": vol.throughput or None, "encrypted": False,
        "multiAttachEnabled": False}


def gp2_iops(size: int) -> int:
    """A gp2 volume's baseline IOPS: 3 per GiB, at least 100 and at most 16,000 (AWS)."""
    return max(100, min(16000, 3 * size))


def create_volume(ctx: Context) -> Any:
    """CreateVolume: a size, or a snapshot (any zone's), in one zone."""
    ebs = _ebs(ctx)
    p = ctx.params
    zone = p.str("AvailabilityZone", required=True)
    if zone not in ebs.zones:
        raise InvalidZoneNotFound(f"The zone '{zone}' does not exist.")
    sc = ebs.sc(zone)
    tags = tag_specifications(ctx, ("volume",))
    snap = None
    snapshot_id = p.str("SnapshotId")
    if snapshot_id:
        snap = ebs.completed_snapshot(ctx, snapshot_id)
    size = p.int("Size")
    if size is None:
        if snap is None:
            raise errors.MissingParameter("The request must contain the parameter size or "
                                          "snapshotId")
        size = snap.volume_size
    if snap is not None and size < snap.volume_size:
        raise errors.InvalidParameterValue(
            f"Volume of {size} GiB is smaller than snapshot {snap.id}, expect size >= "
            f"{snap.volume_size}")
    volume_type = p.str("VolumeType") or "standard"
    check_volume_type(volume_type, size, p.int("Iops"), p.int("Throughput"))
    iops = p.int("Iops") or (GP3_BASELINE[0] if volume_type == "gp3" else 0)
    sc.check_capacity([size])
    vol = ebs.new_volume(ctx.account_id, zone, size, snap.id if snap else "", volume_type, iops)
    if volume_type == "gp3":
        vol.throughput = p.int("Throughput") or GP3_BASELINE[1]
    sc.create_volume(vol, snap.location if snap else "")
    if "volume" in tags:
        apply_tags(ctx, vol.id, vol.account_id, tags["volume"])
    out = volume_xml(ctx, vol)
    out.pop("attachmentSet")
    if not tags:
        out.pop("tagSet")
    return out


def delete_volume(ctx: Context) -> Any:
    """DeleteVolume: only an available (or failed) volume."""
    ebs = _ebs(ctx)
    vol = ebs.volume(ctx, ctx.params.str("VolumeId", required=True))
    if vol.attached or vol.state == "in-use":
        raise VolumeInUse(f"Volume {vol.id} is currently attached to {vol.instance_id}")
    if vol.state not in ("available", "error"):
        raise IncorrectState(f"Volume '{vol.id}' is {vol.state}: only available volumes can "
                             "be deleted.")
    ebs.sc(vol.zone).delete_volume(vol)
    return None


def _filters(ctx: Context) -> Filters:
    clc = _ebs(ctx).clc

    def att(fn: Any) -> Any:
        return lambda v: fn(v) if v.attached else None

    return Filters({
        "attachment.attach-time": att(lambda v: iso8601(v.attach_time)),
        "attachment.delete-on-termination": att(lambda v: v.delete_on_termination),
        "attachment.device": att(lambda v: v.device),
        "attachment.instance-id": att(lambda v: v.instance_id),
        "attachment.status": att(lambda v: v.attach_state),
        "availability-zone": lambda v: v.zone, "create-time": lambda v: iso8601(v.created),
        "encrypted": lambda v: False, "size": lambda v: str(v.size),
        "snapshot-id": lambda v: v.snapshot_id, "status": lambda v: v.state,
        "volume-id": lambda v: v.id, "volume-type": lambda v: v.volume_type,
        "multi-attach-enabled": lambda v: False, "fast-restored": lambda v: False,
    }, lambda v: clc.tags.get(v.id, {}))


def visible_volumes(ctx: Context, wanted: list[str], ids_param: str) -> list[Volume]:
    """The caller's volumes (named ones must exist); ``verbose`` shows an admin all."""
    ebs = _ebs(ctx)
    everyone = ctx.is_admin and "verbose" in wanted
    wanted = [w for w in wanted if w != "verbose"]
    if wanted and ctx.params.get("MaxResults") is not None:
        raise errors.InvalidParameterCombination(
            f"The parameter {ids_param} cannot be used with the parameter maxResults")
    if wanted:
        return [ebs.volume(ctx, vid) for vid in wanted]
    return [v for v in ebs.volumes.values() if v.state != "deleted"
            and (everyone or v.account_id == ctx.account_id)]


async def describe_volumes(ctx: Context) -> Any:
    """DescribeVolumes with attachments, tags, filters and paging (5..500)."""
    vols = visible_volumes(ctx, ctx.params.strings("VolumeId"), "volumeSet")
    filt = ctx.params.filters()
    if filt:
        vols = _filters(ctx).apply(vols, filt)
    vols.sort(key=lambda v: (v.created, v.id))
    chunk, token = page(vols, ctx.params, low=5, high=500, clamp=True)
    return {"volumeSet": await rendered(_ebs(ctx).clc.big_answers,
                                        [volume_xml(ctx, v) for v in chunk]),
            "nextToken": token}


def attach_volume(ctx: Context) -> Any:
    """AttachVolume: an available volume to a running or stopped instance in its zone."""
    from server.clc.instances import IncorrectInstanceState, get_instance

    ebs = _ebs(ctx)
    p = ctx.params
    vol = ebs.volume(ctx, p.str("VolumeId", required=True))
    inst = get_instance(ctx, p.str("InstanceId", required=True))
    device = p.str("Device", required=True)
    if vol.attached or vol.state == "in-use":
        raise VolumeInUse(f"{vol.id} is already attached to an instance")
    if vol.state != "available":
        raise IncorrectState(f"Volume '{vol.id}' is {vol.state}: only available volumes can "
                             "be attached.")
    if inst.account_id != vol.account_id:
        raise errors.AuthFailure(f"Not authorized to attach {vol.id} to {inst.id}")
    if vol.zone != inst.zone:
        raise InvalidVolumeZoneMismatch(
            f"The volume '{vol.id}' is not in the same availability zone as instance "
            f"'{inst.id}'")
    if inst.state not in ("running", "stopped"):
        raise IncorrectInstanceState(f"Instance '{inst.id}' is not 'running' or 'stopped'.")
    if not DEVICE.match(device):
        raise errors.InvalidParameterValue(f"Value ({device}) for parameter device is invalid. "
                                           f"{device} is not a valid EBS device name.")
    ebs.check_attachable(inst, device)
    ebs.attach(vol, inst, device)
    return attachment_xml(vol)


def detach_volume(ctx: Context) -> Any:
    """DetachVolume (``Force`` detaches even if the hypervisor does not answer)."""
    ebs = _ebs(ctx)
    p = ctx.params
    vol = ebs.volume(ctx, p.str("VolumeId", required=True))
    iid, device = p.str("InstanceId"), p.str("Device")
    if not vol.attached:
        raise IncorrectState(f"Volume '{vol.id}' is in the '{vol.state}' state.")
    if (iid and iid != vol.instance_id) or (device and device != vol.device):
        raise InvalidAttachmentNotFound(
            f"Volume '{vol.id}' is not attached to {iid or vol.instance_id} as "
            f"{device or vol.device}")
    force = bool(p.bool("Force", False))
    if vol.attach_state == "detaching" and not force:
        raise IncorrectState(f"Volume '{vol.id}' is already detaching.")
    inst = ebs.clc.instances.get(vol.instance_id)
    if inst is not None and vol.device == inst.root_device_name and \
            inst.state not in ("stopped", "terminated"):
        raise IncorrectState(f"Unable to detach root volume '{vol.id}' from instance "
                             f"'{inst.id}' while it is {inst.state}")
    if inst is not None and inst.state in ("pending", "stopping", "shutting-down") and \
            not force:
        # The node is (re)building or tearing the domain down: nothing to unplug from yet.
        raise IncorrectState(f"Instance '{inst.id}' is {inst.state}: detach when it is "
                             "running or stopped, or use force")
    if vol.attach_state == "attaching":
        vol.set_attachment("attached")  # detaching a volume not yet plugged in: unplug it
    if vol.attach_state == "attached":
        ebs.detach(vol, force=force)
    else:
        ebs._release(vol, inst)
        ebs.save(vol)
    out = attachment_xml(vol)
    return out


def describe_volume_status(ctx: Context) -> Any:
    """DescribeVolumeStatus: io-enabled checks (impaired for failed volumes)."""
    vols = visible_volumes(ctx, ctx.params.strings("VolumeId"), "volumeSet")

    def status(v: Volume) -> str:
        return "impaired" if v.state == "error" else \
            "insufficient-data" if v.state == "creating" else "ok"

    filt = ctx.params.filters()
    if filt:
        vols = Filters({
            "availability-zone": lambda v: v.zone, "volume-status.status": status,
            "volume-status.details-name": lambda v: "io-enabled",
            "volume-status.details-status": lambda v: "failed" if status(v) == "impaired"
            else "passed",
            "event.description": lambda v: None, "event.event-id": lambda v: None,
            "event.event-type": lambda v: None, "event.not-after": lambda v: None,
            "event.not-before": lambda v: None, "action.code": lambda v: None,
            "action.description": lambda v: None, "action.event-id": lambda v: None,
        }, lambda v: _ebs(ctx).clc.tags.get(v.id, {})).apply(vols, filt)
    vols.sort(key=lambda v: (v.created, v.id))
    chunk, token = page(vols, ctx.params, low=5, high=1000)
    items = [{"volumeId": v.id, "availabilityZone": v.zone,
              "volumeStatus": {"status": status(v), "details": [
                  {"name": "io-enabled",
                   "status": "failed" if status(v) == "impaired" else "passed"}]},
              "eventsSet": [], "actionsSet": []} for v in chunk]
    return {"volumeStatusSet": items, "nextToken": token}


def describe_volume_attribute(ctx: Context) -> Any:
    """DescribeVolumeAttribute: autoEnableIO or productCodes."""
    vol = _ebs(ctx).volume(ctx, ctx.params.str("VolumeId", required=True))
    attr = ctx.params.str("Attribute", required=True)
    if attr == "autoEnableIO":
        return {"volumeId": vol.id, "autoEnableIO": {"value": vol.auto_enable_io}}
    if attr == "productCodes":
        return {"volumeId": vol.id, "productCodes": []}
    raise errors.InvalidParameterValue(f"Value ({attr}) for parameter attribute is invalid.")


def modify_volume_attribute(ctx: Context) -> Any:
    """ModifyVolumeAttribute: autoEnableIO, the one attribute EC2 lets an owner change."""
    ebs = _ebs(ctx)
    vol = ebs.volume(ctx, ctx.params.str("VolumeId", required=True))
    if ctx.params.get("AutoEnableIO") is None:
        raise errors.MissingParameter("The request must contain the parameter AutoEnableIO")
    vol.auto_enable_io = bool(ctx.params.bool("AutoEnableIO"))
    ebs.save(vol)
    return None


def enable_volume_io(ctx: Context) -> Any:
    """EnableVolumeIO: this cloud never suspends a volume's I/O, so it is enabled already
    (the volume must exist and be the caller's)."""
    _ebs(ctx).volume(ctx, ctx.params.str("VolumeId", required=True))
    return None


_VOLUME = each_param("VolumeId", "volume")

ACTIONS = {
    "CreateVolume": action(create_volume, "ec2:CreateVolume", resources=fixed("volume/*"),
                           keys=keys_from(AvailabilityZone="ec2:AvailabilityZone",
                                          VolumeType="ec2:VolumeType")),
    "DeleteVolume": action(delete_volume, "ec2:DeleteVolume", resources=_VOLUME),
    "DescribeVolumes": action(describe_volumes, "ec2:DescribeVolumes"),
    "AttachVolume": action(attach_volume, "ec2:AttachVolume",
                           resources=combine(_VOLUME, each_param("InstanceId", "instance"))),
    "DetachVolume": action(detach_volume, "ec2:DetachVolume",
                           resources=combine(_VOLUME, each_param("InstanceId", "instance"))),
    "DescribeVolumeStatus": action(describe_volume_status, "ec2:DescribeVolumeStatus"),
    "DescribeVolumeAttribute": action(describe_volume_attribute, "ec2:DescribeVolumeAttribute",
                                      resources=_VOLUME),
    "ModifyVolumeAttribute": action(modify_volume_attribute, "ec2:ModifyVolumeAttribute",
                                    resources=_VOLUME),
    "EnableVolumeIO": action(enable_volume_io, "ec2:EnableVolumeIO", resources=_VOLUME),
}
