"""Euare (IAM): accounts, users, groups, access keys and inline user policies over the query
protocol; the other resource families' actions live in ``iam_*`` modules and join this table."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from server import errors
from server.auth.account_policies import ACTIONS as ACCOUNT_POLICY_ACTIONS
from server.auth.authz import action
from server.auth.iam_resources import GROUP, USER, USER_OR_SELF
from server.auth.iam_shapes import caller_user, group_shape, key_shape, user_shape
from server.protocol.query import Context, Handler, QueryService
from server.protocol.xml import iso8601


def _require_admin(ctx: Context) -> None:
    if not ctx.is_admin:
        raise errors.AccessDenied("Only cloud administrators may call " + ctx.action)


class IAMService(QueryService):
    """The Euare service (IAM API version 2010-05-08, with Eucalyptus account actions)."""

    signing_names = ("iam",)
    iam_prefix = "iam"
    path = "/services/Euare"
    api_version = "2010-05-08"
    xmlns = "https://iam.amazonaws.com/doc/2010-05-08/"

    def action_table(self) -> dict[str, Handler]:
        """IAM actions (the resource families' own tables are merged in)."""
        from server.auth import iam_account, iam_certs, iam_policies, iam_roles, oidc

        table: dict[str, Handler] = {
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
            "ListUserPolicies": action(self.list_user_policies, "iam:ListUserPolicies",
                                       resources=USER),
            "PutUserPolicy": action(self.put_user_policy, "iam:PutUserPolicy", resources=USER),
            "GetUserPolicy": action(self.get_user_policy, "iam:GetUserPolicy", resources=USER),
            "DeleteUserPolicy": action(self.delete_user_policy, "iam:DeleteUserPolicy",
                                       resources=USER),
            **ACCOUNT_POLICY_ACTIONS,  # Eucalyptus account policies (quotas)
        }
        from server.console import iam_actions as console_actions
        from server.ldap import iam_actions as ldap_actions

        for module in (iam_policies, iam_roles, iam_certs, iam_account, oidc, console_actions,
                       ldap_actions):
            table.update(module.ACTIONS)
        return table

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

    # -- users -------------------------------------------------------------------------
    def create_user(self, ctx: Context) -> Any:
        """CreateUser."""
        user = ctx.cloud.identity.create_user(ctx.account_id,
                                              ctx.params.str("UserName", required=True),
                                              ctx.params.str("Path", "/"))
        return {"User": user_shape(user)}

    def get_user(self, ctx: Context) -> Any:
        """GetUser (the caller when no UserName is given)."""
        user = ctx.cloud.identity.user(ctx.account_id, caller_user(ctx))
        return {"User": user_shape(user, tags=True)}

    def list_users(self, ctx: Context) -> Any:
        """ListUsers under a path prefix."""
        users = ctx.cloud.identity.list_users(ctx.account_id, ctx.params.str("PathPrefix", "/"))
        return {"Users": [user_shape(u) for u in users], "IsTruncated": False}

    def delete_user(self, ctx: Context) -> Any:
        """DeleteUser."""
        ctx.cloud.identity.delete_user(ctx.account_id, ctx.params.str("UserName", required=True))
        return None

    # -- access keys ---------------------------------------------------------------------
    def create_access_key(self, ctx: Context) -> Any:
        """CreateAccessKey (for the caller when no UserName is given)."""
        key = ctx.cloud.identity.create_access_key(ctx.account_id, caller_user(ctx))
        return {"AccessKey": {"UserName": key.user_name, "AccessKeyId": key.key_id,
                              "Status": key.status, "SecretAccessKey": key.secret,
                              "CreateDate": iso8601(key.created)}}

    def list_access_keys(self, ctx: Context) -> Any:
        """ListAccessKeys."""
        keys = ctx.cloud.identity.list_access_keys(ctx.account_id, caller_user(ctx))
        return {"UserName": caller_user(ctx), "AccessKeyMetadata": [key_shape(k) for k in keys],
                "IsTruncated": False}

    def delete_access_key(self, ctx: Context) -> Any:
        """DeleteAccessKey."""
        ctx.cloud.identity.delete_access_key(ctx.account_id, caller_user(ctx),
                                             ctx.params.str("AccessKeyId", required=True))
        return None

    def update_access_key(self, ctx: Context) -> Any:
        """UpdateAccessKey (Active/Inactive)."""
        ctx.cloud.identity.update_access_key(ctx.account_id, caller_user(ctx),
                                             ctx.params.str("AccessKeyId", required=True),
                                             ctx.params.str("Status", required=True))
        return None

    # -- groups --------------------------------------------------------------------------
    def create_group(self, ctx: Context) -> Any:
        """CreateGroup."""
        group = ctx.cloud.identity.create_group(ctx.account_id,
                                                ctx.params.str("GroupName", required=True),
                                                ctx.params.str("Path", "/"))
        return {"Group": group_shape(group)}

    def get_group(self, ctx: Context) -> Any:
        """GetGroup with its users."""
        name = ctx.params.str("GroupName", required=True)
        group = ctx.cloud.identity.group(ctx.account_id, name)
        return {"Group": group_shape(group),
                "Users": [user_shape(u)
                          for u in ctx.cloud.identity.group_members(ctx.account_id, name)],
                "IsTruncated": False}

    def delete_group(self, ctx: Context) -> Any:
        """DeleteGroup."""
        ctx.cloud.identity.delete_group(ctx.account_id, ctx.params.str("GroupName", required=True))
        return None

    def list_groups(self, ctx: Context) -> Any:
        """ListGroups under a path prefix."""
        groups = ctx.cloud.identity.list_groups(ctx.account_id, ctx.params.str("PathPrefix", "/"))
        return {"Groups": [group_shape(g) for g in groups], "IsTruncated": False}

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
        return {"Groups": [group_shape(ctx.cloud.identity.group(ctx.account_id, g))
                           for g in sorted(user.groups)], "IsTruncated": False}
