"""Authorization of query-protocol requests (EC2, IAM, STS, ...) with the one engine.

The dispatcher (:class:`server.protocol.query.QueryService`) calls :func:`authorize` with
the declared :class:`~server.auth.authz.Action` of every request.  Rules, as Eucalyptus:

* the ``eucalyptus`` account's admin (a cloud administrator) may do everything;
* cloud-administrator actions (``cloud_admin=True``) are otherwise only for users of the
  ``eucalyptus`` account whose policies grant them (Eucalyptus 4's system roles), never
  for other accounts, whatever their policies say;
* an account's admin (and root) may do everything in its own account, except what an
  account policy explicitly denies;
* every other principal needs an Allow in its policies, and no Deny anywhere.

A refusal names the action and resource (IAM, STS) or carries an encoded authorization
message (EC2) that ``sts:DecodeAuthorizationMessage`` reads back.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from server import errors
from server.auth import quotas
from server.auth.authz import Action
from server.auth.identity import ADMIN_ACCOUNT, Principal
from server.auth.mfa import session_keys
from server.auth.policies_source import (
    account_policy_group,
    is_cloud_admin,
    policies_for,
    principal_ids,
)
from server.auth.policy import (
    Decision,
    PolicySet,
    Request,
    RequestContext,
    authorization_message,
    decide,
    encode_authorization_message,
    group,
    load_message_key,
)

if TYPE_CHECKING:
    from server.protocol.query import Context


#: Actions AWS answers for every signed caller, whatever its policies say.
NO_PERMISSION_NEEDED = frozenset({"sts:GetCallerIdentity", "sts:GetSessionToken",
                                  "sts:GetAccessToken"})


class QueryKeys:
    """AWS's global condition keys of one query request on one resource, computed only
    when a policy asks for them (most decisions need none or one)."""

    __slots__ = ("ctx", "principal", "resource")

    def __init__(self, ctx: Context, principal: Principal, resource: str):
        self.ctx, self.principal, self.resource = ctx, principal, resource

    def _user(self) -> Any:
        p = self.principal
        return self.ctx.cloud.identity.users.get((p.account_id, p.user_name))

    def _now(self) -> float:
        return float(self.ctx.cloud.clock.now())

    def resolve(self, key: str) -> Any:
        """The value(s) of one lower-cased key (None when the request has none)."""
        simple = _SIMPLE.get(key)
        if simple is not None:
            return simple(self)
        prefix, _, name = key.partition("/")
        if prefix in ("ec2:resourcetag", "aws:resourcetag"):
            return _lookup(resource_tags(self.ctx, self.resource).items(), name)
        if prefix == "aws:requesttag":
            return _lookup(request_tags(self.ctx), name)
        if prefix == "aws:principaltag":
            tags = getattr(self._user(), "tags", None) or {}
            if isinstance(tags, list):
                tags = {t.get("Key"): t.get("Value") for t in tags if isinstance(t, dict)}
            return _lookup(tags.items(), name)
        return None


def _lookup(pairs: Any, wanted: str) -> Any:
    """A tag's value by case-insensitive key."""
    for k, v in pairs:
        if str(k).lower() == wanted:
            return v
    return None


def _user_id_key(keys: QueryKeys) -> str:
    found = keys._user()
    return str(found.user_id) if found is not None else keys.principal.account_id


def _region(keys: QueryKeys) -> str:
    cloud: Any = keys.ctx.cloud
    return str(cloud.config.cloud["region"])


def _mfa_key(name: str) -> Callable[[QueryKeys], Any]:
    """An MFA key of the caller's session (absent for long-term keys)."""
    def value(keys: QueryKeys) -> Any:
        found = session_keys(keys.ctx.cloud.identity, keys.principal, keys._now())
        return found.get(name)

    return value


