"""Images: register (bundle manifests and EBS snapshots), describe, deregister, attributes."""

from __future__ import annotations

import re
from typing import Any

from server import errors, ids
from server.auth.authz import action, arn
from server.clc.filters import Filters, page
from server.clc.instances import image_not_found
from server.clc.model import Image
from server.clc.render import image_xml, tag_set
from server.clc.tags import tags_key, tags_seen
from server.ports.objectstore import ObjectStore
from server.protocol.params import Params
from server.protocol.query import Context
from server.protocol.slices import rendered


def _visible(ctx: Context, img: Image) -> bool:
    return (img.public or img.account_id == ctx.account_id or ctx.account_id in img.launch_users
            or ctx.is_admin)


def get_image(ctx: Context, image_id: str) -> Image:
    """An image the caller may see."""
    img = ctx.cloud.clc.images.get(image_id)
    if img is None or not _visible(ctx, img):
        raise image_not_found(image_id)
    return img


def check_owner(ctx: Context, img: Image) -> None:
    """Only the owner (and the cloud admin) may change or inspect an image's attributes:
    others who can see it get AuthFailure, as AWS answers for a public image."""
    if img.account_id != ctx.account_id and not ctx.is_admin:
        raise errors.AuthFailure(f"Not authorized for image:{img.id}")


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
InvalidAMINameMalformed = errors._error("InvalidAMINameMalformed", "InvalidAMIName.Malformed")
InvalidAMIAttributeItemValue = errors._error("InvalidAMIAttributeItemValue",
                                             "InvalidAMIAttributeItemValue")
#: What AWS allows in an AMI name (3 to 128 of these).
_AMI_NAME = re.compile(r"^[A-Za-z0-9()\[\] ./\-'@_]{3,128}$")


def check_ami_name(name: str) -> None:
    """InvalidAMIName.Malformed unless the name is what AWS accepts."""
    if not _AMI_NAME.match(name):
        raise InvalidAMINameMalformed(
            "AMI names must be between 3 and 128 characters long, and may contain letters, "
            "numbers, parentheses, square brackets, spaces, periods, slashes, dashes, single "
            "quotes, at-signs and underscores")


def _read_manifest(ctx: Context, location: str) -> dict[str, Any]:
    """The bundle manifest at ``BUCKET/KEY`` in Walrus, which the caller must be able to
    read; ``{}`` when this cloud runs without Walrus."""
    walrus: ObjectStore | None = ctx.cloud.walrus
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


