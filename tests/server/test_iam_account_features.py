"""IAM account features with boto3 and awscli: certificates, login profiles, aliases, tags,
boundaries, the summary and authorization details, limits, the simulator, account removal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from helpers import error_code
from helpers import new_account as _new_account

from server.auth.certs import generate_certificate

AWS = str(Path(sys.executable).parent / "aws")
ALLOW_EC2 = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]})


def aws(cloud, key: str, secret: str, *args: str, token: str | None = None,
        path: str = "/services/Euare", check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``aws --endpoint-url ... ARGS`` with the given credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    if token:
        env["AWS_SESSION_TOKEN"] = token
    proc = subprocess.run([AWS, "--endpoint-url", cloud.url + path, "--output", "json", *args],
                          capture_output=True, text=True, env=env, timeout=60)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_certificates_and_login_profiles(cloud) -> None:
    """Signing certificates (two per user), server certificates (key never shown), passwords."""
    _, key, secret = _new_account(cloud, "certs")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_user(UserName="u")
    bodies = [generate_certificate(f"c{n}")[0] for n in range(3)]
    ids = [iam.upload_signing_certificate(UserName="u", CertificateBody=b)["Certificate"]
           ["CertificateId"] for b in bodies[:2]]
    with pytest.raises(ClientError) as err:
        iam.upload_signing_certificate(UserName="u", CertificateBody=bodies[2])
    assert error_code(err) == "LimitExceeded"
    with pytest.raises(ClientError) as err:
        iam.upload_signing_certificate(UserName="u", CertificateBody="not a certificate")
    assert error_code(err) == "MalformedCertificate"
    iam.update_signing_certificate(UserName="u", CertificateId=ids[0], Status="Inactive")
    listed = iam.list_signing_certificates(UserName="u")["Certificates"]
    assert [(c["CertificateId"], c["Status"]) for c in listed] == [(ids[0], "Inactive"),
                                                                   (ids[1], "Active")]
    with pytest.raises(ClientError) as err:
        iam.delete_user(UserName="u")
    assert error_code(err) == "DeleteConflict"
    for cert_id in ids:
        iam.delete_signing_certificate(UserName="u", CertificateId=cert_id)
    body, private = generate_certificate("www.example.com")
    meta = iam.upload_server_certificate(ServerCertificateName="www", CertificateBody=body,
                                         PrivateKey=private, Path="/lb/")
    assert meta["ServerCertificateMetadata"]["Arn"].endswith(":server-certificate/lb/www")
    got = iam.get_server_certificate(ServerCertificateName="www")["ServerCertificate"]
    assert got["CertificateBody"].strip() == body.strip() and "PrivateKey" not in got
    with pytest.raises(ClientError) as err:
        iam.upload_server_certificate(ServerCertificateName="www", CertificateBody=body,
                                      PrivateKey=private)
    assert error_code(err) == "EntityAlreadyExists"
    iam.update_server_certificate(ServerCertificateName="www", NewServerCertificateName="w2")
    assert [c["ServerCertificateName"] for c in iam.list_server_certificates()
            ["ServerCertificateMetadataList"]] == ["w2"]
    iam.delete_server_certificate(ServerCertificateName="w2")
    # Login profiles.
    with pytest.raises(ClientError) as err:
        iam.get_login_profile(UserName="u")
    assert error_code(err) == "NoSuchEntity"
    iam.create_login_profile(UserName="u", Password="a-long-password",
                             PasswordResetRequired=True)
    profile = iam.get_login_profile(UserName="u")["LoginProfile"]
    assert profile["UserName"] == "u" and profile["PasswordResetRequired"] is True
    with pytest.raises(ClientError) as err:
        iam.update_login_profile(UserName="u", Password="short")
    assert error_code(err) == "PasswordPolicyViolation"
    iam.update_login_profile(UserName="u", Password="another-long-one")
    iam.delete_login_profile(UserName="u")
    iam.delete_user(UserName="u")


def test_aliases_tags_boundaries_summary(cloud) -> None:
    """Account aliases, user tags, permission boundaries, GetAccountSummary."""
    account_id, key, secret = _new_account(cloud, "misc-feat")
    iam = cloud.client("iam", key=key, secret=secret)
    assert iam.list_account_aliases()["AccountAliases"] == ["misc-feat"]
    iam.create_account_alias(AccountAlias="misc-feat-corp")
    assert iam.list_account_aliases()["AccountAliases"] == ["misc-feat-corp"]
    _, key2, secret2 = _new_account(cloud, "misc-feat2")
    other = cloud.client("iam", key=key2, secret=secret2)
    with pytest.raises(ClientError) as err:
        other.create_account_alias(AccountAlias="misc-feat-corp")
    assert error_code(err) == "EntityAlreadyExists"
    with pytest.raises(ClientError) as err:
        iam.create_account_alias(AccountAlias="Bad_Alias")
    assert error_code(err) == "ValidationError"
    iam.delete_account_alias(AccountAlias="misc-feat-corp")
    iam.create_user(UserName="t")
    iam.tag_user(UserName="t", Tags=[{"Key": "team", "Value": "a"}, {"Key": "x", "Value": ""}])
    iam.untag_user(UserName="t", TagKeys=["x"])
    assert iam.list_user_tags(UserName="t")["Tags"] == [{"Key": "team", "Value": "a"}]
    assert iam.get_user(UserName="t")["User"]["Tags"] == [{"Key": "team", "Value": "a"}]
    with pytest.raises(ClientError) as err:
        iam.tag_user(UserName="t", Tags=[{"Key": "aws:reserved", "Value": "1"}])
    assert error_code(err) == "InvalidInput"
    arn = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
    iam.put_user_permissions_boundary(UserName="t", PermissionsBoundary=arn)
    assert iam.get_user(UserName="t")["User"]["PermissionsBoundary"][
        "PermissionsBoundaryArn"] == arn
    iam.delete_user_permissions_boundary(UserName="t")
    assert "PermissionsBoundary" not in iam.get_user(UserName="t")["User"]
    with pytest.raises(ClientError) as err:
        iam.put_user_permissions_boundary(UserName="t",
                                          PermissionsBoundary="arn:aws:iam::aws:policy/Nope")
    assert error_code(err) == "NoSuchEntity"
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": account_id}, "Action": "sts:AssumeRole"}]}))
    iam.put_role_permissions_boundary(RoleName="r", PermissionsBoundary=arn)
    assert iam.get_role(RoleName="r")["Role"]["PermissionsBoundary"][
        "PermissionsBoundaryArn"] == arn
    iam.delete_role_permissions_boundary(RoleName="r")
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["Users"] == 2 and summary["Roles"] == 1
    assert summary["AccessKeysPerUserQuota"] == 2 and summary["UserPolicySizeQuota"] == 2048


def test_authorization_details(cloud) -> None:
    """GetAccountAuthorizationDetails lists users, groups, roles and policies in use."""
    account_id, key, secret = _new_account(cloud, "authdetails")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_group(GroupName="g")
    iam.put_group_policy(GroupName="g", PolicyName="gp", PolicyDocument=ALLOW_EC2)
    iam.create_user(UserName="u")
    iam.add_user_to_group(GroupName="g", UserName="u")
    iam.put_user_policy(UserName="u", PolicyName="up", PolicyDocument=ALLOW_EC2)
    local = iam.create_policy(PolicyName="lp", PolicyDocument=ALLOW_EC2)["Policy"]["Arn"]
    iam.attach_user_policy(UserName="u", PolicyArn=local)
    iam.attach_group_policy(GroupName="g",
                            PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    details = iam.get_account_authorization_details()
    user = next(u for u in details["UserDetailList"] if u["UserName"] == "u")
    assert user["GroupList"] == ["g"]
    assert user["UserPolicyList"][0]["PolicyName"] == "up"
    assert json.loads(ALLOW_EC2) == user["UserPolicyList"][0]["PolicyDocument"]
    assert user["AttachedManagedPolicies"] == [{"PolicyName": "lp", "PolicyArn": local}]
    group = details["GroupDetailList"][0]
    assert group["GroupPolicyList"][0]["PolicyName"] == "gp"
    arns = {p["Arn"] for p in details["Policies"]}
    assert arns == {local, "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}
    only_users = iam.get_account_authorization_details(Filter=["User"])
    assert only_users["GroupDetailList"] == [] and only_users["Policies"] == []


def test_access_key_limit_and_names(cloud) -> None:
    """Two access keys per user; names and paths are validated."""
    _, key, secret = _new_account(cloud, "limits")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_user(UserName="k")
    iam.create_access_key(UserName="k")
    iam.create_access_key(UserName="k")
    with pytest.raises(ClientError) as err:
        iam.create_access_key(UserName="k")
    assert error_code(err) == "LimitExceeded"
    for bad in ("has space", "x" * 65, "semi;colon"):
        with pytest.raises(ClientError) as err:
            iam.create_user(UserName=bad)
        assert error_code(err) == "ValidationError", bad
    with pytest.raises(ClientError) as err:
        iam.create_group(GroupName="g", Path="/missing-slash")
    assert error_code(err) == "ValidationError"
    with pytest.raises(ClientError) as err:
        iam.create_role(RoleName="r" * 65, AssumeRolePolicyDocument="{}")
    assert error_code(err) == "ValidationError"


def test_simulator(cloud) -> None:
    """SimulatePrincipalPolicy and SimulateCustomPolicy run the one policy engine."""
    from importlib import import_module

    try:
        engine = import_module("server.auth.policy")
    except ImportError:
        engine = None
    if engine is None or not hasattr(engine, "simulate"):
        pytest.skip("the policy engine is not part of this build")
    account_id, key, secret = _new_account(cloud, "simulate")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_user(UserName="s")
    iam.put_user_policy(UserName="s", PolicyName="p", PolicyDocument=ALLOW_EC2)
    result = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{account_id}:user/s",
        ActionNames=["ec2:RunInstances", "s3:GetObject"])["EvaluationResults"]
    assert [r["EvalDecision"] for r in result] == ["allowed", "implicitDeny"]
    deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "ec2:Terminate*", "Resource": "*"}]})
    custom = iam.simulate_custom_policy(PolicyInputList=[ALLOW_EC2, deny],
                                        ActionNames=["ec2:TerminateInstances"])
    assert custom["EvaluationResults"][0]["EvalDecision"] == "explicitDeny"


def test_simulator_evaluates_what_the_engine_evaluates(cloud) -> None:
    """SimulatePrincipalPolicy includes the user's permissions boundary, its groups'
    managed policies and a role's boundary: the decision is the one a real call gets."""
    account_id, key, secret = _new_account(cloud, "simbound")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_user(UserName="b")
    iam.put_user_policy(UserName="b", PolicyName="p", PolicyDocument=ALLOW_EC2)
    bound = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ec2:TerminateInstances", "Resource": "*"}]})
    arn = iam.create_policy(PolicyName="bound", PolicyDocument=bound)["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName="b", PermissionsBoundary=arn)
    source = f"arn:aws:iam::{account_id}:user/b"

    def decisions(source_arn: str, *actions: str) -> list[str]:
        found = iam.simulate_principal_policy(PolicySourceArn=source_arn,
                                              ActionNames=list(actions))
        return [r["EvalDecision"] for r in found["EvaluationResults"]]

    assert decisions(source, "ec2:RunInstances", "ec2:TerminateInstances") == [
        "allowed", "explicitDeny"]
    # The same user, acting: the boundary's Deny refuses it for real too.
    user_key = iam.create_access_key(UserName="b")["AccessKey"]
    ec2 = cloud.client("ec2", key=user_key["AccessKeyId"], secret=user_key["SecretAccessKey"])
    with pytest.raises(ClientError) as err:
        ec2.terminate_instances(InstanceIds=["i-00000000"], DryRun=True)
    assert error_code(err) == "UnauthorizedOperation"
    # A group's managed policy counts; a boundary without the action leaves it denied.
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="b")
    iam.attach_group_policy(GroupName="g",
                            PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    assert decisions(source, "s3:GetObject") == ["implicitDeny"]
    iam.delete_user_permissions_boundary(UserName="b")
    assert decisions(source, "s3:GetObject", "ec2:TerminateInstances") == [
        "allowed", "allowed"]
    # A role: its own policies and its boundary.
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
        "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=ALLOW_EC2)
    iam.put_role_permissions_boundary(RoleName="r", PermissionsBoundary=arn)
    role = f"arn:aws:iam::{account_id}:role/r"
    assert decisions(role, "ec2:RunInstances", "ec2:TerminateInstances") == [
        "allowed", "explicitDeny"]


def test_account_deletion_removes_iam_entities(cloud) -> None:
    """Deleting an account (recursively) forgets its roles, policies and sessions."""
    account_id, key, secret = _new_account(cloud, "doomed")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": account_id}, "Action": "sts:AssumeRole"}]}))
    iam.create_policy(PolicyName="p", PolicyDocument=ALLOW_EC2)
    admin = cloud.client("iam")
    from helpers import raw_iam

    creds = cloud.credentials()
    raw_iam(cloud, creds["key"], creds["secret"],
            {"Action": "DeleteAccount", "AccountName": "doomed", "Recursive": "true"})
    _, key, secret = _new_account(cloud, "doomed")
    iam = cloud.client("iam", key=key, secret=secret)
    assert iam.list_roles()["Roles"] == []
    assert iam.list_policies(Scope="Local")["Policies"] == []
    assert admin.get_user()["User"]["UserName"] == "admin"


def test_awscli_iam_and_sts(cloud) -> None:
    """awscli: managed policy, role, assume-role, and the session acting on EC2."""
    account_id, key, secret = _new_account(cloud, "awscli-iam")
    out = json.loads(aws(cloud, key, secret, "iam", "create-policy", "--policy-name", "ec2",
                         "--policy-document", ALLOW_EC2).stdout)
    assert out["Policy"]["Arn"] == f"arn:aws:iam::{account_id}:policy/ec2"
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
         "Action": "sts:AssumeRole"}]})
    aws(cloud, key, secret, "iam", "create-role", "--role-name", "ops",
        "--assume-role-policy-document", trust)
    aws(cloud, key, secret, "iam", "attach-role-policy", "--role-name", "ops", "--policy-arn",
        f"arn:aws:iam::{account_id}:policy/ec2")
    attached = json.loads(aws(cloud, key, secret, "iam", "list-attached-role-policies",
                              "--role-name", "ops").stdout)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["ec2"]
    creds = json.loads(aws(cloud, key, secret, "sts", "assume-role", "--role-arn",
                           f"arn:aws:iam::{account_id}:role/ops", "--role-session-name", "cli",
                           path="/services/Tokens").stdout)["Credentials"]
    me = json.loads(aws(cloud, creds["AccessKeyId"], creds["SecretAccessKey"], "sts",
                        "get-caller-identity", token=creds["SessionToken"],
                        path="/services/Tokens").stdout)
    assert me["Arn"] == f"arn:aws:sts::{account_id}:assumed-role/ops/cli"
    aws(cloud, creds["AccessKeyId"], creds["SecretAccessKey"], "ec2", "describe-instances",
        token=creds["SessionToken"], path="/services/compute")
    bad = aws(cloud, creds["AccessKeyId"], creds["SecretAccessKey"], "ec2",
              "describe-instances", path="/services/compute", check=False)
    assert bad.returncode != 0 and "AuthFailure" in bad.stderr
    versions = json.loads(aws(cloud, key, secret, "iam", "list-policy-versions", "--policy-arn",
                              f"arn:aws:iam::{account_id}:policy/ec2").stdout)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v1"]
