"""EC2 XML shapes of the CLC's records (instances, groups, images, ...)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from server.clc.controller import STATE_CODES
from server.clc.model import USER_SHUTDOWN, Image, Instance, SecurityGroup
from server.protocol.xml import Raw, escape, iso8601

if TYPE_CHECKING:
    from server.clc.controller import CloudController
    from server.protocol.slices import Pacer


def transition_reason(inst: Instance) -> str:
    """An instance's StateTransitionReason as AWS words it (escaped): "User initiated
    (time GMT)" when its owner stopped or terminated it, else its state reason."""
    if inst.state_reason == USER_SHUTDOWN:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(inst.transition_time))
        return f"User initiated ({when} GMT)"
    return escape(inst.state_reason)


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


#: ``<instanceState>`` and the start of ``<privateDnsName>``, by state (one lookup).
_STATE_XML = {state: f"<instanceState><code>{code}</code><name>{state}</name></instanceState>"
              "<privateDnsName>" for state, code in STATE_CODES.items()}


def render_instance(inst: Instance, admin: bool, tags: dict[str, str] | None,
                    domain: str) -> Raw:
    """The XML of one ``instancesSet`` item from a record (and its tags) alone, so that it
    can be rendered from a snapshot of them. Written out as one f-string rather than built
    from a dict or joined from parts: a page of 1,000 instances renders this 1,000 times,
    and each call, part and ``escape`` saved counts (optional elements are spelled out in
    line, as AWS omits empty ones)."""
    e = escape
    reason = inst.state_reason
    private = inst.private_ip if inst.state != "terminated" else ""
    public = inst.public_ip
    groups = inst.groups
    if len(groups) == 1:  # the common case, without a generator
        group = groups[0]
        group_xml = f"<item><groupId>{e(group[0])}</groupId><groupName>{e(group[1])}" \
                    "</groupName></item>"
    else:
        group_xml = _group_items(groups)
    devices = "".join(
        f"<item><deviceName>{e(b['device'])}</deviceName><ebs><volumeId>"
        f"{e(b.get('volume_id', ''))}</volumeId><status>"
        f"{e(b.get('status', 'attached'))}</status><attachTime>"
        f"{iso8601(b.get('attach_time', inst.launch_time))}</attachTime><deleteOnTermination>"
        f"{'true' if b.get('delete_on_termination', True) else 'false'}"
        "</deleteOnTermination></ebs></item>"
        for b in inst.block_devices if b.get("volume_id")) if inst.block_devices else ""
    tag_xml = "<tagSet>" + "".join(
        f"<item><key>{e(k)}</key><value>{e(v)}</value></item>"
        for k, v in sorted(tags.items())) + "</tagSet>" if tags else ""
    reason_xml = f"<stateReason><code>{e(reason.split(':')[0])}</code><message>" \
                 f"{e(reason)}</message></stateReason>" if reason else ""
    profile = inst.iam_profile
    profile_xml = f"<iamInstanceProfile><arn>{e(profile[0])}</arn><id>{e(profile[1])}" \
                  "</id></iamInstanceProfile>" if profile else ""
    # The fields every item has, checked for XML specials at once (they seldom have any).
    fields: tuple[str, ...] = (inst.image_id, inst.vm_type, inst.zone, inst.monitoring, inst.architecture,
              inst.root_device_type, inst.root_device_name, inst.virtualization_type)
    joined = "".join(fields)
    if "&" in joined or "<" in joined or ">" in joined or '"' in joined:
        fields = tuple(map(e, fields))
    image, vm_type, zone, monitoring, architecture, root_type, root_name, virtualization = \
        fields
    return Raw(
        f"<item><instanceId>{inst.id}</instanceId><imageId>{image}</imageId>"
        f"{_STATE_XML[inst.state]}"
        f"{dns_name(private, domain) if private else ''}</privateDnsName><dnsName>"
        f"{dns_name(public, domain) if public else ''}</dnsName>"
        f"<reason>{transition_reason(inst) if reason else ''}</reason>"
        f"{'<keyName>' + e(inst.key_name) + '</keyName>' if inst.key_name else ''}"
        f"<amiLaunchIndex>{inst.launch_index}</amiLaunchIndex><productCodes></productCodes>"
        f"<instanceType>{vm_type}</instanceType>"
        f"<launchTime>{iso8601(inst.launch_time)}</launchTime><placement><availabilityZone>"
        f"{zone}</availabilityZone><tenancy>default</tenancy>"
        f"{'<hostId>' + e(inst.node) + '</hostId>' if admin and inst.node else ''}</placement>"
        f"{'<kernelId>' + e(inst.kernel_id) + '</kernelId>' if inst.kernel_id else ''}"
        f"{'<ramdiskId>' + e(inst.ramdisk_id) + '</ramdiskId>' if inst.ramdisk_id else ''}"
        f"{'<platform>' + e(inst.platform) + '</platform>' if inst.platform else ''}"
        f"<monitoring><state>{monitoring}</state></monitoring>"
        f"{'<privateIpAddress>' + e(private) + '</privateIpAddress>' if private else ''}"
        f"{'<ipAddress>' + e(public) + '</ipAddress>' if public else ''}"
        f"<groupSet>{group_xml}</groupSet>"
        f"{reason_xml}"
        f"<architecture>{architecture}</architecture><rootDeviceType>"
        f"{root_type}</rootDeviceType><rootDeviceName>"
        f"{root_name}</rootDeviceName><blockDeviceMapping>{devices}"
        f"</blockDeviceMapping><virtualizationType>{virtualization}</virtualizationType>"
        f"{'<clientToken>' + e(inst.client_token) + '</clientToken>' if inst.client_token else ''}"
        f"{tag_xml}<hypervisor>{'xen' if virtualization == 'paravirtual' else 'kvm'}"
        "</hypervisor><networkInterfaceSet></networkInterfaceSet><ebsOptimized>"
        f"{'true' if inst.ebs_optimized else 'false'}</ebsOptimized>"
        f"{profile_xml}"
        "</item>")


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


