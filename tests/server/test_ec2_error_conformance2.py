"""EC2 conformance, second table: the cases the first one (``test_ec2_error_conformance``)
does not list, checked against AWS's EC2 API reference.

* :data:`CASES`: ``(call, parameters, code, status)`` run with boto3, as in the first
  table: per-parameter constraints (names, lengths, character sets, volume sizes and IOPS
  per type, image names, rule ports and protocols, CIDRs), MaxResults bounds and its
  combination with explicit IDs, wrong states, attribute names, launch templates.
* :data:`RAW_CASES`: signed Query requests boto3 would refuse to send (a parameter EC2
  does not know, an integer or a boolean that is not one, an unknown action, a missing
  required parameter).
* :data:`ACCEPTED`: calls AWS answers with success (deleting a key pair that does not
  exist, every DescribeInstanceAttribute name, an ICMP rule of every code, ...).
* Shapes: the fields AWS returns, and RunInstances' idempotent ClientToken.

Placeholders are the first table's (:func:`test_ec2_error_conformance.build_world`) and
:func:`build_more`'s: ``{protected}`` (an instance with DisableApiTermination),
``{ebs_image}`` (an image registered from ``{snapshot}``, named ``{ebs_image_name}``),
``{template}`` (a launch template's name), ``{stopped}`` (a stopped EBS-backed instance),
``{associated}`` (an elastic IP associated with ``{protected}``), ``{deregistered}`` (an
image registered and deregistered).  ``benchmarks/ec2_conformance.py`` runs these
tables against moto_server too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from helpers import ec2_query, new_account, wait_state, wait_volume
from test_ec2_error_conformance import (
    NO_GROUP,
    NO_IMAGE,
    NO_INSTANCE,
    NO_SNAPSHOT,
    NO_VOLUME,
    RULE,
    TAG,
    _fill,
    assert_error,
    build_world,
)

NO_TEMPLATE = "lt-0123456789abcdef0"
#: An ECDSA public key: EC2 imports RSA and ed25519 keys only.
ECDSA_KEY = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
    serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
CIDR = [{"CidrIp": "10.0.0.0/8"}]


def _case(call: str, code: str, status: int = 400, **params: Any) -> Any:
    """One row, its test id ``call-code``."""
    return pytest.param(call, params, code, status, id=f"{call}-{code}")


def _rule(proto: str, lo: int | None, hi: int | None, cidr: str = "10.0.0.0/8") -> Any:
    """One IpPermissions entry (ports left out when None)."""
    rule: dict[str, Any] = {"IpProtocol": proto, "IpRanges": [{"CidrIp": cidr}]}
    if lo is not None:
        rule["FromPort"] = lo
    if hi is not None:
        rule["ToPort"] = hi
    return [rule]


def _run(**params: Any) -> dict[str, Any]:
    """RunInstances' parameters: one of the public image, and ``params``."""
    return {"ImageId": "{image}", "MinCount": 1, "MaxCount": 1, **params}


def _vol(**params: Any) -> dict[str, Any]:
    """CreateVolume's parameters: in the zone, and ``params``."""
    return {"AvailabilityZone": "{zone}", **params}


