"""VPC commands: create, delete, describe, and the DNS attributes."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from .vpcbase import TAG_FILTERS, delete, describe, printer_of, tags, true_false

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def print_vpc(inv: Invocation, vpc: dict[str, Any]) -> None:
    """``VPC`` id, state, cidr, dhcpOptionsId, tenancy, isDefault; then TAG lines."""
    inv.emit("VPC", vpc.get("vpcId"), vpc.get("state"), vpc.get("cidrBlock"),
             vpc.get("dhcpOptionsId"), vpc.get("instanceTenancy"), vpc.get("isDefault"))
    tags(inv, vpc, "vpcId")


# Flag of describe-vpc-attribute -> the Attribute it asks for.
_ATTRIBUTES = {"dns_hostnames": "enableDnsHostnames", "dns_support": "enableDnsSupport"}


def _prepare_describe_attribute(inv: Invocation) -> None:
    for key, attribute in _ATTRIBUTES.items():
        if inv.args.get(key):
            inv.params["Attribute"] = attribute


def _print_attribute(inv: Invocation, result: Any) -> None:
    """``RETURN`` and the attribute's value (true/false)."""
    value = result.get(inv.params["Attribute"]) if isinstance(result, dict) else None
    inv.emit("RETURN", value.get("value") if isinstance(value, dict) else value)


def _prepare_modify(inv: Invocation) -> None:
    from ..exceptions import ArgumentError

    if not inv.params.get("VpcId"):
        raise ArgumentError("a VPC ID is required (VPC or -c/--vpc)")


VPC_FILTERS = ("cidr", "cidr-block", "cidrBlock", "dhcp-options-id", "isDefault",
               "is-default", "state", "vpc-id") + TAG_FILTERS

COMMANDS = [
    Command(
        "euca-create-vpc", "ec2", "CreateVpc", "Create a new VPC",
        [Arg("CIDR", dest="CidrBlock", help="address range of the VPC (CIDR notation)"),
         Arg("--tenancy", dest="InstanceTenancy", choices=("default", "dedicated"),
             help="the type of instance tenancy to use (default: default)")],
        output=printer_of(print_vpc, "vpc"),
    ),
    delete("euca-delete-vpc", "DeleteVpc", "Delete a VPC", "VPC", "VpcId", "VPC",
           complete="vpc"),
    describe("euca-describe-vpcs", "DescribeVpcs", "Show information about VPCs", "VPC",
             "VpcId", "vpcSet", print_vpc, VPC_FILTERS, "VPCs", complete="vpc"),
    Command(
        "euca-describe-vpc-attribute", "ec2", "DescribeVpcAttribute",
        "Show an attribute of a VPC",
        [Arg("VPC", dest="VpcId", complete="vpc", help="ID of the VPC to show info about"),
         Group(
             Arg("-d", "--dns-hostnames", name="dns_hostnames", flag=True,
                 help="show whether instances in the VPC are assigned DNS hostnames"),
             Arg("-s", "--dns-support", name="dns_support", flag=True,
                 help="show whether DNS resolution is enabled"),
             required=True,
         )],
        prepare=_prepare_describe_attribute, output=_print_attribute,
    ),
    Command(
        "euca-modify-vpc-attribute", "ec2", "ModifyVpcAttribute", "Modify an attribute of a VPC",
        [Arg("VPC", dest="VpcId", nargs="?", name="vpc_positional", complete="vpc",
             help="ID of the VPC to modify (or -c/--vpc)"),
         Arg("-c", "--vpc", dest="VpcId", metavar="VPC", complete="vpc",
             help="ID of the VPC to modify"),
         Group(
             Arg("-d", "--dns-hostnames", dest="EnableDnsHostnames.Value", type=true_false,
                 metavar="{true,false}",
                 help="enable or disable DNS hostnames for instances in the VPC"),
             Arg("-s", "--dns-support", dest="EnableDnsSupport.Value", type=true_false,
                 metavar="{true,false}", help="enable or disable DNS resolution in the VPC"),
             required=True,
         )],
        prepare=_prepare_modify,
    ),
]
