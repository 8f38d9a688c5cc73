"""euare-* identity commands (IAM plus the Eucalyptus account extensions).

IAM output is bare values, one per line (ARNs, IDs, key ID then secret key).
"""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..xmlparse import as_list

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation

# Service URLs written by -w/--write-config, in euca2ools.ini order.
_CONFIG_SERVICES = ("autoscaling", "bootstrap", "cloudformation", "ec2", "elasticloadbalancing",
                    "iam", "monitoring", "s3", "sts")


def _delegate(inv: Invocation) -> dict[str, Any]:
    """The DelegateAccount parameter, when --as-account was given."""
    value = inv.params.get("DelegateAccount")
    return {"DelegateAccount": value} if value else {}


def config_text(inv: Invocation, account_id: str, user_name: str, key_id: str,
                secret: str) -> str:
    """A ready-made euca2ools.ini for the new credentials (``-w/--write-config``)."""
    session = inv.session
    region = session.region or "localhost"
    domain = inv.args.get("domain")
    lines = ["[global]", f"default-region = {region}", "", f"[region {region}]"]
    for service in _CONFIG_SERVICES:
        url = None
        if domain:
            scheme = "https"
            current = session.config.get_region(session.region, f"{service}-url") or ""
            if current.startswith("http://"):
                scheme = "http"
            url = f"{scheme}://{service}.{domain}/"
        else:
            url = session.config.get_region(session.region, f"{service}-url")
            if url is None and service == "iam":
                url = session.endpoint("iam").url
        if url:
            lines.append(f"{service}-url = {url}")
    for option in ("certificate", "verify-ssl", "name"):
        value = session.config.get_region(session.region, option)
        if value:
            lines.append(f"{option} = {value}")
    user_section = f"{account_id}:{user_name}"
    if inv.args.get("set_default_user"):
        lines.append(f"user = {user_section}")
    lines += ["", f"[user {user_section}]", f"key-id = {key_id}", f"secret-key = {secret}",
              f"account-id = {account_id}"]
    return "\n".join(lines)


def _account_of(arn: str | None) -> str:
    """The account ID inside an IAM ARN."""
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 4 else ""


def _print_key(inv: Invocation, key: dict[str, Any], account_id: str, user: str) -> None:
    if inv.args.get("write_config"):
        inv.echo(config_text(inv, account_id, user, key.get("AccessKeyId", ""),
                             key.get("SecretAccessKey", "")))
    else:
        inv.echo(key.get("AccessKeyId", ""))
        inv.echo(key.get("SecretAccessKey", ""))


# -- accounts ----------------------------------------------------------------------------
def _run_accountcreate(inv: Invocation) -> None:
    params = {"AccountName": inv.args.get("AccountName")} if inv.args.get("AccountName") else {}
    account = inv.call("CreateAccount", params).get("Account") or {}
    if inv.args.get("create_accesskey") or inv.args.get("write_config"):
        key = inv.call("CreateAccessKey", {"DelegateAccount": account.get("AccountName")
                                           or account.get("AccountId")}).get("AccessKey") or {}
        if inv.args.get("write_config"):
            inv.echo(config_text(inv, account.get("AccountId", ""), "admin",
                                 key.get("AccessKeyId", ""), key.get("SecretAccessKey", "")))
            return
        inv.emit(account.get("AccountName"), account.get("AccountId"))
        inv.echo(key.get("AccessKeyId", ""))
        inv.echo(key.get("SecretAccessKey", ""))
        return
    inv.emit(account.get("AccountName"), account.get("AccountId"))


# -- users -------------------------------------------------------------------------------
def _run_usercreate(inv: Invocation) -> None:
    a = inv.args
    name = a["UserName"]
    if a.get("verify"):
        # Fail before creating anything when a group given with -g does not exist.
        for group in a.get("group_name") or []:
            inv.call("GetGroup", {"GroupName": group, **_delegate(inv)})
    params = {"UserName": name, "Path": a.get("Path"), **_delegate(inv)}
    user = inv.call("CreateUser", params).get("User") or {}
    for group in a.get("group_name") or []:
        inv.call("AddUserToGroup", {"GroupName": group, "UserName": name, **_delegate(inv)})
    if a.get("verbose"):
        inv.echo(user.get("Arn", ""))
        inv.echo(user.get("UserId", ""))
    if a.get("create_accesskey") or a.get("write_config"):
        key = inv.call("CreateAccessKey", {"UserName": name, **_delegate(inv)}).get("AccessKey") or {}
        _print_key(inv, key, _account_of(user.get("Arn")), name)


