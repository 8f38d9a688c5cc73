"""EC2 instance actions: Run, Describe, Terminate, Reboot, Stop/Start, console, attributes."""

from __future__ import annotations

import base64
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from server import errors, ids
from server.clc.controller import STATE_CODES, owned
from server.clc.filters import Filters, page
from server.clc.model import Image, Instance
from server.clc.render import instance_xml
from server.nc.types import BlockDevice, InstanceSpec, Resources
from server.protocol.query import Context
from server.protocol.xml import iso8601

if TYPE_CHECKING:
    from server.clc.controller import CloudController

USER_DATA_MAX = 16 * 1024

InvalidInstanceIDNotFound = errors._error("InvalidInstanceIDNotFound", "InvalidInstanceID.NotFound")
InvalidInstanceIDMalformed = errors._error("InvalidInstanceIDMalformed",
                                           "InvalidInstanceID.Malformed")
IncorrectInstanceState = errors._error("IncorrectInstanceState", "IncorrectInstanceState")
InsufficientInstanceCapacity = errors._error("InsufficientInstanceCapacity",
                                             "InsufficientInstanceCapacity", 500)
InvalidAMIIDNotFound = errors._error("InvalidAMIIDNotFound", "InvalidAMIID.NotFound")
InvalidAMIIDMalformed = errors._error("InvalidAMIIDMalformed", "InvalidAMIID.Malformed")
InvalidKeyPairNotFound = errors._error("InvalidKeyPairNotFound", "InvalidKeyPair.NotFound")
InvalidGroupNotFound = errors._error("InvalidGroupNotFound", "InvalidGroup.NotFound")
OperationNotPermitted = errors._error("OperationNotPermitted", "OperationNotPermitted")
InstanceLimitExceeded = errors._error("InstanceLimitExceeded", "InstanceLimitExceeded")
InvalidUserDataMalformed = errors._error("InvalidUserDataMalformed", "InvalidUserData.Malformed")


def spec_for(clc: CloudController, inst: Instance) -> InstanceSpec:
    """The NC's view of an instance record (ncRunInstance's message)."""
    vt = clc.vm_types[inst.vm_type]
    key = clc.key_pairs.get((inst.account_id, inst.key_name))
    return InstanceSpec(
        instance_id=inst.id, vm_type=inst.vm_type,
        resources=Resources(vt.cpu, vt.memory, vt.disk), image_id=inst.image_id,
        kernel_id=inst.kernel_id, ramdisk_id=inst.ramdisk_id, private_ip=inst.private_ip,
        public_ip=inst.public_ip, mac=inst.mac, key_name=inst.key_name,
        public_key=key.public_key if key else "",
        user_data=base64.b64decode(inst.user_data) if inst.user_data else b"",
        launch_index=inst.launch_index, groups=tuple(g[1] for g in inst.groups),
        account_id=inst.account_id, reservation_id=inst.reservation_id,
        root_device_type=inst.root_device_type,
        block_devices=tuple(
            BlockDevice(b["device"], b.get("volume_id", ""), b.get("path", ""),
                        int(b.get("size", 0) or 0), b.get("fmt", "raw"))
            for b in inst.block_devices if b.get("volume_id") or b.get("path")))


