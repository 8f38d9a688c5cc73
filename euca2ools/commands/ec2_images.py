"""Image commands: describe, register, deregister, create, and image attributes."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..output import print_image
from ..xmlparse import as_list
from .types import IMAGE_FILTERS, block_device_mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _run_describe(inv: Invocation) -> None:
    """With no IMAGE/-a/-o/-x, merge Owner=self and ExecutableBy=self (as euca2ools does)."""
    from ..exceptions import ArgumentError

    a, p = inv.args, inv.params
    if a.get("all") and (a.get("owner") or a.get("executable_by")):
        raise ArgumentError("argument -a/--all: not allowed with argument -o/--owner or "
                            "-x/--executable-by")
    if a.get("owner"):
        p["Owner"] = a["owner"]
    if a.get("executable_by"):
        p["ExecutableBy"] = a["executable_by"]
    if p.get("ImageId") or a.get("all") or a.get("owner") or a.get("executable_by"):
        images = as_list(inv.call("DescribeImages", p).get("imagesSet"))
    else:
        seen: dict[str, Any] = {}
        for extra in ({"Owner": ["self"]}, {"ExecutableBy": ["self"]}):
            for image in as_list(inv.call("DescribeImages", {**p, **extra}).get("imagesSet")):
                seen.setdefault(image.get("imageId"), image)
        images = list(seen.values())
    for image in sorted(images, key=lambda i: i.get("imageId") or ""):
        print_image(inv, image)


def _print_image_id(inv: Invocation, result: Any) -> None:
    inv.emit("IMAGE", result.get("imageId"))


def _prepare_register(inv: Invocation) -> None:
    from ..exceptions import ArgumentError

    a, p = inv.args, inv.params
    if a.get("ImageLocation") and (a.get("RootDeviceName") or a.get("snapshot")):
        raise ArgumentError("argument --root-device-name/-s/--snapshot: not allowed with MANIFEST")
    if not a.get("ImageLocation") and not a.get("snapshot") and not a.get("block_device_mapping"):
        raise ArgumentError("a MANIFEST, a root snapshot (-s/--snapshot) or block device mappings "
                            "must be given")
    mappings = [block_device_mapping(m) for m in a.get("block_device_mapping") or []]
    if a.get("snapshot"):
        root = p.setdefault("RootDeviceName", "/dev/sda1")
        mappings.insert(0, {"DeviceName": root, "Ebs": {"SnapshotId": a["snapshot"]}})
    if mappings:
        p["BlockDeviceMapping"] = mappings


def _prepare_bdm(inv: Invocation) -> None:
    if inv.args.get("block_device_mapping"):
        inv.params["BlockDeviceMapping"] = [
            block_device_mapping(m) for m in inv.args["block_device_mapping"]]


_IMG_ATTRS = (("-l", "--launch-permission", "launchPermission"),
              ("-p", "--product-codes", "productCodes"),
              ("-B", "--block-device-mapping", "blockDeviceMapping"),
              (None, "--kernel", "kernel"), (None, "--ramdisk", "ramdisk"),
              (None, "--description", "description"))


def _prepare_describe_attr(inv: Invocation) -> None:
    for _s, _l, attr in _IMG_ATTRS:
        if inv.args.get(f"attr_{attr}"):
            inv.params["Attribute"] = attr


def _print_describe_attr(inv: Invocation, result: Any) -> None:
    iid = result.get("imageId")
    attr = inv.params["Attribute"]
    if attr == "launchPermission":
        for perm in as_list(result.get("launchPermission")):
            if perm.get("group"):
                inv.emit("launchPermission", iid, "group", perm["group"])
            if perm.get("userId"):
                inv.emit("launchPermission", iid, "userId", perm["userId"])
    elif attr == "productCodes":
        for code in as_list(result.get("productCodes")):
            value = code.get("productCode")
            if code.get("type"):
                value = f"[{code['type']}: {value}]"
            inv.emit("productCodes", iid, "productCode", value)
    elif attr == "blockDeviceMapping":
        for m in as_list(result.get("blockDeviceMapping")):
            ebs = m.get("ebs") if isinstance(m.get("ebs"), dict) else {}
            source = ebs.get("snapshotId") or m.get("virtualName") or ""
            inv.emit("blockDeviceMapping", iid, "blockDeviceMap", f"{m.get('deviceName')}: {source}")
    else:
        value = result.get(attr)
        if isinstance(value, dict):
            value = value.get("value")
        inv.emit(attr, iid, None, value)


def _prepare_modify_attr(inv: Invocation) -> None:
    from ..exceptions import ArgumentError

    a, p = inv.args, inv.params
    if a.get("launch_permission"):
        if not (a.get("add") or a.get("remove")):
            raise ArgumentError("-l/--launch-permission requires -a/--add or -r/--remove")
        for word, key in (("add", "Add"), ("remove", "Remove")):
            entries = []
            for entity in a.get(word) or []:
                entries.append({"Group": "all"} if entity == "all" else {"UserId": entity})
            if entries:
                p[f"LaunchPermission.{key}"] = entries
    elif a.get("add") or a.get("remove"):
        raise ArgumentError("-a/--add and -r/--remove require -l/--launch-permission")


def _print_modify_attr(inv: Invocation, _result: Any) -> None:
    a = inv.args
    iid = a.get("ImageId")
    if a.get("launch_permission"):
        for word in ("add", "remove"):
            for entity in a.get(word) or []:
                kind = "Group" if entity == "all" else "UserId"
                inv.emit("launchPermission", iid, word.upper(), kind, entity)
    elif a.get("Description.Value"):
        inv.emit("description", iid, None, a["Description.Value"])
    for code in a.get("ProductCode") or []:
        inv.emit("productcodes", iid, "productCode", code)


_IMAGE = Arg("IMAGE", dest="ImageId", complete="image", help="ID of the image")

COMMANDS = [
    Command(
        "euca-describe-images", "ec2", "DescribeImages", "Show information about images",
        [
            Arg("IMAGE", dest="ImageId", nargs="*", complete="image",
                help="limit results to specific images"),
            Arg("-a", "--all", name="all", flag=True, help="describe all images"),
            Arg("-o", "--owner", name="owner", multiple=True, metavar="ACCOUNT",
                help="describe images owned by the specified owner (repeatable)"),
            Arg("-x", "--executable-by", name="executable_by", multiple=True, metavar="ACCOUNT",
                help="describe images for which the specified entity has explicit launch "
                "permissions (repeatable)"),
        ],
        filters=IMAGE_FILTERS, run=_run_describe,
    ),
    Command(
        "euca-register", "ec2", "RegisterImage", "Register a new image",
        [
            Arg("MANIFEST", dest="ImageLocation", nargs="?",
                help="S3 manifest for the image to register (required for instance-store "
                "images)"),
            Arg("-n", "--name", dest="Name", required=True, help="name of the new image"),
            Arg("-d", "--description", dest="Description", help="description of the new image"),
            Arg("-a", "--architecture", dest="Architecture", choices=("i386", "x86_64", "armhf"),
                help="CPU architecture of the new image"),
            Arg("--kernel", dest="KernelId", metavar="IMAGE", complete="image",
                help="ID of the kernel to associate with the new image"),
            Arg("--ramdisk", dest="RamdiskId", metavar="IMAGE", complete="image",
                help="ID of the ramdisk to associate with the new image"),
            Arg("--root-device-name", dest="RootDeviceName", metavar="DEVICE",
                help="root device name (default: /dev/sda1)"),
            Arg("-s", "--snapshot", name="snapshot", metavar="SNAPSHOT", complete="snapshot",
                help="snapshot to use for the root device"),
            Arg("-b", "--block-device-mapping", name="block_device_mapping", multiple=True,
                metavar="DEVICE=MAPPED",
                help="define a block device mapping for the image, in the form DEVICE=MAPPED, "
                "where \"MAPPED\" is \"none\", \"ephemeral(0-3)\", or "
                "\"[SNAP-ID]:[GiB]:[true|false]:[standard|VOLTYPE[:IOPS]]\""),
            Arg("--virtualization-type", dest="VirtualizationType",
                choices=("paravirtual", "hvm"), help="virtualization type for the new image"),
            Arg("--platform", dest="Platform", choices=("windows",),
                help="[Privileged] the new image's platform (windows)"),
        ],
        prepare=_prepare_register, output=_print_image_id,
    ),
    Command("euca-deregister", "ec2", "DeregisterImage",
            "De-register an image.  After you de-register an image it cannot be used to launch "
            "new instances", [_IMAGE],
            output=lambda inv, _r: inv.emit("IMAGE", inv.args.get("ImageId"))),
    Command(
        "euca-create-image", "ec2", "CreateImage",
        "Create an EBS image from a running or stopped EBS instance",
        [
            Arg("INSTANCE", dest="InstanceId", complete="instance",
                help="instance from which to create the image"),
            Arg("-n", "--name", dest="Name", required=True, help="name for the new image"),
            Arg("-d", "--description", dest="Description", help="description for the new image"),
            Arg("--no-reboot", dest="NoReboot", flag=True,
                help="do not shut down the instance before creating the image. Image "
                "integrity may be affected."),
            Arg("-b", "--block-device-mapping", name="block_device_mapping", multiple=True,
                metavar="DEVICE=MAPPED", help="define a block device mapping for the image"),
        ],
        prepare=_prepare_bdm, output=_print_image_id,
    ),
    Command(
        "euca-describe-image-attribute", "ec2", "DescribeImageAttribute",
        "Show information about an attribute of an image",
        [_IMAGE, Group(*[Arg(*((s, lng) if s else (lng,)), name=f"attr_{attr}", flag=True,
                             help=f"show the image's {attr} attribute")
                         for s, lng, attr in _IMG_ATTRS], required=True)],
        prepare=_prepare_describe_attr, output=_print_describe_attr,
    ),
    Command(
        "euca-modify-image-attribute", "ec2", "ModifyImageAttribute",
        "Modify an attribute of an image",
        [
            _IMAGE,
            Group(
                Arg("--description", dest="Description.Value", metavar="DESC",
                    help="change the image's description"),
                Arg("-p", "--product-code", dest="ProductCode", multiple=True, metavar="CODE",
                    help="add a product code to the image (repeatable)"),
                Arg("-l", "--launch-permission", name="launch_permission", flag=True,
                    help="grant/revoke launch permissions with -a/-r"),
                required=True,
            ),
            Arg("-a", "--add", name="add", multiple=True, metavar="ENTITY",
                help="account to add launch permission, or \"all\" for all accounts"),
            Arg("-r", "--remove", name="remove", multiple=True, metavar="ENTITY",
                help="account to remove launch permission, or \"all\" for all accounts"),
        ],
        prepare=_prepare_modify_attr, output=_print_modify_attr,
    ),
    Command(
        "euca-reset-image-attribute", "ec2", "ResetImageAttribute",
        "Reset an attribute of an image to its default value",
        [_IMAGE, Arg("-l", "--launch-permission", name="launch_permission", flag=True,
                      required=True, help="reset launch permissions")],
        prepare=lambda inv: inv.params.update(Attribute="launchPermission"),
        output=lambda inv, _r: inv.emit("launchPermission", inv.args.get("ImageId"), "RESET"),
    ),
    Command(
        "euca-copy-image", "ec2", "CopyImage",
        "Copy an image from another region (run this against the destination region)",
        [
            Arg("-r", "--source-region", dest="SourceRegion", required=True, metavar="REGION",
                complete="region", help="name of the region to copy the image from (required)"),
            Arg("-s", "--source-ami-id", dest="SourceImageId", required=True, metavar="IMAGE",
                help="ID of the image to copy (required)"),
            Arg("-n", "--name", dest="Name", help="name to give the new image"),
            Arg("-d", "--description", dest="Description", metavar="DESC",
                help="description to give the new image"),
            Arg("-c", "--client-token", dest="ClientToken", metavar="TOKEN",
                help="unique identifier to ensure request idempotency"),
        ],
        output=lambda inv, r: inv.emit("IMAGE", r.get("imageId")),
    ),
]
