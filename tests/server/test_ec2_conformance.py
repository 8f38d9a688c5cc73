"""EC2 negative cases answer AWS's documented error codes and HTTP statuses (boto3).

Each case is what AWS answers for an EC2-Classic account (this cloud has no VPC): the
``Error codes`` page of the EC2 API reference, and the behaviour of AWS that public EC2
conformance suites check (a non-owner's image operations, attributes that apply only to
VPC instances, an empty public key, a malformed address, egress rules, revoking a rule
that is not there, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from helpers import new_account, wait_state, wait_volume


@pytest.fixture(scope="module")
def ec2(cloud):
    """The cloud admin's EC2 client."""
    return cloud.client("ec2")


@pytest.fixture(scope="module")
def user(cloud):
    """An EC2 client of another account's admin (not the owner of the default image)."""
    _, key, secret = new_account(cloud, "conformance")
    return cloud.client("ec2", key=key, secret=secret)


@pytest.fixture(scope="module")
def image_id(ec2) -> str:
    """The default public image (owned by the cloud admin's account)."""
    return str(ec2.describe_images()["Images"][0]["ImageId"])


@pytest.fixture(scope="module")
def instance_id(user, image_id) -> str:
    """A running instance-store instance of the user."""
    iid = user.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"]
    wait_state(user, [iid], "running")
    return str(iid)


def expect(code: str, call: Callable[..., Any], status: int = 400, **kwargs: Any) -> str:
    """Call and check the AWS error code and HTTP status; return the message."""
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    response = err.value.response
    assert response["Error"]["Code"] == code, response["Error"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response["Error"]
    return str(response["Error"].get("Message", ""))


# -- key pairs --------------------------------------------------------------------------
def test_key_pair_errors(user) -> None:
    """An empty public key is a missing parameter; junk is InvalidKey.Format."""
    expect("MissingParameter", user.import_key_pair, KeyName="k-empty", PublicKeyMaterial=b"")
    expect("MissingParameter", user.import_key_pair, KeyName="k-blank",
           PublicKeyMaterial=b"  \n")
    expect("InvalidKey.Format", user.import_key_pair, KeyName="k-junk",
           PublicKeyMaterial=b"ssh-rsa JUNK test@ubuntu")
    assert not user.describe_key_pairs(
        Filters=[{"Name": "key-name", "Values": ["k-*"]}])["KeyPairs"]
    user.create_key_pair(KeyName="Test key")
    expect("InvalidKeyPair.Duplicate", user.create_key_pair, KeyName="Test key")
    expect("InvalidKeyPair.NotFound", user.describe_key_pairs, KeyNames=["fake key"])
    user.delete_key_pair(KeyName="Test key")
    expect("InvalidKeyPair.NotFound", user.describe_key_pairs, KeyNames=["Test key"])
    user.delete_key_pair(KeyName="Test key")  # AWS: deleting an absent key is no error


# -- addresses ----------------------------------------------------------------------------
def test_address_errors(user) -> None:
    """Malformed addresses are InvalidParameterValue; well-formed unknown ones not found."""
    expect("InvalidParameterValue", user.describe_addresses, PublicIps=["invalidIp"])
    expect("InvalidAddress.NotFound", user.describe_addresses, PublicIps=["192.0.2.250"])
    expect("InvalidAllocationID.NotFound", user.describe_addresses,
           AllocationIds=["eipalloc-00000000"])
    expect("InvalidParameterValue", user.allocate_address, Domain="invalid")
    expect("InvalidAllocationID.NotFound", user.release_address,
           AllocationId="eipalloc-00000000")
    expect("InvalidParameterValue", user.release_address, PublicIp="ip")
    expect("InvalidAssociationID.NotFound", user.disassociate_address,
           AssociationId="eipassoc-00000001")
    data = user.allocate_address(Domain="standard")
    ip, alloc = data["PublicIp"], data["AllocationId"]
    expect("InvalidParameterCombination", user.release_address, PublicIp=ip,
           AllocationId=alloc)
    user.disassociate_address(PublicIp=ip)  # not associated: no error (EC2-Classic)
    assert user.describe_addresses(PublicIps=[ip])["Addresses"][0]["Domain"] == "standard"
    user.release_address(PublicIp=ip)
    expect("InvalidAddress.NotFound", user.describe_addresses, PublicIps=[ip])
    expect("InvalidAllocationID.NotFound", user.release_address, AllocationId=alloc)


# -- security groups ----------------------------------------------------------------------
def test_security_group_names(user) -> None:
    """Empty name or description: MissingParameter; ``default`` is reserved."""
    expect("MissingParameter", user.create_security_group, GroupName="g", Description="")
    expect("MissingParameter", user.create_security_group, GroupName="", Description="d")
    expect("InvalidGroup.Reserved", user.create_security_group, GroupName="default",
           Description="default")
    user.create_security_group(GroupName="dup", Description="d")
    expect("InvalidGroup.Duplicate", user.create_security_group, GroupName="dup",
           Description="d")
    expect("InvalidGroup.NotFound", user.describe_security_groups, GroupNames=["nope"])
    expect("InvalidGroup.NotFound", user.describe_security_groups, GroupIds=["sg-12345678"])
    expect("InvalidGroupId.Malformed", user.describe_security_groups, GroupIds=["foo"])
    expect("InvalidGroupId.Malformed", user.describe_security_groups, GroupIds=["sg-web"])
    expect("InvalidGroup.NotFound", user.delete_security_group, GroupName="nope")
    expect("CannotDelete", user.delete_security_group, GroupName="default")
    user.delete_security_group(GroupName="dup")


def _rules(default_gid: str, group_id: str) -> dict[str, Any]:
    return {"GroupId": group_id, "IpPermissions": [
        {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1,
         "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 65535,
         "UserIdGroupPairs": [{"GroupId": default_gid}]}]}


def test_classic_ingress_rules_and_revoking_twice(user) -> None:
    """Rules are added and revoked; revoking them again is no error (EC2-Classic)."""
    default_gid = user.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0][
        "GroupId"]
    gid = user.create_security_group(GroupName="rules", Description="d")["GroupId"]
    kwargs = _rules(default_gid, gid)
    user.authorize_security_group_ingress(**kwargs)
    perms = user.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]["IpPermissions"]
    assert len(perms) == 2
    expect("InvalidPermission.Duplicate", user.authorize_security_group_ingress, **kwargs)
    user.revoke_security_group_ingress(**kwargs)
    assert not user.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0][
        "IpPermissions"]
    again = user.revoke_security_group_ingress(**kwargs)
    assert again["Return"] is True
    assert len(again["UnknownIpPermissions"]) == 2
    user.delete_security_group(GroupId=gid)


