"""EC2 instance actions: RunInstances and DescribeInstances (the rest: lifecycle, attributes)."""

from __future__ import annotations

import base64
import re
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from server import errors, ids
from server.auth.authz import action, arn, keys_from
from server.clc.controller import STATE_CODES, owned
from server.clc.filters import Filters, next_token, paging
from server.clc.index import SortKey, is_exact, sort_key
from server.clc.model import Image, Instance
from server.clc.render import instance_xml, reservations_xml, reservations_xml_in_slices
from server.clc.specs import spec_for
from server.clc.tags import apply_tags, tag_specifications
from server.nc.types import InstanceSpec
from server.net.view import mac_for_ip
from server.protocol.query import Context
from server.protocol.slices import SMALL_ANSWER
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
InvalidPlacementGroupUnknown = errors._error("InvalidPlacementGroupUnknown",
                                             "InvalidPlacementGroup.Unknown")
InvalidSubnetIDNotFound = errors._error("InvalidSubnetIDNotFound", "InvalidSubnetID.NotFound")
InvalidGroupIdMalformed = errors._error("InvalidGroupIdMalformed", "InvalidGroupId.Malformed")


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
        "iam-instance-profile.arn": lambda i: i.iam_profile[0] if i.iam_profile else None,
        # AWS features this cloud does not have: what an instance without them shows
        "boot-mode": lambda i: None, "capacity-reservation-id": lambda i: None,
        "hibernation-options.configured": lambda i: False,
        "metadata-options.http-tokens": lambda i: "optional",
    }
    return Filters(g, lambda i: clc.tags.get(i.id, {}))


def _dns(clc: CloudController, ip: str) -> str:
    from server.clc.render import dns_name

    return dns_name(ip, clc.config.cloud["dns_domain"])


def visible_instances(ctx: Context, ids_wanted: list[str] | None = None) -> list[Instance]:
    """The caller's instances (the admin's ``verbose`` shows every account's)."""
    clc = ctx.cloud.clc
    wanted = [i for i in (ids_wanted or []) if i != "verbose"]
    everyone = ctx.is_admin and ids_wanted is not None and "verbose" in ids_wanted
    if wanted:
        out, missing = [], []
        for iid in wanted:
            inst = clc.instances.get(iid)
            if inst is None or not (everyone or ctx.is_admin or inst.account_id == ctx.account_id):
                if not ids.well_formed(iid, "i"):
                    raise InvalidInstanceIDMalformed(f"Invalid id: \"{iid}\"")
                missing.append(iid)
            else:
                out.append(inst)
        if len(missing) == 1:
            raise InvalidInstanceIDNotFound(f"The instance ID '{missing[0]}' does not exist")
        if missing:  # AWS names every one
            raise InvalidInstanceIDNotFound(f"The instance IDs '{', '.join(missing)}' do not "
                                            "exist")
        return out
    return owned(clc.instances.values(), ctx.account_id, everyone)


def get_instance(ctx: Context, iid: str) -> Instance:
    """One of the caller's instances (the cloud admin may act on any)."""
    inst = ctx.cloud.clc.instances.get(iid)
    if inst is None or not (ctx.is_admin or inst.account_id == ctx.account_id):
        if not ids.well_formed(iid, "i"):
            raise InvalidInstanceIDMalformed(f"Invalid id: \"{iid}\"")
        raise InvalidInstanceIDNotFound(f"The instance ID '{iid}' does not exist")
    return inst


#: What an image ID looks like (AWS's ami/aki/ari and Eucalyptus' emi/eki/eri prefixes).
_IMAGE_ID = re.compile(r"^[ae][mkr]i-[0-9a-fA-F]+$")


def image_not_found(image_id: str) -> errors.AWSError:
    """The error for an image ID that names nothing the caller can see."""
    if not _IMAGE_ID.match(image_id or ""):
        return InvalidAMIIDMalformed(f"Invalid id: \"{image_id}\" (expecting \"ami-...\")")
    return InvalidAMIIDNotFound(f"The image id '[{image_id}]' does not exist")


