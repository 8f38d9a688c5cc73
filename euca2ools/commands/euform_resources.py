"""euform-* commands about a stack's resources and events.

Record lines: ``RESOURCE`` (logical ID, physical ID, type, last updated time, status,
status reason) and ``EVENT`` (stack name, event ID, resource type, logical ID,
physical ID, time, status, status reason), in euca2ools 3.x's column order.
"""

from __future__ import annotations

from ..decl import Arg, Command
from ..xmlparse import as_list

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def print_resource(inv: Invocation, res: dict[str, Any]) -> None:
    """One ``RESOURCE`` line (summaries name the time LastUpdatedTimestamp, details too;
    DescribeStackResources calls it Timestamp)."""
    inv.emit("RESOURCE", res.get("LogicalResourceId"), res.get("PhysicalResourceId"),
             res.get("ResourceType"), res.get("LastUpdatedTimestamp") or res.get("Timestamp"),
             res.get("ResourceStatus"), res.get("ResourceStatusReason"))


def _paged(inv: Invocation, action: str, list_key: str, printer: Any) -> None:
    """Every page of a NextToken-paged action."""
    for result in inv.pages(action):
        for item in as_list(result.get(list_key)):
            printer(inv, item)


def _print_event(inv: Invocation, event: dict[str, Any]) -> None:
    inv.emit("EVENT", event.get("StackName"), event.get("EventId"), event.get("ResourceType"),
             event.get("LogicalResourceId"), event.get("PhysicalResourceId"),
             event.get("Timestamp"), event.get("ResourceStatus"),
             event.get("ResourceStatusReason"))


def _print_resources(inv: Invocation, result: Any) -> None:
    for res in as_list(result.get("StackResources")):
        print_resource(inv, res)


def _prepare_describe_resources(inv: Invocation) -> None:
    from ..exceptions import ArgumentError

    # AWS needs a stack name or a physical ID (which names the stack that owns it).
    if not inv.args.get("StackName") and not inv.args.get("PhysicalResourceId"):
        raise ArgumentError("one of the arguments -n/--name -p/--physical-resource-id "
                            "is required")


_STACK = Arg("STACK", dest="StackName", help="name or ID of the stack")

COMMANDS = [
    Command(
        "euform-describe-stack-events", "cloudformation", "DescribeStackEvents",
        "Describe events that occurred in a stack", [_STACK],
        run=lambda inv: _paged(inv, "DescribeStackEvents", "StackEvents", _print_event),
        show_empty=True,
    ),
    Command(
        "euform-describe-stack-resource", "cloudformation", "DescribeStackResource",
        "Describe a resource from a particular stack",
        [_STACK, Arg("-l", "--logical-resource-id", dest="LogicalResourceId",
                     metavar="RESOURCE", required=True,
                     help="logical ID of the resource (required)")],
        output=lambda inv, r: print_resource(inv, r.get("StackResourceDetail") or {}),
        show_empty=True,
    ),
    Command(
        "euform-describe-stack-resources", "cloudformation", "DescribeStackResources",
        "List all of the resources in one or more stacks",
        [
            Arg("-n", "--name", dest="StackName", metavar="STACK",
                help="name or ID of the stack"),
            Arg("-l", "--logical-resource-id", dest="LogicalResourceId", metavar="RESOURCE",
                help="logical ID of a resource to limit results to"),
            Arg("-p", "--physical-resource-id", dest="PhysicalResourceId", metavar="RESOURCE",
                help="physical ID of a resource (finds the stack that owns it)"),
        ],
        prepare=_prepare_describe_resources,
        output=_print_resources,
        show_empty=True,
    ),
    Command(
        "euform-list-stack-resources", "cloudformation", "ListStackResources",
        "List all resources for a stack", [_STACK],
        run=lambda inv: _paged(inv, "ListStackResources", "StackResourceSummaries",
                               print_resource),
        show_empty=True,
    ),
]
