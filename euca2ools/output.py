"""Shared EC2 output records, in euca2ools 3.x column order (reference §6.1).

Every printer takes the :class:`~euca2ools.runtime.Invocation` (which knows about
``--show-empty-fields``) and one parsed item, and emits TAB-separated lines.
"""

from __future__ import annotations

from .xmlparse import as_list

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from .runtime import Invocation

# ID prefix -> resource type for TAG lines.
_TAG_TYPES = {
    "i": "instance", "ami": "image", "aki": "image", "ari": "image", "emi": "image",
    "eki": "image", "eri": "image", "vol": "volume", "snap": "snapshot",
    "sg": "security-group", "eni": "network-interface", "vpc": "vpc", "subnet": "subnet",
    "igw": "internet-gateway", "rtb": "route-table", "acl": "network-acl",
    "dopt": "dhcp-options", "cgw": "customer-gateway", "vgw": "vpn-gateway",
    "vpn": "vpn-connection", "pcx": "vpc-peering-connection", "eipalloc": "allocation-id",
    "bun": "bundle", "import": "conversion-task", "export": "export-task",
    "sir": "spot-instances-request",
}


def resource_type(resource_id: str) -> str:
    """The tag resource type implied by an ID's prefix (``i-...`` -> ``instance``)."""
    return _TAG_TYPES.get(resource_id.split("-", 1)[0], "")


def get(item: Any, *path: str) -> Any:
    """``item[a][b]...`` or None when any step is missing."""
    for key in path:
        if not isinstance(item, dict):
            return None
        item = item.get(key)
    return item


def print_tags(inv: Invocation, resource_id: str, tags: Any) -> None:
    """One ``TAG`` line per tag of a resource."""
    rtype = resource_type(resource_id)
    for tag in as_list(tags):
        inv.emit("TAG", rtype, resource_id, tag.get("key"), tag.get("value"))


def print_reservation(inv: Invocation, reservation: dict[str, Any]) -> None:
    """``RESERVATION`` then its instances (sorted by launch time)."""
    groups = [g.get("groupName") or g.get("groupId") for g in as_list(reservation.get("groupSet"))]
    inv.emit("RESERVATION", reservation.get("reservationId"), reservation.get("ownerId"),
             ", ".join(g for g in groups if g))
    instances = as_list(reservation.get("instancesSet"))
    for instance in sorted(instances, key=lambda i: i.get("launchTime") or ""):
        print_instance(inv, instance)


def print_instance(inv: Invocation, inst: dict[str, Any]) -> None:
    """The 32-column ``INSTANCE`` record plus BLOCKDEVICE, NETWORKINTERFACE and TAG lines."""
    monitoring = get(inst, "monitoring", "state")
    inv.emit(
        "INSTANCE",
        inst.get("instanceId"),
        inst.get("imageId"),
        inst.get("dnsName"),
        inst.get("privateDnsName"),
        get(inst, "instanceState", "name"),
        inst.get("keyName"),
        inst.get("amiLaunchIndex"),
        ",".join(p.get("productCode", "") for p in as_list(inst.get("productCodes"))),
        inst.get("instanceType"),
        inst.get("launchTime"),
        get(inst, "placement", "availabilityZone"),
        inst.get("kernelId"),
        inst.get("ramdiskId"),
        inst.get("platform"),
        f"monitoring-{monitoring}" if monitoring else None,
        inst.get("ipAddress"),
        inst.get("privateIpAddress"),
        inst.get("vpcId"),
        inst.get("subnetId"),
        inst.get("rootDeviceType"),
        inst.get("instanceLifecycle"),
        None,  # spot request ID: euca2ools reads a misspelt field, so always blank
        None,  # "license": always blank
        get(inst, "placement", "groupName"),
        inst.get("virtualizationType"),
        inst.get("hypervisor"),
        inst.get("clientToken"),
        ",".join(g.get("groupId", "") for g in as_list(inst.get("groupSet"))),
        get(inst, "placement", "tenancy"),
        inst.get("ebsOptimized"),
        get(inst, "iamInstanceProfile", "arn"),
        inst.get("architecture"),
    )
    for mapping in as_list(inst.get("blockDeviceMapping")):
        ebs = mapping.get("ebs") or {}
        inv.emit("BLOCKDEVICE", mapping.get("deviceName"), ebs.get("volumeId"),
                 ebs.get("attachTime"), ebs.get("deleteOnTermination"),
                 ebs.get("volumeType"), ebs.get("iops"))
    for eni in as_list(inst.get("networkInterfaceSet")):
        print_network_interface(inv, eni)
    print_tags(inv, inst.get("instanceId") or "", inst.get("tagSet"))