def test_classic_groups_have_no_egress_rules(user) -> None:
    """Egress rules are for VPC groups: InvalidParameterValue for an EC2-Classic group."""
    default_gid = user.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0][
        "GroupId"]
    gid = user.create_security_group(GroupName="egress", Description="d")["GroupId"]
    expect("InvalidParameterValue", user.authorize_security_group_egress,
           **_rules(default_gid, gid))
    expect("InvalidParameterValue", user.revoke_security_group_egress,
           **_rules(default_gid, gid))
    expect("InvalidGroup.NotFound", user.authorize_security_group_egress,
           **_rules(default_gid, "sg-12345678"))
    group = user.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
    assert not group.get("IpPermissionsEgress")
    user.delete_security_group(GroupId=gid)


# -- RunInstances -------------------------------------------------------------------------
def test_run_instances_parameter_errors(user, image_id) -> None:
    """Counts, types, keys, groups and images as AWS checks them; nothing is launched."""
    before = user.describe_instances()["Reservations"]
    run = {"ImageId": image_id, "MinCount": 1, "MaxCount": 1}
    expect("InvalidParameterValue", user.run_instances, **{**run, "MinCount": 2, "MaxCount": 1})
    expect("InvalidParameterValue", user.run_instances, **{**run, "MinCount": 0})
    expect("InvalidParameterValue", user.run_instances, **{**run, "InstanceType": ""})
    expect("InvalidParameterValue", user.run_instances, **{**run, "InstanceType": "x9.huge"})
    expect("InvalidKeyPair.NotFound", user.run_instances, **{**run, "KeyName": "nope"})
    expect("InvalidGroup.NotFound", user.run_instances, **{**run, "SecurityGroups": ["nope"]})
    expect("InvalidGroup.NotFound", user.run_instances,
           **{**run, "SecurityGroupIds": ["sg-12345678"]})
    expect("InvalidAMIID.NotFound", user.run_instances, **{**run, "ImageId": "ami-12345678"})
    expect("InvalidAMIID.Malformed", user.run_instances, **{**run, "ImageId": "foo"})
    expect("InvalidParameterValue", user.run_instances,
           **{**run, "Placement": {"AvailabilityZone": "nowhere"}})
    expect("InvalidParameterValue", user.run_instances,
           **{**run, "InstanceInitiatedShutdownBehavior": "hibernate"})
    expect("InvalidParameterCombination", user.run_instances,  # instance-store: cannot stop
           **{**run, "InstanceInitiatedShutdownBehavior": "stop"})
    assert user.describe_instances()["Reservations"] == before