def _instance_filters(clc: CloudController) -> Filters:
    g = {
        "instance-id": lambda i: i.id,
        "image-id": lambda i: i.image_id,
        "instance-type": lambda i: i.vm_type,
        "instance-state-name": lambda i: i.state,
        "instance-state-code": lambda i: str(STATE_CODES[i.state]),
        "availability-zone": lambda i: i.zone,
        "key-name": lambda i: i.key_name,
        "private-ip-address": lambda i: i.private_ip,
        "ip-address": lambda i: i.public_ip,
        "reservation-id": lambda i: i.reservation_id,
        "owner-id": lambda i: i.account_id,
        "requester-id": lambda i: i.requester,
        "group-id": lambda i: [x[0] for x in i.groups],
        "group-name": lambda i: [x[1] for x in i.groups],
        "instance.group-id": lambda i: [x[0] for x in i.groups],
        "instance.group-name": lambda i: [x[1] for x in i.groups],
        "launch-index": lambda i: str(i.launch_index),
        "launch-time": lambda i: iso8601(i.launch_time),
        "kernel-id": lambda i: i.kernel_id,
        "ramdisk-id": lambda i: i.ramdisk_id,
        "root-device-type": lambda i: i.root_device_type,
        "root-device-name": lambda i: i.root_device_name,
        "architecture": lambda i: i.architecture,
        "client-token": lambda i: i.client_token,
        "monitoring-state": lambda i: i.monitoring,
        "platform": lambda i: i.platform,
        "virtualization-type": lambda i: i.virtualization_type,
        "hypervisor": lambda i: "xen" if i.virtualization_type == "paravirtual" else "kvm",
        "state-reason-code": lambda i: i.state_reason.split(":")[0] if i.state_reason else "",
        "state-reason-message": lambda i: i.state_reason,
        "reason": lambda i: i.state_reason,
        "tenancy": lambda i: "default",
        "placement-group-name": lambda i: None,
        "product-code": lambda i: None,
        "product-code.type": lambda i: None,
        "spot-instance-request-id": lambda i: None,
        "instance-lifecycle": lambda i: None,
        "vpc-id": lambda i: None,
        "subnet-id": lambda i: None,
        "source-dest-check": lambda i: i.source_dest_check,
        "ebs-optimized": lambda i: i.ebs_optimized,
        "block-device-mapping.device-name": lambda i: [b["device"] for b in i.block_devices],
        "block-device-mapping.volume-id": lambda i: [b.get("volume_id") for b in i.block_devices],
        "block-device-mapping.status": lambda i: [b.get("status") for b in i.block_devices],
        "block-device-mapping.delete-on-termination":
            lambda i: [str(bool(b.get("delete_on_termination", True))).lower()
                       for b in i.block_devices],
        "block-device-mapping.attach-time": lambda i: [iso8601(b.get("attach_time", 0))
                                                       for b in i.block_devices],
        "dns-name": lambda i: _dns(clc, i.public_ip),
        "private-dns-name": lambda i: _dns(clc, i.private_ip),
        "host-id": lambda i: i.node,
        "affinity": lambda i: None,
        "association.public-ip": lambda i: i.public_ip if i.elastic_ip else None,
        "network-interface.addresses.private-ip-address": lambda i: None,
        "network-interface.network-interface-id": lambda i: None,
        "network-interface.subnet-id": lambda i: None,
        "network-interface.vpc-id": lambda i: None,
        "network-interface.status": lambda i: None,
        "network-interface.attachment.status": lambda i: None,
        "network-interface.group-id": lambda i: None,
        "network-interface.group-name": lambda i: None,
        "iam-instance-profile.arn": lambda i: None,
    }
    return Filters(g, lambda i: clc.tags.get(i.id, {}))


def _dns(clc: CloudController, ip: str) -> str:
    from server.clc.render import dns_name

    return dns_name(ip, clc.cloud.config.cloud["dns_domain"])


def visible_instances(ctx: Context, ids_wanted: list[str] | None = None) -> list[Instance]:
    """The caller's instances (the admin's ``verbose`` shows every account's)."""
    clc = ctx.cloud.clc
    wanted = [i for i in (ids_wanted or []) if i != "verbose"]
    everyone = ctx.is_admin and ids_wanted is not None and "verbose" in ids_wanted
    if wanted:
        out = []
        for iid in wanted:
            inst = clc.instances.get(iid)
            if inst is None or not (everyone or ctx.is_admin or inst.account_id == ctx.account_id):
                if not iid.startswith("i-"):
                    raise InvalidInstanceIDMalformed(f"Invalid id: \"{iid}\"")
                raise InvalidInstanceIDNotFound(f"The instance ID '{iid}' does not exist")
            out.append(inst)
        return out
    return owned(clc.instances.values(), ctx.account_id, everyone)


