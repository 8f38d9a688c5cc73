"""Pure functions from EC2/S3 responses to table rows, capacity bars and state-change events."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text

from . import elbv2
from .cells import Cell, Row, as_list, short_time, styled, tags_of, to_int
from .cloud import CloudAPI

# -- instances --------------------------------------------------------------------------------
INSTANCE_COLUMNS = ("ID", "Name", "State", "Type", "Zone", "Node", "Public IP", "Private IP",
                    "Launched", "Key", "Groups")


def instances_of(response: dict[str, Any]) -> list[dict[str, Any]]:
    """All instances of a DescribeInstances response (reservation groups copied onto them)."""
    out = []
    for reservation in as_list(response.get("reservationSet")):
        groups = as_list(reservation.get("groupSet"))
        for inst in as_list(reservation.get("instancesSet")):
            if not as_list(inst.get("groupSet")) and groups:
                inst = {**inst, "groupSet": groups}
            out.append(inst)
    return out


def instance_state(inst: dict[str, Any]) -> str:
    """The state name of an instance."""
    state = inst.get("instanceState")
    return str(state.get("name", "")) if isinstance(state, dict) else ""


def instance_row(inst: dict[str, Any]) -> Row:
    """One row of the instances table."""
    placement: dict[str, Any] = inst["placement"] if isinstance(inst.get("placement"), dict) else {}
    groups = ",".join(g.get("groupName") or g.get("groupId", "") for g in as_list(inst.get("groupSet")))
    cells: tuple[Cell, ...] = (
        inst.get("instanceId", ""), tags_of(inst).get("Name", ""), styled(instance_state(inst)),
        inst.get("instanceType", ""), placement.get("availabilityZone", ""),
        placement.get("hostId", ""), inst.get("ipAddress", ""), inst.get("privateIpAddress", ""),
        short_time(inst.get("launchTime", "")), inst.get("keyName", ""), groups,
    )
    return str(inst.get("instanceId", "")), cells


def decode_console(response: dict[str, Any]) -> str:
    """The text of a GetConsoleOutput response (base64 on the wire)."""
    raw = response.get("output", "")
    if not isinstance(raw, str) or not raw:
        return "(no console output yet)"
    try:
        return base64.b64decode(raw).decode("utf-8", "replace")
    except ValueError:
        return raw


def flatten(value: Any, prefix: str = "") -> Iterable[tuple[str, str]]:
    """(dotted name, text) pairs of a nested response value, for the detail pane."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from flatten(sub, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for index, sub in enumerate(value, 1):
            yield from flatten(sub, f"{prefix}.{index}")
    elif value != "":
        yield prefix, str(value)


def instance_detail(inst: dict[str, Any], console: str | None) -> Text:
    """The detail pane of one instance: attributes, tags, block devices, console output."""
    text = Text()
    text.append(f"{inst.get('instanceId', '')}  ", style="bold")
    text.append_text(styled(instance_state(inst)))
    text.append("\n\nAttributes\n", style="bold underline")
    skip = ("tagSet", "blockDeviceMapping")
    for key, value in flatten({k: v for k, v in inst.items() if k not in skip}):
        text.append(f"  {key}: ", style="cyan")
        text.append(f"{value}\n")
    text.append("\nTags\n", style="bold underline")
    tags = tags_of(inst)
    for key in sorted(tags):
        text.append(f"  {key} = {tags[key]}\n")
    if not tags:
        text.append("  (none)\n", style="dim")
    text.append("\nBlock devices\n", style="bold underline")
    devices = as_list(inst.get("blockDeviceMapping"))
    for dev in devices:
        ebs = dev.get("ebs") if isinstance(dev.get("ebs"), dict) else {}
        text.append(f"  {dev.get('deviceName', '?')}  {ebs.get('volumeId', dev.get('virtualName', ''))}"
                    f"  {ebs.get('status', '')}\n")
    if not devices:
        text.append(f"  root {inst.get('rootDeviceName', '?')} ({inst.get('rootDeviceType', '?')})\n",
                    style="dim")
    text.append("\nConsole output\n", style="bold underline")
    # '' or None: the call for it is still on its way.
    text.append(console or "(loading...)", style="" if console else "dim")
    return text


