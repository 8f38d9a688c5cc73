"""Authorization with boto3 and awscli as clients: principals x policies x actions.

Each test makes its own account, so the order of tests does not matter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from helpers import ec2_query, error_code, new_account, wait_state

AWS = str(Path(sys.executable).parent / "aws")


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    """An Allow statement."""
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    """A Deny statement."""
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


class Account:
    """A fresh account: its admin's clients and helpers to make users with policies."""

    def __init__(self, cloud: Any, name: str):
        self.cloud = cloud
        self.id, self.key, self.secret = new_account(cloud, name)
        self.iam = cloud.client("iam", key=self.key, secret=self.secret)
        self.ec2 = cloud.client("ec2", key=self.key, secret=self.secret)

    def user(self, name: str, *statements: dict[str, Any], group: str | None = None) -> Any:
        """A user with one inline policy of ``statements`` (none: no policy at all)."""
        self.iam.create_user(UserName=name)
        if statements:
            self.iam.put_user_policy(UserName=name, PolicyName="p",
                                     PolicyDocument=_doc(*statements))
        if group:
            self.iam.add_user_to_group(GroupName=group, UserName=name)
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        return User(self.cloud, key["AccessKeyId"], key["SecretAccessKey"])


class User:
    """One user's credentials and clients."""

    def __init__(self, cloud: Any, key: str, secret: str):
        self.key, self.secret = key, secret
        self.ec2 = cloud.client("ec2", key=key, secret=secret)
        self.iam = cloud.client("iam", key=key, secret=secret)
        self.sts = cloud.client("sts", key=key, secret=secret)


def image_of(ec2: Any) -> str:
    """A launchable image."""
    return str(ec2.describe_images()["Images"][0]["ImageId"])


def run_one(ec2: Any, image: str, **kw: Any) -> str:
    """RunInstances for one instance; its ID."""
    return str(ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, **kw)
               ["Instances"][0]["InstanceId"])


def refused(call: Any, code: str = "UnauthorizedOperation") -> ClientError:
    """Assert that ``call()`` is refused with ``code`` and 403."""
    with pytest.raises(ClientError) as err:
        call()
    assert error_code(err) == code, err.value.response
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return err.value


def test_new_user_is_denied_everything(cloud) -> None:
    """A user with no policy can do nothing: no EC2, no IAM, no key for the admin."""
    acct = Account(cloud, "authz-default")
    bob = acct.user("bob")
    refused(bob.ec2.describe_instances)
    refused(lambda: bob.ec2.run_instances(ImageId=image_of(acct.ec2), MinCount=1, MaxCount=1))
    refused(lambda: bob.iam.create_user(UserName="eve"), "AccessDenied")
    refused(lambda: bob.iam.create_access_key(UserName="admin"), "AccessDenied")
    refused(lambda: bob.ec2.create_volume(Size=1, AvailabilityZone="zone-a"))
    # Who am I needs no permission.
    assert bob.sts.get_caller_identity()["Arn"].endswith(":user/bob")
    # The account's admin needs no policy.
    assert acct.ec2.describe_instances()["Reservations"] == []


def test_allow_and_explicit_deny(cloud) -> None:
    """Allow ec2:* with an explicit Deny on TerminateInstances: the deny wins."""
    acct = Account(cloud, "authz-deny")
    image = image_of(acct.ec2)
    carol = acct.user("carol", allow("ec2:*"), deny("ec2:TerminateInstances"))
    iid = run_one(carol.ec2, image)
    assert carol.ec2.describe_instances(InstanceIds=[iid])["Reservations"]
    refused(lambda: carol.ec2.terminate_instances(InstanceIds=[iid]))
    refused(lambda: carol.iam.list_users(), "AccessDenied")
    acct.ec2.terminate_instances(InstanceIds=[iid])  # the account admin may


def test_wildcards_are_case_insensitive_for_actions(cloud) -> None:
    """``EC2:describe*`` allows every EC2 Describe action, and nothing else."""
    acct = Account(cloud, "authz-wild")
    dan = acct.user("dan", allow("EC2:describe*"))
    dan.ec2.describe_instances()
    dan.ec2.describe_volumes()
    dan.ec2.describe_regions()
    refused(lambda: dan.ec2.create_key_pair(KeyName="k"))


