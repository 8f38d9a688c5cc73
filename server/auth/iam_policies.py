"""IAM policy actions: group inline policies, managed policies and their versions,
attachments, permissions boundaries and the policy simulator."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from server import errors
from server.auth.authz import Action, action
from server.auth.iam_shapes import (
    encoded,
    group_resource,
    page,
    policy_resource,
    policy_shape,
    role_resource,
    user_resource,
    version_shape,
)
from server.auth.identity import IdentityError
from server.protocol.query import Context


# -- group inline policies -----------------------------------------------------------------
def put_group_policy(ctx: Context) -> Any:
    """PutGroupPolicy."""
    ctx.cloud.identity.put_group_policy(ctx.account_id,
                                        ctx.params.str("GroupName", required=True),
                                        ctx.params.str("PolicyName", required=True),
                                        ctx.params.str("PolicyDocument", required=True))


def get_group_policy(ctx: Context) -> Any:
    """GetGroupPolicy (document URL-encoded)."""
    group = ctx.params.str("GroupName", required=True)
    name = ctx.params.str("PolicyName", required=True)
    document = ctx.cloud.identity.group_policy(ctx.account_id, group, name)
    return {"GroupName": group, "PolicyName": name, "PolicyDocument": encoded(document)}


def list_group_policies(ctx: Context) -> Any:
    """ListGroupPolicies."""
    group = ctx.cloud.identity.group(ctx.account_id, ctx.params.str("GroupName", required=True))
    names, extra = page(sorted(group.policies), ctx)
    return {"PolicyNames": names, **extra}


def delete_group_policy(ctx: Context) -> Any:
    """DeleteGroupPolicy."""
    ctx.cloud.identity.delete_group_policy(ctx.account_id,
                                           ctx.params.str("GroupName", required=True),
                                           ctx.params.str("PolicyName", required=True))


# -- managed policies ----------------------------------------------------------------------
def _shape(ctx: Context, policy: Any) -> dict[str, Any]:
    return policy_shape(policy, ctx.cloud.identity.managed.attachment_count(ctx.account_id,
                                                                             policy.arn()))


def create_policy(ctx: Context) -> Any:
    """CreatePolicy."""
    policy = ctx.cloud.identity.managed.create(
        ctx.account_id, ctx.params.str("PolicyName", required=True),
        ctx.params.str("PolicyDocument", required=True), ctx.params.str("Path", "/"),
        ctx.params.str("Description", ""))
    return {"Policy": _shape(ctx, policy)}


def get_policy(ctx: Context) -> Any:
    """GetPolicy."""
    policy = ctx.cloud.identity.managed.get(ctx.account_id,
                                            ctx.params.str("PolicyArn", required=True))
    return {"Policy": _shape(ctx, policy)}


def list_policies(ctx: Context) -> Any:
    """ListPolicies (Scope, OnlyAttached, PathPrefix)."""
    policies = ctx.cloud.identity.managed.list_policies(
        ctx.account_id, scope=ctx.params.str("Scope", "All"),
        only_attached=ctx.params.bool("OnlyAttached", False),
        prefix=ctx.params.str("PathPrefix", "/"))
    chunk, extra = page(policies, ctx)
    return {"Policies": [_shape(ctx, p) for p in chunk], **extra}


def delete_policy(ctx: Context) -> Any:
    """DeletePolicy."""
    ctx.cloud.identity.managed.delete(ctx.account_id, ctx.params.str("PolicyArn", required=True))


def create_policy_version(ctx: Context) -> Any:
    """CreatePolicyVersion."""
    managed = ctx.cloud.identity.managed
    arn = ctx.params.str("PolicyArn", required=True)
    version = managed.create_version(ctx.account_id, arn,
                                     ctx.params.str("PolicyDocument", required=True),
                                     ctx.params.bool("SetAsDefault", False))
    policy = managed.get(ctx.account_id, arn)
    return {"PolicyVersion": version_shape(version, policy.versions[version],
                                           policy.default_version, document=False)}


def get_policy_version(ctx: Context) -> Any:
    """GetPolicyVersion."""
    managed = ctx.cloud.identity.managed
    arn = ctx.params.str("PolicyArn", required=True)
    version_id = ctx.params.str("VersionId", required=True)
    version = managed.version(ctx.account_id, arn, version_id)
    policy = managed.get(ctx.account_id, arn)
    return {"PolicyVersion": version_shape(version_id, version, policy.default_version)}


def list_policy_versions(ctx: Context) -> Any:
    """ListPolicyVersions (newest first)."""
    policy = ctx.cloud.identity.managed.get(ctx.account_id,
                                            ctx.params.str("PolicyArn", required=True))
    versions = sorted(policy.versions.items(), key=lambda kv: -int(kv[0][1:]))
    return {"Versions": [version_shape(v, d, policy.default_version, document=False)
                         for v, d in versions], "IsTruncated": False}


def delete_policy_version(ctx: Context) -> Any:
    """DeletePolicyVersion."""
    ctx.cloud.identity.managed.delete_version(ctx.account_id,
                                              ctx.params.str("PolicyArn", required=True),
                                              ctx.params.str("VersionId", required=True))


def set_default_policy_version(ctx: Context) -> Any:
    """SetDefaultPolicyVersion."""
    ctx.cloud.identity.managed.set_default(ctx.account_id,
                                           ctx.params.str("PolicyArn", required=True),
                                           ctx.params.str("VersionId", required=True))


# -- attachments ---------------------------------------------------------------------------
def attach_user_policy(ctx: Context) -> Any:
    """AttachUserPolicy."""
    ctx.cloud.identity.attach_user_policy(ctx.account_id,
                                          ctx.params.str("UserName", required=True),
                                          ctx.params.str("PolicyArn", required=True))


def detach_user_policy(ctx: Context) -> Any:
    """DetachUserPolicy."""
    ctx.cloud.identity.detach_user_policy(ctx.account_id,
                                          ctx.params.str("UserName", required=True),
                                          ctx.params.str("PolicyArn", required=True))


def attach_group_policy(ctx: Context) -> Any:
    """AttachGroupPolicy."""
    ctx.cloud.identity.attach_group_policy(ctx.account_id,
                                           ctx.params.str("GroupName", required=True),
                                           ctx.params.str("PolicyArn", required=True))


def detach_group_policy(ctx: Context) -> Any:
    """DetachGroupPolicy."""
    ctx.cloud.identity.detach_group_policy(ctx.account_id,
                                           ctx.params.str("GroupName", required=True),
                                           ctx.params.str("PolicyArn", required=True))


def attach_role_policy(ctx: Context) -> Any:
    """AttachRolePolicy."""
    identity = ctx.cloud.identity
    role = identity.roles.modifiable(ctx.account_id, ctx.params.str("RoleName", required=True))
    identity.managed.attach(ctx.account_id, role, ctx.params.str("PolicyArn", required=True))
    identity.roles.save(role)


def detach_role_policy(ctx: Context) -> Any:
    """DetachRolePolicy."""
    identity = ctx.cloud.identity
    role = identity.roles.modifiable(ctx.account_id, ctx.params.str("RoleName", required=True))
    identity.managed.detach(ctx.account_id, role, ctx.params.str("PolicyArn", required=True))
    identity.roles.save(role)


def _attached(ctx: Context, arns: list[str]) -> Any:
    managed = ctx.cloud.identity.managed
    prefix = ctx.params.str("PathPrefix", "/")
    out = []
    for arn in arns:
        policy = managed.by_arn.get(arn)
        if policy is not None and policy.path.startswith(prefix):
            out.append({"PolicyName": policy.name, "PolicyArn": arn})
    chunk, extra = page(out, ctx)
    return {"AttachedPolicies": chunk, **extra}


def list_attached_user_policies(ctx: Context) -> Any:
    """ListAttachedUserPolicies."""
    user = ctx.cloud.identity.user(ctx.account_id, ctx.params.str("UserName", required=True))
    return _attached(ctx, user.managed)


def list_attached_group_policies(ctx: Context) -> Any:
    """ListAttachedGroupPolicies."""
    group = ctx.cloud.identity.group(ctx.account_id, ctx.params.str("GroupName", required=True))
    return _attached(ctx, group.managed)


def list_attached_role_policies(ctx: Context) -> Any:
    """ListAttachedRolePolicies."""
    role = ctx.cloud.identity.roles.role(ctx.account_id,
                                         ctx.params.str("RoleName", required=True))
    return _attached(ctx, role.managed)


def list_entities_for_policy(ctx: Context) -> Any:
    """ListEntitiesForPolicy (EntityFilter User, Group, Role; PathPrefix)."""
    identity = ctx.cloud.identity
    arn = ctx.params.str("PolicyArn", required=True)
    identity.managed.get(ctx.account_id, arn)
    kind = ctx.params.str("EntityFilter")
    if kind not in (None, "User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy"):
        raise errors.ValidationError(f"Invalid EntityFilter {kind}")
    prefix = ctx.params.str("PathPrefix", "/")
    found = identity.managed.attachments(ctx.account_id, arn)
    out: dict[str, Any] = {"PolicyUsers": [], "PolicyGroups": [], "PolicyRoles": [],
                           "IsTruncated": False}
    if kind in (None, "User"):
        for name in found["user"]:
            user = identity.user(ctx.account_id, name)
            if user.path.startswith(prefix):
                out["PolicyUsers"].append({"UserName": name, "UserId": user.user_id})
    if kind in (None, "Group"):
        for name in found["group"]:
            group = identity.group(ctx.account_id, name)
            if group.path.startswith(prefix):
                out["PolicyGroups"].append({"GroupName": name, "GroupId": group.group_id})
    if kind in (None, "Role"):
        for name in found["role"]:
            role = identity.roles.role(ctx.account_id, name)
            if role.path.startswith(prefix):
                out["PolicyRoles"].append({"RoleName": name, "RoleId": role.role_id})
    return out


# -- permissions boundaries ----------------------------------------------------------------
def put_user_permissions_boundary(ctx: Context) -> Any:
    """PutUserPermissionsBoundary."""
    ctx.cloud.identity.set_user_boundary(ctx.account_id,
                                         ctx.params.str("UserName", required=True),
                                         ctx.params.str("PermissionsBoundary", required=True))


def delete_user_permissions_boundary(ctx: Context) -> Any:
    """DeleteUserPermissionsBoundary."""
    ctx.cloud.identity.set_user_boundary(ctx.account_id,
                                         ctx.params.str("UserName", required=True), "")


def put_role_permissions_boundary(ctx: Context) -> Any:
    """PutRolePermissionsBoundary."""
    identity = ctx.cloud.identity
    role = identity.roles.role(ctx.account_id, ctx.params.str("RoleName", required=True))
    arn = ctx.params.str("PermissionsBoundary", required=True)
    identity.managed.get(ctx.account_id, arn)
    role.boundary = arn
    identity.roles.save(role)


def delete_role_permissions_boundary(ctx: Context) -> Any:
    """DeleteRolePermissionsBoundary."""
    identity = ctx.cloud.identity
    role = identity.roles.role(ctx.account_id, ctx.params.str("RoleName", required=True))
    if not role.boundary:
        raise IdentityError("NoSuchEntity", f"The role {role.name} has no permissions "
                            "boundary.", 404)
    role.boundary = ""
    identity.roles.save(role)


# -- the policy simulator ------------------------------------------------------------------
def _simulator() -> Any:
    """The one policy engine's ``simulate`` (501 until the engine is part of the cloud)."""
    try:
        simulate = getattr(import_module("server.auth.policy"), "simulate")  # noqa: B009
    except (ImportError, AttributeError):
        raise errors.AWSError("The policy simulator needs the policy engine.",
                              code="NotImplemented", status=501) from None
    return simulate