# -- capacity ---------------------------------------------------------------------------------
ZONE_COLUMNS = ("Zone", "State", "Nodes", "Cores", "Memory (MiB)", "Disk (GiB)", "Power")
VMTYPE_COLUMNS = ("Zone", "VM type", "Free", "Max", "CPU", "RAM", "Disk")
NODE_COLUMNS = ("Node", "Zone", "State", "Power", "Cores", "Memory (MiB)", "Disk (GiB)",
                "Hypervisor", "Instances")


def bar(used: int, total: int, width: int = 10) -> Text:
    """``used`` of ``total`` as a coloured bar with the figures after it."""
    ratio = used / total if total > 0 else 0.0
    filled = min(width, round(ratio * width))
    colour = "green" if ratio < 0.6 else "yellow" if ratio < 0.85 else "red"
    text = Text("█" * filled, style=colour)
    text.append("░" * (width - filled), style="grey37")
    text.append(f" {used}/{total}")
    return text


def parse_zones(response: dict[str, Any]) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """Zones and per-zone VM-type rows of ``DescribeAvailabilityZones verbose``."""
    zones: list[dict[str, str]] = []
    vmtypes: list[dict[str, Any]] = []
    for item in as_list(response.get("availabilityZoneInfo")):
        name = str(item.get("zoneName", ""))
        state = str(item.get("zoneState", ""))
        if not name.startswith("|-"):
            zones.append({"name": name, "state": state, "region": str(item.get("regionName", ""))})
            continue
        vm = name[2:].strip()
        fields = state.replace("/", " ").split()
        # "|- vm types" is the column header row; AWS never sends these rows at all.
        if vm == "vm types" or len(fields) < 5 or not zones:
            continue
        vmtypes.append({"zone": zones[-1]["name"], "type": vm, "free": to_int(fields[0]),
                        "max": to_int(fields[1]), "cpu": fields[2], "ram": fields[3],
                        "disk": fields[4]})
    return zones, vmtypes


def zone_rows(zones: list[dict[str, str]], nodes: list[dict[str, Any]] | None) -> list[Row]:
    """Per-zone totals; the bars need the admin's node view."""
    rows: list[Row] = []
    for zone in zones:
        mine = [n for n in nodes or [] if n.get("zoneName") == zone["name"]]
        state = zone["state"] if zone["state"] in ("available", "") else "available"
        if nodes is None:
            rows.append((zone["name"], (zone["name"], styled(state), "", "", "", "", "")))
            continue
        up = sum(1 for n in mine if n.get("state") == "UP")
        on = sum(1 for n in mine if n.get("powerState") == "on")
        cells: tuple[Cell, ...] = (
            zone["name"], styled(state), f"{up}/{len(mine)} up",
            bar(sum(to_int(n.get("coresUsed")) for n in mine), sum(to_int(n.get("coresTotal")) for n in mine)),
            bar(sum(to_int(n.get("memoryUsed")) for n in mine), sum(to_int(n.get("memoryTotal")) for n in mine)),
            bar(sum(to_int(n.get("diskUsed")) for n in mine), sum(to_int(n.get("diskTotal")) for n in mine)),
            f"{on} on / {len(mine) - on} off",
        )
        rows.append((zone["name"], cells))
    return rows


def vmtype_rows(vmtypes: list[dict[str, Any]]) -> list[Row]:
    """Free/max per VM type and zone, as ``describe-availability-zones verbose`` reports."""
    rows: list[Row] = []
    for vm in vmtypes:
        free = Text(f"{vm['free']:04d}", style="red" if vm["free"] == 0 and vm["max"] else "")
        rows.append((f"{vm['zone']}/{vm['type']}",
                     (vm["zone"], vm["type"], free, f"{vm['max']:04d}", vm["cpu"], vm["ram"], vm["disk"])))
    return rows


