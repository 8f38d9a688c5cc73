"""Tag handlers: AddTags, RemoveTags and DescribeTags on balancers, target groups,
listeners and rules (by ARN)."""

from __future__ import annotations

import re
from typing import Any

from server import errors
from server.elbv2 import errors as v2_errors
from server.elbv2.common import component, find_lb, find_listener, find_rule, find_tg
from server.elbv2.model import Record
from server.protocol.params import Params
from server.protocol.query import Context

MAX_TAGS = 50
_KEY = re.compile(r"^([\w\s.:/=+\-@]{1,128})$")


def parse_tags(raw: list[Params]) -> dict[str, str]:
    """``Tags.member.N`` as a dict (DuplicateTagKeys, ValidationError on bad keys)."""
    out: dict[str, str] = {}
    for tag in raw:
        key = tag.str("Key", required=True)
        if not _KEY.match(key) or key.startswith("aws:"):
            raise errors.ValidationError(f"Tag key '{key[:128]}' is not valid")
        if key in out:
            raise v2_errors.DuplicateTagKeys(f"Tag key '{key}' is given twice")
        value = tag.str("Value", "")
        if len(value) > 256:
            raise errors.ValidationError(f"The value of tag '{key}' is longer than 256")
        out[key] = value
    if len(out) > MAX_TAGS:
        raise v2_errors.TooManyTags(f"A resource can have at most {MAX_TAGS} tags")
    return out


def find_any(ctx: Context, arn: str) -> Record:
    """A balancer, target group, listener or rule of the caller by ARN."""
    kind = arn.split(":", 5)[-1].split("/", 1)[0]
    if kind == "targetgroup":
        return find_tg(ctx, arn)
    if kind == "listener":
        return find_listener(ctx, arn)
    if kind == "listener-rule":
        return find_rule(ctx, arn)
    return find_lb(ctx, arn)


def add_tags(ctx: Context) -> Any:
    """AddTags: the same tags on each resource (keys given replace values)."""
    arns = ctx.params.strings("ResourceArns")
    if not arns:
        raise errors.ValidationError("ResourceArns is required")
    tags = parse_tags(ctx.params.structs("Tags"))
    if not tags:
        raise errors.ValidationError("Tags is required")
    records = [find_any(ctx, a) for a in arns]
    for rec in records:
        if len(set(rec.tags) | set(tags)) > MAX_TAGS:
            raise v2_errors.TooManyTags(f"A resource can have at most {MAX_TAGS} tags")
    for rec in records:
        rec.tags.update(tags)
    component(ctx).save(*records)
    return {}


def remove_tags(ctx: Context) -> Any:
    """RemoveTags: the keys from each resource."""
    arns = ctx.params.strings("ResourceArns")
    keys = ctx.params.strings("TagKeys")
    if not arns or not keys:
        raise errors.ValidationError("ResourceArns and TagKeys are required")
    records = [find_any(ctx, a) for a in arns]
    for rec in records:
        for key in keys:
            rec.tags.pop(key, None)
    component(ctx).save(*records)
    return {}


def describe_tags(ctx: Context) -> Any:
    """DescribeTags: each resource's tags."""
    arns = ctx.params.strings("ResourceArns")
    if not arns:
        raise errors.ValidationError("ResourceArns is required")
    if len(arns) > 20:
        raise errors.ValidationError("At most 20 resources per DescribeTags")
    return {"TagDescriptions": [
        {"ResourceArn": a, "Tags": [{"Key": k, "Value": v}
                                    for k, v in sorted(find_any(ctx, a).tags.items())]}
        for a in arns]}
