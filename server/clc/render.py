"""EC2 XML shapes of the CLC's records (instances, groups, images, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.clc.controller import STATE_CODES
from server.clc.model import Image, Instance, SecurityGroup
from server.protocol.xml import Raw, escape, iso8601

if TYPE_CHECKING:
    from server.clc.controller import CloudController
    from server.protocol.slices import Pacer


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
    raw = render_instance(inst, admin, clc.tags.get(inst.id), clc.config.cloud["dns_domain"])
    clc.xml_cache[key] = raw
    return raw


def _opt(tag: str, value: str) -> str:
    """An element for a value that may be empty (then no element, as AWS omits it); the
    callers test for empty values first, which saves a call in the common case."""
    return f"<{tag}>{escape(value)}</{tag}>" if value else ""


def render_instance(inst: Instance, admin: bool, tags: dict[str, str] | None,
                    domain: str) -> Raw:
    """The XML of one ``instancesSet`` item from a record (and its tags) alone, so that it
    can be rendered from a snapshot of them. Written out rather than built from a dict:
    a page of 1,000 instances renders this 1,000 times."""
    live = inst.state != "terminated"
    host = f"<hostId>{escape(inst.node)}</hostId>" if admin and inst.node else ""
    groups = _group_items(inst.groups)
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
        _opt("reason", reason) if reason else "",
        _opt("keyName", inst.key_name) if inst.key_name else "",
        f"<amiLaunchIndex>{inst.launch_index}</amiLaunchIndex><productCodes></productCodes>"
        f"<instanceType>{escape(inst.vm_type)}</instanceType>"
        f"<launchTime>{iso8601(inst.launch_time)}</launchTime><placement><availabilityZone>"
        f"{escape(inst.zone)}</availabilityZone><tenancy>default</tenancy>{host}</placement>",
        _opt("kernelId", inst.kernel_id) if inst.kernel_id else "",
        _opt("ramdiskId", inst.ramdisk_id) if inst.ramdisk_id else "",
        _opt("platform", inst.platform) if inst.platform else "",
        f"<monitoring><state>{escape(inst.monitoring)}</state></monitoring>",
        _opt("privateIpAddress", inst.private_ip) if live and inst.private_ip else "",
        _opt("ipAddress", inst.public_ip) if inst.public_ip else "",
        f"<groupSet>{groups}</groupSet>",
        f"<stateReason><code>{escape(reason.split(':')[0])}</code><message>{escape(reason)}"
        "</message></stateReason>" if reason else "",
        f"<architecture>{escape(inst.architecture)}</architecture><rootDeviceType>"
        f"{escape(inst.root_device_type)}</rootDeviceType><rootDeviceName>"
        f"{escape(inst.root_device_name)}</rootDeviceName><blockDeviceMapping>{devices}"
        f"</blockDeviceMapping><virtualizationType>{escape(inst.virtualization_type)}"
        "</virtualizationType>",
        _opt("clientToken", inst.client_token) if inst.client_token else "",
        f"<tagSet>{tag_items}</tagSet>" if tag_items else "",
        f"<hypervisor>{'xen' if inst.virtualization_type == 'paravirtual' else 'kvm'}"
        "</hypervisor><networkInterfaceSet></networkInterfaceSet><ebsOptimized>"
        f"{'true' if inst.ebs_optimized else 'false'}</ebsOptimized>",
        f"<iamInstanceProfile><arn>{escape(inst.iam_profile[0])}</arn><id>"
        f"{escape(inst.iam_profile[1])}</id></iamInstanceProfile>" if inst.iam_profile else "",
        "</item>",
    )))


def _group_items(groups: list[list[str]]) -> str:
    return "".join(f"<item><groupId>{escape(g[0])}</groupId><groupName>{escape(g[1])}"
                   "</groupName></item>" for g in groups)


def _frozen(inst: Instance) -> Instance:
    """A copy of an instance record that later changes to the record do not reach."""
    copy = object.__new__(Instance)
    state = dict(inst.__dict__)
    state["groups"] = [list(g) for g in inst.groups]
    if inst.block_devices:
        state["block_devices"] = [dict(b) for b in inst.block_devices]
    copy.__dict__ = state
    return copy


_END = Raw("</instancesSet></item>")
_TODO = Raw("")  # where an item goes once rendered

#: An item still to render: its place in the parts, its cache key, the frozen record and
#: tags, and the cache marker that shows the record has not changed since.
_Pending = tuple[int, tuple[str, bool], Instance, dict[str, str] | None, object]


def _layout(clc: CloudController, insts: list[Instance],
            admin: bool) -> tuple[list[Raw], list[_Pending]]:
    """One consistent view of a ``reservationSet``: the XML of reservations and of cached
    items, and frozen copies of the instances whose items must be rendered (no yield)."""
    cache = clc.xml_cache
    tags = clc.tags
    parts: list[Raw] = []
    pending: list[_Pending] = []
    current = ""
    for inst in insts:
        if inst.reservation_id != current or not parts:
            if parts:
                parts.append(_END)
            current = inst.reservation_id
            parts.append(Raw(f"<item><reservationId>{escape(current)}</reservationId><ownerId>"
                             f"{escape(inst.account_id)}</ownerId><groupSet>"
                             f"{_group_items(inst.groups)}</groupSet><instancesSet>"))
        key = (inst.id, admin)
        cached = cache.get(key)
        if type(cached) is Raw:
            parts.append(cached)
            continue
        # The marker stays in the cache until ``save`` drops it: if it is still there
        # when the item is rendered, the record did not change and the item may be cached.
        marker = cache[key] = object()
        own = tags.get(inst.id)
        pending.append((len(parts), key, _frozen(inst), dict(own) if own else None, marker))
        parts.append(_TODO)
    if parts:
        parts.append(_END)
    return parts, pending


def _fill(clc: CloudController, parts: list[Raw], item: _Pending, domain: str) -> None:
    pos, key, inst, tags, marker = item
    raw = render_instance(inst, key[1], tags, domain)
    parts[pos] = raw
    if clc.xml_cache.get(key) is marker:
        clc.xml_cache[key] = raw


def reservations_xml(clc: CloudController, insts: list[Instance], admin: bool) -> list[Raw]:
    """The items of a ``reservationSet``: instances (in launch order) grouped by
    reservation, rendered at once (for small answers). The XML comes in pieces, which
    the response joins once."""
    parts, pending = _layout(clc, insts, admin)
    domain = clc.config.cloud["dns_domain"]
    for item in pending:
        _fill(clc, parts, item, domain)
    return parts


async def reservations_xml_in_slices(clc: CloudController, insts: list[Instance], admin: bool,
                                     pacer: Pacer) -> list[Raw]:
    """:func:`reservations_xml` for big answers: the view is taken at once, the items
    not cached yet are rendered from it in slices that give the event loop back."""
    parts, pending = _layout(clc, insts, admin)
    await pacer.pace()
    domain = clc.config.cloud["dns_domain"]
    for item in pending:
        _fill(clc, parts, item, domain)
        await pacer.pace()
    return parts


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