def node_rows(nodes: list[dict[str, Any]]) -> list[Row]:
    """Per-node usage bars (Eucalyptus DescribeNodes, cloud admin only)."""
    rows: list[Row] = []
    for node in nodes:
        cells: tuple[Cell, ...] = (
            node.get("name", ""), node.get("zoneName", ""), styled(str(node.get("state", ""))),
            styled(str(node.get("powerState", ""))),
            bar(to_int(node.get("coresUsed")), to_int(node.get("coresTotal")), 6),
            bar(to_int(node.get("memoryUsed")), to_int(node.get("memoryTotal")), 6),
            bar(to_int(node.get("diskUsed")), to_int(node.get("diskTotal")), 6),
            node.get("hypervisor", ""), str(len(as_list(node.get("instances")))),
        )
        rows.append((str(node.get("name", "")), cells))
    return rows


# -- other resources --------------------------------------------------------------------------
IMAGE_COLUMNS = ("ID", "Name", "State", "Owner", "Visibility", "Arch", "Type", "Root", "Location")
KEY_COLUMNS = ("Name", "Fingerprint")
GROUP_COLUMNS = ("ID", "Name", "Description", "Owner", "Rules")
ADDRESS_COLUMNS = ("Public IP", "Allocation", "Instance", "Private IP", "Domain")
VOLUME_COLUMNS = ("ID", "Name", "Size (GiB)", "State", "Zone", "Snapshot", "Attached to", "Created")
SNAPSHOT_COLUMNS = ("ID", "Volume", "State", "Progress", "Size (GiB)", "Started", "Description")
BUCKET_COLUMNS = ("Name", "Created")
EVENT_COLUMNS = ("Time", "Resource", "Event")


def image_rows(response: dict[str, Any]) -> list[Row]:
    """Rows of DescribeImages."""
    return [(str(i.get("imageId", "")), (
        i.get("imageId", ""), i.get("name", ""), styled(str(i.get("imageState", ""))),
        i.get("imageOwnerId", ""), "public" if i.get("isPublic") == "true" else "private",
        i.get("architecture", ""), i.get("imageType", ""), i.get("rootDeviceType", ""),
        i.get("imageLocation", ""))) for i in as_list(response.get("imagesSet"))]


def key_rows(response: dict[str, Any]) -> list[Row]:
    """Rows of DescribeKeyPairs."""
    return [(str(k.get("keyName", "")), (k.get("keyName", ""), k.get("keyFingerprint", "")))
            for k in as_list(response.get("keySet"))]


def rule_text(perm: dict[str, Any]) -> str:
    """One ingress rule as ``tcp 22 from 0.0.0.0/0``."""
    proto = perm.get("ipProtocol", "")
    lo, hi = perm.get("fromPort", ""), perm.get("toPort", "")
    ports = "" if proto in ("-1", "icmp") and lo in ("-1", "") else (lo if lo == hi else f"{lo}-{hi}")
    sources = [r.get("cidrIp", "") for r in as_list(perm.get("ipRanges"))]
    sources += [g.get("groupName") or g.get("groupId", "") for g in as_list(perm.get("groups"))]
    name = "all" if proto == "-1" else proto
    return f"{name} {ports} from {','.join(sources) or '?'}".replace("  ", " ")


def group_rows(response: dict[str, Any]) -> list[Row]:
    """Rows of DescribeSecurityGroups, with their ingress rules summarised."""
    return [(str(g.get("groupId") or g.get("groupName", "")), (
        g.get("groupId", ""), g.get("groupName", ""), g.get("groupDescription", ""),
        g.get("ownerId", ""), "; ".join(rule_text(p) for p in as_list(g.get("ipPermissions")))))
        for g in as_list(response.get("securityGroupInfo"))]


def address_rows(response: dict[str, Any]) -> list[Row]:
    """Rows of DescribeAddresses."""
    return [(str(a.get("publicIp", "")), (
        a.get("publicIp", ""), a.get("allocationId", ""), a.get("instanceId", ""),
        a.get("privateIpAddress", ""), a.get("domain", "")))
        for a in as_list(response.get("addressesSet"))]