def test_run_instances_tag_specifications(user, image_id) -> None:
    """Tags land on the instances and on the volumes created at launch."""
    message = expect("InvalidParameterValue", user.run_instances, ImageId=image_id, MinCount=1,
                     MaxCount=1, TagSpecifications=[
                         {"ResourceType": "foo", "Tags": [{"Key": "a", "Value": "b"}]}])
    assert message == "'foo' is not a valid taggable resource type for this operation."
    expect("InvalidParameterValue", user.run_instances, ImageId=image_id, MinCount=1,
           MaxCount=1, TagSpecifications=[
               {"ResourceType": "instance", "Tags": [{"Key": "aws:x", "Value": "b"}]}])
    resp = user.run_instances(
        ImageId=image_id, MinCount=2, MaxCount=2,
        BlockDeviceMappings=[{"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 1}}],
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"},
                                                   {"Key": "tier", "Value": "front"}]},
            {"ResourceType": "volume", "Tags": [{"Key": "backup", "Value": "daily"}]}])
    iids = [i["InstanceId"] for i in resp["Instances"]]
    for inst in resp["Instances"]:
        assert {t["Key"]: t["Value"] for t in inst["Tags"]} == {"Name": "web", "tier": "front"}
    found = user.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["web"]}])
    assert sorted(i["InstanceId"] for r in found["Reservations"] for i in r["Instances"]) == \
        sorted(iids)
    vols = user.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": iids}])
    assert len(vols["Volumes"]) == 2
    for vol in vols["Volumes"]:
        assert vol["Tags"] == [{"Key": "backup", "Value": "daily"}]
    rows = user.describe_tags(Filters=[{"Name": "resource-type", "Values": ["volume"]}])["Tags"]
    assert {r["ResourceId"] for r in rows} == {v["VolumeId"] for v in vols["Volumes"]}
    user.terminate_instances(InstanceIds=iids)
    wait_state(user, iids, "terminated")


# -- instances and their attributes -------------------------------------------------------
def test_instance_ids(user, instance_id) -> None:
    """Unknown and malformed instance IDs, across the actions that take them."""
    expect("InvalidInstanceID.NotFound", user.describe_instances, InstanceIds=["i-0"])
    expect("InvalidInstanceID.Malformed", user.describe_instances, InstanceIds=["foo"])
    expect("InvalidInstanceID.Malformed", user.describe_instances, InstanceIds=["i-xyz"])
    expect("InvalidInstanceID.Malformed", user.terminate_instances, InstanceIds=["i-"])
    expect("InvalidInstanceID.NotFound", user.terminate_instances, InstanceIds=["i-12345678"])
    expect("InvalidInstanceID.NotFound", user.reboot_instances, InstanceIds=["i-12345678"])
    expect("InvalidInstanceID.NotFound", user.get_console_output, InstanceId="i-12345678")
    expect("InvalidInstanceID.NotFound", user.describe_instance_status,
           InstanceIds=["i-12345678"])
    expect("UnsupportedOperation", user.stop_instances, InstanceIds=[instance_id])
    for _ in range(3):  # a reboot while the node still reboots it is no error
        user.reboot_instances(InstanceIds=[instance_id])
    wait_state(user, [instance_id], "running")
    expect("DryRunOperation", user.describe_instances, status=412, DryRun=True)


