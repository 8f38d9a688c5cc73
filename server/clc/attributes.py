"""Instance attributes: Describe/Modify/ResetInstanceAttribute."""

from __future__ import annotations

from typing import Any

from server import errors
from server.auth.authz import action, each_param
from server.clc.instances import IncorrectInstanceState, _resolve_groups, get_instance
from server.protocol.query import Context
from server.protocol.xml import iso8601

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
    "DescribeInstanceAttribute": action(describe_instance_attribute,
                                        "ec2:DescribeInstanceAttribute"),
    "ModifyInstanceAttribute": action(modify_instance_attribute, "ec2:ModifyInstanceAttribute",
                                      resources=each_param("InstanceId", "instance")),
    "ResetInstanceAttribute": action(reset_instance_attribute, "ec2:ResetInstanceAttribute",
                                     resources=each_param("InstanceId", "instance")),
}
