"""VPC route table commands: tables, routes, subnet associations, VGW route propagation."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..xmlparse import as_list
from .vpcbase import TAG_FILTERS, boolean, delete, describe, printer_of, tags

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation

# Where a route sends its traffic, in the order euca2ools looks for it.
_TARGETS = ("gatewayId", "instanceId", "networkInterfaceId", "vpcPeeringConnectionId",
            "natGatewayId")


def print_route_table(inv: Invocation, table: dict[str, Any]) -> None:
    """``ROUTETABLE`` id, vpcId; ROUTE, PROPAGATINGVGW and ASSOCIATION lines; TAG lines."""
    inv.emit("ROUTETABLE", table.get("routeTableId"), table.get("vpcId"))
    for route in as_list(table.get("routeSet")):
        target = next((route[k] for k in _TARGETS if route.get(k)), None)
        inv.emit("ROUTE", target, route.get("state"), route.get("destinationCidrBlock"),
                 route.get("origin"))
    for vgw in as_list(table.get("propagatingVgwSet")):
        inv.emit("PROPAGATINGVGW", vgw.get("gatewayId"))
    for assoc in as_list(table.get("associationSet")):
        inv.emit("ASSOCIATION", assoc.get("routeTableAssociationId"), assoc.get("subnetId"),
                 "main" if boolean(assoc.get("main")) else None)
    tags(inv, table, "routeTableId")


def _print_route(inv: Invocation, _result: Any) -> None:
    """``ROUTE`` target, state (not in the reply: empty), destination CIDR."""
    p = inv.params
    target = next((p[k] for k in ("GatewayId", "InstanceId", "NetworkInterfaceId",
                                  "VpcPeeringConnectionId", "NatGatewayId") if p.get(k)), None)
    inv.emit("ROUTE", target, None, p.get("DestinationCidrBlock"))


def _route_command(name: str, action: str, summary: str) -> Command:
    """create-route and replace-route: a destination and exactly one target."""
    return Command(
        name, "ec2", action, summary,
        [Arg("RTABLE", dest="RouteTableId", complete="route-table", help="ID of the route table"),
         Arg("-r", "--cidr", dest="DestinationCidrBlock", metavar="CIDR", required=True,
             help="CIDR address block the route should affect (required)"),
         Group(
             Arg("-g", "--gateway-id", dest="GatewayId", metavar="GATEWAY",
                 complete="internet-gateway",
                 help="ID of an Internet gateway or virtual private gateway to target"),
             Arg("-i", "--instance", dest="InstanceId", metavar="INSTANCE", complete="instance",
                 help="ID of a NAT instance to target"),
             Arg("-n", "--network-interface", dest="NetworkInterfaceId", metavar="INTERFACE",
                 complete="network-interface", help="ID of a network interface to target"),
             Arg("-p", "--vpc-peering-connection", dest="VpcPeeringConnectionId",
                 metavar="PEERCON", help="ID of a VPC peering connection to target"),
             Arg("--nat-gateway", dest="NatGatewayId", metavar="NGATEWAY",
                 help="ID of a NAT gateway to target"),
             required=True,
         )],
        output=_print_route,
    )


def _print_association(inv: Invocation, result: Any) -> None:
    """``ASSOCIATION`` new association ID, subnet (when known)."""
    result = result if isinstance(result, dict) else {}
    inv.emit("ASSOCIATION", result.get("associationId") or result.get("newAssociationId"),
             inv.params.get("SubnetId"))


def _propagation(name: str, action: str, summary: str) -> Command:
    return Command(
        name, "ec2", action, summary,
        [Arg("--route-table", dest="RouteTableId", metavar="RTABLE", required=True,
             complete="route-table",
             help="ID of the route table (required)"),
         Arg("--vgw", dest="GatewayId", metavar="VGATEWAY", required=True,
             help="ID of the virtual private gateway (required)")],
    )


ROUTE_TABLE_FILTERS = (
    "association.main", "association.route-table-association-id",
    "association.route-table-id", "association.subnet-id", "route-table-id",
    "route.destination-cidr-block", "route.destination-prefix-list-id", "route.gateway-id",
    "route.instance-id", "route.nat-gateway-id", "route.origin", "route.state",
    "route.vpc-peering-connection-id", "vpc-id",
) + TAG_FILTERS

COMMANDS = [
    Command("euca-create-route-table", "ec2", "CreateRouteTable",
            "Create a new VPC route table",
            [Arg("VPC", dest="VpcId", complete="vpc",
                 help="ID of the VPC to create the route table in")],
            output=printer_of(print_route_table, "routeTable")),
    delete("euca-delete-route-table", "DeleteRouteTable", "Delete a VPC route table",
           "RTABLE", "RouteTableId", "route table", complete="route-table"),
    describe("euca-describe-route-tables", "DescribeRouteTables",
             "Describe one or more VPC route tables", "RTABLE", "RouteTableId",
             "routeTableSet", print_route_table, ROUTE_TABLE_FILTERS, "route tables",
             complete="route-table"),
    Command("euca-associate-route-table", "ec2", "AssociateRouteTable",
            "Associate a VPC route table with a subnet",
            [Arg("RTABLE", dest="RouteTableId", complete="route-table",
                 help="ID of the route table to associate"),
             Arg("-s", "--subnet", dest="SubnetId", metavar="SUBNET", required=True,
                 complete="subnet",
                 help="ID of the subnet to associate the route table with (required)")],
            output=_print_association),
    Command("euca-disassociate-route-table", "ec2", "DisassociateRouteTable",
            "Disassociate a VPC subnet from a route table",
            [Arg("RTBASSOC", dest="AssociationId",
                 help="ID of the routing table association to remove")]),
    Command("euca-replace-route-table-association", "ec2", "ReplaceRouteTableAssociation",
            "Change the route table associated with a VPC subnet",
            [Arg("RTBASSOC", dest="AssociationId",
                 help="ID of the routing table association to replace"),
             Arg("-r", dest="RouteTableId", metavar="RTABLE", required=True,
                 complete="route-table",
                 help="route table to associate with the subnet (required)")],
            output=_print_association),
    _route_command("euca-create-route", "CreateRoute", "Add a route to a VPC route table"),
    _route_command("euca-replace-route", "ReplaceRoute", "Replace a route in a VPC route table"),
    Command("euca-delete-route", "ec2", "DeleteRoute", "Delete a route from a VPC route table",
            [Arg("RTABLE", dest="RouteTableId", complete="route-table",
                 help="ID of the table to remove the route from"),
             Arg("-r", "--cidr", dest="DestinationCidrBlock", metavar="CIDR", required=True,
                 help="CIDR address block of the route to delete (required)")]),
    _propagation("euca-enable-vgw-route-propagation", "EnableVgwRoutePropagation",
                 "Allow a VPC route table to obtain routes from a virtual private gateway"),
    _propagation("euca-disable-vgw-route-propagation", "DisableVgwRoutePropagation",
                 "Make a VPC route table stop obtaining routes from a virtual private gateway"),
]
