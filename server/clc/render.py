"""EC2 XML shapes of the CLC's records (instances, groups, images, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.clc.controller import STATE_CODES
from server.clc.model import Image, Instance, SecurityGroup
from server.protocol.xml import Raw, escape, iso8601

if TYPE_CHECKING:
    from server.clc.controller import CloudController


def tag_set(clc: CloudController, rid: str) -> list[dict[str, str]] | None:
    """``tagSet`` items of a resource (None when it has none)."""
    tags = clc.tags.get(rid)
    if not tags:
        return None
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def dns_name(ip: str, domain: str) -> str:
    """Eucalyptus-style host name of an address."""
    return f"euca-{ip.replace('.', '-')}.{domain}" if ip else ""


def instance_xml(clc: CloudController, inst: Instance, admin: bool) -> Raw:
    """One ``instancesSet`` item (cached until the instance or its tags change)."""
    key = (inst.id, admin)
    cached = clc.xml_cache.get(key)
    if type(cached) is Raw:
        return cached
    raw = render_instance(inst, admin, clc.tags.get(inst.id), clc.cloud.config.cloud["dns_domain"])
    clc.xml_cache[key] = raw
    return raw


def _opt(tag: str, value: str) -> str:
    """An element for a value that may be empty (then no element, as AWS omits it)."""
    return f"<{tag}>{escape(value)}</{tag}>" if value else ""


def render_instance(inst: Instance, admin: bool, tags: dict[str, str] | None,
                    domain: str) -> Raw:
    """The XML of one ``instancesSet`` item from a record (and its tags) alone, so that it
    can be rendered from a snapshot of them. Written out rather than built from a dict:
    a page of 1,000 instances renders this 1,000 times."""
    live = inst.state != "terminated"
    host = f"<hostId>{escape(inst.node)}</hostId>" if admin and inst.node else ""
    groups = "".join(f"<item><groupId>{escape(g[0])}</groupId><groupName>{escape(g[1])}"
                     "</groupName></item>" for g in inst.groups)
    reason = inst.state_reason
    devices = "".join(
        f"<item><deviceName>{escape(b['device'])}</deviceName><ebs><volumeId>"
        f"{escape(b.get('volume_id', ''))}</volumeId><status>"
        f"{escape(b.get('status', 'attached'))}</status><attachTime>"
        f"{iso8601(b.get('attach_time', inst.launch_time))}</attachTime><deleteOnTermination>"
        f"{'true' if b.get('delete_on_termination', True) else 'false'}"
        "</deleteOnTermination></ebs></item>"
        for b in inst.block_devices if b.get("volume_id"))
    tag_items = "".join(f"<item><key>{escape(k)}</key><value>{escape(v)}</value></item>"
                        for k, v in sorted(tags.items())) if tags else ""
    return Raw("".join((
        f"<item><instanceId>{inst.id}</instanceId><imageId>{escape(inst.image_id)}</imageId>"
        f"<instanceState><code>{STATE_CODES[inst.state]}</code><name>{inst.state}</name>"
        "</instanceState><privateDnsName>",
        dns_name(inst.private_ip, domain) if live else "",
        "</privateDnsName><dnsName>",
        dns_name(inst.public_ip, domain) if inst.public_ip else "",
        "</dnsName>",
        _opt("reason", reason),
        _opt("keyName", inst.key_name),
        f"<amiLaunchIndex>{inst.launch_index}</amiLaunchIndex><productCodes></productCodes>"
        f"<instanceType>{escape(inst.vm_type)}</instanceType>"
        f"<launchTime>{iso8601(inst.launch_time)}</launchTime><placement><availabilityZone>"
        f"{escape(inst.zone)}</availabilityZone><tenancy>default</tenancy>{host}</placement>",
        _opt("kernelId", inst.kernel_id),
        _opt("ramdiskId", inst.ramdisk_id),
        _opt("platform", inst.platform),
        f"<monitoring><state>{escape(inst.monitoring)}</state></monitoring>",
        _opt("privateIpAddress", inst.private_ip if live else ""),
        _opt("ipAddress", inst.public_ip),
        f"<groupSet>{groups}</groupSet>",
        f"<stateReason><code>{escape(reason.split(':')[0])}</code><message>{escape(reason)}"
        "</message></stateReason>" if reason else "",
        f"<architecture>{escape(inst.architecture)}</architecture><rootDeviceType>"
        f"{escape(inst.root_device_type)}</rootDeviceType><rootDeviceName>"
        f"{escape(inst.root_device_name)}</rootDeviceName><blockDeviceMapping>{devices}"
        f"</blockDeviceMapping><virtualizationType>{escape(inst.virtualization_type)}"
        "</virtualizationType>",
        _opt("clientToken", inst.client_token),
        f"<tagSet>{tag_items}</tagSet>" if tag_items else "",
        f"<hypervisor>{'xen' if inst.virtualization_type == 'paravirtual' else 'kvm'}"
        "</hypervisor><networkInterfaceSet></networkInterfaceSet><ebsOptimized>"
        f"{'true' if inst.ebs_optimized else 'false'}</ebsOptimized></item>",
    )))


def clc_cache(clc: CloudController) -> dict[Any, Raw]:
    """The CLC's rendered-XML cache (invalidated by ``CloudController.save``)."""
    return clc.xml_cache


