"""EBS volume and snapshot commands."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..output import print_attachment, print_snapshot, print_volume
from ..xmlparse import as_list
from .types import SNAPSHOT_FILTERS, VOLUME_FILTERS

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _print_volumes(inv: Invocation, result: Any) -> None:
    for volume in as_list(result.get("volumeSet")):
        print_volume(inv, volume)


def _prepare_create_volume(inv: Invocation) -> None:
    from ..exceptions import ArgumentError

    if not inv.args.get("Size") and not inv.args.get("SnapshotId"):
        raise ArgumentError("argument -s/--size is required unless --snapshot is given")


def _print_created_volume(inv: Invocation, r: Any) -> None:
    # Six columns: euca-create-volume prints no type/iops.
    inv.emit("VOLUME", r.get("volumeId"), r.get("size"), r.get("snapshotId"),
             r.get("availabilityZone"), r.get("status"), r.get("createTime"))


def _run_describe_snapshots(inv: Invocation) -> None:
    """With no SNAPSHOT/-a/-o/-r, merge Owner=self and RestorableBy=self."""
    a, p = inv.args, inv.params
    if a.get("owner"):
        p["Owner"] = a["owner"]
    if a.get("restorable_by"):
        p["RestorableBy"] = a["restorable_by"]
    if p.get("SnapshotId") or a.get("all") or a.get("owner") or a.get("restorable_by"):
        snaps = as_list(inv.call("DescribeSnapshots", p).get("snapshotSet"))
    else:
        seen: dict[str, Any] = {}
        for extra in ({"Owner": ["self"]}, {"RestorableBy": ["self"]}):
            for snap in as_list(inv.call("DescribeSnapshots", {**p, **extra}).get("snapshotSet")):
                seen.setdefault(snap.get("snapshotId"), snap)
        snaps = list(seen.values())
    for snap in snaps:
        print_snapshot(inv, snap)


def _print_snapshot_attr(inv: Invocation, result: Any) -> None:
    sid = result.get("snapshotId")
    for perm in as_list(result.get("createVolumePermission")):
        if perm.get("group"):
            inv.emit("createVolumePermission", sid, "group", perm["group"])
        if perm.get("userId"):
            inv.emit("createVolumePermission", sid, "userId", perm["userId"])
    for code in as_list(result.get("productCodes")):
        inv.emit("productCodes", sid, "productCode", code.get("productCode"))


def _prepare_modify_snapshot_attr(inv: Invocation) -> None:
    a, p = inv.args, inv.params
    p["Attribute"] = "createVolumePermission"
    for word, key in (("add", "Add"), ("remove", "Remove")):
        entries = [{"Group": "all"} if e == "all" else {"UserId": e} for e in a.get(word) or []]
        if entries:
            p[f"CreateVolumePermission.{key}"] = entries


def _print_modify_snapshot_attr(inv: Invocation, _r: Any) -> None:
    for word in ("add", "remove"):
        for entity in inv.args.get(word) or []:
            inv.emit("createVolumePermission", inv.args.get("SnapshotId"), word.upper(),
                     "Group" if entity == "all" else "UserId", entity)


_VOLUME = Arg("VOLUME", dest="VolumeId", complete="volume", help="ID of the volume")
_SNAPSHOT = Arg("SNAPSHOT", dest="SnapshotId", complete="snapshot", help="ID of the snapshot")

COMMANDS = [
    Command(
        "euca-create-volume", "ec2", "CreateVolume", "Create a new volume",
        [
            Arg("-z", "--availability-zone", dest="AvailabilityZone", required=True,
                metavar="ZONE", complete="zone", help="availability zone in which to create "
                "the new volume (required)"),
            Arg("-s", "--size", dest="Size", metavar="GiB", type=int,
                help="size of the new volume in GiB (required unless --snapshot is used)"),
            Arg("--snapshot", dest="SnapshotId", metavar="SNAPSHOT", complete="snapshot",
                help="snapshot from which to create the new volume"),
            Arg("-t", "--type", dest="VolumeType", metavar="VOLTYPE",
                help="volume type"),
            Arg("-i", "--iops", dest="Iops", type=int,
                help="number of I/O operations per second"),
        ],
        prepare=_prepare_create_volume, output=_print_created_volume,
    ),
    Command("euca-delete-volume", "ec2", "DeleteVolume", "Delete a volume", [_VOLUME],
            output=lambda inv, _r: inv.emit("VOLUME", inv.args.get("VolumeId"))),
    Command(
        "euca-describe-volumes", "ec2", "DescribeVolumes", "Display information about volumes",
        [Arg("VOLUME", dest="VolumeId", nargs="*", complete="volume",
             help="limit results to specific volumes")],
        filters=VOLUME_FILTERS,
        output=_print_volumes,
    ),
    Command(
        "euca-attach-volume", "ec2", "AttachVolume", "Attach an EBS volume to an instance",
        [_VOLUME,
         Arg("-i", "--instance", dest="InstanceId", required=True, metavar="INSTANCE",
             complete="instance", help="instance to attach the volume to"),
         Arg("-d", "--device", dest="Device", required=True, metavar="DEVICE",
             help="device name exposed to the instance")],
        output=print_attachment,
    ),
    Command(
        "euca-detach-volume", "ec2", "DetachVolume", "Detach a volume from an instance",
        [_VOLUME,
         Arg("-i", "--instance", dest="InstanceId", metavar="INSTANCE", complete="instance",
             help="instance to detach from"),
         Arg("-d", "--device", dest="Device", metavar="DEVICE", help="device name"),
         Arg("-f", "--force", dest="Force", flag=True,
             help="detach without waiting for the instance.  Data may be lost.")],
        output=print_attachment,
    ),
    Command(
        "euca-create-snapshot", "ec2", "CreateSnapshot", "Create a snapshot of a volume",
        [_VOLUME, Arg("-d", "--description", dest="Description", metavar="DESC",
                      help="description of the new snapshot")],
        # No progress column here, unlike euca-describe-snapshots.
        output=lambda inv, r: inv.emit("SNAPSHOT", r.get("snapshotId"), r.get("volumeId"),
                                       r.get("status"), r.get("startTime"), r.get("ownerId"),
                                       r.get("volumeSize"), r.get("description")),
    ),
    Command("euca-delete-snapshot", "ec2", "DeleteSnapshot", "Delete a snapshot", [_SNAPSHOT],
            output=lambda inv, _r: inv.emit("SNAPSHOT", inv.args.get("SnapshotId"))),
    Command(
        "euca-describe-snapshots", "ec2", "DescribeSnapshots",
        "Show information about snapshots",
        [
            Arg("SNAPSHOT", dest="SnapshotId", nargs="*", complete="snapshot",
                help="limit results to specific snapshots"),
            Arg("-a", "--all", name="all", flag=True, help="describe all snapshots"),
            Arg("-o", "--owner", name="owner", multiple=True, metavar="ACCOUNT",
                help="limit results to snapshots owned by specific accounts (repeatable)"),
            Arg("-r", "--restorable-by", name="restorable_by", multiple=True, metavar="ACCOUNT",
                help="limit results to snapshots restorable by specific accounts (repeatable)"),
        ],
        filters=SNAPSHOT_FILTERS, run=_run_describe_snapshots,
    ),
    Command(
        "euca-describe-snapshot-attribute", "ec2", "DescribeSnapshotAttribute",
        "Show information about an attribute of a snapshot",
        [_SNAPSHOT, Group(
            Arg("-c", "--create-volume-permission", name="cvp", flag=True,
                help="display who can create volumes from the snapshot"),
            Arg("-p", "--product-codes", name="pc", flag=True,
                help="display the snapshot's product codes"),
            required=True)],
        prepare=lambda inv: inv.params.update(
            Attribute="productCodes" if inv.args.get("pc") else "createVolumePermission"),
        output=_print_snapshot_attr,
    ),
    Command(
        "euca-modify-snapshot-attribute", "ec2", "ModifySnapshotAttribute",
        "Modify an attribute of a snapshot",
        [_SNAPSHOT,
         Arg("-c", "--create-volume-permission", name="cvp", flag=True, required=True,
             help="grant/revoke volume creation permission with -a/-r"),
         Arg("-a", "--add", name="add", multiple=True, metavar="ENTITY",
             help="account to grant permission, or \"all\" for all accounts"),
         Arg("-r", "--remove", name="remove", multiple=True, metavar="ENTITY",
             help="account to revoke permission, or \"all\" for all accounts")],
        prepare=_prepare_modify_snapshot_attr, output=_print_modify_snapshot_attr,
    ),
    Command(
        "euca-reset-snapshot-attribute", "ec2", "ResetSnapshotAttribute",
        "Reset an attribute of a snapshot to its default value",
        [_SNAPSHOT, Arg("-c", "--create-volume-permission", name="cvp", flag=True,
                        required=True, help="reset permissions to create volumes")],
        prepare=lambda inv: inv.params.update(Attribute="createVolumePermission"),
        output=lambda inv, _r: inv.emit("createVolumePermission", inv.args.get("SnapshotId"),
                                        "RESET"),
    ),
]
