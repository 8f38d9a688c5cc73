"""VPC network interface commands: interfaces, their attributes, attachments and
secondary private addresses."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..output import print_interface_attachment, print_network_interface
from ..xmlparse import as_list
from .vpcbase import describe, printer_of, true_false

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _prepare_secondary(inv: Invocation) -> None:
    """--secondary-address values as PrivateIpAddresses.N (none of them primary)."""
    addresses = inv.args.get("secondary_address") or []
    if addresses:
        inv.params["PrivateIpAddresses"] = [{"PrivateIpAddress": ip, "Primary": "false"}
                                            for ip in addresses]


# Flag of describe-network-interface-attribute -> the Attribute it asks for.
_ATTRIBUTES = {"description": "description", "source_dest_check": "sourceDestCheck",
               "group_set": "groupSet", "attachment": "attachment"}


def _prepare_describe_attribute(inv: Invocation) -> None:
    for key, attribute in _ATTRIBUTES.items():
        if inv.args.get(key):
            inv.params["Attribute"] = attribute


def _value(result: dict[str, Any], key: str) -> Any:
    value = result.get(key)
    return value.get("value") if isinstance(value, dict) else value


def _print_attribute(inv: Invocation, result: Any) -> None:
    """``NETWORKINTERFACE`` id, then the attribute asked for."""
    result = result if isinstance(result, dict) else {}
    inv.emit("NETWORKINTERFACE", result.get("networkInterfaceId")
             or inv.params.get("NetworkInterfaceId"))
    attribute = inv.params["Attribute"]
    if attribute == "description":
        inv.emit("DESCRIPTION", _value(result, "description"))
    elif attribute == "sourceDestCheck":
        inv.emit("SOURCEDESTCHECK", _value(result, "sourceDestCheck"))
    elif attribute == "groupSet":
        for group in as_list(result.get("groupSet")):
            inv.emit("GROUP", group.get("groupId"), group.get("groupName"))
    else:
        print_interface_attachment(inv, result.get("attachment"))


def _prepare_modify(inv: Invocation) -> None:
    from ..exceptions import ArgumentError

    a, p = inv.args, inv.params
    if a.get("delete_on_termination") is not None:
        if not a.get("attachment"):
            raise ArgumentError("argument --delete-on-termination needs -a/--attachment")
        p["Attachment.DeleteOnTermination"] = a["delete_on_termination"]
    elif a.get("attachment"):
        raise ArgumentError("argument -a/--attachment needs --delete-on-termination")


_SECONDARY = Group(
    Arg("--secondary-address", name="secondary_address", metavar="ADDRESS", multiple=True,
        help="assign a specific secondary private IP address (may be used more than once)"),
    Arg("--secondary-count", dest="SecondaryPrivateIpAddressCount", metavar="COUNT", type=int,
        help="number of secondary private IP addresses to assign automatically"),
)

NETWORK_INTERFACE_FILTERS = (
    "addresses.private-ip-address", "addresses.primary", "addresses.association.public-ip",
    "addresses.association.owner-id", "association.association-id",
    "association.allocation-id", "association.ip-owner-id", "association.public-ip",
    "association.public-dns-name", "attachment.attachment-id", "attachment.instance-id",
    "attachment.instance-owner-id", "attachment.device-index", "attachment.status",
    "attachment.attach-time", "attachment.delete-on-termination", "availability-zone",
    "description", "group-id", "group-name", "mac-address", "network-interface-id",
    "owner-id", "private-ip-address", "private-dns-name", "requester-id",
    "requester-managed", "source-dest-check", "status", "subnet-id",
    "vpc-id", "tag-key", "tag-value",
)

COMMANDS = [
    Command(
        "euca-create-network-interface", "ec2", "CreateNetworkInterface",
        "Create a new VPC network interface",
        [Arg("SUBNET", dest="SubnetId", complete="subnet",
             help="ID of the subnet to create the interface in"),
         Arg("-d", "--description", dest="Description", metavar="DESC",
             help="description of the new interface"),
         Arg("-g", "--group", dest="SecurityGroupId", metavar="GROUP", multiple=True,
             complete="group",
             help="ID of a security group to put the interface in (may be used more than "
             "once)"),
         Arg("--private-ip-address", dest="PrivateIpAddress", metavar="ADDRESS",
             help="primary private IP address of the interface (default: chosen by the "
             "subnet)"),
         _SECONDARY],
        prepare=_prepare_secondary, output=printer_of(print_network_interface,
                                                      "networkInterface"),
    ),
    Command("euca-delete-network-interface", "ec2", "DeleteNetworkInterface",
            "Delete a VPC network interface",
            [Arg("INTERFACE", dest="NetworkInterfaceId", complete="network-interface",
                 help="ID of the network interface to delete")]),
    describe("euca-describe-network-interfaces", "DescribeNetworkInterfaces",
             "Show information about VPC network interfaces", "INTERFACE",
             "NetworkInterfaceId", "networkInterfaceSet", print_network_interface,
             NETWORK_INTERFACE_FILTERS, "network interfaces",
             complete="network-interface"),
    Command(
        "euca-describe-network-interface-attribute", "ec2",
        "DescribeNetworkInterfaceAttribute", "Show an attribute of a VPC network interface",
        [Arg("INTERFACE", dest="NetworkInterfaceId", complete="network-interface",
             help="ID of the network interface to show info about"),
         Group(
             Arg("-d", "--description", name="description", flag=True,
                 help="show the interface's description"),
             Arg("--source-dest-check", name="source_dest_check", flag=True,
                 help="show whether source/destination address checking is enabled"),
             Arg("--group-set", name="group_set", flag=True,
                 help="show the security groups the interface belongs to"),
             Arg("-a", "--attachment", name="attachment", flag=True,
                 help="show info about the interface's attachment (if any)"),
             required=True,
         )],
        prepare=_prepare_describe_attribute, output=_print_attribute,
    ),
    Command(
        "euca-modify-network-interface-attribute", "ec2", "ModifyNetworkInterfaceAttribute",
        "Modify an attribute of a VPC network interface",
        [Arg("INTERFACE", dest="NetworkInterfaceId", complete="network-interface",
             help="ID of the network interface to modify"),
         Group(
             Arg("-d", "--description", dest="Description.Value", metavar="DESC",
                 help="set the interface's description"),
             Arg("--source-dest-check", dest="SourceDestCheck.Value", type=true_false,
                 metavar="{true,false}",
                 help="set whether source/destination address checking is enabled"),
             Arg("--group-id", dest="SecurityGroupId", metavar="GROUP", multiple=True,
                 help="set the security group(s) the interface belongs to (may be used more "
                 "than once)"),
             Arg("-a", "--attachment", dest="Attachment.AttachmentId", name="attachment",
                 metavar="ATTACHMENT",
                 help="ID of an attachment to modify; use with --delete-on-termination"),
             required=True,
         ),
         Arg("--delete-on-termination", name="delete_on_termination", type=true_false,
             metavar="{true,false}",
             help="set whether the interface's attachment is deleted when its instance "
             "terminates")],
        prepare=_prepare_modify,
    ),
    Command(
        "euca-reset-network-interface-attribute", "ec2", "ResetNetworkInterfaceAttribute",
        "Reset an attribute of a VPC network interface",
        [Arg("INTERFACE", dest="NetworkInterfaceId", complete="network-interface",
             help="ID of the network interface to reset"),
         Arg("--source-dest-check", name="source_dest_check", flag=True, required=True,
             help="reset whether source/destination address checking is enabled (required)")],
        prepare=lambda inv: inv.params.update(Attribute="sourceDestCheck"),
    ),
    Command(
        "euca-attach-network-interface", "ec2", "AttachNetworkInterface",
        "Attach a VPC network interface to an instance",
        [Arg("INTERFACE", dest="NetworkInterfaceId", complete="network-interface",
             help="ID of the network interface to attach"),
         Arg("-i", "--instance", dest="InstanceId", metavar="INSTANCE", required=True,
             complete="instance", help="ID of the instance to attach the interface to "
             "(required)"),
         Arg("-d", "--device-index", dest="DeviceIndex", metavar="INDEX", type=int,
             required=True,
             help="index of the interface within the instance (required)")],
        output=lambda inv, r: inv.emit(
            "ATTACHMENT", r.get("attachmentId") if isinstance(r, dict) else None),
    ),
    Command(
        "euca-detach-network-interface", "ec2", "DetachNetworkInterface",
        "Detach a VPC network interface from an instance",
        [Arg("ATTACHMENT", dest="AttachmentId",
             help="ID of the network interface attachment to remove"),
         Arg("-f", "--force", dest="Force", flag=True,
             help="detach the interface more forcefully")],
    ),
    Command(
        "euca-assign-private-ip-addresses", "ec2", "AssignPrivateIpAddresses",
        "Assign one or more private IP addresses to a network interface",
        [Arg("-n", "--network-interface", dest="NetworkInterfaceId", metavar="INTERFACE",
             required=True, complete="network-interface",
             help="ID of the network interface to assign addresses to (required)"),
         Group(
             Arg("--secondary-address", dest="PrivateIpAddress", metavar="ADDRESS",
                 multiple=True, help="assign a specific secondary private IP address (may be "
                 "used more than once)"),
             Arg("--secondary-count", dest="SecondaryPrivateIpAddressCount", metavar="COUNT",
                 type=int, help="number of secondary private IP addresses to assign "
                 "automatically"),
             required=True,
         ),
         Arg("--allow-reassignment", dest="AllowReassignment", flag=True,
             help="allow addresses assigned to another interface to be reassigned")],
    ),
    Command(
        "euca-unassign-private-ip-addresses", "ec2", "UnassignPrivateIpAddresses",
        "Remove one or more private IP addresses from a network interface",
        [Arg("-n", "--network-interface", dest="NetworkInterfaceId", metavar="INTERFACE",
             required=True, complete="network-interface",
             help="ID of the network interface to remove addresses from (required)"),
         Arg("--secondary-address", dest="PrivateIpAddress", metavar="ADDRESS", multiple=True,
             required=True, help="secondary private IP address to remove (may be used more "
             "than once) (required)")],
    ),
]
