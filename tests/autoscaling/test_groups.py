"""Groups with boto3 against the real cloud: launch, balance, replace, scale, delete."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.autoscaling.as_helpers import (
    autoscaling,
    config,
    group,
    group_instances,
    image_id,
    in_service,
    wait_for,
)


@pytest.fixture
def two_zones(make_cloud: Any) -> Any:
    """A cloud of two zones with a fast clock."""
    return make_cloud(config())


def _make_group(cloud: Any, name: str = "web", size: int = 2, **extra: Any) -> tuple[Any, Any]:
    asg, ec2 = autoscaling(cloud), cloud.client("ec2")
    asg.create_launch_configuration(LaunchConfigurationName=f"{name}-lc",
                                    ImageId=image_id(ec2), InstanceType="m1.small")
    asg.create_auto_scaling_group(
        AutoScalingGroupName=name, LaunchConfigurationName=f"{name}-lc", MinSize=size,
        MaxSize=6, AvailabilityZones=["zone-a", "zone-b"], **extra)
    return asg, ec2


def test_min_two_over_two_zones_runs_one_per_zone(two_zones: Any) -> None:
    """A group of min 2 over two zones has two running instances, one in each zone."""
    asg, ec2 = _make_group(two_zones, Tags=[
        {"Key": "team", "Value": "blue", "PropagateAtLaunch": True},
        {"Key": "private", "Value": "x", "PropagateAtLaunch": False}])
    members = in_service(asg, ec2, "web", 2)
    assert sorted(m["AvailabilityZone"] for m in members) == ["zone-a", "zone-b"]
    insts = group_instances(ec2, "web")
    assert len(insts) == 2
    for inst in insts:
        tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
        assert tags["aws:autoscaling:groupName"] == "web"
        assert tags["team"] == "blue" and "private" not in tags
    desc = group(asg, "web")
    assert desc["DesiredCapacity"] == 2 and desc["HealthCheckType"] == "EC2"
    acts = asg.describe_scaling_activities(AutoScalingGroupName="web")["Activities"]
    launches = [a for a in acts if a["Description"].startswith("Launching a new EC2 instance")]
    assert len(launches) == 2
    assert all(a["StatusCode"] == "Successful" for a in launches)
    assert "increasing the capacity from 0 to 2" in launches[0]["Cause"]
    assert {json.loads(a["Details"])["Availability Zone"] for a in launches} == \
        {"zone-a", "zone-b"}
    seen = asg.describe_auto_scaling_instances()["AutoScalingInstances"]
    assert {s["InstanceId"] for s in seen} == {m["InstanceId"] for m in members}
    assert all(s["AutoScalingGroupName"] == "web" for s in seen)


def test_instance_terminated_outside_is_replaced(two_zones: Any) -> None:
    """Terminating a member with EC2 makes the group launch a replacement."""
    asg, ec2 = _make_group(two_zones)
    members = in_service(asg, ec2, "web", 2)
    victim = members[0]["InstanceId"]
    ec2.terminate_instances(InstanceIds=[victim])
    after = wait_for(lambda: (lambda ms: ms if len(ms) == 2 and victim not in
                              {m["InstanceId"] for m in ms} else None)(
        in_service_now(asg, "web")), what="replacement")
    assert sorted(m["AvailabilityZone"] for m in after) == ["zone-a", "zone-b"]
    acts = asg.describe_scaling_activities(AutoScalingGroupName="web")["Activities"]
    assert any(victim in a["Description"] and "health check" in a["Cause"] for a in acts)


def in_service_now(asg: Any, name: str) -> list[dict[str, Any]]:
    """The group's InService members now."""
    return [m for m in group(asg, name)["Instances"] if m["LifecycleState"] == "InService"]


