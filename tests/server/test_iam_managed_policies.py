"""IAM managed policies (versions, attachments, AWS-managed ones) and group inline policies."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from helpers import error_code
from helpers import new_account as _new_account


def _doc(action: str = "ec2:Describe*", resource: str = "*") -> str:
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})


def test_managed_policy_lifecycle_with_versions(cloud) -> None:
    """Create, version up to five, switch the default, attach, list entities, delete."""
    account_id, key, secret = _new_account(cloud, "mp-life")
    iam = cloud.client("iam", key=key, secret=secret)
    policy = iam.create_policy(PolicyName="ec2-read", Path="/team/", PolicyDocument=_doc(),
                               Description="read EC2")["Policy"]
    arn = f"arn:aws:iam::{account_id}:policy/team/ec2-read"
    assert policy["Arn"] == arn and policy["DefaultVersionId"] == "v1"
    assert policy["AttachmentCount"] == 0
    with pytest.raises(ClientError) as err:
        iam.create_policy(PolicyName="ec2-read", PolicyDocument=_doc())
    assert error_code(err) == "EntityAlreadyExists"
    for n in range(2, 6):
        version = iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc(f"ec2:Get{n}*"),
                                            SetAsDefault=(n == 3))["PolicyVersion"]
        assert version["VersionId"] == f"v{n}"
    with pytest.raises(ClientError) as err:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc())
    assert error_code(err) == "LimitExceeded"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v3"]
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]
    assert got["Document"]["Statement"][0]["Action"] == "ec2:Get3*"
    with pytest.raises(ClientError) as err:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert error_code(err) == "DeleteConflict"
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    iam.delete_policy_version(PolicyArn=arn, VersionId="v5")
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc())  # room again: v6

    iam.create_user(UserName="ann")
    iam.create_group(GroupName="ops")
    iam.attach_user_policy(UserName="ann", PolicyArn=arn)
    iam.attach_group_policy(GroupName="ops", PolicyArn=arn)
    attached = iam.list_attached_user_policies(UserName="ann")["AttachedPolicies"]
    assert attached == [{"PolicyName": "ec2-read", "PolicyArn": arn}]
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == ["ann"]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == ["ops"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 2
    local = iam.list_policies(Scope="Local")["Policies"]
    assert [p["Arn"] for p in local] == [arn]
    assert [p["Arn"] for p in iam.list_policies(OnlyAttached=True)["Policies"]] == [arn]
    with pytest.raises(ClientError) as err:
        iam.delete_policy(PolicyArn=arn)
    assert error_code(err) == "DeleteConflict"
    with pytest.raises(ClientError) as err:
        iam.delete_user(UserName="ann")
    assert error_code(err) == "DeleteConflict"
    iam.detach_user_policy(UserName="ann", PolicyArn=arn)
    iam.detach_group_policy(GroupName="ops", PolicyArn=arn)
    with pytest.raises(ClientError) as err:
        iam.detach_group_policy(GroupName="ops", PolicyArn=arn)
    assert error_code(err) == "NoSuchEntity"
    with pytest.raises(ClientError) as err:
        iam.delete_policy(PolicyArn=arn)  # still has non-default versions
    assert error_code(err) == "DeleteConflict"
    for v in ("v2", "v3", "v4", "v6"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as err:
        iam.get_policy(PolicyArn=arn)
    assert error_code(err) == "NoSuchEntity"


def test_aws_managed_policies(cloud) -> None:
    """The AWS-managed policies are listed, readable, attachable and read-only."""
    _, key, secret = _new_account(cloud, "mp-aws")
    iam = cloud.client("iam", key=key, secret=secret)
    names = {p["PolicyName"] for p in iam.list_policies(Scope="AWS")["Policies"]}
    assert {"AdministratorAccess", "ReadOnlyAccess", "AmazonEC2FullAccess",
            "AmazonEC2ReadOnlyAccess", "AmazonS3FullAccess", "AmazonS3ReadOnlyAccess",
            "IAMFullAccess"} <= names
    arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    assert "s3:Get*" in document["PolicyVersion"]["Document"]["Statement"][0]["Action"]
    iam.create_user(UserName="reader")
    iam.attach_user_policy(UserName="reader", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    with pytest.raises(ClientError) as err:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc())
    assert error_code(err) == "InvalidInput"
    with pytest.raises(ClientError) as err:
        iam.attach_user_policy(UserName="reader",
                               PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    assert error_code(err) == "NoSuchEntity"
    # Another account's view: nothing attached there.
    _, key2, secret2 = _new_account(cloud, "mp-aws2")
    other = cloud.client("iam", key=key2, secret=secret2)
    assert other.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0


def test_managed_policy_limits_and_validation(cloud) -> None:
    """Policy size 6144, ten attachments per entity, names and documents validated."""
    account_id, key, secret = _new_account(cloud, "mp-limits")
    iam = cloud.client("iam", key=key, secret=secret)
    big = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": f"ec2:Describe{'X' * 90}{n}", "Resource": "*"}
        for n in range(60)]})
    with pytest.raises(ClientError) as err:
        iam.create_policy(PolicyName="big", PolicyDocument=big)
    assert error_code(err) == "LimitExceeded"
    with pytest.raises(ClientError) as err:
        iam.create_policy(PolicyName="bad", PolicyDocument="{nope")
    assert error_code(err) == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as err:
        iam.create_policy(PolicyName="bad name", PolicyDocument=_doc())
    assert error_code(err) == "ValidationError"
    with pytest.raises(ClientError) as err:
        iam.create_policy(PolicyName="p", Path="no-slash", PolicyDocument=_doc())
    assert error_code(err) == "ValidationError"
    iam.create_user(UserName="u")
    for n in range(10):
        iam.create_policy(PolicyName=f"p{n}", PolicyDocument=_doc())
        iam.attach_user_policy(UserName="u", PolicyArn=f"arn:aws:iam::{account_id}:policy/p{n}")
    with pytest.raises(ClientError) as err:
        iam.attach_user_policy(UserName="u",
                               PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    assert error_code(err) == "LimitExceeded"
    with pytest.raises(ClientError) as err:
        iam.get_policy(PolicyArn="arn:aws:iam::123:user/not-a-policy")
    assert error_code(err) == "ValidationError"


def test_group_inline_policies(cloud) -> None:
    """Put/Get/List/DeleteGroupPolicy; a group with policies cannot be deleted."""
    _, key, secret = _new_account(cloud, "gp-inline")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_group(GroupName="devs")
    iam.put_group_policy(GroupName="devs", PolicyName="read", PolicyDocument=_doc())
    assert iam.list_group_policies(GroupName="devs")["PolicyNames"] == ["read"]
    got = iam.get_group_policy(GroupName="devs", PolicyName="read")
    assert got["PolicyDocument"]["Statement"][0]["Action"] == "ec2:Describe*"
    with pytest.raises(ClientError) as err:
        iam.delete_group(GroupName="devs")
    assert error_code(err) == "DeleteConflict"
    with pytest.raises(ClientError) as err:
        iam.get_group_policy(GroupName="devs", PolicyName="nope")
    assert error_code(err) == "NoSuchEntity"
    iam.delete_group_policy(GroupName="devs", PolicyName="read")
    iam.delete_group(GroupName="devs")


def test_rename_users_and_groups(cloud) -> None:
    """UpdateUser and UpdateGroup rename and move; keys and memberships follow."""
    _, key, secret = _new_account(cloud, "renames")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_user(UserName="old")
    iam.create_group(GroupName="g1")
    iam.add_user_to_group(GroupName="g1", UserName="old")
    k = iam.create_access_key(UserName="old")["AccessKey"]
    iam.update_user(UserName="old", NewUserName="new", NewPath="/x/")
    iam.update_group(GroupName="g1", NewGroupName="g2")
    user = iam.get_user(UserName="new")["User"]
    assert user["Path"] == "/x/" and user["Arn"].endswith(":user/x/new")
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="new")["Groups"]] == ["g2"]
    assert [m["AccessKeyId"] for m in iam.list_access_keys(UserName="new")
            ["AccessKeyMetadata"]] == [k["AccessKeyId"]]
    sts = cloud.client("sts", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
    assert sts.get_caller_identity()["Arn"].endswith(":user/new")
    with pytest.raises(ClientError) as err:
        iam.get_user(UserName="old")
    assert error_code(err) == "NoSuchEntity"


def test_policies_persist_across_restart(cloud) -> None:
    """Managed policies, attachments and group policies survive a restart."""
    account_id, key, secret = _new_account(cloud, "mp-persist")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_policy(PolicyName="keep", PolicyDocument=_doc())
    iam.create_group(GroupName="g")
    iam.put_group_policy(GroupName="g", PolicyName="p", PolicyDocument=_doc())
    iam.attach_group_policy(GroupName="g", PolicyArn=f"arn:aws:iam::{account_id}:policy/keep")
    # Every other kind of IAM record too.
    from server.auth.certs import generate_certificate

    trust = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": account_id},
                                       "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName="r", PolicyName="rp", PolicyDocument=_doc())
    iam.create_instance_profile(InstanceProfileName="ip")
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="r")
    iam.create_user(UserName="u")
    iam.create_login_profile(UserName="u", Password="persisted-password")
    iam.tag_user(UserName="u", Tags=[{"Key": "k", "Value": "v"}])
    body, private = generate_certificate("persist")
    iam.upload_server_certificate(ServerCertificateName="sc", CertificateBody=body,
                                  PrivateKey=private)
    iam.upload_signing_certificate(UserName="u", CertificateBody=generate_certificate("s")[0])
    iam.create_account_alias(AccountAlias="mp-persist-alias")
    iam.create_open_id_connect_provider(Url="https://id.example.org", ClientIDList=["a"],
                                        ThumbprintList=["c" * 40])
    cloud.restart()
    iam = cloud.client("iam", key=key, secret=secret)
    assert iam.list_group_policies(GroupName="g")["PolicyNames"] == ["p"]
    attached = iam.list_attached_group_policies(GroupName="g")["AttachedPolicies"]
    assert [a["PolicyName"] for a in attached] == ["keep"]
    assert iam.list_role_policies(RoleName="r")["PolicyNames"] == ["rp"]
    profile = iam.get_instance_profile(InstanceProfileName="ip")["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == ["r"]
    assert iam.get_login_profile(UserName="u")["LoginProfile"]["UserName"] == "u"
    assert iam.list_user_tags(UserName="u")["Tags"] == [{"Key": "k", "Value": "v"}]
    assert iam.get_server_certificate(ServerCertificateName="sc")["ServerCertificate"]
    assert len(iam.list_signing_certificates(UserName="u")["Certificates"]) == 1
    assert iam.list_account_aliases()["AccountAliases"] == ["mp-persist-alias"]
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1


def test_inline_policy_size_limits(cloud) -> None:
    """Inline policies: 2,048 characters per user, 5,120 per group, 10,240 per role."""
    account_id, key, secret = _new_account(cloud, "inline-sizes")
    iam = cloud.client("iam", key=key, secret=secret)

    def sized(n: int) -> str:
        # Whitespace does not count; the document's non-space length is close to n.
        actions = [f"ec2:Describe{'X' * 40}{i}" for i in range(n // 60)]
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": "*"}]})

    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": account_id}, "Action": "sts:AssumeRole"}]}))
    iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=sized(1900))
    iam.put_group_policy(GroupName="g", PolicyName="p", PolicyDocument=sized(4900))
    iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=sized(9900))
    for call in (lambda: iam.put_user_policy(UserName="u", PolicyName="p2",
                                             PolicyDocument=sized(400)),
                 lambda: iam.put_group_policy(GroupName="g", PolicyName="p2",
                                              PolicyDocument=sized(600)),
                 lambda: iam.put_role_policy(RoleName="r", PolicyName="p2",
                                             PolicyDocument=sized(1000))):
        with pytest.raises(ClientError) as err:
            call()
        assert error_code(err) == "LimitExceeded"