def _context_entries(ctx: Context) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for entry in ctx.params.structs("ContextEntries"):
        key = entry.str("ContextKeyName", required=True)
        out[key] = entry.strings("ContextKeyValues")
    return out


def _simulate(ctx: Context, policies: list[str], base: Any = None) -> Any:
    """Evaluate ActionNames x ResourceArns against ``policies`` (added to ``base``, the
    principal's own :class:`~server.auth.policy.PolicySet`, when there is one)."""
    simulate = _simulator()
    from server.auth.identity import validate_identity_policy

    for document in policies:
        validate_identity_policy(document)
    actions = ctx.params.strings("ActionNames")
    if not actions:
        raise errors.MissingParameter("The request must contain the parameter ActionNames")
    resources = ctx.params.strings("ResourceArns") or ["*"]
    context = _context_entries(ctx)
    results = []
    for name in actions:
        for resource in resources:
            result = simulate(policies, name, resource, context, base=base)
            results.append(result | {"MissingContextValues": []})
    return {"EvaluationResults": results, "IsTruncated": False}


def simulate_custom_policy(ctx: Context) -> Any:
    """SimulateCustomPolicy: the given policies only."""
    policies = ctx.params.strings("PolicyInputList")
    if not policies:
        raise errors.MissingParameter("The request must contain the parameter PolicyInputList")
    return _simulate(ctx, policies)


