"""Auto Scaling groups with LoadBalancerNames: their members are registered with the
balancer when they enter service and deregistered when they leave."""

from __future__ import annotations

from typing import Any

from tests.autoscaling.as_helpers import autoscaling, in_service
from tests.elb.elb_helpers import config, elb, health, image_id, wait_for


def test_group_members_register_and_deregister(make_cloud: Any) -> None:
    """A group of two attached to a balancer registers both (InService); scaling in to
    one deregisters the other; deleting the group empties the balancer."""
    cloud = make_cloud(config(speed=10.0, net=80))
    client, asg, ec2 = elb(cloud), autoscaling(cloud), cloud.client("ec2")
    client.create_load_balancer(LoadBalancerName="asg-lb", AvailabilityZones=["zone-a",
                                                                              "zone-b"],
                                Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80,
                                            "InstanceProtocol": "HTTP", "InstancePort": 80}])
    asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId=image_id(ec2),
                                    InstanceType="m1.small")
    asg.create_auto_scaling_group(AutoScalingGroupName="web", LaunchConfigurationName="lc",
                                  MinSize=0, MaxSize=4, DesiredCapacity=2,
                                  AvailabilityZones=["zone-a", "zone-b"],
                                  LoadBalancerNames=["asg-lb"], HealthCheckType="ELB",
                                  HealthCheckGracePeriod=0)
    members = {m["InstanceId"] for m in in_service(asg, ec2, "web", 2)}

    def registered() -> set[str]:
        d = client.describe_load_balancers(LoadBalancerNames=["asg-lb"])[
            "LoadBalancerDescriptions"][0]
        return {i["InstanceId"] for i in d["Instances"]}

    wait_for(lambda: registered() == members, 30, "members registered")
    states = health(client, "asg-lb")
    assert {i for i, s in states.items() if s["State"] == "InService"} == members
    assert asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])[
        "AutoScalingGroups"][0]["LoadBalancerNames"] == ["asg-lb"]
    asg.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=1)
    left = wait_for(lambda: len(r := registered()) == 1 and r, 60, "one member left")
    assert left <= members
    asg.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)
    wait_for(lambda: not registered(), 60, "balancer emptied")