def get_instance(ctx: Context, iid: str) -> Instance:
    """One of the caller's instances (the cloud admin may act on any)."""
    inst = ctx.cloud.clc.instances.get(iid)
    if inst is None or not (ctx.is_admin or inst.account_id == ctx.account_id):
        if not iid.startswith("i-"):
            raise InvalidInstanceIDMalformed(f"Invalid id: \"{iid}\"")
        raise InvalidInstanceIDNotFound(f"The instance ID '{iid}' does not exist")
    return inst


def launchable_image(ctx: Context, image_id: str) -> Image:
    """An image the caller may launch."""
    img = ctx.cloud.clc.images.get(image_id)
    if img is None or not (img.public or img.account_id == ctx.account_id
                           or ctx.account_id in img.launch_users or ctx.is_admin):
        if not image_id or "-" not in image_id:
            raise InvalidAMIIDMalformed(f"Invalid id: \"{image_id}\"")
        raise InvalidAMIIDNotFound(f"The image id '[{image_id}]' does not exist")
    if img.state != "available":
        raise errors.InvalidParameterValue(f"Image {image_id} is not available ({img.state})")
    return img


# -- RunInstances ----------------------------------------------------------------------
def run_instances(ctx: Context) -> Any:
    """RunInstances: as many as fit up to MaxCount, at least MinCount or none."""
    clc = ctx.cloud.clc
    p = ctx.params
    image = launchable_image(ctx, p.str("ImageId", required=True))
    if image.image_type != "machine":
        raise errors.InvalidParameterValue(f"{image.id} is a {image.image_type} image, not a "
                                           "machine image")
    min_count = p.int("MinCount", required=True)
    max_count = p.int("MaxCount", required=True)
    if min_count < 1 or max_count < 1:
        raise errors.InvalidParameterValue("MinCount and MaxCount must be at least 1")
    if min_count > max_count:
        raise errors.InvalidParameterValue("MinCount must be less than or equal to MaxCount")
    token = p.str("ClientToken")
    if token:
        previous = clc.client_tokens.get((ctx.account_id, token))
        if previous:
            earlier = [clc.instances[i] for i in previous if i in clc.instances]
            if earlier:
                return reservation_xml(ctx, earlier)
    vm_type = p.str("InstanceType", "m1.small")
    if vm_type not in clc.vm_types:
        raise errors.InvalidParameterValue(f"Invalid value '{vm_type}' for InstanceType.")
    vt = clc.vm_types[vm_type]
    if image.size_bytes and image.root_device_type == "instance-store" and \
            image.size_bytes + (512 << 20) > vt.disk * (1 << 30):
        raise errors.InvalidParameterValue(
            f"Image too large for instance type {vm_type}: the image, ephemeral and swap "
            f"must fit in {vt.disk} GB")
    key_name = p.str("KeyName") or ""
    if key_name and (ctx.account_id, key_name) not in clc.key_pairs:
        raise InvalidKeyPairNotFound(f"The key pair '{key_name}' does not exist")
    groups = _resolve_groups(ctx, p.strings("SecurityGroup"), p.strings("SecurityGroupId"))
    user_data = p.base64("UserData") or b""
    if len(user_data) > USER_DATA_MAX:
        raise InvalidUserDataMalformed(
            f"User data is limited to {USER_DATA_MAX} bytes (got {len(user_data)})")
    placement = p.struct("Placement")
    zone = placement.str("AvailabilityZone") or _choose_zone(ctx, vm_type)
    if zone not in ctx.cloud.clusters:
        raise errors.InvalidParameterValue(f"Invalid availability zone: [{zone}]")
    addressing = (p.str("AddressingType") or "public").lower()
    kernel_id = p.str("KernelId") or image.kernel_id
    ramdisk_id = p.str("RamdiskId") or image.ramdisk_id
    for ref in (kernel_id, ramdisk_id):
        if ref and ref not in clc.images:
            raise InvalidAMIIDNotFound(f"The image id '[{ref}]' does not exist")
    limit = ctx.cloud.config.cloud["max_instances_per_account"]
    if limit:
        live = sum(1 for i in clc.instances.values()
                   if i.account_id == ctx.account_id and i.state != "terminated")
        if live + min_count > limit:
            raise InstanceLimitExceeded(f"Your quota allows for {max(limit - live, 0)} more "
                                        f"running instance(s). You requested at least {min_count}")
        max_count = min(max_count, limit - live)

    count = max_count
    sc = ctx.cloud.components.get("sc")
    cc = ctx.cloud.clusters[zone]
    reservation = ids.resource_id("r")
    now = ctx.cloud.clock.now()
    insts: list[Instance] = []
    for n in range(count):
        iid = ids.resource_id("i")
        inst = Instance(
            id=iid, account_id=ctx.account_id, reservation_id=reservation, image_id=image.id,
            vm_type=vm_type, zone=zone, state="pending", launch_time=now,
            kernel_id=kernel_id or "", ramdisk_id=ramdisk_id or "", key_name=key_name,
            groups=[[g.id, g.name] for g in groups], mac=clc.mac_for(iid),
            user_data=base64.b64encode(user_data).decode() if user_data else "",
            launch_index=n, client_token=token or "",
            monitoring="enabled" if p.struct("Monitoring").bool("Enabled", False) else "disabled",
            root_device_type=image.root_device_type, root_device_name=image.root_device_name,
            architecture=image.architecture, platform=image.platform,
            virtualization_type=image.virtualization_type,
            disable_api_termination=bool(p.bool("DisableApiTermination", False)),
            shutdown_behavior=p.str("InstanceInitiatedShutdownBehavior") or
            ("stop" if image.root_device_type == "ebs" else "terminate"),
            ebs_optimized=bool(p.bool("EbsOptimized", False)),
            requester=ctx.caller.account_id, addressing=addressing, transition_time=now)
        insts.append(inst)
    if sc is not None:
        sc.check_launch(ctx, image, insts, p)  # EBS limits, before anything is placed
    # Addresses first (the network is decided before the CC schedules, reference §1.3).
    try:
        for inst in insts:
            inst.private_ip = clc.allocate_private_ip(zone)
    except errors.AWSError:
        for inst in insts:
            clc.used_private.get(zone, set()).discard(inst.private_ip)
        raise
    specs = [spec_for(clc, inst) for inst in insts]
    nodes = cc.run_instances_prepared(specs, min_count, before_start=lambda placed: _assign(
        ctx, insts[:placed], addressing, min_count))
    if not nodes:
        for inst in insts:
            clc.used_private.get(zone, set()).discard(inst.private_ip)
        free, _ = cc.describe_resources().get(vm_type, (0, 0))
        raise InsufficientInstanceCapacity(
            f"Not enough resources available in {zone} for {min_count} {vm_type} instance(s) "
            f"({free} available): insufficient capacity.")
    launched = insts[:len(nodes)]
    for inst in insts[len(nodes):]:
        clc.used_private.get(zone, set()).discard(inst.private_ip)
    for inst, node in zip(launched, nodes, strict=True):
        if not inst.node:
            inst.node = node
        clc.instances[inst.id] = inst
        clc.save(inst)
        if token:
            clc.client_tokens.setdefault((ctx.account_id, token), []).append(inst.id)
    if sc is not None:
        sc.instances_launched(ctx, image, launched, p)
    return reservation_xml(ctx, launched)


