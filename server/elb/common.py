"""What the ELB handlers share: finding the component and balancers, validating names."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from server import errors
from server.elb import errors as elb_errors
from server.protocol.query import Context

if TYPE_CHECKING:
    from server.elb.component import ELB
    from server.elb.model import LoadBalancer

_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$")


def component(ctx: Context) -> ELB:
    """The cloud's ELB component."""
    elb: Any = ctx.cloud.components["elb"]
    return elb  # type: ignore[no-any-return]


def balancer_name(ctx: Context, param: str = "LoadBalancerName") -> str:
    """A balancer name parameter, validated as AWS does."""
    name = ctx.params.str(param, required=True)
    if not _NAME.match(name):
        raise errors.ValidationError(
            f"LoadBalancerName '{name[:64]}' isn't valid: up to 32 letters, digits and "
            "hyphens, not beginning or ending with a hyphen")
    return str(name)


def find(ctx: Context, param: str = "LoadBalancerName") -> LoadBalancer:
    """The caller's balancer named by a parameter, or LoadBalancerNotFound."""
    name = ctx.params.str(param, required=True)
    lb = component(ctx).balancers.get((ctx.account_id, name))
    if lb is None:
        raise elb_errors.LoadBalancerNotFound(f"There is no ACTIVE Load Balancer named "
                                              f"'{name}'")
    return lb


def int_param(ctx: Context, params: Any, name: str, low: int, high: int,
              label: str | None = None) -> int:
    """An integer within [low, high] from ``params`` (a Params or nested struct)."""
    return int_value(params.get(name), label or name, low, high)


def int_value(value: Any, label: str, low: int, high: int) -> int:
    """An integer within [low, high], or ValidationError naming it (classic and elbv2)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise errors.ValidationError(f"{label} must be an integer, got {value!r}") from None
    if not low <= number <= high:
        raise errors.ValidationError(f"{label} must be between {low} and {high}, got {number}")
    return number


def bool_value(value: Any, label: str) -> bool:
    """``true``/``false`` (any case)."""
    text = str(value).lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise errors.ValidationError(f"{label} must be true or false, got {value!r}")
