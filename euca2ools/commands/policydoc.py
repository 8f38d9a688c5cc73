"""Policy documents for the euare-* commands: reading, building, printing, and the five
inline-policy commands every kind of entity has (add, upload, get, list, delete).

Users, groups, roles and (Eucalyptus) accounts each get ``euare-<kind>addpolicy``,
``uploadpolicy``, ``getpolicy``, ``listpolicies`` and ``delpolicy`` from
:func:`policy_commands`; only the entity argument and the API names differ.
"""

from __future__ import annotations

from ..decl import Arg, Command, Group

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def read_text(value: str) -> str:
    """A file's text, or stdin's for ``-``."""
    import sys

    if value == "-":
        return sys.stdin.read()
    with open(value, encoding="utf-8") as handle:
        return handle.read()


def build_policy(effect: str, actions: list[str], resources: list[str]) -> str:
    """A one-statement policy as euca2ools builds it (Sid ``Stmt`` + UTC timestamp)."""
    import datetime
    import json

    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d%H%M%S")
    statement = {"Sid": f"Stmt{stamp}", "Effect": effect, "Action": list(actions),
                 "Resource": resources[0] if len(resources) == 1 else list(resources)}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def decode_policy(document: str, pretty: bool = False) -> str:
    """A policy document from IAM (URL-encoded JSON) as text, optionally re-indented."""
    import json
    from urllib.parse import unquote

    text = unquote(document or "")
    if pretty:
        try:
            return json.dumps(json.loads(text), indent=4)
        except ValueError:
            return text
    return text


def document_args(required: bool = True) -> list[Arg | Group]:
    """``-o/--policy-content`` or ``-f/--policy-document`` (a file, ``-`` for stdin)."""
    return [Group(
        Arg("-o", "--policy-content", name="policy_content", metavar="POLICY_CONTENT",
            help="the policy to attach"),
        Arg("-f", "--policy-document", name="policy_document", metavar="FILE",
            help="file containing the policy to attach", complete="file"),
        required=required)]


def read_document(inv: Invocation) -> None:
    """Put ``PolicyDocument`` into the request from ``-o`` or ``-f``."""
    content = inv.args.get("policy_content")
    if content is None and inv.args.get("policy_document"):
        content = read_text(inv.args["policy_document"])
    if content is not None:
        inv.params["PolicyDocument"] = content


def delegate(inv: Invocation) -> dict[str, Any]:
    """The DelegateAccount parameter, when --as-account was given."""
    value = inv.params.get("DelegateAccount")
    return {"DelegateAccount": value} if value else {}


# -- the five inline-policy commands ---------------------------------------------------------
_KINDS = {
    # kind: (API word, entity parameter, metavar, completion, resource flags)
    "user": ("User", "UserName", "USER", "user", ("-r", "--resource")),
    "group": ("Group", "GroupName", "GROUP", None, ("-r", "--resource")),
    "role": ("Role", "RoleName", "ROLE", None, ("-c", "--resource")),
    "account": ("Account", "AccountName", "ACCOUNT", None, ("-r", "--resource")),
}


def _entity(kind: str, helptext: str) -> Arg:
    _, dest, metavar, complete, _ = _KINDS[kind]
    return Arg(metavar, dest=dest, complete=complete, help=helptext)


def _name_arg(required: bool, helptext: str) -> Arg:
    return Arg("-p", "--policy-name", dest="PolicyName", metavar="POLICY", required=required,
               help=helptext)


def _pretty_arg() -> Arg:
    return Arg("--pretty-print", name="pretty_print", flag=True,
               help="reformat the policy for easier reading")


def _run_add(kind: str) -> Any:
    word = _KINDS[kind][0]

    def run(inv: Invocation) -> None:
        document = build_policy(inv.args["effect"], inv.args["action"], inv.args["resource"])
        params = {k: v for k, v in inv.params.items()}
        params["PolicyDocument"] = document
        inv.call(f"Put{word}Policy", params)
        if inv.args.get("output"):
            inv.echo(document)

    return run


