"""Regions, zones (with the ``verbose`` capacity view), VM types, account attributes, nodes.

``DescribeNodes`` is this cloud's Eucalyptus-extension action for the per-node view
that ``euserv-describe-node-controllers`` shows (cloud admin only); ``MigrateInstances``
is Eucalyptus' admin-only live migration.
"""

from __future__ import annotations

from typing import Any

from server import errors
from server.auth.authz import action, each_param
from server.clc.filters import Filters, page
from server.protocol.query import Context


def describe_regions(ctx: Context) -> Any:
    """DescribeRegions: this cloud is one region."""
    region = ctx.cloud.config.cloud["region"]
    names = ctx.params.strings("RegionName")
    if names and region not in names:
        raise errors.AWSError(f"The region '{names[0]}' does not exist", code="InvalidParameterValue")
    endpoint = ctx.cloud.service_url("ec2", secure=ctx.secure_transport)
    rows = [{"regionName": region, "regionEndpoint": endpoint,
             "optInStatus": "opt-in-not-required"}]
    filt = ctx.params.filters()
    if filt:
        rows = Filters({"region-name": lambda r: r["regionName"],
                        "endpoint": lambda r: r["regionEndpoint"],
                        "opt-in-status": lambda r: r["optInStatus"]},
                       lambda r: {}).apply(rows, filt)
    return {"regionInfo": rows}


def _cluster_service(ctx: Context, zone: str, clc_host: str) -> str:
    """``HOST ARN`` of the zone's CC as the service registry knows it (a registered CC
    has its own host and name), else the in-process CC's."""
    registry = ctx.cloud.components.get("service_registry")
    if registry is not None:
        found = registry.describe(filters={"service-type": ["cluster"], "partition": [zone]})
        if found:
            return f"{found[0].host} {found[0].full_name}"
    return f"{clc_host} arn:euca:eucalyptus:{zone}:cluster:{zone}-cc/"


def describe_availability_zones(ctx: Context) -> Any:
    """DescribeAvailabilityZones; the zone name ``verbose`` adds free/max per VM type."""
    clc = ctx.cloud.clc
    region = clc.config.cloud["region"]
    names = ctx.params.strings("ZoneName")
    verbose = "verbose" in names
    names = [n for n in names if n != "verbose"]
    for n in names:
        if n not in clc.clusters:
            raise errors.InvalidParameterValue(f"The zone '{n}' does not exist")
    zones = [z for z in clc.clusters if not names or z in names]
    rows: list[dict[str, Any]] = []
    host = clc.config.host_port[0]
    for zone in zones:
        cc = clc.clusters[zone]
        # A zone whose CC does not answer (in another process) or that the administrator
        # disabled is "unavailable", as in EC2.
        state = "available" if cc.available else "unavailable"
        rows.append({"zoneName": zone, "zoneState": state, "regionName": region,
                     "messageSet": [], "zoneId": zone, "zoneType": "availability-zone"})
        if not verbose:
            continue
        rows[-1]["zoneState"] = _cluster_service(ctx, zone, host)
        free_max = cc.describe_resources()
        rows.append({"zoneName": "|- vm types", "zoneState": "free / max   cpu   ram  disk",
                     "regionName": region, "messageSet": []})
        for vt in clc.sorted_vm_types():
            free, most = free_max.get(vt.id, (0, 0))
            rows.append({"zoneName": f"|- {vt.id}",
                         "zoneState": f"{free:04d} / {most:04d}  {vt.cpu:2d}   {vt.memory:4d}  "
                                      f"{vt.disk:4d}",
                         "regionName": region, "messageSet": []})
    filt = ctx.params.filters()
    if filt:
        rows = Filters({"zone-name": lambda r: r["zoneName"], "state": lambda r: r["zoneState"],
                        "region-name": lambda r: r["regionName"], "message": lambda r: None,
                        "zone-id": lambda r: r.get("zoneId"),
                        "zone-type": lambda r: r.get("zoneType"),
                        "group-name": lambda r: r["regionName"],
                        "opt-in-status": lambda r: "opt-in-not-required",
                        "parent-zone-id": lambda r: None, "parent-zone-name": lambda r: None},
                       lambda r: {}).apply(rows, filt)
    return {"availabilityZoneInfo": rows}