def test_instance_attributes(user, instance_id) -> None:
    """Unknown attributes, VPC-only attributes on an EC2-Classic instance, one attribute
    per modification, a value required, and the states that allow a change."""
    iid = instance_id
    expect("InvalidParameterValue", user.describe_instance_attribute, InstanceId=iid,
           Attribute="fake_attribute")
    expect("InvalidInstanceID.NotFound", user.describe_instance_attribute, InstanceId="i-0",
           Attribute="disableApiTermination")
    expect("InvalidParameterCombination", user.describe_instance_attribute, InstanceId=iid,
           Attribute="sourceDestCheck")
    assert user.describe_instance_attribute(
        InstanceId=iid, Attribute="disableApiTermination")["DisableApiTermination"]["Value"] \
        is False

    expect("InvalidParameterValue", user.modify_instance_attribute, InstanceId=iid,
           Attribute="fake_attribute")
    expect("MissingParameter", user.modify_instance_attribute, InstanceId=iid,
           Attribute="disableApiTermination")
    expect("InvalidParameterCombination", user.modify_instance_attribute, InstanceId=iid)
    expect("InvalidParameterCombination", user.modify_instance_attribute, InstanceId=iid,
           Attribute="disableApiTermination", Value="True",
           DisableApiTermination={"Value": False})
    expect("InvalidParameterCombination", user.modify_instance_attribute, InstanceId=iid,
           Groups=["sg-0"])
    expect("InvalidParameterCombination", user.modify_instance_attribute, InstanceId=iid,
           Attribute="sourceDestCheck", Value="False")
    expect("IncorrectInstanceState", user.modify_instance_attribute, InstanceId=iid,
           Attribute="instanceType", Value="m1.small")
    expect("IncorrectInstanceState", user.modify_instance_attribute, InstanceId=iid,
           InstanceType={"Value": "m1.small"})
    expect("InvalidParameterCombination", user.modify_instance_attribute, InstanceId=iid,
           InstanceInitiatedShutdownBehavior={"Value": "stop"})
    expect("InvalidInstanceAttributeValue", user.modify_instance_attribute, InstanceId=iid,
           BlockDeviceMappings=[{"DeviceName": "/dev/sdz", "Ebs": {"DeleteOnTermination": True}}])

    for attr in ("fake_attribute", "disableApiTermination", "groupSet", "instanceType"):
        expect("InvalidParameterValue", user.reset_instance_attribute, InstanceId=iid,
               Attribute=attr)
    expect("InvalidParameterValue", user.reset_instance_attribute, InstanceId="i-0",
           Attribute="disableApiTermination")
    expect("InvalidParameterCombination", user.reset_instance_attribute, InstanceId=iid,
           Attribute="sourceDestCheck")

    user.modify_instance_attribute(InstanceId=iid, Attribute="disableApiTermination",
                                   Value="True")
    expect("OperationNotPermitted", user.terminate_instances, InstanceIds=[iid])
    user.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": False})
    assert user.describe_instance_attribute(
        InstanceId=iid, Attribute="disableApiTermination")["DisableApiTermination"]["Value"] \
        is False


def test_delete_on_termination_of_an_attached_volume(user, instance_id) -> None:
    """ModifyInstanceAttribute with a block device mapping: the attached volume goes with
    the instance."""
    zone = user.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][
        0]["Placement"]["AvailabilityZone"]
    vid = user.create_volume(Size=1, AvailabilityZone=zone)["VolumeId"]
    wait_volume(user, vid, "available")
    user.attach_volume(VolumeId=vid, InstanceId=instance_id, Device="/dev/sdh")
    wait_volume(user, vid, "in-use")
    expect("VolumeInUse", user.attach_volume, VolumeId=vid, InstanceId=instance_id,
           Device="/dev/sdh")
    expect("VolumeInUse", user.attach_volume, VolumeId=vid, InstanceId=instance_id,
           Device="/dev/sdi")
    expect("VolumeInUse", user.delete_volume, VolumeId=vid)
    user.modify_instance_attribute(InstanceId=instance_id, BlockDeviceMappings=[
        {"DeviceName": "/dev/sdh", "Ebs": {"VolumeId": vid, "DeleteOnTermination": True}}])
    vol = user.describe_volumes(VolumeIds=[vid])["Volumes"][0]
    assert vol["Attachments"][0]["DeleteOnTermination"] is True
    bdm = user.describe_instance_attribute(InstanceId=instance_id,
                                           Attribute="blockDeviceMapping")["BlockDeviceMappings"]
    assert [(b["DeviceName"], b["Ebs"]["DeleteOnTermination"]) for b in bdm] == \
        [("/dev/sdh", True)]


