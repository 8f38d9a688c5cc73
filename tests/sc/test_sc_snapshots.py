"""Snapshots: sharing across accounts, owner/restorable-by, paging, and the virtual backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from cloudproc import CloudProcess, cleanup, new_cloud
from sc_helpers import code, new_account, run_one, wait_snapshot, wait_volume


@pytest.fixture(scope="module")
def cloud() -> Iterator[CloudProcess]:
    """One file-backend zone and one virtual-backend zone."""
    c = new_cloud('[[zones]]\nname = "zone-a"\nnodes = 2\n'
                  '[[zones]]\nname = "zone-v"\nnodes = 2\nstorage_backend = "virtual"\n')
    c.start()
    yield c
    cleanup(c)


def test_create_volume_permission_across_accounts(cloud: CloudProcess) -> None:
    """Shared with one account, then public, then reset: what the other account may do."""
    ec2 = cloud.client("ec2")
    other_id, key, secret = new_account(cloud, "sharing")
    other = cloud.client("ec2", key=key, secret=secret)
    vid = ec2.create_volume(AvailabilityZone="zone-a", Size=1)["VolumeId"]
    wait_volume(ec2, vid, "available")
    sid = ec2.create_snapshot(VolumeId=vid, Description="shared")["SnapshotId"]
    wait_snapshot(ec2, sid)
    owner = ec2.describe_snapshots(SnapshotIds=[sid])["Snapshots"][0]["OwnerId"]

    assert sid not in [s["SnapshotId"] for s in other.describe_snapshots()["Snapshots"]]
    with pytest.raises(ClientError) as exc:
        other.create_volume(AvailabilityZone="zone-a", SnapshotId=sid)
    assert code(exc) == "InvalidSnapshot.NotFound"

    ec2.modify_snapshot_attribute(SnapshotId=sid, Attribute="createVolumePermission",
                                  OperationType="add", UserIds=[other_id])
    attr = ec2.describe_snapshot_attribute(SnapshotId=sid, Attribute="createVolumePermission")
    assert attr["CreateVolumePermissions"] == [{"UserId": other_id}]
    mine = other.describe_snapshots(RestorableByUserIds=["self"])["Snapshots"]
    assert sid in [s["SnapshotId"] for s in mine]
    assert other.describe_snapshots(OwnerIds=[owner])["Snapshots"][0]["SnapshotId"] == sid
    assert not other.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    copy = other.create_volume(AvailabilityZone="zone-a", SnapshotId=sid)["VolumeId"]
    wait_volume(other, copy, "available")
    with pytest.raises(ClientError) as exc:  # only the owner deletes or changes it
        other.delete_snapshot(SnapshotId=sid)
    assert code(exc) == "InvalidSnapshot.NotFound"
    with pytest.raises(ClientError) as exc:
        other.describe_snapshot_attribute(SnapshotId=sid, Attribute="createVolumePermission")
    assert code(exc) == "InvalidSnapshot.NotFound"

    ec2.modify_snapshot_attribute(SnapshotId=sid, CreateVolumePermission={
        "Add": [{"Group": "all"}], "Remove": [{"UserId": other_id}]})
    attr = ec2.describe_snapshot_attribute(SnapshotId=sid, Attribute="createVolumePermission")
    assert attr["CreateVolumePermissions"] == [{"Group": "all"}]
    public = other.describe_snapshots(RestorableByUserIds=["all"])["Snapshots"]
    assert sid in [s["SnapshotId"] for s in public]

    ec2.reset_snapshot_attribute(SnapshotId=sid, Attribute="createVolumePermission")
    assert ec2.describe_snapshot_attribute(
        SnapshotId=sid, Attribute="createVolumePermission")["CreateVolumePermissions"] == []
    with pytest.raises(ClientError) as exc:
        other.describe_snapshots(SnapshotIds=[sid])
    assert code(exc) == "InvalidSnapshot.NotFound"
    # The other account's volume is its own, whatever happens to the snapshot.
    assert other.describe_volumes()["Volumes"][0]["VolumeId"] == copy
    assert copy not in [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]]


def test_snapshot_filters_and_paging(cloud: CloudProcess) -> None:
    """Filters (status, volume-id, tag:) and MaxResults/NextToken over 6 snapshots."""
    ec2 = cloud.client("ec2")
    vid = ec2.create_volume(AvailabilityZone="zone-v", Size=3)["VolumeId"]
    wait_volume(ec2, vid, "available")
    sids = [ec2.create_snapshot(VolumeId=vid, Description=f"n{n}")["SnapshotId"]
            for n in range(6)]
    for sid in sids:
        wait_snapshot(ec2, sid)
    ec2.create_tags(Resources=sids[:1], Tags=[{"Key": "keep", "Value": "yes"}])
    found = ec2.describe_snapshots(Filters=[{"Name": "volume-id", "Values": [vid]},
                                            {"Name": "status", "Values": ["completed"]},
                                            {"Name": "volume-size", "Values": ["3"]}])
    assert sorted(s["SnapshotId"] for s in found["Snapshots"]) == sorted(sids)
    tagged = ec2.describe_snapshots(Filters=[{"Name": "tag:keep", "Values": ["yes"]}])
    assert [s["SnapshotId"] for s in tagged["Snapshots"]] == sids[:1]
    desc = ec2.describe_snapshots(Filters=[{"Name": "description", "Values": ["n[45]"]}])
    assert desc["Snapshots"] == []  # no globbing of [] sets: only * and ?
    with pytest.raises(ClientError) as exc:
        ec2.describe_snapshots(Filters=[{"Name": "flavour", "Values": ["x"]}])
    assert code(exc) == "InvalidParameterValue"
    first = ec2.describe_snapshots(OwnerIds=["self"], MaxResults=5)
    assert len(first["Snapshots"]) == 5 and first["NextToken"]
    rest = ec2.describe_snapshots(OwnerIds=["self"], MaxResults=5, NextToken=first["NextToken"])
    got = [s["SnapshotId"] for s in first["Snapshots"] + rest["Snapshots"]]
    assert set(sids) <= set(got) and len(got) == len(set(got))
    for sid in sids:
        ec2.delete_snapshot(SnapshotId=sid)


def test_virtual_backend_modelled_times(cloud: CloudProcess) -> None:
    """Virtual volumes: creating -> available, progress in steps, restore in another zone."""
    ec2 = cloud.client("ec2")
    vid = ec2.create_volume(AvailabilityZone="zone-v", Size=10)["VolumeId"]
    assert ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]["State"] == "creating"
    wait_volume(ec2, vid, "available")
    iid = run_one(ec2, "zone-v")
    ec2.attach_volume(VolumeId=vid, InstanceId=iid, Device="/dev/sdf")
    wait_volume(ec2, vid, "in-use", "attached")
    sid = ec2.create_snapshot(VolumeId=vid)["SnapshotId"]
    seen: list[str] = []
    wait_snapshot(ec2, sid, seen)
    assert len(set(seen)) >= 3  # 0%, some steps, 100%
    restored = ec2.create_volume(AvailabilityZone="zone-a", SnapshotId=sid)["VolumeId"]
    wait_volume(ec2, restored, "available")
    ec2.detach_volume(VolumeId=vid, Force=True)
    wait_volume(ec2, vid, "available")
    ec2.terminate_instances(InstanceIds=[iid])
