"""IAM account-level actions: aliases, the summary, the authorization details dump,
renaming users and groups, Eucalyptus user information and MFA devices."""

from __future__ import annotations

import re
from typing import Any

from server.auth.authz import Action, action
from server.auth.iam_shapes import (
    caller_user,
    encoded,
    group_resource,
    group_shape,
    page,
    policy_shape,
    profile_shape,
    role_shape,
    tags_in,
    tags_out,
    user_resource,
    user_shape,
    version_shape,
)
from server.auth.identity import (
    ACCESS_KEYS_LIMIT,
    GROUP_POLICY_SIZE,
    GROUPS_PER_USER,
    ROLE_POLICY_SIZE,
    USER_POLICY_SIZE,
    IdentityError,
)
from server.auth.managed import AWS_ACCOUNT, MANAGED_POLICY_SIZE, MAX_ATTACHED, MAX_VERSIONS
from server.auth.mfa import VirtualMFADevice, device_arn, seed_and_qr
from server.auth.roles import check_tags
from server.protocol.query import Context
from server.protocol.xml import Raw, iso8601

_ALIAS = re.compile(r"^[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?$")


# -- aliases -------------------------------------------------------------------------------
def create_account_alias(ctx: Context) -> Any:
    """CreateAccountAlias: one alias per account, unique in the cloud (3..63 characters)."""
    identity = ctx.cloud.identity
    alias = ctx.params.str("AccountAlias", required=True)
    if not 3 <= len(alias) <= 63 or not _ALIAS.match(alias):
        raise IdentityError("ValidationError", f"1 validation error detected: Value '{alias}' "
                            "at 'accountAlias' failed to satisfy constraint: Member must "
                            "satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-))*"
                            "[a-z0-9]$")
    account = identity.accounts[ctx.account_id]
    taken = next((a for a in identity.accounts.values()
                  if a.id != account.id and alias in (a.alias, a.name)), None)
    if taken is not None:
        raise IdentityError("EntityAlreadyExists", f"The account alias {alias} already exists.",
                            409)
    account.alias = alias
    identity.save_account(account)


def delete_account_alias(ctx: Context) -> Any:
    """DeleteAccountAlias."""
    identity = ctx.cloud.identity
    alias = ctx.params.str("AccountAlias", required=True)
    account = identity.accounts[ctx.account_id]
    if account.alias != alias:
        raise IdentityError("NoSuchEntity", f"The account alias {alias} cannot be found.", 404)
    account.alias = ""
    identity.save_account(account)


def list_account_aliases(ctx: Context) -> Any:
    """ListAccountAliases: the alias, or (Eucalyptus) the account's name while it has none."""
    account = ctx.cloud.identity.accounts[ctx.account_id]
    return {"AccountAliases": [account.alias or account.name], "IsTruncated": False}


# -- summary and details -------------------------------------------------------------------
def get_account_summary(ctx: Context) -> Any:
    """GetAccountSummary: entity counts and IAM's quotas."""
    identity = ctx.cloud.identity
    acct = ctx.account_id
    users = [u for (a, _), u in identity.users.items() if a == acct]
    local = [p for p in identity.managed.by_arn.values() if p.account_id == acct]
    devices = identity.mfa.in_account(acct)
    summary = {
        "Users": len(users), "UsersQuota": 5000,
        "Groups": sum(1 for a, _ in identity.groups if a == acct), "GroupsQuota": 300,
        "Roles": sum(1 for a, _ in identity.roles.roles if a == acct), "RolesQuota": 1000,
        "InstanceProfiles": sum(1 for a, _ in identity.roles.profiles if a == acct),
        "InstanceProfilesQuota": 1000,
        "ServerCertificates": sum(1 for a, _ in identity.certs.server if a == acct),
        "ServerCertificatesQuota": 20,
        "Policies": len(local), "PoliciesQuota": 1500,
        "PolicyVersionsInUse": sum(len(p.versions) for p in local),
        "PolicyVersionsInUseQuota": 10000, "VersionsPerPolicyQuota": MAX_VERSIONS,
        "PolicySizeQuota": MANAGED_POLICY_SIZE, "UserPolicySizeQuota": USER_POLICY_SIZE,
        "GroupPolicySizeQuota": GROUP_POLICY_SIZE, "RolePolicySizeQuota": ROLE_POLICY_SIZE,
        "AttachedPoliciesPerUserQuota": MAX_ATTACHED,
        "AttachedPoliciesPerGroupQuota": MAX_ATTACHED,
        "AttachedPoliciesPerRoleQuota": MAX_ATTACHED,
        "GroupsPerUserQuota": GROUPS_PER_USER, "AccessKeysPerUserQuota": ACCESS_KEYS_LIMIT,
        "SigningCertificatesPerUserQuota": 2,
        "MFADevices": len(devices),
        "MFADevicesInUse": sum(1 for d in devices if d.user_name),
        "AccountMFAEnabled": 0,
        "Providers": sum(1 for p in identity.oidc.providers.values() if p.account_id == acct),
        "AccountAccessKeysPresent": int(any(k.account_id == acct and k.user_name == "root"
                                            for k in identity.keys.values())),
        "AccountSigningCertificatesPresent": 0,
    }
    return {"SummaryMap": [Raw(f"<entry><key>{k}</key><value>{v}</value></entry>")
                           for k, v in summary.items()]}


