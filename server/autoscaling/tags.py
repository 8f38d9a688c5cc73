"""Group tags: CreateOrUpdateTags, DeleteTags, DescribeTags (propagated at launch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server import errors
from server.autoscaling.common import LimitExceeded, find_group, page, service
from server.autoscaling.groups import tag_xml
from server.autoscaling.model import Group
from server.protocol.query import Context

MAX_TAGS = 50


def _tag_params(ctx: Context) -> list[tuple[Group, dict[str, Any]]]:
    out = []
    tags = ctx.params.structs("Tags")
    if not tags:
        raise errors.ValidationError("Tags are required")
    for tag in tags:
        rtype = tag.get("ResourceType") or "auto-scaling-group"
        if rtype != "auto-scaling-group":
            raise errors.ValidationError(f"Invalid resource type {rtype}")
        rid = tag.get("ResourceId")
        key = tag.get("Key")
        if not rid or not key:
            raise errors.ValidationError("Each tag needs a ResourceId and a Key")
        if str(key).startswith("aws:"):
            raise errors.ValidationError("Tag keys starting with 'aws:' are reserved for "
                                         "internal use")
        group = find_group(ctx, rid)
        out.append((group, {"Key": key, "Value": tag.get("Value") or "",
                            "PropagateAtLaunch":
                                str(tag.get("PropagateAtLaunch", "")).lower() == "true"}))
    return out


def create_or_update_tags(ctx: Context) -> Any:
    """CreateOrUpdateTags: new instances get the tags that propagate at launch."""
    svc = service(ctx)
    changes = _tag_params(ctx)
    for group, tag in changes:
        current = {t["Key"]: t for t in group.tags}
        current[tag["Key"]] = tag
        if len(current) > MAX_TAGS:
            raise LimitExceeded(f"A group can have at most {MAX_TAGS} tags")
        group.tags = list(current.values())
    for group, _ in changes:
        svc.save(group)
    return None


def delete_tags(ctx: Context) -> Any:
    """DeleteTags."""
    svc = service(ctx)
    for group, tag in _tag_params(ctx):
        group.tags = [t for t in group.tags if t["Key"] != tag["Key"]]
        svc.save(group)
    return None


def describe_tags(ctx: Context) -> Any:
    """DescribeTags with the auto-scaling-group, key, value and propagate-at-launch filters."""
    svc = service(ctx)
    rows = [(g, t) for g in sorted(svc.groups.values(), key=lambda g: g.name)
            if g.account_id == ctx.account_id for t in sorted(g.tags, key=lambda t: t["Key"])]
    getters: dict[str, Callable[[Group, dict[str, Any]], str]] = {
        "auto-scaling-group": lambda g, t: g.name, "key": lambda g, t: str(t["Key"]),
        "value": lambda g, t: str(t.get("Value", "")),
        "propagate-at-launch": lambda g, t: str(bool(t.get("PropagateAtLaunch"))).lower()}
    for filt in ctx.params.structs("Filters"):
        name = filt.get("Name") or ""
        if name not in getters:
            raise errors.ValidationError(f"Filter type {name} is not correct. Allowed Filter "
                                         "types are: auto-scaling-group key value "
                                         "propagate-at-launch")
        values = filt.strings("Values")
        get = getters[name]
        rows = [(g, t) for g, t in rows if get(g, t) in values]
    chunk, token = page(ctx, rows)
    return {"Tags": [tag_xml(g, t) for g, t in chunk], "NextToken": token}