def _assign(ctx: Context, insts: list[Instance], addressing: str,
            min_count: int = 1) -> list[InstanceSpec]:
    """Give placed instances public addresses (as many as the pool has, at least
    ``min_count``); return the specs of those that will start."""
    clc = ctx.cloud.clc
    if addressing != "private":
        free = len(clc.free_public_ips())
        if free < min_count:
            raise errors.AWSError(
                f"Not enough public addresses for {min_count} instance(s): {free} left in the "
                "pool (use AddressingType=private, or release addresses)",
                code="AddressLimitExceeded")
        insts = insts[:free]
    for inst in insts:
        if addressing != "private":
            addr = clc.take_public_ip(inst.account_id, auto=True)
            addr.instance_id = inst.id
            addr.private_ip = inst.private_ip
            clc.save(addr)
            inst.public_ip = addr.id
    return [spec_for(clc, inst) for inst in insts]


def _choose_zone(ctx: Context, vm_type: str) -> str:
    """No zone given: the zone with the most room for the type (reference §3.2)."""
    best, best_free = "", -1
    for name, cc in ctx.cloud.clusters.items():
        free, _ = cc.describe_resources().get(vm_type, (0, 0))
        if free > best_free:
            best, best_free = name, free
    return best


def _resolve_groups(ctx: Context, names: list[str], gids: list[str]) -> list[Any]:
    clc = ctx.cloud.clc
    out = []
    for name in names:
        if name == "default":
            out.append(clc.default_group(ctx.account_id))
            continue
        gid = clc.group_names.get((ctx.account_id, name))
        if gid is None:
            raise InvalidGroupNotFound(f"The security group '{name}' does not exist")
        out.append(clc.groups[gid])
    for gid in gids:
        sg = clc.groups.get(gid)
        if sg is None or sg.account_id != ctx.account_id:
            raise InvalidGroupNotFound(f"The security group '{gid}' does not exist")
        out.append(sg)
    if not out:
        out.append(clc.default_group(ctx.account_id))
    unique = OrderedDict((g.id, g) for g in out)
    return list(unique.values())