def describe_instance_types(ctx: Context) -> Any:
    """DescribeInstanceTypes in AWS's shape, plus Eucalyptus' capacity details when asked."""
    clc = ctx.cloud.clc
    p = ctx.params
    wanted = p.strings("InstanceType") or p.strings("InstanceTypes")
    types = clc.sorted_vm_types()
    unknown = [w for w in wanted if w not in clc.vm_types]
    if unknown:
        raise errors.AWSError(f"The following supplied instance types do not exist: "
                              f"[{', '.join(unknown)}]", code="InvalidInstanceType")
    if wanted:
        types = [t for t in types if t.id in wanted]
    filt = p.filters()
    if filt:
        types = Filters({
            "instance-type": lambda t: t.id, "vcpu-info.default-vcpus": lambda t: str(t.cpu),
            "memory-info.size-in-mib": lambda t: str(t.memory),
            "instance-storage-info.total-size-in-gb": lambda t: str(t.disk),
            "current-generation": lambda t: "true",
            # as DescribeInstanceTypes' instanceTypeSet shows every type
            "auto-recovery-supported": lambda t: False, "bare-metal": lambda t: False,
            "burstable-performance-supported": lambda t: False,
            "free-tier-eligible": lambda t: False, "hibernation-supported": lambda t: False,
            "hypervisor": lambda t: "xen", "instance-storage-supported": lambda t: True,
            "processor-info.supported-architecture": lambda t: ["i386", "x86_64"],
            "supported-root-device-type": lambda t: ["ebs", "instance-store"],
            "supported-usage-class": lambda t: ["on-demand"],
            "supported-virtualization-type": lambda t: ["paravirtual", "hvm"],
        }, lambda t: {}).apply(types, filt)
    types, token = page(types, p, low=5, high=100)
    show = p.bool("Availability", False) or p.bool("Verbose", False)
    capacity = {z: cc.describe_resources() for z, cc in clc.clusters.items()} if show else {}
    details = []
    for t in types:
        item: dict[str, Any] = {"name": t.id, "cpu": t.cpu, "disk": t.disk, "memory": t.memory,
                                "networkInterfaces": t.network_interfaces}
        if show:
            item["availability"] = [
                {"zoneName": z, "max": cap.get(t.id, (0, 0))[1],
                 "available": cap.get(t.id, (0, 0))[0]} for z, cap in capacity.items()]
        details.append(item)
    aws = [{
        "instanceType": t.id, "currentGeneration": True, "freeTierEligible": False,
        "supportedUsageClasses": ["on-demand"], "supportedRootDeviceTypes": ["ebs", "instance-store"],
        "supportedVirtualizationTypes": ["paravirtual", "hvm"], "bareMetal": False,
        "hypervisor": "xen", "processorInfo": {"supportedArchitectures": ["i386", "x86_64"]},
        "vCpuInfo": {"defaultVCpus": t.cpu, "defaultCores": t.cpu, "defaultThreadsPerCore": 1},
        "memoryInfo": {"sizeInMiB": t.memory},
        "instanceStorageSupported": True,
        "instanceStorageInfo": {"totalSizeInGB": t.disk,
                                "disks": [{"sizeInGB": t.disk, "count": 1, "type": "hdd"}]},
        "networkInfo": {"maximumNetworkInterfaces": t.network_interfaces,
                        "ipv4AddressesPerInterface": 1, "ipv6Supported": False},
    } for t in types]
    return {"instanceTypeDetails": details, "instanceTypeSet": aws, "nextToken": token}


def modify_instance_type_attribute(ctx: Context) -> Any:
    """ModifyInstanceTypeAttribute (cloud admin): change a type's cpu, memory or disk."""
    if not ctx.is_admin:
        raise errors.AccessDenied("Only cloud administrators may modify instance types")
    clc = ctx.cloud.clc
    p = ctx.params
    name = p.str("Name") or p.str("InstanceType")
    if not name:
        raise errors.MissingParameter("The request must contain the parameter Name")
    vt = clc.vm_types.get(name)
    if vt is None:
        raise errors.InvalidParameterValue(f"Instance type {name} does not exist")
    from server.clc.controller import DEFAULT_VM_TYPES

    if p.bool("Reset", False):
        for tname, cpu, mem, disk in DEFAULT_VM_TYPES:
            if tname == name:
                vt.cpu, vt.memory, vt.disk = cpu, mem, disk
    for field_name, param in (("cpu", "Cpu"), ("memory", "Memory"), ("disk", "Disk"),
                              ("network_interfaces", "NetworkInterfaces")):
        value = p.int(param, minimum=1)
        if value is not None:
            setattr(vt, field_name, value)
    clc.save(vt)
    types = clc.type_resources()
    for cc in clc.clusters.values():
        cc.set_vm_types(types)
    item = {"name": vt.id, "cpu": vt.cpu, "disk": vt.disk, "memory": vt.memory,
            "networkInterfaces": vt.network_interfaces}
    return {"instanceType": item, "previousInstanceType": item}