#: The architectures an image may have.
ARCHITECTURES = ("i386", "x86_64", "armhf", "arm64")


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
        if location:  # Eucalyptus: the manifest's name, as it is
            name = location.rsplit("/", 1)[-1].removesuffix(".manifest.xml")
        else:
            raise errors.MissingParameter("The request must contain the parameter Name")
    else:
        check_ami_name(name)
    if any(i.name == name and i.account_id == ctx.account_id for i in clc.images.values()):
        raise errors.AWSError(f"AMI name {name} is already in use by AMI", code="InvalidAMIName.Duplicate")
    virtualization = p.str("VirtualizationType")
    if virtualization is not None and virtualization not in ("paravirtual", "hvm"):
        raise errors.InvalidParameterValue(f"Invalid value '{virtualization}' for "
                                           "VirtualizationType: paravirtual or hvm")
    arch = p.str("Architecture")
    if arch is not None and arch not in ARCHITECTURES:  # before the manifest is read (AWS)
        raise errors.InvalidParameterValue(f"Invalid value '{arch}' for Architecture")
    image_type, manifest, size = "machine", {}, 0
    if location:
        manifest = _read_manifest(ctx, location)
        if manifest:
            image_type = manifest.get("image_type") or "machine"
            size = int(manifest.get("size", 0) or 0)
    arch = p.str("Architecture") or manifest.get("architecture") or "x86_64"
    if arch not in ARCHITECTURES:
        raise errors.InvalidParameterValue(f"Invalid value '{arch}' for Architecture")
    prefix = {"machine": "emi", "kernel": "eki", "ramdisk": "eri"}[image_type]
    sc = ctx.cloud.ebs
    if sc is not None:
        for mapping in mappings:  # every snapshot must be usable; a size is the snapshot's
            if not mapping.get("snapshot_id"):
                continue
            sc.check_snapshot_usable(ctx, mapping["snapshot_id"])
            least = sc.snapshots[mapping["snapshot_id"]].volume_size
            if not mapping["size"]:
                mapping["size"] = least
            elif mapping["size"] < least:
                raise errors.AWSError(
                    f"Volume of size {mapping['size']}GB is smaller than snapshot "
                    f"'{mapping['snapshot_id']}', expect size >= {least}GB",
                    code="InvalidBlockDeviceMapping")
    img = Image(
        ids.image_id(prefix), ctx.account_id, name, location or f"{ctx.account_id}/{name}",
        image_type=image_type, description=p.str("Description") or "", architecture=arch,
        kernel_id=p.str("KernelId") or manifest.get("kernel_id", "") or "",
        ramdisk_id=p.str("RamdiskId") or manifest.get("ramdisk_id", "") or "",
        platform="windows" if (p.str("Platform") or "").lower() == "windows"
        # Eucalyptus' rule: a bundle whose name starts with "windows" is a Windows image.
        or location.rsplit("/", 1)[-1].lower().startswith("windows") else "",
        root_device_type="ebs" if root_snapshot is not None and not location else "instance-store",
        root_device_name=root_name, block_devices=mappings,
        virtualization_type=p.str("VirtualizationType") or
        ("hvm" if root_snapshot is not None and not location else "paravirtual"),
        created=clc.clock.now(), size_bytes=size, manifest=manifest)
    for ref in (img.kernel_id, img.ramdisk_id):
        if ref and ref not in clc.images:
            raise image_not_found(ref)
    clc.images[img.id] = img
    clc.save(img)
    return {"imageId": img.id}


def deregister_image(ctx: Context) -> Any:
    """DeregisterImage (running instances keep running)."""
    clc = ctx.cloud.clc
    img = get_image(ctx, ctx.params.str("ImageId", required=True))
    check_owner(ctx, img)
    del clc.images[img.id]
    clc.forget(img)
    clc.delete_tags_of(img.id)
    return None


#: What DescribeImages' Owner and ExecutableBy take besides 12-digit account IDs.
_OWNER_ALIASES = ("self", "all", "amazon", "aws-marketplace", "eucalyptus")
InvalidUserIDMalformed = errors._error("InvalidUserIDMalformed", "InvalidUserID.Malformed")


async def describe_images(ctx: Context) -> Any:
    """DescribeImages by ID, owner (``self``, ``amazon``, account IDs), executable-by, filters."""
    clc = ctx.cloud.clc
    p = ctx.params
    wanted = p.strings("ImageId")
    owners = p.strings("Owner")
    users = p.strings("ExecutableBy")
    for who in owners + users:  # checked before any lookup, as AWS does
        if not (who in _OWNER_ALIASES or (who.isdigit() and len(who) == 12)):
            raise InvalidUserIDMalformed(f"Invalid user id: \"{who}\"")
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
            "block-device-mapping.encrypted": lambda i: [False for _ in i.block_devices],
            "ena-support": lambda i: False, "sriov-net-support": lambda i: None,
            "platform-details": lambda i: "Windows" if i.platform == "windows"
            else "Linux/UNIX",
            "usage-operation": lambda i: "RunInstances:0002" if i.platform == "windows"
            else "RunInstances",
        }, lambda i: tags_seen(ctx, i)).apply(images, filt)
    images.sort(key=lambda i: i.id)
    images, token = page(images, p, low=5, high=1000, clamp=True)
    items = []
    for img in images:
        item = image_xml(clc, img)
        if img.account_id != ctx.account_id and not ctx.is_admin:
            item = {**item, "tagSet": tag_set(clc, tags_key(ctx, img))}  # the caller's own
        items.append(item)
    return {"imagesSet": await rendered(clc.big_answers, items), "nextToken": token}


