"""A group's launches are decided by the policy engine as Auto Scaling's service-linked
role: an account policy that denies ec2:RunInstances stops them (boto3 clients)."""

from __future__ import annotations

import json
from typing import Any

from tests.autoscaling.as_helpers import autoscaling, config, image_id, in_service, wait_for
from tests.server.helpers import new_account, raw_iam

DENY_RUN = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*"}]})


def _as_admin(cloud: Any, params: dict[str, str]) -> None:
    creds = cloud.credentials()
    raw_iam(cloud, creds["key"], creds["secret"], params)


def test_account_deny_stops_launches_until_removed(make_cloud: Any) -> None:
    """The scale-out fails with the role's UnauthorizedOperation; without the Deny the
    group converges."""
    cloud = make_cloud(config())
    _, key, secret = new_account(cloud, "asg-deny")
    _as_admin(cloud, {"Action": "PutAccountPolicy", "AccountName": "asg-deny",
                      "PolicyName": "no-run", "PolicyDocument": DENY_RUN})
    asg = autoscaling(cloud, key=key, secret=secret)
    ec2 = cloud.client("ec2", key=key, secret=secret)
    asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId=image_id(ec2),
                                    InstanceType="m1.small")
    asg.create_auto_scaling_group(AutoScalingGroupName="g", LaunchConfigurationName="lc",
                                  MinSize=0, MaxSize=4, DesiredCapacity=2,
                                  AvailabilityZones=["zone-a", "zone-b"])

    def failed() -> list[dict[str, Any]]:
        acts = asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"]
        return [a for a in acts if a["StatusCode"] == "Failed"]

    first = wait_for(failed, what="a failed launch")[0]
    message = first["StatusMessage"]
    assert "not authorized" in message
    assert "ec2:RunInstances" in message
    assert "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling" \
        in message
    assert "explicit deny" in message
    assert "Launching a new EC2 instance" in first["Description"]
    # Retried with back-off, failing again while the Deny stands.
    wait_for(lambda: len(failed()) >= 2, what="a retried launch")
    assert ec2.describe_instances()["Reservations"] == []
    _as_admin(cloud, {"Action": "DeleteAccountPolicy", "AccountName": "asg-deny",
                      "PolicyName": "no-run"})
    in_service(asg, ec2, "g", 2)
