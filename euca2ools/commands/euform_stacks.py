"""euform-* CloudFormation commands that create, change, delete and describe stacks.

CloudFormation is a Query API (2010-05-15): lists go on the wire as ``Name.member.N``.
Record lines: ``STACK`` (name, status, status reason, description, creation time),
``OUTPUT`` (key, value), ``PARAMETER`` (key, use-previous-value, value).
"""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..xmlparse import as_list
from .query import flat, members

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation

CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")



def stack_parameter(spec: str) -> dict[str, Any]:
    """``KEY=VALUE`` as a template parameter (an empty VALUE is sent as such)."""
    from ..client import EMPTY

    key, sep, value = spec.partition("=")
    if not sep or not key:
        raise ValueError(f"parameter '{spec}' must have form KEY=VALUE")
    return {"ParameterKey": key, "ParameterValue": value if value else EMPTY}


def update_parameter(spec: str) -> dict[str, Any]:
    """``KEY=VALUE``, or a bare ``KEY`` to keep the value the stack has (UsePreviousValue)."""
    if "=" not in spec:
        if not spec:
            raise ValueError("a parameter needs a name")
        return {"ParameterKey": spec, "UsePreviousValue": True}
    return stack_parameter(spec)


def stack_tag(spec: str) -> dict[str, Any]:
    """``KEY[=VALUE]`` as a stack tag; no value means an empty one."""
    from ..client import EMPTY

    key, _sep, value = spec.partition("=")
    if not key:
        raise ValueError(f"tag '{spec}' must have form KEY[=VALUE]")
    return {"Key": key, "Value": value if value else EMPTY}


def comma_list(spec: str) -> list[str]:
    """``A,B,C`` as a list (capabilities, notification ARNs, stack states)."""
    return [c.strip() for c in spec.split(",") if c.strip()]


def template_args(required: bool, what: str) -> Group:
    """``--template-file FILE | --template-url URL`` (the file's text is sent as the body)."""
    return Group(
        Arg("--template-file", name="template_file", metavar="FILE", complete="file",
            help=f"file containing {what} JSON or YAML template (\"-\" for stdin)"),
        Arg("--template-url", dest="TemplateURL", metavar="URL",
            help=f"URL pointing to {what} template (fetched by the service)"),
        required=required)


def read_template(inv: Invocation) -> None:
    """Put the ``--template-file`` text into ``TemplateBody`` (``-`` reads stdin)."""
    import sys

    path = inv.args.get("template_file")
    if not path:
        return
    if path == "-":
        inv.params["TemplateBody"] = sys.stdin.read()
        return
    with open(path, encoding="utf-8") as handle:
        inv.params["TemplateBody"] = handle.read()



def _prepare_stack_change(inv: Invocation) -> None:
    """Template, parameters, capabilities, notification ARNs and tags of create/update."""
    from ..client import EMPTY

    read_template(inv)
    a, p = inv.args, inv.params
    if a.get("parameters"):
        p["Parameters"] = members(a["parameters"])
    caps = flat(a.get("capabilities"))
    if caps:
        p["Capabilities"] = members(caps)
    arns = flat(a.get("notification_arns"))
    if arns:
        p["NotificationARNs"] = members(arns)
    if a.get("tags"):
        p["Tags"] = members(a["tags"])
    elif a.get("delete_tags"):
        # An empty Tags list removes every tag of the stack.
        p["Tags"] = EMPTY
    if a.get("disable_rollback"):
        p["DisableRollback"] = True


def print_stack(inv: Invocation, stack: dict[str, Any]) -> None:
    """The ``STACK`` line: name, status, status reason, description, creation time."""
    inv.emit("STACK", stack.get("StackName"), stack.get("StackStatus"),
             stack.get("StackStatusReason"), stack.get("Description") or
             stack.get("TemplateDescription"), stack.get("CreationTime"))


def _print_stacks(inv: Invocation, result: Any) -> None:
    for stack in as_list(result.get("Stacks")):
        print_stack(inv, stack)
        if inv.args.get("show_long"):
            # As euca2ools 3.x: the stack ID and the notification ARNs on lines of their own.
            inv.echo(stack.get("StackId") or "")
            inv.echo(",".join(as_list(stack.get("NotificationARNs"))))
            for param in as_list(stack.get("Parameters")):
                inv.emit("PARAMETER", param.get("ParameterKey"), param.get("UsePreviousValue"),
                         param.get("ParameterValue"))
        for output in as_list(stack.get("Outputs")):
            inv.emit("OUTPUT", output.get("OutputKey"), output.get("OutputValue"))


def _describe_stacks(inv: Invocation) -> None:
    """Every page of DescribeStacks."""
    for result in inv.pages("DescribeStacks"):
        _print_stacks(inv, result)


def _list_stacks(inv: Invocation) -> None:
    """Every page of ListStacks, each summary as a ``STACK`` line."""
    params = dict(inv.params)
    statuses = flat(inv.args.get("status_filter"))
    if statuses:
        params["StackStatusFilter"] = members(statuses)
    for result in inv.pages("ListStacks", params):
        for stack in as_list(result.get("StackSummaries")):
            print_stack(inv, stack)


