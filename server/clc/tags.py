"""Tags: CreateTags, DeleteTags, DescribeTags (and the ``tag:`` filters every Describe takes)."""

from __future__ import annotations

from typing import Any

from server import errors, ids
from server.auth.authz import action, arn
from server.clc.filters import Filters, page
from server.protocol.params import Params
from server.protocol.query import Context

MAX_TAGS = 50

_TYPES = {"i": "instance", "emi": "image", "eki": "image", "eri": "image", "ami": "image",
          "aki": "image", "ari": "image", "vol": "volume", "snap": "snapshot",
          "sg": "security-group", "eipalloc": "elastic-ip", "key": "key-pair"}


def resource_type(resource_id: str) -> str:
    """The EC2 resource type named by an ID's prefix."""
    return _TYPES.get(resource_id.split("-", 1)[0], "unknown")


#: Resources that other accounts may see (shared or public) and tag for themselves: as on
#: AWS, such tags belong to the account that set them and only it sees them.
_SHAREABLE = ("image", "snapshot")


def _shared_with(ctx: Context, record: Any) -> bool:
    """May the caller see someone else's image or snapshot?"""
    if getattr(record, "public", False):
        return True
    users = getattr(record, "launch_users", None) or getattr(record, "volume_users", None) or []
    return ctx.account_id in users


def tags_key(ctx: Context, record: Any, resource_id: str | None = None) -> str:
    """Where the caller's tags of a resource live: its ID for the owner (and the cloud
    admin), ``ID@ACCOUNT`` for an account that tags a shared image or snapshot."""
    rid = resource_id or str(record.id)
    if record.account_id == ctx.account_id or ctx.is_admin:
        return rid
    return f"{rid}@{ctx.account_id}"


def tags_seen(ctx: Context, record: Any) -> dict[str, str]:
    """The tags of a resource as the caller sees them."""
    return ctx.cloud.clc.tags.get(tags_key(ctx, record), {})


def _owned_resource(ctx: Context, rid: str) -> Any:
    record = ctx.cloud.clc.lookup(rid)
    if record is not None and record.account_id != ctx.account_id and not ctx.is_admin and \
            resource_type(rid) in _SHAREABLE and _shared_with(ctx, record):
        return record
    if record is None or (record.account_id != ctx.account_id and not ctx.is_admin):
        kind = resource_type(rid)
        code = {"instance": "InvalidInstanceID.NotFound", "image": "InvalidAMIID.NotFound",
                "volume": "InvalidVolume.NotFound", "snapshot": "InvalidSnapshot.NotFound",
                "security-group": "InvalidGroup.NotFound"}.get(kind, "InvalidID")
        if not ids.well_formed(rid, rid.split("-", 1)[0]):
            code = "InvalidID"
        raise errors.AWSError(f"The ID '{rid}' is not valid" if code == "InvalidID"
                              else f"The {kind} ID '{rid}' does not exist", code=code)
    return record


def tag_pairs(tags: list[Params]) -> list[tuple[str, str]]:
    """``Tag.N.Key`` / ``Tag.N.Value`` checked as AWS checks them."""
    pairs = []
    for tag in tags:
        key = tag.str("Key", required=True)
        value = tag.str("Value", "") or ""
        if key.startswith("aws:"):
            raise errors.InvalidParameterValue("Tag keys starting with 'aws:' are reserved")
        if len(key) > 128 or len(value) > 256:
            raise errors.InvalidParameterValue("Tag keys are at most 128 and values at most 256 "
                                               "characters")
        pairs.append((key, value))
    if len(dict(pairs)) > MAX_TAGS:
        raise errors.AWSError(f"The maximum number of tags ({MAX_TAGS}) would be exceeded",
                              code="TagLimitExceeded")
    return pairs


def tag_specifications(ctx: Context, allowed: tuple[str, ...]) -> dict[str, list[tuple[str, str]]]:
    """``TagSpecification.N`` of a create action: tags by resource type, each type one of
    ``allowed`` (AWS's error otherwise) and given at most once."""
    out: dict[str, list[tuple[str, str]]] = {}
    for spec in ctx.params.structs("TagSpecification"):
        kind = spec.str("ResourceType") or ""
        if kind not in allowed:
            raise errors.InvalidParameterValue(
                f"'{kind}' is not a valid taggable resource type for this operation.")
        if kind in out:
            raise errors.InvalidParameterValue(
                f"The same resource type may not be specified more than once in tag "
                f"specifications: '{kind}'")
        tags = spec.structs("Tag")
        if not tags:
            raise errors.InvalidParameterValue(
                f"The tag specification for '{kind}' must have at least one tag")
        out[kind] = tag_pairs(tags)
    return out


