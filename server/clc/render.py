"""EC2 XML shapes of the CLC's records (instances, groups, images, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.clc.controller import STATE_CODES
from server.clc.model import Image, Instance, SecurityGroup
from server.protocol.xml import Raw, fragment, iso8601

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
    cached = clc_cache(clc).get(key)
    if cached is not None:
        return cached
    domain = clc.cloud.config.cloud["dns_domain"]
    placement: dict[str, Any] = {"availabilityZone": inst.zone, "groupName": None,
                                 "tenancy": "default"}
    if admin and inst.node:
        placement["hostId"] = inst.node
    item: dict[str, Any] = {
        "instanceId": inst.id,
        "imageId": inst.image_id,
        "instanceState": {"code": STATE_CODES[inst.state], "name": inst.state},
        "privateDnsName": dns_name(inst.private_ip, domain) if inst.state != "terminated" else "",
        "dnsName": dns_name(inst.public_ip, domain) if inst.public_ip else "",
        "reason": inst.state_reason or None,
        "keyName": inst.key_name or None,
        "amiLaunchIndex": inst.launch_index,
        "productCodes": [],
        "instanceType": inst.vm_type,
        "launchTime": iso8601(inst.launch_time),
        "placement": placement,
        "kernelId": inst.kernel_id or None,
        "ramdiskId": inst.ramdisk_id or None,
        "platform": inst.platform or None,
        "monitoring": {"state": inst.monitoring},
        "privateIpAddress": inst.private_ip or None if inst.state != "terminated" else None,
        "ipAddress": inst.public_ip or None,
        "groupSet": [{"groupId": g[0], "groupName": g[1]} for g in inst.groups],
        "stateReason": ({"code": inst.state_reason.split(":")[0],
                         "message": inst.state_reason} if inst.state_reason else None),
        "architecture": inst.architecture,
        "rootDeviceType": inst.root_device_type,
        "rootDeviceName": inst.root_device_name,
        "blockDeviceMapping": [
            {"deviceName": b["device"],
             "ebs": {"volumeId": b.get("volume_id", ""), "status": b.get("status", "attached"),
                     "attachTime": iso8601(b.get("attach_time", inst.launch_time)),
                     "deleteOnTermination": bool(b.get("delete_on_termination", True))}}
            for b in inst.block_devices if b.get("volume_id")],
        "virtualizationType": inst.virtualization_type,
        "clientToken": inst.client_token or None,
        "tagSet": tag_set(clc, inst.id),
        "hypervisor": "xen" if inst.virtualization_type == "paravirtual" else "kvm",
        "networkInterfaceSet": [],
        "ebsOptimized": inst.ebs_optimized,
        "iamInstanceProfile": ({"arn": inst.iam_profile[0], "id": inst.iam_profile[1]}
                               if inst.iam_profile else None),
    }
    raw = fragment([item])
    clc_cache(clc)[key] = raw
    return raw


def clc_cache(clc: CloudController) -> dict[Any, Raw]:
    """The CLC's rendered-XML cache (invalidated by ``CloudController.save``)."""
    return clc.xml_cache


def permissions_xml(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Security group rules as ``ipPermissions`` items."""
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


def group_xml(clc: CloudController, sg: SecurityGroup) -> dict[str, Any]:
    """One ``securityGroupInfo`` item."""
    perms = permissions_xml
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