def volume_rows(response: dict[str, Any]) -> list[Row]:
    """Rows of DescribeVolumes."""
    rows: list[Row] = []
    for v in as_list(response.get("volumeSet")):
        attached = ",".join(a.get("instanceId", "") for a in as_list(v.get("attachmentSet")))
        rows.append((str(v.get("volumeId", "")), (
            v.get("volumeId", ""), tags_of(v).get("Name", ""), v.get("size", ""),
            styled(str(v.get("status", ""))), v.get("availabilityZone", ""), v.get("snapshotId", ""),
            attached, short_time(str(v.get("createTime", ""))))))
    return rows


def snapshot_rows(response: dict[str, Any]) -> list[Row]:
    """Rows of DescribeSnapshots."""
    return [(str(s.get("snapshotId", "")), (
        s.get("snapshotId", ""), s.get("volumeId", ""), styled(str(s.get("status", ""))),
        s.get("progress", ""), s.get("volumeSize", ""), short_time(str(s.get("startTime", ""))),
        s.get("description", ""))) for s in as_list(response.get("snapshotSet"))]


def bucket_rows(buckets: list[dict[str, str]]) -> list[Row]:
    """Rows of S3 ListBuckets."""
    return [(b["name"], (b["name"], short_time(b.get("created", "")))) for b in buckets]


# -- CloudWatch --------------------------------------------------------------------------------
ALARM_COLUMNS = ("Name", "Metric", "State", "Threshold", "Last change", "Reason")

COMPARISON_SIGNS = {
    "GreaterThanOrEqualToThreshold": ">=", "GreaterThanThreshold": ">",
    "LessThanThreshold": "<", "LessThanOrEqualToThreshold": "<=",
}


def dimensions_text(dimensions: Any) -> str:
    """``InstanceId=i-1,...`` of a metric's dimension list."""
    return ",".join(f"{d.get('Name', '')}={d.get('Value', '')}" for d in as_list(dimensions))


def alarm_rows(alarms: list[dict[str, Any]]) -> list[Row]:
    """Rows of DescribeAlarms: the metric with its dimensions, the state in its colour."""
    rows: list[Row] = []
    for a in alarms:
        dims = dimensions_text(a.get("Dimensions"))
        metric = f"{a.get('Namespace', '')} {a.get('MetricName', '')}" + (f" [{dims}]" if dims else "")
        sign = COMPARISON_SIGNS.get(str(a.get("ComparisonOperator", "")), a.get("ComparisonOperator", ""))
        threshold = f"{a.get('Statistic', '')} {sign} {a.get('Threshold', '')}".strip()
        rows.append((str(a.get("AlarmName", "")), (
            a.get("AlarmName", ""), metric, styled(str(a.get("StateValue", ""))), threshold,
            short_time(str(a.get("StateUpdatedTimestamp", ""))), a.get("StateReason", ""))))
    return rows


# The sparkline covers this much, in periods of this many seconds.
METRICS_SPAN = timedelta(hours=1)
METRICS_PERIOD = 60


def cpu_request(instance_id: str, end: datetime) -> dict[str, Any]:
    """GetMetricStatistics parameters: an instance's average CPU over the hour before ``end``."""
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
            "Dimensions": {"member": [{"Name": "InstanceId", "Value": instance_id}]},
            "StartTime": (end - METRICS_SPAN).strftime(stamp), "EndTime": end.strftime(stamp),
            "Period": METRICS_PERIOD, "Statistics": {"member": ["Average"]}}


def cpu_points(response: dict[str, Any]) -> list[float]:
    """Average CPUUtilization of a GetMetricStatistics answer, oldest first."""
    points = sorted(as_list(response.get("Datapoints")), key=lambda p: str(p.get("Timestamp", "")))
    out: list[float] = []
    for point in points:
        try:
            out.append(float(point.get("Average", "")))
        except (TypeError, ValueError):
            continue
    return out


