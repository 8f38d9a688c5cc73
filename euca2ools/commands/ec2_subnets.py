"""VPC subnet commands: create, delete, describe, modify-subnet-attribute."""

from __future__ import annotations

from ..decl import Arg, Command
from .vpcbase import TAG_FILTERS, delete, describe, printer_of, tags, true_false, vpc_option

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def print_subnet(inv: Invocation, subnet: dict[str, Any]) -> None:
    """``SUBNET`` id, state, vpcId, cidr, free addresses, zone, defaultForAz,
    mapPublicIpOnLaunch; then TAG lines."""
    inv.emit("SUBNET", subnet.get("subnetId"), subnet.get("state"), subnet.get("vpcId"),
             subnet.get("cidrBlock"), subnet.get("availableIpAddressCount"),
             subnet.get("availabilityZone"), subnet.get("defaultForAz"),
             subnet.get("mapPublicIpOnLaunch"))
    tags(inv, subnet, "subnetId")


SUBNET_FILTERS = ("availability-zone", "availabilityZone", "available-ip-address-count",
                  "cidr", "cidr-block", "cidrBlock", "default-for-az", "defaultForAz",
                  "state", "subnet-id", "vpc-id") + TAG_FILTERS

COMMANDS = [
    Command(
        "euca-create-subnet", "ec2", "CreateSubnet", "Create a new VPC subnet",
        [Arg("CIDR", dest="CidrBlock", help="address range of the subnet (CIDR notation)"),
         vpc_option("to create the subnet in"),
         Arg("-z", "--availability-zone", dest="AvailabilityZone", metavar="ZONE",
             complete="zone", help="availability zone in which to create the subnet")],
        output=printer_of(print_subnet, "subnet"),
    ),
    delete("euca-delete-subnet", "DeleteSubnet", "Delete a VPC subnet", "SUBNET", "SubnetId",
           "subnet", complete="subnet"),
    describe("euca-describe-subnets", "DescribeSubnets",
             "Show information about one or more VPC subnets", "SUBNET", "SubnetId",
             "subnetSet", print_subnet, SUBNET_FILTERS, "subnets", complete="subnet"),
    Command(
        "euca-modify-subnet-attribute", "ec2", "ModifySubnetAttribute",
        "Modify an attribute of a subnet",
        [Arg("SUBNET", dest="SubnetId", complete="subnet", help="ID of the subnet to modify"),
         Arg("-m", "--map-public-ip-on-launch", dest="MapPublicIpOnLaunch.Value",
             type=true_false, metavar="{true,false}", required=True,
             help="whether instances launched in the subnet get public IP addresses "
             "(required)")],
    ),
]