def launchable_image(ctx: Context, image_id: str) -> Image:
    """An image the caller may launch."""
    img = ctx.cloud.clc.images.get(image_id)
    if img is None or not (img.public or img.account_id == ctx.account_id
                           or ctx.account_id in img.launch_users or ctx.is_admin):
        raise image_not_found(image_id)
    if img.state != "available":
        raise errors.InvalidParameterValue(f"Image {image_id} is not available ({img.state})")
    return img


# -- RunInstances ----------------------------------------------------------------------
def run_instances(ctx: Context, *, check_only: bool = False) -> Any:
    """RunInstances: as many as fit up to MaxCount, at least MinCount or none.

    ``check_only`` stops after the request's checks, before anything is made (what a
    DryRun answers first, as AWS does)."""
    clc = ctx.cloud.clc
    if ctx.params.get("LaunchTemplate") is not None:
        from server.clc.launchtemplates import run_parameters

        ctx.params = run_parameters(ctx)
    p = ctx.params
    token = p.str("ClientToken")
    if token is not None and len(token) > 64:
        raise errors.InvalidParameterValue(
            f"Value ({token}) for parameter clientToken is invalid. Client tokens are at most "
            "64 characters.")
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
    vm_type = p.str("InstanceType", "m1.small")
    if token:
        previous = clc.client_tokens.get((ctx.account_id, token))
        if previous:
            earlier = [clc.instances[i] for i in previous if i in clc.instances]
            if earlier:
                _check_idempotent(earlier, image, vm_type, min_count, max_count,
                                  p.str("KeyName") or "")
                return reservation_xml(ctx, earlier)
    if vm_type not in clc.vm_types:
        raise errors.InvalidParameterValue(f"Invalid value '{vm_type}' for InstanceType.")
    vt = clc.vm_types[vm_type]
    if image.size_bytes and image.root_device_type == "instance-store" and \
            image.size_bytes + (512 << 20) > vt.disk * (1 << 30):
        raise errors.InvalidParameterValue(
            f"Image too large for instance type {vm_type}: the image, ephemeral and swap "
            f"must fit in {vt.disk} GB")
    profile = p.struct("IamInstanceProfile")
    iam_profile: list[str] = []
    if profile.str("Name") or profile.str("Arn"):
        found = ctx.cloud.identity.roles.profile_by_ref(
            ctx.account_id, profile.str("Name") or "", profile.str("Arn") or "")
        iam_profile = [found.arn(), found.profile_id]
    key_name = p.str("KeyName") or ""
    if key_name and (ctx.account_id, key_name) not in clc.key_pairs:
        raise InvalidKeyPairNotFound(f"The key pair '{key_name}' does not exist")
    groups = _resolve_groups(ctx, p.strings("SecurityGroup"), p.strings("SecurityGroupId"))
    tag_specs = tag_specifications(ctx, ("instance", "volume"))
    shutdown = p.str("InstanceInitiatedShutdownBehavior") or \
        ("stop" if image.root_device_type == "ebs" else "terminate")
    check_shutdown_behavior(shutdown, image.root_device_type)
    user_data = _user_data(p.str("UserData") or "")
    if len(user_data) > USER_DATA_MAX:
        raise InvalidUserDataMalformed(
            f"User data is limited to {USER_DATA_MAX} bytes (got {len(user_data)})")
    placement = p.struct("Placement")
    if placement.str("GroupName"):  # this cloud has no placement groups
        raise InvalidPlacementGroupUnknown(
            f"The Placement Group '{placement.str('GroupName')}' is unknown.")
    subnet = p.str("SubnetId")
    if subnet:  # nor subnets (EC2-Classic)
        raise InvalidSubnetIDNotFound(f"The subnet ID '{subnet}' does not exist")
    zone = placement.str("AvailabilityZone") or _choose_zone(ctx, vm_type)
    if zone not in clc.clusters:
        raise errors.InvalidParameterValue(f"Invalid availability zone: [{zone}]")
    addressing = (p.str("AddressingType") or "public").lower()
    kernel_id = p.str("KernelId") or image.kernel_id
    ramdisk_id = p.str("RamdiskId") or image.ramdisk_id
    for ref in (kernel_id, ramdisk_id):
        if ref and ref not in clc.images:
            raise image_not_found(ref)
    limit = clc.config.cloud["max_instances_per_account"]
    if limit:
        live = sum(1 for i in clc.instances.values()
                   if i.account_id == ctx.account_id and i.state != "terminated")
        if live + min_count > limit:
            raise InstanceLimitExceeded(f"Your quota allows for {max(limit - live, 0)} more "
                                        f"running instance(s). You requested at least {min_count}")
        max_count = min(max_count, limit - live)
    if ctx.quota_room is not None:
        max_count = min(max_count, ctx.quota_room)  # Limit statements (server/auth/quotas.py)
    if check_only:
        return None

    count = max_count
    sc = ctx.cloud.ebs
    cc = clc.clusters[zone]
    reservation = ids.resource_id("r")
    now = clc.clock.now()
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
            disable_api_stop=bool(p.bool("DisableApiStop", False)),
            shutdown_behavior=shutdown,
            ebs_optimized=bool(p.bool("EbsOptimized", False)),
            requester=ctx.caller.account_id, addressing=addressing, transition_time=now,
            iam_profile=list(iam_profile))
        insts.append(inst)
    if sc is not None:
        sc.check_launch(ctx, image, insts, p)  # EBS limits, before anything is placed
    # Addresses first (the network is decided before the CC schedules, reference §1.3).
    try:
        edge = ctx.cloud.config.zones[clc.zone_index(zone)].network == "edge"
        for inst in insts:
            inst.private_ip = clc.allocate_private_ip(zone)
            if edge:  # the guest's NIC really has it: Eucalyptus' d0:0d + address in hex
                inst.mac = mac_for_ip(inst.private_ip)
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
    for inst in launched:
        if "instance" in tag_specs:
            apply_tags(ctx, inst.id, inst.account_id, tag_specs["instance"])
        if "volume" in tag_specs:  # the volumes created at launch (block device mappings)
            for bd in inst.block_devices:
                if bd.get("volume_id"):
                    apply_tags(ctx, bd["volume_id"], inst.account_id, tag_specs["volume"])
    return reservation_xml(ctx, launched)