# -- Auto Scaling ------------------------------------------------------------------------------
SCALING_GROUP_COLUMNS = ("Name", "Desired", "Min", "Max", "In service", "Zones", "Launch config")
ACTIVITY_COLUMNS = ("Start", "Status", "Description", "Cause")
# Activities asked for per refresh, newest first (every group's, the view shows the selected one's).
ACTIVITY_RECORDS = 100


def scaling_group_rows(groups: list[dict[str, Any]]) -> list[Row]:
    """Rows of DescribeAutoScalingGroups: sizes and the members in service."""
    rows: list[Row] = []
    for g in groups:
        members = as_list(g.get("Instances"))
        in_service = sum(1 for m in members if m.get("LifecycleState") == "InService")
        desired = to_int(g.get("DesiredCapacity"))
        shown = Text(str(in_service), style="green" if in_service == desired else "yellow")
        source = g.get("LaunchConfigurationName") or (
            g["LaunchTemplate"].get("LaunchTemplateName", "") if isinstance(g.get("LaunchTemplate"), dict) else "")
        rows.append((str(g.get("AutoScalingGroupName", "")), (
            g.get("AutoScalingGroupName", ""), str(desired), str(g.get("MinSize", "")),
            str(g.get("MaxSize", "")), shown, ",".join(str(z) for z in as_list(g.get("AvailabilityZones"))),
            source)))
    return rows


def activity_rows(activities: list[dict[str, Any]], group: str | None) -> list[Row]:
    """The activities of one group, newest first, as DescribeScalingActivities orders them."""
    return [(str(a.get("ActivityId", "")), (
        short_time(str(a.get("StartTime", ""))), styled(str(a.get("StatusCode", ""))),
        a.get("Description", ""), a.get("Cause", "")))
        for a in activities if a.get("AutoScalingGroupName") == group]


# -- Elastic Load Balancing --------------------------------------------------------------------
# Type (classic, application, network) and State (elbv2 balancers have one) by the name.
LOAD_BALANCER_COLUMNS = ("Name", "Type", "State", "DNS name", "Scheme", "Zones", "Listeners",
                         "In service", "Created")
#: Index of the In service column of LOAD_BALANCER_COLUMNS.
IN_SERVICE = LOAD_BALANCER_COLUMNS.index("In service")
LISTENER_COLUMNS = ("Protocol", "Port", "Instance protocol", "Instance port", "Policies",
                    "Certificate")
LB_INSTANCE_COLUMNS = ("Instance", "State", "Reason", "Description")


def listener_text(desc: dict[str, Any]) -> str:
    """``HTTP:80->HTTP:8080`` for one ListenerDescription."""
    raw = desc.get("Listener")
    lsn: dict[str, Any] = raw if isinstance(raw, dict) else {}
    front = f"{lsn.get('Protocol', '')}:{lsn.get('LoadBalancerPort', '')}"
    back = f"{lsn.get('InstanceProtocol') or lsn.get('Protocol', '')}:{lsn.get('InstancePort', '')}"
    return f"{front}->{back}"


def load_balancer_rows(balancers: list[dict[str, Any]],
                       health: dict[str, list[dict[str, Any]] | str]) -> list[Row]:
    """Rows of DescribeLoadBalancers, with how many registered instances are InService
    (green when all are, red when none is, yellow in between)."""
    rows: list[Row] = []
    for lb in balancers:
        name = str(lb.get("LoadBalancerName", ""))
        states = health.get(name)
        if isinstance(states, list):
            up = sum(1 for st in states if st.get("State") == "InService")
            total = len(states)
            style = "green" if up == total else "bold red" if up == 0 else "yellow"
            shown: Cell = Text(f"{up}/{total}", style=style if total else "dim")
        else:
            shown = Text("?", style="dim")
        listeners = ",".join(listener_text(d) for d in as_list(lb.get("ListenerDescriptions"))
                             if isinstance(d, dict))
        rows.append((name, (name, "classic", "", str(lb.get("DNSName", "")), str(lb.get("Scheme", "")),
                            ",".join(str(z) for z in as_list(lb.get("AvailabilityZones"))),
                            listeners, shown, short_time(str(lb.get("CreatedTime", ""))))))
    return rows


