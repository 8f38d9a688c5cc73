"""Roles, instance profiles and STS: AssumeRole, GetSessionToken, temporary credentials on
EC2, S3, IAM and STS, GetCallerIdentity for each kind of credential, token refusals."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from helpers import error_code, session_client
from helpers import new_account as _new_account

PATHS = {"ec2": "/services/compute", "iam": "/services/Euare", "sts": "/services/Tokens",
         "s3": "/services/objectstorage"}


def _trust(principal: Any, condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal,
                                 "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_role_lifecycle(cloud) -> None:
    """Create/Get/List/Update/Delete roles, their inline policies, tags and trust policy."""
    account_id, key, secret = _new_account(cloud, "role-life")
    iam = cloud.client("iam", key=key, secret=secret)
    trust = _trust({"AWS": f"arn:aws:iam::{account_id}:root"})
    role = iam.create_role(RoleName="app", Path="/svc/", AssumeRolePolicyDocument=trust,
                           Description="the app", Tags=[{"Key": "team", "Value": "a"}])["Role"]
    assert role["Arn"] == f"arn:aws:iam::{account_id}:role/svc/app"
    assert role["RoleId"].startswith("AROA")
    got = iam.get_role(RoleName="app")["Role"]
    assert got["AssumeRolePolicyDocument"] == json.loads(trust)
    assert got["Description"] == "the app" and got["MaxSessionDuration"] == 3600
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/svc/")["Roles"]] == ["app"]
    with pytest.raises(ClientError) as err:
        iam.create_role(RoleName="app", AssumeRolePolicyDocument=trust)
    assert error_code(err) == "EntityAlreadyExists"
    for bad in ("{", json.dumps({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}),
                json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*",
                                           "Action": "sts:AssumeRole", "Resource": "*"}]})):
        with pytest.raises(ClientError) as err:
            iam.create_role(RoleName="bad", AssumeRolePolicyDocument=bad)
        assert error_code(err) == "MalformedPolicyDocument"
    iam.update_role(RoleName="app", MaxSessionDuration=7200, Description="new")
    assert iam.get_role(RoleName="app")["Role"]["MaxSessionDuration"] == 7200
    with pytest.raises(ClientError) as err:
        iam.update_role(RoleName="app", MaxSessionDuration=50000)
    assert error_code(err) == "ValidationError"
    iam.update_assume_role_policy(RoleName="app",
                                  PolicyDocument=_trust({"Service": "ec2.amazonaws.com"}))
    assert iam.get_role(RoleName="app")["Role"]["AssumeRolePolicyDocument"]["Statement"][0][
        "Principal"] == {"Service": "ec2.amazonaws.com"}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    iam.put_role_policy(RoleName="app", PolicyName="s3", PolicyDocument=policy)
    assert iam.list_role_policies(RoleName="app")["PolicyNames"] == ["s3"]
    assert iam.get_role_policy(RoleName="app", PolicyName="s3")["PolicyDocument"] == \
        json.loads(policy)
    iam.tag_role(RoleName="app", Tags=[{"Key": "env", "Value": "prod"}])
    iam.untag_role(RoleName="app", TagKeys=["team"])
    assert iam.list_role_tags(RoleName="app")["Tags"] == [{"Key": "env", "Value": "prod"}]
    iam.attach_role_policy(RoleName="app",
                           PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName="app")
            ["AttachedPolicies"]] == ["AmazonEC2ReadOnlyAccess"]
    with pytest.raises(ClientError) as err:
        iam.delete_role(RoleName="app")
    assert error_code(err) == "DeleteConflict"
    iam.detach_role_policy(RoleName="app",
                           PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    iam.delete_role_policy(RoleName="app", PolicyName="s3")
    iam.delete_role(RoleName="app")
    with pytest.raises(ClientError) as err:
        iam.get_role(RoleName="app")
    assert error_code(err) == "NoSuchEntity"


def test_instance_profiles(cloud) -> None:
    """Profiles hold one role; a role in a profile cannot be deleted."""
    account_id, key, secret = _new_account(cloud, "profiles")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_role(RoleName="web", AssumeRolePolicyDocument=_trust(
        {"Service": "ec2.amazonaws.com"}))
    iam.create_role(RoleName="other", AssumeRolePolicyDocument=_trust(
        {"Service": "ec2.amazonaws.com"}))
    profile = iam.create_instance_profile(InstanceProfileName="web-profile")["InstanceProfile"]
    assert profile["Arn"] == f"arn:aws:iam::{account_id}:instance-profile/web-profile"
    iam.add_role_to_instance_profile(InstanceProfileName="web-profile", RoleName="web")
    with pytest.raises(ClientError) as err:
        iam.add_role_to_instance_profile(InstanceProfileName="web-profile", RoleName="other")
    assert error_code(err) == "LimitExceeded"
    got = iam.get_instance_profile(InstanceProfileName="web-profile")["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == ["web"]
    listed = iam.list_instance_profiles_for_role(RoleName="web")["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in listed] == ["web-profile"]
    with pytest.raises(ClientError) as err:
        iam.delete_role(RoleName="web")
    assert error_code(err) == "DeleteConflict"
    with pytest.raises(ClientError) as err:
        iam.delete_instance_profile(InstanceProfileName="web-profile")
    assert error_code(err) == "DeleteConflict"
    iam.remove_role_from_instance_profile(InstanceProfileName="web-profile", RoleName="web")
    iam.delete_instance_profile(InstanceProfileName="web-profile")
    assert iam.list_instance_profiles()["InstanceProfiles"] == []
    iam.delete_role(RoleName="web")


def test_assume_role_and_use_credentials_everywhere(cloud) -> None:
    """AssumeRole gives ASIA credentials that EC2, S3, IAM and STS accept with their token."""
    account_id, key, secret = _new_account(cloud, "assume")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_role(RoleName="worker", AssumeRolePolicyDocument=_trust(
        {"AWS": account_id}))
    # What the role's sessions may do: its own policies (a role starts with nothing).
    iam.put_role_policy(RoleName="worker", PolicyName="work", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ec2:*", "s3:*"], "Resource": "*"}]}))
    sts = cloud.client("sts", key=key, secret=secret)
    role_arn = f"arn:aws:iam::{account_id}:role/worker"
    out = sts.assume_role(RoleArn=role_arn, RoleSessionName="job-1", DurationSeconds=900)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    assert out["AssumedRoleUser"]["Arn"] == \
        f"arn:aws:sts::{account_id}:assumed-role/worker/job-1"
    role_id = iam.get_role(RoleName="worker")["Role"]["RoleId"]
    assert out["AssumedRoleUser"]["AssumedRoleId"] == f"{role_id}:job-1"
    me = session_client(cloud, "sts", creds).get_caller_identity()
    assert me["Arn"] == f"arn:aws:sts::{account_id}:assumed-role/worker/job-1"
    assert me["UserId"] == f"{role_id}:job-1" and me["Account"] == account_id
    ec2 = session_client(cloud, "ec2", creds)
    ec2.describe_instances()
    ec2.create_key_pair(KeyName="from-role")
    assert [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]] == ["from-role"]
    s3 = session_client(cloud, "s3", creds)
    s3.create_bucket(Bucket="role-bucket")
    s3.put_object(Bucket="role-bucket", Key="k", Body=b"hello")
    assert s3.get_object(Bucket="role-bucket", Key="k")["Body"].read() == b"hello"
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "role-bucket", "Key": "k"})
    assert "x-amz-security-token" in url.lower()
    got = requests.get(url, timeout=10)
    assert got.content == b"hello", (url, got.text)
    s3v4 = boto3.client("s3", endpoint_url=cloud.url + PATHS["s3"], region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"],
                        config=Config(signature_version="s3v4"))
    url = s3v4.generate_presigned_url("get_object",
                                      Params={"Bucket": "role-bucket", "Key": "k"})
    assert "X-Amz-Security-Token" in url
    assert requests.get(url, timeout=10).content == b"hello"
    # The same key with a wrong or missing token is refused, by every service.
    forged = dict(creds, SessionToken=creds["SessionToken"][:-4] + "AAAA")
    missing = {k: v for k, v in creds.items() if k != "SessionToken"}
    for bad in (forged, missing):
        with pytest.raises(ClientError) as err:
            session_client(cloud, "sts", bad).get_caller_identity()
        assert error_code(err) == "InvalidClientTokenId"
        with pytest.raises(ClientError) as err:
            session_client(cloud, "ec2", bad).describe_instances()
        assert error_code(err) == "AuthFailure"
        with pytest.raises(ClientError) as err:
            session_client(cloud, "s3", bad).get_object(Bucket="role-bucket", Key="k")
        assert error_code(err) == "InvalidToken"
    bad_url = url.replace("X-Amz-Security-Token=", "X-Amz-Security-Token=x")
    assert requests.get(bad_url, timeout=10).status_code in (400, 403)
    # A session cannot mint a GetSessionToken; a long-term key with a token is refused.
    with pytest.raises(ClientError) as err:
        session_client(cloud, "sts", creds).get_session_token()
    assert error_code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        session_client(cloud, "sts", {"AccessKeyId": key, "SecretAccessKey": secret,
                               "SessionToken": creds["SessionToken"]}).get_caller_identity()
    assert error_code(err) == "InvalidClientTokenId"
    assert sts.get_access_key_info(AccessKeyId=creds["AccessKeyId"])["Account"] == account_id


def test_trust_policy_decides(cloud) -> None:
    """Only principals the trust policy names may assume; ExternalId and durations checked."""
    account_id, key, secret = _new_account(cloud, "trust")
    other_id, okey, osecret = _new_account(cloud, "trust-other")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_role(RoleName="partner", AssumeRolePolicyDocument=_trust(
        {"AWS": f"arn:aws:iam::{other_id}:root"},
        {"StringEquals": {"sts:ExternalId": "secret-123"}}))
    iam.create_role(RoleName="ec2only", AssumeRolePolicyDocument=_trust(
        {"Service": "ec2.amazonaws.com"}))
    mine = cloud.client("sts", key=key, secret=secret)
    theirs = cloud.client("sts", key=okey, secret=osecret)
    partner = f"arn:aws:iam::{account_id}:role/partner"
    with pytest.raises(ClientError) as err:
        mine.assume_role(RoleArn=partner, RoleSessionName="s1", ExternalId="secret-123")
    assert error_code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        theirs.assume_role(RoleArn=partner, RoleSessionName="s1")
    assert error_code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        theirs.assume_role(RoleArn=partner, RoleSessionName="s1", ExternalId="wrong-1")
    assert error_code(err) == "AccessDenied"
    creds = theirs.assume_role(RoleArn=partner, RoleSessionName="cross",
                               ExternalId="secret-123")["Credentials"]
    me = session_client(cloud, "sts", creds).get_caller_identity()
    assert me["Account"] == account_id and me["Arn"].endswith(":assumed-role/partner/cross")
    with pytest.raises(ClientError) as err:
        mine.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/ec2only", RoleSessionName="s1")
    assert error_code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        mine.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/missing", RoleSessionName="s1")
    assert error_code(err) == "AccessDenied"
    for duration in (3601, 7200):
        with pytest.raises(ClientError) as err:
            theirs.assume_role(RoleArn=partner, RoleSessionName="s1", ExternalId="secret-123",
                               DurationSeconds=duration)
        assert error_code(err) == "ValidationError"
    with pytest.raises(ClientError) as err:
        theirs.assume_role(RoleArn=partner, RoleSessionName="bad name!", ExternalId="secret-123")
    assert error_code(err) == "ValidationError"


def test_session_policies_and_tags(cloud) -> None:
    """Policy and PolicyArns are validated and reported in PackedPolicySize."""
    account_id, key, secret = _new_account(cloud, "sess-pol")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=_trust({"AWS": account_id}),
                    MaxSessionDuration=43200)
    sts = cloud.client("sts", key=key, secret=secret)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    out = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/r", RoleSessionName="s1",
                          Policy=policy, DurationSeconds=43200,
                          PolicyArns=[{"arn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}],
                          Tags=[{"Key": "project", "Value": "x"}])
    assert 0 < out["PackedPolicySize"] <= 100
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/r", RoleSessionName="s1",
                        Policy="{not json")
    assert error_code(err) == "MalformedPolicyDocument"


def test_get_session_token_and_caller_identity(cloud) -> None:
    """GetSessionToken gives a user's session; GetCallerIdentity for user, admin, session."""
    account_id, key, secret = _new_account(cloud, "sess-tok")
    iam = cloud.client("iam", key=key, secret=secret)
    user = iam.create_user(UserName="dev", Path="/eng/")["User"]
    k = iam.create_access_key(UserName="dev")["AccessKey"]
    sts = cloud.client("sts", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
    me = sts.get_caller_identity()
    assert me == {"UserId": user["UserId"], "Account": account_id,
                  "Arn": f"arn:aws:iam::{account_id}:user/dev",
                  "ResponseMetadata": me["ResponseMetadata"]}
    admin = cloud.client("sts", key=key, secret=secret).get_caller_identity()
    assert admin["Arn"] == f"arn:aws:iam::{account_id}:user/admin"
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    session = session_client(cloud, "sts", creds).get_caller_identity()
    assert session["Arn"] == f"arn:aws:iam::{account_id}:user/dev"
    assert session["UserId"] == user["UserId"]
    with pytest.raises(ClientError) as err:
        sts.get_session_token(DurationSeconds=129601)
    assert error_code(err) == "ValidationError"
    # Deleting the user ends its sessions.
    iam.delete_access_key(UserName="dev", AccessKeyId=k["AccessKeyId"])
    iam.delete_user(UserName="dev")
    with pytest.raises(ClientError) as err:
        session_client(cloud, "sts", creds).get_caller_identity()
    assert error_code(err) == "InvalidClientTokenId"


def test_sessions_survive_restart(cloud) -> None:
    """Temporary credentials stay valid across a restart of the cloud."""
    account_id, key, secret = _new_account(cloud, "sess-restart")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=_trust({"AWS": account_id}))
    creds = cloud.client("sts", key=key, secret=secret).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/r", RoleSessionName="s1")["Credentials"]
    cloud.restart()
    assert session_client(cloud, "sts", creds).get_caller_identity()["Account"] == account_id


def test_get_federation_token(cloud) -> None:
    """A federated user: its own ARN and ID; refused for session credentials."""
    account_id, key, secret = _new_account(cloud, "federation")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_user(UserName="broker")
    iam.put_user_policy(UserName="broker", PolicyName="federate", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:GetFederationToken", "Resource": "*"}]}))
    k = iam.create_access_key(UserName="broker")["AccessKey"]
    sts = cloud.client("sts", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    out = sts.get_federation_token(Name="carol", Policy=policy, DurationSeconds=900)
    assert out["FederatedUser"] == {
        "FederatedUserId": f"{account_id}:carol",
        "Arn": f"arn:aws:sts::{account_id}:federated-user/carol"}
    creds = out["Credentials"]
    me = session_client(cloud, "sts", creds).get_caller_identity()
    assert me["Arn"] == f"arn:aws:sts::{account_id}:federated-user/carol"
    assert me["UserId"] == f"{account_id}:carol"
    with pytest.raises(ClientError) as err:
        session_client(cloud, "sts", creds).get_federation_token(Name="again")
    assert error_code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        sts.get_federation_token(Name="bad name")
    assert error_code(err) == "ValidationError"
