"""EC2 negative cases, action by action: the error code and HTTP status AWS documents.

One table of ``(call, parameters, code, status)`` run with boto3 against a real cloud, as
an EC2-Classic account sees AWS (this cloud has no VPC): a nonexistent ID of each kind of
resource (``*.NotFound``), a malformed one (``*.Malformed``: AWS checks an ID's prefix and
shape before it looks it up), duplicates, missing and bad parameters, unknown filter
names, wrong states, DryRun, and EC2 actions this cloud does not implement.

Parameters may name the module's resources (:func:`build_world`): ``{instance}`` (a
running instance-store instance), ``{terminated}`` (a terminated one), ``{volume}`` (an
available volume), ``{attached}`` (a volume attached to the instance), ``{image}`` (the
public machine image), ``{group}``/``{group_id}`` (a security group of the caller with a
rule), ``{used_group}`` (the instance's group), ``{referenced_group}`` (a group another
group's rule names), ``{zone}``, ``{address}`` (an allocated elastic IP), ``{snapshot}``.
``benchmarks/ec2_conformance.py`` runs the same table against moto_server too.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from helpers import new_account, wait_state, wait_volume

#: A well-formed ID of each kind that names nothing.
NO_INSTANCE, NO_VOLUME, NO_SNAPSHOT = "i-12345678", "vol-12345678", "snap-12345678"
NO_IMAGE, NO_GROUP = "ami-12345678", "sg-12345678"
BAD_FILTER = [{"Name": "no-such-filter", "Values": ["x"]}]
RULE = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]
TAG = [{"Key": "k", "Value": "v"}]


def _case(call: str, code: str, status: int = 400, **params: Any) -> Any:
    """One row, its test id ``call-code``."""
    return pytest.param(call, params, code, status, id=f"{call}-{code}")


CASES = [
    # -- instances: unknown and malformed IDs, across the actions that take them --------
    _case("describe_instances", "InvalidInstanceID.NotFound", InstanceIds=[NO_INSTANCE]),
    _case("describe_instances", "InvalidInstanceID.Malformed", InstanceIds=["vol-12345678"]),
    _case("describe_instances", "InvalidParameterValue", Filters=BAD_FILTER),
    _case("describe_instances", "InvalidParameterValue", MaxResults=1001),
    _case("describe_instances", "InvalidPaginationToken", NextToken="not-a-token"),
    _case("terminate_instances", "InvalidInstanceID.Malformed", InstanceIds=["foo"]),
    _case("terminate_instances", "InvalidInstanceID.NotFound", InstanceIds=[NO_INSTANCE]),
    _case("stop_instances", "InvalidInstanceID.NotFound", InstanceIds=[NO_INSTANCE]),
    _case("stop_instances", "InvalidInstanceID.Malformed", InstanceIds=["foo"]),
    _case("stop_instances", "UnsupportedOperation", InstanceIds=["{instance}"]),
    _case("start_instances", "InvalidInstanceID.NotFound", InstanceIds=[NO_INSTANCE]),
    _case("start_instances", "InvalidInstanceID.Malformed", InstanceIds=["i-"]),
    _case("start_instances", "UnsupportedOperation", InstanceIds=["{instance}"]),
    _case("reboot_instances", "InvalidInstanceID.Malformed", InstanceIds=["foo"]),
    _case("reboot_instances", "InvalidInstanceID.NotFound", InstanceIds=[NO_INSTANCE]),
    _case("monitor_instances", "InvalidInstanceID.NotFound", InstanceIds=[NO_INSTANCE]),
    _case("unmonitor_instances", "InvalidInstanceID.Malformed", InstanceIds=["foo"]),
    _case("get_console_output", "InvalidInstanceID.Malformed", InstanceId="foo"),
    _case("get_console_output", "InvalidInstanceID.NotFound", InstanceId=NO_INSTANCE),
    _case("get_password_data", "InvalidInstanceID.NotFound", InstanceId=NO_INSTANCE),
    _case("get_password_data", "InvalidInstanceID.Malformed", InstanceId="foo"),
    _case("describe_instance_status", "InvalidInstanceID.Malformed", InstanceIds=["foo"]),
    _case("describe_instance_status", "InvalidInstanceID.NotFound", InstanceIds=[NO_INSTANCE]),
    _case("describe_instance_status", "InvalidParameterValue", Filters=BAD_FILTER),
    _case("describe_instance_attribute", "InvalidInstanceID.Malformed", InstanceId="foo",
          Attribute="kernel"),
    _case("describe_instance_attribute", "InvalidInstanceID.NotFound", InstanceId=NO_INSTANCE,
          Attribute="kernel"),
    _case("modify_instance_attribute", "InvalidInstanceID.NotFound", InstanceId=NO_INSTANCE,
          DisableApiTermination={"Value": True}),
    _case("modify_instance_attribute", "InvalidInstanceID.Malformed", InstanceId="foo",
          DisableApiTermination={"Value": True}),
    _case("reset_instance_attribute", "InvalidInstanceID.NotFound", InstanceId=NO_INSTANCE,
          Attribute="kernel"),
    _case("create_image", "InvalidInstanceID.NotFound", InstanceId=NO_INSTANCE, Name="img"),
    _case("create_image", "InvalidInstanceID.Malformed", InstanceId="foo", Name="img"),
    _case("bundle_instance", "InvalidInstanceID.NotFound", InstanceId=NO_INSTANCE,
          Storage={"S3": {"Bucket": "bundles", "Prefix": "p"}}),

    # -- RunInstances --------------------------------------------------------------------
    _case("run_instances", "MissingParameter", MinCount=1, MaxCount=1),
    _case("run_instances", "InvalidParameterValue", ImageId="{image}", MinCount=1, MaxCount=0),
    _case("run_instances", "InvalidParameterValue", ImageId="{image}", MinCount=-1,
          MaxCount=1),
    _case("run_instances", "InvalidAMIID.Malformed", ImageId="vol-12345678", MinCount=1,
          MaxCount=1),
    _case("run_instances", "InvalidGroupId.Malformed", ImageId="{image}", MinCount=1,
          MaxCount=1, SecurityGroupIds=["foo"]),
    _case("run_instances", "InvalidPlacementGroup.Unknown", ImageId="{image}", MinCount=1,
          MaxCount=1, Placement={"GroupName": "nope"}),
    _case("run_instances", "InvalidSubnetID.NotFound", ImageId="{image}", MinCount=1,
          MaxCount=1, SubnetId="subnet-12345678"),
    _case("run_instances", "InvalidAMIID.NotFound", ImageId="{image}", MinCount=1, MaxCount=1,
          KernelId="aki-12345678"),
    _case("run_instances", "InvalidAMIID.Malformed", ImageId="{image}", MinCount=1,
          MaxCount=1, RamdiskId="initrd"),
    _case("run_instances", "InvalidParameterValue", ImageId="{image}", MinCount=1, MaxCount=1,
          ClientToken="x" * 65),
    _case("run_instances", "DryRunOperation", 412, ImageId="{image}", MinCount=1, MaxCount=1,
          DryRun=True),

    # -- volumes -------------------------------------------------------------------------
    _case("create_volume", "InvalidParameterValue", AvailabilityZone="{zone}", Size=0),
    _case("create_volume", "InvalidParameterValue", AvailabilityZone="{zone}", Size=16385),
    _case("create_volume", "InvalidParameterValue", AvailabilityZone="{zone}", Size=1,
          VolumeType="floppy"),
    _case("create_volume", "InvalidParameterCombination", AvailabilityZone="{zone}", Size=1,
          Iops=100),
    _case("create_volume", "InvalidSnapshot.NotFound", AvailabilityZone="{zone}",
          SnapshotId=NO_SNAPSHOT),
    _case("create_volume", "InvalidSnapshotID.Malformed", AvailabilityZone="{zone}",
          SnapshotId="foo"),
    _case("create_volume", "InvalidZone.NotFound", AvailabilityZone="nowhere", Size=1),
    _case("delete_volume", "InvalidVolumeID.Malformed", VolumeId="foo"),
    _case("delete_volume", "InvalidVolume.NotFound", VolumeId=NO_VOLUME),
    _case("delete_volume", "VolumeInUse", VolumeId="{attached}"),
    _case("describe_volumes", "InvalidVolume.NotFound", VolumeIds=[NO_VOLUME]),
    _case("describe_volumes", "InvalidVolumeID.Malformed", VolumeIds=["i-12345678"]),
    _case("describe_volumes", "InvalidParameterValue", Filters=BAD_FILTER),
    _case("describe_volume_status", "InvalidVolume.NotFound", VolumeIds=[NO_VOLUME]),
    _case("describe_volume_status", "InvalidVolumeID.Malformed", VolumeIds=["foo"]),
    _case("describe_volume_status", "InvalidParameterValue", Filters=BAD_FILTER),
    _case("describe_volume_attribute", "InvalidVolume.NotFound", VolumeId=NO_VOLUME,
          Attribute="autoEnableIO"),
    _case("describe_volume_attribute", "InvalidParameterValue", VolumeId="{volume}",
          Attribute="size"),
    _case("attach_volume", "InvalidVolume.NotFound", VolumeId=NO_VOLUME,
          InstanceId="{instance}", Device="/dev/sdf"),
    _case("attach_volume", "InvalidVolumeID.Malformed", VolumeId="foo",
          InstanceId="{instance}", Device="/dev/sdf"),
    _case("attach_volume", "InvalidInstanceID.NotFound", VolumeId="{volume}",
          InstanceId=NO_INSTANCE, Device="/dev/sdf"),
    _case("attach_volume", "InvalidInstanceID.Malformed", VolumeId="{volume}",
          InstanceId="foo", Device="/dev/sdf"),
    _case("attach_volume", "InvalidParameterValue", VolumeId="{volume}",
          InstanceId="{instance}", Device="sdf"),
    _case("attach_volume", "VolumeInUse", VolumeId="{attached}", InstanceId="{instance}",
          Device="/dev/sdg"),
    _case("detach_volume", "InvalidVolume.NotFound", VolumeId=NO_VOLUME),
    _case("detach_volume", "InvalidVolumeID.Malformed", VolumeId="foo"),
    _case("detach_volume", "IncorrectState", VolumeId="{volume}"),
    _case("detach_volume", "InvalidAttachment.NotFound", VolumeId="{attached}",
          InstanceId=NO_INSTANCE),
    _case("detach_volume", "InvalidAttachment.NotFound", VolumeId="{attached}",
          Device="/dev/sdz"),

    # -- snapshots -----------------------------------------------------------------------
    _case("create_snapshot", "InvalidVolume.NotFound", VolumeId=NO_VOLUME),
    _case("create_snapshot", "InvalidVolumeID.Malformed", VolumeId="foo"),
    _case("delete_snapshot", "InvalidSnapshot.NotFound", SnapshotId=NO_SNAPSHOT),
    _case("delete_snapshot", "InvalidSnapshotID.Malformed", SnapshotId="foo"),
    _case("describe_snapshots", "InvalidSnapshot.NotFound", SnapshotIds=[NO_SNAPSHOT]),
    _case("describe_snapshots", "InvalidSnapshotID.Malformed", SnapshotIds=["vol-12345678"]),
    _case("describe_snapshots", "InvalidParameterValue", Filters=BAD_FILTER),
    _case("describe_snapshot_attribute", "InvalidSnapshot.NotFound", SnapshotId=NO_SNAPSHOT,
          Attribute="createVolumePermission"),
    _case("describe_snapshot_attribute", "InvalidSnapshotID.Malformed", SnapshotId="foo",
          Attribute="createVolumePermission"),
    _case("describe_snapshot_attribute", "InvalidParameterValue", SnapshotId="{snapshot}",
          Attribute="volumeSize"),
    _case("modify_snapshot_attribute", "InvalidSnapshot.NotFound", SnapshotId=NO_SNAPSHOT,
          CreateVolumePermission={"Add": [{"Group": "all"}]}),
    _case("reset_snapshot_attribute", "InvalidSnapshot.NotFound", SnapshotId=NO_SNAPSHOT,
          Attribute="createVolumePermission"),

    # -- images --------------------------------------------------------------------------
    _case("describe_images", "InvalidAMIID.NotFound", ImageIds=[NO_IMAGE]),
    _case("describe_images", "InvalidAMIID.Malformed", ImageIds=["i-12345678"]),
    _case("describe_images", "InvalidParameterValue", Filters=BAD_FILTER),
    _case("describe_images", "InvalidUserID.Malformed", Owners=["not-an-owner"]),
    _case("deregister_image", "InvalidAMIID.NotFound", ImageId=NO_IMAGE),
    _case("describe_image_attribute", "InvalidAMIID.NotFound", ImageId=NO_IMAGE,
          Attribute="description"),
    _case("modify_image_attribute", "InvalidAMIID.Malformed", ImageId="foo",
          Description={"Value": "x"}),
    _case("reset_image_attribute", "InvalidAMIID.NotFound", ImageId=NO_IMAGE,
          Attribute="launchPermission"),
    _case("register_image", "MissingParameter", Name="img"),
    _case("register_image", "InvalidParameterValue", Name="img",
          ImageLocation="bucket/img.manifest.xml", Architecture="z80"),

    # -- key pairs -----------------------------------------------------------------------
    _case("create_key_pair", "InvalidKeyPair.Duplicate", KeyName="taken"),
    _case("import_key_pair", "InvalidKeyPair.Duplicate", KeyName="taken",
          PublicKeyMaterial=b"ssh-rsa AAAA"),
    _case("create_key_pair", "InvalidParameterValue", KeyName="k" * 256),
    _case("describe_key_pairs", "InvalidKeyPair.NotFound", KeyNames=["nope"]),
    _case("describe_key_pairs", "InvalidKeyPair.NotFound", KeyPairIds=["key-12345678"]),
    _case("describe_key_pairs", "InvalidParameterValue", Filters=BAD_FILTER),

    # -- security groups -----------------------------------------------------------------
    _case("create_security_group", "InvalidGroup.Duplicate", GroupName="{group}",
          Description="d"),
    _case("create_security_group", "InvalidParameterValue", GroupName="g" * 256,
          Description="d"),
    _case("create_security_group", "InvalidParameterValue", GroupName="sg-name",
          Description="d"),
    _case("delete_security_group", "InvalidGroup.NotFound", GroupId=NO_GROUP),
    _case("delete_security_group", "InvalidGroupId.Malformed", GroupId="foo"),
    _case("delete_security_group", "InvalidGroup.NotFound", GroupName="nope"),
    _case("delete_security_group", "InvalidGroup.InUse", GroupName="{used_group}"),
    _case("describe_security_groups", "InvalidGroup.NotFound", GroupNames=["nope"]),
    _case("describe_security_groups", "InvalidGroupId.Malformed", GroupIds=["foo"]),
    _case("describe_security_groups", "InvalidParameterValue", Filters=BAD_FILTER),
    _case("authorize_security_group_ingress", "InvalidGroup.NotFound", GroupName="nope",
          IpPermissions=RULE),
    _case("authorize_security_group_ingress", "InvalidGroup.NotFound", GroupId=NO_GROUP,
          IpPermissions=RULE),
    _case("authorize_security_group_ingress", "InvalidGroupId.Malformed", GroupId="foo",
          IpPermissions=RULE),
    _case("authorize_security_group_ingress", "InvalidPermission.Duplicate",
          GroupId="{group_id}", IpPermissions=[{**RULE[0], "FromPort": 80, "ToPort": 80}]),
    _case("authorize_security_group_ingress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=[{**RULE[0], "IpProtocol": "gopher"}]),
    _case("authorize_security_group_ingress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=[{**RULE[0], "IpRanges": [{"CidrIp": "10.0.0.0/33"}]}]),
    _case("authorize_security_group_ingress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=[{**RULE[0], "FromPort": 80, "ToPort": 22}]),
    _case("authorize_security_group_ingress", "InvalidGroup.NotFound", GroupId="{group_id}",
          IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 2,
                          "UserIdGroupPairs": [{"GroupId": NO_GROUP}]}]),
    _case("revoke_security_group_ingress", "InvalidGroup.NotFound", GroupId=NO_GROUP,
          IpPermissions=RULE),
    _case("revoke_security_group_ingress", "InvalidGroupId.Malformed", GroupId="foo",
          IpPermissions=RULE),

    # -- elastic IPs ---------------------------------------------------------------------
    _case("describe_addresses", "InvalidAllocationID.NotFound",
          AllocationIds=["eipalloc-12345678"]),
    _case("describe_addresses", "InvalidParameterValue", Filters=BAD_FILTER),
    _case("release_address", "MissingParameter"),
    _case("disassociate_address", "MissingParameter"),
    _case("associate_address", "MissingParameter", PublicIp="{address}"),
    _case("associate_address", "InvalidInstanceID.NotFound", PublicIp="{address}",
          InstanceId=NO_INSTANCE),
    _case("associate_address", "InvalidInstanceID.Malformed", PublicIp="{address}",
          InstanceId="foo"),
    _case("associate_address", "InvalidAllocationID.NotFound",
          AllocationId="eipalloc-12345678", InstanceId="{instance}"),
    _case("associate_address", "InvalidParameterValue", PublicIp="not-an-ip",
          InstanceId="{instance}"),

    # -- tags ----------------------------------------------------------------------------
    _case("create_tags", "InvalidVolume.NotFound", Resources=[NO_VOLUME], Tags=TAG),
    _case("create_tags", "InvalidSnapshot.NotFound", Resources=[NO_SNAPSHOT], Tags=TAG),
    _case("create_tags", "InvalidGroup.NotFound", Resources=[NO_GROUP], Tags=TAG),
    _case("create_tags", "InvalidAMIID.NotFound", Resources=[NO_IMAGE], Tags=TAG),
    _case("create_tags", "InvalidID", Resources=["vol-nope"], Tags=TAG),
    _case("create_tags", "InvalidParameterValue", Resources=["{volume}"],
          Tags=[{"Key": "aws:reserved", "Value": "v"}]),
    _case("create_tags", "InvalidParameterValue", Resources=["{volume}"],
          Tags=[{"Key": "k" * 129, "Value": "v"}]),
    _case("create_tags", "InvalidParameterValue", Resources=["{volume}"],
          Tags=[{"Key": "k", "Value": "v" * 257}]),
    _case("create_tags", "TagLimitExceeded", Resources=["{volume}"],
          Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(51)]),
    _case("delete_tags", "InvalidInstanceID.NotFound", Resources=[NO_INSTANCE], Tags=TAG),
    _case("delete_tags", "InvalidID", Resources=["foo"]),
    _case("describe_tags", "InvalidParameterValue", Filters=BAD_FILTER),

    # -- zones, regions, types, account attributes -----------------------------------
    _case("describe_availability_zones", "InvalidParameterValue", ZoneNames=["nowhere"]),
    _case("describe_availability_zones", "InvalidParameterValue", Filters=BAD_FILTER),
    _case("describe_regions", "InvalidParameterValue", RegionNames=["nowhere"]),
    _case("describe_regions", "InvalidParameterValue", Filters=BAD_FILTER),
    _case("describe_instance_types", "InvalidInstanceType", InstanceTypes=["x9.huge"]),
    _case("describe_instance_types", "InvalidParameterValue", Filters=BAD_FILTER),
    _case("describe_account_attributes", "InvalidParameterValue",
          AttributeNames=["no-such-attribute"]),

    # -- launch templates and bundle tasks ---------------------------------------------
    _case("describe_launch_templates", "InvalidLaunchTemplateId.NotFound",
          LaunchTemplateIds=["lt-0123456789abcdef0"]),
    _case("describe_launch_templates", "InvalidLaunchTemplateId.Malformed",
          LaunchTemplateIds=["foo"]),
    _case("describe_launch_templates", "InvalidLaunchTemplateName.NotFoundException",
          LaunchTemplateNames=["nope"]),
    _case("describe_launch_templates", "InvalidParameterValue", Filters=BAD_FILTER),
    _case("delete_launch_template", "InvalidLaunchTemplateId.NotFound",
          LaunchTemplateId="lt-0123456789abcdef0"),
    _case("delete_launch_template", "InvalidLaunchTemplateName.NotFoundException",
          LaunchTemplateName="nope"),
    _case("run_instances", "InvalidLaunchTemplateId.NotFound", MinCount=1, MaxCount=1,
          LaunchTemplate={"LaunchTemplateId": "lt-0123456789abcdef0"}),
    _case("describe_bundle_tasks", "InvalidBundleID.NotFound", BundleIds=["bun-12345678"]),
    _case("describe_bundle_tasks", "InvalidParameterValue", Filters=BAD_FILTER),
    _case("cancel_bundle_task", "InvalidBundleID.NotFound", BundleId="bun-12345678"),
    _case("cancel_bundle_task", "InvalidBundleID.Malformed", BundleId="foo"),

    # -- DryRun: DryRunOperation for a request that would succeed ----------------------
    _case("describe_volumes", "DryRunOperation", 412, DryRun=True),
    _case("create_volume", "DryRunOperation", 412, AvailabilityZone="{zone}", Size=1,
          DryRun=True),
    _case("create_tags", "DryRunOperation", 412, Resources=["{volume}"], Tags=TAG,
          DryRun=True),
    _case("terminate_instances", "DryRunOperation", 412, InstanceIds=["{instance}"],
          DryRun=True),
    # ... after the checks the real call makes (AWS): IDs first, RunInstances' parameters
    _case("terminate_instances", "InvalidInstanceID.Malformed", InstanceIds=["foo"],
          DryRun=True),
    _case("stop_instances", "InvalidInstanceID.NotFound", InstanceIds=[NO_INSTANCE],
          DryRun=True),
    _case("delete_volume", "InvalidVolume.NotFound", VolumeId=NO_VOLUME, DryRun=True),
    _case("delete_snapshot", "InvalidSnapshotID.Malformed", SnapshotId="foo", DryRun=True),
    _case("deregister_image", "InvalidAMIID.NotFound", ImageId=NO_IMAGE, DryRun=True),
    _case("delete_security_group", "InvalidGroup.NotFound", GroupId=NO_GROUP, DryRun=True),
    _case("run_instances", "InvalidParameterValue", ImageId="{image}", MinCount=2,
          MaxCount=1, DryRun=True),
    _case("run_instances", "InvalidAMIID.NotFound", ImageId=NO_IMAGE, MinCount=1,
          MaxCount=1, DryRun=True),
    _case("run_instances", "InvalidKeyPair.NotFound", ImageId="{image}", MinCount=1,
          MaxCount=1, KeyName="nope", DryRun=True),

    # -- wrong states, limits and parameter combinations ------------------------------
    _case("create_tags", "MissingParameter", Resources=[], Tags=TAG),
    _case("create_tags", "MissingParameter", Resources=["{volume}"], Tags=[]),
    _case("delete_tags", "InvalidVolume.NotFound", Resources=[NO_VOLUME]),
    _case("modify_instance_attribute", "IncorrectInstanceState", InstanceId="{instance}",
          UserData={"Value": b"x"}),
    _case("modify_instance_attribute", "IncorrectInstanceState", InstanceId="{instance}",
          Kernel={"Value": "eki-12345678"}),
    _case("reboot_instances", "IncorrectInstanceState", InstanceIds=["{terminated}"]),
    _case("attach_volume", "IncorrectInstanceState", VolumeId="{volume}",
          InstanceId="{terminated}", Device="/dev/sdf"),
    _case("associate_address", "IncorrectInstanceState", PublicIp="{address}",
          InstanceId="{terminated}"),
    _case("attach_volume", "InvalidParameterValue", VolumeId="{volume}",
          InstanceId="{instance}", Device="/dev/sdh"),
    _case("create_security_group", "InvalidParameterValue", GroupName="long",
          Description="d" * 256),
    _case("create_security_group", "InvalidVpcID.NotFound", GroupName="in-vpc",
          Description="d", VpcId="vpc-12345678"),
    _case("authorize_security_group_ingress", "InvalidParameterValue", GroupId="{group_id}",
          IpPermissions=[{"IpProtocol": "icmp", "FromPort": 256, "ToPort": 0,
                          "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]),
    _case("authorize_security_group_ingress", "InvalidParameterCombination",
          GroupId="{group_id}", CidrIp="10.0.0.0/8", IpProtocol="tcp", FromPort=1, ToPort=2,
          IpPermissions=RULE),
    _case("authorize_security_group_ingress", "MissingParameter", GroupId="{group_id}"),
    _case("delete_key_pair", "MissingParameter"),
    _case("disassociate_address", "InvalidParameterValue", PublicIp="not-an-ip"),
    _case("run_instances", "InvalidSnapshot.NotFound", ImageId="{image}", MinCount=1,
          MaxCount=1, BlockDeviceMappings=[{"DeviceName": "/dev/sdb",
                                            "Ebs": {"SnapshotId": NO_SNAPSHOT}}]),
    _case("run_instances", "InvalidParameterValue", ImageId="{image}", MinCount=1,
          MaxCount=1, BlockDeviceMappings=[{"DeviceName": "/dev/sdb",
                                            "Ebs": {"VolumeSize": 0}}]),
    _case("create_volume", "InvalidParameterValue", AvailabilityZone="{zone}",
          SnapshotId="{snapshot}", Size=0),
    _case("describe_snapshots", "InvalidUserID.Malformed", OwnerIds=["not-an-owner"]),
    _case("modify_image_attribute", "InvalidAMIAttributeItemValue", ImageId="{image}",
          LaunchPermission={"Add": [{"UserId": "x"}]}),

    # -- what does not apply here: instance-store images, Linux bundles, ... ---------
    _case("create_image", "InvalidParameterValue", InstanceId="{instance}", Name="store"),
    _case("run_instances", "InvalidParameterValue", ImageId="{image}", MinCount=1,
          MaxCount=1, IamInstanceProfile={"Name": "nope"}),
    _case("terminate_instances", "MissingParameter", InstanceIds=[]),
    _case("create_snapshot", "InvalidParameterValue", VolumeId="{volume}",
          Description="d" * 256),
    _case("import_key_pair", "InvalidParameterValue", KeyName="k" * 256,
          PublicKeyMaterial=b"ssh-rsa AAAA"),
    _case("delete_security_group", "InvalidGroup.InUse", GroupName="{referenced_group}"),
    _case("bundle_instance", "UnsupportedOperation", InstanceId="{instance}",
          Storage={"S3": {"Bucket": "bundles", "Prefix": "p"}}),

    _case("revoke_security_group_ingress", "MissingParameter", IpPermissions=RULE),
    _case("authorize_security_group_ingress", "MissingParameter", IpPermissions=RULE),

    _case("describe_images", "InvalidParameterValue", MaxResults=4),
    _case("describe_security_groups", "InvalidParameterValue", MaxResults=1001),
    _case("describe_instance_types", "InvalidParameterValue", MaxResults=101),

    # -- EC2 actions this cloud does not implement -----------------------------------
    _case("describe_vpcs", "InvalidAction"),
    _case("copy_image", "InvalidAction", Name="copy", SourceImageId="{image}",
          SourceRegion="eucalyptus"),
    _case("describe_spot_price_history", "InvalidAction"),
]


def _fill(value: Any, world: dict[str, str]) -> Any:
    """``value`` with ``{name}`` placeholders replaced by the module's resources."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return world[value[1:-1]]
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