def listener_rows(balancer: dict[str, Any] | None) -> list[Row]:
    """The listeners of one balancer, by front end port."""
    rows: list[Row] = []
    for desc in as_list((balancer or {}).get("ListenerDescriptions")):
        lsn = desc.get("Listener") if isinstance(desc, dict) else None
        if not isinstance(lsn, dict):
            continue
        port = str(lsn.get("LoadBalancerPort", ""))
        rows.append((port, (str(lsn.get("Protocol", "")), port,
                            str(lsn.get("InstanceProtocol") or lsn.get("Protocol", "")),
                            str(lsn.get("InstancePort", "")),
                            ",".join(str(p) for p in as_list(desc.get("PolicyNames"))),
                            str(lsn.get("SSLCertificateId", "")))))
    return rows


def lb_instance_rows(states: list[dict[str, Any]] | str | None) -> list[Row]:
    """DescribeInstanceHealth of one balancer: InService green, OutOfService red."""
    if not isinstance(states, list):
        return []
    return [(str(st.get("InstanceId", "")), (
        str(st.get("InstanceId", "")), styled(str(st.get("State", ""))),
        "" if st.get("ReasonCode") in (None, "N/A") else str(st.get("ReasonCode")),
        "" if st.get("Description") in (None, "N/A") else str(st.get("Description"))))
        for st in states]


# -- datasets: what one refresh fetches for a view ---------------------------------------------
@dataclass(frozen=True)
class Dataset:
    """A named fetch (run in a worker thread) and the tables its answer fills."""

    name: str
    fetch: Callable[[CloudAPI], Any]
    tables: Callable[[Any], dict[str, list[Row]]]


def _fetch_capacity(cloud: CloudAPI) -> dict[str, Any]:
    from .cloud import ServiceConnectionError, ServiceError

    # "verbose" is a Eucalyptus extension; elsewhere it is an unknown zone name (an error, or
    # no zones at all), so AWS is asked plainly and an empty verbose answer is asked again.
    zones: dict[str, Any] = {}
    if not getattr(cloud, "is_aws", False):
        try:
            zones = cloud.call("DescribeAvailabilityZones", {"ZoneName": ["verbose"]})
        except ServiceError:
            zones = {}
    if not as_list(zones.get("availabilityZoneInfo")):
        zones = cloud.call("DescribeAvailabilityZones")
    try:
        nodes: list[dict[str, Any]] | None = as_list(cloud.call("DescribeNodes").get("nodeSet"))
        node_error = ""
    except ServiceError as err:
        # Only the cloud admin may list nodes, and AWS has no such action: not an alarm.
        nodes, node_error = None, err.message
    except ServiceConnectionError:
        raise
    except Exception as err:  # noqa: BLE001 - the extension failing only hides the node table
        nodes, node_error = None, f"{type(err).__name__}: {err}"
    return {"zones": zones, "nodes": nodes, "node_error": node_error}


def _capacity_tables(raw: dict[str, Any]) -> dict[str, list[Row]]:
    zones, vmtypes = parse_zones(raw["zones"])
    return {"zones": zone_rows(zones, raw["nodes"]), "vmtypes": vmtype_rows(vmtypes),
            "nodes": node_rows(raw["nodes"] or [])}


# Instances are fetched in pages: parsing one response holds the GIL for its whole length, and
# 2,000 instances in one document would stall the UI thread for a noticeable moment.
INSTANCE_PAGE = 500


def _fetch_instances(cloud: CloudAPI) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    params: dict[str, Any] = {"MaxResults": INSTANCE_PAGE}
    for _ in range(1000):  # a server repeating its token must not loop forever
        response = cloud.call("DescribeInstances", params)
        out += instances_of(response)
        token = response.get("nextToken") if isinstance(response, dict) else None
        if not token:
            break
        params = {"MaxResults": INSTANCE_PAGE, "NextToken": token}
    return out


