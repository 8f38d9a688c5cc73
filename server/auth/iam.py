"""Euare (IAM) and Tokens (STS): accounts, users, groups and access keys over the query protocol."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from server import errors
from server.auth.account_policies import ACTIONS as ACCOUNT_POLICY_ACTIONS
from server.auth.authz import action
from server.auth.iam_resources import GROUP, USER, USER_OR_SELF
from server.auth.identity import AccessKey, Group, User
from server.protocol.query import Context, Handler, QueryService
from server.protocol.xml import iso8601


def _user(u: User) -> dict[str, Any]:
    return {"Path": u.path, "UserName": u.name, "UserId": u.user_id, "Arn": u.arn(),
            "CreateDate": iso8601(u.created)}


def _group(g: Group) -> dict[str, Any]:
    return {"Path": g.path, "GroupName": g.name, "GroupId": g.group_id, "Arn": g.arn(),
            "CreateDate": iso8601(g.created)}


def _key_meta(k: AccessKey) -> dict[str, Any]:
    return {"UserName": k.user_name, "AccessKeyId": k.key_id, "Status": k.status,
            "CreateDate": iso8601(k.created)}


def _require_admin(ctx: Context) -> None:
    if not ctx.is_admin:
        raise errors.AccessDenied("Only cloud administrators may call " + ctx.action)


def _user_name(ctx: Context) -> str:
    """The UserName parameter, or the caller's own name."""
    name: str = ctx.params.str("UserName") or ctx.principal.user_name or "admin"
    return name