# -- volumes, snapshots, tags ---------------------------------------------------------------
def test_volume_snapshot_and_tag_ids(user) -> None:
    """Unknown, malformed and missing IDs and sizes of EBS and tag actions."""
    zone = user.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    expect("InvalidVolume.NotFound", user.describe_volumes, VolumeIds=["vol-12345678"])
    expect("InvalidVolumeID.Malformed", user.describe_volumes, VolumeIds=["foo"])
    expect("InvalidVolumeID.Malformed", user.describe_volumes, VolumeIds=["vol-nope"])
    expect("InvalidSnapshotID.Malformed", user.describe_snapshots, SnapshotIds=["snap-zz"])
    expect("InvalidVolume.NotFound", user.delete_volume, VolumeId="vol-12345678")
    expect("InvalidVolume.NotFound", user.detach_volume, VolumeId="vol-12345678")
    expect("InvalidVolume.NotFound", user.create_snapshot, VolumeId="vol-12345678")
    expect("InvalidSnapshot.NotFound", user.describe_snapshots, SnapshotIds=["snap-12345678"])
    expect("InvalidSnapshot.NotFound", user.delete_snapshot, SnapshotId="snap-12345678")
    expect("MissingParameter", user.create_volume, AvailabilityZone=zone)
    vid = user.create_volume(Size=1, AvailabilityZone=zone)["VolumeId"]
    wait_volume(user, vid, "available")
    expect("IncorrectState", user.detach_volume, VolumeId=vid)
    user.delete_volume(VolumeId=vid)
    expect("InvalidID", user.create_tags, Resources=["foo"], Tags=[{"Key": "a", "Value": "b"}])
    expect("InvalidID", user.create_tags, Resources=["i-xyz"], Tags=[{"Key": "a", "Value": "b"}])
    expect("InvalidInstanceID.NotFound", user.create_tags, Resources=["i-12345678"],
           Tags=[{"Key": "a", "Value": "b"}])


# -- images --------------------------------------------------------------------------------
def test_image_operations_by_a_non_owner(user, image_id) -> None:
    """Someone else's public image: its attributes are the owner's (AuthFailure), and
    malformed requests are refused first."""
    expect("InvalidRequest", user.describe_image_attribute, ImageId=image_id,
           Attribute="unsupported")
    expect("AuthFailure", user.describe_image_attribute, status=401, ImageId=image_id,
           Attribute="description")
    expect("InvalidParameterCombination", user.modify_image_attribute, ImageId=image_id,
           Attribute="unsupported")
    expect("InvalidParameter", user.modify_image_attribute, ImageId=image_id,
           Attribute="blockDeviceMapping")
    expect("InvalidParameterCombination", user.modify_image_attribute, ImageId=image_id)
    expect("AuthFailure", user.modify_image_attribute, status=401, ImageId=image_id,
           Description={"Value": "fake"})
    expect("AuthFailure", user.modify_image_attribute, status=401, ImageId=image_id,
           LaunchPermission={"Add": [{"Group": "all"}]})
    expect("MissingParameter", user.modify_image_attribute, ImageId=image_id,
           Attribute="description")
    expect("InvalidParameterCombination", user.modify_image_attribute, ImageId=image_id,
           Attribute="launchPermission")
    expect("InvalidRequest", user.reset_image_attribute, ImageId=image_id, Attribute="fake")
    expect("AuthFailure", user.reset_image_attribute, status=401, ImageId=image_id,
           Attribute="launchPermission")
    expect("AuthFailure", user.deregister_image, status=401, ImageId=image_id)
    assert user.describe_images(ImageIds=[image_id])["Images"][0]["Public"] is True