#: How long :func:`_layout` renders uncached items in line (seconds of the loop's time)
#: before it falls back to freezing copies of the rest for rendering in slices. Copying a
#: record took about as long as rendering it, so a page of 1,000 used to hold the loop
#: about this long for its copies alone: rendering in line instead costs no more loop
#: time for a page, skips the copies, and leaves copies and slices to bigger answers.
INLINE_RENDER_SECONDS = 0.003


def _layout(clc: CloudController, insts: list[Instance],
            admin: bool) -> tuple[list[Raw], list[_Pending]]:
    """One consistent view of a ``reservationSet``: the XML of reservations and of items,
    cached or rendered at once while :data:`INLINE_RENDER_SECONDS` last, and frozen copies
    of the instances whose items are left to render (no yield)."""
    cache = clc.xml_cache
    tags = clc.tags
    domain = clc.config.cloud["dns_domain"]
    parts: list[Raw] = []
    pending: list[_Pending] = []
    current = ""
    clock = time.perf_counter
    inline_until = clock() + INLINE_RENDER_SECONDS
    inline = True
    rendered = 0
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
        if inline:
            raw = render_instance(inst, admin, tags.get(inst.id), domain)
            # A marker is a sliced render of an older view in progress: it must not store
            # that older XML over this one (its marker check then fails).
            cache[key] = raw
            parts.append(raw)
            rendered += 1
            if not rendered & 31:  # the clock every 32 items: it costs a render's tenth
                inline = clock() < inline_until
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
        notes = r.get("notes") or {}
        perm["groups"] = [{"userId": g[0], "groupId": g[1], "groupName": g[2],
                           "description": notes.get(g[1])} for g in r["groups"]]
        perm["ipRanges"] = [{"cidrIp": c, "description": notes.get(c)} for c in r["cidrs"]]
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
