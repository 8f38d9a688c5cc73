"""Auto Scaling's service principal: the service-linked role AWSServiceRoleForAutoScaling.

A group's launches and terminations are the service's own requests, as in AWS: before
the controller asks the CLC to run or terminate an instance, the policy engine decides
whether the account's role
``arn:aws:iam::ACCOUNT:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling``
may do it.  The role's policy is implicit (the EC2 part of AWS's
``AutoScalingServiceRolePolicy``); the account's Eucalyptus account policies apply to it
as to every principal of the account, so their Deny stops the group's launches.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from server import errors
from server.auth.enforcement import principal_decision

if TYPE_CHECKING:
    from server.cloud import Cloud

ROLE_NAME = "AWSServiceRoleForAutoScaling"
ROLE_PATH = "/aws-service-role/autoscaling.amazonaws.com/"

#: What the service-linked role allows (EC2 actions a group needs).
ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Resource": "*",
    "Action": ["ec2:RunInstances", "ec2:TerminateInstances", "ec2:CreateTags",
               "ec2:Describe*"]}]})


def role_arn(account_id: str) -> str:
    """The account's service-linked role of Auto Scaling."""
    return f"arn:aws:iam::{account_id}:role{ROLE_PATH}{ROLE_NAME}"


def instance_arn(cloud: Cloud, account_id: str, instance_id: str = "*") -> str:
    """An EC2 instance's ARN (``*``: any new instance)."""
    region = cloud.config.cloud["region"]
    return f"arn:aws:ec2:{region}:{account_id}:instance/{instance_id}"


def authorize(cloud: Cloud, account_id: str, iam_action: str, resource: str) -> None:
    """Raise UnauthorizedOperation unless the service role may do ``iam_action``."""
    principal = role_arn(account_id)
    decision = principal_decision(cloud.identity, account_id, principal, ROLE_POLICY,
                                  iam_action, resource)
    if not decision.allowed:
        reason = " with an explicit deny" if decision.explicit_deny else ""
        raise errors.UnauthorizedOperation(
            f"You are not authorized to perform this operation. {principal} is not "
            f"authorized to perform: {iam_action} on resource: {resource}{reason}")