CASES = [
    # -- key pairs: names of 1 to 255 ASCII characters, key types, key material ----------
    _case("create_key_pair", "InvalidParameterValue", KeyName="schlüssel"),
    _case("create_key_pair", "InvalidParameterValue", KeyName="k", KeyType="dsa"),
    _case("import_key_pair", "InvalidParameterValue", KeyName="schlüssel",
          PublicKeyMaterial=b"ssh-rsa AAAA"),
    _case("import_key_pair", "InvalidKey.Format", KeyName="garbage",
          PublicKeyMaterial=b"this is not a key"),
    _case("import_key_pair", "InvalidKey.Format", KeyName="truncated",
          PublicKeyMaterial=b"ssh-rsa AAAAB3NzaC1yc2E"),
    _case("describe_key_pairs", "InvalidKeyPair.NotFound", KeyNames=["taken", "nope"]),

    # -- security groups: names, descriptions, rules ------------------------------------
    _case("create_security_group", "InvalidParameterValue", GroupName="grüppe",
          Description="d"),
    _case("create_security_group", "InvalidParameterValue", GroupName="ascii",
          Description="beschreibung ä"),
    _case("create_security_group", "InvalidParameterValue", GroupName="sg-1",
          Description="d"),
    _case("delete_security_group", "CannotDelete", GroupName="default"),
    _case("describe_security_groups", "InvalidGroup.NotFound", GroupIds=[NO_GROUP]),
    _case("describe_security_groups", "InvalidGroup.NotFound", GroupNames=["{group}", "nope"]),
    _case("describe_security_groups", "InvalidParameterCombination", MaxResults=5,
          GroupIds=["{group_id}"]),
    _case("authorize_security_group_ingress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=_rule("tcp", 0, 65536)),
    _case("authorize_security_group_ingress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=_rule("udp", -5, 10)),
    _case("authorize_security_group_ingress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=_rule("icmp", 8, 256)),
    _case("authorize_security_group_ingress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=_rule("icmp", -2, -1)),
    _case("authorize_security_group_ingress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=_rule("256", None, None)),
    _case("authorize_security_group_ingress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=_rule("tcp", 22, 22, "300.0.0.0/8")),
    _case("authorize_security_group_ingress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=_rule("tcp", 22, 22, "not-a-cidr")),
    _case("authorize_security_group_ingress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=_rule("tcp", 22, 22, "10.0.0.0")),
    _case("authorize_security_group_ingress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=_rule("tcp", 22, 22, "10.0.0.0/-1")),
    _case("authorize_security_group_ingress", "InvalidPermission.Duplicate",
          GroupName="{group}", IpPermissions=_rule("tcp", 80, 80)),
    _case("authorize_security_group_ingress", "InvalidPermission.Duplicate",
          GroupId="{group_id}", IpPermissions=_rule("6", 80, 80)),
    _case("revoke_security_group_ingress", "InvalidGroup.NotFound", GroupName="nope",
          IpPermissions=RULE),
    _case("revoke_security_group_ingress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=_rule("gopher", 1, 2)),
    _case("authorize_security_group_egress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=RULE),
    _case("revoke_security_group_egress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=RULE),
    _case("authorize_security_group_egress", "InvalidGroup.NotFound", GroupId=NO_GROUP,
          IpPermissions=RULE),
    _case("authorize_security_group_ingress", "InvalidGroup.NotFound", GroupId="{group_id}",
          IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 2,
                          "UserIdGroupPairs": [{"GroupName": "nope"}]}]),

    # -- MaxResults: bounds per action, and never with explicit IDs -------------------
    _case("describe_instances", "InvalidParameterValue", MaxResults=4),
    _case("describe_instances", "InvalidParameterCombination", MaxResults=5,
          InstanceIds=["{instance}"]),
    _case("describe_instance_status", "InvalidParameterValue", MaxResults=4),
    _case("describe_instance_status", "InvalidParameterValue", MaxResults=1001),
    _case("describe_instance_status", "InvalidParameterCombination", MaxResults=5,
          InstanceIds=["{instance}"]),
    _case("describe_volumes", "InvalidParameterValue", MaxResults=4),
    _case("describe_volumes", "InvalidParameterCombination", MaxResults=5,
          VolumeIds=["{volume}"]),
    _case("describe_volume_status", "InvalidParameterValue", MaxResults=4),
    _case("describe_snapshots", "InvalidParameterValue", MaxResults=4),
    _case("describe_snapshots", "InvalidParameterCombination", MaxResults=5,
          SnapshotIds=["{snapshot}"]),
    _case("describe_tags", "InvalidParameterValue", MaxResults=4),
    _case("describe_launch_templates", "InvalidParameterValue", MaxResults=201),
    _case("describe_instance_types", "InvalidInstanceType",
          InstanceTypes=["m1.small", "x9.huge"]),

    # -- RunInstances' parameters -------------------------------------------------------
    _case("run_instances", "InvalidParameterValue", **_run(InstanceType="x9.huge")),
    _case("run_instances", "InvalidParameterValue", **_run(InstanceType="")),
    _case("run_instances", "InvalidParameterValue", **_run(MinCount=0)),
    _case("run_instances", "InvalidParameterValue", **_run(MinCount=2, MaxCount=1)),
    _case("run_instances", "InvalidParameterValue",
          **_run(InstanceInitiatedShutdownBehavior="explode")),
    _case("run_instances", "InvalidKeyPair.NotFound", **_run(KeyName="nope")),
    _case("run_instances", "InvalidGroup.NotFound", **_run(SecurityGroups=["nope"])),
    _case("run_instances", "InvalidGroup.NotFound", **_run(SecurityGroupIds=[NO_GROUP])),
    _case("run_instances", "InvalidAMIID.NotFound", ImageId=NO_IMAGE, MinCount=1,
          MaxCount=1),
    _case("run_instances", "InvalidAMIID.Malformed", ImageId="ami-", MinCount=1,
          MaxCount=1),
    _case("run_instances", "InvalidParameterValue",
          **_run(Placement={"AvailabilityZone": "nowhere"})),
    _case("run_instances", "InvalidParameterValue", **_run(TagSpecifications=[
        {"ResourceType": "bogus", "Tags": TAG}])),
    _case("run_instances", "InvalidParameterValue", **_run(TagSpecifications=[
        {"ResourceType": "snapshot", "Tags": TAG}])),
    _case("run_instances", "InvalidParameterValue", **_run(TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "aws:x", "Value": "v"}]}])),
    _case("run_instances", "InvalidParameterValue", **_run(TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "k" * 129, "Value": "v"}]}])),
    _case("run_instances", "InvalidAMIID.NotFound", **_run(RamdiskId="ari-12345678")),
    _case("run_instances", "MissingParameter",
          **_run(BlockDeviceMappings=[{"DeviceName": "/dev/sdb"}])),
    _case("run_instances", "MissingParameter", **_run(BlockDeviceMappings=[
        {"DeviceName": "/dev/sdb", "Ebs": {"VolumeType": "standard"}}])),
    _case("run_instances", "InvalidAMIID.Malformed", **_run(KernelId="foo")),

    # -- instances in the wrong state, protected ones, attributes -----------------------
    _case("terminate_instances", "OperationNotPermitted", InstanceIds=["{protected}"]),
    _case("terminate_instances", "InvalidInstanceID.NotFound",
          InstanceIds=["{instance}", NO_INSTANCE]),
    _case("reboot_instances", "InvalidInstanceID.Malformed", InstanceIds=["{instance}", "x"]),
    _case("modify_instance_attribute", "IncorrectInstanceState", InstanceId="{instance}",
          InstanceType={"Value": "c1.medium"}),
    _case("modify_instance_attribute", "IncorrectInstanceState", InstanceId="{instance}",
          Ramdisk={"Value": "eri-12345678"}),
    _case("modify_instance_attribute", "InvalidParameterValue", InstanceId="{instance}",
          InstanceInitiatedShutdownBehavior={"Value": "explode"}),
    _case("modify_instance_attribute", "InvalidParameterValue", InstanceId="{instance}",
          Attribute="bogus", Value="x"),
    _case("modify_instance_attribute", "InvalidParameterCombination", InstanceId="{instance}",
          DisableApiTermination={"Value": True},
          InstanceInitiatedShutdownBehavior={"Value": "terminate"}),
    _case("modify_instance_attribute", "IncorrectInstanceState", InstanceId="{terminated}",
          DisableApiTermination={"Value": True}),
    _case("describe_instance_attribute", "InvalidParameterValue", InstanceId="{instance}",
          Attribute="bogus"),
    _case("reset_instance_attribute", "InvalidParameterValue", InstanceId="{instance}",
          Attribute="instanceType"),
    _case("reset_instance_attribute", "InvalidParameterValue", InstanceId="{instance}",
          Attribute="bogus"),
    _case("reset_instance_attribute", "InvalidInstanceID.Malformed", InstanceId="foo",
          Attribute="kernel"),
    _case("get_console_output", "InvalidInstanceID.Malformed", InstanceId="i-zzzzzzzz"),
    _case("reset_instance_attribute", "IncorrectInstanceState", InstanceId="{instance}",
          Attribute="kernel"),
    _case("reset_instance_attribute", "IncorrectInstanceState", InstanceId="{instance}",
          Attribute="ramdisk"),
    _case("run_instances", "InvalidParameterCombination",
          **_run(InstanceInitiatedShutdownBehavior="stop")),
    _case("modify_snapshot_attribute", "InvalidParameterValue", SnapshotId="{snapshot}",
          Attribute="productCodes", OperationType="add", UserIds=["123456789012"]),
    _case("modify_snapshot_attribute", "InvalidParameterValue", SnapshotId="{snapshot}",
          CreateVolumePermission={"Add": [{"Group": "everyone"}]}),
    _case("modify_snapshot_attribute", "InvalidParameterValue", SnapshotId="{snapshot}",
          CreateVolumePermission={"Add": [{"UserId": "x"}]}),
    # the legacy form's UserGroup.N is an attribute item, not an enumeration's value
    _case("modify_snapshot_attribute", "InvalidAMIAttributeItemValue", SnapshotId="{snapshot}",
          Attribute="createVolumePermission", OperationType="add", GroupNames=["everyone"]),
    _case("modify_image_attribute", "InvalidAMIAttributeItemValue", ImageId="{ebs_image}",
          Attribute="launchPermission", OperationType="add", UserGroups=["everyone"]),
    _case("monitor_instances", "InvalidInstanceID.Malformed", InstanceIds=["foo"]),

    # -- volumes: sizes and IOPS per type, states ---------------------------------------
    _case("create_volume", "InvalidParameterValue", **_vol(Size=1025, VolumeType="standard")),
    _case("create_volume", "InvalidParameterValue", **_vol(Size=16385, VolumeType="gp2")),
    _case("create_volume", "InvalidParameterValue", **_vol(Size=3, VolumeType="io1",
                                                           Iops=100)),
    _case("create_volume", "InvalidParameterValue", **_vol(Size=10, VolumeType="io1",
                                                           Iops=99)),
    _case("create_volume", "InvalidParameterValue", **_vol(Size=10, VolumeType="io1",
                                                           Iops=1000)),
    _case("create_volume", "InvalidParameterValue", **_vol(Size=1000, VolumeType="io1",
                                                           Iops=64001)),
    _case("create_volume", "InvalidParameterValue", **_vol(Size=124, VolumeType="st1")),
    _case("create_volume", "InvalidParameterValue", **_vol(Size=124, VolumeType="sc1")),
    _case("create_volume", "InvalidParameterValue", **_vol(Size=10, VolumeType="gp3",
                                                           Iops=2999)),
    _case("create_volume", "InvalidParameterValue", **_vol(Size=10, VolumeType="gp3",
                                                           Throughput=124)),
    _case("create_volume", "InvalidParameterCombination", **_vol(Size=10, VolumeType="gp2",
                                                                 Throughput=125)),
    _case("create_volume", "MissingParameter", **_vol()),
    _case("create_volume", "InvalidParameterValue", **_vol(Size=-1)),
    _case("detach_volume", "IncorrectState", VolumeId="{volume}", Force=True),
    _case("attach_volume", "MissingParameter", VolumeId="{volume}",
          InstanceId="{instance}", Device=""),
    _case("describe_volume_attribute", "InvalidParameterValue", VolumeId="{volume}",
          Attribute="bogus"),
    _case("describe_volume_attribute", "InvalidVolumeID.Malformed", VolumeId="foo",
          Attribute="autoEnableIO"),
    _case("modify_volume_attribute", "InvalidVolume.NotFound", VolumeId=NO_VOLUME,
          AutoEnableIO={"Value": True}),
    _case("enable_volume_io", "InvalidVolume.NotFound", VolumeId=NO_VOLUME),
    _case("enable_volume_io", "InvalidVolumeID.Malformed", VolumeId="foo"),
    _case("modify_volume_attribute", "InvalidVolumeID.Malformed", VolumeId="foo",
          AutoEnableIO={"Value": True}),

    # -- snapshots and images -----------------------------------------------------------
    _case("delete_snapshot", "InvalidSnapshot.InUse", SnapshotId="{snapshot}"),
    _case("create_snapshot", "InvalidParameterValue", VolumeId="{volume}", TagSpecifications=[
        {"ResourceType": "volume", "Tags": TAG}]),
    _case("modify_snapshot_attribute", "InvalidSnapshotID.Malformed", SnapshotId="foo",
          CreateVolumePermission={"Add": [{"Group": "all"}]}),
    _case("reset_snapshot_attribute", "InvalidSnapshotID.Malformed", SnapshotId="foo",
          Attribute="createVolumePermission"),
    _case("register_image", "InvalidAMIName.Malformed", Name="bad*name",
          ImageLocation="bucket/img.manifest.xml"),
    _case("register_image", "InvalidAMIName.Malformed", Name="n" * 129,
          ImageLocation="bucket/img.manifest.xml"),
    _case("register_image", "InvalidAMIName.Duplicate", Name="{ebs_image_name}",
          RootDeviceName="/dev/sda1", BlockDeviceMappings=[
              {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": "{snapshot}"}}]),
    _case("register_image", "InvalidSnapshot.NotFound", Name="from-nothing",
          RootDeviceName="/dev/sda1", BlockDeviceMappings=[
              {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": NO_SNAPSHOT}}]),
    _case("register_image", "InvalidSnapshot.NotFound", Name="second-disk-missing",
          RootDeviceName="/dev/sda1", BlockDeviceMappings=[
              {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": "{snapshot}"}},
              {"DeviceName": "/dev/sdb", "Ebs": {"SnapshotId": NO_SNAPSHOT}}]),
    _case("register_image", "InvalidSnapshotID.Malformed", Name="second-disk-malformed",
          RootDeviceName="/dev/sda1", BlockDeviceMappings=[
              {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": "{snapshot}"}},
              {"DeviceName": "/dev/sdb", "Ebs": {"SnapshotId": "snapshot"}}]),
    _case("deregister_image", "InvalidAMIID.Malformed", ImageId="foo"),
    _case("deregister_image", "InvalidAMIID.NotFound", ImageId="{deregistered}"),
    _case("run_instances", "InvalidAMIID.NotFound", ImageId="{deregistered}", MinCount=1,
          MaxCount=1),
    _case("describe_images", "InvalidAMIID.NotFound", ImageIds=["{deregistered}"]),
    _case("describe_image_attribute", "InvalidAMIID.Malformed", ImageId="foo",
          Attribute="description"),
    _case("modify_image_attribute", "InvalidAMIID.NotFound", ImageId=NO_IMAGE,
          Description={"Value": "x"}),

    # -- an EBS-backed instance, stopped ------------------------------------------------
    _case("reboot_instances", "IncorrectInstanceState", InstanceIds=["{stopped}"]),
    _case("create_image", "InvalidAMIName.Malformed", InstanceId="{stopped}", Name="bad*name"),
    _case("create_image", "InvalidAMIName.Duplicate", InstanceId="{stopped}",
          Name="{ebs_image_name}"),
    _case("modify_instance_attribute", "InvalidParameterValue", InstanceId="{stopped}",
          InstanceType={"Value": "x9.huge"}),
    _case("modify_instance_attribute", "InvalidAMIID.NotFound", InstanceId="{stopped}",
          Kernel={"Value": "eki-12345678"}),
    _case("attach_volume", "InvalidParameterValue", VolumeId="{volume}",
          InstanceId="{stopped}", Device="/dev/sda1"),
    _case("detach_volume", "InvalidAttachment.NotFound", VolumeId="{attached}",
          InstanceId="{stopped}"),

    # -- tags ---------------------------------------------------------------------------
    _case("create_tags", "InvalidInstanceID.NotFound", Resources=[NO_INSTANCE], Tags=TAG),
    _case("delete_tags", "InvalidParameterValue", Resources=["{volume}"],
          Tags=[{"Key": "aws:reserved"}]),

    # -- elastic IPs ----------------------------------------------------------------------
    _case("describe_addresses", "InvalidAddress.NotFound", PublicIps=["192.0.2.1"]),
    _case("describe_addresses", "InvalidParameterValue", PublicIps=["not-an-ip"]),
    _case("release_address", "InvalidParameterValue", PublicIp="not-an-ip"),
    _case("release_address", "InvalidAllocationID.NotFound",
          AllocationId="eipalloc-12345678"),
    _case("disassociate_address", "InvalidAssociationID.NotFound",
          AssociationId="eipassoc-12345678"),

    # -- launch templates -----------------------------------------------------------------
    _case("create_launch_template", "InvalidLaunchTemplateName.AlreadyExistsException",
          LaunchTemplateName="{template}", LaunchTemplateData={"ImageId": "{image}"}),
    _case("create_launch_template", "InvalidLaunchTemplateName.MalformedException",
          LaunchTemplateName="a b", LaunchTemplateData={"ImageId": "{image}"}),
    _case("create_launch_template", "InvalidLaunchTemplateName.MalformedException",
          LaunchTemplateName="ab", LaunchTemplateData={"ImageId": "{image}"}),
    _case("create_launch_template_version", "InvalidLaunchTemplateId.NotFound",
          LaunchTemplateId=NO_TEMPLATE, LaunchTemplateData={"ImageId": "{image}"}),
    _case("describe_launch_template_versions", "InvalidLaunchTemplateId.NotFound",
          LaunchTemplateId=NO_TEMPLATE),
    _case("describe_launch_template_versions", "InvalidLaunchTemplateName.NotFoundException",
          LaunchTemplateName="nope"),
    _case("describe_launch_templates", "InvalidLaunchTemplateId.Malformed",
          LaunchTemplateIds=["lt-"]),
    _case("modify_launch_template", "InvalidLaunchTemplateId.NotFound",
          LaunchTemplateId=NO_TEMPLATE, DefaultVersion="1"),
    _case("modify_launch_template", "InvalidLaunchTemplateName.NotFoundException",
          LaunchTemplateName="nope", DefaultVersion="1"),
    _case("modify_launch_template", "InvalidLaunchTemplateId.VersionNotFound",
          LaunchTemplateName="{template}", DefaultVersion="9"),

    # -- ID shapes: hex digits after the kind's prefix, short and long forms ------------
    _case("describe_instances", "InvalidInstanceID.Malformed", InstanceIds=["i-1234567g"]),
    _case("describe_instances", "InvalidInstanceID.NotFound",
          InstanceIds=["i-0123456789abcdef0"]),
    _case("describe_volumes", "InvalidVolume.NotFound", VolumeIds=["vol-0123456789abcdef0"]),
    _case("describe_snapshots", "InvalidSnapshot.NotFound",
          SnapshotIds=["snap-0123456789abcdef0"]),
    _case("describe_images", "InvalidAMIID.NotFound", ImageIds=["ami-0123456789abcdef0"]),
    _case("describe_images", "InvalidAMIID.Malformed", ImageIds=["ami-xyz"]),
    _case("describe_security_groups", "InvalidGroup.NotFound",
          GroupIds=["sg-0123456789abcdef0"]),
    _case("describe_security_groups", "InvalidGroupId.Malformed", GroupIds=["sg-"]),

    # -- lists with one unknown ID among known ones -------------------------------------
    _case("describe_images", "InvalidAMIID.NotFound", ImageIds=["{image}", NO_IMAGE]),
    _case("describe_volumes", "InvalidVolume.NotFound", VolumeIds=["{volume}", NO_VOLUME]),
    _case("describe_snapshots", "InvalidSnapshot.NotFound",
          SnapshotIds=["{snapshot}", NO_SNAPSHOT]),
    _case("describe_instances", "InvalidInstanceID.NotFound",
          InstanceIds=["{instance}", NO_INSTANCE]),
    _case("register_image", "InvalidManifest", Name="no-manifest",
          ImageLocation="no-such-bucket/none.manifest.xml"),
    _case("import_key_pair", "InvalidKey.Format", KeyName="ecdsa",
          PublicKeyMaterial=ECDSA_KEY),
]

#: DryRun of a request that would succeed: DryRunOperation, 412 (AWS), for each action.
DRY_RUNS = {
    "describe_instances": {}, "describe_images": {}, "describe_key_pairs": {},
    "describe_security_groups": {}, "describe_addresses": {}, "describe_snapshots": {},
    "describe_tags": {}, "describe_availability_zones": {}, "describe_regions": {},
    "describe_instance_status": {}, "describe_volume_status": {},
    "describe_instance_types": {}, "describe_launch_templates": {},
    "create_key_pair": {"KeyName": "dry"},
    "delete_key_pair": {"KeyName": "taken"},
    "create_security_group": {"GroupName": "dry", "Description": "d"},
    "delete_security_group": {"GroupId": "{group_id}"},
    "authorize_security_group_ingress": {"GroupId": "{group_id}",
                                         "IpPermissions": _rule("tcp", 9, 9)},
    "allocate_address": {},
    "release_address": {"PublicIp": "{address}"},
    "associate_address": {"PublicIp": "{address}", "InstanceId": "{instance}"},
    "attach_volume": {"VolumeId": "{volume}", "InstanceId": "{instance}",
                      "Device": "/dev/sdk"},
    "detach_volume": {"VolumeId": "{attached}"},
    "delete_volume": {"VolumeId": "{volume}"},
    "create_snapshot": {"VolumeId": "{volume}"},
    "deregister_image": {"ImageId": "{ebs_image}"},
    "reboot_instances": {"InstanceIds": ["{instance}"]},
    "stop_instances": {"InstanceIds": ["{stopped}"]},
    "start_instances": {"InstanceIds": ["{stopped}"]},
    "get_console_output": {"InstanceId": "{instance}"},
    "modify_instance_attribute": {"InstanceId": "{instance}",
                                  "DisableApiTermination": {"Value": False}},
    "describe_instance_attribute": {"InstanceId": "{instance}", "Attribute": "instanceType"},
    "delete_tags": {"Resources": ["{volume}"], "Tags": TAG},
    "create_launch_template": {"LaunchTemplateName": "dry",
                               "LaunchTemplateData": {"ImageId": "{image}"}},
    "monitor_instances": {"InstanceIds": ["{instance}"]},
    "describe_volume_attribute": {"VolumeId": "{volume}", "Attribute": "autoEnableIO"},
    "describe_snapshot_attribute": {"SnapshotId": "{snapshot}",
                                    "Attribute": "createVolumePermission"},
}
CASES += [pytest.param(call, {**params, "DryRun": True}, "DryRunOperation", 412,
                       id=f"{call}-dry-run") for call, params in DRY_RUNS.items()]

#: Signed Query requests boto3 would not send: (action, parameters, code, status).
RAW_CASES = [
    pytest.param("DescribeRegions", {"Foo": "bar"}, "UnknownParameter", 400, id="unknown-param"),
    pytest.param("DescribeInstances", {"InstanceIds.1": NO_INSTANCE}, "UnknownParameter", 400,
                 id="plural-id-param"),
    pytest.param("Frobnicate", {}, "InvalidAction", 400, id="unknown-action"),
    pytest.param("DescribeInstances", {"MaxResults": "ten"}, "InvalidParameterValue", 400,
                 id="integer-not-one"),
    pytest.param("DescribeInstances", {"DryRun": "maybe"}, "InvalidParameterValue", 400,
                 id="boolean-not-one"),
    pytest.param("RunInstances", {"ImageId": "{image}", "MinCount": "one", "MaxCount": "1"},
                 "InvalidParameterValue", 400, id="mincount-not-integer"),
    pytest.param("RunInstances", {"ImageId": "{image}", "MaxCount": "1"}, "MissingParameter",
                 400, id="mincount-missing"),
    pytest.param("CreateSecurityGroup", {"GroupName": "nodesc"}, "MissingParameter", 400,
                 id="group-description-missing"),
    pytest.param("CreateKeyPair", {}, "MissingParameter", 400, id="keyname-missing"),
    pytest.param("DescribeSecurityGroups", {"MaxResults": "4"}, "InvalidParameterValue", 400,
                 id="groups-max-results-4"),
    pytest.param("DescribeInstanceTypes", {"MaxResults": "4"}, "InvalidParameterValue", 400,
                 id="types-max-results-4"),
    pytest.param("RegisterImage", {"Name": "ab", "ImageLocation": "bucket/img.manifest.xml"},
                 "InvalidAMIName.Malformed", 400, id="image-name-too-short"),
    pytest.param("RunInstances", {"ImageId": "{image}", "MinCount": "1000", "MaxCount": "1000"},
                 "InsufficientInstanceCapacity", 500, id="more-than-the-cloud-holds"),
    pytest.param("DescribeVolumes", {"MaxResults": "4"}, "InvalidParameterValue", 400,
                 id="volumes-max-results-4"),
    pytest.param("DescribeInstances", {"MaxResults": "5.0"}, "InvalidParameterValue", 400,
                 id="max-results-not-integer"),
    pytest.param("AuthorizeSecurityGroupIngress",
                 {"GroupName": "{group}", "IpPermissions.1.IpProtocol": "tcp",
                  "IpPermissions.1.FromPort": "x", "IpPermissions.1.ToPort": "1"},
                 "InvalidParameterValue", 400, id="port-not-integer"),
    pytest.param("ImportKeyPair", {"KeyName": "not-base64", "PublicKeyMaterial": "!!!"},
                 "InvalidKey.Format", 400, id="key-material-not-base64"),
    pytest.param("CreateVolume", {"AvailabilityZone": "{zone}", "Size": ""},
                 "InvalidParameterValue", 400, id="size-empty"),
    pytest.param("DescribeRegions", {"Version": "2016-11-15", "DryRun": ""},
                 "InvalidParameterValue", 400, id="dry-run-empty"),
    pytest.param("DescribeInstances", {"InstanceId.1": NO_INSTANCE}, "InvalidInstanceID.NotFound",
                 400, id="list-parameter"),
    pytest.param("AttachVolume", {"VolumeId": "{volume}", "InstanceId": "{instance}"},
                 "MissingParameter", 400, id="device-missing"),
    pytest.param("DescribeVolumeAttribute", {"VolumeId": "{volume}"}, "MissingParameter", 400,
                 id="attribute-missing"),
    pytest.param("CreateTags", {"ResourceId.1": "{volume}", "Tag.1.Value": "v"},
                 "MissingParameter", 400, id="tag-key-missing"),
    pytest.param("CreateVolume", {"AvailabilityZone": "{zone}", "Size": "1.5"},
                 "InvalidParameterValue", 400, id="size-not-integer"),
]

#: Calls AWS answers with success: (call, parameters).
ACCEPTED = [
    pytest.param("delete_key_pair", {"KeyName": "never-made"}, id="delete-missing-key"),
    pytest.param("terminate_instances", {"InstanceIds": ["{terminated}"]},
                 id="terminate-terminated"),
    pytest.param("reboot_instances", {"InstanceIds": ["{instance}"]}, id="reboot-running"),
    pytest.param("authorize_security_group_ingress",
                 {"GroupId": "{group_id}", "IpPermissions": _rule("icmp", 8, -1)},
                 id="icmp-type-any-code"),
    pytest.param("authorize_security_group_ingress",
                 {"GroupId": "{group_id}", "IpPermissions": _rule("icmp", -1, -1)},
                 id="icmp-any"),
    pytest.param("authorize_security_group_ingress",
                 {"GroupId": "{group_id}", "IpPermissions": _rule("17", 53, 53)},
                 id="protocol-by-number"),
    pytest.param("authorize_security_group_ingress",
                 {"GroupId": "{group_id}", "IpPermissions": _rule("-1", None, None)},
                 id="every-protocol"),
    pytest.param("authorize_security_group_ingress",
                 {"GroupId": "{group_id}", "IpPermissions": _rule("tcp", 1, 65535,
                                                                  "192.168.0.0/16")},
                 id="every-port"),
    pytest.param("describe_images", {"MaxResults": 5}, id="images-max-results-5"),
    pytest.param("describe_instances", {"MaxResults": 1000}, id="instances-max-results-1000"),
    pytest.param("describe_volumes", {"MaxResults": 500}, id="volumes-max-results-500"),
    pytest.param("create_volume", _vol(Size=4, VolumeType="io1", Iops=200),
                 id="io1-ratio-50"),
    pytest.param("create_volume", _vol(Size=10, VolumeType="gp3", Iops=3000, Throughput=125),
                 id="gp3-baseline"),
    pytest.param("create_volume", _vol(Size=4, VolumeType="io2", Iops=4000),
                 id="io2-ratio-1000"),
    pytest.param("describe_volumes", {"MaxResults": 501}, id="volumes-max-results-clamped"),
    pytest.param("describe_snapshots", {"MaxResults": 1001},
                 id="snapshots-max-results-clamped"),
    pytest.param("describe_tags", {"MaxResults": 1001}, id="tags-max-results-clamped"),
    pytest.param("describe_images", {"MaxResults": 1001}, id="images-max-results-clamped"),
    pytest.param("describe_launch_templates", {"MaxResults": 1}, id="templates-max-results-1"),
    pytest.param("create_volume", _vol(Size=1, VolumeType="gp2"), id="gp2-1"),
    pytest.param("create_tags", {"Resources": ["{volume}"],
                                 "Tags": [{"Key": "k" * 128, "Value": "v" * 256}]},
                 id="tag-at-its-limits"),
    pytest.param("describe_addresses", {"PublicIps": ["{address}"]}, id="own-address"),
    pytest.param("stop_instances", {"InstanceIds": ["{stopped}"]}, id="stop-stopped"),
    pytest.param("reset_instance_attribute", {"InstanceId": "{stopped}", "Attribute": "kernel"},
                 id="reset-kernel-of-stopped"),
    pytest.param("reset_image_attribute", {"ImageId": "{ebs_image}",
                                           "Attribute": "launchPermission"},
                 id="reset-launch-permission"),
    pytest.param("reset_snapshot_attribute", {"SnapshotId": "{snapshot}",
                                              "Attribute": "createVolumePermission"},
                 id="reset-create-volume-permission"),
    pytest.param("modify_image_attribute", {"ImageId": "{ebs_image}",
                                            "Description": {"Value": "described"}},
                 id="modify-image-description"),
    pytest.param("modify_snapshot_attribute", {"SnapshotId": "{snapshot}",
                                               "CreateVolumePermission": {
                                                   "Add": [{"UserId": "123456789012"}]}},
                 id="share-snapshot"),
    pytest.param("modify_snapshot_attribute", {"SnapshotId": "{snapshot}",
                                               "Attribute": "createVolumePermission",
                                               "OperationType": "add",
                                               "UserIds": ["1234567891"]},
                 id="share-snapshot-legacy-form"),
    pytest.param("disassociate_address", {"PublicIp": "{address}"},
                 id="disassociate-unassociated"),
    pytest.param("create_image", {"InstanceId": "{stopped}", "Name": "from-stopped"},
                 id="image-of-stopped"),
    pytest.param("modify_instance_attribute", {"InstanceId": "{stopped}",
                                               "UserData": {"Value": b"hello"}},
                 id="user-data-of-stopped"),
    pytest.param("release_address", {"PublicIp": "{associated}"}, id="release-associated"),
    pytest.param("describe_snapshot_attribute", {"SnapshotId": "{snapshot}",
                                                 "Attribute": "createVolumePermission"},
                 id="snapshot-permissions"),
    pytest.param("describe_snapshot_attribute", {"SnapshotId": "{snapshot}",
                                                 "Attribute": "productCodes"},
                 id="snapshot-product-codes"),
    pytest.param("describe_volume_attribute", {"VolumeId": "{volume}",
                                               "Attribute": "productCodes"},
                 id="volume-product-codes"),
    pytest.param("delete_tags", {"Resources": ["{volume}"], "Tags": [{"Key": "never-set"}]},
                 id="delete-missing-tag"),
    pytest.param("create_tags", {"Resources": ["{volume}"], "Tags": [{"Key": "aws",
                                                                      "Value": ""}]},
                 id="tag-key-aws-without-colon"),
    pytest.param("describe_images", {"Owners": ["self"]}, id="images-of-self"),
    pytest.param("describe_images", {"ExecutableUsers": ["all"]}, id="images-executable-by-all"),
    pytest.param("describe_key_pairs", {"KeyNames": ["taken"]}, id="key-by-name"),
    pytest.param("describe_availability_zones", {"ZoneNames": ["{zone}"]}, id="zone-by-name"),
    pytest.param("describe_regions", {"AllRegions": True}, id="all-regions"),
    pytest.param("get_console_output", {"InstanceId": "{instance}"}, id="console-output"),
    pytest.param("get_password_data", {"InstanceId": "{instance}"}, id="linux-password-data"),
    pytest.param("describe_instance_status", {"IncludeAllInstances": True},
                 id="status-of-all-instances"),
    pytest.param("authorize_security_group_ingress",
                 {"GroupName": "{group}", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                  "CidrIp": "172.16.0.0/12"}, id="flat-rule-parameters"),
    pytest.param("create_security_group", {"GroupName": "g" * 255, "Description": "d" * 255},
                 id="group-name-255"),
    pytest.param("create_key_pair", {"KeyName": "k" * 255}, id="key-name-255"),
    pytest.param("register_image", {"Name": "a (b) [c] ./-'@_", "RootDeviceName": "/dev/sda1",
                                    "BlockDeviceMappings": [{"DeviceName": "/dev/sda1", "Ebs": {
                                        "SnapshotId": "{snapshot}"}}]},
                 id="image-name-every-character"),
] + [pytest.param("describe_instance_attribute", {"InstanceId": "{instance}",
                                                  "Attribute": attr}, id=f"attribute-{attr}")
     for attr in ("instanceType", "kernel", "ramdisk", "userData", "disableApiTermination",
                  "instanceInitiatedShutdownBehavior", "rootDeviceName",
                  "blockDeviceMapping", "productCodes", "groupSet", "ebsOptimized")] + [
    pytest.param("describe_image_attribute", {"ImageId": "{ebs_image}", "Attribute": attr},
                 id=f"image-attribute-{attr}")
    for attr in ("description", "kernel", "ramdisk", "launchPermission", "productCodes",
                 "blockDeviceMapping")]


#: The filter names AWS's EC2 API reference lists for each Describe action: each is
#: accepted (an unknown one is InvalidParameterValue, in the first table).
FILTER_NAMES = {
    "describe_instances": (
        "affinity architecture availability-zone block-device-mapping.attach-time "
        "block-device-mapping.delete-on-termination block-device-mapping.device-name "
        "block-device-mapping.status block-device-mapping.volume-id boot-mode "
        "capacity-reservation-id client-token dns-name hibernation-options.configured host-id "
        "hypervisor iam-instance-profile.arn image-id instance-id instance-lifecycle "
        "instance-state-code instance-state-name instance-type instance.group-id "
        "instance.group-name ip-address kernel-id key-name launch-index launch-time "
        "metadata-options.http-tokens monitoring-state owner-id placement-group-name platform "
        "private-dns-name private-ip-address product-code ramdisk-id reason requester-id "
        "reservation-id root-device-name root-device-type source-dest-check "
        "spot-instance-request-id state-reason-code state-reason-message subnet-id tag:Name "
        "tag-key tag-value tenancy virtualization-type vpc-id group-id group-name"),
    "describe_volumes": (
        "attachment.attach-time attachment.delete-on-termination attachment.device "
        "attachment.instance-id attachment.status availability-zone create-time encrypted "
        "multi-attach-enabled fast-restored size snapshot-id status tag:Name tag-key volume-id "
        "volume-type"),
    "describe_snapshots": (
        "description encrypted owner-alias owner-id progress snapshot-id start-time status "
        "storage-tier tag:Name tag-key volume-id volume-size"),
    "describe_images": (
        "architecture block-device-mapping.delete-on-termination "
        "block-device-mapping.device-name block-device-mapping.snapshot-id "
        "block-device-mapping.volume-size block-device-mapping.volume-type "
        "block-device-mapping.encrypted creation-date description ena-support hypervisor "
        "image-id image-type is-public kernel-id manifest-location name owner-alias owner-id "
        "platform platform-details product-code product-code.type ramdisk-id root-device-name "
        "root-device-type state state-reason-code state-reason-message sriov-net-support "
        "tag:Name tag-key usage-operation virtualization-type"),
    "describe_security_groups": (
        "description egress.ip-permission.cidr egress.ip-permission.from-port "
        "egress.ip-permission.group-id egress.ip-permission.group-name "
        "egress.ip-permission.ipv6-cidr egress.ip-permission.prefix-list-id "
        "egress.ip-permission.protocol egress.ip-permission.to-port "
        "egress.ip-permission.user-id group-id group-name ip-permission.cidr "
        "ip-permission.from-port ip-permission.group-id ip-permission.group-name "
        "ip-permission.ipv6-cidr ip-permission.prefix-list-id ip-permission.protocol "
        "ip-permission.to-port ip-permission.user-id owner-id tag:Name tag-key vpc-id"),
    "describe_key_pairs": "key-pair-id fingerprint key-name tag-key tag:Name",
    "describe_addresses": (
        "allocation-id association-id domain instance-id network-border-group "
        "network-interface-id network-interface-owner-id private-ip-address public-ip "
        "tag:Name tag-key"),
    "describe_tags": "key resource-id resource-type tag:Name value",
    "describe_availability_zones": (
        "group-name message opt-in-status parent-zone-id parent-zone-name region-name state "
        "zone-id zone-type zone-name"),
    "describe_regions": "endpoint region-name opt-in-status",
    "describe_instance_status": (
        "availability-zone event.code event.description event.instance-event-id "
        "event.not-after event.not-before event.not-before-deadline instance-state-code "
        "instance-state-name instance-status.reachability instance-status.status "
        "system-status.reachability system-status.status"),
    "describe_volume_status": (
        "action.code action.description action.event-id availability-zone event.description "
        "event.event-id event.event-type event.not-after event.not-before "
        "volume-status.details-name volume-status.details-status volume-status.status"),
    "describe_instance_types": (
        "auto-recovery-supported bare-metal burstable-performance-supported "
        "current-generation free-tier-eligible hibernation-supported hypervisor "
        "instance-storage-supported instance-type memory-info.size-in-mib "
        "processor-info.supported-architecture vcpu-info.default-vcpus "
        "supported-root-device-type supported-usage-class supported-virtualization-type"),
    "describe_launch_templates": "create-time launch-template-name tag:Name tag-key",
}
ACCEPTED += [pytest.param(call, {"Filters": [{"Name": name, "Values": ["x"]}]},
                          id=f"filter-{call[9:]}-{name}")
             for call, names in FILTER_NAMES.items() for name in names.split()]


def build_more(user: Any, world: dict[str, str]) -> dict[str, str]:
    """:func:`build_world`'s resources and this table's: a protected instance, an image
    registered from the snapshot, a launch template."""
    protected = user.run_instances(ImageId=world["image"], MinCount=1, MaxCount=1,
                                   DisableApiTermination=True)["Instances"][0]["InstanceId"]
    ebs_image = user.register_image(
        Name="from-snapshot", RootDeviceName="/dev/sda1", BlockDeviceMappings=[
            {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": world["snapshot"]}}])["ImageId"]
    user.create_launch_template(LaunchTemplateName="conformance2",
                                LaunchTemplateData={"ImageId": world["image"]})
    stopped = user.run_instances(ImageId=ebs_image, MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"]
    wait_state(user, [protected, stopped], "running")
    user.stop_instances(InstanceIds=[stopped])
    gone_image = user.register_image(
        Name="deregistered", RootDeviceName="/dev/sda1", BlockDeviceMappings=[
            {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": world["snapshot"]}}])["ImageId"]
    user.deregister_image(ImageId=gone_image)
    associated = user.allocate_address()["PublicIp"]
    user.associate_address(PublicIp=associated, InstanceId=protected)
    wait_state(user, [stopped], "stopped")
    return {**world, "protected": protected, "ebs_image": ebs_image,
            "ebs_image_name": "from-snapshot", "template": "conformance2",
            "stopped": stopped, "associated": associated, "deregistered": gone_image}


@pytest.fixture(scope="module")
def account(cloud) -> tuple[str, str]:
    """A new account's admin keys."""
    _, key, secret = new_account(cloud, "errors2")
    return key, secret


@pytest.fixture(scope="module")
def user(cloud, account) -> Any:
    """An EC2 client of the account's admin."""
    return cloud.client("ec2", key=account[0], secret=account[1])


@pytest.fixture(scope="module")
def world(cloud, user) -> dict[str, str]:
    """The resources the cases name."""
    return build_more(user, build_world(user, cloud.client("ec2")))


@pytest.mark.parametrize(("call", "params", "code", "status"), CASES)
def test_error(user, world, call: str, params: dict[str, Any], code: str,
               status: int) -> None:
    """The call fails with AWS's code and HTTP status (never a 500)."""
    assert_error(user, world, call, params, code, status)


@pytest.mark.parametrize(("action", "params", "code", "status"), RAW_CASES)
def test_raw_error(cloud, account, world, action: str, params: dict[str, str], code: str,
                   status: int) -> None:
    """A signed Query request boto3 would refuse to send gets AWS's code and status."""
    resp = ec2_query(cloud, action, _fill(params, world), key=account[0], secret=account[1])
    assert (resp.status_code, f"<Code>{code}</Code>" in resp.text) == (status, True), resp.text


@pytest.mark.parametrize(("call", "params"), ACCEPTED)
def test_accepted(user, world, call: str, params: dict[str, Any]) -> None:
    """AWS answers these with success, and so does this cloud."""
    getattr(user, call)(**_fill(params, world))


def test_key_pair_shapes(user) -> None:
    """CreateKeyPair returns the key's ID, fingerprint and material; DeleteKeyPair returns
    ``true`` (and does for a key that does not exist)."""
    made = user.create_key_pair(KeyName="shapes")
    assert made["KeyPairId"].startswith("key-") and made["KeyFingerprint"]
    assert made["KeyMaterial"].startswith("-----BEGIN")
    listed = user.describe_key_pairs(KeyNames=["shapes"], IncludePublicKey=True)["KeyPairs"][0]
    assert (listed["KeyPairId"], listed["KeyFingerprint"], listed["KeyType"]) == \
        (made["KeyPairId"], made["KeyFingerprint"], "rsa")
    assert listed["PublicKey"].startswith("ssh-rsa ") and listed["CreateTime"]
    assert "PublicKey" not in user.describe_key_pairs(KeyNames=["shapes"])["KeyPairs"][0]
    assert user.delete_key_pair(KeyName="shapes")["Return"] is True
    assert user.delete_key_pair(KeyName="shapes")["Return"] is True


def test_reservation_and_state_reason_shapes(user, world) -> None:
    """A reservation names its ID and owner; a terminated instance says why, in
    StateTransitionReason and StateReason."""
    reservation = user.describe_instances(InstanceIds=[world["terminated"]])["Reservations"][0]
    assert reservation["ReservationId"].startswith("r-") and reservation["OwnerId"]
    inst = reservation["Instances"][0]
    assert inst["State"] == {"Code": 48, "Name": "terminated"}
    assert re.fullmatch(r"User initiated \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\)",
                        inst["StateTransitionReason"])
    running = user.describe_instances(InstanceIds=[world["instance"]])["Reservations"][0]
    assert running["Instances"][0]["StateTransitionReason"] == ""
    assert inst["StateReason"]["Code"] == "Client.UserInitiatedShutdown"
    gone = user.terminate_instances(InstanceIds=[world["terminated"]])["TerminatingInstances"]
    assert gone[0]["PreviousState"]["Name"] == gone[0]["CurrentState"]["Name"] == "terminated"


def test_client_token_is_idempotent(user, world) -> None:
    """The same ClientToken returns the same reservation; other parameters with it are
    IdempotentParameterMismatch."""
    first = user.run_instances(**_fill(_run(ClientToken="conformance-token"), world))
    again = user.run_instances(**_fill(_run(ClientToken="conformance-token"), world))
    assert again["ReservationId"] == first["ReservationId"]
    assert [i["InstanceId"] for i in again["Instances"]] == \
        [i["InstanceId"] for i in first["Instances"]]
    with pytest.raises(ClientError) as err:
        user.run_instances(**_fill(_run(ClientToken="conformance-token",
                                        InstanceType="c1.medium"), world))
    assert err.value.response["Error"]["Code"] == "IdempotentParameterMismatch"
    user.terminate_instances(InstanceIds=[i["InstanceId"] for i in first["Instances"]])


def test_get_request(cloud, account) -> None:
    """A signed GET with the parameters in the query string is served as a POST is."""
    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest("GET", cloud.url + "/services/compute",
                     params={"Action": "DescribeRegions", "Version": "2016-11-15"})
    SigV4Auth(Credentials(*account), "ec2", "us-east-1").add_auth(req)
    prepared = req.prepare()
    resp = requests.get(prepared.url, headers=dict(prepared.headers), timeout=10)
    assert resp.status_code == 200 and "<regionInfo>" in resp.text


def test_revoking_a_rule_that_is_not_there(user, world) -> None:
    """Revoking rules an EC2-Classic group does not have is no error (AWS): the answer lists
    them in UnknownIpPermissions and the group keeps its rules."""
    before = user.describe_security_groups(GroupIds=[world["group_id"]])["SecurityGroups"]
    resp = user.revoke_security_group_ingress(GroupId=world["group_id"],
                                              IpPermissions=_rule("tcp", 8080, 8080))
    assert resp["Return"] is True
    assert [(p["IpProtocol"], p["FromPort"], p["ToPort"]) for p in
            resp["UnknownIpPermissions"]] == [("tcp", 8080, 8080)]
    after = user.describe_security_groups(GroupIds=[world["group_id"]])["SecurityGroups"]
    assert after == before


def test_snapshot_shape(user, world) -> None:
    """A snapshot shows its volume, size, owner, progress, encryption and storage tier."""
    snap = user.describe_snapshots(SnapshotIds=[world["snapshot"]])["Snapshots"][0]
    assert (snap["VolumeSize"], snap["State"], snap["Progress"], snap["Encrypted"],
            snap["StorageTier"]) == (1, "completed", "100%", False, "standard")
    assert snap["VolumeId"] == world["volume"] and snap["OwnerId"].isdigit()


def test_volume_auto_enable_io(user, world) -> None:
    """ModifyVolumeAttribute sets autoEnableIO, DescribeVolumeAttribute shows it, and
    EnableVolumeIO answers for a volume whose I/O is on."""
    user.modify_volume_attribute(VolumeId=world["volume"], AutoEnableIO={"Value": True})
    got = user.describe_volume_attribute(VolumeId=world["volume"], Attribute="autoEnableIO")
    assert got["AutoEnableIO"] == {"Value": True}
    user.enable_volume_io(VolumeId=world["volume"])
    user.modify_volume_attribute(VolumeId=world["volume"], AutoEnableIO={"Value": False})


def test_tag_specifications_at_launch(user, world) -> None:
    """RunInstances' TagSpecifications tag the instances and the volumes made at launch."""
    resp = user.run_instances(ImageId=world["ebs_image"], MinCount=1, MaxCount=1,
                              TagSpecifications=[
                                  {"ResourceType": "instance", "Tags": [{"Key": "role",
                                                                         "Value": "web"}]},
                                  {"ResourceType": "volume", "Tags": [{"Key": "disk",
                                                                       "Value": "root"}]}])
    iid = resp["Instances"][0]["InstanceId"]
    assert {"Key": "role", "Value": "web"} in resp["Instances"][0].get("Tags", [])
    wait_state(user, [iid], "running")
    inst = user.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert inst["Tags"] == [{"Key": "role", "Value": "web"}]
    vols = user.describe_volumes(Filters=[{"Name": "attachment.instance-id",
                                           "Values": [iid]}])["Volumes"]
    assert vols and all(v["Tags"] == [{"Key": "disk", "Value": "root"}] for v in vols)
    user.terminate_instances(InstanceIds=[iid])


def test_image_block_devices_show_their_size(user, world) -> None:
    """An image's EBS mappings show the volume size, the snapshot's when none was given."""
    image = user.describe_images(ImageIds=[world["ebs_image"]])["Images"][0]
    root = image["BlockDeviceMappings"][0]
    assert (root["DeviceName"], root["Ebs"]["SnapshotId"], root["Ebs"]["VolumeSize"]) == \
        ("/dev/sda1", world["snapshot"], 1)


def test_volume_performance_shapes(user, world) -> None:
    """gp2 volumes show their baseline IOPS (3 per GiB, at least 100), gp3 ones 3,000 IOPS
    and 125 MiB/s unless given more, io1 ones what they provisioned."""
    made = []
    for params, want in (({"VolumeType": "gp2", "Size": 50}, (150, None)),
                         ({"VolumeType": "gp2", "Size": 1}, (100, None)),
                         ({"VolumeType": "gp3", "Size": 1}, (3000, 125)),
                         ({"VolumeType": "gp3", "Size": 10, "Iops": 4000, "Throughput": 250},
                          (4000, 250)),
                         ({"VolumeType": "io1", "Size": 10, "Iops": 500}, (500, None))):
        vol = user.create_volume(AvailabilityZone=world["zone"], **params)
        made.append(vol["VolumeId"])
        listed = user.describe_volumes(VolumeIds=[vol["VolumeId"]])["Volumes"][0]
        for shown in (vol, listed):
            assert (shown.get("Iops"), shown.get("Throughput"), shown["VolumeType"]) == \
                (*want, params["VolumeType"])
            assert (shown["Encrypted"], shown["MultiAttachEnabled"]) == (False, False)
    for vid in made:
        wait_volume(user, vid, "available")
        user.delete_volume(VolumeId=vid)


def test_tag_limit_counts_the_tags_a_resource_has(user, world) -> None:
    """A resource holds at most 50 tags: adding a 51st to 50 is TagLimitExceeded; replacing
    the value of one it has is not."""
    vid = user.create_volume(AvailabilityZone=world["zone"], Size=1)["VolumeId"]
    user.create_tags(Resources=[vid], Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(50)])
    with pytest.raises(ClientError) as err:
        user.create_tags(Resources=[vid], Tags=[{"Key": "one-more", "Value": "v"}])
    assert err.value.response["Error"]["Code"] == "TagLimitExceeded"
    user.create_tags(Resources=[vid], Tags=[{"Key": "k0", "Value": "changed"}])
    tags = user.describe_tags(Filters=[{"Name": "resource-id", "Values": [vid]}])["Tags"]
    assert len(tags) == 50 and {"Key": "k0", "Value": "changed", "ResourceId": vid,
                                "ResourceType": "volume"} in tags
    wait_volume(user, vid, "available")
    user.delete_volume(VolumeId=vid)


def test_rule_descriptions(user) -> None:
    """A rule's CIDRs and source groups keep their descriptions; the descriptions change
    with UpdateSecurityGroupRuleDescriptionsIngress (a rule the group lacks:
    InvalidPermission.NotFound), and a description with characters AWS does not allow is
    InvalidParameterValue."""
    gid = user.create_security_group(GroupName="described", Description="d")["GroupId"]
    rule = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
            "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "office (ssh)"}],
            "UserIdGroupPairs": [{"GroupId": gid, "Description": "itself"}]}
    user.authorize_security_group_ingress(GroupId=gid, IpPermissions=[rule])
    perm = user.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0][
        "IpPermissions"][0]
    assert perm["IpRanges"] == [{"CidrIp": "10.0.0.0/8", "Description": "office (ssh)"}]
    assert perm["UserIdGroupPairs"][0]["Description"] == "itself"
    user.update_security_group_rule_descriptions_ingress(GroupId=gid, IpPermissions=[
        {**rule, "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "vpn"}],
         "UserIdGroupPairs": []}])
    perm = user.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0][
        "IpPermissions"][0]
    assert perm["IpRanges"] == [{"CidrIp": "10.0.0.0/8", "Description": "vpn"}]
    for call, bad in ((user.update_security_group_rule_descriptions_ingress,
                       {**rule, "FromPort": 23, "ToPort": 23}),
                      (user.authorize_security_group_ingress,
                       {**rule, "IpRanges": [{"CidrIp": "10.1.0.0/16", "Description": "ä"}]})):
        with pytest.raises(ClientError) as err:
            call(GroupId=gid, IpPermissions=[bad])
        assert err.value.response["Error"]["Code"] in ("InvalidPermission.NotFound",
                                                       "InvalidParameterValue")
    user.revoke_security_group_ingress(GroupId=gid, IpPermissions=[rule])
    user.delete_security_group(GroupId=gid)


def test_rules_per_group_limit(user) -> None:
    """A group holds at most 60 rules in a direction (each CIDR counts):
    RulesPerSecurityGroupLimitExceeded beyond, and nothing of that request is added."""
    gid = user.create_security_group(GroupName="crowded", Description="d")["GroupId"]
    ranges = [{"CidrIp": f"10.0.{n}.0/24"} for n in range(60)]
    user.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": ranges}])
    with pytest.raises(ClientError) as err:
        user.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53,
             "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}])
    assert err.value.response["Error"]["Code"] == "RulesPerSecurityGroupLimitExceeded"
    perms = user.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]["IpPermissions"]
    assert [(p["IpProtocol"], len(p["IpRanges"])) for p in perms] == [("tcp", 60)]
    user.delete_security_group(GroupId=gid)


def test_stop_protection(user, world) -> None:
    """DisableApiStop: StopInstances is OperationNotPermitted until the attribute is off."""
    iid = user.run_instances(ImageId=world["ebs_image"], MinCount=1, MaxCount=1,
                             DisableApiStop=True)["Instances"][0]["InstanceId"]
    wait_state(user, [iid], "running")
    assert user.describe_instance_attribute(InstanceId=iid, Attribute="disableApiStop")[
        "DisableApiStop"] == {"Value": True}
    with pytest.raises(ClientError) as err:
        user.stop_instances(InstanceIds=[iid])
    assert err.value.response["Error"]["Code"] == "OperationNotPermitted"
    assert user.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0][
        "State"]["Name"] == "running"
    user.modify_instance_attribute(InstanceId=iid, DisableApiStop={"Value": False})
    user.stop_instances(InstanceIds=[iid])
    user.terminate_instances(InstanceIds=[iid])


def test_not_found_messages_name_every_missing_instance(user, world) -> None:
    """InvalidInstanceID.NotFound names the missing instance, or all of them (AWS)."""
    for wanted, message in (
            ([world["instance"], NO_INSTANCE], f"The instance ID '{NO_INSTANCE}' does not exist"),
            ([NO_INSTANCE, "i-87654321"],
             f"The instance IDs '{NO_INSTANCE}, i-87654321' do not exist")):
        with pytest.raises(ClientError) as err:
            user.describe_instances(InstanceIds=wanted)
        assert err.value.response["Error"] == {"Code": "InvalidInstanceID.NotFound",
                                               "Message": message}