def print_network_interface(inv: Invocation, eni: dict[str, Any]) -> None:
    """``NETWORKINTERFACE`` with its ATTACHMENT, ASSOCIATION, GROUP, PRIVATEIPADDRESS, TAG lines."""
    inv.emit("NETWORKINTERFACE", eni.get("networkInterfaceId"), eni.get("subnetId"),
             eni.get("vpcId"), eni.get("ownerId"), eni.get("status"),
             eni.get("privateIpAddress"), eni.get("privateDnsName"), eni.get("sourceDestCheck"))
    print_interface_attachment(inv, eni.get("attachment"))
    assoc = eni.get("association")
    if isinstance(assoc, dict) and assoc:
        private = None
        for addr in as_list(eni.get("privateIpAddressesSet")):
            if get(addr, "association", "publicIp") == assoc.get("publicIp"):
                private = addr.get("privateIpAddress")
        inv.emit("ASSOCIATION", assoc.get("publicIp"), assoc.get("ipOwnerId"), private)
    for group in as_list(eni.get("groupSet")):
        inv.emit("GROUP", group.get("groupId"), group.get("groupName"))
    for addr in as_list(eni.get("privateIpAddressesSet")):
        inv.emit("PRIVATEIPADDRESS", addr.get("privateIpAddress"), addr.get("privateDnsName"),
                 "primary" if addr.get("primary") == "true" else None)
    print_tags(inv, eni.get("networkInterfaceId") or "", eni.get("tagSet"))


def print_interface_attachment(inv: Invocation, att: Any) -> None:
    """A network interface's ``ATTACHMENT`` line (none when it is not attached)."""
    if isinstance(att, dict) and att:
        inv.emit("ATTACHMENT", att.get("instanceId"), att.get("attachmentId"),
                 att.get("deviceIndex"), att.get("status"), att.get("attachTime"),
                 att.get("deleteOnTermination"))


def print_image(inv: Invocation, image: dict[str, Any]) -> None:
    """``IMAGE`` then BLOCKDEVICEMAPPING and TAG lines."""
    location: Any
    if image.get("rootDeviceType") == "ebs" and image.get("name"):
        location = f"{image.get('imageOwnerId')}/{image.get('name')}"
    else:
        location = image.get("imageLocation")
    inv.emit(
        "IMAGE",
        image.get("imageId"),
        location,
        image.get("imageOwnerAlias") or image.get("imageOwnerId"),
        image.get("imageState"),
        "public" if image.get("isPublic") == "true" else "private",
        image.get("architecture"),
        image.get("imageType"),
        image.get("kernelId"),
        image.get("ramdiskId"),
        image.get("platform"),
        image.get("rootDeviceType"),
        image.get("virtualizationType"),
        image.get("hypervisor"),
    )
    for mapping in as_list(image.get("blockDeviceMapping")):
        ebs = mapping.get("ebs")
        if isinstance(ebs, dict):
            inv.emit("BLOCKDEVICEMAPPING", "EBS", mapping.get("deviceName"), ebs.get("snapshotId"),
                     ebs.get("volumeSize"), ebs.get("deleteOnTermination"),
                     ebs.get("volumeType"), ebs.get("iops"))
        else:
            inv.emit("BLOCKDEVICEMAPPING", "EPHEMERAL", mapping.get("deviceName"),
                     mapping.get("virtualName"))
    print_tags(inv, image.get("imageId") or "", image.get("tagSet"))


