"""VPC NAT gateway commands: create, delete, describe."""

from __future__ import annotations

from ..decl import Arg, Command
from ..xmlparse import as_list
from .vpcbase import describe, printer_of

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def print_nat_gateway(inv: Invocation, gateway: dict[str, Any]) -> None:
    """``NATGATEWAY`` id, state, subnetId, vpcId, failure code and message, create and
    delete times; a NATGATEWAYADDRESSES line per address."""
    inv.emit("NATGATEWAY", gateway.get("natGatewayId"), gateway.get("state"),
             gateway.get("subnetId"), gateway.get("vpcId"), gateway.get("failureCode"),
             gateway.get("failureMessage"), gateway.get("createTime"),
             gateway.get("deleteTime"))
    for addr in as_list(gateway.get("natGatewayAddressSet")):
        inv.emit("NATGATEWAYADDRESSES", addr.get("allocationId"),
                 addr.get("networkInterfaceId"), addr.get("publicIp"), addr.get("privateIp"))


# DescribeNatGateways has no tag filters of its own in the 2015-10-01 API euca2ools speaks.
NAT_GATEWAY_FILTERS = ("nat-gateway-id", "state", "subnet-id", "vpc-id")

COMMANDS = [
    Command(
        "euca-create-nat-gateway", "ec2", "CreateNatGateway", "Create a new VPC NAT gateway",
        [Arg("-s", "--subnet-id", dest="SubnetId", metavar="SUBNET", required=True,
             complete="subnet",
             help="ID of the subnet in which to create the NAT gateway (required)"),
         Arg("-a", "--allocation-id", dest="AllocationId", metavar="ALLOC", required=True,
             help="allocation ID of the elastic IP address for the gateway (required)"),
         Arg("--client-token", dest="ClientToken", metavar="TOKEN",
             help="unique identifier to ensure request idempotency")],
        output=printer_of(print_nat_gateway, "natGateway"),
    ),
    Command("euca-delete-nat-gateway", "ec2", "DeleteNatGateway", "Delete a VPC NAT gateway",
            [Arg("NGATEWAY", dest="NatGatewayId", help="ID of the NAT gateway to delete")]),
    describe("euca-describe-nat-gateways", "DescribeNatGateways",
             "Describe one or more VPC NAT gateways", "NGATEWAY", "NatGatewayId",
             "natGatewaySet", print_nat_gateway, NAT_GATEWAY_FILTERS, "NAT gateways"),
]
