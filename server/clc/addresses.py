"""Elastic IP addresses (EC2-Classic): allocate, associate, disassociate, release, describe."""

from __future__ import annotations

import ipaddress
from typing import Any

from server import errors, ids
from server.auth.authz import action, arn, combine, each_param, fixed
from server.clc.filters import Filters
from server.clc.instances import get_instance
from server.clc.model import Address
from server.clc.render import tag_set
from server.clc.tags import apply_tags, tag_specifications
from server.protocol.query import Context

InvalidAddressNotFound = errors._error("InvalidAddressNotFound", "InvalidAddress.NotFound")
InvalidAllocationIDNotFound = errors._error("InvalidAllocationIDNotFound",
                                            "InvalidAllocationID.NotFound")
InvalidAssociationIDNotFound = errors._error("InvalidAssociationIDNotFound",
                                             "InvalidAssociationID.NotFound")


def _check_ip(public_ip: str) -> None:
    """A malformed address is InvalidParameterValue (a well-formed unknown one: not found)."""
    try:
        ipaddress.IPv4Address(public_ip)
    except ValueError:
        raise errors.InvalidParameterValue(
            f"Invalid value '{public_ip}' for PublicIp. Not a valid IPv4 address.") from None


def _mine(ctx: Context, public_ip: str | None, allocation_id: str | None = None) -> Address:
    clc = ctx.cloud.clc
    if public_ip and allocation_id:
        raise errors.InvalidParameterCombination(
            "You may specify public IP or allocation id, but not both in the same call")
    if not public_ip and not allocation_id:
        raise errors.MissingParameter("Either public IP or allocation id must be specified")
    if allocation_id:
        for addr in clc.addresses.values():
            if addr.allocation_id == allocation_id and not addr.auto and \
                    (addr.account_id == ctx.account_id or ctx.is_admin):
                return addr
        raise InvalidAllocationIDNotFound(f"The allocation ID '{allocation_id}' does not exist")
    _check_ip(public_ip or "")
    found = clc.addresses.get(public_ip or "")
    if found is None or found.auto or not found.account_id or \
            not (found.account_id == ctx.account_id or ctx.is_admin):
        raise errors.AuthFailure(f"The address '{public_ip}' does not belong to you.")
    return found


def allocate_address(ctx: Context) -> Any:
    """AllocateAddress from the public pool."""
    domain = ctx.params.str("Domain") or "standard"
    if domain == "vpc":
        raise errors.InvalidParameterValue("VPC addresses are not supported (EC2-Classic)")
    if domain != "standard":
        raise errors.InvalidParameterValue(
            f"Invalid value '{domain}' for domain. Valid values are: standard, vpc")
    tags = tag_specifications(ctx, ("elastic-ip",))
    addr = ctx.cloud.clc.take_public_ip(ctx.account_id, auto=False)
    if tags:
        apply_tags(ctx, addr.allocation_id, addr.account_id, tags["elastic-ip"])
    return {"publicIp": addr.id, "domain": "standard", "allocationId": addr.allocation_id}


def release_address(ctx: Context) -> Any:
    """ReleaseAddress (disassociating it first, as EC2-Classic does)."""
    clc = ctx.cloud.clc
    addr = _mine(ctx, ctx.params.str("PublicIp"), ctx.params.str("AllocationId"))
    if addr.instance_id:
        _disassociate(ctx, addr)
    clc.delete_tags_of(addr.allocation_id)
    fresh = Address(addr.id, "")
    clc.addresses[addr.id] = fresh
    clc.save(fresh)
    return None


def _disassociate(ctx: Context, addr: Address) -> None:
    """Move an instance back to an automatic address (or none) after its EIP leaves."""
    clc = ctx.cloud.clc
    inst = clc.instances.get(addr.instance_id)
    addr.instance_id = addr.association_id = addr.private_ip = ""
    clc.save(addr)
    if inst is not None and inst.public_ip == addr.id:
        inst.public_ip = ""
        inst.elastic_ip = False
        if inst.state in ("pending", "running") and inst.addressing != "private" and \
                clc.free_public_ips():
            auto = clc.take_public_ip(inst.account_id, auto=True)
            auto.instance_id, auto.private_ip = inst.id, inst.private_ip
            clc.save(auto)
            inst.public_ip = auto.id
        clc.save(inst)


