"""Shared pieces of the IAM handlers: response shapes, parameters and resource ARNs.

Shapes are the dictionaries IAM returns for its entities (``User``, ``Role``,
``Policy``...); resource functions name the ARNs an action touches for its
authorization declaration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from server import errors
from server.protocol.xml import iso8601

if TYPE_CHECKING:
    from server.auth.identity import AccessKey, Group, User
    from server.auth.managed import ManagedPolicy
    from server.auth.roles import InstanceProfile, Role
    from server.protocol.query import Context


def encoded(document: str) -> str:
    """A policy document as IAM returns it: URL-encoded JSON."""
    return quote(document, safe="")


def tags_out(tags: dict[str, str]) -> list[dict[str, str]]:
    """``[{Key, Value}]`` sorted by key."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def user_shape(u: User, *, tags: bool = False) -> dict[str, Any]:
    """The ``User`` structure."""
    out: dict[str, Any] = {"Path": u.path, "UserName": u.name, "UserId": u.user_id,
                           "Arn": u.arn(), "CreateDate": iso8601(u.created)}
    if u.boundary:
        out["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                      "PermissionsBoundaryArn": u.boundary}
    if tags and u.tags:
        out["Tags"] = tags_out(u.tags)
    return out


def group_shape(g: Group) -> dict[str, Any]:
    """The ``Group`` structure."""
    return {"Path": g.path, "GroupName": g.name, "GroupId": g.group_id, "Arn": g.arn(),
            "CreateDate": iso8601(g.created)}


def key_shape(k: AccessKey) -> dict[str, Any]:
    """``AccessKeyMetadata``."""
    return {"UserName": k.user_name, "AccessKeyId": k.key_id, "Status": k.status,
            "CreateDate": iso8601(k.created)}


def role_shape(r: Role, *, full: bool = True) -> dict[str, Any]:
    """The ``Role`` structure (with trust policy, description, session limit, tags)."""
    out: dict[str, Any] = {"Path": r.path, "RoleName": r.name, "RoleId": r.role_id,
                           "Arn": r.arn(), "CreateDate": iso8601(r.created),
                           "AssumeRolePolicyDocument": encoded(r.trust),
                           "MaxSessionDuration": r.max_session}
    if r.description:
        out["Description"] = r.description
    if r.boundary:
        out["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                      "PermissionsBoundaryArn": r.boundary}
    if full and r.tags:
        out["Tags"] = tags_out(r.tags)
    if full and r.last_used:
        out["RoleLastUsed"] = {"LastUsedDate": iso8601(r.last_used)}
    return out


def profile_shape(p: InstanceProfile, roles: list[Role]) -> dict[str, Any]:
    """The ``InstanceProfile`` structure with its roles."""
    return {"Path": p.path, "InstanceProfileName": p.name, "InstanceProfileId": p.profile_id,
            "Arn": p.arn(), "CreateDate": iso8601(p.created),
            "Roles": [role_shape(r, full=False) for r in roles]}


def policy_shape(p: ManagedPolicy, attachments: int) -> dict[str, Any]:
    """The ``Policy`` structure of a managed policy."""
    out: dict[str, Any] = {"PolicyName": p.name, "PolicyId": p.policy_id, "Arn": p.arn(),
                           "Path": p.path, "DefaultVersionId": p.default_version,
                           "AttachmentCount": attachments,
                           "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
                           "CreateDate": iso8601(p.created), "UpdateDate": iso8601(p.updated)}
    if p.description:
        out["Description"] = p.description
    return out


def version_shape(version_id: str, version: dict[str, Any], default: str,
                  *, document: bool = True) -> dict[str, Any]:
    """A ``PolicyVersion`` structure."""
    out: dict[str, Any] = {"VersionId": version_id, "IsDefaultVersion": version_id == default,
                           "CreateDate": iso8601(version["created"])}
    if document:
        out["Document"] = encoded(version["document"])
    return out


def tags_in(ctx: Context, name: str = "Tags") -> dict[str, str]:
    """``Tags.member.N.Key/Value`` as a dict."""
    out = {}
    for item in ctx.params.structs(name):
        key = item.str("Key", required=True)
        out[key] = item.str("Value", "")
    return out


def caller_user(ctx: Context) -> str:
    """The UserName parameter, or the calling user's own name.

    A role session or the account root must name the user: they are not users themselves.
    """
    name = ctx.params.str("UserName")
    if name:
        return str(name)
    principal = ctx.principal
    if principal.role_name:
        raise errors.ValidationError("Must specify userName when calling with non-User "
                                     "credentials")
    return principal.user_name or "admin"


def page(items: list[Any], ctx: Context) -> tuple[list[Any], dict[str, Any]]:
    """Marker/MaxItems pagination as IAM does it (Marker is an index here)."""
    start = 0
    marker = ctx.params.str("Marker")
    if marker:
        if not marker.isdigit():
            raise errors.AWSError("Invalid Marker", code="ValidationError")
        start = int(marker)
    limit = ctx.params.int("MaxItems", 100, minimum=1, maximum=1000)
    chunk = items[start:start + limit]
    more = start + limit < len(items)
    extra: dict[str, Any] = {"IsTruncated": more}
    if more:
        extra["Marker"] = str(start + limit)
    return chunk, extra


# -- resources (authorization declarations) ------------------------------------------------
def _iam_arn(ctx: Context, kind: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ctx.account_id}:{kind}{path}{name}"


def user_resource(ctx: Context) -> list[str]:
    """The user named by UserName (the caller by default)."""
    try:
        name = caller_user(ctx)
    except errors.AWSError:
        return ["*"]
    user = ctx.cloud.identity.users.get((ctx.account_id, name))
    return [user.arn() if user is not None else _iam_arn(ctx, "user", name)]


def group_resource(ctx: Context) -> list[str]:
    """The group named by GroupName."""
    name = ctx.params.str("GroupName") or ""
    group = ctx.cloud.identity.groups.get((ctx.account_id, name))
    return [group.arn() if group is not None else _iam_arn(ctx, "group", name)]


def role_resource(ctx: Context) -> list[str]:
    """The role named by RoleName."""
    name = ctx.params.str("RoleName") or ""
    role = ctx.cloud.identity.roles.roles.get((ctx.account_id, name))
    return [role.arn() if role is not None else _iam_arn(ctx, "role", name)]


def profile_resource(ctx: Context) -> list[str]:
    """The instance profile named by InstanceProfileName."""
    name = ctx.params.str("InstanceProfileName") or ""
    profile = ctx.cloud.identity.roles.profiles.get((ctx.account_id, name))
    return [profile.arn() if profile is not None
            else _iam_arn(ctx, "instance-profile", name)]


def policy_resource(ctx: Context) -> list[str]:
    """The managed policy named by PolicyArn."""
    return [ctx.params.str("PolicyArn") or "*"]


def server_cert_resource(ctx: Context) -> list[str]:
    """The server certificate named by ServerCertificateName."""
    return [_iam_arn(ctx, "server-certificate", ctx.params.str("ServerCertificateName") or "")]
