"""EBS volumes and snapshots on the file backend with virtual nodes, through boto3."""

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
    run_one,
    sha256,
    volume,
    wait_gone,
    wait_snapshot,
    wait_volume,
    write_pattern,
)

PATTERN = os.urandom(3 << 20)


def _walrus_files(cloud: CloudProcess) -> set[str]:
    return {str(p) for p in (cloud.data_dir / "walrus").rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def cloud() -> Iterator[CloudProcess]:
    """Two zones (file backend, virtual nodes)."""
    with running_cloud(TWO_ZONES) as c:
        yield c


def test_volume_snapshot_volume_in_another_zone(cloud: CloudProcess) -> None:
    """Write, attach, snapshot, restore in zone-b: byte-identical; detach and delete."""
    ec2 = cloud.client("ec2")
    vid = ec2.create_volume(AvailabilityZone="zone-a", Size=1)["VolumeId"]
    assert volume(ec2, vid)["State"] in ("creating", "available")
    wait_volume(ec2, vid, "available")
    path = backing_file(cloud, "zone-a", vid)
    assert path.stat().st_size == 1 << 30
    assert path.stat().st_blocks * 512 < 1 << 20  # sparse
    write_pattern(path, 10 << 20, PATTERN)
    write_pattern(path, (1 << 30) - 4096, b"tail")
    source_sum = sha256(path)

    iid = run_one(ec2, "zone-a")
    att = ec2.attach_volume(VolumeId=vid, InstanceId=iid, Device="/dev/sdf")
    assert (att["State"], att["InstanceId"], att["Device"]) == ("attaching", iid, "/dev/sdf")
    v = wait_volume(ec2, vid, "in-use", "attached")
    assert v["Attachments"][0]["InstanceId"] == iid
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert any(b["Ebs"]["VolumeId"] == vid for b in inst["BlockDeviceMappings"])

    blobs_before = _walrus_files(cloud)
    snap = ec2.create_snapshot(VolumeId=vid, Description="pattern")
    assert snap["State"] == "pending" and snap["VolumeSize"] == 1
    seen: list[str] = []
    done = wait_snapshot(ec2, snap["SnapshotId"], seen)
    assert done["Progress"] == "100%" and seen[-1] == "100%"
    # Snapshots live in a system bucket the users cannot see.
    assert not [b for b in cloud.client("s3").list_buckets()["Buckets"]
                if b["Name"].startswith("snapshots-")]
    assert _walrus_files(cloud) - blobs_before  # ... but the data is in Walrus

    copy = ec2.create_volume(AvailabilityZone="zone-b", SnapshotId=snap["SnapshotId"])
    assert copy["Size"] == 1 and copy["SnapshotId"] == snap["SnapshotId"]
    wait_volume(ec2, copy["VolumeId"], "available")
    copy_path = backing_file(cloud, "zone-b", copy["VolumeId"])
    assert sha256(copy_path) == source_sum
    assert copy_path.stat().st_blocks * 512 < 8 << 20  # restored sparse

    bigger = ec2.create_volume(AvailabilityZone="zone-a", SnapshotId=snap["SnapshotId"], Size=2)
    wait_volume(ec2, bigger["VolumeId"], "available")
    with open(backing_file(cloud, "zone-a", bigger["VolumeId"]), "rb") as fh:
        fh.seek(10 << 20)
        assert fh.read(len(PATTERN)) == PATTERN
    assert backing_file(cloud, "zone-a", bigger["VolumeId"]).stat().st_size == 2 << 30

    det = ec2.detach_volume(VolumeId=vid)
    assert det["State"] == "detaching"
    wait_volume(ec2, vid, "available")
    assert volume(ec2, vid)["Attachments"] == []
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert not any(b["Ebs"]["VolumeId"] == vid for b in inst["BlockDeviceMappings"])
    for v in (vid, copy["VolumeId"], bigger["VolumeId"]):
        ec2.delete_volume(VolumeId=v)
    for v in (vid, copy["VolumeId"], bigger["VolumeId"]):
        wait_gone(ec2, v)
    assert not path.exists()
    ec2.delete_snapshot(SnapshotId=snap["SnapshotId"])
    with pytest.raises(ClientError) as exc:
        ec2.describe_snapshots(SnapshotIds=[snap["SnapshotId"]])
    assert code(exc) == "InvalidSnapshot.NotFound"
    ec2.terminate_instances(InstanceIds=[iid])


def test_attach_rules(cloud: CloudProcess) -> None:
    """Attached twice, across zones, deleting attached: AWS's codes."""
    ec2 = cloud.client("ec2")
    a = ec2.create_volume(AvailabilityZone="zone-a", Size=1)["VolumeId"]
    b = ec2.create_volume(AvailabilityZone="zone-b", Size=1)["VolumeId"]
    wait_volume(ec2, a, "available")
    wait_volume(ec2, b, "available")
    i1, i2 = run_one(ec2, "zone-a"), run_one(ec2, "zone-a")
    with pytest.raises(ClientError) as exc:
        ec2.attach_volume(VolumeId=b, InstanceId=i1, Device="/dev/sdg")
    assert code(exc) == "InvalidVolume.ZoneMismatch"
    ec2.attach_volume(VolumeId=a, InstanceId=i1, Device="/dev/sdg")
    with pytest.raises(ClientError) as exc:
        ec2.attach_volume(VolumeId=a, InstanceId=i2, Device="/dev/sdg")
    assert code(exc) == "VolumeInUse"
    with pytest.raises(ClientError) as exc:
        ec2.delete_volume(VolumeId=a)
    assert code(exc) == "VolumeInUse"
    wait_volume(ec2, a, "in-use", "attached")
    with pytest.raises(ClientError) as exc:
        ec2.attach_volume(VolumeId=a, InstanceId=i1, Device="/dev/sdh")
    assert code(exc) == "VolumeInUse"
    with pytest.raises(ClientError) as exc:  # device taken
        c2 = ec2.create_volume(AvailabilityZone="zone-a", Size=1)["VolumeId"]
        wait_volume(ec2, c2, "available")
        ec2.attach_volume(VolumeId=c2, InstanceId=i1, Device="/dev/sdg")
    assert code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        ec2.attach_volume(VolumeId=c2, InstanceId=i1, Device="sdq")
    assert code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        ec2.detach_volume(VolumeId=b)
    assert code(exc) == "IncorrectState"
    with pytest.raises(ClientError) as exc:
        ec2.detach_volume(VolumeId=a, InstanceId=i2)
    assert code(exc) == "InvalidAttachment.NotFound"
    for bad in ("vol-00000000000000000", "vol-nope"):
        with pytest.raises(ClientError) as exc:
            ec2.describe_volumes(VolumeIds=[bad])
        assert code(exc) in ("InvalidVolume.NotFound", "InvalidVolumeID.Malformed")
    with pytest.raises(ClientError) as exc:
        ec2.create_volume(AvailabilityZone="zone-x", Size=1)
    assert code(exc) == "InvalidZone.NotFound"  # as AWS: "The zone 'zone-x' does not exist."
    with pytest.raises(ClientError) as exc:
        ec2.create_volume(AvailabilityZone="zone-a", SnapshotId="snap-00000000000000000")
    assert code(exc) == "InvalidSnapshot.NotFound"
    # Terminating the instance releases the volume (not delete-on-termination).
    ec2.terminate_instances(InstanceIds=[i1, i2])
    wait_volume(ec2, a, "available")
    for v in (a, b, c2):
        ec2.delete_volume(VolumeId=v)


def test_limits(cloud: CloudProcess) -> None:
    """Largest volume (100 GiB) and the zone's total capacity (500 GiB)."""
    ec2 = cloud.client("ec2")
    with pytest.raises(ClientError) as exc:
        ec2.create_volume(AvailabilityZone="zone-a", Size=101)
    assert code(exc) == "InvalidParameterValue"
    made = [ec2.create_volume(AvailabilityZone="zone-b", Size=100)["VolumeId"] for _ in range(5)]
    with pytest.raises(ClientError) as exc:
        ec2.create_volume(AvailabilityZone="zone-b", Size=1)
    assert code(exc) == "VolumeLimitExceeded"
    assert ec2.create_volume(AvailabilityZone="zone-a", Size=1)["State"] == "creating"
    for v in made:
        wait_volume(ec2, v, "available")
        ec2.delete_volume(VolumeId=v)
    for v in made:
        wait_gone(ec2, v)
    ec2.create_volume(AvailabilityZone="zone-b", Size=1)


def test_describe_filters_tags_paging(cloud: CloudProcess) -> None:
    """Filters, tag filters, unknown filters, MaxResults/NextToken."""
    ec2 = cloud.client("ec2")
    vids = [ec2.create_volume(AvailabilityZone="zone-a", Size=2)["VolumeId"] for _ in range(7)]
    for v in vids:
        wait_volume(ec2, v, "available")
    ec2.create_tags(Resources=vids[:2], Tags=[{"Key": "role", "Value": "db"}])
    tagged = ec2.describe_volumes(Filters=[{"Name": "tag:role", "Values": ["db"]}])["Volumes"]
    assert sorted(v["VolumeId"] for v in tagged) == sorted(vids[:2])
    assert tagged[0]["Tags"] == [{"Key": "role", "Value": "db"}]
    tags = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["volume"]}])["Tags"]
    assert {t["ResourceId"] for t in tags} == set(vids[:2])
    sized = ec2.describe_volumes(Filters=[{"Name": "size", "Values": ["2"]},
                                          {"Name": "availability-zone", "Values": ["zone-a"]},
                                          {"Name": "status", "Values": ["available"]}])
    assert set(vids) <= {v["VolumeId"] for v in sized["Volumes"]}
    with pytest.raises(ClientError) as exc:
        ec2.describe_volumes(Filters=[{"Name": "colour", "Values": ["red"]}])
    assert code(exc) == "InvalidParameterValue"
    seen, token, pages = [], None, 0
    while True:
        kw = {"MaxResults": 5, **({"NextToken": token} if token else {})}
        resp = ec2.describe_volumes(**kw)
        seen += [v["VolumeId"] for v in resp["Volumes"]]
        pages += 1
        token = resp.get("NextToken")
        if not token:
            break
    assert pages >= 2 and len(seen) == len(set(seen)) and set(vids) <= set(seen)
    with pytest.raises(ClientError) as exc:
        ec2.describe_volumes(VolumeIds=vids[:1], MaxResults=5)
    assert code(exc) == "InvalidParameterCombination"
    status = ec2.describe_volume_status(VolumeIds=vids[:1])["VolumeStatuses"][0]
    assert status["VolumeStatus"]["Status"] == "ok"
    attr = ec2.describe_volume_attribute(VolumeId=vids[0], Attribute="autoEnableIO")
    assert attr["AutoEnableIO"]["Value"] is False
    for v in vids:
        ec2.delete_volume(VolumeId=v)


def test_volumes_survive_restart(cloud: CloudProcess) -> None:
    """Volumes and snapshots are persisted."""
    ec2 = cloud.client("ec2")
    vid = ec2.create_volume(AvailabilityZone="zone-a", Size=1)["VolumeId"]
    wait_volume(ec2, vid, "available")
    sid = ec2.create_snapshot(VolumeId=vid)["SnapshotId"]
    wait_snapshot(ec2, sid)
    ec2.create_tags(Resources=[vid, sid], Tags=[{"Key": "k", "Value": "v"}])
    cloud.restart()
    ec2 = cloud.client("ec2")
    assert volume(ec2, vid)["State"] == "available"
    assert volume(ec2, vid)["Tags"] == [{"Key": "k", "Value": "v"}]
    snap = ec2.describe_snapshots(SnapshotIds=[sid])["Snapshots"][0]
    assert snap["State"] == "completed" and snap["Tags"] == [{"Key": "k", "Value": "v"}]
    restored = ec2.create_volume(AvailabilityZone="zone-b", SnapshotId=sid)["VolumeId"]
    wait_volume(ec2, restored, "available")