def test_unhealthy_instance_is_replaced(two_zones: Any) -> None:
    """SetInstanceHealth Unhealthy: the member is terminated and replaced."""
    asg, ec2 = _make_group(two_zones)
    members = in_service(asg, ec2, "web", 2)
    sick = members[1]["InstanceId"]
    asg.set_instance_health(InstanceId=sick, HealthStatus="Unhealthy",
                            ShouldRespectGracePeriod=False)
    wait_for(lambda: (lambda ms: len(ms) == 2 and sick not in {m["InstanceId"] for m in ms})(
        in_service_now(asg, "web")), what="replacement of the unhealthy member")
    state = ec2.describe_instances(InstanceIds=[sick])["Reservations"][0]["Instances"][0]
    assert state["State"]["Name"] in ("shutting-down", "terminated")


def test_scale_in_keeps_zones_balanced_and_respects_protection(two_zones: Any) -> None:
    """Desired 4 -> 2 keeps one per zone; protected members stay."""
    asg, ec2 = _make_group(two_zones, DesiredCapacity=4)
    members = in_service(asg, ec2, "web", 4)
    keep = members[0]["InstanceId"]
    asg.set_instance_protection(AutoScalingGroupName="web", InstanceIds=[keep],
                                ProtectedFromScaleIn=True)
    asg.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=2)
    after = in_service(asg, ec2, "web", 2)
    assert sorted(m["AvailabilityZone"] for m in after) == ["zone-a", "zone-b"]
    assert keep in {m["InstanceId"] for m in after}
    assert len(group_instances(ec2, "web")) == 2


def test_errors(two_zones: Any) -> None:
    """AWS's error codes for bad requests."""
    asg, ec2 = _make_group(two_zones)
    with pytest.raises(ClientError) as exc:
        asg.create_auto_scaling_group(AutoScalingGroupName="web", LaunchConfigurationName="web-lc",
                                      MinSize=1, MaxSize=2, AvailabilityZones=["zone-a"])
    assert exc.value.response["Error"]["Code"] == "AlreadyExists"
    with pytest.raises(ClientError) as exc:
        asg.delete_launch_configuration(LaunchConfigurationName="web-lc")
    assert exc.value.response["Error"]["Code"] == "ResourceInUse"
    with pytest.raises(ClientError) as exc:
        asg.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=7)
    assert exc.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as exc:
        asg.create_auto_scaling_group(AutoScalingGroupName="bad", LaunchConfigurationName="web-lc",
                                      MinSize=3, MaxSize=2, AvailabilityZones=["zone-a"])
    assert exc.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as exc:
        asg.delete_auto_scaling_group(AutoScalingGroupName="web")
    assert exc.value.response["Error"]["Code"] == "ResourceInUse"
    with pytest.raises(ClientError) as exc:
        asg.describe_scaling_activities(AutoScalingGroupName="nope")
    assert exc.value.response["Error"]["Code"] == "ValidationError"


def test_force_delete_terminates_members(two_zones: Any) -> None:
    """DeleteAutoScalingGroup ForceDelete terminates the instances, then the group goes."""
    asg, ec2 = _make_group(two_zones)
    in_service(asg, ec2, "web", 2)
    asg.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)
    wait_for(lambda: not asg.describe_auto_scaling_groups(
        AutoScalingGroupNames=["web"])["AutoScalingGroups"], what="group deleted")
    assert group_instances(ec2, "web") == []
    asg.delete_launch_configuration(LaunchConfigurationName="web-lc")


def test_accounts_see_only_their_groups(two_zones: Any) -> None:
    """Another account neither lists nor changes the admin's group."""
    from tests.server.helpers import new_account

    asg, ec2 = _make_group(two_zones, size=0)
    _, key, secret = new_account(two_zones, "other")
    theirs = autoscaling(two_zones, key=key, secret=secret)
    assert theirs.describe_auto_scaling_groups()["AutoScalingGroups"] == []
    with pytest.raises(ClientError) as exc:
        theirs.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=1)
    assert exc.value.response["Error"]["Code"] == "ValidationError"
    theirs.create_launch_configuration(LaunchConfigurationName="web-lc",
                                       ImageId=image_id(ec2), InstanceType="m1.small")
    assert [lc["LaunchConfigurationName"] for lc in
            theirs.describe_launch_configurations()["LaunchConfigurations"]] == ["web-lc"]