def group_xml(clc: CloudController, sg: SecurityGroup) -> dict[str, Any]:
    """One ``securityGroupInfo`` item."""
    def perms(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for r in rules:
            perm: dict[str, Any] = {"ipProtocol": r["proto"]}
            if r["proto"] != "-1":
                perm["fromPort"] = r["from"]
                perm["toPort"] = r["to"]
            perm["groups"] = [{"userId": g[0], "groupId": g[1], "groupName": g[2]}
                              for g in r["groups"]]
            perm["ipRanges"] = [{"cidrIp": c} for c in r["cidrs"]]
            out.append(perm)
        return out

    return {"ownerId": sg.account_id, "groupId": sg.id, "groupName": sg.name,
            "groupDescription": sg.description, "ipPermissions": perms(sg.ingress),
            "ipPermissionsEgress": perms(sg.egress), "tagSet": tag_set(clc, sg.id)}


def image_xml(clc: CloudController, img: Image) -> dict[str, Any]:
    """One ``imagesSet`` item."""
    bdm = []
    for b in img.block_devices:
        if b.get("virtual_name"):
            bdm.append({"deviceName": b["device"], "virtualName": b["virtual_name"]})
        elif b.get("no_device"):
            bdm.append({"deviceName": b["device"], "noDevice": ""})
        else:
            bdm.append({"deviceName": b["device"], "ebs": {
                "snapshotId": b.get("snapshot_id") or None, "volumeSize": b.get("size") or None,
                "deleteOnTermination": bool(b.get("delete_on_termination", True)),
                "volumeType": b.get("volume_type", "standard")}})
    return {
        "imageId": img.id,
        "imageLocation": img.location if img.root_device_type == "instance-store"
        else f"{img.account_id}/{img.name}",
        "imageState": img.state,
        "imageOwnerId": img.account_id,
        "creationDate": iso8601(img.created) if img.created else None,
        "isPublic": img.public,
        "productCodes": [{"productCode": c, "type": "devpay"} for c in img.product_codes],
        "architecture": img.architecture,
        "imageType": img.image_type,
        "kernelId": img.kernel_id or None,
        "ramdiskId": img.ramdisk_id or None,
        "platform": img.platform or None,
        "imageOwnerAlias": img.owner_alias or None,
        "name": img.name,
        "description": img.description or None,
        "rootDeviceType": img.root_device_type,
        "rootDeviceName": img.root_device_name,
        "blockDeviceMapping": bdm,
        "virtualizationType": img.virtualization_type,
        "tagSet": tag_set(clc, img.id),
        "hypervisor": img.hypervisor,
    }
