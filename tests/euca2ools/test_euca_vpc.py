"""The VPC commands as subprocesses: against moto_server (the AWS stand-in) for their
requests and records, against our EC2-Classic cloud for the error a user gets there, and
their usage errors.

moto keeps its state for the whole session, so each test makes its own VPC and looks
only at resources it made.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from euca_records import check_records, ids

# An image moto_server registers at start-up (as test_euca_session uses).
MOTO_IMAGE = "ami-12c6146b"


def records(euca, ini: Path, *args: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """Run a command that must succeed; its output lines, each of a known record shape."""
    return check_records(euca(*args, ini=ini).stdout)


def silent(euca, ini: Path, *args: str) -> None:  # type: ignore[no-untyped-def]
    """Run a command that prints nothing on success."""
    proc = euca(*args, ini=ini)
    assert (proc.stdout, proc.stderr) == ("", ""), args


def new_vpc(euca, ini: Path, cidr: str) -> str:  # type: ignore[no-untyped-def]
    """Create a VPC; its ID."""
    out = records(euca, ini, "euca-create-vpc", cidr)
    assert out[0][0] == "VPC" and out[0][2:4] == ["available", cidr]
    return out[0][1]


def test_vpcs_subnets_and_internet_gateways(euca, moto_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """create/describe/modify/delete VPCs, subnets and Internet gateways."""
    ini = moto_ini
    out = records(euca, ini, "euca-create-vpc", "10.10.0.0/16", "--tenancy", "default")
    vpc = out[0][1]
    assert vpc.startswith("vpc-") and out[0][5:] == ["default", "false"]
    assert records(euca, ini, "euca-describe-vpcs", vpc) == out
    assert ids(euca("euca-describe-vpcs", "--filter", "cidr=10.10.0.0/16", ini=ini).stdout,
               "VPC") == [vpc]
    # DNS attributes
    assert records(euca, ini, "euca-describe-vpc-attribute", vpc, "-d") == [["RETURN", "false"]]
    silent(euca, ini, "euca-modify-vpc-attribute", "-c", vpc, "-d", "true")
    assert records(euca, ini, "euca-describe-vpc-attribute", vpc, "-d") == [["RETURN", "true"]]
    silent(euca, ini, "euca-modify-vpc-attribute", vpc, "--dns-support", "no")
    assert records(euca, ini, "euca-describe-vpc-attribute", vpc, "-s") == [["RETURN", "false"]]
    # subnets
    out = records(euca, ini, "euca-create-subnet", "10.10.1.0/24", "-c", vpc,
                  "-z", "us-east-1a")
    subnet = out[0][1]
    assert out[0][2:7] == ["available", vpc, "10.10.1.0/24", "251", "us-east-1a"]
    assert out[0][8] == "false"
    silent(euca, ini, "euca-modify-subnet-attribute", subnet, "-m", "true")
    out = records(euca, ini, "euca-describe-subnets", "--filter", f"vpc-id={vpc}")
    assert [r[1] for r in out] == [subnet] and out[0][8] == "true"
    euca("euca-create-tags", subnet, "--tag", "Name=front", ini=ini)
    out = records(euca, ini, "euca-describe-subnets", subnet)
    assert out[1] == ["TAG", "subnet", subnet, "Name", "front"]
    # Internet gateways
    out = records(euca, ini, "euca-create-internet-gateway")
    igw = out[0][1]
    assert out == [["INTERNETGATEWAY", igw]] and igw.startswith("igw-")
    silent(euca, ini, "euca-attach-internet-gateway", igw, "-c", vpc)
    assert records(euca, ini, "euca-describe-internet-gateways", igw) == [
        ["INTERNETGATEWAY", igw], ["ATTACHMENT", vpc, "available"]]
    out = records(euca, ini, "euca-describe-internet-gateways", "--filter",
                  f"attachment.vpc-id={vpc}")
    assert ids("\n".join("\t".join(r) for r in out), "INTERNETGATEWAY") == [igw]
    silent(euca, ini, "euca-detach-internet-gateway", igw, "--vpc", vpc)
    assert records(euca, ini, "euca-describe-internet-gateways", igw) == [
        ["INTERNETGATEWAY", igw]]
    silent(euca, ini, "euca-delete-internet-gateway", igw)
    silent(euca, ini, "euca-delete-subnet", subnet)
    silent(euca, ini, "euca-delete-vpc", vpc)
    proc = euca("euca-describe-vpcs", vpc, ini=ini, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("euca-describe-vpcs: error (InvalidVpcID.NotFound): ")
    assert proc.stderr.count("\n") == 1


def test_route_tables_and_routes(euca, moto_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """Route tables, routes (create/replace/delete) and subnet associations."""
    ini = moto_ini
    vpc = new_vpc(euca, ini, "10.11.0.0/16")
    subnet = records(euca, ini, "euca-create-subnet", "10.11.1.0/24", "-c", vpc)[0][1]
    igw = records(euca, ini, "euca-create-internet-gateway")[0][1]
    silent(euca, ini, "euca-attach-internet-gateway", igw, "-c", vpc)
    out = records(euca, ini, "euca-create-route-table", vpc)
    table = out[0][1]
    assert out == [["ROUTETABLE", table, vpc], ["ROUTE", "local", "active", "10.11.0.0/16",
                                                 "CreateRouteTable"]]
    assert records(euca, ini, "euca-create-route", table, "-r", "0.0.0.0/0", "-g", igw) == [
        ["ROUTE", igw, "", "0.0.0.0/0"]]
    out = records(euca, ini, "euca-associate-route-table", table, "-s", subnet)
    assoc = out[0][1]
    assert out == [["ASSOCIATION", assoc, subnet]] and assoc.startswith("rtbassoc-")
    out = records(euca, ini, "euca-describe-route-tables", table)
    assert ["ROUTE", igw, "active", "0.0.0.0/0", "CreateRoute"] in out
    assert ["ASSOCIATION", assoc, subnet, ""] in out
    # the VPC's main table is marked so
    out = records(euca, ini, "euca-describe-route-tables", "--filter", f"vpc-id={vpc}",
                  "--filter", "association.main=true")
    assert len(ids("\n".join("\t".join(r) for r in out), "ROUTETABLE")) == 1
    assert [r for r in out if r[0] == "ASSOCIATION"][0][2:] == ["", "main"]
    assert records(euca, ini, "euca-replace-route", table, "-r", "0.0.0.0/0", "-g", igw) == [
        ["ROUTE", igw, "", "0.0.0.0/0"]]
    silent(euca, ini, "euca-delete-route", table, "-r", "0.0.0.0/0")
    assert not [r for r in records(euca, ini, "euca-describe-route-tables", table)
                if r[0] == "ROUTE" and r[3] == "0.0.0.0/0"]
    other = records(euca, ini, "euca-create-route-table", vpc)[0][1]
    out = records(euca, ini, "euca-replace-route-table-association", assoc, "-r", other)
    new_assoc = out[0][1]
    assert out == [["ASSOCIATION", new_assoc, ""]] and new_assoc.startswith("rtbassoc-")
    assert ["ASSOCIATION", new_assoc, subnet, ""] in records(
        euca, ini, "euca-describe-route-tables", other)
    silent(euca, ini, "euca-disassociate-route-table", new_assoc)
    silent(euca, ini, "euca-delete-route-table", table)
    silent(euca, ini, "euca-delete-route-table", other)
    out = records(euca, ini, "euca-describe-route-tables", "--filter", f"vpc-id={vpc}")
    assert len(ids("\n".join("\t".join(r) for r in out), "ROUTETABLE")) == 1  # the main one


def test_network_acls(euca, moto_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """Network ACLs, their entries (protocol names, ports, ICMP) and associations."""
    ini = moto_ini
    vpc = new_vpc(euca, ini, "10.12.0.0/16")
    subnet = records(euca, ini, "euca-create-subnet", "10.12.1.0/24", "-c", vpc)[0][1]
    out = records(euca, ini, "euca-create-network-acl", vpc)
    acl = out[0][1]
    assert out[0] == ["NETWORKACL", acl, vpc, ""] and acl.startswith("acl-")
    assert records(euca, ini, "euca-create-network-acl-entry", acl, "-n", "100", "--allow",
                   "-r", "10.0.0.0/8", "-P", "tcp", "-p", "22") == [
        ["ENTRY", "ingress", "100", "allow", "10.0.0.0/8", "tcp", "22", "22"]]
    assert records(euca, ini, "euca-create-network-acl-entry", acl, "-n", "110", "--deny",
                   "-r", "0.0.0.0/0", "-P", "icmp", "-t", "8:0", "--egress") == [
        ["ENTRY", "egress", "110", "deny", "0.0.0.0/0", "icmp", "8", "0"]]
    assert records(euca, ini, "euca-replace-network-acl-entry", acl, "-n", "100", "--deny",
                   "-r", "10.0.0.0/8", "-P", "17", "-p", "53-54") == [
        ["ENTRY", "ingress", "100", "deny", "10.0.0.0/8", "udp", "53", "54"]]
    out = records(euca, ini, "euca-describe-network-acls", acl)
    assert out[0] == ["NETWORKACL", acl, vpc, ""]
    assert ["ENTRY", "ingress", "100", "deny", "10.0.0.0/8", "udp", "53", "54"] in out
    assert [r[:6] for r in out if r[1] == "egress"] == [
        ["ENTRY", "egress", "110", "deny", "0.0.0.0/0", "icmp"]]
    silent(euca, ini, "euca-delete-network-acl-entry", acl, "-n", "110", "--egress")
    assert not [r for r in records(euca, ini, "euca-describe-network-acls", acl)
                if r[0] == "ENTRY" and r[1] == "egress"]
    # move the subnet from the VPC's default ACL to the new one
    out = records(euca, ini, "euca-describe-network-acls", "--filter", f"vpc-id={vpc}",
                  "--filter", "default=true")
    assert out[0][3] == "default"
    old = [r for r in out if r[0] == "ASSOCIATION" and r[2] == subnet][0][1]
    out = records(euca, ini, "euca-replace-network-acl-association", old, "-a", acl)
    assert out[0][0] == "ASSOCIATION" and out[0][2] == acl
    assert ["ASSOCIATION", out[0][1], subnet] in records(
        euca, ini, "euca-describe-network-acls", acl)


def test_network_interfaces(euca, moto_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """Interfaces, their attributes, secondary addresses, attachment to an instance."""
    ini = moto_ini
    vpc = new_vpc(euca, ini, "10.13.0.0/16")
    subnet = records(euca, ini, "euca-create-subnet", "10.13.1.0/24", "-c", vpc)[0][1]
    group = records(euca, ini, "euca-create-group", "eni-test", "-d", "eni", "-c", vpc)[0][1]
    out = records(euca, ini, "euca-create-network-interface", subnet, "-d", "db nic",
                  "-g", group, "--private-ip-address", "10.13.1.10",
                  "--secondary-address", "10.13.1.11")
    eni = out[0][1]
    assert out[0][2:7] == [subnet, vpc, "123456789012", "available", "10.13.1.10"]
    assert out[0][8] == "true"  # source/destination check
    assert ["GROUP", group, "eni-test"] in out
    assert "10.13.1.11" in ids("\n".join("\t".join(r) for r in out), "PRIVATEIPADDRESS")
    silent(euca, ini, "euca-assign-private-ip-addresses", "-n", eni,
           "--secondary-address", "10.13.1.12")
    silent(euca, ini, "euca-unassign-private-ip-addresses", "-n", eni,
           "--secondary-address", "10.13.1.11")
    out = euca("euca-describe-network-interfaces", eni, ini=ini).stdout
    check_records(out)
    addresses = ids(out, "PRIVATEIPADDRESS")
    assert "10.13.1.12" in addresses and "10.13.1.11" not in addresses
    # attributes
    assert records(euca, ini, "euca-describe-network-interface-attribute", eni, "-d") == [
        ["NETWORKINTERFACE", eni], ["DESCRIPTION", "db nic"]]
    silent(euca, ini, "euca-modify-network-interface-attribute", eni, "-d", "new")
    silent(euca, ini, "euca-modify-network-interface-attribute", eni,
           "--source-dest-check", "false")
    assert records(euca, ini, "euca-describe-network-interface-attribute", eni, "-d") == [
        ["NETWORKINTERFACE", eni], ["DESCRIPTION", "new"]]
    assert records(euca, ini, "euca-describe-network-interface-attribute", eni,
                   "--source-dest-check") == [["NETWORKINTERFACE", eni],
                                              ["SOURCEDESTCHECK", "false"]]
    assert records(euca, ini, "euca-describe-network-interface-attribute", eni,
                   "--group-set") == [["NETWORKINTERFACE", eni], ["GROUP", group, "eni-test"]]
    # (moto has no ResetNetworkInterfaceAttribute: the stub test covers its request)
    # attach to an instance, look at the attachment, detach, delete
    out = euca("euca-run-instances", MOTO_IMAGE, "-s", subnet, ini=ini).stdout
    instance = ids(out, "INSTANCE")[0]
    out = records(euca, ini, "euca-attach-network-interface", eni, "-i", instance, "-d", "1")
    attachment = out[0][1]
    assert out == [["ATTACHMENT", attachment]] and attachment.startswith("eni-attach-")
    out = records(euca, ini, "euca-describe-network-interface-attribute", eni, "-a")
    assert out[1][:4] == ["ATTACHMENT", instance, attachment, "1"]
    silent(euca, ini, "euca-modify-network-interface-attribute", eni, "-a", attachment,
           "--delete-on-termination", "true")
    out = records(euca, ini, "euca-describe-network-interfaces", "--filter",
                  f"attachment.instance-id={instance}", "--filter", f"vpc-id={vpc}")
    assert [r[5] for r in out if r[0] == "NETWORKINTERFACE" and r[1] == eni] == ["in-use"]
    silent(euca, ini, "euca-detach-network-interface", attachment, "-f")
    silent(euca, ini, "euca-delete-network-interface", eni)
    euca("euca-terminate-instances", instance, ini=ini)


def test_dhcp_options(euca, moto_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """DHCP option sets: create with several values, associate, describe, delete."""
    ini = moto_ini
    vpc = new_vpc(euca, ini, "10.14.0.0/16")
    out = records(euca, ini, "euca-create-dhcp-options", "domain-name=example.com",
                  "domain-name-servers=10.14.0.2,10.14.0.3")
    dopt = out[0][1]
    assert out[0] == ["DHCPOPTIONS", dopt] and dopt.startswith("dopt-")
    assert sorted(out[1:]) == [["OPTION", "domain-name", "example.com"],
                               ["OPTION", "domain-name-servers", "10.14.0.2,10.14.0.3"]]
    assert records(euca, ini, "euca-associate-dhcp-options", dopt, "-c", vpc) == [
        ["DHCPOPTIONS", dopt, vpc]]
    assert records(euca, ini, "euca-describe-vpcs", vpc)[0][4] == dopt
    assert records(euca, ini, "euca-describe-dhcp-options", "--filter",
                   f"dhcp-options-id={dopt}")[0] == ["DHCPOPTIONS", dopt]
    euca("euca-associate-dhcp-options", "default", "-c", vpc, ini=ini)
    silent(euca, ini, "euca-delete-dhcp-options", dopt)
    proc = euca("euca-describe-dhcp-options", dopt, ini=ini, check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1


def test_nat_vpn_and_peering(euca, moto_ini: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """NAT gateways, customer and virtual private gateways, VPN connections (with their
    configuration in --format xml and through a stylesheet), and VPC peering."""
    ini = moto_ini
    vpc = new_vpc(euca, ini, "10.15.0.0/16")
    subnet = records(euca, ini, "euca-create-subnet", "10.15.1.0/24", "-c", vpc)[0][1]
    alloc = records(euca, ini, "euca-allocate-address", "-d", "vpc")[0][3]
    out = records(euca, ini, "euca-create-nat-gateway", "-s", subnet, "-a", alloc)
    nat = out[0][1]
    assert out[0][3:5] == [subnet, vpc] and out[1][0:2] == ["NATGATEWAYADDRESSES", alloc]
    out = records(euca, ini, "euca-describe-nat-gateways", "--filter", f"vpc-id={vpc}")
    assert [r[1] for r in out if r[0] == "NATGATEWAY"] == [nat]
    euca("euca-delete-nat-gateway", nat, ini=ini)
    # VPN
    out = records(euca, ini, "euca-create-customer-gateway", "-t", "ipsec.1",
                  "-i", "198.51.100.7", "-b", "65001")
    cgw = out[0][1]
    assert out == [["CUSTOMERGATEWAY", cgw, "available", "ipsec.1", "198.51.100.7", "65001"]]
    assert records(euca, ini, "euca-describe-customer-gateways", cgw) == out
    out = records(euca, ini, "euca-create-vpn-gateway", "-t", "ipsec.1")
    vgw = out[0][1]
    assert out[0][0] == "VPNGATEWAY" and out[0][4] == "ipsec.1" and vgw.startswith("vgw-")
    assert records(euca, ini, "euca-attach-vpn-gateway", vgw, "-c", vpc) == [
        ["VGWATTACHMENT", vpc, "attached"]]
    assert ["VGWATTACHMENT", vpc, "attached"] in records(
        euca, ini, "euca-describe-vpn-gateways", vgw)
    out = records(euca, ini, "euca-create-vpn-connection", "-t", "ipsec.1",
                  "--customer-gateway", cgw, "--vpn-gateway", vgw, "--static-routes-only")
    vpn = out[0][1]
    assert out == [["VPNCONNECTION", vpn, "ipsec.1", cgw, vgw, "available"]]
    lines = euca("euca-describe-vpn-connections", vpn, "--format", "xml",
                 ini=ini).stdout.splitlines()
    assert lines[0].split("\t") == out[0]
    assert f'<vpn_connection id="{vpn}">' in "\n".join(lines[1:])
    (tmp_path / "generic.xslt").write_text(
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        '<xsl:output method="text"/><xsl:template match="/vpn_connection">'
        'connection <xsl:value-of select="@id"/> to <xsl:value-of select="customer_gateway_id"/>'
        '</xsl:template></xsl:stylesheet>')
    lines = euca("euca-describe-vpn-connections", vpn, "--format", "generic", "--stylesheet",
                 str(tmp_path / "{format}.xslt"), ini=ini).stdout.splitlines()
    assert lines[1:] == [f"connection {vpn} to {cgw}"]
    # the region's vpn-stylesheet, here an HTTP URL
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{{format}}.xslt"
        region_ini = tmp_path / "vpn.ini"
        region_ini.write_text(ini.read_text().replace(
            "[region moto]\n", f"[region moto]\nvpn-stylesheet = {url}\n"))
        lines = euca("euca-describe-vpn-connections", vpn, "--format", "generic",
                     ini=region_ini).stdout.splitlines()
        assert lines[1:] == [f"connection {vpn} to {cgw}"]
    finally:
        server.shutdown()
        server.server_close()
    proc = euca("euca-describe-vpn-connections", vpn, "--format", "cisco-ios-isr", ini=ini,
                check=False)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == ("euca-describe-vpn-connections: error: showing format "
                           "'cisco-ios-isr' needs an XSL stylesheet: use --stylesheet or set "
                           "the region's vpn-stylesheet option\n")
    silent(euca, ini, "euca-delete-vpn-connection", vpn)
    silent(euca, ini, "euca-detach-vpn-gateway", vgw, "-c", vpc)
    silent(euca, ini, "euca-delete-vpn-gateway", vgw)
    silent(euca, ini, "euca-delete-customer-gateway", cgw)
    # peering
    peer = new_vpc(euca, ini, "10.16.0.0/16")
    out = records(euca, ini, "euca-create-vpc-peering-connection", "-c", vpc, "-p", peer)
    pcx = out[0][1]
    assert out[0][0] == "VPCPEERINGCONNECTION" and pcx.startswith("pcx-")
    assert out[1:] == [["REQUESTERVPCINFO", vpc, "10.15.0.0/16", "123456789012"],
                       ["ACCEPTERVPCINFO", peer, "10.16.0.0/16", "123456789012"]]
    out = records(euca, ini, "euca-accept-vpc-peering-connection", pcx)
    assert out[0][3].startswith("active")
    out = records(euca, ini, "euca-describe-vpc-peering-connections", "--filter",
                  f"requester-vpc-info.vpc-id={vpc}")
    assert [r[1] for r in out if r[0] == "VPCPEERINGCONNECTION"] == [pcx]
    silent(euca, ini, "euca-delete-vpc-peering-connection", pcx)
    other = records(euca, ini, "euca-create-vpc-peering-connection", "-c", vpc, "-p", peer,
                    "-o", "123456789012")[0][1]
    silent(euca, ini, "euca-reject-vpc-peering-connection", other)
    assert records(euca, ini, "euca-describe-vpc-peering-connections",
                   other)[0][3].startswith("rejected")


USAGE_ERRORS = [
    (["euca-create-route", "rtb-1", "-r", "0.0.0.0/0"],
     "one of the arguments --gateway-id/--instance/--network-interface/"
     "--vpc-peering-connection/--nat-gateway is required"),
    (["euca-create-route", "rtb-1", "-r", "0.0.0.0/0", "-g", "igw-1", "-i", "i-1"],
     "argument --instance: not allowed with argument --gateway-id"),
    (["euca-create-network-acl-entry", "acl-1", "-n", "1", "--allow", "-r", "0.0.0.0/0",
      "-P", "tcp"], "argument -p/--port-range is required for protocol tcp"),
    (["euca-create-network-acl-entry", "acl-1", "-n", "1", "--allow", "-r", "0.0.0.0/0",
      "-P", "icmp"], "argument -t/--icmp-type-code is required for protocol icmp"),
    (["euca-create-network-acl-entry", "acl-1", "-n", "1", "-r", "0.0.0.0/0"],
     "one of the arguments --allow/--deny is required"),
    (["euca-describe-vpc-attribute", "vpc-1"],
     "one of the arguments --dns-hostnames/--dns-support is required"),
    (["euca-modify-vpc-attribute", "-d", "true"], "a VPC ID is required (VPC or -c/--vpc)"),
    (["euca-modify-subnet-attribute", "subnet-1", "-m", "maybe"],
     "argument -m/--map-public-ip-on-launch: 'maybe' must be 'true' or 'false'"),
    (["euca-create-subnet", "10.0.0.0/24"], "Missing option '-c' / '--vpc'."),
    (["euca-modify-network-interface-attribute", "eni-1", "-a", "eni-attach-1"],
     "argument -a/--attachment needs --delete-on-termination"),
    (["euca-assign-private-ip-addresses", "-n", "eni-1"],
     "one of the arguments --secondary-address/--secondary-count is required"),
    (["euca-describe-vpcs", "--filter", "colour=blue"], "unrecognized filter name: 'colour'"),
]


@pytest.mark.parametrize("fast", [True, False], ids=["fastpath", "click"])
def test_usage_errors(euca, moto_ini: Path, fast: bool) -> None:  # type: ignore[no-untyped-def]
    """Bad command lines: one ``PROG: error: ...`` line (after click's usage line), exit 2,
    nothing sent."""
    env = {} if fast else {"EUCA2OOLS_NO_FASTPATH": "1"}
    for argv, message in USAGE_ERRORS:
        proc = euca(*argv, ini=moto_ini, env=env, check=False)
        assert proc.returncode == 2, (argv, proc.stderr)
        last = proc.stderr.splitlines()[-1]
        assert last.startswith(f"{argv[0]}: error: {message}"), (argv, proc.stderr)
        assert proc.stdout == ""


# One command of each group, against the cloud (EC2-Classic: no VPC actions).
ON_CLOUD = [
    ["euca-describe-vpcs"],
    ["euca-create-subnet", "10.0.1.0/24", "-c", "vpc-1"],
    ["euca-describe-internet-gateways"],
    ["euca-create-route", "rtb-1", "-r", "0.0.0.0/0", "-g", "igw-1"],
    ["euca-describe-network-interfaces"],
    ["euca-create-network-acl-entry", "acl-1", "-n", "1", "--allow", "-r", "0.0.0.0/0"],
    ["euca-create-dhcp-options", "domain-name=example.com"],
    ["euca-describe-nat-gateways"],
    ["euca-create-customer-gateway", "-t", "ipsec.1", "-i", "198.51.100.7"],
    ["euca-describe-vpn-connections"],
    ["euca-create-vpc-peering-connection", "-c", "vpc-1", "-p", "vpc-2"],
]


def test_vpc_commands_on_eucalyptus_cloud(euca, cloud_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """The cloud serves no VPC: each command gets one readable error line and exit 1."""
    from euca2ools.commands import all_commands

    actions = {c.name: c.action for c in all_commands()}
    for argv in ON_CLOUD:
        proc = euca(*argv, ini=cloud_ini, check=False)
        assert proc.returncode == 1 and proc.stdout == "", (argv, proc.stderr)
        assert proc.stderr == (f"{argv[0]}: error (InvalidAction): The action "
                               f"{actions[argv[0]]} is not valid for this web service.\n")


def test_fast_and_click_print_the_same(euca, moto_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """Byte-identical records from the fast path and the click path (moto always has its
    default VPC, with subnets, a main route table and a default network ACL)."""
    for args in (["euca-describe-vpcs"], ["euca-describe-subnets", "--show-empty-fields"],
                 ["euca-describe-route-tables"], ["euca-describe-network-acls"],
                 ["euca-describe-vpcs", "--show-empty-fields"]):
        fast = euca(*args, ini=moto_ini).stdout
        slow = euca(*args, ini=moto_ini, env={"EUCA2OOLS_NO_FASTPATH": "1"}).stdout
        assert fast == slow and fast, args
        check_records(fast.replace("(nil)", ""))
