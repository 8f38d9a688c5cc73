"""Argument converters and filter-name lists shared by several declarations."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


def flexible_bool(value: str) -> bool:
    """true/false, yes/no, 1/0, on/off (any case)."""
    low = value.strip().lower()
    if low in ("true", "yes", "1", "on", "t", "y"):
        return True
    if low in ("false", "no", "0", "off", "f", "n"):
        return False
    raise ValueError(f"'{value}' must be 'true' or 'false'")


def base64_text(text: str) -> str:
    """Base64 of a string's UTF-8 bytes."""
    import base64

    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def read_file_b64(path: str) -> str:
    """Base64 of a file's contents (``-`` means stdin)."""
    import base64
    import sys

    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(path, "rb") as handle:
            data = handle.read()
    return base64.b64encode(data).decode("ascii")


def block_device_mapping(spec: str) -> dict[str, Any]:
    """``DEVICE=none|ephemeralN|[SNAP]:[GiB]:[true|false]:[TYPE[:IOPS]]`` as a mapping."""
    device, sep, mapped = spec.partition("=")
    if not sep or not device or not mapped:
        raise ValueError(f"block device mapping '{spec}' must have form DEVICE=MAPPED")
    out: dict[str, Any] = {"DeviceName": device}
    if mapped == "none":
        from ..client import EMPTY

        out["NoDevice"] = EMPTY
        return out
    if mapped.startswith("ephemeral"):
        out["VirtualName"] = mapped
        return out
    parts = mapped.split(":")
    ebs: dict[str, Any] = {}
    if parts[0]:
        ebs["SnapshotId"] = parts[0]
    if len(parts) > 1 and parts[1]:
        if not parts[1].isdigit():
            raise ValueError(f"block device mapping '{spec}': size must be an integer")
        ebs["VolumeSize"] = int(parts[1])
    if len(parts) > 2 and parts[2]:
        ebs["DeleteOnTermination"] = flexible_bool(parts[2])
    if len(parts) > 3 and parts[3]:
        ebs["VolumeType"] = parts[3]
    if len(parts) > 4 and parts[4]:
        ebs["Iops"] = int(parts[4])
    if not ebs:
        raise ValueError(f"block device mapping '{spec}' maps nothing")
    out["Ebs"] = ebs
    return out


def network_interface(spec: str) -> dict[str, Any]:
    """``[ENI]:INDEX:[SUBNET]:[DESC]:[PRIV_IP]:[SG1,SG2]:[true|false]:[SEC_COUNT]:[SEC_IP,...]``."""
    parts = spec.split(":")
    if len(parts) < 2 or len(parts) > 9 or not parts[1].isdigit():
        raise ValueError(f"network interface '{spec}' must have form "
                         "[ENI]:INDEX:[SUBNET]:[DESC]:[PRIV_IP]:[SG1,SG2]:[true|false]:"
                         "[SEC_COUNT]:[SEC_IP1,SEC_IP2]")
    parts += [""] * (9 - len(parts))
    eni: dict[str, Any] = {"DeviceIndex": int(parts[1])}
    for index, key in ((0, "NetworkInterfaceId"), (2, "SubnetId"), (3, "Description"),
                       (4, "PrivateIpAddress")):
        if parts[index]:
            eni[key] = parts[index]
    if parts[5]:
        eni["SecurityGroupId"] = parts[5].split(",")
    if parts[6]:
        eni["DeleteOnTermination"] = flexible_bool(parts[6])
    if parts[7]:
        eni["SecondaryPrivateIpAddressCount"] = int(parts[7])
    if parts[8]:
        eni["PrivateIpAddresses"] = [{"PrivateIpAddress": ip, "Primary": False}
                                     for ip in parts[8].split(",")]
    return eni


INSTANCE_FILTERS = (
    "architecture", "association.allocation-id", "association.association-id",
    "association.ip-owner-id", "association.public-ip", "availability-zone",
    "block-device-mapping.attach-time", "block-device-mapping.delete-on-termination",
    "block-device-mapping.device-name", "block-device-mapping.status",
    "block-device-mapping.volume-id", "client-token", "dns-name", "group-id", "group-name",
    "hypervisor", "iam-instance-profile.arn", "image-id", "instance-id", "instance-lifecycle",
    "instance-state-code", "instance-state-name", "instance-type", "instance.group-id",
    "instance.group-name", "ip-address", "kernel-id", "key-name", "launch-index",
    "launch-time", "monitoring-state", "network-interface.addresses.association.ip-owner-id",
    "network-interface.addresses.association.public-ip", "network-interface.addresses.primary",
    "network-interface.addresses.private-ip-address", "network-interface.attachment.attach-time",
    "network-interface.attachment.attachment-id",
    "network-interface.attachment.delete-on-termination",
    "network-interface.attachment.device-index", "network-interface.attachment.instance-id",
    "network-interface.attachment.instance-owner-id", "network-interface.attachment.status",
    "network-interface.availability-zone", "network-interface.description",
    "network-interface.group-id", "network-interface.group-name",
    "network-interface.mac-address", "network-interface.network-interface-id",
    "network-interface.owner-id", "network-interface.private-dns-name",
    "network-interface.requester-id", "network-interface.requester-managed",
    "network-interface.source-dest-check", "network-interface.status",
    "network-interface.subnet-id", "network-interface.vpc-id", "owner-id",
    "placement-group-name", "platform", "private-dns-name", "private-ip-address",
    "product-code", "product-code.type", "ramdisk-id", "reason", "requester-id",
    "reservation-id", "root-device-name", "root-device-type", "source-dest-check",
    "spot-instance-request-id", "state-reason-code", "state-reason-message", "subnet-id",
    "tag-key", "tag-value", "tenancy", "virtualization-type", "vpc-id",
)

IMAGE_FILTERS = (
    "architecture", "block-device-mapping.delete-on-termination",
    "block-device-mapping.device-name", "block-device-mapping.snapshot-id",
    "block-device-mapping.volume-size", "block-device-mapping.volume-type", "description",
    "hypervisor", "image-id", "image-type", "is-public", "kernel-id", "manifest-location",
    "name", "owner-alias", "owner-id", "platform", "product-code", "product-code.type",
    "ramdisk-id", "root-device-name", "root-device-type", "state", "state-reason-code",
    "state-reason-message", "tag-key", "tag-value", "virtualization-type",
)

GROUP_FILTERS = (
    "description", "egress.ip-permission.prefix-list-id", "group-id", "group-name",
    "ip-permission.cidr", "ip-permission.from-port", "ip-permission.group-id",
    "ip-permission.group-name", "ip-permission.protocol", "ip-permission.to-port",
    "ip-permission.user-id", "owner-id", "tag-key", "tag-value", "vpc-id",
)

ADDRESS_FILTERS = (
    "allocation-id", "association-id", "domain", "instance-id", "network-interface-id",
    "network-interface-owner-id", "private-ip-address", "public-ip",
)

VOLUME_FILTERS = (
    "attachment.attach-time", "attachment.delete-on-termination", "attachment.device",
    "attachment.instance-id", "attachment.status", "availability-zone", "create-time",
    "encrypted", "size", "snapshot-id", "status", "tag-key", "tag-value", "volume-id",
    "volume-type",
)

SNAPSHOT_FILTERS = (
    "description", "encrypted", "owner-alias", "owner-id", "progress", "snapshot-id",
    "start-time", "status", "tag-key", "tag-value", "volume-id", "volume-size",
)
