"""Zones, regions, account attributes, instance types (Eucalyptus) and tags."""

from __future__ import annotations

from ..decl import Arg, Command
from ..output import resource_type
from ..xmlparse import as_list

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from ..runtime import Invocation


def _print_zones(inv: Invocation, result: Any) -> None:
    for zone in as_list(result.get("availabilityZoneInfo")):
        messages = [m.get("message") for m in as_list(zone.get("messageSet"))]
        inv.emit("AVAILABILITYZONE", zone.get("zoneName"), zone.get("zoneState"),
                 ", ".join(m for m in messages if m))


def _print_regions(inv: Invocation, result: Any) -> None:
    for region in as_list(result.get("regionInfo")):
        inv.emit("REGION", region.get("regionName"), region.get("regionEndpoint"))


def _print_account_attrs(inv: Invocation, result: Any) -> None:
    for attr in as_list(result.get("accountAttributeSet")):
        inv.emit("ACCOUNTATTRIBUTE", attr.get("attributeName"))
        for value in as_list(attr.get("attributeValueSet")):
            inv.emit("VALUE", value.get("attributeValue"))


def _type_rows(types: list[dict[str, Any]], capacity: bool, zone: str | None) -> list[list[str]]:
    """Table rows (header first) for euca-describe-instance-types."""
    header = ["Name", "CPUs", "Memory (MiB)", "Disk (GiB)", "NICs"]
    if capacity:
        header += ["Used / Total", "Used %"]
    rows = [header]
    for vmtype in types:
        row = [str(vmtype.get(k) or "") for k in ("name", "cpu", "memory", "disk",
                                                  "networkInterfaces")]
        if capacity:
            zones = as_list(vmtype.get("availability"))
            if zone is not None:
                zones = [z for z in zones if z.get("zoneName") == zone]
            total = sum(int(z.get("max") or 0) for z in zones)
            free = sum(int(z.get("available") or 0) for z in zones)
            used = total - free
            row += [f"{used:4d} / {total:4d}", f"{(100.0 * used / total) if total else 0:5.0f}%"]
        rows.append(row)
    return rows


