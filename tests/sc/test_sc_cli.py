"""The euca-* EBS commands as subprocesses: VOLUME, ATTACHMENT and SNAPSHOT records."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from cloudproc import CloudProcess, running_cloud
from sc_helpers import TWO_ZONES, euca, new_account, run_one, wait_snapshot, wait_volume

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture(scope="module")
def cloud() -> Iterator[CloudProcess]:
    """Two zones (file backend, virtual nodes)."""
    with running_cloud(TWO_ZONES) as c:
        yield c


def test_volume_commands(cloud: CloudProcess) -> None:
    """create, describe, attach, detach, delete: records and columns as euca2ools prints them."""
    ec2 = cloud.client("ec2")
    [line] = euca(cloud, "euca-create-volume", "-z", "zone-a", "-s", "1")
    assert line[0] == "VOLUME" and len(line) == 7, line
    vid = line[1]
    assert line[2:6] == ["1", "", "zone-a", "creating"] and TIME.match(line[6])
    wait_volume(ec2, vid, "available")
    [line] = euca(cloud, "euca-describe-volumes", vid)
    assert line[:6] == ["VOLUME", vid, "1", "", "zone-a", "available"]
    assert line[7:] == ["standard", ""]

    iid = run_one(ec2, "zone-a")
    [att] = euca(cloud, "euca-attach-volume", vid, "-i", iid, "-d", "/dev/sdf")
    assert att[:5] == ["ATTACHMENT", vid, iid, "/dev/sdf", "attaching"] and TIME.match(att[5])
    wait_volume(ec2, vid, "in-use", "attached")
    euca(cloud, "euca-create-tags", vid, "--tag", "name=data")
    lines = euca(cloud, "euca-describe-volumes", "--filter", "attachment.instance-id=" + iid)
    assert [r[0] for r in lines] == ["VOLUME", "ATTACHMENT", "TAG"]
    assert lines[0][5] == "in-use"
    assert lines[1][:5] == ["ATTACHMENT", vid, iid, "/dev/sdf", "attached"]
    assert lines[2] == ["TAG", "volume", vid, "name", "data"]

    proc_lines = euca(cloud, "euca-delete-volume", vid, check=False)
    assert proc_lines == []  # refused (VolumeInUse): nothing on stdout
    [det] = euca(cloud, "euca-detach-volume", vid)
    assert det[:5] == ["ATTACHMENT", vid, iid, "/dev/sdf", "detaching"]
    wait_volume(ec2, vid, "available")
    assert euca(cloud, "euca-delete-volume", vid) == [["VOLUME", vid]]
    ec2.terminate_instances(InstanceIds=[iid])


def test_snapshot_commands(cloud: CloudProcess) -> None:
    """create, describe (merged self/restorable), attribute commands, delete."""
    ec2 = cloud.client("ec2")
    vid = ec2.create_volume(AvailabilityZone="zone-b", Size=2)["VolumeId"]
    wait_volume(ec2, vid, "available")
    [line] = euca(cloud, "euca-create-snapshot", vid, "-d", "nightly backup")
    assert line[0] == "SNAPSHOT" and len(line) == 8, line
    sid = line[1]
    owner = cloud.credentials()["account"]
    assert line[2:4] == [vid, "pending"] and TIME.match(line[4])
    assert line[5:] == [owner, "2", "nightly backup"]
    wait_snapshot(ec2, sid)
    lines = euca(cloud, "euca-describe-snapshots")
    mine = [r for r in lines if r[1] == sid]
    assert mine == [["SNAPSHOT", sid, vid, "completed", line[4], "100%", owner, "2",
                     "nightly backup"]]

    other_id, _, _ = new_account(cloud, "clishare")
    assert euca(cloud, "euca-modify-snapshot-attribute", sid, "-c", "-a", other_id) == \
        [["createVolumePermission", sid, "ADD", "UserId", other_id]]
    assert euca(cloud, "euca-describe-snapshot-attribute", sid, "-c") == \
        [["createVolumePermission", sid, "userId", other_id]]
    assert euca(cloud, "euca-modify-snapshot-attribute", sid, "-c", "-a", "all") == \
        [["createVolumePermission", sid, "ADD", "Group", "all"]]
    assert ["createVolumePermission", sid, "group", "all"] in \
        euca(cloud, "euca-describe-snapshot-attribute", sid, "-c")
    assert euca(cloud, "euca-reset-snapshot-attribute", sid, "-c") == \
        [["createVolumePermission", sid, "RESET"]]
    assert euca(cloud, "euca-describe-snapshot-attribute", sid, "-c") == []

    [line] = euca(cloud, "euca-create-volume", "-z", "zone-a", "--snapshot", sid)
    assert line[2:5] == ["2", sid, "zone-a"]
    wait_volume(ec2, line[1], "available")
    assert euca(cloud, "euca-delete-snapshot", sid) == [["SNAPSHOT", sid]]
    assert [r for r in euca(cloud, "euca-describe-snapshots") if r[1] == sid] == []


def test_register_run_create_image_commands(cloud: CloudProcess) -> None:
    """euca-register -s, euca-run-instances -b, euca-create-image."""
    ec2 = cloud.client("ec2")
    vid = ec2.create_volume(AvailabilityZone="zone-a", Size=1)["VolumeId"]
    wait_volume(ec2, vid, "available")
    sid = ec2.create_snapshot(VolumeId=vid)["SnapshotId"]
    wait_snapshot(ec2, sid)
    [line] = euca(cloud, "euca-register", "-n", "cli-ebs", "-s", sid, "-a", "x86_64")
    assert line[0] == "IMAGE"
    image = line[1]
    lines = euca(cloud, "euca-run-instances", image, "-z", "zone-a",
                 "-b", "/dev/sdc=:1:false")
    iid = next(r[1] for r in lines if r[0] == "INSTANCE")
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    devices = {b["DeviceName"]: b["Ebs"] for b in inst["BlockDeviceMappings"]}
    assert set(devices) == {"/dev/sda1", "/dev/sdc"}
    assert devices["/dev/sdc"]["DeleteOnTermination"] is False
    lines = euca(cloud, "euca-describe-instances", iid)
    blockdevs = [r for r in lines if r[0] == "BLOCKDEVICE"]
    assert {r[1] for r in blockdevs} == {"/dev/sda1", "/dev/sdc"}
    from sc_helpers import wait_instances
    wait_instances(ec2, [iid], "running")
    [line] = euca(cloud, "euca-create-image", iid, "-n", "cli-ebs-copy", "--no-reboot")
    assert line[0] == "IMAGE" and line[1].startswith("emi-")
    ec2.terminate_instances(InstanceIds=[iid])
    wait_volume(ec2, devices["/dev/sdc"]["VolumeId"], "available")