def test_not_action_and_not_resource(cloud) -> None:
    """NotAction allows all but IAM; NotResource keeps one instance out of reach."""
    acct = Account(cloud, "authz-not")
    image = image_of(acct.ec2)
    keep = run_one(acct.ec2, image)
    other = run_one(acct.ec2, image)
    erin = acct.user(
        "erin", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ec2:TerminateInstances",
         "NotResource": f"arn:aws:ec2:*:{acct.id}:instance/{other}"})
    erin.ec2.describe_instances()
    refused(lambda: erin.iam.get_user(), "AccessDenied")
    refused(lambda: erin.ec2.terminate_instances(InstanceIds=[keep]))
    erin.ec2.terminate_instances(InstanceIds=[other])


def test_conditions_source_ip_instance_type_resource_tag(cloud) -> None:
    """aws:SourceIp, ec2:InstanceType and ec2:ResourceTag/* conditions."""
    acct = Account(cloud, "authz-cond")
    image = image_of(acct.ec2)
    local = acct.user("local", allow("ec2:DescribeRegions", Condition={
        "IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}))
    local.ec2.describe_regions()
    remote = acct.user("remote", allow("ec2:DescribeRegions", Condition={
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    refused(remote.ec2.describe_regions)

    small = acct.user("small", allow("ec2:RunInstances", Condition={
        "StringEquals": {"ec2:InstanceType": "m1.small"}}), allow("ec2:Describe*"))
    run_one(small.ec2, image, InstanceType="m1.small")
    refused(lambda: run_one(small.ec2, image, InstanceType="c1.medium"))

    blue = run_one(acct.ec2, image)
    red = run_one(acct.ec2, image)
    acct.ec2.create_tags(Resources=[blue], Tags=[{"Key": "team", "Value": "blue"}])
    acct.ec2.create_tags(Resources=[red], Tags=[{"Key": "team", "Value": "red"}])
    tagged = acct.user("tagged", allow("ec2:StopInstances", Condition={
        "StringEquals": {"ec2:ResourceTag/team": "blue"}}),
        allow("ec2:RebootInstances", Condition={
            "StringEquals": {"aws:ResourceTag/Team": "blue"}}))
    wait_state(acct.ec2, [blue, red], "running")
    tagged.ec2.reboot_instances(InstanceIds=[blue])
    refused(lambda: tagged.ec2.reboot_instances(InstanceIds=[red]))
    refused(lambda: tagged.ec2.reboot_instances(InstanceIds=[blue, red]))


def test_group_policies_and_variables(cloud) -> None:
    """A group's inline policy grants its members; ${aws:username} names the caller."""
    acct = Account(cloud, "authz-group")
    acct.iam.create_group(GroupName="ops")
    try:
        acct.iam.put_group_policy(GroupName="ops", PolicyName="describe",
                                  PolicyDocument=_doc(allow("ec2:Describe*")))
        has_group_policies = True
    except ClientError as exc:  # PutGroupPolicy comes with the IAM API work
        assert exc.response["Error"]["Code"] == "InvalidAction"
        has_group_policies = False
    frank = acct.user("frank", group="ops")
    if has_group_policies:
        frank.ec2.describe_instances()
    refused(lambda: frank.ec2.create_security_group(GroupName="g", Description="d"))
    grace = acct.user("grace", allow("iam:GetUser", f"arn:aws:iam::{acct.id}:user/${{aws:username}}"))
    assert grace.iam.get_user()["User"]["UserName"] == "grace"
    refused(lambda: grace.iam.get_user(UserName="frank"), "AccessDenied")


def test_dry_run_both_ways(cloud) -> None:
    """DryRun says DryRunOperation only to a caller who may run the action."""
    acct = Account(cloud, "authz-dry")
    image = image_of(acct.ec2)
    may = acct.user("may", allow("ec2:RunInstances"))
    with pytest.raises(ClientError) as err:
        may.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, DryRun=True)
    assert error_code(err) == "DryRunOperation"
    mayNot = acct.user("maynot", allow("ec2:DescribeInstances"))
    refused(lambda: mayNot.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                             DryRun=True))


def test_encoded_authorization_message(cloud) -> None:
    """The refusal carries a message only the cloud can read; decoded, it names the
    action, the resource and the condition keys."""
    from server.auth import policy

    acct = Account(cloud, "authz-msg")
    henry = acct.user("henry", deny("ec2:CreateKeyPair"))
    exc = refused(lambda: henry.ec2.create_key_pair(KeyName="secret"))
    message = exc.response["Error"]["Message"]
    token = message.split("Encoded authorization failure message: ", 1)[1]
    assert "CreateKeyPair" not in token
    policy.load_message_key(str(cloud.data_dir))
    decoded = policy.decode_authorization_message(token)
    assert decoded["allowed"] is False and decoded["explicitDeny"] is True
    ctx = decoded["context"]
    assert ctx["action"] == "ec2:CreateKeyPair"
    assert ctx["resource"].startswith("arn:aws:ec2:")
    assert ctx["resource"].endswith(f":{acct.id}:key-pair/secret")
    assert ctx["principal"]["arn"] == f"arn:aws:iam::{acct.id}:user/henry"
    keys = {c["key"] for c in ctx["conditions"]["items"]}
    assert "aws:sourceip" in keys
    with pytest.raises(ValueError):
        policy.decode_authorization_message("not-a-token")


def test_cloud_admin_powers_belong_to_the_admin(cloud) -> None:
    """A user of the eucalyptus account is no cloud administrator without a policy."""
    admin_iam = cloud.client("iam")
    admin_iam.create_user(UserName="operator")
    key = admin_iam.create_access_key(UserName="operator")["AccessKey"]
    op_key, op_secret = key["AccessKeyId"], key["SecretAccessKey"]
    from helpers import raw_iam

    with pytest.raises(ClientError) as err:
        raw_iam(cloud, op_key, op_secret, {"Action": "CreateAccount", "AccountName": "nope"})
    assert error_code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        raw_iam(cloud, op_key, op_secret, {"Action": "ListAccounts"})
    assert error_code(err) == "AccessDenied"
    resp = ec2_query(cloud, "DescribeNodes", {}, op_key, op_secret)
    assert resp.status_code == 403 and "UnauthorizedOperation" in resp.text
    op = cloud.client("ec2", key=op_key, secret=op_secret)
    refused(lambda: op.describe_instances(InstanceIds=["verbose"]))
    # Another account's admin with an allow-everything policy is no cloud admin either.
    acct = Account(cloud, "authz-admins")
    with pytest.raises(ClientError) as err:
        raw_iam(cloud, acct.key, acct.secret, {"Action": "ListAccounts"})
    assert error_code(err) == "AccessDenied"
    # A policy grants a eucalyptus-account user the powers it names (a delegated role).
    admin_iam.put_user_policy(UserName="operator", PolicyName="accounts", PolicyDocument=_doc(
        allow(["iam:ListAccounts", "ec2:DescribeNodes"])))
    raw_iam(cloud, op_key, op_secret, {"Action": "ListAccounts"})
    assert ec2_query(cloud, "DescribeNodes", {}, op_key, op_secret).status_code == 200
    # DelegateAccount acts in another account with the signer's own policies.
    with pytest.raises(ClientError) as err:
        raw_iam(cloud, op_key, op_secret, {"Action": "CreateUser", "UserName": "x",
                                           "DelegateAccount": "authz-admins"})
    assert error_code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        raw_iam(cloud, acct.key, acct.secret, {"Action": "ListUsers",
                                               "DelegateAccount": "eucalyptus"})
    assert error_code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        raw_iam(cloud, op_key, op_secret, {"Action": "CreateAccount", "AccountName": "nope"})
    assert error_code(err) == "AccessDenied"
    admin_iam.delete_user_policy(UserName="operator", PolicyName="accounts")


def test_awscli_sees_unauthorized_operation(cloud) -> None:
    """awscli as a user without permission: exit 254 and UnauthorizedOperation."""
    acct = Account(cloud, "authz-cli")
    ivy = acct.user("ivy", allow("ec2:DescribeRegions"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=ivy.key, AWS_SECRET_ACCESS_KEY=ivy.secret,
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    base = [AWS, "--endpoint-url", cloud.url + "/services/compute", "--output", "json", "ec2"]
    ok = subprocess.run(base + ["describe-regions"], capture_output=True, text=True, env=env,
                        timeout=60)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(base + ["describe-instances"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert bad.returncode != 0
    assert "UnauthorizedOperation" in bad.stderr
    iam = subprocess.run([AWS, "--endpoint-url", cloud.url + "/services/Euare", "iam",
                          "create-access-key", "--user-name", "admin"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert iam.returncode != 0
    assert "AccessDenied" in iam.stderr and "iam:CreateAccessKey" in iam.stderr