class IAMService(QueryService):
    """The Euare service (IAM API version 2010-05-08, with Eucalyptus account actions)."""

    signing_names = ("iam",)
    iam_prefix = "iam"
    path = "/services/Euare"
    api_version = "2010-05-08"
    xmlns = "https://iam.amazonaws.com/doc/2010-05-08/"

    def action_table(self) -> dict[str, Handler]:
        """IAM actions."""
        return {
            "CreateAccount": action(self.create_account, "iam:CreateAccount", cloud_admin=True),
            "ListAccounts": action(self.list_accounts, "iam:ListAccounts", cloud_admin=True),
            "DeleteAccount": action(self.delete_account, "iam:DeleteAccount", cloud_admin=True),
            "CreateUser": action(self.create_user, "iam:CreateUser", resources=USER),
            "GetUser": action(self.get_user, "iam:GetUser", resources=USER_OR_SELF),
            "ListUsers": action(self.list_users, "iam:ListUsers"),
            "DeleteUser": action(self.delete_user, "iam:DeleteUser", resources=USER),
            "CreateAccessKey": action(self.create_access_key, "iam:CreateAccessKey",
                                      resources=USER_OR_SELF),
            "ListAccessKeys": action(self.list_access_keys, "iam:ListAccessKeys",
                                     resources=USER_OR_SELF),
            "DeleteAccessKey": action(self.delete_access_key, "iam:DeleteAccessKey",
                                      resources=USER_OR_SELF),
            "UpdateAccessKey": action(self.update_access_key, "iam:UpdateAccessKey",
                                      resources=USER_OR_SELF),
            "CreateGroup": action(self.create_group, "iam:CreateGroup", resources=GROUP),
            "GetGroup": action(self.get_group, "iam:GetGroup", resources=GROUP),
            "DeleteGroup": action(self.delete_group, "iam:DeleteGroup", resources=GROUP),
            "ListGroups": action(self.list_groups, "iam:ListGroups"),
            "AddUserToGroup": action(self.add_user_to_group, "iam:AddUserToGroup",
                                     resources=GROUP),
            "RemoveUserFromGroup": action(self.remove_user_from_group, "iam:RemoveUserFromGroup",
                                          resources=GROUP),
            "ListGroupsForUser": action(self.list_groups_for_user, "iam:ListGroupsForUser",
                                        resources=USER),
            "ListAccountAliases": action(self.list_account_aliases, "iam:ListAccountAliases"),
            "ListSigningCertificates": action(self.list_signing_certificates,
                                              "iam:ListSigningCertificates",
                                              resources=USER_OR_SELF),
            "ListUserPolicies": action(self.list_user_policies, "iam:ListUserPolicies",
                                       resources=USER),
            "PutUserPolicy": action(self.put_user_policy, "iam:PutUserPolicy", resources=USER),
            "GetUserPolicy": action(self.get_user_policy, "iam:GetUserPolicy", resources=USER),
            "DeleteUserPolicy": action(self.delete_user_policy, "iam:DeleteUserPolicy",
                                       resources=USER),
            "GetLoginProfile": action(self.get_login_profile, "iam:GetLoginProfile",
                                      resources=USER),
            "DeleteLoginProfile": action(self.get_login_profile, "iam:DeleteLoginProfile",
                                         resources=USER),
            **ACCOUNT_POLICY_ACTIONS,  # Eucalyptus account policies (quotas)
        }

    # -- accounts (Eucalyptus extensions) -------------------------------------------
    def create_account(self, ctx: Context) -> Any:
        """CreateAccount: a new account with its admin user (cloud admin only)."""
        _require_admin(ctx)
        name = ctx.params.str("AccountName", required=True)
        account = ctx.cloud.identity.create_account(name)
        return {"Account": {"AccountName": account.name, "AccountId": account.id}}

    def list_accounts(self, ctx: Context) -> Any:
        """ListAccounts (cloud admin only)."""
        _require_admin(ctx)
        return {"Accounts": [{"AccountName": a.name, "AccountId": a.id}
                             for a in ctx.cloud.identity.visible_accounts()],
                "IsTruncated": False}

    def delete_account(self, ctx: Context) -> Any:
        """DeleteAccount (cloud admin only); ``Recursive`` removes its users first."""
        _require_admin(ctx)
        name = ctx.params.str("AccountName", required=True)
        recursive = ctx.params.bool("Recursive", False)
        ctx.cloud.clc.release_account(ctx.cloud.identity.account(name).id, check_only=not recursive)
        ctx.cloud.identity.delete_account(name, recursive=recursive)
        return None

    def list_account_aliases(self, ctx: Context) -> Any:
        """ListAccountAliases: the account name is its alias in Eucalyptus."""
        return {"AccountAliases": [ctx.principal.account_name], "IsTruncated": False}

    def list_signing_certificates(self, ctx: Context) -> Any:
        """ListSigningCertificates: users have none (bundles use the cloud's certificate)."""
        ctx.cloud.identity.user(ctx.account_id, _user_name(ctx))
        return {"Certificates": [], "IsTruncated": False}

    def list_user_policies(self, ctx: Context) -> Any:
        """ListUserPolicies: the names of a user's inline policies."""
        names = ctx.cloud.identity.list_user_policies(
            ctx.account_id, ctx.params.str("UserName", required=True))
        return {"PolicyNames": names, "IsTruncated": False}

    def put_user_policy(self, ctx: Context) -> Any:
        """PutUserPolicy: add or replace an inline policy (JSON, validated)."""
        ctx.cloud.identity.put_user_policy(ctx.account_id,
                                           ctx.params.str("UserName", required=True),
                                           ctx.params.str("PolicyName", required=True),
                                           ctx.params.str("PolicyDocument", required=True))
        return None

    def get_user_policy(self, ctx: Context) -> Any:
        """GetUserPolicy: the document comes back URL-encoded, as IAM returns it."""
        user = ctx.params.str("UserName", required=True)
        name = ctx.params.str("PolicyName", required=True)
        document = ctx.cloud.identity.user_policy(ctx.account_id, user, name)
        return {"UserName": user, "PolicyName": name,
                "PolicyDocument": quote(document, safe="")}

    def delete_user_policy(self, ctx: Context) -> Any:
        """DeleteUserPolicy."""
        ctx.cloud.identity.delete_user_policy(ctx.account_id,
                                              ctx.params.str("UserName", required=True),
                                              ctx.params.str("PolicyName", required=True))
        return None

    def get_login_profile(self, ctx: Context) -> Any:
        """Get/DeleteLoginProfile: users have no console passwords here."""
        name = ctx.params.str("UserName", required=True)
        ctx.cloud.identity.user(ctx.account_id, name)
        raise errors.AWSError(f"Login Profile for User {name} cannot be found.",
                              code="NoSuchEntity", status=404)

    # -- users -------------------------------------------------------------------------
    def create_user(self, ctx: Context) -> Any:
        """CreateUser."""
        user = ctx.cloud.identity.create_user(ctx.account_id,
                                              ctx.params.str("UserName", required=True),
                                              ctx.params.str("Path", "/"))
        return {"User": _user(user)}

    def get_user(self, ctx: Context) -> Any:
        """GetUser (the caller when no UserName is given)."""
        return {"User": _user(ctx.cloud.identity.user(ctx.account_id, _user_name(ctx)))}

    def list_users(self, ctx: Context) -> Any:
        """ListUsers under a path prefix."""
        users = ctx.cloud.identity.list_users(ctx.account_id, ctx.params.str("PathPrefix", "/"))
        return {"Users": [_user(u) for u in users], "IsTruncated": False}

    def delete_user(self, ctx: Context) -> Any:
        """DeleteUser."""
        ctx.cloud.identity.delete_user(ctx.account_id, ctx.params.str("UserName", required=True))
        return None

    # -- access keys ---------------------------------------------------------------------
    def create_access_key(self, ctx: Context) -> Any:
        """CreateAccessKey (for the caller when no UserName is given)."""
        key = ctx.cloud.identity.create_access_key(ctx.account_id, _user_name(ctx))
        return {"AccessKey": {"UserName": key.user_name, "AccessKeyId": key.key_id,
                              "Status": key.status, "SecretAccessKey": key.secret,
                              "CreateDate": iso8601(key.created)}}

    def list_access_keys(self, ctx: Context) -> Any:
        """ListAccessKeys."""
        keys = ctx.cloud.identity.list_access_keys(ctx.account_id, _user_name(ctx))
        return {"UserName": _user_name(ctx), "AccessKeyMetadata": [_key_meta(k) for k in keys],
                "IsTruncated": False}

    def delete_access_key(self, ctx: Context) -> Any:
        """DeleteAccessKey."""
        ctx.cloud.identity.delete_access_key(ctx.account_id, _user_name(ctx),
                                             ctx.params.str("AccessKeyId", required=True))
        return None

    def update_access_key(self, ctx: Context) -> Any:
        """UpdateAccessKey (Active/Inactive)."""
        ctx.cloud.identity.update_access_key(ctx.account_id, _user_name(ctx),
                                             ctx.params.str("AccessKeyId", required=True),
                                             ctx.params.str("Status", required=True))
        return None

    # -- groups --------------------------------------------------------------------------
    def create_group(self, ctx: Context) -> Any:
        """CreateGroup."""
        group = ctx.cloud.identity.create_group(ctx.account_id,
                                                ctx.params.str("GroupName", required=True),
                                                ctx.params.str("Path", "/"))
        return {"Group": _group(group)}

    def get_group(self, ctx: Context) -> Any:
        """GetGroup with its users."""
        name = ctx.params.str("GroupName", required=True)
        group = ctx.cloud.identity.group(ctx.account_id, name)
        return {"Group": _group(group),
                "Users": [_user(u) for u in ctx.cloud.identity.group_members(ctx.account_id, name)],
                "IsTruncated": False}

    def delete_group(self, ctx: Context) -> Any:
        """DeleteGroup."""
        ctx.cloud.identity.delete_group(ctx.account_id, ctx.params.str("GroupName", required=True))
        return None

    def list_groups(self, ctx: Context) -> Any:
        """ListGroups under a path prefix."""
        groups = ctx.cloud.identity.list_groups(ctx.account_id, ctx.params.str("PathPrefix", "/"))
        return {"Groups": [_group(g) for g in groups], "IsTruncated": False}

    def add_user_to_group(self, ctx: Context) -> Any:
        """AddUserToGroup."""
        ctx.cloud.identity.add_user_to_group(ctx.account_id,
                                             ctx.params.str("GroupName", required=True),
                                             ctx.params.str("UserName", required=True))
        return None

    def remove_user_from_group(self, ctx: Context) -> Any:
        """RemoveUserFromGroup."""
        ctx.cloud.identity.remove_user_from_group(ctx.account_id,
                                                  ctx.params.str("GroupName", required=True),
                                                  ctx.params.str("UserName", required=True))
        return None

    def list_groups_for_user(self, ctx: Context) -> Any:
        """ListGroupsForUser."""
        user = ctx.cloud.identity.user(ctx.account_id, ctx.params.str("UserName", required=True))
        return {"Groups": [_group(ctx.cloud.identity.group(ctx.account_id, g))
                           for g in sorted(user.groups)], "IsTruncated": False}


class STSService(QueryService):
    """The Tokens service: caller identity."""

    signing_names = ("sts",)
    iam_prefix = "sts"
    path = "/services/Tokens"
    api_version = "2011-06-15"
    xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"

    def action_table(self) -> dict[str, Handler]:
        """STS actions."""
        return {"GetCallerIdentity": action(self.get_caller_identity, "sts:GetCallerIdentity")}

    def get_caller_identity(self, ctx: Context) -> Any:
        """GetCallerIdentity."""
        p = ctx.principal
        user_id = p.account_id
        if p.user_name:
            try:
                user_id = ctx.cloud.identity.user(p.account_id, p.user_name).user_id
            except Exception:
                pass
        return {"UserId": user_id, "Account": p.account_id, "Arn": p.arn()}