def _run_useraddkey(inv: Invocation) -> None:
    name = inv.args.get("UserName")
    params = {"UserName": name, **_delegate(inv)}
    key = inv.call("CreateAccessKey", params).get("AccessKey") or {}
    account = ""
    if inv.args.get("write_config"):
        user = inv.call("GetUser", params).get("User") or {}
        account = _account_of(user.get("Arn"))
        name = name or user.get("UserName")
    _print_key(inv, key, account, name or "")


def _listing(inv: Invocation, action: str, params: dict[str, Any], key: str) -> list[Any]:
    """A list from an IAM List* call; a service without the action has none of them."""
    from ..exceptions import ServiceError

    try:
        return as_list(inv.call(action, params).get(key))
    except ServiceError as err:
        if err.code in ("InvalidAction", "NotImplemented", "UnsupportedOperation"):
            return []
        raise


def _run_userdel(inv: Invocation) -> None:
    """Delete a user; with -r first remove keys, certificates, policies, login and groups."""
    from ..exceptions import ServiceError

    name = inv.args["UserName"]
    base = {"UserName": name, **_delegate(inv)}
    pretend = bool(inv.args.get("pretend"))
    if inv.args.get("recursive") or pretend:
        keys = _listing(inv, "ListAccessKeys", base, "AccessKeyMetadata")
        certs = _listing(inv, "ListSigningCertificates", base, "Certificates")
        policies = _listing(inv, "ListUserPolicies", base, "PolicyNames")
        groups = _listing(inv, "ListGroupsForUser", base, "Groups")
        attached = _listing(inv, "ListAttachedUserPolicies", base, "AttachedPolicies")
        devices = _listing(inv, "ListMFADevices", base, "MFADevices")
        if pretend:
            inv.echo("accesskeys")
            for k in keys:
                inv.echo("\t" + k.get("AccessKeyId", ""))
            inv.echo("policies")
            for pol in policies:
                inv.echo("\t" + str(pol))
            for att in attached:
                inv.echo("\t" + att.get("PolicyArn", ""))
            inv.echo("certificates")
            for c in certs:
                inv.echo("\t" + c.get("CertificateId", ""))
            inv.echo("groups")
            for g in groups:
                inv.echo("\t" + g.get("Arn", ""))
            return
        for k in keys:
            inv.call("DeleteAccessKey", {**base, "AccessKeyId": k.get("AccessKeyId")})
        for c in certs:
            inv.call("DeleteSigningCertificate", {**base, "CertificateId": c.get("CertificateId")})
        for pol in policies:
            inv.call("DeleteUserPolicy", {**base, "PolicyName": pol})
        for att in attached:
            inv.call("DetachUserPolicy", {**base, "PolicyArn": att.get("PolicyArn")})
        for device in devices:
            inv.call("DeactivateMFADevice", {**base, "SerialNumber": device.get("SerialNumber")})
        for g in groups:
            inv.call("RemoveUserFromGroup", {**base, "GroupName": g.get("GroupName")})
        try:
            inv.call("DeleteLoginProfile", base)
        except ServiceError as err:
            # No login profile (or no login profiles at all on this service) is fine.
            if err.status != 404 and err.code not in ("NoSuchEntity", "InvalidAction"):
                raise
    inv.call("DeleteUser", base)


def _print_userlist(inv: Invocation, result: Any) -> None:
    for user in as_list(result.get("Users")):
        inv.echo(user.get("Arn", ""))


def _print_keylist(inv: Invocation, result: Any) -> None:
    for key in as_list(result.get("AccessKeyMetadata")):
        inv.echo(key.get("AccessKeyId", ""))
        inv.echo(key.get("Status", ""))


def _print_grouplist(inv: Invocation, result: Any) -> None:
    inv.echo("groups")
    for group in as_list(result.get("Groups")):
        inv.echo("   " + group.get("Arn", ""))


def _print_groupcreate(inv: Invocation, result: Any) -> None:
    if inv.args.get("verbose"):
        group = result.get("Group") or {}
        inv.echo(group.get("Arn", ""))
        inv.echo(group.get("GroupId", ""))


def _print_accountlist(inv: Invocation, result: Any) -> None:
    for account in as_list(result.get("Accounts")):
        inv.emit(account.get("AccountName"), account.get("AccountId"))


_WRITE_CONFIG = [
    Arg("-d", "--domain", name="domain", metavar="DOMAIN",
        help="DNS domain to use for region information in configuration file output "
        "(default: based on IAM URL)"),
    Arg("-l", "--set-default-user", name="set_default_user", flag=True,
        help="set this user as the default user for the region in -w/--write-config output"),
]

