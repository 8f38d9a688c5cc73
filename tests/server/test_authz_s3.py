"""S3 on the one policy engine: users need an Allow, bucket policies grant, and across
accounts both the caller's policies and the bucket's must allow (boto3 clients)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from helpers import error_code, new_account


def s3_client(cloud: Any, key: str, secret: str) -> Any:
    """A path-style boto3 S3 client."""
    import boto3

    return boto3.client("s3", endpoint_url=cloud.url + "/services/objectstorage",
                        region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1},
                                      s3={"addressing_style": "path"}))


def user_with(cloud: Any, iam: Any, name: str, *statements: dict[str, Any]) -> Any:
    """A user (with a policy of ``statements``, if any) and its S3 client."""
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return s3_client(cloud, key["AccessKeyId"], key["SecretAccessKey"])


def denied(call: Any) -> None:
    """Assert S3's AccessDenied (403)."""
    with pytest.raises(ClientError) as err:
        call()
    assert error_code(err) == "AccessDenied"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_users_need_an_allow_and_bucket_policies_grant(cloud) -> None:
    """In the bucket's account: no policy, no access; an identity or bucket policy grants."""
    acct_id, key, secret = new_account(cloud, "s3authz-one")
    iam = cloud.client("iam", key=key, secret=secret)
    owner = s3_client(cloud, key, secret)
    owner.create_bucket(Bucket="s3authz-one-data")
    owner.put_object(Bucket="s3authz-one-data", Key="a.txt", Body=b"a")
    nobody = user_with(cloud, iam, "nobody")
    denied(lambda: nobody.get_object(Bucket="s3authz-one-data", Key="a.txt"))
    denied(lambda: nobody.put_object(Bucket="s3authz-one-data", Key="b.txt", Body=b"b"))
    reader = user_with(cloud, iam, "reader", {
        "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": ["arn:aws:s3:::s3authz-one-data", "arn:aws:s3:::s3authz-one-data/*"]})
    assert reader.get_object(Bucket="s3authz-one-data", Key="a.txt")["Body"].read() == b"a"
    assert [o["Key"] for o in reader.list_objects_v2(Bucket="s3authz-one-data")["Contents"]] \
        == ["a.txt"]
    denied(lambda: reader.put_object(Bucket="s3authz-one-data", Key="b.txt", Body=b"b"))
    # A bucket policy granting the account delegates to it: its users still need an Allow.
    owner.put_bucket_policy(Bucket="s3authz-one-data", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct_id}:root"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::s3authz-one-data/*"}]}))
    denied(lambda: nobody.get_object(Bucket="s3authz-one-data", Key="a.txt"))
    # A bucket policy naming the user grants it in the same account.
    owner.put_bucket_policy(Bucket="s3authz-one-data", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct_id}:user/nobody"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::s3authz-one-data/*"}]}))
    assert nobody.get_object(Bucket="s3authz-one-data", Key="a.txt")["Body"].read() == b"a"