def reservation_xml(ctx: Context, insts: list[Instance]) -> dict[str, Any]:
    """A RunInstances response body (one reservation)."""
    first = insts[0]
    return {
        "reservationId": first.reservation_id,
        "ownerId": first.account_id,
        "groupSet": [{"groupId": g[0], "groupName": g[1]} for g in first.groups],
        "instancesSet": [instance_xml(ctx.cloud.clc, i, ctx.is_admin) for i in insts],
        "requesterId": None,
    }


# -- DescribeInstances -----------------------------------------------------------------
def describe_instances(ctx: Context) -> Any:
    """DescribeInstances: reservations with their instances, filtered and paged."""
    clc = ctx.cloud.clc
    requested = ctx.params.strings("InstanceId")
    insts = visible_instances(ctx, requested if requested else None)
    filt = ctx.params.filters()
    if filt:
        insts = _instance_filters(clc).apply(insts, filt)
    insts.sort(key=lambda i: (i.launch_time, i.reservation_id, i.launch_index))
    chunk, token = page(insts, ctx.params, ids_given=bool(requested))
    reservations: OrderedDict[str, list[Instance]] = OrderedDict()
    for inst in chunk:
        reservations.setdefault(inst.reservation_id, []).append(inst)
    items = []
    for rid, members in reservations.items():
        first = members[0]
        items.append({"reservationId": rid, "ownerId": first.account_id,
                      "groupSet": [{"groupId": g[0], "groupName": g[1]} for g in first.groups],
                      "instancesSet": [instance_xml(clc, i, ctx.is_admin) for i in members]})
    return {"reservationSet": items, "nextToken": token}


# -- state changes ---------------------------------------------------------------------
def _state_change(inst: Instance, previous: str) -> dict[str, Any]:
    return {"instanceId": inst.id,
            "currentState": {"code": STATE_CODES[inst.state], "name": inst.state},
            "previousState": {"code": STATE_CODES[previous], "name": previous}}


def terminate_instances(ctx: Context) -> Any:
    """TerminateInstances (idempotent for instances already terminated)."""
    clc = ctx.cloud.clc
    insts = [get_instance(ctx, iid) for iid in _require_ids(ctx)]
    for inst in insts:
        if inst.disable_api_termination:
            raise OperationNotPermitted(
                f"The instance '{inst.id}' may not be terminated. Modify its "
                "'disableApiTermination' instance attribute and try again.")
    out = []
    for inst in insts:
        previous = inst.state
        if inst.state in ("pending", "running", "stopping"):
            clc._set_state(inst, "shutting-down")
            ctx.cloud.clusters[inst.zone].terminate_instance(inst.id)
        elif inst.state == "stopped":
            clc._set_state(inst, "shutting-down")
            clc._finish_teardown(inst)
        sc = ctx.cloud.components.get("sc")
        if sc is not None:
            sc.instance_terminating(inst)
        out.append(_state_change(inst, previous))
    return {"instancesSet": out}


def _require_ids(ctx: Context) -> list[str]:
    wanted = ctx.params.strings("InstanceId")
    if not wanted:
        raise errors.MissingParameter("The request must contain the parameter InstanceId")
    return wanted


