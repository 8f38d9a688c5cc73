"""euare-role* and euare-instanceprofile* commands: roles with their trust and inline
policies, and the instance profiles that carry roles to instances."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..xmlparse import as_list
from .policydoc import decode_policy, delegate, policy_commands, read_text

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _role(helptext: str) -> Arg:
    return Arg("ROLE", dest="RoleName", help=helptext)


def _profile(helptext: str) -> Arg:
    return Arg("IPROFILE", dest="InstanceProfileName", help=helptext)


def service_trust(service: str) -> str:
    """A trust policy letting one AWS service (``ec2.amazonaws.com``) assume the role."""
    import json

    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": [service]},
         "Action": ["sts:AssumeRole"]}]})


def _trust_args(flag: str, dest_help: str) -> Group:
    return Group(
        Arg("-f", flag, name="trust_policy", metavar="FILE", complete="file",
            help=f"file containing the policy {dest_help}"),
        Arg("-s", "--service", name="service",
            help="service to allow access to the role (e.g. ec2.amazonaws.com)"),
        required=True)


def _trust_document(inv: Invocation) -> str:
    if inv.args.get("service"):
        return service_trust(inv.args["service"])
    return read_text(inv.args["trust_policy"])


# -- roles -------------------------------------------------------------------------------------
def _run_rolecreate(inv: Invocation) -> None:
    params = dict(inv.params)
    params["AssumeRolePolicyDocument"] = _trust_document(inv)
    role = inv.call("CreateRole", params).get("Role") or {}
    if inv.args.get("verbose"):
        inv.echo(role.get("Arn", ""))
        inv.echo(role.get("RoleId", ""))
        inv.echo(decode_policy(role.get("AssumeRolePolicyDocument", "")))


def _run_updateassume(inv: Invocation) -> None:
    document = _trust_document(inv)
    inv.call("UpdateAssumeRolePolicy", {**inv.params, "PolicyDocument": document})
    if inv.args.get("output"):
        inv.echo(document)


def _print_role(inv: Invocation, result: Any) -> None:
    role = result.get("Role") or {}
    inv.echo(role.get("Arn", ""))
    inv.echo(role.get("RoleId", ""))
    inv.echo(decode_policy(role.get("AssumeRolePolicyDocument", "")))


def _print_arns(key: str) -> Any:
    def output(inv: Invocation, result: Any) -> None:
        for item in as_list(result.get(key)):
            inv.echo(item.get("Arn", ""))

    return output


def _run_roledel(inv: Invocation) -> None:
    """Delete a role; with -c first its policies and instance-profile memberships."""
    base = {"RoleName": inv.params["RoleName"], **delegate(inv)}
    pretend = bool(inv.args.get("pretend"))
    if inv.args.get("recursive") or pretend:
        profiles = as_list(inv.call("ListInstanceProfilesForRole", base)
                           .get("InstanceProfiles"))
        policies = [str(p) for p in as_list(inv.call("ListRolePolicies", base)
                                            .get("PolicyNames"))]
        attached = as_list(inv.call("ListAttachedRolePolicies", base).get("AttachedPolicies"))
        if pretend:
            inv.echo("instance profiles")
            for profile in profiles:
                inv.echo("\t" + profile.get("Arn", ""))
            inv.echo("policies")
            for name in policies:
                inv.echo("\t" + name)
            for policy in attached:
                inv.echo("\t" + policy.get("PolicyArn", ""))
            return
        for profile in profiles:
            inv.call("RemoveRoleFromInstanceProfile",
                     {**base, "InstanceProfileName": profile.get("InstanceProfileName")})
        for name in policies:
            inv.call("DeleteRolePolicy", {**base, "PolicyName": name})
        for policy in attached:
            inv.call("DetachRolePolicy", {**base, "PolicyArn": policy.get("PolicyArn")})
    inv.call("DeleteRole", base)


# -- instance profiles ---------------------------------------------------------------------
def _run_profilecreate(inv: Invocation) -> None:
    name = inv.params["InstanceProfileName"]
    profile = inv.call("CreateInstanceProfile", inv.params).get("InstanceProfile") or {}
    role = inv.args.get("add_role")
    if inv.args.get("create_role"):
        role = name
        inv.call("CreateRole", {"RoleName": role, "Path": inv.params.get("Path"),
                                "AssumeRolePolicyDocument": service_trust("ec2.amazonaws.com"),
                                **delegate(inv)})
    if role:
        inv.call("AddRoleToInstanceProfile", {"InstanceProfileName": name, "RoleName": role,
                                              **delegate(inv)})
    if inv.args.get("verbose"):
        inv.echo(profile.get("Arn", ""))
        inv.echo(profile.get("InstanceProfileId", ""))


def _print_profile(inv: Invocation, result: Any) -> None:
    profile = result.get("InstanceProfile") or {}
    inv.echo(profile.get("Arn", ""))
    inv.echo(profile.get("InstanceProfileId", ""))
    if inv.args.get("roles"):
        for role in as_list(profile.get("Roles")):
            inv.echo(role.get("Arn", ""))


def _run_profiledel(inv: Invocation) -> None:
    """Delete an instance profile; with -r first remove its roles (-p: only list them)."""
    base = {"InstanceProfileName": inv.params["InstanceProfileName"], **delegate(inv)}
    pretend = bool(inv.args.get("pretend"))
    if inv.args.get("recursive") or pretend:
        profile = inv.call("GetInstanceProfile", base).get("InstanceProfile") or {}
        roles = as_list(profile.get("Roles"))
        if pretend:
            inv.echo("roles")
            for role in roles:
                inv.echo("\t" + role.get("Arn", ""))
            return
        for role in roles:
            inv.call("RemoveRoleFromInstanceProfile", {**base, "RoleName": role.get("RoleName")})
    inv.call("DeleteInstanceProfile", base)


_PATH_PREFIX = Arg("-p", "--path-prefix", dest="PathPrefix", metavar="PATH",
                   help="restrict results to those whose paths begin with a specific prefix")

COMMANDS = [
    Command(
        "euare-rolecreate", "iam", "CreateRole", "Create a new role",
        [_role("name of the new role"),
         Arg("-p", "--path", dest="Path", help="path for the new role (default: \"/\")"),
         _trust_args("--trust-policy", "that determines who may assume the role"),
         Arg("-v", "--verbose", name="verbose", flag=True,
             help="print the new role's ARN, GUID, and trust policy")],
        run=_run_rolecreate),
    Command("euare-rolegetattributes", "iam", "GetRole",
            "Display a role's ARN, GUID, and trust policy",
            [_role("role to describe")], output=_print_role),
    Command("euare-rolelistbypath", "iam", "ListRoles", "List your account's roles",
            [_PATH_PREFIX], output=_print_arns("Roles")),
    Command(
        "euare-roleupdateassumepolicy", "iam", "UpdateAssumeRolePolicy",
        "Update a role's trust policy, the policy that allows entities to assume a role",
        [_role("role to update"),
         _trust_args("--policy-document", "that determines who may assume the role"),
         Arg("-o", "--output", name="output", flag=True,
             help="also display the new trust policy")],
        run=_run_updateassume),
    Command(
        "euare-roledel", "iam", "DeleteRole", "Delete a role",
        [_role("name of the role to delete"),
         Arg("-c", "--recursive", name="recursive", flag=True,
             help="remove all IAM resources associated with the role first"),
         Arg("-p", "--pretend", name="pretend", flag=True,
             help="list the resources that would be deleted instead of actually deleting "
             "them. Implies -c.")],
        run=_run_roledel),
    *policy_commands("role"),
    Command(
        "euare-instanceprofilecreate", "iam", "CreateInstanceProfile",
        "Create a new instance profile",
        [_profile("name of the new instance profile"),
         Arg("-p", "--path", dest="Path",
             help="path for the new instance profile (default: \"/\")"),
         Group(Arg("-r", "--add-role", name="add_role", metavar="ROLE",
                   help="also add a role to the new instance profile"),
               Arg("--create-role", name="create_role", flag=True,
                   help="also create a role with the same name (and path) that EC2 may "
                   "assume, and add it to the new instance profile")),
         Arg("-v", "--verbose", name="verbose", flag=True,
             help="print the new instance profile's ARN and GUID")],
        run=_run_profilecreate),
    Command(
        "euare-instanceprofileaddrole", "iam", "AddRoleToInstanceProfile",
        "Add a role to an instance profile",
        [_profile("instance profile to add the role to"),
         Arg("-r", "--role-name", dest="RoleName", required=True, metavar="ROLE",
             help="role to add")]),
    Command(
        "euare-instanceprofileremoverole", "iam", "RemoveRoleFromInstanceProfile",
        "Remove a role from an instance profile",
        [_profile("instance profile to remove the role from"),
         Arg("-r", "--role-name", dest="RoleName", required=True, metavar="ROLE",
             help="role to remove")]),
    Command(
        "euare-instanceprofilegetattributes", "iam", "GetInstanceProfile",
        "Display an instance profile's ARN and GUID",
        [_profile("name of the instance profile to describe"),
         Arg("-r", name="roles", flag=True,
             help="also list the roles associated with the instance profile")],
        output=_print_profile),
    Command("euare-instanceprofilelistbypath", "iam", "ListInstanceProfiles",
            "List your account's instance profiles", [_PATH_PREFIX],
            output=_print_arns("InstanceProfiles")),
    Command("euare-instanceprofilelistforrole", "iam", "ListInstanceProfilesForRole",
            "List all instance profiles that use a role",
            [_role("role to list membership information for")],
            output=_print_arns("InstanceProfiles")),
    Command(
        "euare-instanceprofiledel", "iam", "DeleteInstanceProfile",
        "Delete an instance profile",
        [_profile("name of the instance profile to delete"),
         Arg("-r", "--recursive", name="recursive", flag=True,
             help="remove all roles from the instance profile first"),
         Arg("-p", "--pretend", name="pretend", flag=True,
             help="list the roles that would be removed instead of removing them. "
             "Implies -r.")],
        run=_run_profiledel),
]
