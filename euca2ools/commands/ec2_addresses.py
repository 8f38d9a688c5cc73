"""Elastic IP address commands."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..output import print_address
from ..xmlparse import as_list
from .types import ADDRESS_FILTERS

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _prepare_describe(inv: Invocation) -> None:
    addrs = inv.args.get("addresses") or []
    alloc = [a for a in addrs if a.startswith("eipalloc-")]
    public = [a for a in addrs if not a.startswith("eipalloc-")]
    if alloc:
        inv.params["AllocationId"] = alloc
    if public:
        inv.params["PublicIp"] = public


def _print_describe(inv: Invocation, result: Any) -> None:
    for addr in as_list(result.get("addressesSet")):
        print_address(inv, addr)


def _print_associate(inv: Invocation, result: Any) -> None:
    a = inv.args
    if a.get("AllocationId") or a.get("NetworkInterfaceId"):
        inv.emit("ADDRESS", a.get("InstanceId"), a.get("AllocationId"),
                 result.get("associationId"), a.get("PrivateIpAddress"))
    else:
        inv.emit("ADDRESS", a.get("PublicIp"), a.get("InstanceId"))


def _prepare_associate(inv: Invocation) -> None:
    from ..exceptions import ArgumentError

    a = inv.args
    if not a.get("PublicIp") and not a.get("AllocationId"):
        raise ArgumentError("an ADDRESS or -a/--allocation-id is required")
    if a.get("allow_reassociation"):
        inv.params["AllowReassociation"] = "true"
    elif a.get("no_allow_reassociation"):
        inv.params["AllowReassociation"] = "false"


def _require_one(positional: str, option: str, flag: str):  # type: ignore[no-untyped-def]
    def prepare(inv: Invocation) -> None:
        from ..exceptions import ArgumentError

        if not inv.args.get(positional) and not inv.args.get(option):
            raise ArgumentError(f"an ADDRESS or {flag} is required")
    return prepare


COMMANDS = [
    Command(
        "euca-allocate-address", "ec2", "AllocateAddress", "Allocate a public IP address",
        [Arg("-d", "--domain", dest="Domain", choices=("vpc", "standard"),
             help="[VPC only] \"vpc\" to allocate the address for use in a VPC")],
        output=lambda inv, r: inv.emit("ADDRESS", r.get("publicIp"), r.get("domain") or "standard",
                                       r.get("allocationId")),
    ),
    Command(
        "euca-associate-address", "ec2", "AssociateAddress",
        "Associate an elastic IP address with a running instance",
        [
            Arg("ADDRESS", dest="PublicIp", nargs="?", complete="address",
                help="[Non-VPC only] IP address to associate (required)"),
            Arg("-a", "--allocation-id", dest="AllocationId", metavar="ALLOC",
                help="[VPC only] VPC allocation ID (required)"),
            Group(
                Arg("-i", "--instance-id", dest="InstanceId", metavar="INSTANCE",
                    complete="instance", help="ID of the instance to associate the address with"),
                Arg("-n", "--network-interface", dest="NetworkInterfaceId", metavar="INTERFACE",
                    help="[VPC only] network interface to associate the address with"),
                required=True,
            ),
            Arg("-p", "--private-ip-address", dest="PrivateIpAddress", metavar="ADDRESS",
                help="[VPC only] the private address to associate with the address being "
                "associated in the VPC (default: primary private IP)"),
            Group(
                Arg("--allow-reassociation", name="allow_reassociation", flag=True,
                    help="[VPC only] allow the address to be associated even if it is already "
                    "associated with another interface"),
                Arg("--no-allow-reassociation", name="no_allow_reassociation", flag=True,
                    help="[VPC only] do not allow the address to be associated if it is already "
                    "associated with another interface"),
            ),
        ],
        prepare=_prepare_associate, output=_print_associate,
    ),
    Command(
        "euca-disassociate-address", "ec2", "DisassociateAddress",
        "Disassociate an elastic IP address from an instance",
        [Arg("ADDRESS", dest="PublicIp", nargs="?", complete="address",
             help="[Non-VPC only] elastic IP address to disassociate (required)"),
         Arg("-a", "--association-id", dest="AssociationId", metavar="ASSOC",
             help="[VPC only] ID of the VPC association to disassociate (required)")],
        prepare=_require_one("PublicIp", "AssociationId", "-a/--association-id"),
        output=lambda inv, _r: inv.emit("ADDRESS", inv.args.get("PublicIp")
                                        or inv.args.get("AssociationId")),
    ),
    Command(
        "euca-release-address", "ec2", "ReleaseAddress", "Release an elastic IP address",
        [Arg("ADDRESS", dest="PublicIp", nargs="?", complete="address",
             help="[Non-VPC only] address to release (required)"),
         Arg("-a", "--allocation-id", dest="AllocationId", metavar="ALLOC",
             help="[VPC only] allocation ID for the address to release (required)")],
        prepare=_require_one("PublicIp", "AllocationId", "-a/--allocation-id"),
        output=lambda inv, _r: inv.emit("ADDRESS", inv.args.get("PublicIp"),
                                        inv.args.get("AllocationId")),
    ),
    Command(
        "euca-describe-addresses", "ec2", "DescribeAddresses",
        "Show information about elastic IP addresses",
        [Arg("ADDRESS", name="addresses", nargs="*", complete="address",
             help="limit results to specific elastic IP addresses or VPC allocation IDs")],
        filters=ADDRESS_FILTERS, prepare=_prepare_describe, output=_print_describe,
    ),
]