def _wait_snapshot(ec2: Any, sid: str) -> None:
    deadline = time.time() + 20
    while time.time() < deadline:
        if ec2.describe_snapshots(SnapshotIds=[sid])["Snapshots"][0]["State"] == "completed":
            return
        time.sleep(0.05)
    raise AssertionError(f"snapshot {sid} never completed")


@pytest.fixture(scope="module")
def user(cloud) -> Any:
    """An EC2 client of a new account's admin."""
    _, key, secret = new_account(cloud, "errors")
    return cloud.client("ec2", key=key, secret=secret)


def build_world(user: Any, admin: Any) -> dict[str, str]:
    """The resources the cases name, made with ``user``'s client in the states the cases
    need (``admin``'s client finds the public image)."""
    image = admin.describe_images(Filters=[{"Name": "image-type", "Values": ["machine"]}])[
        "Images"][0]["ImageId"]
    zone = user.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    used = user.create_security_group(GroupName="used", Description="d")["GroupId"]
    iid = user.run_instances(ImageId=image, MinCount=1, MaxCount=1, SecurityGroupIds=[used],
                             Placement={"AvailabilityZone": zone})["Instances"][0]["InstanceId"]
    group_id = user.create_security_group(GroupName="web", Description="d")["GroupId"]
    user.authorize_security_group_ingress(
        GroupId=group_id, IpPermissions=[{**RULE[0], "FromPort": 80, "ToPort": 80}])
    user.create_key_pair(KeyName="taken")
    user.create_security_group(GroupName="referenced", Description="d")
    user.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 2,
         "UserIdGroupPairs": [{"GroupName": "referenced"}]}])
    volume = user.create_volume(Size=1, AvailabilityZone=zone)["VolumeId"]
    attached = user.create_volume(Size=1, AvailabilityZone=zone)["VolumeId"]
    wait_volume(user, volume, "available")
    wait_volume(user, attached, "available")
    snapshot = user.create_snapshot(VolumeId=volume)["SnapshotId"]
    wait_state(user, [iid], "running")
    user.attach_volume(VolumeId=attached, InstanceId=iid, Device="/dev/sdh")
    wait_volume(user, attached, "in-use")
    _wait_snapshot(user, snapshot)
    address = user.allocate_address()["PublicIp"]
    gone = user.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"]
    user.terminate_instances(InstanceIds=[gone])
    wait_state(user, [gone], "terminated")
    return {"instance": iid, "image": image, "zone": zone, "group": "web",
            "group_id": group_id, "used_group": "used", "referenced_group": "referenced",
            "volume": volume, "attached": attached, "snapshot": snapshot, "address": address,
            "terminated": gone}


