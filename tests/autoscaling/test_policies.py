"""Scaling policies and scheduled actions with boto3 against the real cloud."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from botocore.exceptions import ClientError

from tests.autoscaling.as_helpers import autoscaling, config, group, image_id, in_service, wait_for


@pytest.fixture
def web(make_cloud: Any) -> tuple[Any, Any]:
    """A two-zone cloud with a group "web" of 1 (max 6)."""
    cloud = make_cloud(config())
    asg, ec2 = autoscaling(cloud), cloud.client("ec2")
    asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId=image_id(ec2),
                                    InstanceType="m1.small")
    asg.create_auto_scaling_group(AutoScalingGroupName="web", LaunchConfigurationName="lc",
                                  MinSize=1, MaxSize=6, AvailabilityZones=["zone-a", "zone-b"])
    return asg, ec2


def test_execute_policy_scales_out_and_cooldown_holds(web: tuple[Any, Any]) -> None:
    """ExecutePolicy adds capacity; a second execution honouring the cooldown is refused."""
    asg, ec2 = web
    arn = asg.put_scaling_policy(AutoScalingGroupName="web", PolicyName="up",
                                 AdjustmentType="ChangeInCapacity", ScalingAdjustment=2,
                                 Cooldown=600)["PolicyARN"]
    assert arn.startswith("arn:aws:autoscaling:")
    in_service(asg, ec2, "web", 1)
    asg.execute_policy(AutoScalingGroupName="web", PolicyName="up")
    assert group(asg, "web")["DesiredCapacity"] == 3
    with pytest.raises(ClientError) as exc:
        asg.execute_policy(AutoScalingGroupName="web", PolicyName="up", HonorCooldown=True)
    assert exc.value.response["Error"]["Code"] == "ScalingActivityInProgress"
    assert group(asg, "web")["DesiredCapacity"] == 3
    members = in_service(asg, ec2, "web", 3)
    assert {m["AvailabilityZone"] for m in members} == {"zone-a", "zone-b"}
    acts = asg.describe_scaling_activities(AutoScalingGroupName="web")["Activities"]
    assert any("a user request executed policy up changing the desired capacity from 1 to 3"
               in a["Cause"] for a in acts)
    pols = asg.describe_policies(AutoScalingGroupName="web")["ScalingPolicies"]
    assert [(p["PolicyName"], p["ScalingAdjustment"], p["Cooldown"]) for p in pols] == \
        [("up", 2, 600)]


def test_adjustment_types(web: tuple[Any, Any]) -> None:
    """ExactCapacity, PercentChangeInCapacity with MinAdjustmentMagnitude, bounds, deletion."""
    asg, _ = web
    asg.put_scaling_policy(AutoScalingGroupName="web", PolicyName="exact",
                           AdjustmentType="ExactCapacity", ScalingAdjustment=4)
    asg.put_scaling_policy(AutoScalingGroupName="web", PolicyName="pct",
                           AdjustmentType="PercentChangeInCapacity", ScalingAdjustment=10,
                           MinAdjustmentMagnitude=2)
    asg.put_scaling_policy(AutoScalingGroupName="web", PolicyName="down",
                           AdjustmentType="PercentChangeInCapacity", ScalingAdjustment=-50)
    asg.execute_policy(AutoScalingGroupName="web", PolicyName="exact")
    assert group(asg, "web")["DesiredCapacity"] == 4
    asg.execute_policy(AutoScalingGroupName="web", PolicyName="pct")  # 0.4 -> 1 -> magnitude 2
    assert group(asg, "web")["DesiredCapacity"] == 6
    asg.execute_policy(AutoScalingGroupName="web", PolicyName="pct")  # capped at max
    assert group(asg, "web")["DesiredCapacity"] == 6
    asg.execute_policy(AutoScalingGroupName="web", PolicyName="down")
    assert group(asg, "web")["DesiredCapacity"] == 3
    asg.delete_policy(AutoScalingGroupName="web", PolicyName="exact")
    names = [p["PolicyName"] for p in asg.describe_policies()["ScalingPolicies"]]
    assert names == ["down", "pct"]
    with pytest.raises(ClientError) as exc:
        asg.put_scaling_policy(AutoScalingGroupName="web", PolicyName="bad",
                               AdjustmentType="Sideways", ScalingAdjustment=1)
    assert exc.value.response["Error"]["Code"] == "ValidationError"


def test_step_and_target_tracking_policies(web: tuple[Any, Any]) -> None:
    """Step policies pick the step of the breach; target tracking is stored, not executable."""
    asg, _ = web
    asg.put_scaling_policy(
        AutoScalingGroupName="web", PolicyName="steps", PolicyType="StepScaling",
        AdjustmentType="ChangeInCapacity",
        StepAdjustments=[{"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 20,
                          "ScalingAdjustment": 1},
                         {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 3}])
    asg.execute_policy(AutoScalingGroupName="web", PolicyName="steps", MetricValue=95,
                       BreachThreshold=70)
    assert group(asg, "web")["DesiredCapacity"] == 4
    resp = asg.put_scaling_policy(
        AutoScalingGroupName="web", PolicyName="cpu50", PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
            "TargetValue": 50.0})
    assert resp["PolicyARN"]
    with pytest.raises(ClientError) as exc:
        asg.execute_policy(AutoScalingGroupName="web", PolicyName="cpu50")
    assert exc.value.response["Error"]["Code"] == "ValidationError"
    tt = asg.describe_policies(PolicyTypes=["TargetTrackingScaling"])["ScalingPolicies"][0]
    assert tt["TargetTrackingConfiguration"]["TargetValue"] == 50.0


def test_scheduled_action_changes_desired_capacity_at_its_time(web: tuple[Any, Any]) -> None:
    """A one-time scheduled action sets desired capacity when the cloud's clock reaches it."""
    asg, ec2 = web
    created = group(asg, "web")["CreatedTime"]
    at = created + dt.timedelta(seconds=90)  # cloud time: 9 s at clock_speed 10
    asg.put_scheduled_update_group_action(AutoScalingGroupName="web", ScheduledActionName="peak",
                                          StartTime=at, DesiredCapacity=3)
    asg.put_scheduled_update_group_action(AutoScalingGroupName="web", ScheduledActionName="cron",
                                          Recurrence="0 9 * * 1-5", TimeZone="Europe/Paris",
                                          MinSize=1)
    listed = asg.describe_scheduled_actions(AutoScalingGroupName="web")[
        "ScheduledUpdateGroupActions"]
    assert [a["ScheduledActionName"] for a in listed] == ["cron", "peak"]
    cron = listed[0]
    assert cron["Recurrence"] == "0 9 * * 1-5" and cron["TimeZone"] == "Europe/Paris"
    paris = cron["StartTime"].astimezone(ZoneInfo("Europe/Paris"))
    assert (paris.hour, paris.minute) == (9, 0) and paris.weekday() < 5
    assert group(asg, "web")["DesiredCapacity"] == 1
    wait_for(lambda: group(asg, "web")["DesiredCapacity"] == 3, timeout=30,
             what="scheduled action")
    in_service(asg, ec2, "web", 3)
    acts = asg.describe_scaling_activities(AutoScalingGroupName="web")["Activities"]
    assert any("a scheduled action update of AutoScalingGroup constraints" in a["Cause"]
               for a in acts)
    names = [a["ScheduledActionName"] for a in asg.describe_scheduled_actions()[
        "ScheduledUpdateGroupActions"]]
    assert names == ["cron"]  # one-time actions are gone once done
    asg.delete_scheduled_action(AutoScalingGroupName="web", ScheduledActionName="cron")
    with pytest.raises(ClientError) as exc:
        asg.put_scheduled_update_group_action(AutoScalingGroupName="web",
                                              ScheduledActionName="x", Recurrence="61 * * * *",
                                              MinSize=1)
    assert exc.value.response["Error"]["Code"] == "ValidationError"
