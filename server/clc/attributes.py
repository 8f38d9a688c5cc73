"""Instance attributes: Describe/Modify/ResetInstanceAttribute."""

from __future__ import annotations

from typing import Any

from server import errors
from server.auth.authz import action, each_param
from server.clc.instances import (
    IncorrectInstanceState,
    check_shutdown_behavior,
    get_instance,
    image_not_found,
)
from server.protocol.query import Context
from server.protocol.xml import iso8601

# -- attributes ------------------------------------------------------------------------
#: Every attribute name DescribeInstanceAttribute knows (AWS's InstanceAttributeName).
_ATTRS = ("instanceType", "kernel", "ramdisk", "userData", "disableApiTermination",
          "instanceInitiatedShutdownBehavior", "rootDeviceName", "blockDeviceMapping",
          "productCodes", "sourceDestCheck", "groupSet", "ebsOptimized", "sriovNetSupport",
          "enaSupport", "enclaveOptions", "disableApiStop")
#: Those that ModifyInstanceAttribute can change, by the name of their struct parameter.
_MODIFIABLE = {"instanceType": "InstanceType", "kernel": "Kernel", "ramdisk": "Ramdisk",
               "userData": "UserData", "disableApiTermination": "DisableApiTermination",
               "instanceInitiatedShutdownBehavior": "InstanceInitiatedShutdownBehavior",
               "sourceDestCheck": "SourceDestCheck", "groupSet": "GroupId",
               "ebsOptimized": "EbsOptimized", "sriovNetSupport": "SriovNetSupport",
               "enaSupport": "EnaSupport", "disableApiStop": "DisableApiStop",
               "blockDeviceMapping": "BlockDeviceMapping"}
#: Attributes of VPC instances only: an EC2-Classic instance has none of them.
_VPC_ONLY = ("sourceDestCheck", "groupSet")

InvalidInstanceAttributeValue = errors._error("InvalidInstanceAttributeValue",
                                              "InvalidInstanceAttributeValue")


def _unknown_attribute(attr: str) -> errors.AWSError:
    return errors.InvalidParameterValue(f"Value ({attr}) for parameter attribute is invalid. "
                                        "Unknown attribute.")


def _classic(attr: str) -> errors.AWSError:
    return errors.InvalidParameterCombination(
        f"The attribute '{attr}' applies only to instances in a VPC; this is an EC2-Classic "
        "instance")


def describe_instance_attribute(ctx: Context) -> Any:
    """DescribeInstanceAttribute."""
    attr = ctx.params.str("Attribute", required=True)
    if attr not in _ATTRS:
        raise _unknown_attribute(attr)
    inst = get_instance(ctx, ctx.params.str("InstanceId", required=True))
    if attr == "sourceDestCheck":
        raise _classic(attr)
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
    elif attr == "disableApiStop":
        value = {"value": inst.disable_api_stop}
    elif attr == "instanceInitiatedShutdownBehavior":
        value = {"value": inst.shutdown_behavior}
    elif attr == "rootDeviceName":
        value = {"value": inst.root_device_name}
    elif attr == "ebsOptimized":
        value = {"value": inst.ebs_optimized}
    elif attr == "enaSupport":
        value = {"value": False}
    elif attr == "enclaveOptions":
        value = {"enabled": False}
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


def _requested_change(ctx: Context) -> tuple[str, Any]:
    """The one attribute a ModifyInstanceAttribute call changes and its new value, in either
    form: ``Attribute``/``Value`` or the attribute's own parameter (``InstanceType.Value``,
    ``GroupId.N``, ``BlockDeviceMapping.N``); AWS takes one attribute per call."""
    p = ctx.params
    attr = p.str("Attribute")
    if attr is not None and attr not in _ATTRS:
        raise _unknown_attribute(attr)
    given = [name for name, param in _MODIFIABLE.items() if p.get(param) is not None]
    if attr is not None:
        if given:
            raise errors.InvalidParameterCombination(
                "Attribute and Value cannot be combined with an attribute's own parameter")
        if attr not in _MODIFIABLE:
            raise errors.InvalidParameterValue(
                f"Value ({attr}) for parameter attribute is invalid. It cannot be modified.")
        value = p.get("Value")
        if value is None or value == "":
            raise errors.MissingParameter("The request must contain the parameter value")
        if not isinstance(value, str):
            raise errors.InvalidParameterValue(f"Invalid value for parameter value of {attr}")
        return attr, value
    if not given:
        raise errors.InvalidParameterCombination("No attribute to modify was given")
    if len(given) > 1:
        raise errors.InvalidParameterCombination("Only one attribute can be modified at a time")
    name = given[0]
    raw = p.get(_MODIFIABLE[name])
    if name in ("groupSet", "blockDeviceMapping"):
        return name, raw
    value = raw.get("Value") if isinstance(raw, dict) else raw
    if value is None:
        raise errors.MissingParameter(f"The request must contain the parameter "
                                      f"{_MODIFIABLE[name]}.Value")
    if not isinstance(value, str):
        raise errors.InvalidParameterValue(f"Invalid value for parameter {_MODIFIABLE[name]}")
    return name, value