def reboot_instances(ctx: Context) -> Any:
    """RebootInstances."""
    insts = [get_instance(ctx, iid) for iid in _require_ids(ctx)]
    for inst in insts:
        if inst.state not in ("running", "pending"):
            raise IncorrectInstanceState(
                f"The instance '{inst.id}' is not in a state from which it can be rebooted.")
    for inst in insts:
        ctx.cloud.clusters[inst.zone].reboot_instance(inst.id)
    return None


def stop_instances(ctx: Context) -> Any:
    """StopInstances: only EBS-backed instances, as AWS."""
    clc = ctx.cloud.clc
    insts = [get_instance(ctx, iid) for iid in _require_ids(ctx)]
    for inst in insts:
        if inst.root_device_type != "ebs":
            raise errors.UnsupportedOperation(
                f"The instance '{inst.id}' does not have an 'ebs' root device type and cannot "
                "be stopped.")
        if inst.state not in ("running", "pending", "stopping", "stopped"):
            raise IncorrectInstanceState(
                f"This instance '{inst.id}' is not in a state from which it can be stopped.")
    out = []
    for inst in insts:
        previous = inst.state
        if inst.state in ("running", "pending"):
            clc._set_state(inst, "stopping")
            ctx.cloud.clusters[inst.zone].terminate_instance(inst.id)
        out.append(_state_change(inst, previous))
    return {"instancesSet": out}


def start_instances(ctx: Context) -> Any:
    """StartInstances: a stopped EBS-backed instance is scheduled again."""
    clc = ctx.cloud.clc
    insts = [get_instance(ctx, iid) for iid in _require_ids(ctx)]
    for inst in insts:
        if inst.root_device_type != "ebs":
            raise errors.UnsupportedOperation(
                f"The instance '{inst.id}' does not have an 'ebs' root device type and cannot "
                "be started.")
        if inst.state not in ("stopped", "running", "pending"):
            raise IncorrectInstanceState(
                f"The instance '{inst.id}' is not in a state from which it can be started.")
    out = []
    for inst in insts:
        previous = inst.state
        if inst.state == "stopped":
            cc = ctx.cloud.clusters[inst.zone]
            inst.node = ""
            def finish(placed: int, i: Instance = inst) -> list[InstanceSpec]:
                return _assign(ctx, [i], i.addressing, 1)

            nodes = cc.run_instances_prepared([spec_for(clc, inst)], 1, before_start=finish)
            if not nodes:
                raise InsufficientInstanceCapacity(
                    f"Not enough resources available in {inst.zone} to start {inst.id}")
            inst.node = nodes[0]
            clc._set_state(inst, "pending")
        out.append(_state_change(inst, previous))
    return {"instancesSet": out}


# -- console, status, monitoring -------------------------------------------------------
def get_console_output(ctx: Context) -> Any:
    """GetConsoleOutput: the NC's console text, base64."""
    inst = get_instance(ctx, ctx.params.str("InstanceId", required=True))
    output = b""
    if inst.state not in ("terminated", "stopped"):
        output = ctx.cloud.clusters[inst.zone].console_output(inst.id)
    return {"instanceId": inst.id, "timestamp": iso8601(ctx.cloud.clock.now()),
            "output": base64.b64encode(output).decode()}


