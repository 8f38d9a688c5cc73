"""The port messages as plain CBOR-able values, and back.

The dataclasses of :mod:`server.nc.types` travel as dicts (enums by value, tuples as
lists, bytes as bytes: CBOR carries them natively).
"""

from __future__ import annotations

from typing import Any

import cbor2

from server.cc.cluster import NodeInfo
from server.nc.types import (
    BlockDevice,
    InstanceEvent,
    InstanceSpec,
    InstanceState,
    Outcome,
    Resources,
)

#: The error code of ``/cc/deregister_node`` refused: the node still has instances.
NODE_BUSY = "NodeHasInstances"


def dumps(value: Any) -> bytes:
    """CBOR bytes of a message."""
    return cbor2.dumps(value)


def loads(data: bytes) -> Any:
    """A message from CBOR bytes (ValueError when malformed)."""
    try:
        return cbor2.loads(data) if data else None
    except Exception as exc:  # cbor2 raises several kinds for bad input
        raise ValueError(f"malformed CBOR: {exc}") from None


def resources(r: Resources) -> list[int]:
    """``[cores, memory_mb, disk_gb]``."""
    return [r.cores, r.memory_mb, r.disk_gb]


def to_resources(v: list[int]) -> Resources:
    """The inverse of :func:`resources`."""
    return Resources(int(v[0]), int(v[1]), int(v[2]))


def device(d: BlockDevice) -> dict[str, Any]:
    """A block device."""
    return {"device": d.device, "volume_id": d.volume_id, "path": d.path,
            "size_gb": d.size_gb, "fmt": d.fmt}


def to_device(v: dict[str, Any]) -> BlockDevice:
    """The inverse of :func:`device`."""
    return BlockDevice(str(v["device"]), str(v.get("volume_id", "")), str(v.get("path", "")),
                       int(v.get("size_gb", 0)), str(v.get("fmt", "raw")))


_SPEC_PLAIN = ("instance_id", "vm_type", "image_id", "kernel_id", "ramdisk_id", "private_ip",
               "public_ip", "mac", "key_name", "public_key", "user_data", "launch_index",
               "account_id", "reservation_id", "root_device_type")


def spec(s: InstanceSpec) -> dict[str, Any]:
    """An ncRunInstance request."""
    out: dict[str, Any] = {k: getattr(s, k) for k in _SPEC_PLAIN}
    out["resources"] = resources(s.resources)
    out["groups"] = list(s.groups)
    out["block_devices"] = [device(b) for b in s.block_devices]
    out["image_source"] = dict(s.image_source)
    out["metadata"] = dict(s.metadata)
    return out


def to_spec(v: dict[str, Any]) -> InstanceSpec:
    """The inverse of :func:`spec`."""
    plain = {k: v[k] for k in _SPEC_PLAIN if k in v}
    return InstanceSpec(resources=to_resources(v["resources"]),
                        groups=tuple(v.get("groups", ())),
                        block_devices=tuple(to_device(b) for b in v.get("block_devices", ())),
                        image_source=dict(v.get("image_source", {})),
                        metadata=dict(v.get("metadata", {})), **plain)


def event(e: InstanceEvent) -> list[Any]:
    """``[instance, node, state, time, reason]``."""
    return [e.instance_id, e.node, e.state.value, e.time, e.reason]


def to_event(v: list[Any]) -> InstanceEvent:
    """The inverse of :func:`event`."""
    return InstanceEvent(str(v[0]), str(v[1]), InstanceState(v[2]), float(v[3]), str(v[4]))


def outcome(o: Outcome) -> list[Any]:
    """``[ok, error]``."""
    return [o.ok, o.error]


def to_outcome(v: list[Any]) -> Outcome:
    """The inverse of :func:`outcome`."""
    return Outcome(bool(v[0]), str(v[1]))


def node_info(n: NodeInfo) -> dict[str, Any]:
    """One row of describe-nodes."""
    return {"name": n.name, "zone": n.zone, "status": n.status, "power": n.power,
            "total": resources(n.total), "used": resources(n.used),
            "instances": list(n.instances)}


def to_node_info(v: dict[str, Any]) -> NodeInfo:
    """The inverse of :func:`node_info`."""
    return NodeInfo(str(v["name"]), str(v["zone"]), str(v["status"]), str(v["power"]),
                    to_resources(v["total"]), to_resources(v["used"]),
                    tuple(v.get("instances", ())))