def _attached(identity: Any, arns: list[str]) -> list[dict[str, str]]:
    out = []
    for arn in arns:
        policy = identity.managed.by_arn.get(arn)
        if policy is not None:
            out.append({"PolicyName": policy.name, "PolicyArn": arn})
    return out


def _inline(policies: dict[str, str]) -> list[dict[str, str]]:
    return [{"PolicyName": n, "PolicyDocument": encoded(d)} for n, d in sorted(policies.items())]


def get_account_authorization_details(ctx: Context) -> Any:
    """GetAccountAuthorizationDetails: every user, group, role and managed policy in use."""
    identity = ctx.cloud.identity
    acct = ctx.account_id
    wanted = set(ctx.params.strings("Filter")) or {"User", "Group", "Role",
                                                   "LocalManagedPolicy", "AWSManagedPolicy"}
    out: dict[str, Any] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [],
                           "Policies": [], "IsTruncated": False}
    if "User" in wanted:
        for user in identity.list_users(acct):
            out["UserDetailList"].append({
                **user_shape(user), "UserPolicyList": _inline(user.policies),
                "GroupList": sorted(user.groups),
                "AttachedManagedPolicies": _attached(identity, user.managed),
                "Tags": tags_out(user.tags)})
    if "Group" in wanted:
        for group in identity.list_groups(acct):
            out["GroupDetailList"].append({
                **group_shape(group), "GroupPolicyList": _inline(group.policies),
                "AttachedManagedPolicies": _attached(identity, group.managed)})
    if "Role" in wanted:
        for role in identity.roles.list_roles(acct):
            profiles = [profile_shape(p, [role])
                        for p in identity.roles.profiles_for_role(acct, role.name)]
            out["RoleDetailList"].append({
                **role_shape(role), "InstanceProfileList": profiles,
                "RolePolicyList": _inline(role.policies),
                "AttachedManagedPolicies": _attached(identity, role.managed)})
    for policy in identity.managed.list_policies(acct):
        count = identity.managed.attachment_count(acct, policy.arn())
        kind = "AWSManagedPolicy" if policy.account_id == AWS_ACCOUNT else "LocalManagedPolicy"
        if kind not in wanted or (kind == "AWSManagedPolicy" and not count):
            continue
        versions = [version_shape(v, d, policy.default_version)
                    for v, d in sorted(policy.versions.items())]
        out["Policies"].append({**policy_shape(policy, count), "PolicyVersionList": versions})
    return out


# -- users and groups: rename / move ---------------------------------------------------------
def update_user(ctx: Context) -> Any:
    """UpdateUser: NewUserName and/or NewPath."""
    ctx.cloud.identity.update_user(ctx.account_id, ctx.params.str("UserName", required=True),
                                   ctx.params.str("NewUserName"), ctx.params.str("NewPath"))


def update_group(ctx: Context) -> Any:
    """UpdateGroup: NewGroupName and/or NewPath."""
    ctx.cloud.identity.update_group(ctx.account_id,
                                    ctx.params.str("GroupName", required=True),
                                    ctx.params.str("NewGroupName"), ctx.params.str("NewPath"))


# -- Eucalyptus user information ---------------------------------------------------------------
def _info_user(ctx: Context) -> Any:
    name = ctx.params.str("UserName") or ctx.principal.user_name or "admin"
    return ctx.cloud.identity.user(ctx.account_id, name)


def get_user_info(ctx: Context) -> Any:
    """GetUserInfo (Eucalyptus): the user's information, or one key of it."""
    user = _info_user(ctx)
    key = ctx.params.str("InfoKey")
    info = {k: v for k, v in user.info.items() if key is None or k.lower() == key.lower()}
    return {"Infos": [{"Key": k, "Value": v} for k, v in sorted(info.items())]}


