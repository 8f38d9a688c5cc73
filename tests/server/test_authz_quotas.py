"""Quotas: Eucalyptus ``Limit`` statements in account and user policies (boto3 clients)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from botocore.exceptions import ClientError
from helpers import error_code, new_account, raw_iam, wait_state


def limit(action: str, key: str, value: int) -> dict[str, Any]:
    """A quota statement."""
    return {"Effect": "Limit", "Action": action, "Resource": "*",
            "Condition": {"NumericLessThanEquals": {key: str(value)}}}


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def put_account_policy(cloud: Any, account: str, name: str, document: str) -> None:
    """PutAccountPolicy as the cloud administrator (a Eucalyptus extension)."""
    creds = cloud.credentials()
    raw_iam(cloud, creds["key"], creds["secret"], {
        "Action": "PutAccountPolicy", "AccountName": account, "PolicyName": name,
        "PolicyDocument": document})


def iam_text(cloud: Any, key: str, secret: str, params: dict[str, str]) -> str:
    """A signed IAM call's answer body (asserting success)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest("POST", cloud.url + "/services/Euare",
                     data={"Version": "2010-05-08", **params})
    SigV4Auth(Credentials(key, secret), "iam", "us-east-1").add_auth(req)
    resp = requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.text


def test_account_quota_is_exact_under_concurrency(cloud) -> None:
    """32 concurrent RunInstances against an account quota of 10 start exactly 10."""
    _, key, secret = new_account(cloud, "quota-run")
    put_account_policy(cloud, "quota-run", "instances", _doc(
        limit("ec2:RunInstances", "ec2:quota-vminstancenumber", 10)))
    ec2 = cloud.client("ec2", key=key, secret=secret)
    image = ec2.describe_images()["Images"][0]["ImageId"]

    def run(_: int) -> str | None:
        client = cloud.client("ec2", key=key, secret=secret)
        try:
            return str(client.run_instances(ImageId=image, MinCount=1,
                                            MaxCount=1)["Instances"][0]["InstanceId"])
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "InstanceLimitExceeded"
            assert "ec2:quota-vminstancenumber" in exc.response["Error"]["Message"]
            return None

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(run, range(32)))
    started = [r for r in results if r]
    assert len(started) == 10
    # MaxCount is cut to what the quota leaves; MinCount beyond it is refused.
    wait_state(ec2, started, "running")
    ec2.terminate_instances(InstanceIds=started[:3])
    wait_state(ec2, started[:3], "terminated")
    got = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=8)["Instances"]
    assert len(got) == 3
    with pytest.raises(ClientError) as err:
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)
    assert error_code(err) == "InstanceLimitExceeded"
    ec2.terminate_instances(InstanceIds=started[3:] + [i["InstanceId"] for i in got])