def _print_stack_id(inv: Invocation, result: Any) -> None:
    inv.echo(result.get("StackId") or "")


def _prepare_role(inv: Invocation) -> None:
    from ..exceptions import ArgumentError

    role = inv.args.get("RoleARN")
    if role and not role.startswith("arn:"):
        raise ArgumentError('argument --role: ARN must begin with "arn:"')
    skip = inv.args.get("skip")
    if skip:
        inv.params["ResourcesToSkip"] = members(list(skip))


_STACK = Arg("STACK", dest="StackName", help="name or ID of the stack")
_PARAM_HELP = ("key and value of a parameter of the stack's template, separated by \"=\" "
               "(repeatable)")
_CAPS_HELP = ("capabilities the template requires, comma-separated (repeatable): "
              + ", ".join(CAPABILITIES))

COMMANDS = [
    Command(
        "euform-create-stack", "cloudformation", "CreateStack", "Create a new stack",
        [
            Arg("STACK", dest="StackName", help="name of the new stack (required)"),
            template_args(True, "the new stack's"),
            Arg("-d", "--disable-rollback", name="disable_rollback", flag=True,
                help="disable rollback on failure"),
            Arg("-n", "--notification-arns", name="notification_arns", metavar="ARN[,...]",
                multiple=True, type=comma_list,
                help="SNS ARNs to publish stack actions to"),
            Arg("--capabilities", name="capabilities", metavar="CAP[,...]", multiple=True,
                type=comma_list, help=_CAPS_HELP),
            Arg("-p", "--parameter", name="parameters", metavar="KEY=VALUE", multiple=True,
                type=stack_parameter, help=_PARAM_HELP),
            Arg("-t", "--timeout", dest="TimeoutInMinutes", metavar="MINUTES", type=int,
                help="timeout for stack creation"),
            Arg("--tag", name="tags", metavar="KEY[=VALUE]", multiple=True, type=stack_tag,
                help="key and optional value of a tag to give the stack, separated by \"=\" "
                "(repeatable; no value means an empty one)"),
        ],
        prepare=_prepare_stack_change, output=_print_stack_id, show_empty=True,
        description="Prints the new stack's ID.",
    ),
    Command(
        "euform-update-stack", "cloudformation", "UpdateStack",
        "Update a stack's template, parameters, or capabilities",
        [
            Arg("STACK", dest="StackName", help="name or ID of the stack to update (required)"),
            template_args(False, "the stack's new"),
            Arg("--use-previous-template", dest="UsePreviousTemplate", flag=True,
                help="keep the stack's template (change only parameters, capabilities or "
                "tags)"),
            Arg("--capabilities", name="capabilities", metavar="CAP[,...]", multiple=True,
                type=comma_list, help=_CAPS_HELP),
            Arg("-p", "--parameter", name="parameters", metavar="KEY[=VALUE]", multiple=True,
                type=update_parameter,
                help=_PARAM_HELP + "; a KEY alone keeps the value the stack has"),
            Group(
                Arg("--tag", name="tags", metavar="KEY[=VALUE]", multiple=True, type=stack_tag,
                    help="key and optional value of a tag to give the stack (repeatable; "
                    "replaces all of its tags)"),
                Arg("--delete-tags", name="delete_tags", flag=True,
                    help="remove all of the stack's tags")),
        ],
        prepare=_prepare_stack_change, output=_print_stack_id, show_empty=True,
        description="Prints the stack's ID.",
    ),
    Command("euform-delete-stack", "cloudformation", "DeleteStack", "Delete a stack",
            [_STACK], show_empty=True),
    Command("euform-cancel-update-stack", "cloudformation", "CancelUpdateStack",
            "Cancel a stack update that is currently running", [_STACK], show_empty=True),
    Command(
        "euform-continue-rollback", "cloudformation", "ContinueUpdateRollback",
        "Continue rolling back a stack that has previously failed to roll back",
        [
            Arg("STACK", dest="StackName", help="name or ID of the stack (required)"),
            Arg("--skip", name="skip", metavar="RESOURCE", multiple=True,
                help="do not re-attempt to roll back this resource, but mark it "
                "UPDATE_COMPLETE without changing it (repeatable)"),
            Arg("--role", dest="RoleARN", metavar="ARN",
                help="change the role the stack uses for this and future operations"),
        ],
        prepare=_prepare_role, show_empty=True,
    ),
    Command(
        "euform-describe-stacks", "cloudformation", "DescribeStacks",
        "Describe one or more stacks",
        [Arg("STACK", dest="StackName", nargs="?", help="limit results to a single stack"),
         Arg("--show-long", name="show_long", flag=True,
             help="show all of the stacks' info (stack ID, notification ARNs, parameters)")],
        run=_describe_stacks, show_empty=True,
    ),
    Command(
        "euform-list-stacks", "cloudformation", "ListStacks", "List all running stacks",
        [Arg("--status", name="status_filter", metavar="STATUS", multiple=True,
             type=comma_list,
             help="list only stacks in these states, comma-separated (repeatable), e.g. "
             "CREATE_COMPLETE,DELETE_COMPLETE")],
        run=_list_stacks, show_empty=True,
    ),
]