IdempotentParameterMismatch = errors._error("IdempotentParameterMismatch",
                                            "IdempotentParameterMismatch")


def _user_data(text: str) -> bytes:
    """RunInstances' UserData: base64 (whitespace aside), or AWS's InvalidParameterValue."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except ValueError:  # binascii.Error is one
        raise errors.InvalidParameterValue("Invalid BASE64 encoding of user data") from None


def check_shutdown_behavior(value: str, root_device_type: str) -> None:
    """``stop`` or ``terminate``; instance-store instances cannot stop (AWS's errors)."""
    if value not in ("stop", "terminate"):
        raise errors.InvalidParameterValue(
            f"Value ({value}) for parameter instanceInitiatedShutdownBehavior is invalid. "
            "Valid values are: stop, terminate")
    if value == "stop" and root_device_type != "ebs":
        raise errors.InvalidParameterCombination(
            "The attribute instanceInitiatedShutdownBehavior can only be used for EBS-backed "
            "images.")


def _check_idempotent(earlier: list[Instance], image: Image, vm_type: str, min_count: int,
                      max_count: int, key_name: str) -> None:
    """A client token names one launch: reusing it for a different one is an error."""
    first = earlier[0]
    if (first.image_id, first.vm_type, first.key_name) != (image.id, vm_type, key_name) or \
            not min_count <= len(earlier) <= max_count:
        raise IdempotentParameterMismatch(
            "The client token you have provided is associated with a resource that was "
            "launched with different parameters")


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
            if not ids.well_formed(gid, "sg"):
                raise InvalidGroupIdMalformed(f"Invalid id: \"{gid}\" (expecting \"sg-...\")")
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
def _token_key(position: Any, token: str | None) -> SortKey | None:
    """The sort key a DescribeInstances NextToken carries."""
    if position is None:
        return None
    if isinstance(position, list) and len(position) == 4 and \
            isinstance(position[0], (int, float)) and isinstance(position[1], str) and \
            isinstance(position[2], int) and isinstance(position[3], str):
        return (float(position[0]), position[1], position[2], position[3])
    raise errors.InvalidPaginationToken(f"Invalid pagination token: {token}")


def select_instances(ctx: Context) -> tuple[list[Instance], str | None]:
    """The page of instances a DescribeInstances asks for, in launch order, and the
    NextToken. Indexes narrow the search (ids, state, zone, tags, ...), so the cost
    follows the answer's size, not the number of instances held."""
    clc = ctx.cloud.clc
    idx = clc.instance_index
    requested = ctx.params.strings("InstanceId")
    filt = ctx.params.filters()
    filters = _instance_filters(clc)
    filters.check(filt)
    wanted = [i for i in requested if i != "verbose"]
    everyone = ctx.is_admin and "verbose" in requested
    size, position = paging(ctx.params, ids_given=bool(wanted))
    after = _token_key(position, ctx.params.str("NextToken"))
    remaining: dict[str, list[str]] = {}
    mine_only = not everyone
    source: Iterable[SortKey]
    if wanted:
        insts = visible_instances(ctx, requested)
        remaining = filt
        mine_only = False  # visible_instances checked who may see each
        keys = sorted({sort_key(i) for i in insts})
        source = keys[bisect_right(keys, after):] if after else keys
    else:
        narrowed: list[set[str]] = []
        for name, values in filt.items():
            if not values:
                continue
            found = idx.with_values(name, values)
            if found is None:
                found = clc.tag_index.lookup(name, values)
            if found is None and name == "instance-id" and is_exact(values):
                found = set(values)
            if found is None:
                remaining[name] = values
            else:
                narrowed.append(found)
        ordered = idx.ordered(None if everyone else ctx.account_id)
        if narrowed:
            narrowed.sort(key=len)
            hits = narrowed[0].intersection(*narrowed[1:])
            if len(hits) * 8 < len(ordered):  # few: sort them
                keys = sorted(idx.keys[i] for i in hits if i in idx.keys)
                source = keys[bisect_right(keys, after):] if after else keys
            else:  # many: walk the ordered list, which is sorted already
                source = (k for k in ordered.after(after) if k[3] in hits)
        else:
            source = ordered.after(after)
    out: list[Instance] = []
    token = None
    account = ctx.account_id
    for key in source:
        inst = clc.instances.get(key[3])
        if inst is None or (mine_only and inst.account_id != account):
            continue
        if remaining and not filters.matches(inst, remaining):
            continue
        if size is not None and len(out) == size:
            token = next_token(list(sort_key(out[-1])))
            break
        out.append(inst)
    return out, token


async def describe_instances(ctx: Context) -> Any:
    """DescribeInstances: reservations with their instances, filtered and paged."""
    clc = ctx.cloud.clc
    p = ctx.params
    insts: list[Instance] = []
    token: str | None = None
    seen = -1
    if p.strings("InstanceId") or p.filters() or \
            (p.int("MaxResults") or SMALL_ANSWER + 1) <= SMALL_ANSWER or \
            len(clc.instance_index.ordered(ctx.account_id)) <= SMALL_ANSWER:
        insts, token = select_instances(ctx)  # lookups, filters, small accounts: few
        if len(insts) <= SMALL_ANSWER:  # bigger ones take their turn in the CLC's lane
            return {"reservationSet": reservations_xml(clc, insts, ctx.is_admin),
                    "nextToken": token}
        seen = clc.generation
    else:  # a listing: selected in its turn; a bad MaxResults or NextToken waits for none
        _, position = paging(p)
        _token_key(position, p.str("NextToken"))
    async with clc.big_answers.turn() as pacer:
        if clc.generation != seen:  # not selected yet, or changed since
            insts, token = select_instances(ctx)
        body = await reservations_xml_in_slices(clc, insts, ctx.is_admin, pacer)
    return {"reservationSet": body, "nextToken": token}


def _run_resources(ctx: Context) -> list[str]:
    """RunInstances touches the new instances, the image and the key pair."""
    out = [arn(ctx, "ec2", "instance/*")]
    out += [arn(ctx, "ec2", f"image/{i}", account="") for i in ctx.params.strings("ImageId")]
    out += [arn(ctx, "ec2", f"key-pair/{k}") for k in ctx.params.strings("KeyName") if k]
    return out


ACTIONS = {
    "RunInstances": action(run_instances, "ec2:RunInstances", resources=_run_resources,
                           keys=keys_from(InstanceType="ec2:InstanceType",
                                          ImageId="ec2:ImageId",
                                          Placement__AvailabilityZone="ec2:AvailabilityZone")),
    "DescribeInstances": action(describe_instances, "ec2:DescribeInstances"),
}
