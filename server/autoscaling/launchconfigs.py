"""Launch configurations: Create/Describe/DeleteLaunchConfiguration."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from server import errors
from server.autoscaling.common import (
    MAX_LAUNCH_CONFIGS,
    AlreadyExists,
    LimitExceeded,
    ResourceInUse,
    bool_param,
    name_param,
    page,
    service,
)
from server.autoscaling.model import LaunchConfig
from server.protocol.query import Context
from server.protocol.xml import iso8601


def create_launch_configuration(ctx: Context) -> Any:
    """CreateLaunchConfiguration: the image, type, key, groups and user data of instances."""
    from server.clc.instances import launchable_image

    svc = service(ctx)
    p = ctx.params
    name = name_param(ctx, "LaunchConfigurationName")
    key = f"{ctx.account_id}/{name}"
    if key in svc.launch_configs:
        raise AlreadyExists(f"Launch Configuration by this name already exists - A launch "
                            f"configuration already exists with the name {name}")
    if sum(1 for lc in svc.launch_configs.values()
           if lc.account_id == ctx.account_id) >= MAX_LAUNCH_CONFIGS:
        raise LimitExceeded(f"Launch configuration limit exceeded: an account may have "
                            f"{MAX_LAUNCH_CONFIGS} launch configurations")
    if p.get("InstanceId"):
        raise errors.ValidationError("Creating a launch configuration from an instance is not "
                                     "supported; give ImageId and InstanceType")
    image_id = name_param(ctx, "ImageId")
    instance_type = name_param(ctx, "InstanceType")
    clc = ctx.cloud.clc
    try:
        launchable_image(ctx, image_id)
    except errors.AWSError as exc:
        raise errors.ValidationError(f"Invalid image id: {image_id} ({exc.message})") from None
    if instance_type not in clc.vm_types:
        raise errors.ValidationError(f"Invalid instance type: {instance_type}")
    key_name = p.get("KeyName") or ""
    if key_name and (ctx.account_id, key_name) not in clc.key_pairs:
        raise errors.ValidationError(f"Invalid key name: {key_name}")
    groups = [g for g in ctx.params.strings("SecurityGroups") if g]
    for g in groups:
        known = g in clc.groups if g.startswith("sg-") else \
            (ctx.account_id, g) in clc.group_names or g == "default"
        if not known:
            raise errors.ValidationError(f"Invalid security group: {g}")
    user_data = p.get("UserData") or ""
    if user_data:
        try:
            base64.b64decode(user_data, validate=True)
        except (binascii.Error, ValueError):
            user_data = base64.b64encode(str(user_data).encode()).decode()
    for ref in ("KernelId", "RamdiskId"):
        value = p.get(ref)
        if value and value not in clc.images:
            raise errors.ValidationError(f"Invalid {ref}: {value}")
    monitoring = p.struct("InstanceMonitoring").get("Enabled")
    lc = LaunchConfig(
        id=key, account_id=ctx.account_id, name=name, image_id=image_id,
        instance_type=instance_type, created=ctx.cloud.clock.now(),
        arn=(f"arn:aws:autoscaling:{ctx.cloud.config.cloud['region']}:{ctx.account_id}:"
             f"launchConfiguration:{uuid.uuid4()}:launchConfigurationName/{name}"),
        key_name=key_name, security_groups=groups, user_data=user_data,
        kernel_id=p.get("KernelId") or "", ramdisk_id=p.get("RamdiskId") or "",
        monitoring=str(monitoring).lower() != "false",
        iam_profile=p.get("IamInstanceProfile") or "",
        public_ip=bool_param(ctx, "AssociatePublicIpAddress"),
        ebs_optimized=bool(bool_param(ctx, "EbsOptimized", False)),
        block_devices=[dict(b) for b in p.list("BlockDeviceMappings") if isinstance(b, dict)])
    svc.launch_configs[key] = lc
    svc.save(lc)
    return None


def launch_config_xml(lc: LaunchConfig) -> dict[str, Any]:
    """One LaunchConfigurations member."""
    return {
        "LaunchConfigurationName": lc.name, "LaunchConfigurationARN": lc.arn,
        "ImageId": lc.image_id, "InstanceType": lc.instance_type,
        "KeyName": lc.key_name or None,
        "SecurityGroups": list(lc.security_groups),
        "UserData": lc.user_data or None,
        "KernelId": lc.kernel_id or None, "RamdiskId": lc.ramdisk_id or None,
        "BlockDeviceMappings": lc.block_devices,
        "InstanceMonitoring": {"Enabled": lc.monitoring},
        "IamInstanceProfile": lc.iam_profile or None,
        "CreatedTime": iso8601(lc.created),
        "EbsOptimized": lc.ebs_optimized,
        "AssociatePublicIpAddress": lc.public_ip,
    }


def describe_launch_configurations(ctx: Context) -> Any:
    """DescribeLaunchConfigurations: the caller's, by name, paged."""
    svc = service(ctx)
    names = ctx.params.strings("LaunchConfigurationNames")
    mine = sorted((lc for lc in svc.launch_configs.values() if lc.account_id == ctx.account_id),
                  key=lambda lc: lc.name)
    if names:
        mine = [lc for lc in mine if lc.name in names or lc.arn in names]
    chunk, token = page(ctx, mine)
    return {"LaunchConfigurations": [launch_config_xml(lc) for lc in chunk], "NextToken": token}


def delete_launch_configuration(ctx: Context) -> Any:
    """DeleteLaunchConfiguration (refused while a group uses it)."""
    svc = service(ctx)
    name = name_param(ctx, "LaunchConfigurationName")
    lc = svc.launch_configs.get(f"{ctx.account_id}/{name}")
    if lc is None:
        raise errors.ValidationError(f"Launch configuration name not found - {name}")
    for group in svc.groups.values():
        if group.account_id == ctx.account_id and group.launch_config == name:
            raise ResourceInUse(f"Cannot delete launch configuration {name} because it is "
                                f"attached to AutoScalingGroup {group.name}")
    del svc.launch_configs[lc.id]
    svc.forget(lc)
    return None
