"""VPC network ACL commands: ACLs, their entries and subnet associations."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..xmlparse import as_list
from .vpcbase import TAG_FILTERS, boolean, delete, describe, item, printer_of, tags

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation

# IP protocol numbers shown by name in ENTRY lines (others are shown as numbers).
_PROTOCOL_NAMES = {"-1": "all", "1": "icmp", "6": "tcp", "17": "udp"}


def protocol_name(number: Any) -> Any:
    """``6`` -> ``tcp``; unnamed protocols stay numbers."""
    return _PROTOCOL_NAMES.get(str(number), number)


def print_entry(inv: Invocation, entry: dict[str, Any]) -> None:
    """``ENTRY`` direction, rule number, action, cidr, protocol, from/type, to/code."""
    ports, icmp = item(entry, "portRange"), item(entry, "icmpTypeCode")
    inv.emit("ENTRY", "egress" if boolean(entry.get("egress")) else "ingress",
             entry.get("ruleNumber"), entry.get("ruleAction"), entry.get("cidrBlock"),
             protocol_name(entry.get("protocol")),
             ports.get("from") or icmp.get("type"), ports.get("to") or icmp.get("code"))


def print_network_acl(inv: Invocation, acl: dict[str, Any]) -> None:
    """``NETWORKACL`` id, vpcId, ``default``; ENTRY and ASSOCIATION lines; TAG lines."""
    inv.emit("NETWORKACL", acl.get("networkAclId"), acl.get("vpcId"),
             "default" if boolean(acl.get("default")) else None)
    for entry in as_list(acl.get("entrySet")):
        print_entry(inv, entry)
    for assoc in as_list(acl.get("associationSet")):
        inv.emit("ASSOCIATION", assoc.get("networkAclAssociationId"), assoc.get("subnetId"))
    tags(inv, acl, "networkAclId")


def _protocol_number(text: str) -> str:
    """A protocol name or number as the number EC2 wants (``all`` is -1)."""
    low = text.lower()
    if low in ("all", "-1"):
        return "-1"
    if low.isdigit():
        return low
    import socket

    try:
        return str(socket.getprotobyname(low))
    except OSError:
        raise ValueError(f"unknown protocol '{text}'") from None


def _prepare_entry(inv: Invocation) -> None:
    """RuleAction, Egress, Protocol and PortRange or IcmpTypeCode from the options."""
    from ..exceptions import ArgumentError

    a, p = inv.args, inv.params
    p["RuleAction"] = "allow" if a.get("allow") else "deny"
    p["Egress"] = "true" if a.get("egress") else "false"
    proto = a.get("protocol") or "-1"
    p["Protocol"] = proto
    if proto == "1":
        code = a.get("icmp_type_code")
        if not code:
            raise ArgumentError("argument -t/--icmp-type-code is required for protocol icmp")
        icmp_type, _, icmp_code = code.partition(":")
        p["IcmpTypeCode"] = {"Type": icmp_type, "Code": icmp_code or "-1"}
    elif proto in ("6", "17"):
        spec = a.get("port_range")
        if not spec:
            raise ArgumentError("argument -p/--port-range is required for protocol "
                                + _PROTOCOL_NAMES[proto])
        low, sep, high = spec.partition("-")
        if not low.isdigit() or (sep and not high.isdigit()):
            raise ArgumentError(f"argument -p/--port-range: '{spec}' is not a port or "
                                "range (use N or N-M)")
        p["PortRange"] = {"From": low, "To": high if sep else low}


def _print_entry_request(inv: Invocation, _result: Any) -> None:
    """The ENTRY line of the rule just written (the reply carries only ``true``)."""
    p = inv.params
    ports = p.get("PortRange") or {}
    icmp = p.get("IcmpTypeCode") or {}
    inv.emit("ENTRY", "egress" if p["Egress"] == "true" else "ingress", p.get("RuleNumber"),
             p["RuleAction"], p.get("CidrBlock"), protocol_name(p["Protocol"]),
             ports.get("From") or icmp.get("Type"), ports.get("To") or icmp.get("Code"))


def _entry_command(name: str, action: str, summary: str) -> Command:
    """create- and replace-network-acl-entry."""
    return Command(
        name, "ec2", action, summary,
        [Arg("NACL", dest="NetworkAclId", complete="network-acl", help="ID of the network ACL"),
         Arg("-n", "--rule-number", dest="RuleNumber", type=int, metavar="RULE", required=True,
             help="rule number of the entry (required)"),
         Group(
             Arg("--allow", name="allow", flag=True, help="make the entry allow traffic"),
             Arg("--deny", name="deny", flag=True, help="make the entry deny traffic"),
             required=True,
         ),
         Arg("-r", "--cidr", dest="CidrBlock", metavar="CIDR", required=True,
             help="CIDR address range the entry should affect (required)"),
         Arg("-P", "--protocol", name="protocol", type=_protocol_number, metavar="PROTOCOL",
             help="network protocol the entry should apply to: a name, a number or \"all\" "
             "(default: all)"),
         Arg("--egress", name="egress", flag=True,
             help="make the entry affect outgoing (egress) traffic (default: ingress)"),
         Arg("-p", "--port-range", name="port_range", metavar="RANGE",
             help="range of ports (specified as \"from-to\") or a single port number "
             "(required for tcp and udp)"),
         Arg("-t", "--icmp-type-code", name="icmp_type_code", metavar="TYPE:CODE",
             help="ICMP type and code (specified as \"type:code\") (required for icmp)")],
        prepare=_prepare_entry, output=_print_entry_request,
    )


NETWORK_ACL_FILTERS = (
    "association.association-id", "association.network-acl-id", "association.subnet-id",
    "default", "entry.cidr", "entry.egress", "entry.icmp.code", "entry.icmp.type",
    "entry.port-range.from", "entry.port-range.to", "entry.protocol", "entry.rule-action",
    "entry.rule-number", "network-acl-id", "vpc-id",
) + TAG_FILTERS

COMMANDS = [
    Command("euca-create-network-acl", "ec2", "CreateNetworkAcl",
            "Create a new VPC network ACL",
            [Arg("VPC", dest="VpcId", complete="vpc",
                 help="ID of the VPC to create the network ACL in")],
            output=printer_of(print_network_acl, "networkAcl")),
    delete("euca-delete-network-acl", "DeleteNetworkAcl", "Delete a VPC network ACL", "ACL",
           "NetworkAclId", "network ACL", complete="network-acl"),
    describe("euca-describe-network-acls", "DescribeNetworkAcls",
             "Describe one or more network ACLs", "NACL", "NetworkAclId", "networkAclSet",
             print_network_acl, NETWORK_ACL_FILTERS, "network ACLs",
             complete="network-acl"),
    _entry_command("euca-create-network-acl-entry", "CreateNetworkAclEntry",
                   "Create a new entry in a VPC network ACL"),
    _entry_command("euca-replace-network-acl-entry", "ReplaceNetworkAclEntry",
                   "Replace an entry in a VPC network ACL"),
    Command("euca-delete-network-acl-entry", "ec2", "DeleteNetworkAclEntry",
            "Delete a network acl rule",
            [Arg("NACL", dest="NetworkAclId", complete="network-acl", help="ID of the network ACL"),
             Arg("-n", "--rule-number", dest="RuleNumber", type=int, metavar="RULE",
                 required=True, help="number of the entry to delete (required)"),
             Arg("--egress", name="egress", flag=True,
                 help="delete an egress entry (default: delete an ingress entry)")],
            prepare=lambda inv: inv.params.update(
                Egress="true" if inv.args.get("egress") else "false")),
    Command("euca-replace-network-acl-association", "ec2", "ReplaceNetworkAclAssociation",
            "Associate a new VPC network ACL with a subnet",
            [Arg("ACLASSOC", dest="AssociationId",
                 help="ID of the network ACL association to replace"),
             Arg("-a", "--network-acl", dest="NetworkAclId", metavar="NACL", required=True,
                 complete="network-acl",
                 help="ID of the network ACL to associate with the subnet (required)")],
            output=lambda inv, r: inv.emit(
                "ASSOCIATION", r.get("newAssociationId") if isinstance(r, dict) else None,
                inv.params.get("NetworkAclId"))),
]
