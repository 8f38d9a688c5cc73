"""Security group commands: create, delete, describe, authorize, revoke."""

from __future__ import annotations

from ..decl import Arg, Command, Group
from ..output import print_group
from ..xmlparse import as_list
from .types import GROUP_FILTERS

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _group_param(inv: Invocation) -> None:
    """A name goes to GroupName, an ``sg-`` ID to GroupId."""
    group = inv.args["group"]
    inv.params["GroupId" if group.startswith("sg-") else "GroupName"] = group


def _prepare_describe(inv: Invocation) -> None:
    groups = inv.args.get("groups") or []
    names = [g for g in groups if not g.startswith("sg-")]
    ids = [g for g in groups if g.startswith("sg-")]
    if names:
        inv.params["GroupName"] = names
    if ids:
        inv.params["GroupId"] = ids


def _print_describe(inv: Invocation, result: Any) -> None:
    for group in as_list(result.get("securityGroupInfo")):
        print_group(inv, group)


def _port_range(proto: str, spec: str | None) -> tuple[int | None, int | None]:
    """``N``, ``N-M``, ``-1`` or a service name as (from, to)."""
    from ..exceptions import ArgumentError

    if spec is None:
        if proto in ("tcp", "udp", "6", "17"):
            raise ArgumentError("argument -p/--port-range is required for protocol " + proto)
        return None, None
    if ":" in spec:
        raise ArgumentError(f"argument -p/--port-range: '{spec}' is invalid; "
                            "use N-M for a range of ports (e.g. 8000-8080)")
    if spec == "-1":
        return 1, 65535
    low, sep, high = spec.partition("-")
    try:
        if low and not sep:
            return int(low), int(low)
        if low and sep:
            return int(low), int(high)
    except ValueError:
        pass
    import socket

    try:
        port = socket.getservbyname(spec, proto if proto in ("tcp", "udp") else "tcp")
    except OSError:
        raise ArgumentError(f"argument -p/--port-range: '{spec}' is not a port or range") from None
    return port, port


def _prepare_rule(inv: Invocation) -> None:
    """Build IpPermissions.1 from -P/-p/-t/-s/-o/-u."""
    from ..exceptions import ArgumentError

    a, p = inv.args, inv.params
    egress = bool(a.get("egress"))
    group = a["group"]
    if egress and not group.startswith("sg-"):
        raise ArgumentError("egress rules need a security group ID (sg-...)")
    p["GroupId" if group.startswith("sg-") else "GroupName"] = group
    proto = (a.get("protocol") or "tcp").lower()
    if proto == "all":
        proto = "-1"
    elif proto not in ("tcp", "udp", "icmp", "-1") and not proto.isdigit():
        import socket

        try:
            proto = str(socket.getprotobyname(proto))
        except OSError:
            raise ArgumentError(f"argument -P/--protocol: unknown protocol '{proto}'") from None
    perm: dict[str, Any] = {"IpProtocol": proto}
    if proto in ("icmp", "1"):
        code = a.get("icmp_type_code") or "-1:-1"
        icmp_type, _, icmp_code = code.partition(":")
        perm["FromPort"], perm["ToPort"] = icmp_type, icmp_code or "-1"
    elif proto != "-1":
        from_port, to_port = _port_range(proto, a.get("port_range"))
        perm["FromPort"], perm["ToPort"] = from_port, to_port
    if a.get("source_group"):
        src = a["source_group"]
        pair: dict[str, Any] = {}
        if src.startswith("sg-"):
            pair["GroupId"] = src
        else:
            if not a.get("source_group_user") and not egress:
                raise ArgumentError("argument -u is required when -o names a group by name")
            pair["GroupName"] = src
        if a.get("source_group_user"):
            pair["UserId"] = a["source_group_user"]
        perm["Groups"] = [pair]
    else:
        perm["IpRanges"] = [{"CidrIp": c} for c in (a.get("cidr") or ["0.0.0.0/0"])]
    p["IpPermissions"] = [perm]