def update_user_info(ctx: Context) -> Any:
    """UpdateUserInfo (Eucalyptus): set (or, with no value, remove) one information key."""
    user = _info_user(ctx)
    key = ctx.params.str("InfoKey", required=True)
    value = ctx.params.str("InfoValue")
    if value is None:
        user.info.pop(key, None)
    else:
        user.info[key] = value
    ctx.cloud.identity.save_user(user)


# -- MFA devices -------------------------------------------------------------------------------
def _mfa_device_resource(ctx: Context) -> list[str]:
    """The virtual MFA device an action names: by SerialNumber, or (create) path and name."""
    serial = ctx.params.str("SerialNumber")
    if serial:
        return [serial]
    name = ctx.params.str("VirtualMFADeviceName") or ""
    return [device_arn(ctx.account_id, ctx.params.str("Path") or "/", name)]


def _device_shape(ctx: Context, device: VirtualMFADevice) -> dict[str, Any]:
    out: dict[str, Any] = {"SerialNumber": device.serial}
    if device.user_name:
        user = ctx.cloud.identity.users.get((device.account_id, device.user_name))
        if user is not None:
            out["User"] = user_shape(user)
        out["EnableDate"] = iso8601(device.enabled)
    if device.tags:
        out["Tags"] = tags_out(device.tags)
    return out


def create_virtual_mfa_device(ctx: Context) -> Any:
    """CreateVirtualMFADevice: a new secret, returned this once as the Base32 seed and as
    a QR code of its ``otpauth://`` URI."""
    identity = ctx.cloud.identity
    device = identity.mfa.create(ctx.account_id,
                                 ctx.params.str("VirtualMFADeviceName", required=True),
                                 ctx.params.str("Path") or "/", tags_in(ctx))
    p = ctx.principal
    label = p.user_name if p.user_name and p.user_name != "root" and not p.role_name \
        else ctx.account_id
    seed, png = seed_and_qr(device, label)
    out = _device_shape(ctx, device)
    out.update({"Base32StringSeed": seed, "QRCodePNG": png})
    return {"VirtualMFADevice": out}


def delete_virtual_mfa_device(ctx: Context) -> Any:
    """DeleteVirtualMFADevice: refused (DeleteConflict) while the device is assigned."""
    ctx.cloud.identity.mfa.delete(ctx.account_id,
                                  ctx.params.str("SerialNumber", required=True))


def list_virtual_mfa_devices(ctx: Context) -> Any:
    """ListVirtualMFADevices: AssignmentStatus Assigned, Unassigned or Any (default)."""
    status = ctx.params.str("AssignmentStatus") or "Any"
    if status not in ("Assigned", "Unassigned", "Any"):
        raise IdentityError("ValidationError", f"1 validation error detected: Value '{status}' "
                            "at 'assignmentStatus' failed to satisfy constraint: Member must "
                            "satisfy enum value set: [Any, Assigned, Unassigned]")
    devices = [d for d in ctx.cloud.identity.mfa.in_account(ctx.account_id)
               if status == "Any" or (status == "Assigned") == bool(d.user_name)]
    chunk, extra = page(devices, ctx)
    return {"VirtualMFADevices": [_device_shape(ctx, d) for d in chunk], **extra}


def list_mfa_devices(ctx: Context) -> Any:
    """ListMFADevices: the devices assigned to a user (the caller by default)."""
    identity = ctx.cloud.identity
    user = identity.user(ctx.account_id, caller_user(ctx))
    chunk, extra = page(identity.mfa.for_user(ctx.account_id, user.name), ctx)
    return {"MFADevices": [{"UserName": user.name, "SerialNumber": d.serial,
                            "EnableDate": iso8601(d.enabled)} for d in chunk], **extra}


def get_mfa_device(ctx: Context) -> Any:
    """GetMFADevice: one device assigned to a user (the caller by default)."""
    identity = ctx.cloud.identity
    user = identity.user(ctx.account_id, caller_user(ctx))
    device = identity.mfa.assigned(ctx.account_id, user.name,
                                   ctx.params.str("SerialNumber", required=True))
    return {"UserName": user.name, "SerialNumber": device.serial,
            "EnableDate": iso8601(device.enabled)}


def enable_mfa_device(ctx: Context) -> Any:
    """EnableMFADevice: assign a virtual device after two consecutive codes of it."""
    identity = ctx.cloud.identity
    user = identity.user(ctx.account_id, ctx.params.str("UserName", required=True))
    identity.mfa.enable(user, ctx.params.str("SerialNumber", required=True),
                        ctx.params.str("AuthenticationCode1", required=True),
                        ctx.params.str("AuthenticationCode2", required=True))


