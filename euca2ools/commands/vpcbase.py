"""Building blocks shared by the VPC command modules.

Most VPC commands are one of three shapes: ``describe-X [ID ...] --filter``, ``delete-X
ID`` (no output on success) and attach/detach ``ID -c/--vpc VPC``.  These helpers make
those declarations from the resource's names so each module only spells out the rest.
"""

from __future__ import annotations

from ..decl import Arg, Command
from ..output import print_tags
from ..xmlparse import as_list

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from typing import Any

    from ..runtime import Invocation

    Printer = Callable[[Invocation, dict[str, Any]], None]

#: Filters every taggable EC2 resource accepts (``tag:KEY`` is always allowed).
TAG_FILTERS = ("tag-key", "tag-value")


def item(result: Any, key: str) -> dict[str, Any]:
    """``result[key]`` when it is a record, else an empty one (a bare success reply)."""
    value = result.get(key) if isinstance(result, dict) else None
    return value if isinstance(value, dict) else {}


def boolean(text: Any) -> bool:
    """An EC2 ``true``/``false`` leaf as a bool."""
    return str(text).lower() == "true"


def tags(inv: Invocation, record: dict[str, Any], id_key: str) -> None:
    """The record's TAG lines."""
    print_tags(inv, record.get(id_key) or "", record.get("tagSet"))


def printer_of(printer: Printer, key: str) -> Callable[[Invocation, Any], None]:
    """An output callback printing the one record under ``key`` of a create reply."""
    def output(inv: Invocation, result: Any) -> None:
        printer(inv, item(result, key))
    return output


def describe(name: str, action: str, summary: str, metavar: str, id_param: str,
             list_key: str, printer: Printer, filters: tuple[str, ...],
             what: str, complete: str | None = None) -> Command:
    """``NAME [ID ...] --filter NAME=VALUE``: one record block per item of ``list_key``."""
    def output(inv: Invocation, result: Any) -> None:
        for record in as_list(result.get(list_key) if isinstance(result, dict) else None):
            if isinstance(record, dict):
                printer(inv, record)

    return Command(
        name, "ec2", action, summary,
        [Arg(metavar, dest=id_param, nargs="*", complete=complete,
             help=f"limit results to specific {what}")],
        filters=filters, output=output,
    )


def delete(name: str, action: str, summary: str, metavar: str, id_param: str,
           what: str, complete: str | None = None) -> Command:
    """``NAME ID``: no output on success."""
    return Command(name, "ec2", action, summary,
                   [Arg(metavar, dest=id_param, complete=complete,
                        help=f"ID of the {what} to delete")])


def vpc_option(what: str, required: bool = True) -> Arg:
    """``-c/--vpc VPC`` (the wire name is always VpcId)."""
    return Arg("-c", "--vpc", dest="VpcId", metavar="VPC", required=required, complete="vpc",
               help=f"ID of the VPC {what}" + (" (required)" if required else ""))


def true_false(value: str) -> str:
    """A ``true``/``false`` option value (also yes/no, 1/0, on/off) as EC2 spells it."""
    from .types import flexible_bool

    return "true" if flexible_bool(value) else "false"
