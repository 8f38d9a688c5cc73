"""VPN commands: customer gateways, virtual private gateways (VGWs), VPN connections and
their static routes.

``--format`` shows a connection's customer gateway configuration: ``xml`` as the service
sent it, a device name (``cisco-ios-isr``, ...) through an XSL stylesheet (``--stylesheet``
or the region's ``vpn-stylesheet`` option, ``{format}`` replaced by the format name).
"""

from __future__ import annotations

from ..decl import Arg, Command
from ..xmlparse import as_list
from .vpcbase import TAG_FILTERS, delete, describe, item, printer_of, tags, vpc_option

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation

FORMATS = ("cisco-ios-isr", "juniper-junos-j", "juniper-screenos-6.1",
           "juniper-screenos-6.2", "generic", "xml", "none")


def print_customer_gateway(inv: Invocation, cgw: dict[str, Any]) -> None:
    """``CUSTOMERGATEWAY`` id, state, type, ip, bgpAsn; then TAG lines."""
    inv.emit("CUSTOMERGATEWAY", cgw.get("customerGatewayId"), cgw.get("state"),
             cgw.get("type"), cgw.get("ipAddress"), cgw.get("bgpAsn"))
    tags(inv, cgw, "customerGatewayId")


def print_vgw_attachment(inv: Invocation, att: dict[str, Any]) -> None:
    """``VGWATTACHMENT`` vpcId, state."""
    inv.emit("VGWATTACHMENT", att.get("vpcId"), att.get("state"))


def print_vpn_gateway(inv: Invocation, vgw: dict[str, Any]) -> None:
    """``VPNGATEWAY`` id, state, zone, type; a VGWATTACHMENT per VPC; TAG lines."""
    inv.emit("VPNGATEWAY", vgw.get("vpnGatewayId"), vgw.get("state"),
             vgw.get("availabilityZone"), vgw.get("type"))
    for att in as_list(vgw.get("attachments")):
        print_vgw_attachment(inv, att)
    tags(inv, vgw, "vpnGatewayId")


def print_vpn_connection(inv: Invocation, vpn: dict[str, Any]) -> None:
    """``VPNCONNECTION`` id, type, customer gateway, VPN gateway, state; the customer
    gateway configuration in the chosen --format; TAG lines."""
    inv.emit("VPNCONNECTION", vpn.get("vpnConnectionId"), vpn.get("type"),
             vpn.get("customerGatewayId"), vpn.get("vpnGatewayId"), vpn.get("state"))
    config = vpn.get("customerGatewayConfiguration")
    fmt = inv.args.get("format") or "none"
    if config and isinstance(config, str) and fmt != "none":
        inv.echo(config.rstrip("\n") if fmt == "xml" else _transform(inv, config, fmt))
    tags(inv, vpn, "vpnConnectionId")


def _stylesheet_bytes(inv: Invocation, fmt: str) -> tuple[str, bytes]:
    """(where, content) of the XSL stylesheet for ``fmt``."""
    from ..exceptions import Euca2oolsError

    where = inv.args.get("stylesheet") or inv.session.config.get_region(
        inv.session.region, "vpn-stylesheet")
    if not where:
        raise Euca2oolsError(f"showing format '{fmt}' needs an XSL stylesheet: use "
                             "--stylesheet or set the region's vpn-stylesheet option")
    where = where.replace("{format}", fmt)
    if where.startswith(("http://", "https://")):
        import requests

        try:
            response = requests.get(where, timeout=30)
            response.raise_for_status()
        except requests.RequestException as err:
            raise Euca2oolsError(f"cannot fetch stylesheet {where}: {err}") from None
        return where, response.content
    with open(where, "rb") as handle:
        return where, handle.read()


def _transform(inv: Invocation, config: str, fmt: str) -> str:
    """The configuration document run through the format's stylesheet."""
    from lxml import etree

    from ..exceptions import Euca2oolsError

    where, xslt = _stylesheet_bytes(inv, fmt)
    # Neither document may pull in entities or anything from the network.
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        transform = etree.XSLT(etree.fromstring(xslt, parser),
                               access_control=etree.XSLTAccessControl.DENY_ALL)
    except (etree.XMLSyntaxError, etree.XSLTParseError) as err:
        raise Euca2oolsError(f"stylesheet {where} is not valid XSLT: {err}") from None
    try:
        document = etree.fromstring(config.encode("utf-8"), parser)
        return str(transform(document)).rstrip("\n")
    except (etree.XMLSyntaxError, etree.XSLTApplyError) as err:
        raise Euca2oolsError(f"cannot format the VPN configuration: {err}") from None


def _format_args() -> list[Arg]:
    return [
        Arg("--format", name="format", choices=FORMATS,
            help="show the customer gateway configuration in a specific format: "
            + ", ".join(FORMATS) + " (default: none)"),
        Arg("--stylesheet", name="stylesheet", metavar="XSLT",
            help="format the configuration with this XSL stylesheet (a path or an HTTP(S) "
            "URL; \"{format}\" is replaced by the format chosen with --format) (default: the "
            "region's vpn-stylesheet option)"),
    ]


def _connection_route(name: str, action: str, summary: str) -> Command:
    return Command(
        name, "ec2", action, summary,
        [Arg("--vpn-connection", dest="VpnConnectionId", metavar="VPNCONN", required=True,
             help="ID of the VPN connection (required)"),
         Arg("--cidr", dest="DestinationCidrBlock", metavar="CIDR", required=True,
             help="CIDR block of the customer network (required)")],
    )


