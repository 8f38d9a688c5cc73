"""IAM role actions: roles and their inline policies, instance profiles, and the tags of
users and roles."""

from __future__ import annotations

from typing import Any

from server.auth.authz import Action, action
from server.auth.iam_shapes import (
    encoded,
    page,
    profile_resource,
    profile_shape,
    role_resource,
    role_shape,
    tags_in,
    tags_out,
    user_resource,
)
from server.auth.identity import IdentityError
from server.auth.roles import check_tags
from server.protocol.query import Context


def _roles(ctx: Context) -> Any:
    return ctx.cloud.identity.roles


# -- roles ---------------------------------------------------------------------------------
def create_role(ctx: Context) -> Any:
    """CreateRole."""
    role = _roles(ctx).create(
        ctx.account_id, ctx.params.str("RoleName", required=True),
        ctx.params.str("AssumeRolePolicyDocument", required=True), ctx.params.str("Path", "/"),
        ctx.params.str("Description", ""), ctx.params.int("MaxSessionDuration"), tags_in(ctx))
    boundary = ctx.params.str("PermissionsBoundary")
    if boundary:
        ctx.cloud.identity.managed.get(ctx.account_id, boundary)
        role.boundary = boundary
        _roles(ctx).save(role)
    return {"Role": role_shape(role)}


def get_role(ctx: Context) -> Any:
    """GetRole."""
    return {"Role": role_shape(_roles(ctx).role(ctx.account_id,
                                                ctx.params.str("RoleName", required=True)))}


def list_roles(ctx: Context) -> Any:
    """ListRoles under a path prefix."""
    roles, extra = page(_roles(ctx).list_roles(ctx.account_id, ctx.params.str("PathPrefix", "/")),
                         ctx)
    return {"Roles": [role_shape(r, full=False) for r in roles], **extra}


def update_role(ctx: Context) -> Any:
    """UpdateRole: description and maximum session duration."""
    _roles(ctx).update(ctx.account_id, ctx.params.str("RoleName", required=True),
                       ctx.params.str("Description"), ctx.params.int("MaxSessionDuration"))
    return {}


def update_role_description(ctx: Context) -> Any:
    """UpdateRoleDescription."""
    role = _roles(ctx).update(ctx.account_id, ctx.params.str("RoleName", required=True),
                              ctx.params.str("Description", required=True))
    return {"Role": role_shape(role)}


def update_assume_role_policy(ctx: Context) -> Any:
    """UpdateAssumeRolePolicy."""
    _roles(ctx).update_trust(ctx.account_id, ctx.params.str("RoleName", required=True),
                             ctx.params.str("PolicyDocument", required=True))


def delete_role(ctx: Context) -> Any:
    """DeleteRole."""
    _roles(ctx).delete(ctx.account_id, ctx.params.str("RoleName", required=True))


def put_role_policy(ctx: Context) -> Any:
    """PutRolePolicy."""
    _roles(ctx).put_policy(ctx.account_id, ctx.params.str("RoleName", required=True),
                           ctx.params.str("PolicyName", required=True),
                           ctx.params.str("PolicyDocument", required=True))


def get_role_policy(ctx: Context) -> Any:
    """GetRolePolicy (document URL-encoded)."""
    role = ctx.params.str("RoleName", required=True)
    name = ctx.params.str("PolicyName", required=True)
    return {"RoleName": role, "PolicyName": name,
            "PolicyDocument": encoded(_roles(ctx).policy(ctx.account_id, role, name))}


def list_role_policies(ctx: Context) -> Any:
    """ListRolePolicies."""
    role = _roles(ctx).role(ctx.account_id, ctx.params.str("RoleName", required=True))
    names, extra = page(sorted(role.policies), ctx)
    return {"PolicyNames": names, **extra}


def delete_role_policy(ctx: Context) -> Any:
    """DeleteRolePolicy."""
    _roles(ctx).delete_policy(ctx.account_id, ctx.params.str("RoleName", required=True),
                              ctx.params.str("PolicyName", required=True))


# -- instance profiles ---------------------------------------------------------------------
def _profile(ctx: Context, profile: Any) -> dict[str, Any]:
    roles = _roles(ctx)
    return profile_shape(profile, [roles.role(profile.account_id, r) for r in profile.roles
                                   if (profile.account_id, r) in roles.roles])


def create_instance_profile(ctx: Context) -> Any:
    """CreateInstanceProfile."""
    profile = _roles(ctx).create_profile(ctx.account_id,
                                         ctx.params.str("InstanceProfileName", required=True),
                                         ctx.params.str("Path", "/"))
    return {"InstanceProfile": _profile(ctx, profile)}


def get_instance_profile(ctx: Context) -> Any:
    """GetInstanceProfile."""
    profile = _roles(ctx).profile(ctx.account_id,
                                  ctx.params.str("InstanceProfileName", required=True))
    return {"InstanceProfile": _profile(ctx, profile)}


def list_instance_profiles(ctx: Context) -> Any:
    """ListInstanceProfiles."""
    profiles, extra = page(_roles(ctx).list_profiles(ctx.account_id,
                                                      ctx.params.str("PathPrefix", "/")), ctx)
    return {"InstanceProfiles": [_profile(ctx, p) for p in profiles], **extra}


