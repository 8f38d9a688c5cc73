"""Lifecycle hooks: members wait for CompleteLifecycleAction (or the heartbeat timeout)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.autoscaling.as_helpers import (
    autoscaling,
    config,
    group,
    group_instances,
    image_id,
    wait_for,
)


def _states(asg: Any) -> dict[str, str]:
    return {m["InstanceId"]: m["LifecycleState"] for m in group(asg, "g")["Instances"]}


def test_launching_and_terminating_hooks(make_cloud: Any) -> None:
    """Pending:Wait until CONTINUE; Terminating:Wait keeps the instance until completed."""
    cloud = make_cloud(config())
    asg, ec2 = autoscaling(cloud), cloud.client("ec2")
    asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId=image_id(ec2),
                                    InstanceType="m1.small")
    asg.create_auto_scaling_group(AutoScalingGroupName="g", LaunchConfigurationName="lc",
                                  MinSize=0, MaxSize=3, DesiredCapacity=0,
                                  AvailabilityZones=["zone-a"])
    for name, transition in (("boot", "autoscaling:EC2_INSTANCE_LAUNCHING"),
                             ("drain", "autoscaling:EC2_INSTANCE_TERMINATING")):
        asg.put_lifecycle_hook(LifecycleHookName=name, AutoScalingGroupName="g",
                               LifecycleTransition=transition, HeartbeatTimeout=7200,
                               DefaultResult="ABANDON")
    hooks = asg.describe_lifecycle_hooks(AutoScalingGroupName="g")["LifecycleHooks"]
    assert [h["LifecycleHookName"] for h in hooks] == ["boot", "drain"]
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=1)
    states = wait_for(lambda: (lambda s: s if list(s.values()) == ["Pending:Wait"] else None)(
        _states(asg)), what="Pending:Wait")
    iid = next(iter(states))
    asg.record_lifecycle_action_heartbeat(LifecycleHookName="boot", AutoScalingGroupName="g",
                                          InstanceId=iid)
    asg.complete_lifecycle_action(LifecycleHookName="boot", AutoScalingGroupName="g",
                                  InstanceId=iid, LifecycleActionResult="CONTINUE")
    assert _states(asg) == {iid: "InService"}
    with pytest.raises(ClientError) as exc:
        asg.complete_lifecycle_action(LifecycleHookName="boot", AutoScalingGroupName="g",
                                      InstanceId=iid, LifecycleActionResult="CONTINUE")
    assert exc.value.response["Error"]["Code"] == "ValidationError"
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=0)
    wait_for(lambda: _states(asg) == {iid: "Terminating:Wait"}, what="Terminating:Wait")
    assert [i["InstanceId"] for i in group_instances(ec2, "g")] == [iid]  # still running
    asg.complete_lifecycle_action(LifecycleHookName="drain", AutoScalingGroupName="g",
                                  InstanceId=iid, LifecycleActionResult="CONTINUE")
    wait_for(lambda: _states(asg) == {}, what="member gone")
    assert group_instances(ec2, "g") == []
    asg.delete_lifecycle_hook(LifecycleHookName="drain", AutoScalingGroupName="g")


def test_hook_timeout_applies_the_default_result(make_cloud: Any) -> None:
    """A launching hook of 30 s with DefaultResult CONTINUE lets the instance in by itself."""
    cloud = make_cloud(config())
    asg, ec2 = autoscaling(cloud), cloud.client("ec2")
    asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId=image_id(ec2),
                                    InstanceType="m1.small")
    asg.create_auto_scaling_group(AutoScalingGroupName="g", LaunchConfigurationName="lc",
                                  MinSize=0, MaxSize=3, DesiredCapacity=0,
                                  AvailabilityZones=["zone-a"])
    asg.put_lifecycle_hook(LifecycleHookName="boot", AutoScalingGroupName="g",
                           LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING",
                           HeartbeatTimeout=30, DefaultResult="CONTINUE")
    asg.set_desired_capacity(AutoScalingGroupName="g", DesiredCapacity=1)
    wait_for(lambda: list(_states(asg).values()) == ["Pending:Wait"], what="Pending:Wait")
    wait_for(lambda: list(_states(asg).values()) == ["InService"], timeout=30,
             what="InService after the timeout")