def deactivate_mfa_device(ctx: Context) -> Any:
    """DeactivateMFADevice: the device is unassigned (and can be deleted or enabled again)."""
    identity = ctx.cloud.identity
    user = identity.user(ctx.account_id, caller_user(ctx))
    identity.mfa.deactivate(ctx.account_id, user.name,
                            ctx.params.str("SerialNumber", required=True))


def resync_mfa_device(ctx: Context) -> Any:
    """ResyncMFADevice: two consecutive codes re-synchronize a device whose clock drifted."""
    identity = ctx.cloud.identity
    user = identity.user(ctx.account_id, ctx.params.str("UserName", required=True))
    identity.mfa.resync(ctx.account_id, user.name,
                        ctx.params.str("SerialNumber", required=True),
                        ctx.params.str("AuthenticationCode1", required=True),
                        ctx.params.str("AuthenticationCode2", required=True))


def tag_mfa_device(ctx: Context) -> Any:
    """TagMFADevice."""
    mfa = ctx.cloud.identity.mfa
    device = mfa.get(ctx.account_id, ctx.params.str("SerialNumber", required=True))
    tags = tags_in(ctx)
    if not tags:
        raise IdentityError("ValidationError", "Tags must contain at least one tag")
    check_tags(tags, device.tags)
    device.tags.update(tags)
    mfa.save(device)


def untag_mfa_device(ctx: Context) -> Any:
    """UntagMFADevice."""
    mfa = ctx.cloud.identity.mfa
    device = mfa.get(ctx.account_id, ctx.params.str("SerialNumber", required=True))
    for key in ctx.params.strings("TagKeys"):
        device.tags.pop(key, None)
    mfa.save(device)


def list_mfa_device_tags(ctx: Context) -> Any:
    """ListMFADeviceTags."""
    device = ctx.cloud.identity.mfa.get(ctx.account_id,
                                        ctx.params.str("SerialNumber", required=True))
    return {"Tags": tags_out(device.tags), "IsTruncated": False}


def _user_action(handler: Any, name: str) -> Action:
    return action(handler, f"iam:{name}", resources=user_resource)


def _mfa_action(handler: Any, name: str) -> Action:
    return action(handler, f"iam:{name}", resources=_mfa_device_resource)


ACTIONS: dict[str, Action] = {
    "CreateAccountAlias": action(create_account_alias, "iam:CreateAccountAlias"),
    "DeleteAccountAlias": action(delete_account_alias, "iam:DeleteAccountAlias"),
    "ListAccountAliases": action(list_account_aliases, "iam:ListAccountAliases"),
    "GetAccountSummary": action(get_account_summary, "iam:GetAccountSummary"),
    "GetAccountAuthorizationDetails": action(get_account_authorization_details,
                                             "iam:GetAccountAuthorizationDetails"),
    "UpdateUser": _user_action(update_user, "UpdateUser"),
    "UpdateGroup": action(update_group, "iam:UpdateGroup", resources=group_resource),
    "GetUserInfo": _user_action(get_user_info, "GetUserInfo"),
    "UpdateUserInfo": _user_action(update_user_info, "UpdateUserInfo"),
    "ListMFADevices": _user_action(list_mfa_devices, "ListMFADevices"),
    "GetMFADevice": _user_action(get_mfa_device, "GetMFADevice"),
    "EnableMFADevice": _user_action(enable_mfa_device, "EnableMFADevice"),
    "DeactivateMFADevice": _user_action(deactivate_mfa_device, "DeactivateMFADevice"),
    "ResyncMFADevice": _user_action(resync_mfa_device, "ResyncMFADevice"),
    "CreateVirtualMFADevice": _mfa_action(create_virtual_mfa_device, "CreateVirtualMFADevice"),
    "DeleteVirtualMFADevice": _mfa_action(delete_virtual_mfa_device, "DeleteVirtualMFADevice"),
    "ListVirtualMFADevices": action(list_virtual_mfa_devices, "iam:ListVirtualMFADevices"),
    "TagMFADevice": _mfa_action(tag_mfa_device, "TagMFADevice"),
    "UntagMFADevice": _mfa_action(untag_mfa_device, "UntagMFADevice"),
    "ListMFADeviceTags": _mfa_action(list_mfa_device_tags, "ListMFADeviceTags"),
}
