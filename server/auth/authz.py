"""How every action of every service declares what it authorizes.

Each row of a service's action table is an :class:`Action`: the handler, its IAM action
name (``ec2:RunInstances``, ``iam:CreateUser``, ``cloudwatch:PutMetricData``) and a function
of the request that names the resources it touches (ARNs) and the service's condition keys.
The query protocol dispatcher asks the one policy engine to decide on that before calling
the handler; the handler then does its work with no authorization code of its own (beyond
per-resource checks it cannot know before it runs, which call :func:`authorize` itself).

    ACTIONS = {
        "TerminateInstances": action(terminate_instances, "ec2:TerminateInstances",
                                     resources=each_param("InstanceId", "instance")),
        "DescribeInstances": action(describe_instances, "ec2:DescribeInstances"),  # on "*"
    }
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.protocol.query import Context

Handler = Callable[["Context"], Any]
#: The resources (ARNs) one request touches; ``["*"]`` when the action has none.
ResourceFn = Callable[["Context"], list[str]]
#: Service-specific condition keys of one request, e.g. ``{"ec2:InstanceType": ["m1.small"]}``.
KeysFn = Callable[["Context"], dict[str, list[str]]]


def _everything(ctx: Context) -> list[str]:
    return ["*"]


def _no_keys(ctx: Context) -> dict[str, list[str]]:
    return {}


@dataclass(frozen=True)
class Action:
    """One row of an action table: handler plus its authorization declaration."""

    handler: Handler
    #: ``service:ActionName`` as IAM policies name it.
    iam_action: str
    resources: ResourceFn = _everything
    keys: KeysFn = _no_keys
    #: Cloud-administrator actions (Eucalyptus): allowed only to the ``eucalyptus``
    #: account's admin and to principals whose policies grant them explicitly.
    cloud_admin: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __call__(self, ctx: Context) -> Any:
        return self.handler(ctx)


def action(handler: Handler, iam_action: str, *, resources: ResourceFn = _everything,
           keys: KeysFn = _no_keys, cloud_admin: bool = False) -> Action:
    """Declare one action: ``action(run_instances, "ec2:RunInstances", resources=...)``."""
    return Action(handler, iam_action, resources, keys, cloud_admin)


def service_actions(
        service: str,
        rows: Mapping[str, Handler | tuple[Handler, ResourceFn] | Action]) -> dict[str, Action]:
    """Declare a service's action table naming each action once: ``{"Name": handler}`` or
    ``{"Name": (handler, resources)}`` is ``action(handler, "SERVICE:Name", ...)``; a row
    that needs condition keys is written out with :func:`action`."""
    table: dict[str, Action] = {}
    for name, row in rows.items():
        if isinstance(row, Action):
            table[name] = row
        elif isinstance(row, tuple):
            table[name] = action(row[0], f"{service}:{name}", resources=row[1])
        else:
            table[name] = action(row, f"{service}:{name}")
    return table


def arn(ctx: Context, service: str, resource: str, *, region: bool = True,
        account: str | None = None) -> str:
    """``arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE`` for the request's account."""
    reg = ctx.cloud.config.cloud["region"] if region else ""
    acct = ctx.account_id if account is None else account
    return f"arn:aws:{service}:{reg}:{acct}:{resource}"


def each_param(name: str, kind: str, service: str = "ec2") -> ResourceFn:
    """Resources named by a list parameter (``InstanceId.N``) or a single one
    (``InstanceId``): ``arn:aws:ec2:REGION:ACCOUNT:KIND/ID`` each; ``*`` when absent."""

    def resources(ctx: Context) -> list[str]:
        values: Iterable[str] = ctx.params.strings(name)
        out = [arn(ctx, service, f"{kind}/{v}") for v in values if v]
        return out or ["*"]

    return resources


def as_action(row: Action | Handler, service: str, name: str) -> Action:
    """A table row as an :class:`Action` (bare handlers are undeclared: see tests)."""
    if isinstance(row, Action):
        return row
    return Action(row, f"{service}:{name}", extra={"undeclared": True})


def param_values(ctx: Context, path: str) -> list[str]:
    """A (dotted, e.g. ``Placement.AvailabilityZone``) parameter's string values."""
    node: Any = ctx.params.raw()
    for part in path.split("."):
        if not isinstance(node, dict):
            return []
        node = node.get(part)
    if isinstance(node, str):
        return [node] if node else []
    if isinstance(node, list):
        return [v for v in node if isinstance(v, str) and v]
    return []


def keys_from(**names: str) -> KeysFn:
    """Condition keys read from parameters: ``keys_from(InstanceType="ec2:InstanceType")``
    (dotted parameter paths are written with ``__``: ``Placement__AvailabilityZone``)."""

    def keys(ctx: Context) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for param, key in names.items():
            values = param_values(ctx, param.replace("__", "."))
            if values:
                out[key] = values
        return out

    return keys


def fixed(kind: str, service: str = "ec2") -> ResourceFn:
    """One resource of the request's account, e.g. ``fixed("instance/*")``."""

    def resources(ctx: Context) -> list[str]:
        return [arn(ctx, service, kind)]

    return resources


def combine(*fns: ResourceFn) -> ResourceFn:
    """Every resource several functions name (``*`` entries dropped unless alone)."""

    def resources(ctx: Context) -> list[str]:
        out: list[str] = []
        for fn in fns:
            out += [r for r in fn(ctx) if r != "*"]
        return out or ["*"]

    return resources


def iam_arn(ctx: Context, kind: str, name: str) -> str:
    """``arn:aws:iam::ACCOUNT:KIND/PATH/NAME`` (the path of an existing user or group)."""
    path = "/"
    if kind in ("user", "group"):
        table = ctx.cloud.identity.users if kind == "user" else ctx.cloud.identity.groups
        found = table.get((ctx.account_id, name))
        path = getattr(found, "path", "/") if found is not None else "/"
    return f"arn:aws:iam::{ctx.account_id}:{kind}{path}{name}"


def iam_param(name: str, kind: str, *, default_self: bool = False) -> ResourceFn:
    """The IAM entity a parameter names (``UserName`` -> its user ARN); with
    ``default_self`` a missing name means the caller itself (GetUser, CreateAccessKey)."""

    def resources(ctx: Context) -> list[str]:
        values = param_values(ctx, name)
        if not values and default_self:
            values = [ctx.principal.user_name or "admin"]
        return [iam_arn(ctx, kind, v) for v in values] or ["*"]

    return resources