def list_instance_profiles_for_role(ctx: Context) -> Any:
    """ListInstanceProfilesForRole."""
    name = ctx.params.str("RoleName", required=True)
    _roles(ctx).role(ctx.account_id, name)
    profiles, extra = page(_roles(ctx).profiles_for_role(ctx.account_id, name), ctx)
    return {"InstanceProfiles": [_profile(ctx, p) for p in profiles], **extra}


def delete_instance_profile(ctx: Context) -> Any:
    """DeleteInstanceProfile."""
    _roles(ctx).delete_profile(ctx.account_id,
                               ctx.params.str("InstanceProfileName", required=True))


def add_role_to_instance_profile(ctx: Context) -> Any:
    """AddRoleToInstanceProfile."""
    _roles(ctx).add_role(ctx.account_id, ctx.params.str("InstanceProfileName", required=True),
                         ctx.params.str("RoleName", required=True))


def remove_role_from_instance_profile(ctx: Context) -> Any:
    """RemoveRoleFromInstanceProfile."""
    _roles(ctx).remove_role(ctx.account_id,
                            ctx.params.str("InstanceProfileName", required=True),
                            ctx.params.str("RoleName", required=True))


# -- tags ------------------------------------------------------------------------------------
def _tag(entity: Any, ctx: Context) -> None:
    tags = tags_in(ctx)
    if not tags:
        raise IdentityError("ValidationError", "Tags must contain at least one tag")
    check_tags(tags, entity.tags)
    entity.tags.update(tags)


def _untag(entity: Any, ctx: Context) -> None:
    for key in ctx.params.strings("TagKeys"):
        entity.tags.pop(key, None)


def tag_user(ctx: Context) -> Any:
    """TagUser."""
    identity = ctx.cloud.identity
    user = identity.user(ctx.account_id, ctx.params.str("UserName", required=True))
    _tag(user, ctx)
    identity.save_user(user)


def untag_user(ctx: Context) -> Any:
    """UntagUser."""
    identity = ctx.cloud.identity
    user = identity.user(ctx.account_id, ctx.params.str("UserName", required=True))
    _untag(user, ctx)
    identity.save_user(user)


def list_user_tags(ctx: Context) -> Any:
    """ListUserTags."""
    user = ctx.cloud.identity.user(ctx.account_id, ctx.params.str("UserName", required=True))
    return {"Tags": tags_out(user.tags), "IsTruncated": False}


def tag_role(ctx: Context) -> Any:
    """TagRole."""
    role = _roles(ctx).role(ctx.account_id, ctx.params.str("RoleName", required=True))
    _tag(role, ctx)
    _roles(ctx).save(role)


def untag_role(ctx: Context) -> Any:
    """UntagRole."""
    role = _roles(ctx).role(ctx.account_id, ctx.params.str("RoleName", required=True))
    _untag(role, ctx)
    _roles(ctx).save(role)


def list_role_tags(ctx: Context) -> Any:
    """ListRoleTags."""
    role = _roles(ctx).role(ctx.account_id, ctx.params.str("RoleName", required=True))
    return {"Tags": tags_out(role.tags), "IsTruncated": False}


def _role_action(handler: Any, name: str) -> Action:
    return action(handler, f"iam:{name}", resources=role_resource)


def _profile_action(handler: Any, name: str) -> Action:
    return action(handler, f"iam:{name}", resources=profile_resource)


ACTIONS: dict[str, Action] = {
    "CreateRole": _role_action(create_role, "CreateRole"),
    "GetRole": _role_action(get_role, "GetRole"),
    "ListRoles": action(list_roles, "iam:ListRoles"),
    "UpdateRole": _role_action(update_role, "UpdateRole"),
    "UpdateRoleDescription": _role_action(update_role_description, "UpdateRoleDescription"),
    "UpdateAssumeRolePolicy": _role_action(update_assume_role_policy, "UpdateAssumeRolePolicy"),
    "DeleteRole": _role_action(delete_role, "DeleteRole"),
    "PutRolePolicy": _role_action(put_role_policy, "PutRolePolicy"),
    "GetRolePolicy": _role_action(get_role_policy, "GetRolePolicy"),
    "ListRolePolicies": _role_action(list_role_policies, "ListRolePolicies"),
    "DeleteRolePolicy": _role_action(delete_role_policy, "DeleteRolePolicy"),
    "CreateInstanceProfile": _profile_action(create_instance_profile, "CreateInstanceProfile"),
    "GetInstanceProfile": _profile_action(get_instance_profile, "GetInstanceProfile"),
    "ListInstanceProfiles": action(list_instance_profiles, "iam:ListInstanceProfiles"),
    "ListInstanceProfilesForRole": _role_action(list_instance_profiles_for_role,
                                                "ListInstanceProfilesForRole"),
    "DeleteInstanceProfile": _profile_action(delete_instance_profile, "DeleteInstanceProfile"),
    "AddRoleToInstanceProfile": _profile_action(add_role_to_instance_profile,
                                                "AddRoleToInstanceProfile"),
    "RemoveRoleFromInstanceProfile": _profile_action(remove_role_from_instance_profile,
                                                     "RemoveRoleFromInstanceProfile"),
    "TagUser": action(tag_user, "iam:TagUser", resources=user_resource),
    "UntagUser": action(untag_user, "iam:UntagUser", resources=user_resource),
    "ListUserTags": action(list_user_tags, "iam:ListUserTags", resources=user_resource),
    "TagRole": _role_action(tag_role, "TagRole"),
    "UntagRole": _role_action(untag_role, "UntagRole"),
    "ListRoleTags": _role_action(list_role_tags, "ListRoleTags"),
}