def describe_account_attributes(ctx: Context) -> Any:
    """DescribeAccountAttributes: EC2-Classic platform, no default VPC, max-instances."""
    limit = ctx.cloud.config.cloud["max_instances_per_account"]
    if not limit:
        limit = sum(cc.describe_resources().get("m1.small", (0, 0))[1]
                    for cc in ctx.cloud.clusters.values())
    attrs = {"supported-platforms": ["EC2"], "default-vpc": ["none"],
             "max-instances": [str(limit)], "vpc-max-security-groups-per-interface": ["5"],
             "max-elastic-ips": [str(len(ctx.cloud.clc.addresses))],
             "vpc-max-elastic-ips": ["0"]}
    wanted = ctx.params.strings("AttributeName")
    for w in wanted:
        if w not in attrs:
            raise errors.InvalidParameterValue(f"Invalid attribute name: {w}")
    return {"accountAttributeSet": [
        {"attributeName": name, "attributeValueSet": [{"attributeValue": v} for v in values]}
        for name, values in attrs.items() if not wanted or name in wanted]}


def describe_nodes(ctx: Context) -> Any:
    """DescribeNodes (cloud admin): every NC with state, power, capacity and instances."""
    if not ctx.is_admin:
        raise errors.AccessDenied("Only cloud administrators may describe nodes")
    zones = ctx.params.strings("ZoneName")
    items = []
    for zone, cc in ctx.cloud.clusters.items():
        if zones and zone not in zones:
            continue
        for node in cc.describe_nodes():
            items.append({
                "name": node.name, "zoneName": node.zone, "state": node.status,
                "powerState": node.power,
                "coresTotal": node.total.cores, "coresUsed": node.used.cores,
                "memoryTotal": node.total.memory_mb, "memoryUsed": node.used.memory_mb,
                "diskTotal": node.total.disk_gb, "diskUsed": node.used.disk_gb,
                "hypervisor": next(z.hypervisor for z in ctx.cloud.config.zones
                                   if z.name == zone),
                "instances": [{"instanceId": i} for i in node.instances]})
    return {"nodeSet": items}


def migrate_instances(ctx: Context) -> Any:
    """MigrateInstances (cloud admin): live-migrate one instance, or evacuate a node."""
    if not ctx.is_admin:
        raise errors.AccessDenied("Only cloud administrators may migrate instances")
    p = ctx.params
    source = p.str("SourceHost")
    iid = p.str("InstanceId")
    if bool(source) == bool(iid):
        raise errors.InvalidParameterCombination("Give exactly one of SourceHost or InstanceId")
    dests = p.strings("DestinationHost")
    allow = p.bool("AllowHosts", True)
    include = tuple(dests) if allow else ()
    exclude = () if allow else tuple(dests)
    for cc in ctx.cloud.clusters.values():
        if (source and source in cc.by_name) or (iid and cc.node_of(iid) is not None):
            migrate = getattr(cc, "migrate_instances", None)
            if migrate is None:
                raise errors.UnsupportedOperation("Live migration is not available")
            try:
                migrate(instance_id=iid, source_node=source, include=include, exclude=exclude)
            except (ValueError, KeyError) as exc:
                raise errors.InvalidParameterValue(str(exc)) from None
            return None
    raise errors.InvalidParameterValue(f"No such {'node' if source else 'instance'}: "
                                       f"{source or iid}")


ACTIONS = {
    "DescribeRegions": action(describe_regions, "ec2:DescribeRegions"),
    "DescribeAvailabilityZones": action(describe_availability_zones,
                                        "ec2:DescribeAvailabilityZones"),
    "DescribeInstanceTypes": action(describe_instance_types, "ec2:DescribeInstanceTypes"),
    "ModifyInstanceTypeAttribute": action(modify_instance_type_attribute,
                                          "ec2:ModifyInstanceTypeAttribute", cloud_admin=True),
    "DescribeAccountAttributes": action(describe_account_attributes,
                                        "ec2:DescribeAccountAttributes"),
    "DescribeNodes": action(describe_nodes, "ec2:DescribeNodes", cloud_admin=True),
    "MigrateInstances": action(migrate_instances, "ec2:MigrateInstances",
                               resources=each_param("InstanceId", "instance"), cloud_admin=True),
}
