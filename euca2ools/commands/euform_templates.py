"""euform-* commands about templates: show, summarize and validate them.

Record lines: ``DESCRIPTION`` (text), ``CAPABILITY`` (name), ``CAPABILITYREASON``
(text), ``RESOURCETYPES`` (type), ``PARAMETER`` (key, no-echo, default, description)
followed by ``ALLOWED-VALUE`` (key, value) lines, ``METADATA`` (JSON) for
get-template-summary; validate-template prints ``DESCRIPTION`` and then one line per
field of each parameter/capability (``PARAMETERS``, key, value).
"""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..xmlparse import as_list
from .euform_stacks import read_template, template_args

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _print_template(inv: Invocation, result: Any) -> None:
    body = result.get("TemplateBody") or ""
    inv.echo(body.rstrip("\n"))


def _print_summary(inv: Invocation, result: Any) -> None:
    if result.get("Description"):
        inv.emit("DESCRIPTION", result["Description"])
    for cap in as_list(result.get("Capabilities")):
        inv.emit("CAPABILITY", cap)
    if result.get("CapabilitiesReason"):
        inv.emit("CAPABILITYREASON", result["CapabilitiesReason"])
    for rtype in as_list(result.get("ResourceTypes")):
        inv.emit("RESOURCETYPES", rtype)
    for param in as_list(result.get("Parameters")):
        key = param.get("ParameterKey")
        inv.emit("PARAMETER", key, param.get("NoEcho"), param.get("DefaultValue"),
                 param.get("Description"))
        constraints = param.get("ParameterConstraints") or {}
        for allowed in as_list(constraints.get("AllowedValues")
                               if isinstance(constraints, dict) else None):
            inv.emit("ALLOWED-VALUE", key, allowed)
    if result.get("Metadata"):
        inv.emit("METADATA", result["Metadata"])


def _print_validation(inv: Invocation, result: Any) -> None:
    inv.emit("DESCRIPTION", result.get("Description"))
    for param in as_list(result.get("Parameters")):
        if isinstance(param, dict):
            for key, value in param.items():
                inv.emit("PARAMETERS", key, value)
    for cap in as_list(result.get("Capabilities")):
        inv.emit("CAPABILITIES", cap)
    if result.get("CapabilitiesReason"):
        inv.emit("CAPABILITIESREASON", result["CapabilitiesReason"])


COMMANDS = [
    Command(
        "euform-get-template", "cloudformation", "GetTemplate", "Show a stack's template",
        [Arg("STACK", dest="StackName", help="name or ID of the stack")],
        output=_print_template, show_empty=True,
    ),
    Command(
        "euform-get-template-summary", "cloudformation", "GetTemplateSummary",
        "Summarize a template",
        [Group(
            Arg("STACK", dest="StackName", nargs="?",
                help="name or ID of the stack (names cannot be used for deleted stacks)"),
            *template_args(False, "the").args,
            required=True)],
        prepare=read_template, output=_print_summary, show_empty=True,
    ),
    Command(
        "euform-validate-template", "cloudformation", "ValidateTemplate",
        "Validate a template", [template_args(True, "the")],
        prepare=read_template, output=_print_validation, show_empty=True,
    ),
]
