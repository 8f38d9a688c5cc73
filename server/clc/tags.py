"""Tags: CreateTags, DeleteTags, DescribeTags (and the ``tag:`` filters every Describe takes)."""

from __future__ import annotations

from typing import Any

from server import errors
from server.auth.authz import action, arn
from server.clc.filters import Filters, page
from server.protocol.query import Context

MAX_TAGS = 50

_TYPES = {"i": "instance", "emi": "image", "eki": "image", "eri": "image", "ami": "image",
          "aki": "image", "ari": "image", "vol": "volume", "snap": "snapshot",
          "sg": "security-group", "eipalloc": "elastic-ip", "key": "key-pair"}


def resource_type(resource_id: str) -> str:
    """The EC2 resource type named by an ID's prefix."""
    return _TYPES.get(resource_id.split("-", 1)[0], "unknown")


def _owned_resource(ctx: Context, rid: str) -> Any:
    record = ctx.cloud.clc.lookup(rid)
    if record is None or (record.account_id != ctx.account_id and not ctx.is_admin):
        kind = resource_type(rid)
        code = {"instance": "InvalidInstanceID.NotFound", "image": "InvalidAMIID.NotFound",
                "volume": "InvalidVolume.NotFound", "snapshot": "InvalidSnapshot.NotFound",
                "security-group": "InvalidGroup.NotFound"}.get(kind, "InvalidID")
        raise errors.AWSError(f"The ID '{rid}' is not valid" if code == "InvalidID"
                              else f"The {kind} ID '{rid}' does not exist", code=code)
    return record


def create_tags(ctx: Context) -> Any:
    """CreateTags on the caller's resources."""
    clc = ctx.cloud.clc
    rids = ctx.params.strings("ResourceId")
    tags = ctx.params.structs("Tag")
    if not rids:
        raise errors.MissingParameter("The request must contain the parameter ResourceId")
    if not tags:
        raise errors.MissingParameter("The request must contain the parameter Tag")
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
    records = [_owned_resource(ctx, rid) for rid in rids]
    for rid in rids:
        current = dict(clc.tags.get(rid, {}))
        current.update(pairs)
        if len(current) > MAX_TAGS:
            raise errors.AWSError(f"The maximum number of tags ({MAX_TAGS}) for {rid} would be "
                                  "exceeded", code="TagLimitExceeded")
    for rid, record in zip(rids, records, strict=True):
        clc.tags.setdefault(rid, {}).update(pairs)
        clc.save_tags(rid, record.account_id)
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
        current = clc.tags.get(rid, {})
        if not tags:
            current.clear()
        for tag in tags:
            key = tag.str("Key", required=True)
            if key in current and (tag.get("Value") is None or current[key] == tag.get("Value")):
                del current[key]
        clc.save_tags(rid, record.account_id)
    return None


def describe_tags(ctx: Context) -> Any:
    """DescribeTags with filters and paging."""
    clc = ctx.cloud.clc
    rows = []
    for rid, tags in clc.tags.items():
        if clc.tag_owner.get(rid) != ctx.account_id:
            continue  # even the admin sees others' tags only through their resources
        for key, value in tags.items():
            rows.append((rid, resource_type(rid), key, value))
    filt = ctx.params.filters()
    if filt:
        rows = Filters({"key": lambda r: r[2], "value": lambda r: r[3],
                        "resource-id": lambda r: r[0], "resource-type": lambda r: r[1]},
                       lambda r: {}).apply(rows, filt)
    rows.sort()
    chunk, token = page(rows, ctx.params)
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
