"""Images: register (bundle manifests and EBS snapshots), describe, deregister, attributes."""

from __future__ import annotations

from typing import Any

from server import errors, ids
from server.clc.filters import Filters
from server.clc.instances import InvalidAMIIDMalformed, InvalidAMIIDNotFound
from server.clc.model import Image
from server.clc.render import image_xml
from server.protocol.query import Context
from server.protocol.slices import rendered


def _visible(ctx: Context, img: Image) -> bool:
    return (img.public or img.account_id == ctx.account_id or ctx.account_id in img.launch_users
            or ctx.is_admin)


def get_image(ctx: Context, image_id: str, *, own: bool = False) -> Image:
    """An image the caller may see (or must own)."""
    img = ctx.cloud.clc.images.get(image_id)
    if img is None or not _visible(ctx, img) or (own and img.account_id != ctx.account_id
                                                  and not ctx.is_admin):
        if "-" not in image_id:
            raise InvalidAMIIDMalformed(f"Invalid id: \"{image_id}\"")
        raise InvalidAMIIDNotFound(f"The image id '[{image_id}]' does not exist")
    return img


def _mappings(ctx: Context) -> list[dict[str, Any]]:
    out = []
    for bdm in ctx.params.structs("BlockDeviceMapping"):
        device = bdm.str("DeviceName", required=True)
        if bdm.str("VirtualName"):
            out.append({"device": device, "virtual_name": bdm.str("VirtualName")})
        elif bdm.get("NoDevice") is not None:
            out.append({"device": device, "no_device": True})
        else:
            ebs = bdm.struct("Ebs")
            out.append({"device": device, "snapshot_id": ebs.str("SnapshotId") or "",
                        "size": ebs.int("VolumeSize") or 0,
                        "delete_on_termination": ebs.bool("DeleteOnTermination", True),
                        "volume_type": ebs.str("VolumeType") or "standard"})
    return out


InvalidManifest = errors._error("InvalidManifest", "InvalidManifest")


def _read_manifest(ctx: Context, location: str) -> dict[str, Any]:
    """The bundle manifest at ``BUCKET/KEY`` in Walrus, which the caller must be able to
    read; ``{}`` when this cloud runs without Walrus."""
    walrus = ctx.cloud.components.get("walrus")
    if walrus is None:
        return {}
    from dataclasses import asdict

    from server.walrus.bundle import BundleError
    from server.walrus.errors import S3Error

    try:
        manifest = walrus.read_manifest(ctx.principal, location)
    except S3Error as exc:
        raise InvalidManifest(f"The manifest {location} cannot be read: {exc.code}") from None
    except BundleError as exc:
        raise InvalidManifest(f"{location} is not a valid bundle manifest: {exc}") from None
    doc: dict[str, Any] = asdict(manifest)
    if doc.get("image_type") not in ("machine", "kernel", "ramdisk"):
        doc["image_type"] = "machine"
    return doc