def simulate_principal_policy(ctx: Context) -> Any:
    """SimulatePrincipalPolicy: what the engine evaluates for a user or role (its inline,
    group and managed policies, its permissions boundary and the account's policies), or
    a group's policies, plus PolicyInputList."""
    from server.auth.identity import Principal
    from server.auth.policies_source import account_policy_group, policies_for
    from server.auth.policy import PolicySet, group

    identity = ctx.cloud.identity
    arn = ctx.params.str("PolicySourceArn", required=True)
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or parts[4] != ctx.account_id:
        raise IdentityError("NoSuchEntity", f"{arn} cannot be found.", 404)
    kind, _, rest = parts[5].partition("/")
    name = rest.rsplit("/", 1)[-1]
    account = identity.accounts[ctx.account_id]
    if kind == "user":
        identity.user(ctx.account_id, name)
        base = policies_for(identity, Principal(account.id, account.name, name))
    elif kind == "role":
        identity.roles.role(ctx.account_id, name)
        base = policies_for(identity, Principal(account.id, account.name, "", role_name=name))
    elif kind == "group":
        found = identity.group(ctx.account_id, name)
        docs = list(found.policies.values()) + [
            d for d in map(identity.managed.document, found.managed) if d]
        base = PolicySet(identity=group(tuple(docs)), account_id=account.id,
                         account=account_policy_group(identity, account.id))
    else:
        raise IdentityError("NoSuchEntity", f"{arn} cannot be found.", 404)
    return _simulate(ctx, ctx.params.strings("PolicyInputList"), base)