def test_image_ids(ec2, image_id) -> None:
    """Malformed image IDs: InvalidAMIID.Malformed; unknown ones: InvalidAMIID.NotFound."""
    for call, extra in ((ec2.deregister_image, {}),
                        (ec2.describe_image_attribute, {"Attribute": "description"}),
                        (ec2.modify_image_attribute, {"Description": {"Value": "x"}}),
                        (ec2.reset_image_attribute, {"Attribute": "launchPermission"})):
        expect("InvalidAMIID.Malformed", call, ImageId="foo", **extra)
        expect("InvalidAMIID.Malformed", call, ImageId="ami-xyz", **extra)
        expect("InvalidAMIID.NotFound", call, ImageId="ami-12345678", **extra)
    expect("InvalidAMIID.NotFound", ec2.describe_images, ImageIds=["ami-12345678"])
    expect("InvalidAMIID.Malformed", ec2.describe_images, ImageIds=["foo"])
    # the owner: unknown attributes, legacy and structured launch permission edits
    expect("InvalidRequest", ec2.describe_image_attribute, ImageId=image_id, Attribute="foo")
    # an image without a kernel has no KernelId (an instance shows an empty one)
    assert "KernelId" not in ec2.describe_image_attribute(ImageId=image_id, Attribute="kernel")
    assert "RamdiskId" not in ec2.describe_image_attribute(ImageId=image_id,
                                                           Attribute="ramdisk")
    ec2.modify_image_attribute(ImageId=image_id, Attribute="description", Value="described")
    assert ec2.describe_image_attribute(ImageId=image_id, Attribute="description")[
        "Description"]["Value"] == "described"
    expect("InvalidParameterValue", ec2.modify_image_attribute, ImageId=image_id,
           LaunchPermission={"Add": [{"Group": "everyone"}]})


def test_user_data_limits(user, image_id) -> None:
    """User data over 16 KiB is refused before anything is launched."""
    big = "x" * (16 * 1024 + 1)  # boto3 sends it base64-encoded
    expect("InvalidUserData.Malformed", user.run_instances, ImageId=image_id, MinCount=1,
           MaxCount=1, UserData=big)


# -- tags at creation, zones, paging --------------------------------------------------------
def test_tag_specifications_of_create_actions(user) -> None:
    """Volumes, snapshots, groups, key pairs and addresses take their tags at creation, and
    only their own resource type."""
    zone = user.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    spec = [{"ResourceType": "volume", "Tags": [{"Key": "k", "Value": "v"}]}]
    message = expect("InvalidParameterValue", user.create_volume, Size=1, AvailabilityZone=zone,
                     TagSpecifications=[{**spec[0], "ResourceType": "instance"}])
    assert message == "'instance' is not a valid taggable resource type for this operation."
    vol = user.create_volume(Size=1, AvailabilityZone=zone, TagSpecifications=spec)
    assert vol["Tags"] == [{"Key": "k", "Value": "v"}]
    wait_volume(user, vol["VolumeId"], "available")
    snap = user.create_snapshot(VolumeId=vol["VolumeId"], TagSpecifications=[
        {"ResourceType": "snapshot", "Tags": [{"Key": "s", "Value": "1"}]}])
    assert user.describe_snapshots(SnapshotIds=[snap["SnapshotId"]])["Snapshots"][0][
        "Tags"] == [{"Key": "s", "Value": "1"}]
    gid = user.create_security_group(GroupName="tagged", Description="d", TagSpecifications=[
        {"ResourceType": "security-group", "Tags": [{"Key": "g", "Value": "1"}]}])["GroupId"]
    assert user.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]["Tags"] == \
        [{"Key": "g", "Value": "1"}]
    kp = user.create_key_pair(KeyName="tagged", TagSpecifications=[
        {"ResourceType": "key-pair", "Tags": [{"Key": "p", "Value": "1"}]}])
    assert kp["Tags"] == [{"Key": "p", "Value": "1"}]
    assert user.describe_key_pairs(KeyNames=["tagged"])["KeyPairs"][0]["Tags"] == \
        [{"Key": "p", "Value": "1"}]
    user.create_tags(Resources=[kp["KeyPairId"]], Tags=[{"Key": "q", "Value": "2"}])
    assert len(user.describe_key_pairs(KeyNames=["tagged"])["KeyPairs"][0]["Tags"]) == 2
    addr = user.allocate_address(TagSpecifications=[
        {"ResourceType": "elastic-ip", "Tags": [{"Key": "a", "Value": "1"}]}])
    assert user.describe_addresses(PublicIps=[addr["PublicIp"]])["Addresses"][0]["Tags"] == \
        [{"Key": "a", "Value": "1"}]
    expect("InvalidParameterValue", user.create_security_group, GroupName="x", Description="d",
           TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "a", "Value": "b"}]}])
    user.release_address(PublicIp=addr["PublicIp"])
    user.delete_key_pair(KeyName="tagged")
    user.delete_security_group(GroupId=gid)


