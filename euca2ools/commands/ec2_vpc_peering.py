"""VPC peering connection commands: create (request), accept, reject, delete, describe."""

from __future__ import annotations

from ..decl import Arg, Command
from .vpcbase import TAG_FILTERS, delete, describe, item, printer_of, tags

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def print_peering(inv: Invocation, pcx: dict[str, Any]) -> None:
    """``VPCPEERINGCONNECTION`` id, expiration, "code: message"; then REQUESTERVPCINFO and
    ACCEPTERVPCINFO (vpcId, cidr, ownerId) and TAG lines."""
    status = item(pcx, "status")
    code, message = status.get("code"), status.get("message")
    inv.emit("VPCPEERINGCONNECTION", pcx.get("vpcPeeringConnectionId"),
             pcx.get("expirationTime"),
             f"{code}: {message}" if code and message else (code or message))
    for record, key in (("REQUESTERVPCINFO", "requesterVpcInfo"),
                        ("ACCEPTERVPCINFO", "accepterVpcInfo")):
        info = item(pcx, key)
        if info:
            inv.emit(record, info.get("vpcId"), info.get("cidrBlock"), info.get("ownerId"))
    tags(inv, pcx, "vpcPeeringConnectionId")


def _peering_id(verb: str) -> Arg:
    return Arg("PEERCON", dest="VpcPeeringConnectionId",
               help=f"ID of the VPC peering connection to {verb}")


PEERING_FILTERS = (
    "accepter-vpc-info.cidr-block", "accepter-vpc-info.owner-id", "accepter-vpc-info.vpc-id",
    "expiration-time", "requester-vpc-info.cidr-block", "requester-vpc-info.owner-id",
    "requester-vpc-info.vpc-id", "status-code", "status-message",
    "vpc-peering-connection-id",
) + TAG_FILTERS

COMMANDS = [
    Command(
        "euca-create-vpc-peering-connection", "ec2", "CreateVpcPeeringConnection",
        "Request a peering connection between two VPCs",
        [Arg("-c", "--vpc", dest="VpcId", metavar="VPC", required=True, complete="vpc",
             help="ID of the VPC to create the peering connection from (required)"),
         Arg("-p", "--peer-vpc", dest="PeerVpcId", metavar="VPC", required=True, complete="vpc",
             help="ID of the VPC to peer with (required)"),
         Arg("-o", "--peer-owner-id", dest="PeerOwnerId", metavar="ACCOUNT",
             help="ID of the account that owns the peer VPC (default: your account)")],
        output=printer_of(print_peering, "vpcPeeringConnection"),
    ),
    Command("euca-accept-vpc-peering-connection", "ec2", "AcceptVpcPeeringConnection",
            "Accept a request for a VPC peering connection", [_peering_id("accept")],
            output=printer_of(print_peering, "vpcPeeringConnection")),
    Command("euca-reject-vpc-peering-connection", "ec2", "RejectVpcPeeringConnection",
            "Reject a request for a VPC peering connection", [_peering_id("reject")]),
    delete("euca-delete-vpc-peering-connection", "DeleteVpcPeeringConnection",
           "Delete a VPC peering connection", "PEERCON", "VpcPeeringConnectionId",
           "VPC peering connection"),
    describe("euca-describe-vpc-peering-connections", "DescribeVpcPeeringConnections",
             "Show information about VPC peering connections", "PEERCONN",
             "VpcPeeringConnectionId", "vpcPeeringConnectionSet", print_peering,
             PEERING_FILTERS, "VPC peering connections"),
]