def describe_instance_status(ctx: Context) -> Any:
    """DescribeInstanceStatus: running instances (all with IncludeAllInstances)."""
    clc = ctx.cloud.clc
    requested = ctx.params.strings("InstanceId")
    insts = visible_instances(ctx, requested if requested else None)
    if not ctx.params.bool("IncludeAllInstances", False):
        insts = [i for i in insts if i.state == "running"]

    def status(inst: Instance) -> str:
        if inst.state != "running":
            return "not-applicable"
        cc = ctx.cloud.clusters.get(inst.zone)
        view = cc.node_of(inst.id) if cc else None
        return "impaired" if view is None or view.status.value == "DOWN" else "ok"

    filt = ctx.params.filters()
    if filt:
        getters = {
            "availability-zone": lambda i: i.zone,
            "instance-state-name": lambda i: i.state,
            "instance-state-code": lambda i: str(STATE_CODES[i.state]),
            "system-status.status": status, "instance-status.status": status,
            "system-status.reachability": lambda i: "passed" if status(i) == "ok" else "failed",
            "instance-status.reachability": lambda i: "passed" if status(i) == "ok" else "failed",
            "event.code": lambda i: None, "event.description": lambda i: None,
            "event.not-after": lambda i: None, "event.not-before": lambda i: None,
        }
        insts = Filters(getters, lambda i: clc.tags.get(i.id, {})).apply(insts, filt)
    insts.sort(key=lambda i: i.launch_time)
    chunk, token = page(insts, ctx.params, ids_given=bool(requested))
    items = []
    for inst in chunk:
        st = status(inst)
        detail = {"name": "reachability",
                  "status": "passed" if st == "ok" else
                  ("failed" if st == "impaired" else "initializing")}
        items.append({
            "instanceId": inst.id, "availabilityZone": inst.zone,
            "instanceState": {"code": STATE_CODES[inst.state], "name": inst.state},
            "systemStatus": {"status": st, "details": [detail] if st != "not-applicable" else []},
            "instanceStatus": {"status": st,
                               "details": [detail] if st != "not-applicable" else []},
            "eventsSet": []})
    return {"instanceStatusSet": items, "nextToken": token}


def monitor_instances(ctx: Context, state: str = "enabled") -> Any:
    """MonitorInstances: turn on detailed monitoring."""
    clc = ctx.cloud.clc
    insts = [get_instance(ctx, iid) for iid in _require_ids(ctx)]
    for inst in insts:
        inst.monitoring = state
        clc.save(inst)
    return {"instancesSet": [{"instanceId": i.id, "monitoring": {"state": state}} for i in insts]}


def unmonitor_instances(ctx: Context) -> Any:
    """UnmonitorInstances."""
    return monitor_instances(ctx, "disabled")


# -- attributes ------------------------------------------------------------------------
_ATTRS = ("instanceType", "kernel", "ramdisk", "userData", "disableApiTermination",
          "instanceInitiatedShutdownBehavior", "rootDeviceName", "blockDeviceMapping",
          "productCodes", "sourceDestCheck", "groupSet", "ebsOptimized", "sriovNetSupport",
          "enaSupport")


def describe_instance_attribute(ctx: Context) -> Any:
    """DescribeInstanceAttribute."""
    inst = get_instance(ctx, ctx.params.str("InstanceId", required=True))
    attr = ctx.params.str("Attribute", required=True)
    if attr not in _ATTRS:
        raise errors.InvalidParameterValue(f"Value ({attr}) for parameter attribute is invalid. "
                                           "Unknown attribute.")
    out: dict[str, Any] = {"instanceId": inst.id}
    value: Any
    if attr == "instanceType":
        value = {"value": inst.vm_type}
    elif attr == "kernel":
        value = {"value": inst.kernel_id} if inst.kernel_id else {}
    elif attr == "ramdisk":
        value = {"value": inst.ramdisk_id} if inst.ramdisk_id else {}
    elif attr == "userData":
        value = {"value": inst.user_data} if inst.user_data else {}
    elif attr == "disableApiTermination":
        value = {"value": inst.disable_api_termination}
    elif attr == "instanceInitiatedShutdownBehavior":
        value = {"value": inst.shutdown_behavior}
    elif attr == "rootDeviceName":
        value = {"value": inst.root_device_name}
    elif attr == "sourceDestCheck":
        value = {"value": inst.source_dest_check}
    elif attr == "ebsOptimized":
        value = {"value": inst.ebs_optimized}
    elif attr == "groupSet":
        value = [{"groupId": g[0], "groupName": g[1]} for g in inst.groups]
    elif attr == "productCodes":
        value = []
    elif attr == "blockDeviceMapping":
        value = [{"deviceName": b["device"],
                  "ebs": {"volumeId": b.get("volume_id", ""), "status": b.get("status", "attached"),
                          "attachTime": iso8601(b.get("attach_time", inst.launch_time)),
                          "deleteOnTermination": bool(b.get("delete_on_termination", True))}}
                 for b in inst.block_devices if b.get("volume_id")]
    else:
        value = {}
    out[attr] = value
    return out