def _print_rule(inv: Invocation, _result: Any) -> None:
    """GROUP, group; then the PERMISSION line as euca-authorize prints it."""
    p = inv.params
    perm = p["IpPermissions"][0]
    group = inv.args["group"]
    inv.emit("GROUP", group)
    fields: list[Any] = ["PERMISSION", group, "ALLOWS", perm["IpProtocol"],
                         perm.get("FromPort"), perm.get("ToPort")]
    for pair in perm.get("Groups", []):
        if pair.get("UserId"):
            fields += ["USER", pair["UserId"]]
        if pair.get("GroupName"):
            fields += ["NAME", pair["GroupName"]]
        if pair.get("GroupId"):
            fields += ["ID", pair["GroupId"]]
    for rng in perm.get("IpRanges", []):
        fields += ["FROM", "CIDR", rng["CidrIp"]]
    inv.emit(*fields)


def _rule_command(name: str, verb: str, summary: str) -> Command:
    return Command(
        name, "ec2", f"{verb}SecurityGroupIngress", summary,
        [
            Arg("GROUP", name="group", complete="group",
                help="name or ID of the security group to modify"),
            Arg("--egress", name="egress", flag=True,
                help="[VPC only] manage an egress rule, which controls traffic leaving the "
                "group"),
            Arg("-P", "--protocol", name="protocol", metavar="PROTOCOL",
                help="the protocol to affect (Non-VPC: tcp, udp, icmp) (VPC only: any protocol "
                "number or name, or \"all\") (default: tcp)"),
            Arg("-p", "--port-range", name="port_range", metavar="RANGE",
                help="range of ports (specified as \"from-to\") or a single port number "
                "(required for tcp and udp)"),
            Arg("-t", "--icmp-type-code", name="icmp_type_code", metavar="TYPE:CODE",
                help="ICMP type and code (specified as \"type:code\") (required for icmp)"),
            Group(
                Arg("-s", "--cidr", name="cidr", multiple=True, metavar="CIDR",
                    help="IP range (default: 0.0.0.0/0)"),
                Arg("-o", name="source_group", metavar="GROUP", complete="group",
                    help="[Non-VPC only] name of a security group with which to affect network "
                    "communication"),
            ),
            Arg("-u", name="source_group_user", metavar="ACCOUNT",
                help="ID of the account that owns the security group specified with -o"),
        ],
        prepare=_prepare_rule, output=_print_rule,
        run=None,
    )


def _run_rule(verb: str):  # type: ignore[no-untyped-def]
    def run(inv: Invocation) -> None:
        direction = "Egress" if inv.args.get("egress") else "Ingress"
        result = inv.call(f"{verb}SecurityGroup{direction}", inv.params)
        _print_rule(inv, result)
    return run


_AUTHORIZE = _rule_command("euca-authorize", "Authorize",
                           "Add a rule to a security group that allows traffic to pass")
_AUTHORIZE.run = _run_rule("Authorize")
_REVOKE = _rule_command("euca-revoke", "Revoke", "Remove a rule from a security group")
_REVOKE.run = _run_rule("Revoke")

_DESCRIBE_ARGS: list[Arg | Group] = [Arg("GROUP", name="groups", nargs="*", complete="group",
                      help="limit results to specific security groups")]

COMMANDS = [
    Command(
        "euca-create-group", "ec2", "CreateSecurityGroup", "Create a new security group",
        [Arg("GROUP", dest="GroupName", help="name of the new group"),
         Arg("-d", "--description", dest="GroupDescription", required=True, metavar="DESC",
             help="description of the new group"),
         Arg("-c", "--vpc", dest="VpcId", metavar="VPC",
             help="[VPC only] ID of the VPC to create the group in")],
        output=lambda inv, r: inv.emit("GROUP", r.get("groupId"), inv.args.get("GroupName"),
                                       inv.args.get("GroupDescription")),
    ),
    Command(
        "euca-delete-group", "ec2", "DeleteSecurityGroup", "Delete a security group",
        [Arg("GROUP", name="group", complete="group",
             help="name or ID of the security group to delete")],
        prepare=_group_param, output=lambda inv, r: inv.emit("RETURN", r.get("return")),
    ),
    Command("euca-describe-groups", "ec2", "DescribeSecurityGroups",
            "Show information about security groups", _DESCRIBE_ARGS,
            filters=GROUP_FILTERS, prepare=_prepare_describe, output=_print_describe),
    Command("euca-describe-group", "ec2", "DescribeSecurityGroups",
            "Show information about security groups", _DESCRIBE_ARGS,
            filters=GROUP_FILTERS, prepare=_prepare_describe, output=_print_describe),
    _AUTHORIZE,
    _REVOKE,
]