#: Attribute names DescribeImageAttribute knows (AWS's ImageAttributeName).
_IMAGE_ATTRS = ("description", "kernel", "ramdisk", "launchPermission", "productCodes",
                "blockDeviceMapping", "sriovNetSupport", "bootMode", "tpmSupport", "uefiData",
                "lastLaunchedTime", "imdsSupport", "deregistrationProtection")


def describe_image_attribute(ctx: Context) -> Any:
    """DescribeImageAttribute (the owner's, or the cloud admin's)."""
    img = get_image(ctx, ctx.params.str("ImageId", required=True))
    attr = ctx.params.str("Attribute", required=True)
    if attr not in _IMAGE_ATTRS:
        raise errors.InvalidRequest(f"Invalid attribute: {attr}")
    check_owner(ctx, img)
    out: dict[str, Any] = {"imageId": img.id}
    if attr == "launchPermission":
        perms: list[dict[str, str]] = [{"group": "all"}] if img.public else []
        perms += [{"userId": u} for u in img.launch_users]
        out["launchPermission"] = perms
    elif attr == "productCodes":
        out["productCodes"] = [{"productCode": c, "type": "devpay"} for c in img.product_codes]
    elif attr in ("kernel", "ramdisk"):  # absent, not empty, when the image has none (AWS)
        ref = img.kernel_id if attr == "kernel" else img.ramdisk_id
        if ref:
            out[attr] = {"value": ref}
    elif attr == "description":
        out["description"] = {"value": img.description} if img.description else {}
    elif attr == "blockDeviceMapping":
        out["blockDeviceMapping"] = image_xml(ctx.cloud.clc, img)["blockDeviceMapping"]
    elif attr == "bootMode":
        out["bootMode"] = {"value": "uefi" if img.virtualization_type == "hvm" else "legacy-bios"}
    elif attr == "lastLaunchedTime":
        out["lastLaunchedTime"] = {}
    elif attr == "deregistrationProtection":
        out["deregistrationProtection"] = {"value": "disabled"}
    else:
        out[attr] = {}
    return out


def _launch_permission_changes(ctx: Context) -> tuple[list[Params], list[Params]]:
    """Launch permissions to add and remove: ``LaunchPermission.Add.N`` / ``.Remove.N``, or
    the legacy ``OperationType`` with ``UserId.N`` / ``UserGroup.N``."""
    p = ctx.params
    lp = p.struct("LaunchPermission")
    adds, removes = lp.structs("Add"), lp.structs("Remove")
    op = (p.str("OperationType") or "").lower()
    if op and op not in ("add", "remove"):
        raise errors.InvalidParameterValue(f"Invalid value '{op}' for OperationType: add or "
                                           "remove")
    entries = [Params({"UserId": u}) for u in p.strings("UserId")] + \
        [Params({"Group": g}) for g in p.strings("UserGroup")]
    if entries and not op:
        raise errors.MissingParameter("The request must contain the parameter OperationType")
    (adds if op == "add" else removes).extend(entries)
    for entry in adds + removes:
        user_id = entry.str("UserId")
        if user_id is not None and not re.fullmatch(r"\d{12}", user_id):
            raise InvalidAMIAttributeItemValue(
                f"Invalid attribute item value \"{user_id}\" for userId item type.")
        group = entry.str("Group")
        if group is not None and group != "all":
            if any(entry is legacy for legacy in entries):  # UserGroup.N: an attribute item
                raise InvalidAMIAttributeItemValue(
                    f"Invalid attribute item value \"{group}\" for group item type.")
            # the structured Group: a value of AWS's PermissionGroup enumeration
            raise errors.InvalidParameterValue(f"Invalid value '{group}' for group: only 'all' "
                                               "is valid")
    return adds, removes