def _vgw_attach(name: str, action: str, summary: str, what: str, output: Any) -> Command:
    return Command(name, "ec2", action, summary,
                   [Arg("VGATEWAY", dest="VpnGatewayId",
                        help=f"ID of the virtual private gateway to {what}"),
                    vpc_option(f"to {what} the gateway {'to' if what == 'attach' else 'from'}")],
                   output=output)


CUSTOMER_GATEWAY_FILTERS = ("bgp-asn", "customer-gateway-id", "ip-address", "state",
                            "type") + TAG_FILTERS
VPN_GATEWAY_FILTERS = ("attachment.state", "attachment.vpc-id", "availability-zone",
                       "state", "type", "vpn-gateway-id") + TAG_FILTERS
VPN_CONNECTION_FILTERS = (
    "bgp-asn", "customer-gateway-configuration", "customer-gateway-id", "option.static-routes-only",
    "route.destination-cidr-block", "state", "type", "vpn-connection-id", "vpn-gateway-id",
) + TAG_FILTERS

_DESCRIBE_VPN = describe(
    "euca-describe-vpn-connections", "DescribeVpnConnections",
    "Show information about VPN connections", "VPNCONN", "VpnConnectionId",
    "vpnConnectionSet", print_vpn_connection, VPN_CONNECTION_FILTERS, "VPN connections")
_DESCRIBE_VPN.args += tuple(_format_args())

COMMANDS = [
    # customer gateways
    Command(
        "euca-create-customer-gateway", "ec2", "CreateCustomerGateway",
        "Create a VPN customer gateway",
        [Arg("-t", "--type", dest="Type", metavar="TYPE", required=True,
             help="the type of VPN connection to use (required; e.g. ipsec.1)"),
         Arg("-i", "--ip", dest="IpAddress", metavar="IP", required=True,
             help="the customer gateway's Internet-routable external IP address (required)"),
         Arg("-b", "--bgp-asn", dest="BgpAsn", metavar="ASN", type=int,
             help="the customer gateway's Border Gateway Protocol (BGP) Autonomous System "
             "Number (ASN) (default: 65000)")],
        prepare=lambda inv: inv.params.setdefault("BgpAsn", 65000),
        output=printer_of(print_customer_gateway, "customerGateway"),
    ),
    delete("euca-delete-customer-gateway", "DeleteCustomerGateway",
           "Delete a VPN customer gateway", "CGATEWAY", "CustomerGatewayId", "customer gateway"),
    describe("euca-describe-customer-gateways", "DescribeCustomerGateways",
             "Show information about VPN customer gateways", "CGATEWAY", "CustomerGatewayId",
             "customerGatewaySet", print_customer_gateway, CUSTOMER_GATEWAY_FILTERS,
             "customer gateways"),
    # virtual private gateways
    Command(
        "euca-create-vpn-gateway", "ec2", "CreateVpnGateway", "Create a virtual private gateway",
        [Arg("-t", "--type", dest="Type", metavar="TYPE", required=True,
             help="the type of VPN connection to use (required; e.g. ipsec.1)")],
        output=printer_of(print_vpn_gateway, "vpnGateway"),
    ),
    delete("euca-delete-vpn-gateway", "DeleteVpnGateway", "Delete a virtual private gateway",
           "VGATEWAY", "VpnGatewayId", "virtual private gateway"),
    describe("euca-describe-vpn-gateways", "DescribeVpnGateways",
             "Show information about virtual private gateways", "VGATEWAY", "VpnGatewayId",
             "vpnGatewaySet", print_vpn_gateway, VPN_GATEWAY_FILTERS,
             "virtual private gateways"),
    _vgw_attach("euca-attach-vpn-gateway", "AttachVpnGateway",
                "Attach a virtual private gateway to a VPC", "attach",
                lambda inv, r: print_vgw_attachment(inv, item(r, "attachment"))),
    _vgw_attach("euca-detach-vpn-gateway", "DetachVpnGateway",
                "Detach a virtual private gateway from a VPC", "detach", None),
    # VPN connections
    Command(
        "euca-create-vpn-connection", "ec2", "CreateVpnConnection",
        "Create a VPN connection between a virtual private gateway and a customer gateway",
        [Arg("-t", "--type", dest="Type", metavar="TYPE", required=True,
             help="the type of VPN connection to use (required; e.g. ipsec.1)"),
         Arg("--customer-gateway", dest="CustomerGatewayId", metavar="CGATEWAY", required=True,
             help="ID of the customer gateway to connect (required)"),
         Arg("--vpn-gateway", dest="VpnGatewayId", metavar="VGATEWAY", required=True,
             help="ID of the virtual private gateway to connect (required)"),
         Arg("--static-routes-only", dest="Options.StaticRoutesOnly", flag=True,
             help="use static routes instead of BGP"),
         *_format_args()],
        output=printer_of(print_vpn_connection, "vpnConnection"),
    ),
    delete("euca-delete-vpn-connection", "DeleteVpnConnection", "Delete a VPN connection",
           "VPNCONN", "VpnConnectionId", "VPN connection"),
    _DESCRIBE_VPN,
    _connection_route("euca-create-vpn-connection-route", "CreateVpnConnectionRoute",
                      "Create a static route that sends traffic from a virtual private "
                      "gateway to a customer gateway"),
    _connection_route("euca-delete-vpn-connection-route", "DeleteVpnConnectionRoute",
                      "Delete a static route from a virtual private gateway to a customer "
                      "gateway"),
]