def _fetch_images(cloud: CloudAPI) -> Any:
    # AWS lists every public AMI in the region (hundreds of thousands): ask for our own there.
    return cloud.call("DescribeImages", {"Owner": ["self"]} if getattr(cloud, "is_aws", False) else {})


def _paged(cloud: CloudAPI, service: str, action: str, key: str,
           params: dict[str, Any] | None = None, pages: int = 100) -> list[dict[str, Any]]:
    """Every item under ``key`` of a NextToken-paged query action (at most ``pages`` pages)."""
    out: list[dict[str, Any]] = []
    params = dict(params or {})
    for _ in range(pages):  # a server repeating its token must not loop forever
        response = cloud.call_service(service, action, params)
        out += as_list(response.get(key)) if isinstance(response, dict) else []
        token = response.get("NextToken") if isinstance(response, dict) else None
        if not token:
            break
        params["NextToken"] = token
    return out


def _fetch_scaling(cloud: CloudAPI) -> dict[str, Any]:
    groups = _paged(cloud, "autoscaling", "DescribeAutoScalingGroups", "AutoScalingGroups")
    # One call for every group's recent activities rather than one per group each refresh.
    activities = _paged(cloud, "autoscaling", "DescribeScalingActivities", "Activities",
                        {"MaxRecords": ACTIVITY_RECORDS}, pages=1) if groups else []
    return {"groups": groups, "activities": activities}


def _fetch_load_balancers(cloud: CloudAPI) -> dict[str, Any]:
    from .cloud import ServiceError, is_unsupported

    balancers: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    for _ in range(100):  # a server repeating its marker must not loop forever
        response = cloud.call_service("elasticloadbalancing", "DescribeLoadBalancers", params)
        balancers += [lb for lb in as_list(response.get("LoadBalancerDescriptions"))
                      if isinstance(lb, dict)]
        marker = response.get("NextMarker")
        if not marker:
            break
        params = {"Marker": marker}
    # Balancer name -> its instances' health, or why it could not be read (the balancer may
    # have gone between the two calls).
    health: dict[str, list[dict[str, Any]] | str] = {}
    for lb in balancers:
        name = str(lb.get("LoadBalancerName", ""))
        try:
            answer = cloud.call_service("elasticloadbalancing", "DescribeInstanceHealth",
                                        {"LoadBalancerName": name})
            health[name] = [st for st in as_list(answer.get("InstanceStates"))
                            if isinstance(st, dict)]
        except ServiceError as err:
            health[name] = f"{err.message} ({err.code})"
    # Application and network balancers: one page, and each one's listeners.  A cloud (or
    # account) without them still shows its classic balancers.
    v2_error = ""
    try:
        v2, v2_listeners, v2_more = elbv2.fetch_balancers(cloud)
    except ServiceError as err:
        v2, v2_listeners, v2_more = [], {}, False
        v2_error = "" if is_unsupported(err) else f"{err.message} ({err.code})"
    return {"balancers": balancers, "health": health, "v2": v2, "v2_listeners": v2_listeners,
            "v2_more": v2_more, "v2_error": v2_error}


def _load_balancer_tables(raw: dict[str, Any]) -> dict[str, list[Row]]:

    return {"loadbalancers": load_balancer_rows(raw["balancers"], raw["health"])
            + elbv2.balancer_rows(raw.get("v2", []), raw.get("v2_listeners", {}))}


def _simple(action: str, rows: Callable[[Any], list[Row]], table: str) -> Dataset:
    return Dataset(table, lambda cloud: cloud.call(action), lambda raw: {table: rows(raw)})


# -- services (the Empyrean registry; cloud admin only) ----------------------------------------
SERVICE_COLUMNS = ("Type", "Zone", "Name", "Host", "State")
SERVICE_EVENT_COLUMNS = ("Time", "Severity", "Service", "Message")
#: Service events shown (the newest).
SERVICE_EVENTS = 200