def modify_instance_attribute(ctx: Context) -> Any:
    """ModifyInstanceAttribute."""
    clc = ctx.cloud.clc
    p = ctx.params
    inst = get_instance(ctx, p.str("InstanceId", required=True))
    attr = p.str("Attribute")
    value = p.str("Value")

    def scalar(name: str) -> str | None:
        if attr == name:
            return str(value) if value is not None else None
        sub = p.get(name[0].upper() + name[1:])
        if isinstance(sub, dict):
            v = sub.get("Value")
            return str(v) if isinstance(v, str) else None
        return None

    changed = False
    new_type = scalar("instanceType")
    if new_type is not None:
        if inst.state != "stopped":
            raise IncorrectInstanceState(
                f"The instance '{inst.id}' is not in the 'stopped' state.")
        if new_type not in clc.vm_types:
            raise errors.InvalidParameterValue(f"Invalid value '{new_type}' for InstanceType.")
        inst.vm_type, changed = new_type, True
    for name, field_name in (("kernel", "kernel_id"), ("ramdisk", "ramdisk_id")):
        v = scalar(name)
        if v is not None:
            if inst.state != "stopped":
                raise IncorrectInstanceState(
                    f"The instance '{inst.id}' is not in the 'stopped' state.")
            setattr(inst, field_name, v)
            changed = True
    v = scalar("userData")
    if v is not None:
        if inst.state != "stopped":
            raise IncorrectInstanceState(f"The instance '{inst.id}' is not in the 'stopped' state.")
        inst.user_data, changed = v, True
    for name, field_name in (("disableApiTermination", "disable_api_termination"),
                             ("sourceDestCheck", "source_dest_check"),
                             ("ebsOptimized", "ebs_optimized")):
        v = scalar(name)
        if v is not None:
            if v.lower() not in ("true", "false"):
                raise errors.InvalidParameterValue(f"Invalid value '{v}' for {name}")
            setattr(inst, field_name, v.lower() == "true")
            changed = True
    v = scalar("instanceInitiatedShutdownBehavior")
    if v is not None:
        if v not in ("stop", "terminate"):
            raise errors.InvalidParameterValue(f"Invalid value '{v}' for "
                                               "instanceInitiatedShutdownBehavior")
        inst.shutdown_behavior, changed = v, True
    gids = p.strings("GroupId")
    if gids:
        inst.groups = [[g.id, g.name] for g in _resolve_groups(ctx, [], gids)]
        changed = True
    if not changed:
        raise errors.MissingParameter("No attribute to modify was given")
    clc.save(inst)
    return None


def reset_instance_attribute(ctx: Context) -> Any:
    """ResetInstanceAttribute (kernel, ramdisk, sourceDestCheck)."""
    clc = ctx.cloud.clc
    inst = get_instance(ctx, ctx.params.str("InstanceId", required=True))
    attr = ctx.params.str("Attribute", required=True)
    img = clc.images.get(inst.image_id)
    if attr == "kernel":
        inst.kernel_id = img.kernel_id if img else ""
    elif attr == "ramdisk":
        inst.ramdisk_id = img.ramdisk_id if img else ""
    elif attr == "sourceDestCheck":
        inst.source_dest_check = True
    else:
        raise errors.InvalidParameterValue(f"Value ({attr}) for parameter attribute is invalid.")
    clc.save(inst)
    return None


ACTIONS = {
    "RunInstances": run_instances,
    "DescribeInstances": describe_instances,
    "TerminateInstances": terminate_instances,
    "RebootInstances": reboot_instances,
    "StopInstances": stop_instances,
    "StartInstances": start_instances,
    "GetConsoleOutput": get_console_output,
    "DescribeInstanceStatus": describe_instance_status,
    "MonitorInstances": monitor_instances,
    "UnmonitorInstances": unmonitor_instances,
    "DescribeInstanceAttribute": describe_instance_attribute,
    "ModifyInstanceAttribute": modify_instance_attribute,
    "ResetInstanceAttribute": reset_instance_attribute,
}
