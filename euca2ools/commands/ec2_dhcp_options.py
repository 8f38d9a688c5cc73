"""VPC DHCP option set commands: create, delete, describe, associate."""

from __future__ import annotations

from ..decl import Arg, Command
from ..xmlparse import as_list
from .vpcbase import TAG_FILTERS, delete, describe, printer_of, tags, vpc_option

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def print_dhcp_options(inv: Invocation, dopt: dict[str, Any]) -> None:
    """``DHCPOPTIONS`` id; an OPTION (key, comma-joined values) per option; TAG lines."""
    inv.emit("DHCPOPTIONS", dopt.get("dhcpOptionsId"))
    for option in as_list(dopt.get("dhcpConfigurationSet")):
        values = [v.get("value") if isinstance(v, dict) else v
                  for v in as_list(option.get("valueSet"))]
        inv.emit("OPTION", option.get("key"), ",".join(v for v in values if v))
    tags(inv, dopt, "dhcpOptionsId")


def dhcp_option(spec: str) -> dict[str, Any]:
    """``KEY=VALUE[,VALUE...]`` as one DhcpConfiguration entry."""
    key, sep, values = spec.partition("=")
    if not sep or not key or not values:
        raise ValueError(f"option '{spec}' must have form KEY=VALUE[,VALUE...]")
    return {"Key": key, "Value": values.split(",")}


DHCP_FILTERS = ("dhcp-options-id", "key", "value") + TAG_FILTERS

COMMANDS = [
    Command(
        "euca-create-dhcp-options", "ec2", "CreateDhcpOptions",
        "Create a VPC DHCP option set",
        [Arg("KEY=VALUE,[VALUE,...]", dest="DhcpConfiguration", nargs="+", type=dhcp_option,
             help="a DHCP option and its value(s), e.g. domain-name-servers=10.0.0.2,"
             "10.0.0.3")],
        output=printer_of(print_dhcp_options, "dhcpOptions"),
    ),
    delete("euca-delete-dhcp-options", "DeleteDhcpOptions", "Delete a VPC DHCP option set",
           "DHCPOPTS", "DhcpOptionsId", "DHCP option set"),
    describe("euca-describe-dhcp-options", "DescribeDhcpOptions",
             "Show information about VPC DHCP option sets", "DHCPOPTS", "DhcpOptionsId",
             "dhcpOptionsSet", print_dhcp_options, DHCP_FILTERS, "DHCP option sets"),
    Command(
        "euca-associate-dhcp-options", "ec2", "AssociateDhcpOptions",
        "Associate a DHCP option set with a VPC",
        [Arg("DHCPOPTS", dest="DhcpOptionsId",
             help="ID of the DHCP option set to associate, or \"default\""),
         vpc_option("to associate the option set with")],
        output=lambda inv, _r: inv.emit("DHCPOPTIONS", inv.params.get("DhcpOptionsId"),
                                        inv.params.get("VpcId")),
    ),
]
