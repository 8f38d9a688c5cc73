"""The CLC's instance lifecycle: a declared transition table, enforced in one place.

The table is checked directly (it is data), and through the API: an EBS-backed
instance driven by boto3 through run, stop, start and terminate shows only states and
moves the table allows.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from helpers import wait_state

from server.clc.controller import STATE_CODES
from server.clc.model import INSTANCE_STATES, Instance
from server.db.record import IllegalTransition


def _instance(state: str) -> Instance:
    return Instance("i-12345678", "000000000001", "r-12345678", "emi-12345678", "m1.small",
                    "zone-a", state, 0.0)


def test_table_covers_every_state_aws_reports() -> None:
    assert set(INSTANCE_STATES) == set(STATE_CODES)
    for targets in INSTANCE_STATES.values():
        assert targets <= set(STATE_CODES)
    assert INSTANCE_STATES["terminated"] == frozenset()  # the end


@pytest.mark.parametrize(("start", "end"), [
    ("pending", "running"), ("running", "stopping"), ("stopping", "stopped"),
    ("stopped", "pending"), ("running", "shutting-down"), ("stopped", "shutting-down"),
    ("shutting-down", "terminated"), ("pending", "terminated")])
def test_allowed_moves(start: str, end: str) -> None:
    inst = _instance(start)
    inst.set_state(end)
    assert inst.state == end


@pytest.mark.parametrize(("start", "end"), [
    ("terminated", "running"), ("terminated", "pending"), ("stopped", "running"),
    ("shutting-down", "running"), ("stopped", "stopping"), ("running", "pending"),
    ("stopped", "terminated"), ("shutting-down", "stopped")])
def test_illegal_moves_are_refused(start: str, end: str) -> None:
    inst = _instance(start)
    with pytest.raises(IllegalTransition):
        inst.set_state(end)
    assert inst.state == start


def test_staying_put_is_not_a_move() -> None:
    inst = _instance("running")
    inst.set_state("running")
    assert inst.state == "running"


def _until(check: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _ebs_image(ec2: Any, zone: str) -> str:
    """An EBS-backed image: a snapshot of a fresh volume as its root."""
    vol = ec2.create_volume(AvailabilityZone=zone, Size=1)["VolumeId"]
    _until(lambda: ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["State"] == "available")
    snap = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]
    _until(lambda: ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"][0]["State"]
           == "completed")
    return str(ec2.register_image(
        Name="lifecycle-root", RootDeviceName="/dev/sda1", Architecture="x86_64",
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1",
                              "Ebs": {"SnapshotId": snap}}])["ImageId"])


def test_api_moves_follow_the_table(cloud: Any) -> None:
    ec2 = cloud.client("ec2")
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    image = _ebs_image(ec2, zone)
    iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="m1.small",
                            Placement={"AvailabilityZone": zone})["Instances"][0]["InstanceId"]
    wait_state(ec2, [iid], "running")
    moves = []
    for call, settled in ((ec2.stop_instances, "stopped"), (ec2.start_instances, "running"),
                          (ec2.terminate_instances, "terminated")):
        answer = call(InstanceIds=[iid])
        item = next(v for k, v in answer.items() if k.endswith("Instances"))[0]
        moves.append((item["PreviousState"]["Name"], item["CurrentState"]["Name"]))
        wait_state(ec2, [iid], settled, timeout=30.0)
    assert moves == [("running", "stopping"), ("stopped", "pending"),
                     ("running", "shutting-down")]
    for before, after in moves:
        assert after in INSTANCE_STATES[before]