def test_zones_and_groups_by_name(user) -> None:
    """An unknown zone for a volume is InvalidZone.NotFound; a group needs a name or ID."""
    expect("InvalidZone.NotFound", user.create_volume, Size=1, AvailabilityZone="nowhere")
    expect("MissingParameter", user.delete_security_group)


def test_paging_limits(user, instance_id) -> None:
    """MaxResults below 5 is invalid; above the maximum, Volumes, Snapshots and Tags answer
    their maximum; with IDs it is an invalid combination."""
    for call in (user.describe_tags, user.describe_volumes, user.describe_snapshots,
                 user.describe_instances):
        expect("InvalidParameterValue", call, MaxResults=4)
    user.describe_tags(MaxResults=1100)
    user.describe_volumes(MaxResults=1100)
    user.describe_snapshots(MaxResults=1100, OwnerIds=["self"])
    expect("InvalidParameterCombination", user.describe_volumes, MaxResults=5,
           VolumeIds=["vol-12345678"])
    expect("InvalidParameterCombination", user.describe_snapshots, MaxResults=5,
           SnapshotIds=["snap-12345678"])
    expect("InvalidParameterCombination", user.describe_instances, MaxResults=5,
           InstanceIds=[instance_id])
    expect("InvalidParameterCombination", user.describe_instance_status, MaxResults=5,
           InstanceIds=["i-12345678"])


def test_create_ed25519_key_pair(user) -> None:
    """CreateKeyPair makes ed25519 keys too (OpenSSH private key, SHA-256 fingerprint)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    kp = user.create_key_pair(KeyName="ed", KeyType="ed25519")
    key = serialization.load_ssh_private_key(kp["KeyMaterial"].encode(), None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    assert user.describe_key_pairs(KeyNames=["ed"])["KeyPairs"][0]["KeyType"] == "ed25519"
    expect("InvalidParameterValue", user.create_key_pair, KeyName="dsa", KeyType="dsa")
    user.delete_key_pair(KeyName="ed")


def test_ami_names_and_launch_permission_items(cloud, user) -> None:
    """AMI names as AWS allows them; launch permissions name 12-digit accounts."""
    from helpers import put_manifest

    location = put_manifest(cloud, "conf-bucket/named.manifest.xml")
    expect("InvalidAMIName.Malformed", user.register_image, Name="x" * 129,
           ImageLocation=location)
    expect("InvalidAMIName.Malformed", user.register_image, Name="bad:name",
           ImageLocation=location)
    expect("InvalidParameterValue", user.register_image, Name="virt", ImageLocation=location,
           VirtualizationType="pv")
    ec2 = cloud.client("ec2")
    image = ec2.register_image(Name="ok (v1.0) [x86]/a_b-c's@d", ImageLocation=location)[
        "ImageId"]
    expect("InvalidAMIAttributeItemValue", ec2.modify_image_attribute, ImageId=image,
           LaunchPermission={"Add": [{"UserId": "abc"}]})
    expect("InvalidAMIAttributeItemValue", ec2.modify_image_attribute, ImageId=image,
           Attribute="launchPermission", OperationType="add", UserIds=["12"])
    ec2.modify_image_attribute(ImageId=image, Attribute="launchPermission",
                               OperationType="add", UserGroups=["all"])
    assert ec2.describe_image_attribute(ImageId=image, Attribute="launchPermission")[
        "LaunchPermissions"] == [{"Group": "all"}]
    ec2.reset_image_attribute(ImageId=image, Attribute="launchPermission")
    assert not ec2.describe_images(ImageIds=[image])["Images"][0]["Public"]
    expect("InvalidAMIID.NotFound", user.describe_images, ImageIds=[image])
    ec2.deregister_image(ImageId=image)


def test_tags_on_someone_elses_public_image_are_the_callers(ec2, user, image_id) -> None:
    """As on AWS, an account may tag a public image it does not own; those tags are its
    own: the owner does not see them, and they go away with the tagger's DeleteTags."""
    by_id = [{"Name": "resource-id", "Values": [image_id]}]
    before = len(user.describe_tags(Filters=by_id)["Tags"])
    user.create_tags(Resources=[image_id], Tags=[{"Key": "mine", "Value": "fake_value"}])
    assert len(user.describe_tags(Filters=by_id)["Tags"]) == before + 1
    rows = user.describe_tags(Filters=[{"Name": "resource-type", "Values": ["image"]}])["Tags"]
    assert {"Key": "mine", "ResourceId": image_id, "ResourceType": "image",
            "Value": "fake_value"} in rows
    found = user.describe_images(Filters=[{"Name": "tag-key", "Values": ["mine"]}])["Images"]
    assert [i["ImageId"] for i in found] == [image_id]
    assert found[0]["Tags"] == [{"Key": "mine", "Value": "fake_value"}]
    assert not ec2.describe_images(Filters=[{"Name": "tag-key", "Values": ["mine"]}])["Images"]
    assert "Tags" not in ec2.describe_images(ImageIds=[image_id])["Images"][0]
    user.delete_tags(Resources=[image_id], Tags=[{"Key": "mine"}])
    assert len(user.describe_tags(Filters=by_id)["Tags"]) == before
    expect("InvalidAMIID.NotFound", user.create_tags, Resources=["emi-12345678"],
           Tags=[{"Key": "a", "Value": "b"}])


