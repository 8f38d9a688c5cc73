"""euare-group* commands beyond creation and membership: members, renames, removal
(recursive) and inline policies."""

from __future__ import annotations

from ..decl import Arg, Command
from ..xmlparse import as_list
from .policydoc import delegate, policy_commands

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _group(helptext: str) -> Arg:
    return Arg("GROUP", dest="GroupName", help=helptext)


def _print_members(inv: Invocation, result: Any) -> None:
    inv.echo((result.get("Group") or {}).get("Arn", ""))
    inv.echo("users")
    for user in as_list(result.get("Users")):
        inv.echo("   " + user.get("Arn", ""))


def _run_groupdel(inv: Invocation) -> None:
    """Delete a group; with -r first remove its members and policies (-p: only list them)."""
    base = {"GroupName": inv.params["GroupName"], **delegate(inv)}
    pretend = bool(inv.args.get("pretend"))
    if inv.args.get("recursive") or pretend:
        users = as_list(inv.call("GetGroup", base).get("Users"))
        policies = [str(p) for p in as_list(inv.call("ListGroupPolicies", base)
                                            .get("PolicyNames"))]
        attached = as_list(inv.call("ListAttachedGroupPolicies", base).get("AttachedPolicies"))
        if pretend:
            inv.echo("users")
            for user in users:
                inv.echo("\t" + user.get("Arn", ""))
            inv.echo("policies")
            for name in policies:
                inv.echo("\t" + name)
            for policy in attached:
                inv.echo("\t" + policy.get("PolicyArn", ""))
            return
        for user in users:
            inv.call("RemoveUserFromGroup", {**base, "UserName": user.get("UserName")})
        for name in policies:
            inv.call("DeleteGroupPolicy", {**base, "PolicyName": name})
        for policy in attached:
            inv.call("DetachGroupPolicy", {**base, "PolicyArn": policy.get("PolicyArn")})
    inv.call("DeleteGroup", base)


COMMANDS = [
    Command("euare-grouplistusers", "iam", "GetGroup", "List all the users in a group",
            [_group("group whose members to list")], output=_print_members),
    Command(
        "euare-groupmod", "iam", "UpdateGroup", "Change the name and/or path of a group",
        [_group("name of the group to update"),
         Arg("-n", "--new-group-name", dest="NewGroupName", metavar="GROUP",
             help="new name for the group"),
         Arg("-p", "--new-path", dest="NewPath", metavar="PATH", help="new path for the group")]),
    Command(
        "euare-groupremoveuser", "iam", "RemoveUserFromGroup", "Remove a user from a group",
        [_group("group to remove the user from"),
         Arg("-u", "--user-name", dest="UserName", required=True, metavar="USER",
             complete="user", help="user to remove")]),
    Command(
        "euare-groupdel", "iam", "DeleteGroup", "Delete a group",
        [_group("name of the group to delete"),
         Arg("-r", "--recursive", name="recursive", flag=True,
             help="remove all user memberships and policies associated with the group first"),
         Arg("-p", "--pretend", name="pretend", flag=True,
             help="list the user memberships and policies that would be deleted instead of "
             "actually deleting them. Implies -r.")],
        run=_run_groupdel),
    *policy_commands("group"),
]