_SIMPLE: dict[str, Callable[[QueryKeys], Any]] = {
    "aws:sourceip": lambda k: k.ctx.source_ip,
    "aws:currenttime": lambda k: _dt.datetime.fromtimestamp(k._now(), _dt.UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"),
    "aws:epochtime": lambda k: str(int(k._now())),
    # The connection this request came over, not the cloud's advertised URL: the same
    # cloud answers on HTTP and HTTPS.
    "aws:securetransport": lambda k: "true" if k.ctx.secure_transport else "false",
    "aws:username": lambda k: k.principal.user_name,
    "aws:userid": _user_id_key,
    "aws:principalaccount": lambda k: k.principal.account_id,
    "aws:principalarn": lambda k: _principal_arn(k.principal, k._user()),
    "aws:principaltype": lambda k: "Account" if k.principal.user_name in ("", "root")
    else "User",
    "aws:requestedregion": lambda k: _region(k),
    "ec2:region": lambda k: _region(k),
    "aws:tagkeys": lambda k: [key for key, _ in request_tags(k.ctx)] or None,
    "aws:multifactorauthpresent": _mfa_key("aws:multifactorauthpresent"),
    "aws:multifactorauthage": _mfa_key("aws:multifactorauthage"),
}


def _principal_arn(principal: Principal, user: Any) -> str:
    if user is not None:
        return str(user.arn())
    return principal.arn()


def request_tags(ctx: Context) -> list[tuple[str, str]]:
    """Tags a request asks for: ``Tag.N`` (CreateTags) and ``TagSpecification.N.Tag.M``."""
    out: list[tuple[str, str]] = []
    try:
        for tag in ctx.params.structs("Tag"):
            out.append((str(tag.str("Key") or ""), str(tag.str("Value") or "")))
        for spec in ctx.params.structs("TagSpecification"):
            for tag in spec.structs("Tag"):
                out.append((str(tag.str("Key") or ""), str(tag.str("Value") or "")))
    except errors.AWSError:
        return out  # malformed tags: the handler refuses them with the right error
    return out


def resource_tags(ctx: Context, resource: str) -> dict[str, str]:
    """The tags of the EC2 resource an ARN names (empty when unknown or untagged)."""
    rid = resource.rsplit("/", 1)[-1] if resource.startswith("arn:aws:ec2:") else ""
    if not rid:
        return {}
    return dict(ctx.cloud.clc.tags.get(rid, {}))


def request_context(ctx: Context, principal: Principal, resource: str,
                    service_keys: dict[str, list[str]]) -> RequestContext:
    """Condition keys and variables of one request on one resource."""
    values = {k.lower(): v for k, v in service_keys.items()} if service_keys else {}
    return RequestContext(values, QueryKeys(ctx, principal, resource).resolve)


def _eager(context: RequestContext) -> None:
    """Fill in the global keys (for an encoded message that shows them)."""
    for key in ("aws:sourceip", "aws:currenttime", "aws:username", "aws:userid",
                "aws:principalaccount", "aws:principalarn", "ec2:region"):
        context.get(key)


_keyed: list[str] = []


def _use_cloud_key(ctx: Context) -> None:
    """Encoded messages use the cloud's key (loaded on the first request)."""
    try:
        load_message_key(ctx.cloud.data_dir)
    except FileExistsError:
        load_message_key(ctx.cloud.data_dir)  # another thread created it meanwhile
    _keyed.append(ctx.cloud.data_dir)


def authorize(ctx: Context, declared: Action, style: str) -> None:
    """Refuse ``ctx`` unless its caller may run ``declared``; check quotas too.

    Sets ``ctx.cloud_admin`` when the caller acts with cloud-administrator powers.
    """
    if not _keyed:
        _use_cloud_key(ctx)
    caller = ctx.caller
    if caller.anonymous:
        return  # only anonymous_actions get here
    if is_cloud_admin(caller):
        ctx.cloud_admin = True
        return
    if declared.iam_action in NO_PERMISSION_NEEDED:
        return
    policies = policies_for(ctx.cloud.identity, caller)
    system_user = caller.account_name == ADMIN_ACCOUNT
    if declared.cloud_admin and not system_user:
        _refuse(ctx, declared, caller, declared.iam_action, "*", None, style)
    resources = declared.resources(ctx) or ["*"]
    service_keys = declared.keys(ctx)
    ids = principal_ids(caller)
    for resource in resources:
        context = request_context(ctx, caller, resource, service_keys)
        req = Request(declared.iam_action, resource, ids, context)
        decision = decide(req, policies)
        if not decision.allowed:
            _refuse(ctx, declared, caller, declared.iam_action, resource, (req, decision),
                    style)
    if system_user:
        # A user of the eucalyptus account whose policy grants an action acts as a
        # cloud administrator for it (Eucalyptus 4's delegated administrator roles).
        ctx.cloud_admin = True
        return
    quotas.check(ctx, declared, caller, policies)
    if not policies.implicit:
        quotas.track_creations(ctx, declared, caller)


def may(ctx: Context, iam_action: str, resource: str = "*",
        service_keys: dict[str, list[str]] | None = None,
        policies: PolicySet | None = None) -> bool:
    """Whether the caller may do ``iam_action`` on ``resource`` (for checks a handler
    makes itself, such as a second action one request implies)."""
    caller = ctx.caller
    if is_cloud_admin(caller):
        return True
    if caller.anonymous:
        return False
    policies = policies or policies_for(ctx.cloud.identity, caller)
    context = request_context(ctx, caller, resource, service_keys or {})
    return decide(Request(iam_action, resource, principal_ids(caller), context),
                  policies).allowed


def principal_decision(identity: Any, account_id: str, principal_arn: str, policy: str,
                       iam_action: str, resource: str = "*") -> Decision:
    """The engine's decision for a principal that is no request's caller, such as a
    service acting for an account through its service-linked role: ``policy`` is the
    principal's own (identity) policy, and the account's policies apply as to any of
    its principals (their Deny wins)."""
    policies = PolicySet(identity=group((policy,)),
                         account=account_policy_group(identity, account_id),
                         account_id=account_id)
    context = RequestContext({"aws:principalarn": principal_arn,
                              "aws:principalaccount": account_id,
                              "aws:principaltype": "AssumedRole"})
    return decide(Request(iam_action, resource, frozenset({account_id, principal_arn}),
                          context), policies)


def _refuse(ctx: Context, declared: Action, caller: Principal, iam_action: str,
            resource: str, evaluated: tuple[Request, Decision] | None, style: str) -> None:
    if style == "ec2":
        if evaluated is None:
            evaluated = (Request(iam_action, resource, principal_ids(caller),
                                 request_context(ctx, caller, resource, {})),
                         Decision(False))
        req, decision = evaluated
        _eager(req.context)
        who = {"id": _user_id(ctx, caller), "name": caller.user_name or "root",
               "arn": _principal_arn(caller, ctx.cloud.identity.users.get(
                   (caller.account_id, caller.user_name)))}
        token = encode_authorization_message(authorization_message(req, decision, who))
        raise errors.UnauthorizedOperation(
            "You are not authorized to perform this operation. Encoded authorization failure "
            f"message: {token}")
    arn = _principal_arn(caller, ctx.cloud.identity.users.get(
        (caller.account_id, caller.user_name)))
    explicit = evaluated is not None and evaluated[1].explicit_deny
    reason = " with an explicit deny" if explicit else ""
    raise errors.AccessDenied(f"User: {arn} is not authorized to perform: {iam_action} on "
                              f"resource: {resource}{reason}")


def _user_id(ctx: Context, caller: Principal) -> str:
    user = ctx.cloud.identity.users.get((caller.account_id, caller.user_name))
    return str(user.user_id) if user is not None else caller.account_id