def _emit_table(inv: Invocation, rows: list[list[str]]) -> None:
    """``INSTANCETYPE`` + TAB + a space-aligned row (euca2ools' non-TSV table)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                        strict=True)]
        inv.echo("INSTANCETYPE\t" + "  ".join(cells).rstrip())


def _run_instance_types(inv: Invocation) -> None:
    a, p = inv.args, inv.params
    capacity = bool(a.get("show_capacity") or a.get("by_zone"))
    if capacity:
        p["Availability"] = "true"
    types = as_list(inv.call("DescribeInstanceTypes", p).get("instanceTypeDetails"))
    if a.get("by_zone"):
        zones: list[str] = []
        for vmtype in types:
            for z in as_list(vmtype.get("availability")):
                if z.get("zoneName") not in zones:
                    zones.append(z.get("zoneName"))
        for zone in sorted(zones):
            inv.emit("AVAILABILITYZONE", zone)
            _emit_table(inv, _type_rows(types, True, zone))
            inv.echo("")
    else:
        _emit_table(inv, _type_rows(types, capacity, None))


def _print_modify_type(inv: Invocation, result: Any) -> None:
    vmtype = result.get("instanceType") if isinstance(result.get("instanceType"), dict) else None
    if vmtype is None:
        vmtype = {"name": inv.args.get("Name"), "cpu": inv.args.get("Cpu"),
                  "memory": inv.args.get("Memory"), "disk": inv.args.get("Disk"),
                  "networkInterfaces": inv.args.get("NetworkInterfaces")}
    inv.emit("INSTANCETYPE", vmtype.get("name"), vmtype.get("cpu"), vmtype.get("memory"),
             vmtype.get("disk"), vmtype.get("networkInterfaces"))


def _tags(specs: list[str], keep_missing: bool) -> list[dict[str, Any]]:
    """``KEY[=VALUE]`` as Tag entries; create-tags sends an empty value for a bare KEY."""
    from ..client import EMPTY

    out: list[dict[str, Any]] = []
    for spec in specs:
        key, sep, value = spec.partition("=")
        tag: dict[str, Any] = {"Key": key}
        if value:
            tag["Value"] = value
        elif sep or keep_missing:
            tag["Value"] = EMPTY
        out.append(tag)
    return out


def _print_create_tags(inv: Invocation, _result: Any) -> None:
    for resource in inv.args.get("ResourceId") or []:
        for spec in inv.args.get("tag") or []:
            key, _, value = spec.partition("=")
            inv.emit("TAG", resource_type(resource), resource, key, value)


def _print_tags(inv: Invocation, result: Any) -> None:
    for tag in as_list(result.get("tagSet")):
        inv.emit("TAG", tag.get("resourceType"), tag.get("resourceId"), tag.get("key"),
                 tag.get("value"))


_RESOURCES = Arg("RESOURCE", dest="ResourceId", nargs="+", complete="instance",
                 help="ID(s) of the resource(s) to tag")

COMMANDS = [
    Command(
        "euca-describe-availability-zones", "ec2", "DescribeAvailabilityZones",
        "Display availability zones within the current region",
        [Arg("ZONE", dest="ZoneName", nargs="*", complete="zone",
             help="limit results to specific availability zones (\"verbose\": [Eucalyptus only] "
             "show per-type capacity)")],
        filters=("message", "region-name", "state", "zone-name"), output=_print_zones,
    ),
    Command(
        "euca-describe-regions", "ec2", "DescribeRegions",
        "Display information about regions",
        [Arg("REGION", dest="RegionName", nargs="*", help="limit results to specific regions")],
        filters=("endpoint", "region-name"), output=_print_regions,
    ),
    Command(
        "euca-describe-account-attributes", "ec2", "DescribeAccountAttributes",
        "Show information about your account",
        [Arg("ATTRIBUTE", dest="AttributeName", nargs="*",
             help="limit results to specific account attributes")],
        output=_print_account_attrs,
    ),
    Command(
        "euca-describe-instance-types", "ec2", "DescribeInstanceTypes",
        "[Eucalyptus only] Show information about instance types",
        [
            Arg("INSTANCETYPE", dest="InstanceType", nargs="*", complete="instance-type",
                help="limit results to specific instance types"),
            Arg("--by-zone", name="by_zone", flag=True,
                help="show info for each availability zone separately (implies --show-capacity)"),
            Arg("--show-capacity", name="show_capacity", flag=True,
                help="show info about instance capacity"),
        ],
        run=_run_instance_types,
    ),
    Command(
        "euca-modify-instance-type", "ec2", "ModifyInstanceTypeAttribute",
        "[Eucalyptus cloud admin only] Modify an instance type",
        [
            Arg("INSTANCETYPE", dest="Name", complete="instance-type",
                help="name of the instance type to modify"),
            Arg("-c", "--cpus", dest="Cpu", metavar="COUNT", type=int,
                help="number of virtual CPUs to allocate to each instance"),
            Arg("-d", "--disk", dest="Disk", metavar="GiB", type=int,
                help="amount of instance storage to allow each instance"),
            Arg("-m", "--memory", dest="Memory", metavar="MiB", type=int,
                help="amount of RAM to allocate to each instance"),
            Arg("-i", "--network-interfaces", dest="NetworkInterfaces", metavar="COUNT", type=int,
                help="number of network interfaces to allow each instance"),
            Arg("--reset", dest="Reset", flag=True,
                help="reset the instance type to its default configuration"),
        ],
        output=_print_modify_type,
    ),
    Command(
        "euca-create-tags", "ec2", "CreateTags",
        "Add or overwrite tags for one or more resources",
        [_RESOURCES, Arg("--tag", name="tag", multiple=True, required=True, metavar="KEY[=VALUE]",
                         help="key and optional value of the tag to create, separated by an "
                         "\"=\" character (repeatable)")],
        prepare=lambda inv: inv.params.update(Tag=_tags(inv.args["tag"], True)),
        output=_print_create_tags,
    ),
    Command(
        "euca-delete-tags", "ec2", "DeleteTags",
        "Delete tags from one or more resources",
        [_RESOURCES, Arg("--tag", name="tag", multiple=True, required=True,
                         metavar="KEY[=[VALUE]]",
                         help="key and optional value of the tag to delete, separated by an "
                         "\"=\" character. If you specify a value then the tag is deleted only "
                         "if its value matches the one you specified. (repeatable)")],
        prepare=lambda inv: inv.params.update(Tag=_tags(inv.args["tag"], False)),
    ),
    Command(
        "euca-describe-tags", "ec2", "DescribeTags",
        "List tags associated with your account's resources",
        [],
        filters=("key", "resource-id", "resource-type", "value"), output=_print_tags,
    ),
]
