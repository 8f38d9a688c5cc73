"""EC2 snapshot actions: Create, Delete, Describe, and the createVolumePermission attribute."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from server import errors, ids
from server.auth.authz import action, arn, combine, each_param
from server.clc.filters import Filters, page
from server.clc.images import InvalidAMIAttributeItemValue
from server.clc.render import tag_set
from server.clc.tags import apply_tags, tag_specifications, tags_key, tags_seen
from server.protocol.slices import rendered
from server.protocol.xml import iso8601
from server.sc.model import IncorrectState, InvalidSnapshotInUse, Snapshot, Volume

if TYPE_CHECKING:
    from server.clc.ebs import BlockStorage
    from server.protocol.query import Context


def _ebs(ctx: Context) -> BlockStorage:
    """The handlers' backend: the CLC's EBS."""
    return ctx.cloud.ebs


def start_snapshot(ebs: BlockStorage, vol: Volume, account_id: str, description: str,
                   then: Callable[[Snapshot], None] | None = None) -> Snapshot:
    """Create a snapshot record of ``vol`` and start copying it (pending, 0%)."""
    sc = ebs.sc(vol.zone)
    sc.check_snapshot_capacity(vol.size)
    snap = Snapshot(ids.resource_id("snap"), account_id, vol.id, vol.size,
                    started=ebs.clock.now(), description=description)
    ebs.snapshots[snap.id] = snap
    sc.snapshot(vol, snap, then or (lambda _s: None))
    return snap


def snapshot_xml(ctx: Context, snap: Snapshot) -> dict[str, Any]:
    """One ``snapshotSet`` item."""
    return {
        "snapshotId": snap.id, "volumeId": snap.volume_id, "status": snap.state,
        "startTime": iso8601(snap.started), "progress": f"{snap.progress}%",
        "ownerId": snap.account_id, "volumeSize": snap.volume_size,
        "description": snap.description or None, "encrypted": False,
        "stateMessage": snap.error or None, "storageTier": "standard",
        "tagSet": tag_set(_ebs(ctx).clc, tags_key(ctx, snap))}


def create_snapshot(ctx: Context) -> Any:
    """CreateSnapshot of an available or in-use volume."""
    ebs = _ebs(ctx)
    vol = ebs.volume(ctx, ctx.params.str("VolumeId", required=True))
    if vol.state not in ("available", "in-use"):
        raise IncorrectState(f"Volume '{vol.id}' is {vol.state}: only available or in-use "
                             "volumes can be snapshotted.")
    description = ctx.params.str("Description") or ""
    if len(description) > 255:
        raise errors.InvalidParameterValue("Descriptions are at most 255 characters")
    tags = tag_specifications(ctx, ("snapshot",))
    snap = start_snapshot(ebs, vol, vol.account_id, description)
    if "snapshot" in tags:
        apply_tags(ctx, snap.id, snap.account_id, tags["snapshot"])
    out = snapshot_xml(ctx, snap)
    if not tags:
        out.pop("tagSet")
    return out


def delete_snapshot(ctx: Context) -> Any:
    """DeleteSnapshot (refused while an image uses it)."""
    ebs = _ebs(ctx)
    snap = ebs.snapshot(ctx, ctx.params.str("SnapshotId", required=True), own=True)
    for img in ebs.clc.images.values():
        if any(m.get("snapshot_id") == snap.id for m in img.block_devices):
            raise InvalidSnapshotInUse(f"The snapshot {snap.id} is currently in use by {img.id}")
    restoring = [v.id for v in ebs.volumes.values()
                 if v.snapshot_id == snap.id and v.state == "creating"]
    if restoring:
        raise IncorrectState(f"Snapshot '{snap.id}' is being copied to {restoring[0]}; "
                             "delete it when the volume is available.")
    if snap.state == "pending":
        raise IncorrectState(f"Snapshot '{snap.id}' is still pending; delete it when it has "
                             "completed.")
    if snap.zone in ebs.zones:
        ebs.zones[snap.zone].delete_snapshot(snap)
    else:  # its zone left the configuration: nobody can reach the data any more
        ebs.forget(snap)
    return None


def _filters(ctx: Context) -> Filters:
    return Filters({
        "description": lambda s: s.description, "encrypted": lambda s: False,
        "owner-alias": lambda s: None, "owner-id": lambda s: s.account_id,
        "progress": lambda s: f"{s.progress}%", "snapshot-id": lambda s: s.id,
        "start-time": lambda s: iso8601(s.started), "status": lambda s: s.state,
        "volume-id": lambda s: s.volume_id, "volume-size": lambda s: str(s.volume_size),
        "storage-tier": lambda s: "standard",
    }, lambda s: tags_seen(ctx, s))


def _account(ctx: Context, who: str) -> str:
    if who == "self":
        return ctx.account_id
    if who in ("amazon", "eucalyptus"):
        return str(ctx.cloud.identity.account("eucalyptus").id)
    return who


async def describe_snapshots(ctx: Context) -> Any:
    """DescribeSnapshots by ID, owner, restorable-by and filters; paged."""
    ebs = _ebs(ctx)
    p = ctx.params
    wanted = p.strings("SnapshotId")
    for who in p.strings("Owner") + p.strings("RestorableBy"):  # before any lookup (AWS)
        if not (who in ("self", "all", "amazon", "eucalyptus") or
                (who.isdigit() and len(who) == 12)):
            raise errors.AWSError(f"Invalid user id: \"{who}\"", code="InvalidUserID.Malformed")
    owners = {_account(ctx, o) for o in p.strings("Owner")}
    users = p.strings("RestorableBy")
    if wanted and p.get("MaxResults") is not None:
        raise errors.InvalidParameterCombination(
            "The parameter snapshotSet cannot be used with the parameter maxResults")
    if wanted:
        snaps = [ebs.snapshot(ctx, sid) for sid in wanted]
    else:
        snaps = [s for s in ebs.snapshots.values()
                 if s.restorable_by(ctx.account_id) or (ctx.is_admin and "all" in users)]
    if owners:
        snaps = [s for s in snaps if s.account_id in owners]
    if users:
        def restorable(s: Snapshot, who: str) -> bool:
            return s.public if who == "all" else s.restorable_by(_account(ctx, who))
        snaps = [s for s in snaps if any(restorable(s, u) for u in users)]
    filt = p.filters()
    if filt:
        snaps = _filters(ctx).apply(snaps, filt)
    snaps.sort(key=lambda s: (s.started, s.id))
    chunk, token = page(snaps, p, low=5, high=1000, clamp=True)
    return {"snapshotSet": await rendered(ebs.clc.big_answers,
                                          [snapshot_xml(ctx, s) for s in chunk]),
            "nextToken": token}


def _attribute(ctx: Context) -> str:
    attr = ctx.params.str("Attribute", required=True)
    if attr not in ("createVolumePermission", "productCodes"):
        raise errors.InvalidParameterValue(f"Value ({attr}) for parameter attribute is invalid.")
    return str(attr)


def describe_snapshot_attribute(ctx: Context) -> Any:
    """DescribeSnapshotAttribute: createVolumePermission (owner only) or productCodes."""
    snap = _ebs(ctx).snapshot(ctx, ctx.params.str("SnapshotId", required=True), own=True)
    attr = _attribute(ctx)
    out: dict[str, Any] = {"snapshotId": snap.id}
    if attr == "createVolumePermission":
        perms: list[dict[str, str]] = [{"group": "all"}] if snap.public else []
        perms += [{"userId": u} for u in snap.volume_users]
        out["createVolumePermission"] = perms
    else:
        out["productCodes"] = []
    return out


def modify_snapshot_attribute(ctx: Context) -> Any:
    """ModifySnapshotAttribute: add or remove createVolumePermission (``all`` = public)."""
    ebs = _ebs(ctx)
    p = ctx.params
    snap = ebs.snapshot(ctx, p.str("SnapshotId", required=True), own=True)
    attribute = p.str("Attribute")
    if attribute is not None and attribute != "createVolumePermission":
        raise errors.InvalidParameterValue(f"Value ({attribute}) for parameter attribute is "
                                           "invalid. Only createVolumePermission can be "
                                           "modified.")
    perm = p.struct("CreateVolumePermission")
    adds, removes = perm.structs("Add"), perm.structs("Remove")
    op = (p.str("OperationType") or "").lower()  # the older flat form
    entries = []
    if op in ("add", "remove"):
        from server.protocol.params import Params

        entries = [Params({"UserId": u}) for u in p.strings("UserId")] + \
                  [Params({"Group": g}) for g in p.strings("UserGroup")]
        (adds if op == "add" else removes).extend(entries)
    if not adds and not removes:
        raise errors.MissingParameter("No createVolumePermission to add or remove was given")
    for entry in adds + removes:
        group = entry.str("Group")
        if group is not None and group != "all":
            if any(entry is legacy for legacy in entries):  # UserGroup.N: an attribute item
                raise InvalidAMIAttributeItemValue(
                    f"Invalid attribute item value \"{group}\" for group item type.")
            # the structured Group: a value of AWS's PermissionGroup enumeration
            raise errors.InvalidParameterValue(f"Invalid group '{group}': only 'all' is valid")
        user = entry.str("UserId")
        if user is not None and not user.isdigit():
            raise errors.InvalidParameterValue(f"Invalid user id: '{user}'")
    for entry in adds:
        if entry.str("Group") == "all":
            snap.public = True
        elif entry.str("UserId") and entry.str("UserId") not in snap.volume_users:
            snap.volume_users.append(entry.str("UserId"))
    for entry in removes:
        if entry.str("Group") == "all":
            snap.public = False
        elif entry.str("UserId") in snap.volume_users:
            snap.volume_users.remove(entry.str("UserId"))
    ebs.save(snap)
    return None


def reset_snapshot_attribute(ctx: Context) -> Any:
    """ResetSnapshotAttribute: createVolumePermission back to the owner only."""
    ebs = _ebs(ctx)
    snap = ebs.snapshot(ctx, ctx.params.str("SnapshotId", required=True), own=True)
    if _attribute(ctx) != "createVolumePermission":
        raise errors.InvalidParameterValue("Only createVolumePermission can be reset")
    snap.public, snap.volume_users = False, []
    ebs.save(snap)
    return None


def _snapshot(ctx: Context) -> list[str]:
    """``arn:aws:ec2:REGION::snapshot/ID`` (snapshots' ARNs name no account, as AWS's)."""
    return [arn(ctx, "ec2", f"snapshot/{s}", account="")
            for s in ctx.params.strings("SnapshotId")] or ["*"]


ACTIONS = {
    "CreateSnapshot": action(create_snapshot, "ec2:CreateSnapshot",
                             resources=combine(each_param("VolumeId", "volume"),
                                               lambda ctx: [arn(ctx, "ec2", "snapshot/*",
                                                                account="")])),
    "DeleteSnapshot": action(delete_snapshot, "ec2:DeleteSnapshot", resources=_snapshot),
    "DescribeSnapshots": action(describe_snapshots, "ec2:DescribeSnapshots"),
    "DescribeSnapshotAttribute": action(describe_snapshot_attribute,
                                        "ec2:DescribeSnapshotAttribute", resources=_snapshot),
    "ModifySnapshotAttribute": action(modify_snapshot_attribute, "ec2:ModifySnapshotAttribute",
                                      resources=_snapshot),
    "ResetSnapshotAttribute": action(reset_snapshot_attribute, "ec2:ResetSnapshotAttribute",
                                     resources=_snapshot),
}