def print_volume(inv: Invocation, vol: dict[str, Any]) -> None:
    """``VOLUME`` then ATTACHMENT and TAG lines."""
    inv.emit("VOLUME", vol.get("volumeId"), vol.get("size"), vol.get("snapshotId"),
             vol.get("availabilityZone"), vol.get("status"), vol.get("createTime"),
             vol.get("volumeType") or "standard", vol.get("iops"))
    for att in as_list(vol.get("attachmentSet")):
        print_attachment(inv, att)
    print_tags(inv, vol.get("volumeId") or "", vol.get("tagSet"))


def print_attachment(inv: Invocation, att: dict[str, Any]) -> None:
    """A volume ``ATTACHMENT`` record."""
    inv.emit("ATTACHMENT", att.get("volumeId"), att.get("instanceId"), att.get("device"),
             att.get("status"), att.get("attachTime"))


def print_snapshot(inv: Invocation, snap: dict[str, Any]) -> None:
    """``SNAPSHOT`` then TAG lines."""
    inv.emit("SNAPSHOT", snap.get("snapshotId"), snap.get("volumeId"), snap.get("status"),
             snap.get("startTime"), snap.get("progress"), snap.get("ownerId"),
             snap.get("volumeSize"), snap.get("description"))
    print_tags(inv, snap.get("snapshotId") or "", snap.get("tagSet"))


def print_group(inv: Invocation, group: dict[str, Any]) -> None:
    """``GROUP`` then one PERMISSION line per CIDR or source group of each rule, then TAGs."""
    owner, name = group.get("ownerId"), group.get("groupName")
    inv.emit("GROUP", group.get("groupId"), owner, name, group.get("groupDescription"),
             group.get("vpcId"))
    for key, word, direction in (("ipPermissions", "FROM", "ingress"),
                                 ("ipPermissionsEgress", "TO", "egress")):
        for perm in as_list(group.get(key)):
            head = ("PERMISSION", owner, name, "ALLOWS", perm.get("ipProtocol"),
                    perm.get("fromPort"), perm.get("toPort"))
            for cidr in as_list(perm.get("ipRanges")):
                inv.emit(*head, word, "CIDR", cidr.get("cidrIp"), direction)
            for src in as_list(perm.get("groups")):
                fields: list[Any] = [word, "USER", src.get("userId")]
                if src.get("groupName"):
                    fields += ["NAME", src.get("groupName")]
                if src.get("groupId"):
                    fields += ["ID", src.get("groupId")]
                inv.emit(*head, *fields, direction)
    print_tags(inv, group.get("groupId") or "", group.get("tagSet"))


def print_address(inv: Invocation, addr: dict[str, Any]) -> None:
    """The full ``ADDRESS`` record of euca-describe-addresses."""
    inv.emit("ADDRESS", addr.get("publicIp"), addr.get("instanceId"),
             addr.get("domain") or "standard", addr.get("allocationId"),
             addr.get("associationId"), addr.get("networkInterfaceId"),
             addr.get("privateIpAddress"))


def print_keypair(inv: Invocation, key: dict[str, Any]) -> None:
    """``KEYPAIR``, name, fingerprint."""
    inv.emit("KEYPAIR", key.get("keyName"), key.get("keyFingerprint"))


def print_state_change(inv: Invocation, result: Any) -> None:
    """``INSTANCE``, id, previous state, current state (terminate/stop/start)."""
    for item in as_list(result.get("instancesSet")):
        inv.emit("INSTANCE", item.get("instanceId"), get(item, "previousState", "name"),
                 get(item, "currentState", "name"))