def _run_get(inv: Invocation, word: str) -> None:
    result = inv.call(f"Get{word}Policy", inv.params)
    inv.echo(decode_policy(result.get("PolicyDocument", ""), bool(inv.args.get("pretty_print"))))


def _run_list(kind: str) -> Any:
    word = _KINDS[kind][0]
    entity = _KINDS[kind][1]

    def run(inv: Invocation) -> None:
        from ..xmlparse import as_list

        pretty = bool(inv.args.get("pretty_print"))
        base = {entity: inv.params[entity], **delegate(inv)}
        wanted = inv.params.get("PolicyName")
        if wanted:
            result = inv.call(f"Get{word}Policy", {**base, "PolicyName": wanted})
            inv.echo(decode_policy(result.get("PolicyDocument", ""), pretty))
            return
        names = [str(n) for n in as_list(inv.call(f"List{word}Policies", base)
                                         .get("PolicyNames"))]
        for name in names:
            inv.echo(name)
            if inv.args.get("verbose"):
                result = inv.call(f"Get{word}Policy", {**base, "PolicyName": name})
                inv.echo(decode_policy(result.get("PolicyDocument", ""), pretty))

    return run


def policy_commands(kind: str, *, as_account: bool | None = None,
                    prefix: str = "") -> list[Command]:
    """The add/upload/get/list/delete inline-policy commands of one kind of entity."""
    word, _, _, _, resource_flags = _KINDS[kind]
    label = "an account" if kind == "account" else f"a {kind}"
    admin = prefix
    commands = []
    if kind != "account":
        commands.append(Command(
            f"euare-{kind}addpolicy", "iam", f"Put{word}Policy",
            f"Add a new policy to {label}. To add more complex policies than this tool "
            f"supports, see euare-{kind}uploadpolicy(1)",
            [_entity(kind, f"{kind} to attach the policy to"),
             _name_arg(True, "name of the new policy"),
             Arg("-e", "--effect", name="effect", required=True, choices=("Allow", "Deny"),
                 help="whether the new policy should Allow or Deny"),
             Arg("-a", "--action", name="action", required=True, multiple=True,
                 help="action(s) the policy should apply to (at least one required)"),
             Arg(*resource_flags, name="resource", required=True, multiple=True,
                 help="resource(s) the policy should apply to (at least one required)"),
             Arg("-o", "--output", name="output", flag=True,
                 help="also display the newly-created policy")],
            run=_run_add(kind), as_account=as_account))
    commands += [
        Command(
            f"euare-{kind}uploadpolicy", "iam", f"Put{word}Policy",
            f"{admin}Attach a policy to {label}",
            [_entity(kind, f"{kind} to attach the policy to"),
             _name_arg(True, "name of the policy"), *document_args()],
            prepare=read_document, as_account=as_account),
        Command(
            f"euare-{kind}getpolicy", "iam", f"Get{word}Policy",
            f"{admin}Display {label}'s policy",
            [_entity(kind, f"{kind} the policy is attached to"),
             _name_arg(True, "name of the policy to show"), _pretty_arg()],
            run=lambda inv: _run_get(inv, word), as_account=as_account),
        Command(
            f"euare-{kind}listpolicies", "iam", f"List{word}Policies",
            f"{'[Eucalyptus only] ' if kind == 'account' else ''}List one or all policies "
            f"attached to {label}",
            [_entity(kind, f"{kind} whose policies to list"),
             _name_arg(False, "display a specific policy"),
             Arg("-v", "--verbose", name="verbose", flag=True,
                 help="display the contents of the resulting policies (in addition to their "
                 "names)"), _pretty_arg()],
            run=_run_list(kind), as_account=as_account),
        Command(
            f"euare-{kind}delpolicy", "iam", f"Delete{word}Policy",
            f"{admin}Remove a policy from {label}",
            [_entity(kind, f"{kind} the policy is attached to"),
             _name_arg(True, "name of the policy to delete")],
            as_account=as_account),
    ]
    return commands