def modify_instance_attribute(ctx: Context) -> Any:
    """ModifyInstanceAttribute: one attribute per call, as AWS."""
    clc = ctx.cloud.clc
    inst = get_instance(ctx, ctx.params.str("InstanceId", required=True))
    attr, value = _requested_change(ctx)
    if attr in _VPC_ONLY:
        raise _classic(attr)
    if inst.state in ("shutting-down", "terminated"):
        raise IncorrectInstanceState(f"The instance '{inst.id}' is not in a state from which "
                                     "its attributes can be modified.")

    def stopped() -> None:
        if inst.state != "stopped":
            raise IncorrectInstanceState(
                f"The instance '{inst.id}' is not in the 'stopped' state.")

    if attr == "instanceType":
        stopped()
        if value not in clc.vm_types:
            raise errors.InvalidParameterValue(f"Invalid value '{value}' for InstanceType.")
        inst.vm_type = value
    elif attr in ("kernel", "ramdisk"):
        stopped()
        if value not in clc.images:
            raise image_not_found(value)
        setattr(inst, f"{attr}_id", value)
    elif attr == "userData":
        stopped()
        inst.user_data = value
    elif attr in ("disableApiTermination", "ebsOptimized", "disableApiStop"):
        if str(value).lower() not in ("true", "false"):
            raise errors.InvalidParameterValue(f"Invalid value '{value}' for {attr}")
        if attr == "disableApiStop":
            inst.disable_api_stop = str(value).lower() == "true"
        elif attr == "ebsOptimized":
            stopped()
            inst.ebs_optimized = str(value).lower() == "true"
        else:
            inst.disable_api_termination = str(value).lower() == "true"
    elif attr == "instanceInitiatedShutdownBehavior":
        check_shutdown_behavior(value, inst.root_device_type)
        inst.shutdown_behavior = value
    elif attr in ("sriovNetSupport", "enaSupport"):
        stopped()
        raise errors.UnsupportedOperation(f"The attribute '{attr}' is not supported by this "
                                          "cloud's hypervisors")
    elif attr == "blockDeviceMapping":
        _delete_on_termination(ctx, inst, value)
    clc.save(inst)
    return None


def _delete_on_termination(ctx: Context, inst: Any, mappings: Any) -> None:
    """Change ``DeleteOnTermination`` of volumes attached to the instance (by device)."""
    if not isinstance(mappings, list):
        mappings = [mappings]
    sc = ctx.cloud.ebs
    for mapping in mappings:
        if not isinstance(mapping, dict) or not mapping.get("DeviceName"):
            raise errors.MissingParameter("The request must contain the parameter "
                                          "BlockDeviceMapping.N.DeviceName")
        device = mapping["DeviceName"]
        bd = next((b for b in inst.block_devices
                   if b.get("device") == device and b.get("volume_id")), None)
        if bd is None:
            raise InvalidInstanceAttributeValue(f"No device is currently mapped at {device}")
        ebs: dict[str, Any] = mapping["Ebs"] if isinstance(mapping.get("Ebs"), dict) else {}
        wanted = ebs.get("VolumeId")
        if wanted and wanted != bd["volume_id"]:
            raise InvalidInstanceAttributeValue(
                f"The volume {wanted} is not attached at {device}; {bd['volume_id']} is")
        delete = ebs.get("DeleteOnTermination")
        if delete is None:
            continue
        if str(delete).lower() not in ("true", "false"):
            raise errors.InvalidParameterValue(f"Invalid value '{delete}' for "
                                               "DeleteOnTermination")
        bd["delete_on_termination"] = str(delete).lower() == "true"
        vol = sc.volumes.get(bd["volume_id"]) if sc is not None else None
        if sc is not None and vol is not None:
            vol.delete_on_termination = bd["delete_on_termination"]
            sc.save(vol)


#: What ResetInstanceAttribute can reset (sourceDestCheck only for VPC instances).
_RESETTABLE = ("kernel", "ramdisk", "sourceDestCheck")


def reset_instance_attribute(ctx: Context) -> Any:
    """ResetInstanceAttribute (kernel, ramdisk; sourceDestCheck is VPC-only)."""
    clc = ctx.cloud.clc
    attr = ctx.params.str("Attribute", required=True)
    if attr not in _RESETTABLE:
        raise errors.InvalidParameterValue(f"Value ({attr}) for parameter attribute is invalid. "
                                           "Only kernel, ramdisk and sourceDestCheck can be "
                                           "reset.")
    inst = get_instance(ctx, ctx.params.str("InstanceId", required=True))
    if attr == "sourceDestCheck":
        raise _classic(attr)
    img = clc.images.get(inst.image_id)
    if inst.state != "stopped":
        raise IncorrectInstanceState(f"The instance '{inst.id}' is not in the 'stopped' state.")
    if attr == "kernel":
        inst.kernel_id = img.kernel_id if img else ""
    else:
        inst.ramdisk_id = img.ramdisk_id if img else ""
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