@pytest.fixture(scope="module")
def world(cloud, user) -> dict[str, str]:
    """The module's resources (:func:`build_world`)."""
    return build_world(user, cloud.client("ec2"))


@pytest.mark.parametrize(("call", "params", "code", "status"), CASES)
def test_error(user, world, call: str, params: dict[str, Any], code: str,
               status: int) -> None:
    """The call fails with AWS's code and HTTP status (never a 500)."""
    assert_error(user, world, call, params, code, status)


def assert_error(client: Any, world: dict[str, str], call: str, params: dict[str, Any],
                 code: str, status: int) -> None:
    """``client.call(params)``, placeholders filled from ``world``, fails with ``code`` and
    HTTP ``status``."""
    with pytest.raises(ClientError) as err:
        getattr(client, call)(**_fill(params, world))
    response = err.value.response
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == \
        (code, status), response["Error"]


def test_unimplemented_action_is_named(user) -> None:
    """An EC2 action this cloud does not serve: InvalidAction, 400, naming the action."""
    with pytest.raises(ClientError) as err:
        user.describe_vpcs()
    assert err.value.response["Error"]["Message"] == \
        "The action DescribeVpcs is not valid for this web service."


def test_user_data_that_is_not_base64(cloud, world) -> None:
    """UserData must be base64 (boto3 encodes it; a raw query may not)."""
    from helpers import ec2_query

    resp = ec2_query(cloud, "RunInstances", {"ImageId": world["image"], "MinCount": "1",
                                             "MaxCount": "1", "UserData": "!!!"})
    assert resp.status_code == 400 and "<Code>InvalidParameterValue</Code>" in resp.text


