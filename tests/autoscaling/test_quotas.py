"""Auto Scaling quotas: Eucalyptus ``Limit`` statements on the autoscaling:quota-* keys
(boto3 clients; the quota set with PutAccountPolicy as the cloud administrator)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.autoscaling.as_helpers import autoscaling, image_id
from tests.server.helpers import new_account, raw_iam


def _limit(action: str, key: str, value: int) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Limit", "Action": action, "Resource": "*",
         "Condition": {"NumericLessThanEquals": {key: str(value)}}}]})


def _put_account_policy(cloud: Any, account: str, name: str, document: str) -> None:
    creds = cloud.credentials()
    raw_iam(cloud, creds["key"], creds["secret"], {
        "Action": "PutAccountPolicy", "AccountName": account, "PolicyName": name,
        "PolicyDocument": document})


def _refused(err: pytest.ExceptionInfo[ClientError], key: str) -> None:
    assert err.value.response["Error"]["Code"] == "LimitExceeded"
    assert key in err.value.response["Error"]["Message"]
    assert "Quota exceeded" in err.value.response["Error"]["Message"]


def test_launch_configuration_quota_is_exact_under_concurrency(cloud: Any) -> None:
    """16 concurrent CreateLaunchConfiguration against a quota of 3 create exactly 3."""
    _, key, secret = new_account(cloud, "asq-lc")
    _put_account_policy(cloud, "asq-lc", "lcs", _limit(
        "autoscaling:CreateLaunchConfiguration",
        "autoscaling:quota-launchconfigurationnumber", 3))
    image = image_id(cloud.client("ec2", key=key, secret=secret))

    def create(n: int) -> bool:
        asg = autoscaling(cloud, key=key, secret=secret)
        try:
            asg.create_launch_configuration(LaunchConfigurationName=f"lc-{n}", ImageId=image,
                                            InstanceType="m1.small")
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "LimitExceeded"
            assert "autoscaling:quota-launchconfigurationnumber" in \
                exc.response["Error"]["Message"]
            return False
        return True

    with ThreadPoolExecutor(16) as pool:
        assert sum(pool.map(create, range(16))) == 3
    asg = autoscaling(cloud, key=key, secret=secret)
    names = [lc["LaunchConfigurationName"] for lc in
             asg.describe_launch_configurations()["LaunchConfigurations"]]
    assert len(names) == 3
    # Deleting one makes room for one more.
    asg.delete_launch_configuration(LaunchConfigurationName=names[0])
    asg.create_launch_configuration(LaunchConfigurationName="again", ImageId=image,
                                    InstanceType="m1.small")


def test_group_and_policy_quotas(cloud: Any) -> None:
    """One group and two scaling policies; replacing a policy is not a new one."""
    _, key, secret = new_account(cloud, "asq-g")
    _put_account_policy(cloud, "asq-g", "groups", _limit(
        "autoscaling:CreateAutoScalingGroup", "autoscaling:quota-autoscalinggroupnumber", 1))
    _put_account_policy(cloud, "asq-g", "policies", _limit(
        "autoscaling:PutScalingPolicy", "autoscaling:quota-scalingpolicynumber", 2))
    asg = autoscaling(cloud, key=key, secret=secret)
    asg.create_launch_configuration(
        LaunchConfigurationName="lc", InstanceType="m1.small",
        ImageId=image_id(cloud.client("ec2", key=key, secret=secret)))
    zones = [z["ZoneName"] for z in cloud.client("ec2", key=key, secret=secret)
             .describe_availability_zones()["AvailabilityZones"]]
    asg.create_auto_scaling_group(AutoScalingGroupName="g1", LaunchConfigurationName="lc",
                                  MinSize=0, MaxSize=2, AvailabilityZones=zones[:1])
    with pytest.raises(ClientError) as err:
        asg.create_auto_scaling_group(AutoScalingGroupName="g2", LaunchConfigurationName="lc",
                                      MinSize=0, MaxSize=2, AvailabilityZones=zones[:1])
    _refused(err, "autoscaling:quota-autoscalinggroupnumber")
    assert "account asq-g" in err.value.response["Error"]["Message"]
    for name in ("up", "down"):
        asg.put_scaling_policy(AutoScalingGroupName="g1", PolicyName=name,
                               AdjustmentType="ChangeInCapacity", ScalingAdjustment=1)
    # An update of an existing policy adds nothing to the count.
    asg.put_scaling_policy(AutoScalingGroupName="g1", PolicyName="up",
                           AdjustmentType="ChangeInCapacity", ScalingAdjustment=2)
    with pytest.raises(ClientError) as err:
        asg.put_scaling_policy(AutoScalingGroupName="g1", PolicyName="third",
                               AdjustmentType="ChangeInCapacity", ScalingAdjustment=1)
    _refused(err, "autoscaling:quota-scalingpolicynumber")
    assert len(asg.describe_policies(AutoScalingGroupName="g1")["ScalingPolicies"]) == 2


def test_user_quota_counts_the_users_own_launch_configurations(cloud: Any) -> None:
    """A user's own Limit counts what the user created, not the admin's."""
    _, key, secret = new_account(cloud, "asq-user")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_user(UserName="scaler")
    iam.put_user_policy(UserName="scaler", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["autoscaling:*", "ec2:Describe*"],
             "Resource": "*"},
            {"Effect": "Limit", "Action": "autoscaling:CreateLaunchConfiguration",
             "Resource": "*", "Condition": {"NumericLessThanEquals": {
                 "autoscaling:quota-launchconfigurationnumber": "1"}}}]}))
    k = iam.create_access_key(UserName="scaler")["AccessKey"]
    image = image_id(cloud.client("ec2", key=key, secret=secret))
    admin = autoscaling(cloud, key=key, secret=secret)
    for name in ("admin-1", "admin-2"):
        admin.create_launch_configuration(LaunchConfigurationName=name, ImageId=image,
                                          InstanceType="m1.small")
    user = autoscaling(cloud, key=k["AccessKeyId"], secret=k["SecretAccessKey"])
    user.create_launch_configuration(LaunchConfigurationName="mine", ImageId=image,
                                     InstanceType="m1.small")
    with pytest.raises(ClientError) as err:
        user.create_launch_configuration(LaunchConfigurationName="second", ImageId=image,
                                         InstanceType="m1.small")
    _refused(err, "autoscaling:quota-launchconfigurationnumber")
    assert "user scaler" in err.value.response["Error"]["Message"]
    admin.create_launch_configuration(LaunchConfigurationName="admin-3", ImageId=image,
                                      InstanceType="m1.small")
