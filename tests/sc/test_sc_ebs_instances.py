"""EBS-backed instances: register from a snapshot, boot, stop/start, -b mappings, CreateImage."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from cloudproc import CloudProcess, running_cloud
from sc_helpers import (
    TWO_ZONES,
    backing_file,
    code,
    sha256,
    volume,
    wait_for,
    wait_gone,
    wait_instances,
    wait_snapshot,
    wait_volume,
    write_pattern,
)


@pytest.fixture(scope="module")
def cloud() -> Iterator[CloudProcess]:
    """Two zones (file backend, virtual nodes)."""
    with running_cloud(TWO_ZONES) as c:
        yield c


def _root_snapshot(ec2, cloud: CloudProcess, data: bytes) -> str:
    vid = ec2.create_volume(AvailabilityZone="zone-a", Size=1)["VolumeId"]
    wait_volume(ec2, vid, "available")
    write_pattern(backing_file(cloud, "zone-a", vid), 0, data)
    sid = ec2.create_snapshot(VolumeId=vid, Description="root")["SnapshotId"]
    wait_snapshot(ec2, sid)
    ec2.delete_volume(VolumeId=vid)
    return str(sid)


def test_boot_stop_start_terminate(cloud: CloudProcess) -> None:
    """The root volume comes from the snapshot, survives stop/start, and goes at terminate."""
    ec2 = cloud.client("ec2")
    boot = b"\xeb\x63\x90" + os.urandom(4093)
    sid = _root_snapshot(ec2, cloud, boot)
    image = ec2.register_image(
        Name="ebs-image", RootDeviceName="/dev/sda1", Architecture="x86_64",
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": sid}}])["ImageId"]
    img = ec2.describe_images(ImageIds=[image])["Images"][0]
    assert img["RootDeviceType"] == "ebs"
    with pytest.raises(ClientError) as exc:
        ec2.delete_snapshot(SnapshotId=sid)
    assert code(exc) == "InvalidSnapshot.InUse"

    resp = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, Placement={"AvailabilityZone": "zone-b"},
        BlockDeviceMappings=[{"DeviceName": "/dev/sdb",
                              "Ebs": {"VolumeSize": 2, "DeleteOnTermination": False}}])
    iid = resp["Instances"][0]["InstanceId"]
    inst = wait_instances(ec2, [iid], "running")[0]
    assert inst["RootDeviceType"] == "ebs"
    bdm = {b["DeviceName"]: b["Ebs"] for b in inst["BlockDeviceMappings"]}
    assert set(bdm) == {"/dev/sda1", "/dev/sdb"}
    root, extra = bdm["/dev/sda1"]["VolumeId"], bdm["/dev/sdb"]["VolumeId"]
    assert bdm["/dev/sda1"]["DeleteOnTermination"] is True
    assert bdm["/dev/sdb"]["DeleteOnTermination"] is False
    rv = volume(ec2, root)
    assert (rv["State"], rv["SnapshotId"], rv["AvailabilityZone"]) == ("in-use", sid, "zone-b")
    assert rv["Attachments"][0]["State"] == "attached"
    assert volume(ec2, extra)["Size"] == 2
    root_path = backing_file(cloud, "zone-b", root)
    with open(root_path, "rb") as fh:
        assert fh.read(len(boot)) == boot
    write_pattern(root_path, 1 << 20, b"written by the guest")
    before = sha256(root_path)

    ec2.stop_instances(InstanceIds=[iid])
    wait_instances(ec2, [iid], "stopped")
    assert volume(ec2, root)["State"] == "in-use"  # attached to the stopped instance
    ec2.start_instances(InstanceIds=[iid])
    inst = wait_instances(ec2, [iid], "running")[0]
    assert {b["Ebs"]["VolumeId"] for b in inst["BlockDeviceMappings"]} == {root, extra}
    assert sha256(root_path) == before

    with pytest.raises(ClientError) as exc:
        ec2.detach_volume(VolumeId=root)
    assert code(exc) == "IncorrectState"

    ec2.terminate_instances(InstanceIds=[iid])
    wait_instances(ec2, [iid], "terminated")
    wait_gone(ec2, root)  # delete-on-termination
    assert not root_path.exists()
    assert wait_volume(ec2, extra, "available")["Attachments"] == []
    ec2.delete_volume(VolumeId=extra)


def test_launch_mapping_errors(cloud: CloudProcess) -> None:
    """Bad snapshots and sizes in -b mappings are refused before anything launches."""
    ec2 = cloud.client("ec2")
    image = ec2.describe_images(Filters=[{"Name": "root-device-type",
                                          "Values": ["instance-store"]}])["Images"][0]["ImageId"]
    cases = [
        ({"DeviceName": "/dev/sdc", "Ebs": {"SnapshotId": "snap-00000000000000000"}},
         "InvalidSnapshot.NotFound"),
        ({"DeviceName": "/dev/sdc", "Ebs": {"VolumeSize": 1000}}, "InvalidParameterValue"),
    ]
    before = len(ec2.describe_volumes()["Volumes"])
    for mapping, expected in cases:
        with pytest.raises(ClientError) as exc:
            ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, BlockDeviceMappings=[mapping],
                              Placement={"AvailabilityZone": "zone-a"})
        assert code(exc) == expected
    with pytest.raises(ClientError) as exc:  # 6 x 100 GiB > the zone's 500 GiB
        ec2.run_instances(ImageId=image, MinCount=6, MaxCount=6,
                          Placement={"AvailabilityZone": "zone-a"},
                          BlockDeviceMappings=[{"DeviceName": "/dev/sdc",
                                                "Ebs": {"VolumeSize": 100}}])
    assert code(exc) == "VolumeLimitExceeded"
    assert len(ec2.describe_volumes()["Volumes"]) == before
    # An instance-store instance with an EBS -b volume: stop is still refused.
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                            Placement={"AvailabilityZone": "zone-a"},
                            BlockDeviceMappings=[{"DeviceName": "/dev/sdc",
                                                  "Ebs": {"VolumeSize": 1}}],
                            )["Instances"][0]["InstanceId"]
    inst = wait_instances(ec2, [iid], "running")[0]
    vid = inst["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    with pytest.raises(ClientError) as exc:
        ec2.stop_instances(InstanceIds=[iid])
    assert code(exc) == "UnsupportedOperation"
    ec2.terminate_instances(InstanceIds=[iid])
    wait_gone(ec2, vid)


def test_create_image_from_ebs_instance(cloud: CloudProcess) -> None:
    """CreateImage snapshots the instance's volumes; the new image boots the same data."""
    ec2 = cloud.client("ec2")
    data = os.urandom(8192)
    sid = _root_snapshot(ec2, cloud, data)
    image = ec2.register_image(
        Name="ebs-base", RootDeviceName="/dev/sda1",
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": sid}}])["ImageId"]
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                            Placement={"AvailabilityZone": "zone-a"})["Instances"][0]["InstanceId"]
    inst = wait_instances(ec2, [iid], "running")[0]
    root = inst["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    write_pattern(backing_file(cloud, "zone-a", root), 4 << 20, b"customised")
    expected = sha256(backing_file(cloud, "zone-a", root))
    new_image = ec2.create_image(InstanceId=iid, Name="ebs-custom", NoReboot=True)["ImageId"]

    def available() -> dict | None:
        img = ec2.describe_images(ImageIds=[new_image])["Images"][0]
        assert img["State"] in ("pending", "available")
        return img if img["State"] == "available" else None
    img = wait_for("image available", available)
    assert img["RootDeviceType"] == "ebs" and img["RootDeviceName"] == "/dev/sda1"
    new_snap = img["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    assert new_snap != sid
    with pytest.raises(ClientError) as exc:
        ec2.create_image(InstanceId=iid, Name="ebs-custom")
    assert code(exc) == "InvalidAMIName.Duplicate"
    i2 = ec2.run_instances(ImageId=new_image, MinCount=1, MaxCount=1,
                           Placement={"AvailabilityZone": "zone-b"})["Instances"][0]["InstanceId"]
    inst2 = wait_instances(ec2, [i2], "running")[0]
    root2 = inst2["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    assert sha256(backing_file(cloud, "zone-b", root2)) == expected
    default = ec2.describe_images(Filters=[{"Name": "name", "Values": ["default-image"]}])
    inst_store = ec2.run_instances(ImageId=default["Images"][0]["ImageId"], MinCount=1,
                                   MaxCount=1)["Instances"][0]["InstanceId"]
    wait_instances(ec2, [inst_store], "running")
    with pytest.raises(ClientError) as exc:
        ec2.create_image(InstanceId=inst_store, Name="nope")
    assert code(exc) == "InvalidParameterValue"
    ec2.terminate_instances(InstanceIds=[iid, i2, inst_store])


def test_start_on_the_same_node(make_cloud) -> None:
    """Stop and start on a one-node zone: the instance must come back on that node."""
    c = make_cloud('[[zones]]\nname = "solo"\nnodes = 1\nstorage_backend = "virtual"\n')
    ec2 = c.client("ec2")
    vid = ec2.create_volume(AvailabilityZone="solo", Size=1)["VolumeId"]
    wait_volume(ec2, vid, "available")
    sid = ec2.create_snapshot(VolumeId=vid)["SnapshotId"]
    wait_snapshot(ec2, sid)
    image = ec2.register_image(Name="solo-ebs", RootDeviceName="/dev/sda1", BlockDeviceMappings=[
        {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": sid}}])["ImageId"]
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    wait_instances(ec2, [iid], "running")
    ec2.stop_instances(InstanceIds=[iid])
    wait_instances(ec2, [iid], "stopped")
    ec2.start_instances(InstanceIds=[iid])
    wait_instances(ec2, [iid], "running")


def test_detach_launch_volume_from_running_instance(cloud: CloudProcess) -> None:
    """A -b volume detaches from a running instance like a hot-plugged one."""
    ec2 = cloud.client("ec2")
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["default-image"]}])
    iid = ec2.run_instances(ImageId=image["Images"][0]["ImageId"], MinCount=1, MaxCount=1,
                            Placement={"AvailabilityZone": "zone-a"},
                            BlockDeviceMappings=[{"DeviceName": "/dev/sdd",
                                                  "Ebs": {"VolumeSize": 1}}],
                            )["Instances"][0]["InstanceId"]
    inst = wait_instances(ec2, [iid], "running")[0]
    vid = inst["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    try:
        ec2.detach_volume(VolumeId=vid)
        wait_volume(ec2, vid, "available", timeout=5)
    finally:
        if volume(ec2, vid)["Attachments"]:
            ec2.detach_volume(VolumeId=vid, Force=True)
        ec2.terminate_instances(InstanceIds=[iid])