def test_client_token_and_instance_types(user, image_id) -> None:
    """A client token reused for another launch is IdempotentParameterMismatch; unknown
    instance types are InvalidInstanceType for DescribeInstanceTypes."""
    run = {"ImageId": image_id, "MinCount": 1, "MaxCount": 1, "ClientToken": "conformance-1"}
    first = user.run_instances(**run)
    again = user.run_instances(**run)
    assert again["ReservationId"] == first["ReservationId"]
    expect("IdempotentParameterMismatch", user.run_instances,
           **{**run, "InstanceType": "m1.large"})
    expect("IdempotentParameterMismatch", user.run_instances, **{**run, "MinCount": 2,
                                                                 "MaxCount": 2})
    user.terminate_instances(InstanceIds=[first["Instances"][0]["InstanceId"]])
    message = expect("InvalidInstanceType", user.describe_instance_types,
                     InstanceTypes=["m1.small", "x9.huge"])
    assert message == "The following supplied instance types do not exist: [x9.huge]"


def test_missing_and_unknown_actions(cloud) -> None:
    """No Action: MissingAction; an unknown one: InvalidAction (both 400)."""
    from helpers import ec2_query

    resp = ec2_query(cloud, "", {})
    assert resp.status_code == 400 and "<Code>MissingAction</Code>" in resp.text
    resp = ec2_query(cloud, "DescribeUnicorns", {})
    assert resp.status_code == 400 and "<Code>InvalidAction</Code>" in resp.text


def test_import_rfc4716_public_key(user) -> None:
    """ImportKeyPair takes the SSH2 (RFC 4716) public key file format too, as AWS does."""
    import textwrap

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = line.split()[1].decode()
    text = ("---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"2048-bit RSA, converted by me \\\n"
            "from OpenSSH\"\n" + "\n".join(textwrap.wrap(blob, 70)) +
            "\n---- END SSH2 PUBLIC KEY ----\n")
    got = user.import_key_pair(KeyName="ssh2", PublicKeyMaterial=text.encode())
    plain = user.import_key_pair(KeyName="openssh", PublicKeyMaterial=line)
    assert got["KeyFingerprint"] == plain["KeyFingerprint"]
    bad = text.replace(blob[10:20], "!!!!!!!!!!")
    expect("InvalidKey.Format", user.import_key_pair, KeyName="ssh2-bad",
           PublicKeyMaterial=bad.encode())
    user.delete_key_pair(KeyName="ssh2")
    user.delete_key_pair(KeyName="openssh")
