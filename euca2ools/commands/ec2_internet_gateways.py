"""VPC Internet gateway commands: create, delete, describe, attach, detach."""

from __future__ import annotations

from ..decl import Arg, Command
from ..xmlparse import as_list
from .vpcbase import TAG_FILTERS, delete, describe, printer_of, tags, vpc_option

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def print_internet_gateway(inv: Invocation, igw: dict[str, Any]) -> None:
    """``INTERNETGATEWAY`` id; an ATTACHMENT (vpcId, state) per VPC; TAG lines."""
    inv.emit("INTERNETGATEWAY", igw.get("internetGatewayId"))
    for att in as_list(igw.get("attachmentSet")):
        inv.emit("ATTACHMENT", att.get("vpcId"), att.get("state"))
    tags(inv, igw, "internetGatewayId")


IGW_FILTERS = ("attachment.state", "attachment.vpc-id", "internet-gateway-id") + TAG_FILTERS


def _attach(name: str, action: str, summary: str, what: str) -> Command:
    return Command(name, "ec2", action, summary,
                   [Arg("IGATEWAY", dest="InternetGatewayId", complete="internet-gateway",
                        help=f"ID of the Internet gateway to {what}"),
                    vpc_option(f"to {what} the gateway {'to' if what == 'attach' else 'from'}")])


COMMANDS = [
    Command("euca-create-internet-gateway", "ec2", "CreateInternetGateway",
            "Create a new VPC Internet gateway",
            output=printer_of(print_internet_gateway, "internetGateway")),
    delete("euca-delete-internet-gateway", "DeleteInternetGateway",
           "Delete a VPC Internet gateway", "IGATEWAY", "InternetGatewayId", "Internet gateway",
           complete="internet-gateway"),
    describe("euca-describe-internet-gateways", "DescribeInternetGateways",
             "Describe one or more VPC Internet gateways", "IGATEWAY", "InternetGatewayId",
             "internetGatewaySet", print_internet_gateway, IGW_FILTERS, "Internet gateways",
             complete="internet-gateway"),
    _attach("euca-attach-internet-gateway", "AttachInternetGateway",
            "Attach an Internet gateway to a VPC", "attach"),
    _attach("euca-detach-internet-gateway", "DetachInternetGateway",
            "Detach an Internet gateway from a VPC", "detach"),
]