def _iam(handler: Any, name: str, resources: Any = None) -> Action:
    if resources is None:
        return action(handler, f"iam:{name}")
    return action(handler, f"iam:{name}", resources=resources)


ACTIONS: dict[str, Action] = {
    "PutGroupPolicy": _iam(put_group_policy, "PutGroupPolicy", group_resource),
    "GetGroupPolicy": _iam(get_group_policy, "GetGroupPolicy", group_resource),
    "ListGroupPolicies": _iam(list_group_policies, "ListGroupPolicies", group_resource),
    "DeleteGroupPolicy": _iam(delete_group_policy, "DeleteGroupPolicy", group_resource),
    "CreatePolicy": _iam(create_policy, "CreatePolicy"),
    "GetPolicy": _iam(get_policy, "GetPolicy", policy_resource),
    "ListPolicies": _iam(list_policies, "ListPolicies"),
    "DeletePolicy": _iam(delete_policy, "DeletePolicy", policy_resource),
    "CreatePolicyVersion": _iam(create_policy_version, "CreatePolicyVersion", policy_resource),
    "GetPolicyVersion": _iam(get_policy_version, "GetPolicyVersion", policy_resource),
    "ListPolicyVersions": _iam(list_policy_versions, "ListPolicyVersions", policy_resource),
    "DeletePolicyVersion": _iam(delete_policy_version, "DeletePolicyVersion", policy_resource),
    "SetDefaultPolicyVersion": _iam(set_default_policy_version, "SetDefaultPolicyVersion",
                                    policy_resource),
    "AttachUserPolicy": _iam(attach_user_policy, "AttachUserPolicy", user_resource),
    "DetachUserPolicy": _iam(detach_user_policy, "DetachUserPolicy", user_resource),
    "AttachGroupPolicy": _iam(attach_group_policy, "AttachGroupPolicy", group_resource),
    "DetachGroupPolicy": _iam(detach_group_policy, "DetachGroupPolicy", group_resource),
    "AttachRolePolicy": _iam(attach_role_policy, "AttachRolePolicy", role_resource),
    "DetachRolePolicy": _iam(detach_role_policy, "DetachRolePolicy", role_resource),
    "ListAttachedUserPolicies": _iam(list_attached_user_policies, "ListAttachedUserPolicies",
                                     user_resource),
    "ListAttachedGroupPolicies": _iam(list_attached_group_policies,
                                      "ListAttachedGroupPolicies", group_resource),
    "ListAttachedRolePolicies": _iam(list_attached_role_policies, "ListAttachedRolePolicies",
                                     role_resource),
    "ListEntitiesForPolicy": _iam(list_entities_for_policy, "ListEntitiesForPolicy",
                                  policy_resource),
    "PutUserPermissionsBoundary": _iam(put_user_permissions_boundary,
                                       "PutUserPermissionsBoundary", user_resource),
    "DeleteUserPermissionsBoundary": _iam(delete_user_permissions_boundary,
                                          "DeleteUserPermissionsBoundary", user_resource),
    "PutRolePermissionsBoundary": _iam(put_role_permissions_boundary,
                                       "PutRolePermissionsBoundary", role_resource),
    "DeleteRolePermissionsBoundary": _iam(delete_role_permissions_boundary,
                                          "DeleteRolePermissionsBoundary", role_resource),
    "SimulateCustomPolicy": _iam(simulate_custom_policy, "SimulateCustomPolicy"),
    "SimulatePrincipalPolicy": _iam(simulate_principal_policy, "SimulatePrincipalPolicy"),
}