def test_cross_account_needs_both_sides(cloud) -> None:
    """Another account's user needs its own Allow and the bucket policy's."""
    _, key, secret = new_account(cloud, "s3authz-owner")
    other_id, okey, osecret = new_account(cloud, "s3authz-guest")
    owner = s3_client(cloud, key, secret)
    owner.create_bucket(Bucket="s3authz-shared")
    owner.put_object(Bucket="s3authz-shared", Key="doc", Body=b"shared")
    guest_iam = cloud.client("iam", key=okey, secret=osecret)
    guest_admin = s3_client(cloud, okey, osecret)
    allowed = user_with(cloud, guest_iam, "allowed", {
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::s3authz-shared/*"})
    plain = user_with(cloud, guest_iam, "plain")
    denied(lambda: guest_admin.get_object(Bucket="s3authz-shared", Key="doc"))
    denied(lambda: allowed.get_object(Bucket="s3authz-shared", Key="doc"))
    owner.put_bucket_policy(Bucket="s3authz-shared", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": other_id}, "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::s3authz-shared/*"}]}))
    assert guest_admin.get_object(Bucket="s3authz-shared", Key="doc")["Body"].read() == b"shared"
    assert allowed.get_object(Bucket="s3authz-shared", Key="doc")["Body"].read() == b"shared"
    denied(lambda: plain.get_object(Bucket="s3authz-shared", Key="doc"))
    # An explicit Deny on the guest's side wins over the bucket's Allow.
    guest_iam.put_user_policy(UserName="allowed", PolicyName="deny", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*",
                                                  "Resource": "*"}]}))
    denied(lambda: allowed.get_object(Bucket="s3authz-shared", Key="doc"))


def test_create_and_list_buckets_need_an_allow_and_count_against_quotas(cloud) -> None:
    """CreateBucket and ListBuckets are the caller's policies' to grant; an account's
    s3:quota-bucketnumber caps its buckets and the refusal names the quota."""
    from test_authz_quotas import _doc, limit, put_account_policy

    _, key, secret = new_account(cloud, "s3authz-quota")
    iam = cloud.client("iam", key=key, secret=secret)
    nobody = user_with(cloud, iam, "nobody")
    denied(lambda: nobody.create_bucket(Bucket="s3authz-nobody"))
    denied(nobody.list_buckets)
    maker = user_with(cloud, iam, "maker", {
        "Effect": "Allow", "Action": ["s3:CreateBucket", "s3:ListAllMyBuckets"],
        "Resource": "*"})
    put_account_policy(cloud, "s3authz-quota", "buckets",
                       _doc(limit("s3:CreateBucket", "s3:quota-bucketnumber", 2)))
    maker.create_bucket(Bucket="s3authz-q1")
    s3_client(cloud, key, secret).create_bucket(Bucket="s3authz-q2")
    with pytest.raises(ClientError) as err:
        maker.create_bucket(Bucket="s3authz-q3")
    assert error_code(err) == "TooManyBuckets"
    assert "s3:quota-bucketnumber" in err.value.response["Error"]["Message"]
    assert {b["Name"] for b in maker.list_buckets()["Buckets"]} == {"s3authz-q1",
                                                                     "s3authz-q2"}


def test_register_image_needs_the_callers_own_read_of_the_manifest(cloud) -> None:
    """RegisterImage reads the bundle manifest as the caller: a user allowed
    ec2:RegisterImage but not s3:GetObject on the manifest gets InvalidManifest (AWS's
    answer for a manifest it may not read); given the read, it registers."""
    from helpers import put_manifest

    _, key, secret = new_account(cloud, "s3authz-register")
    iam = cloud.client("iam", key=key, secret=secret)
    location = put_manifest(cloud, "s3authz-register/img.manifest.xml", key=key, secret=secret)
    register = {"Effect": "Allow", "Action": "ec2:RegisterImage", "Resource": "*"}
    for name, statements in (("noread", [register]), ("reader", [register, {
            "Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::s3authz-register/*"}])):
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))
    creds = {name: iam.create_access_key(UserName=name)["AccessKey"]
             for name in ("noread", "reader")}

    def ec2(name: str) -> Any:
        return cloud.client("ec2", key=creds[name]["AccessKeyId"],
                            secret=creds[name]["SecretAccessKey"])

    with pytest.raises(ClientError) as err:
        ec2("noread").register_image(Name="img-noread", ImageLocation=location)
    assert error_code(err) == "InvalidManifest"
    assert "AccessDenied" in err.value.response["Error"]["Message"]
    image = ec2("reader").register_image(Name="img-reader", ImageLocation=location)["ImageId"]
    assert image.startswith("emi-")
    # The account's admin needs no policy.
    admin = cloud.client("ec2", key=key, secret=secret)
    assert admin.register_image(Name="img-admin", ImageLocation=location)["ImageId"]