def register_image(ctx: Context) -> Any:
    """RegisterImage: a bundle manifest in Walrus, or a root snapshot (EBS-backed)."""
    clc = ctx.cloud.clc
    p = ctx.params
    location = p.str("ImageLocation") or ""
    name = p.str("Name") or ""
    mappings = _mappings(ctx)
    root_name = p.str("RootDeviceName") or "/dev/sda1"
    root_snapshot = next((m for m in mappings if m["device"] == root_name
                          and m.get("snapshot_id")), None)
    if not location and root_snapshot is None:
        raise errors.MissingParameter("Either ImageLocation or a root device snapshot "
                                      "(BlockDeviceMapping for RootDeviceName) is required")
    if not name:
        if location:
            name = location.rsplit("/", 1)[-1].removesuffix(".manifest.xml")
        else:
            raise errors.MissingParameter("The request must contain the parameter Name")
    if any(i.name == name and i.account_id == ctx.account_id for i in clc.images.values()):
        raise errors.AWSError(f"AMI name {name} is already in use by AMI", code="InvalidAMIName.Duplicate")
    image_type, manifest, size = "machine", {}, 0
    if location:
        manifest = _read_manifest(ctx, location)
        if manifest:
            image_type = manifest.get("image_type") or "machine"
            size = int(manifest.get("size", 0) or 0)
    arch = p.str("Architecture") or manifest.get("architecture") or "x86_64"
    if arch not in ("i386", "x86_64", "armhf", "arm64"):
        raise errors.InvalidParameterValue(f"Invalid value '{arch}' for Architecture")
    prefix = {"machine": "emi", "kernel": "eki", "ramdisk": "eri"}[image_type]
    if root_snapshot is not None:
        sc = ctx.cloud.components.get("sc")
        if sc is not None:
            sc.check_snapshot_usable(ctx, root_snapshot["snapshot_id"])
    img = Image(
        ids.image_id(prefix), ctx.account_id, name, location or f"{ctx.account_id}/{name}",
        image_type=image_type, description=p.str("Description") or "", architecture=arch,
        kernel_id=p.str("KernelId") or manifest.get("kernel_id", "") or "",
        ramdisk_id=p.str("RamdiskId") or manifest.get("ramdisk_id", "") or "",
        platform="windows" if (p.str("Platform") or "").lower() == "windows" else "",
        root_device_type="ebs" if root_snapshot is not None and not location else "instance-store",
        root_device_name=root_name, block_devices=mappings,
        virtualization_type=p.str("VirtualizationType") or
        ("hvm" if root_snapshot is not None and not location else "paravirtual"),
        created=ctx.cloud.clock.now(), size_bytes=size, manifest=manifest)
    for ref in (img.kernel_id, img.ramdisk_id):
        if ref and ref not in clc.images:
            raise InvalidAMIIDNotFound(f"The image id '[{ref}]' does not exist")
    clc.images[img.id] = img
    clc.save(img)
    return {"imageId": img.id}


def deregister_image(ctx: Context) -> Any:
    """DeregisterImage (running instances keep running)."""
    clc = ctx.cloud.clc
    img = get_image(ctx, ctx.params.str("ImageId", required=True), own=True)
    del clc.images[img.id]
    clc.forget(img)
    clc.delete_tags_of(img.id)
    return None


async def describe_images(ctx: Context) -> Any:
    """DescribeImages by ID, owner (``self``, ``amazon``, account IDs), executable-by, filters."""
    clc = ctx.cloud.clc
    p = ctx.params
    wanted = p.strings("ImageId")
    owners = p.strings("Owner")
    users = p.strings("ExecutableBy")
    if wanted:
        images = [get_image(ctx, i) for i in wanted]
    else:
        images = [i for i in clc.images.values() if _visible(ctx, i)]
    if owners:
        keep = set()
        for owner in owners:
            if owner == "self":
                keep.add(ctx.account_id)
            elif owner in ("amazon", "eucalyptus"):
                keep.add(ctx.cloud.identity.account("eucalyptus").id)
            else:
                keep.add(owner)
        images = [i for i in images if i.account_id in keep]
    if users:
        def executable(img: Image, who: str) -> bool:
            acct = ctx.account_id if who == "self" else who
            if who == "all":
                return img.public
            return img.public or img.account_id == acct or acct in img.launch_users
        images = [i for i in images if any(executable(i, u) for u in users)]
    filt = p.filters()
    if filt:
        images = Filters({
            "architecture": lambda i: i.architecture, "image-id": lambda i: i.id,
            "image-type": lambda i: i.image_type, "is-public": lambda i: i.public,
            "kernel-id": lambda i: i.kernel_id, "manifest-location": lambda i: i.location,
            "name": lambda i: i.name, "owner-alias": lambda i: i.owner_alias,
            "owner-id": lambda i: i.account_id, "platform": lambda i: i.platform,
            "product-code": lambda i: i.product_codes, "ramdisk-id": lambda i: i.ramdisk_id,
            "root-device-name": lambda i: i.root_device_name,
            "root-device-type": lambda i: i.root_device_type, "state": lambda i: i.state,
            "state-reason-code": lambda i: None, "state-reason-message": lambda i: None,
            "virtualization-type": lambda i: i.virtualization_type,
            "hypervisor": lambda i: i.hypervisor, "description": lambda i: i.description,
            "block-device-mapping.device-name": lambda i: [b["device"] for b in i.block_devices],
            "block-device-mapping.snapshot-id":
                lambda i: [b.get("snapshot_id") for b in i.block_devices],
            "block-device-mapping.volume-size":
                lambda i: [str(b.get("size", "")) for b in i.block_devices],
            "block-device-mapping.volume-type":
                lambda i: [b.get("volume_type") for b in i.block_devices],
            "block-device-mapping.delete-on-termination":
                lambda i: [str(b.get("delete_on_termination", True)).lower()
                           for b in i.block_devices],
            "creation-date": lambda i: None, "product-code.type": lambda i: None,
        }, lambda i: clc.tags.get(i.id, {})).apply(images, filt)
    images.sort(key=lambda i: i.id)
    return {"imagesSet": await rendered(clc.big_answers, [image_xml(clc, i) for i in images])}


