"""Auto Scaling's service principal: the service-linked role AWSServiceRoleForAutoScaling.

A group's launches and terminations are the service's own requests, as in AWS: before
the controller asks the CLC to run or terminate an instance, the policy engine decides
whether the account's role
``arn:aws:iam::ACCOUNT:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling``
may do it.  The role is an IAM record (:func:`ensure`, on the account's first group)
with AWS's managed ``AutoScalingServiceRolePolicy`` (its EC2 part) attached; decisions
use that policy whether or not the record has since been deleted.  The account's
Eucalyptus account policies apply to it as to every principal of the account, so their
Deny stops the group's launches.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from server import errors
from server.auth.enforcement import principal_decision
from server.auth.managed import AWS_MANAGED

if TYPE_CHECKING:
    from server.cloud import Cloud

ROLE_NAME = "AWSServiceRoleForAutoScaling"
ROLE_PATH = "/aws-service-role/autoscaling.amazonaws.com/"

#: The AWS-managed policy attached to the role.
POLICY_NAME = "AutoScalingServiceRolePolicy"
POLICY_ARN = f"arn:aws:iam::aws:policy/aws-service-role/{POLICY_NAME}"
#: What the service-linked role allows (EC2 actions a group needs).
ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": AWS_MANAGED[POLICY_NAME][2]})
#: Who may assume it: the service itself.
TRUST_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": ["autoscaling.amazonaws.com"]},
    "Action": "sts:AssumeRole"}]})
DESCRIPTION = ("Default Service-Linked Role enables access to AWS Services and Resources "
               "used or managed by Auto Scaling")


def role_arn(account_id: str) -> str:
    """The account's service-linked role of Auto Scaling."""
    return f"arn:aws:iam::{account_id}:role{ROLE_PATH}{ROLE_NAME}"


def ensure(cloud: Cloud, account_id: str) -> None:
    """Create the account's role as an IAM record the first time the account uses Auto
    Scaling (as AWS does when a first group is created); ListRoles and GetRole show it."""
    roles = cloud.identity.roles
    if (account_id, ROLE_NAME) in roles.roles:
        return
    role = roles.create(account_id, ROLE_NAME, TRUST_POLICY, ROLE_PATH, DESCRIPTION)
    role.managed.append(POLICY_ARN)
    roles.save(role)


def groups_using(cloud: Cloud) -> Callable[[str], list[str]]:
    """What uses an account's role: its Auto Scaling groups (DeleteRole is refused then)."""
    def names(account_id: str) -> list[str]:
        svc = cloud.components.get("autoscaling")
        if svc is None:
            return []
        return [f"Auto Scaling group {g.name}" for g in svc.groups.values()
                if g.account_id == account_id]
    return names


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