def apply_tags(ctx: Context, resource_id: str, account_id: str,
               pairs: list[tuple[str, str]]) -> None:
    """Tag a resource the caller has just created."""
    clc = ctx.cloud.clc
    clc.tags.setdefault(resource_id, {}).update(pairs)
    clc.save_tags(resource_id, account_id)


def create_tags(ctx: Context) -> Any:
    """CreateTags on the caller's resources."""
    clc = ctx.cloud.clc
    rids = ctx.params.strings("ResourceId")
    tags = ctx.params.structs("Tag")
    if not rids:
        raise errors.MissingParameter("The request must contain the parameter ResourceId")
    if not tags:
        raise errors.MissingParameter("The request must contain the parameter Tag")
    pairs = tag_pairs(tags)
    records = [_owned_resource(ctx, rid) for rid in rids]
    keys = [tags_key(ctx, record, rid) for rid, record in zip(rids, records, strict=True)]
    for rid, key in zip(rids, keys, strict=True):
        current = dict(clc.tags.get(key, {}))
        current.update(pairs)
        if len(current) > MAX_TAGS:
            raise errors.AWSError(f"The maximum number of tags ({MAX_TAGS}) for {rid} would be "
                                  "exceeded", code="TagLimitExceeded")
    for rid, key, record in zip(rids, keys, records, strict=True):
        clc.tags.setdefault(key, {}).update(pairs)
        clc.save_tags(key, record.account_id if key == rid else ctx.account_id)
    return None


def delete_tags(ctx: Context) -> Any:
    """DeleteTags: by key, or by key and value."""
    clc = ctx.cloud.clc
    rids = ctx.params.strings("ResourceId")
    if not rids:
        raise errors.MissingParameter("The request must contain the parameter ResourceId")
    tags = ctx.params.structs("Tag")
    for rid in rids:
        record = _owned_resource(ctx, rid)
        key = tags_key(ctx, record, rid)
        current = clc.tags.get(key, {})
        if not tags:
            current.clear()
        for tag in tags:
            name = tag.str("Key", required=True)
            if name.startswith("aws:"):
                raise errors.InvalidParameterValue("Tag keys starting with 'aws:' are reserved")
            if name in current and (tag.get("Value") is None or current[name] == tag.get("Value")):
                del current[name]
        clc.save_tags(key, record.account_id if key == rid else ctx.account_id)
    return None


def describe_tags(ctx: Context) -> Any:
    """DescribeTags with filters and paging."""
    clc = ctx.cloud.clc
    rows = []
    for stored, tags in clc.tags.items():
        if clc.tag_owner.get(stored) != ctx.account_id:
            continue  # even the admin sees others' tags only through their resources
        rid = stored.split("@", 1)[0]  # ID@ACCOUNT: the caller's tags of a shared resource
        for key, value in tags.items():
            rows.append((rid, resource_type(rid), key, value))
    filt = ctx.params.filters()
    if filt:
        rows = Filters({"key": lambda r: r[2], "value": lambda r: r[3],
                        "resource-id": lambda r: r[0], "resource-type": lambda r: r[1]},
                       lambda r: {}).apply(rows, filt)
    rows.sort()
    chunk, token = page(rows, ctx.params, clamp=True)
    return {"tagSet": [{"resourceId": r[0], "resourceType": r[1], "key": r[2], "value": r[3]}
                       for r in chunk], "nextToken": token}


def _tagged(ctx: Context) -> list[str]:
    """The resources CreateTags/DeleteTags name, as ARNs of their kinds."""
    out = []
    for rid in ctx.params.strings("ResourceId"):
        kind = resource_type(rid)
        account = "" if kind in ("image", "snapshot") else None
        out.append(arn(ctx, "ec2", f"{kind}/{rid}", account=account))
    return out or ["*"]


ACTIONS = {
    "CreateTags": action(create_tags, "ec2:CreateTags", resources=_tagged),
    "DeleteTags": action(delete_tags, "ec2:DeleteTags", resources=_tagged),
    "DescribeTags": action(describe_tags, "ec2:DescribeTags"),
}