def test_run_instances_from_a_launch_template(user, world) -> None:
    """RunInstances takes its parameters from a launch template; the request's own win."""
    user.create_launch_template(LaunchTemplateName="conformance", LaunchTemplateData={
        "ImageId": world["image"], "InstanceType": "m1.small"})
    resp = user.run_instances(MinCount=1, MaxCount=1, InstanceType="c1.medium",
                              LaunchTemplate={"LaunchTemplateName": "conformance"})
    inst = resp["Instances"][0]
    assert (inst["ImageId"], inst["InstanceType"]) == (world["image"], "c1.medium")
    with pytest.raises(ClientError) as err:
        user.run_instances(MinCount=1, MaxCount=1, LaunchTemplate={
            "LaunchTemplateName": "conformance", "Version": "7"})
    assert err.value.response["Error"]["Code"] == "InvalidLaunchTemplateId.VersionNotFound"
    user.terminate_instances(InstanceIds=[inst["InstanceId"]])


def test_paged_images_groups_and_types(user, world) -> None:
    """DescribeImages, DescribeSecurityGroups and DescribeInstanceTypes page as AWS's do
    (boto3's paginators collect every item)."""
    for n in range(3):
        user.create_security_group(GroupName=f"page-{n}", Description="d")
    for call, key, field in (("describe_security_groups", "SecurityGroups", "GroupId"),
                             ("describe_instance_types", "InstanceTypes", "InstanceType"),
                             ("describe_images", "Images", "ImageId")):
        every = [i[field] for i in getattr(user, call)()[key]]
        pages = user.get_paginator(call).paginate(PaginationConfig={"PageSize": 5})
        paged = [i[field] for page in pages for i in page[key]]
        assert paged == every, call
    assert len(user.describe_security_groups()["SecurityGroups"]) > 5  # more than a page