COMMANDS = [
    Command(
        "euare-accountcreate", "iam", "CreateAccount",
        "[Eucalyptus cloud admin only] Create a new account",
        [
            Arg("ACCOUNT", dest="AccountName", nargs="?",
                help="also add an alias (name) to the new account"),
            Arg("-k", "--create-accesskey", name="create_accesskey", flag=True,
                help="also create an access key for the new account's administrator and show "
                "it"),
            Arg("-w", "--write-config", name="write_config", flag=True,
                help="output access keys and region information in the form of a euca2ools.ini"
                "(5) configuration file instead of by themselves (implies -k)"),
            *_WRITE_CONFIG,
        ],
        run=_run_accountcreate, as_account=False,
    ),
    Command("euare-accountlist", "iam", "ListAccounts",
            "[Eucalyptus cloud admin only] List all of the cloud's accounts", [],
            output=_print_accountlist, as_account=False),
    Command(
        "euare-accountdel", "iam", "DeleteAccount",
        "[Eucalyptus cloud admin only] Delete an account",
        [Arg("ACCOUNT", dest="AccountName", help="name or ID of the account to delete"),
         Arg("-r", "--recursive", dest="Recursive", flag=True,
             help="delete all users, groups, and policies associated with the account as well")],
        as_account=False,
    ),
    Command(
        "euare-usercreate", "iam", "CreateUser", "Create a new user",
        [
            Arg("USER", dest="UserName", complete="user", help="name of the new user"),
            Arg("-p", "--path", dest="Path", help="path for the new user (default: \"/\")"),
            Arg("-g", "--group-name", name="group_name", multiple=True, metavar="GROUP",
                help="add the new user to a group (repeatable)"),
            Arg("--verify", name="verify", flag=True,
                help="ensure the group given with -g exists before doing anything"),
            Arg("-k", "--create-accesskey", name="create_accesskey", flag=True,
                help="also create an access key for the new user and show it"),
            Group(
                Arg("-v", "--verbose", name="verbose", flag=True,
                    help="show extra information about the new user"),
                Arg("-w", "--write-config", name="write_config", flag=True,
                    help="output access keys and region information in the form of a "
                    "euca2ools.ini(5) configuration file instead of by themselves (implies -k)"),
            ),
            *_WRITE_CONFIG,
        ],
        run=_run_usercreate,
    ),
    Command(
        "euare-userdel", "iam", "DeleteUser", "Delete a user",
        [Arg("USER", dest="UserName", complete="user", help="name of the user to delete"),
         Arg("-r", "--recursive", name="recursive", flag=True,
             help="remove all IAM resources associated with the user first"),
         Arg("-p", "--pretend", name="pretend", flag=True,
             help="list the resources that would be deleted by -r/--recursive instead of "
             "deleting anything")],
        run=_run_userdel,
    ),
    Command("euare-userlistbypath", "iam", "ListUsers", "List your account's users",
            [Arg("-p", "--path-prefix", dest="PathPrefix", metavar="PATH",
                 help="restrict results to users whose paths begin with a specific prefix")],
            output=_print_userlist),
    Command(
        "euare-useraddkey", "iam", "CreateAccessKey", "Create a new access key for a user",
        [Arg("USER", dest="UserName", nargs="?", complete="user",
             help="user the new key will belong to (default: current user)"),
         Arg("-w", "--write-config", name="write_config", flag=True,
             help="output access keys and region information in the form of a euca2ools.ini(5) "
             "configuration file instead of by themselves"),
         *_WRITE_CONFIG],
        run=_run_useraddkey,
    ),
    Command(
        "euare-userdelkey", "iam", "DeleteAccessKey", "Delete an access key",
        [Arg("KEY_ID", dest="AccessKeyId", help="ID of the access key to delete"),
         Arg("-u", "--user-name", dest="UserName", metavar="USER", complete="user",
             help="user the key belongs to (default: current user)")],
    ),
    Command("euare-userlistkeys", "iam", "ListAccessKeys", "List a user's access keys",
            [Arg("USER", dest="UserName", nargs="?", complete="user",
                 help="user whose keys to list (default: current user)")],
            output=_print_keylist),
    Command(
        "euare-groupcreate", "iam", "CreateGroup", "Create a new group",
        [Arg("GROUP", dest="GroupName", help="name of the new group"),
         Arg("-p", "--path", dest="Path", help="path for the new group (default: \"/\")"),
         Arg("-v", "--verbose", name="verbose", flag=True,
             help="print the new group's ARN and GUID")],
        output=_print_groupcreate,
    ),
    Command(
        "euare-groupadduser", "iam", "AddUserToGroup", "Add a user to a group",
        [Arg("GROUP", dest="GroupName", help="group to add the user to"),
         Arg("-u", "--user-name", dest="UserName", required=True, metavar="USER",
             complete="user", help="user to add")],
    ),
    Command("euare-grouplistbypath", "iam", "ListGroups", "List your account's groups",
            [Arg("-p", "--path-prefix", dest="PathPrefix", metavar="PATH",
                 help="restrict results to groups whose paths begin with a specific prefix")],
            output=_print_grouplist),
]
