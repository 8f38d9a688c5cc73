"""A group's launches are decided by the policy engine as Auto Scaling's service-linked
role: an account policy that denies ec2:RunInstances stops them (boto3 clients)."""

from __future__ import annotations

import json
from typing import Any

import pytest

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


def test_service_linked_role_is_an_iam_record(make_cloud: Any) -> None:
    """The first group creates AWSServiceRoleForAutoScaling under
    /aws-service-role/autoscaling.amazonaws.com/ with AWS's managed policy; ListRoles and
    GetRole show it, the account may not change it, and deleting it while a group exists
    is DeleteConflict (allowed once the groups are gone)."""
    from botocore.exceptions import ClientError

    cloud = make_cloud(config())
    account_id, key, secret = new_account(cloud, "asg-role")
    iam = cloud.client("iam", key=key, secret=secret)
    assert iam.list_roles()["Roles"] == []
    asg = autoscaling(cloud, key=key, secret=secret)
    ec2 = cloud.client("ec2", key=key, secret=secret)
    asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId=image_id(ec2),
                                    InstanceType="m1.small")
    asg.create_auto_scaling_group(AutoScalingGroupName="g", LaunchConfigurationName="lc",
                                  MinSize=0, MaxSize=1, DesiredCapacity=0,
                                  AvailabilityZones=["zone-a"])
    name = "AWSServiceRoleForAutoScaling"
    arn = f"arn:aws:iam::{account_id}:role/aws-service-role/autoscaling.amazonaws.com/{name}"
    listed = iam.list_roles(PathPrefix="/aws-service-role/")["Roles"]
    assert [(r["RoleName"], r["Arn"]) for r in listed] == [(name, arn)]
    role = iam.get_role(RoleName=name)["Role"]
    assert role["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": ["autoscaling.amazonaws.com"]}
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AutoScalingServiceRolePolicy"]
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["g"])[
        "AutoScalingGroups"][0]
    assert group["ServiceLinkedRoleARN"] == arn
    with pytest.raises(ClientError) as err:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=DENY_RUN)
    assert err.value.response["Error"]["Code"] == "UnmodifiableEntity"
    with pytest.raises(ClientError) as err:
        iam.delete_role(RoleName=name)
    assert err.value.response["Error"]["Code"] == "DeleteConflict"
    assert "Auto Scaling group g" in err.value.response["Error"]["Message"]
    # A second group does not make a second role.
    asg.create_auto_scaling_group(AutoScalingGroupName="h", LaunchConfigurationName="lc",
                                  MinSize=0, MaxSize=1, DesiredCapacity=0,
                                  AvailabilityZones=["zone-a"])
    assert len(iam.list_roles()["Roles"]) == 1
    for group_name in ("g", "h"):
        asg.delete_auto_scaling_group(AutoScalingGroupName=group_name, ForceDelete=True)
    wait_for(lambda: not asg.describe_auto_scaling_groups()["AutoScalingGroups"],
             what="the groups to go")
    iam.delete_role(RoleName=name)
    assert iam.list_roles()["Roles"] == []