def test_user_quota_counts_the_users_own(cloud) -> None:
    """A user's own Limit applies, to what the user created."""
    _, key, secret = new_account(cloud, "quota-user")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_user(UserName="vol")
    iam.put_user_policy(UserName="vol", PolicyName="p", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
        limit("ec2:CreateVolume", "ec2:quota-volumenumber", 1),
        limit("ec2:CreateVolume", "ec2:quota-volumetotalsize", 5)))
    k = iam.create_access_key(UserName="vol")["AccessKey"]
    user = cloud.client("ec2", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
    zone = user.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    # A user's quota counts what the user created, not the account's other volumes.
    admin = cloud.client("ec2", key=key, secret=secret)
    admin.create_volume(Size=1, AvailabilityZone=zone)
    admin.create_volume(Size=1, AvailabilityZone=zone)
    with pytest.raises(ClientError) as err:
        user.create_volume(Size=6, AvailabilityZone=zone)
    assert error_code(err) == "VolumeLimitExceeded"
    assert "ec2:quota-volumetotalsize" in err.value.response["Error"]["Message"]
    user.create_volume(Size=1, AvailabilityZone=zone)
    with pytest.raises(ClientError) as err:
        user.create_volume(Size=1, AvailabilityZone=zone)
    assert error_code(err) == "VolumeLimitExceeded"
    assert "ec2:quota-volumenumber" in err.value.response["Error"]["Message"]
    # The account's admin has no quota of its own here.
    admin.create_volume(Size=1, AvailabilityZone=zone)


def test_iam_quota_on_users(cloud) -> None:
    """iam:quota-usernumber in an account policy limits CreateUser for the admin too."""
    _, key, secret = new_account(cloud, "quota-iam")
    put_account_policy(cloud, "quota-iam", "users", _doc(
        limit("iam:CreateUser", "iam:quota-usernumber", 2)))  # admin + one more
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_user(UserName="one")
    with pytest.raises(ClientError) as err:
        iam.create_user(UserName="two")
    assert error_code(err) == "LimitExceeded"
    assert "iam:quota-usernumber" in err.value.response["Error"]["Message"]


def test_account_policies_store_every_quota_key(cloud) -> None:
    """Keys of services that do not exist yet are accepted and read back; the calls are
    the cloud administrator's."""
    account_id, key, secret = new_account(cloud, "quota-keys")
    doc = _doc(limit("sqs:CreateQueue", "sqs:quota-queuenumber", 3),
               limit("cloudformation:CreateStack", "cloudformation:quota-stacknumber", 2),
               limit("s3:CreateBucket", "s3:quota-bucketnumber", 4))
    put_account_policy(cloud, "quota-keys", "future", doc)
    creds = cloud.credentials()
    text = iam_text(cloud, creds["key"], creds["secret"],
                    {"Action": "ListAccountPolicies", "AccountName": "quota-keys"})
    assert "<member>future</member>" in text
    text = iam_text(cloud, creds["key"], creds["secret"], {
        "Action": "GetAccountPolicy", "AccountName": "quota-keys", "PolicyName": "future"})
    stored = text.split("<PolicyDocument>")[1].split("</PolicyDocument>")[0]
    assert json.loads(unquote(stored)) == json.loads(doc)
    with pytest.raises(ClientError) as err:  # an account admin may not set its own quotas
        raw_iam(cloud, key, secret, {"Action": "PutAccountPolicy", "AccountName": "quota-keys",
                                     "PolicyName": "mine", "PolicyDocument": doc})
    assert error_code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        put_account_policy(cloud, "quota-keys", "bad", "{not json")
    assert error_code(err) == "MalformedPolicyDocument"
    raw_iam(cloud, creds["key"], creds["secret"], {
        "Action": "DeleteAccountPolicy", "AccountName": "quota-keys", "PolicyName": "future"})
    assert account_id


def test_account_policy_deny_binds_the_account_admin(cloud) -> None:
    """An explicit Deny in an account policy refuses even the account's admin."""
    _, key, secret = new_account(cloud, "quota-deny")
    put_account_policy(cloud, "quota-deny", "no-keys", _doc(
        {"Effect": "Deny", "Action": "ec2:CreateKeyPair", "Resource": "*"}))
    ec2 = cloud.client("ec2", key=key, secret=secret)
    with pytest.raises(ClientError) as err:
        ec2.create_key_pair(KeyName="k")
    assert error_code(err) == "UnauthorizedOperation"
    ec2.describe_key_pairs()


def test_user_instance_quota_cuts_max_count_and_group_quotas_are_ignored(cloud) -> None:
    """A user's vminstancenumber of 2 lets it start 2 of MaxCount=5, whatever the admin
    runs; a Limit in a group's policy does not apply to its members."""
    _, key, secret = new_account(cloud, "quota-user-run")
    iam = cloud.client("iam", key=key, secret=secret)
    admin = cloud.client("ec2", key=key, secret=secret)
    image = admin.describe_images()["Images"][0]["ImageId"]
    mine = [admin.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
            ["InstanceId"]]
    iam.create_user(UserName="runner")
    iam.put_user_policy(UserName="runner", PolicyName="p", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
        limit("ec2:RunInstances", "ec2:quota-vminstancenumber", 2)))
    k = iam.create_access_key(UserName="runner")["AccessKey"]
    user = cloud.client("ec2", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
    got = user.run_instances(ImageId=image, MinCount=1, MaxCount=5)["Instances"]
    assert len(got) == 2
    with pytest.raises(ClientError) as err:
        user.run_instances(ImageId=image, MinCount=1, MaxCount=1)
    assert error_code(err) == "InstanceLimitExceeded"
    mine += [i["InstanceId"] for i in got]
    iam.create_group(GroupName="limited")
    try:
        iam.put_group_policy(GroupName="limited", PolicyName="q", PolicyDocument=_doc(
            {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
            limit("ec2:RunInstances", "ec2:quota-vminstancenumber", 0)))
    except ClientError as exc:  # PutGroupPolicy comes with the IAM API work
        assert exc.response["Error"]["Code"] == "InvalidAction"
    else:
        iam.create_user(UserName="member")
        iam.add_user_to_group(GroupName="limited", UserName="member")
        k = iam.create_access_key(UserName="member")["AccessKey"]
        member = cloud.client("ec2", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
        mine += [member.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
                 ["InstanceId"]]
    admin.terminate_instances(InstanceIds=mine)