def service_rows(services: list[dict[str, Any]]) -> list[Row]:
    """Rows of DescribeServices by type then name, the state in its colour."""
    rows: list[Row] = []
    for s in services:
        sid: dict[str, Any] = s["serviceId"] if isinstance(s.get("serviceId"), dict) else {}
        rows.append((str(sid.get("name", "")), (
            sid.get("type", ""), sid.get("partition", ""), sid.get("name", ""), sid.get("host", ""),
            styled(str(s.get("localState", ""))))))
    return sorted(rows, key=lambda r: (str(r[1][0]), r[0]))


def service_event_rows(events: list[dict[str, Any]]) -> list[Row]:
    """Rows of DescribeEvents, newest first."""
    rows: list[Row] = [(str(e.get("id", "")), (
        short_time(str(e.get("timestamp", ""))), styled(str(e.get("severity", ""))),
        e.get("serviceName", ""), e.get("message", ""))) for e in events]
    return rows[::-1]


def _fetch_services(cloud: CloudAPI) -> dict[str, Any]:
    from .cloud import ServiceError, is_unsupported

    try:
        services = as_list(cloud.call_service("bootstrap", "DescribeServices", {})
                           .get("serviceStatuses"))
        events = as_list(cloud.call_service("bootstrap", "DescribeEvents",
                                            {"MaxRecords": SERVICE_EVENTS}).get("events"))
    except ServiceError as err:
        if is_unsupported(err):
            raise
        # Only the cloud admin may list services: a note, not an alarm.
        return {"services": [], "events": [], "error": f"{err.message} ({err.code})"}
    return {"services": services, "events": events, "error": ""}


DATASETS: dict[str, Dataset] = {
    "instances": Dataset("instances", lambda cloud: _fetch_instances(cloud),
                         lambda raw: {"instances": [instance_row(i) for i in raw]}),
    "capacity": Dataset("capacity", _fetch_capacity, _capacity_tables),
    "images": Dataset("images", _fetch_images, lambda raw: {"images": image_rows(raw)}),
    "keys": _simple("DescribeKeyPairs", key_rows, "keys"),
    "groups": _simple("DescribeSecurityGroups", group_rows, "groups"),
    "addresses": _simple("DescribeAddresses", address_rows, "addresses"),
    "volumes": _simple("DescribeVolumes", volume_rows, "volumes"),
    "snapshots": _simple("DescribeSnapshots", snapshot_rows, "snapshots"),
    "buckets": Dataset("buckets", lambda cloud: cloud.list_buckets(),
                       lambda raw: {"buckets": bucket_rows(raw)}),
    "alarms": Dataset("alarms", lambda cloud: _paged(cloud, "monitoring", "DescribeAlarms", "MetricAlarms"),
                      lambda raw: {"alarms": alarm_rows(raw)}),
    "services": Dataset("services", _fetch_services,
                        lambda raw: {"services": service_rows(raw["services"]),
                                     "service-events": service_event_rows(raw["events"])}),
    # The activities table follows the selected group: the view fills it, not the refresh.
    "scaling": Dataset("scaling", _fetch_scaling,
                       lambda raw: {"scaling": scaling_group_rows(raw["groups"])}),
    # The listeners and instances tables follow the selected balancer: the view fills them.
    "loadbalancers": Dataset("loadbalancers", _fetch_load_balancers, _load_balancer_tables),
}


def state_changes(before: dict[str, str] | None, after: dict[str, str]) -> list[tuple[str, str]]:
    """(resource, event) pairs between two {id: state} maps; None means "first look"."""
    if before is None:
        return []
    events = []
    for key, state in after.items():
        old = before.get(key)
        if old is None:
            events.append((key, f"appeared ({state})"))
        elif old != state:
            events.append((key, f"{old} -> {state}"))
    events += [(key, "gone") for key in before if key not in after]
    return events