def associate_address(ctx: Context) -> Any:
    """AssociateAddress: an elastic IP replaces the instance's automatic one."""
    clc = ctx.cloud.clc
    p = ctx.params
    addr = _mine(ctx, p.str("PublicIp"), p.str("AllocationId"))
    iid = p.str("InstanceId")
    if not iid:
        raise errors.MissingParameter("The request must contain the parameter InstanceId")
    inst = get_instance(ctx, iid)
    if inst.state not in ("pending", "running"):
        raise errors.AWSError(f"The instance '{inst.id}' is not in a valid state for this "
                              "operation.", code="IncorrectInstanceState")
    if addr.instance_id and addr.instance_id != inst.id:
        if p.bool("AllowReassociation") is False:
            raise errors.AWSError(f"The address {addr.id} is already associated",
                                  code="Resource.AlreadyAssociated")
        _disassociate(ctx, addr)
    if inst.public_ip and inst.public_ip != addr.id:
        old = clc.addresses.get(inst.public_ip)
        if old is not None and old.auto:
            clc.addresses[old.id] = Address(old.id, "")
            clc.save(clc.addresses[old.id])
        elif old is not None:
            old.instance_id = old.association_id = old.private_ip = ""
            clc.save(old)
    addr.instance_id = inst.id
    addr.private_ip = inst.private_ip
    addr.association_id = ids.resource_id("eipassoc")
    inst.public_ip = addr.id
    inst.elastic_ip = True
    clc.save(addr)
    clc.save(inst)
    return {"return": True, "associationId": addr.association_id}


def disassociate_address(ctx: Context) -> Any:
    """DisassociateAddress."""
    clc = ctx.cloud.clc
    assoc = ctx.params.str("AssociationId")
    if assoc:
        found = [a for a in clc.addresses.values()
                 if a.association_id == assoc and a.account_id == ctx.account_id]
        if not found:
            raise InvalidAssociationIDNotFound(f"The association ID '{assoc}' does not exist")
        addr = found[0]
    else:
        addr = _mine(ctx, ctx.params.str("PublicIp", required=True))
    if addr.instance_id:
        _disassociate(ctx, addr)
    return None


def describe_addresses(ctx: Context) -> Any:
    """DescribeAddresses: the caller's elastic IPs."""
    clc = ctx.cloud.clc
    ips = ctx.params.strings("PublicIp")
    allocs = ctx.params.strings("AllocationId")
    everyone = ctx.is_admin and "verbose" in ips
    ips = [i for i in ips if i != "verbose"]
    addrs = [a for a in clc.addresses.values()
             if a.account_id and not a.auto and (everyone or a.account_id == ctx.account_id)]
    if ips:
        for ip in ips:
            _check_ip(ip)
        for ip in ips:
            if not any(a.id == ip for a in addrs):
                raise InvalidAddressNotFound(f"Address '{ip}' not found.")
        addrs = [a for a in addrs if a.id in ips]
    if allocs:
        for alloc in allocs:
            if not any(a.allocation_id == alloc for a in addrs):
                raise InvalidAllocationIDNotFound(f"The allocation ID '{alloc}' does not exist")
        addrs = [a for a in addrs if a.allocation_id in allocs]
    filt = ctx.params.filters()
    if filt:
        addrs = Filters({
            "public-ip": lambda a: a.id, "instance-id": lambda a: a.instance_id,
            "domain": lambda a: "standard", "allocation-id": lambda a: a.allocation_id,
            "association-id": lambda a: a.association_id,
            "private-ip-address": lambda a: a.private_ip,
            "network-interface-id": lambda a: None, "network-interface-owner-id": lambda a: None,
            "network-border-group": lambda a: clc.config.cloud["region"],
        }, lambda a: clc.tags.get(a.allocation_id, {})).apply(addrs, filt)
    return {"addressesSet": [{
        "publicIp": a.id, "allocationId": a.allocation_id, "domain": "standard",
        "instanceId": a.instance_id or None, "associationId": a.association_id or None,
        "privateIpAddress": a.private_ip or None, "publicIpv4Pool": "eucalyptus",
        "networkBorderGroup": clc.config.cloud["region"],
        "tagSet": tag_set(clc, a.allocation_id)} for a in sorted(addrs, key=lambda a: a.id)]}


def _address(ctx: Context) -> list[str]:
    """The elastic IP a request names: ``elastic-ip/ALLOCATION-ID`` (or the address)."""
    names = ctx.params.strings("AllocationId") or ctx.params.strings("PublicIp")
    return [arn(ctx, "ec2", f"elastic-ip/{n}") for n in names] or ["*"]


ACTIONS = {
    "AllocateAddress": action(allocate_address, "ec2:AllocateAddress",
                              resources=fixed("elastic-ip/*")),
    "ReleaseAddress": action(release_address, "ec2:ReleaseAddress", resources=_address),
    "AssociateAddress": action(associate_address, "ec2:AssociateAddress",
                               resources=combine(_address, each_param("InstanceId", "instance"))),
    "DisassociateAddress": action(disassociate_address, "ec2:DisassociateAddress",
                                  resources=_address),
    "DescribeAddresses": action(describe_addresses, "ec2:DescribeAddresses"),
}
