"""Failures: a full zone and an exhausted quota are failed activities with their cause;
a kill -9 in the middle of a scale-out converges without double launches."""

from __future__ import annotations

import time
from typing import Any

from tests.autoscaling.as_helpers import (
    autoscaling,
    config,
    group,
    group_instances,
    image_id,
    in_service,
    wait_for,
)


def _group(cloud: Any, zones: list[str], desired: int) -> tuple[Any, Any]:
    asg, ec2 = autoscaling(cloud), cloud.client("ec2")
    asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId=image_id(ec2),
                                    InstanceType="m1.small")
    asg.create_auto_scaling_group(AutoScalingGroupName="g", LaunchConfigurationName="lc",
                                  MinSize=0, MaxSize=10, DesiredCapacity=desired,
                                  AvailabilityZones=zones)
    return asg, ec2


def _failed(asg: Any) -> list[dict[str, Any]]:
    acts = asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"]
    return [a for a in acts if a["StatusCode"] == "Failed"]


def test_full_zone_is_a_failed_activity(make_cloud: Any) -> None:
    """Two nodes of one core: the third instance fails with the cloud's capacity message."""
    cloud = make_cloud(config(cores=1))
    asg, ec2 = _group(cloud, ["zone-a"], 3)
    in_service(asg, ec2, "g", 2)
    failed = wait_for(lambda: _failed(asg), what="a failed activity")
    assert "insufficient capacity" in failed[0]["StatusMessage"].lower()
    assert "Launching a new EC2 instance" in failed[0]["Description"]
    assert "increasing the capacity from 0 to 3" in failed[0]["Cause"]
    assert "a user request created an AutoScalingGroup" in failed[0]["Cause"]
    assert len(group_instances(ec2, "g")) == 2
    # Room elsewhere: adding the other zone lets the group reach its capacity there.
    asg.update_auto_scaling_group(AutoScalingGroupName="g", AvailabilityZones=["zone-a", "zone-b"])
    members = in_service(asg, ec2, "g", 3)
    assert sorted(m["AvailabilityZone"] for m in members).count("zone-b") >= 1


def test_exhausted_quota_is_a_failed_activity(make_cloud: Any) -> None:
    """max_instances_per_account = 2 and desired 3: InstanceLimitExceeded's message."""
    cloud = make_cloud(config(quota=2))
    asg, ec2 = _group(cloud, ["zone-a", "zone-b"], 3)
    in_service(asg, ec2, "g", 2)
    failed = wait_for(lambda: _failed(asg), what="a failed activity")
    assert "quota" in failed[0]["StatusMessage"].lower()
    assert group(asg, "g")["DesiredCapacity"] == 3
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=2)
    time.sleep(1.0)
    assert len(group_instances(ec2, "g")) == 2


def test_kill_mid_scale_out_converges_without_double_launches(make_cloud: Any) -> None:
    """kill -9 while instances are pending: after the restart the group has exactly desired."""
    cloud = make_cloud(config(speed=1.0).replace("boot_seconds = 1.0", "boot_seconds = 4.0"))
    asg, ec2 = _group(cloud, ["zone-a", "zone-b"], 1)
    in_service(asg, ec2, "g", 1)
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=4)
    wait_for(lambda: len(group(asg, "g")["Instances"]) >= 3, what="scale-out started")
    cloud.kill()
    cloud.start()
    asg, ec2 = autoscaling(cloud), cloud.client("ec2")
    in_service(asg, ec2, "g", 4)
    time.sleep(2.0)
    resp = ec2.describe_instances(Filters=[
        {"Name": "tag:aws:autoscaling:groupName", "Values": ["g"]}])
    every = [i for r in resp["Reservations"] for i in r["Instances"]]
    live = [i for i in every if i["State"]["Name"] in ("pending", "running")]
    assert len(live) == 4
    assert {m["InstanceId"] for m in group(asg, "g")["Instances"]} == {i["InstanceId"]
                                                                        for i in live}


def test_everything_survives_a_restart(make_cloud: Any) -> None:
    """Launch configurations, groups, members, policies, schedules, hooks and activities."""
    cloud = make_cloud(config())
    asg, ec2 = _group(cloud, ["zone-a", "zone-b"], 2)
    asg.put_scaling_policy(AutoScalingGroupName="g", PolicyName="up",
                           AdjustmentType="ChangeInCapacity", ScalingAdjustment=1, Cooldown=7)
    asg.put_scheduled_update_group_action(AutoScalingGroupName="g", ScheduledActionName="s",
                                          Recurrence="0 3 * * *", DesiredCapacity=2)
    asg.put_lifecycle_hook(LifecycleHookName="h", AutoScalingGroupName="g",
                           LifecycleTransition="autoscaling:EC2_INSTANCE_TERMINATING",
                           HeartbeatTimeout=60)
    asg.create_or_update_tags(Tags=[{"ResourceId": "g", "ResourceType": "auto-scaling-group",
                                     "Key": "env", "Value": "test", "PropagateAtLaunch": True}])
    asg.suspend_processes(AutoScalingGroupName="g", ScalingProcesses=["AZRebalance"])
    before = {m["InstanceId"] for m in in_service(asg, ec2, "g", 2)}
    acts = len(asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"])
    cloud.restart()
    asg, ec2 = autoscaling(cloud), cloud.client("ec2")
    g = group(asg, "g")
    assert {m["InstanceId"] for m in g["Instances"]} == before
    assert [p["ProcessName"] for p in g["SuspendedProcesses"]] == ["AZRebalance"]
    assert [(t["Key"], t["Value"]) for t in g["Tags"]] == [("env", "test")]
    assert asg.describe_policies()["ScalingPolicies"][0]["Cooldown"] == 7
    assert asg.describe_scheduled_actions()["ScheduledUpdateGroupActions"][0][
        "Recurrence"] == "0 3 * * *"
    assert asg.describe_lifecycle_hooks(AutoScalingGroupName="g")["LifecycleHooks"][0][
        "HeartbeatTimeout"] == 60
    assert len(asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"]) >= acts
    in_service(asg, ec2, "g", 2)
    assert len(group_instances(ec2, "g")) == 2