def modify_image_attribute(ctx: Context) -> Any:
    """ModifyImageAttribute: launch permissions, description, product codes (one kind per
    call; the image's owner only)."""
    clc = ctx.cloud.clc
    p = ctx.params
    img = get_image(ctx, p.str("ImageId", required=True))
    attr = p.str("Attribute")
    adds, removes = _launch_permission_changes(ctx)
    desc = p.struct("Description").str("Value")
    codes = p.strings("ProductCode")
    if attr is not None:
        if attr == "blockDeviceMapping":
            raise errors.InvalidParameter("The attribute blockDeviceMapping cannot be modified")
        if attr not in ("description", "launchPermission", "productCodes"):
            raise errors.InvalidParameterCombination(f"Invalid attribute: {attr}")
        if attr == "description":
            if desc is None:
                desc = p.str("Value")
            if desc is None:
                raise errors.MissingParameter("The request must contain the parameter Value")
        elif attr == "launchPermission" and not adds and not removes:
            raise errors.InvalidParameterCombination(
                "No launch permission to add or remove was given")
        elif attr == "productCodes" and not codes:
            raise errors.MissingParameter("The request must contain the parameter ProductCode")
    kinds = sum((bool(adds or removes), desc is not None, bool(codes)))
    if kinds == 0:
        raise errors.InvalidParameterCombination("No attribute to modify was given")
    if kinds > 1:
        raise errors.InvalidParameterCombination("Only one attribute can be modified at a time")
    check_owner(ctx, img)
    for entry in adds:
        if entry.str("Group") == "all":
            img.public = True
        elif entry.str("UserId") and entry.str("UserId") not in img.launch_users:
            img.launch_users.append(entry.str("UserId"))
    for entry in removes:
        if entry.str("Group") == "all":
            img.public = False
        elif entry.str("UserId") in img.launch_users:
            img.launch_users.remove(entry.str("UserId"))
    if desc is not None:
        img.description = desc
    img.product_codes.extend(c for c in codes if c not in img.product_codes)
    clc.save(img)
    return None


def reset_image_attribute(ctx: Context) -> Any:
    """ResetImageAttribute (launchPermission, the only one AWS resets)."""
    clc = ctx.cloud.clc
    img = get_image(ctx, ctx.params.str("ImageId", required=True))
    attr = ctx.params.str("Attribute", required=True)
    if attr != "launchPermission":
        raise errors.InvalidRequest(f"Invalid attribute: {attr}; only launchPermission can be "
                                    "reset")
    check_owner(ctx, img)
    img.public = False
    img.launch_users = []
    clc.save(img)
    return None


def image_arns(ctx: Context) -> list[str]:
    """``arn:aws:ec2:REGION::image/ID`` (images' ARNs name no account, as AWS's)."""
    return [arn(ctx, "ec2", f"image/{i}", account="")
            for i in ctx.params.strings("ImageId")] or ["*"]


ACTIONS = {
    "RegisterImage": action(register_image, "ec2:RegisterImage",
                            resources=lambda ctx: [arn(ctx, "ec2", "image/*", account="")]),
    "DeregisterImage": action(deregister_image, "ec2:DeregisterImage", resources=image_arns),
    "DescribeImages": action(describe_images, "ec2:DescribeImages"),
    "DescribeImageAttribute": action(describe_image_attribute, "ec2:DescribeImageAttribute",
                                     resources=image_arns),
    "ModifyImageAttribute": action(modify_image_attribute, "ec2:ModifyImageAttribute",
                                   resources=image_arns),
    "ResetImageAttribute": action(reset_image_attribute, "ec2:ResetImageAttribute",
                                  resources=image_arns),
}