def describe_image_attribute(ctx: Context) -> Any:
    """DescribeImageAttribute."""
    img = get_image(ctx, ctx.params.str("ImageId", required=True))
    attr = ctx.params.str("Attribute", required=True)
    out: dict[str, Any] = {"imageId": img.id}
    if attr == "launchPermission":
        if img.account_id != ctx.account_id and not ctx.is_admin:
            raise errors.AuthFailure("Not authorized for image:" + img.id)
        perms: list[dict[str, str]] = [{"group": "all"}] if img.public else []
        perms += [{"userId": u} for u in img.launch_users]
        out["launchPermission"] = perms
    elif attr == "productCodes":
        out["productCodes"] = [{"productCode": c, "type": "devpay"} for c in img.product_codes]
    elif attr == "kernel":
        out["kernel"] = {"value": img.kernel_id} if img.kernel_id else {}
    elif attr == "ramdisk":
        out["ramdisk"] = {"value": img.ramdisk_id} if img.ramdisk_id else {}
    elif attr == "description":
        out["description"] = {"value": img.description} if img.description else {}
    elif attr == "blockDeviceMapping":
        out["blockDeviceMapping"] = image_xml(ctx.cloud.clc, img)["blockDeviceMapping"]
    else:
        raise errors.InvalidParameterValue(f"Invalid attribute: {attr}")
    return out


def modify_image_attribute(ctx: Context) -> Any:
    """ModifyImageAttribute: launch permissions, description, product codes."""
    clc = ctx.cloud.clc
    p = ctx.params
    img = get_image(ctx, p.str("ImageId", required=True), own=True)
    lp = p.struct("LaunchPermission")
    adds = lp.structs("Add")
    removes = lp.structs("Remove")
    # legacy form: Attribute=launchPermission OperationType=add UserId.N / UserGroup.N
    op = (p.str("OperationType") or "").lower()
    if op in ("add", "remove"):
        entries = [{"UserId": u} for u in p.strings("UserId")] + \
                  [{"Group": g} for g in p.strings("UserGroup")]
        from server.protocol.params import Params as _P

        (adds if op == "add" else removes).extend(_P(e) for e in entries)
    changed = False
    for entry in adds:
        if entry.str("Group") == "all":
            img.public = True
        elif entry.str("UserId"):
            if entry.str("UserId") not in img.launch_users:
                img.launch_users.append(entry.str("UserId"))
        changed = True
    for entry in removes:
        if entry.str("Group") == "all":
            img.public = False
        elif entry.str("UserId") in img.launch_users:
            img.launch_users.remove(entry.str("UserId"))
        changed = True
    desc = p.struct("Description").str("Value")
    if desc is None and p.str("Attribute") == "description":
        desc = p.str("Value")
    if desc is not None:
        img.description, changed = desc, True
    codes = p.strings("ProductCode")
    if codes:
        img.product_codes.extend(c for c in codes if c not in img.product_codes)
        changed = True
    if not changed:
        raise errors.MissingParameter("No attribute to modify was given")
    clc.save(img)
    return None


def reset_image_attribute(ctx: Context) -> Any:
    """ResetImageAttribute (launchPermission)."""
    clc = ctx.cloud.clc
    img = get_image(ctx, ctx.params.str("ImageId", required=True), own=True)
    attr = ctx.params.str("Attribute", required=True)
    if attr != "launchPermission":
        raise errors.InvalidParameterValue(f"Only launchPermission can be reset, not {attr}")
    img.public = False
    img.launch_users = []
    clc.save(img)
    return None


ACTIONS = {
    "RegisterImage": register_image,
    "DeregisterImage": deregister_image,
    "DescribeImages": describe_images,
    "DescribeImageAttribute": describe_image_attribute,
    "ModifyImageAttribute": modify_image_attribute,
    "ResetImageAttribute": reset_image_attribute,
}
