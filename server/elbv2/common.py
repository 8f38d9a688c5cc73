"""What the elbv2 handlers share: the component, ARNs, lookups and parameter checks."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

from server import errors
from server.elbv2 import errors as v2_errors
from server.protocol.query import Context

if TYPE_CHECKING:
    from server.elbv2.component import ELBv2
    from server.elbv2.model import AppLoadBalancer, Listener, Rule, TargetGroup

_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$")
#: AWS's short forms of the balancer types in ARNs.
TYPE_TAGS = {"application": "app", "network": "net"}


def component(ctx: Context) -> ELBv2:
    """The cloud's elbv2 component."""
    v2: Any = ctx.cloud.components["elbv2"]
    return v2  # type: ignore[no-any-return]


def new_id() -> str:
    """A resource id as AWS forms them: 16 hex digits."""
    return secrets.token_hex(8)


def arn_prefix(ctx: Context) -> str:
    """``arn:aws:elasticloadbalancing:REGION:ACCOUNT:``."""
    return f"arn:aws:elasticloadbalancing:{ctx.cloud.config.cloud['region']}:{ctx.account_id}:"


def check_name(value: str, what: str) -> str:
    """A balancer or target group name: up to 32 letters, digits and hyphens, not
    beginning or ending with a hyphen (nor beginning with ``internal-`` for balancers)."""
    if not _NAME.match(value) or (what == "LoadBalancer" and value.startswith("internal-")):
        raise errors.ValidationError(
            f"{what} name '{value[:64]}' is not valid: up to 32 alphanumeric characters or "
            "hyphens, not beginning or ending with a hyphen")
    return value


def find_lb(ctx: Context, arn: str) -> AppLoadBalancer:
    """The caller's balancer by ARN, or LoadBalancerNotFound."""
    lb = component(ctx).lbs.get(arn)
    if lb is None or lb.account_id != ctx.account_id:
        raise v2_errors.LoadBalancerNotFound(f"Load balancer '{arn}' not found")
    return lb


def find_tg(ctx: Context, arn: str) -> TargetGroup:
    """The caller's target group by ARN, or TargetGroupNotFound."""
    tg = component(ctx).tgs.get(arn)
    if tg is None or tg.account_id != ctx.account_id:
        raise v2_errors.TargetGroupNotFound(f"Target groups '{arn}' not found")
    return tg


def find_listener(ctx: Context, arn: str) -> Listener:
    """The caller's listener by ARN, or ListenerNotFound."""
    li = component(ctx).listeners.get(arn)
    if li is None or li.account_id != ctx.account_id:
        raise v2_errors.ListenerNotFound(f"Listener '{arn}' not found")
    return li


def find_rule(ctx: Context, arn: str) -> Rule:
    """The caller's (non-default) rule by ARN, or RuleNotFound."""
    rule = component(ctx).rules.get(arn)
    if rule is None or rule.account_id != ctx.account_id:
        raise v2_errors.RuleNotFound(f"One or more rules not found: '{arn}'")
    return rule




def page(ctx: Context, items: list[Any], key: str) -> dict[str, Any]:
    """``{key: items}`` cut at PageSize from Marker (an index), with NextMarker."""
    size = ctx.params.int("PageSize", 400, minimum=1, maximum=400)
    start = 0
    marker = ctx.params.str("Marker")
    if marker:
        try:
            start = int(marker)
        except ValueError:
            raise errors.ValidationError(f"Invalid Marker '{marker[:64]}'") from None
    out: dict[str, Any] = {key: items[start:start + size]}
    if start + size < len(items):
        out["NextMarker"] = str(start + size)
    return out
