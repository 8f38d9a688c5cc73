"""Buckets through boto3: naming, ownership, quota, ACLs, policy, versioning, tagging, CORS."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests
from botocore import UNSIGNED
from botocore.exceptions import ClientError
from conftest import empty_bucket, make_s3
from test_objects import code, status


def test_create_list_head_delete(s3: Any) -> None:
    name = "b-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket=name)
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=name)
    assert code(exc) == "BucketAlreadyOwnedByYou" and status(exc) == 409
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=name)
    assert code(exc) == "BucketNotEmpty" and status(exc) == 409
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=name)
    assert status(exc) == 404
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=name)
    assert code(exc) == "NoSuchBucket"


def test_location_constraint(s3cloud: Any) -> None:
    s3 = make_s3(s3cloud)
    name = "loc-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "localhost"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "localhost"
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "mars-1"})
    assert code(exc) == "InvalidLocationConstraint"


@pytest.mark.parametrize("name", ["ab", "a" * 64, "UPPER", "under_score", "-dash", "dash-",
                                  "dou..ble", "192.168.1.1", "bad.-name"])
def test_invalid_names(s3: Any, name: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3._make_api_call("CreateBucket", {"Bucket": name})  # skip client-side validation
    assert code(exc) == "InvalidBucketName"


def test_other_account(s3cloud: Any, s3: Any, other: dict[str, str], bucket: str) -> None:
    o3 = make_s3(s3cloud, other["key"], other["secret"])
    with pytest.raises(ClientError) as exc:
        o3.create_bucket(Bucket=bucket)
    assert code(exc) == "BucketAlreadyExists"
    assert bucket not in [b["Name"] for b in o3.list_buckets()["Buckets"]]
    s3.put_object(Bucket=bucket, Key="private", Body=b"p")
    for call in (lambda: o3.get_object(Bucket=bucket, Key="private"),
                 lambda: o3.list_objects(Bucket=bucket),
                 lambda: o3.put_object(Bucket=bucket, Key="x", Body=b"x"),
                 lambda: o3.delete_bucket(Bucket=bucket)):
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == "AccessDenied" and status(exc) == 403
    # Grant by canonical ID: the other account may now list and write.
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    other_id = o3.list_buckets()["Owner"]["ID"]
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "CanonicalUser", "ID": other_id}, "Permission": "READ"},
        {"Grantee": {"Type": "CanonicalUser", "ID": other_id}, "Permission": "WRITE"}]})
    o3.list_objects(Bucket=bucket)
    o3.put_object(Bucket=bucket, Key="from-other", Body=b"o")
    with pytest.raises(ClientError):
        o3.get_object(Bucket=bucket, Key="private")  # object ACL still private
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert {g["Permission"] for g in acl["Grants"]} == {"FULL_CONTROL", "READ", "WRITE"}


def test_public_read_and_anonymous(s3cloud: Any, s3: Any, bucket: str) -> None:
    anon = make_s3(s3cloud, signature_version=UNSIGNED)
    s3.put_object(Bucket=bucket, Key="pub", Body=b"public", ACL="public-read")
    assert anon.get_object(Bucket=bucket, Key="pub")["Body"].read() == b"public"
    url = f"{s3cloud.url}/{bucket}/pub"  # root path, unsigned: S3 is the default service
    assert requests.get(url, timeout=10).content == b"public"
    with pytest.raises(ClientError) as exc:
        anon.list_objects(Bucket=bucket)
    assert code(exc) == "AccessDenied"
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert [o["Key"] for o in anon.list_objects(Bucket=bucket)["Contents"]] == ["pub"]
    with pytest.raises(ClientError) as exc:
        anon.list_buckets()
    assert code(exc) == "AccessDenied"


def test_policy(s3cloud: Any, s3: Any, other: dict[str, str], bucket: str) -> None:
    o3 = make_s3(s3cloud, other["key"], other["secret"])
    s3.put_object(Bucket=bucket, Key="shared/a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="secret/b", Body=b"b")
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_policy(Bucket=bucket)
    assert code(exc) == "NoSuchBucketPolicy"
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": [other["account"]]}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/shared/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == doc
    assert o3.get_object(Bucket=bucket, Key="shared/a")["Body"].read() == b"a"
    with pytest.raises(ClientError):
        o3.get_object(Bucket=bucket, Key="secret/b")
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=bucket, Key="shared/a")  # explicit deny beats ownership
    assert code(exc) == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket=bucket, Policy="{not json")
    assert code(exc) == "MalformedPolicy"
    s3.delete_bucket_policy(Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="shared/a")


def test_versioning(s3: Any, bucket: str) -> None:
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=bucket, Key="v", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="v", Body=b"two")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket=bucket, Key="v")["Body"].read() == b"two"
    assert s3.get_object(Bucket=bucket, Key="v", VersionId=v1)["Body"].read() == b"one"
    marker = s3.delete_object(Bucket=bucket, Key="v")
    assert marker["DeleteMarker"] is True
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="v")
    assert code(exc) == "NoSuchKey"
    versions = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in versions["Versions"]] == [v2, v1]
    assert versions["DeleteMarkers"][0]["IsLatest"] is True
    s3.delete_object(Bucket=bucket, Key="v", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket=bucket, Key="v")["Body"].read() == b"two"
    s3.delete_object(Bucket=bucket, Key="v", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="v")["Body"].read() == b"one"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=bucket, Key="v", Body=b"null1")
    s3.put_object(Bucket=bucket, Key="v", Body=b"null2")
    ids = [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]]
    assert ids == ["null", v1]
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="v", VersionId="0" * 32)
    assert code(exc) == "NoSuchVersion"


def test_bucket_tagging(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_tagging(Bucket=bucket)
    assert code(exc) == "NoSuchTagSet"
    tags = [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "walrus"}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tags
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_tagging(Bucket=bucket)


def test_cors(s3cloud: Any, s3: Any, bucket: str) -> None:
    url = f"{s3cloud.url}/services/objectstorage/{bucket}/x"
    pre = {"Origin": "http://example.com", "Access-Control-Request-Method": "PUT"}
    assert requests.options(url, headers=pre, timeout=10).status_code == 403
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["http://*.com"], "AllowedMethods": ["GET", "PUT"],
         "AllowedHeaders": ["*"], "MaxAgeSeconds": 300, "ExposeHeaders": ["ETag"]}]})
    rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rules[0]["AllowedMethods"] == ["GET", "PUT"] and rules[0]["MaxAgeSeconds"] == 300
    r = requests.options(url, headers=pre | {"Access-Control-Request-Headers": "x-amz-foo"},
                         timeout=10)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "http://example.com"
    assert r.headers["Access-Control-Max-Age"] == "300"
    r = requests.options(url, headers={"Origin": "http://example.org",
                                       "Access-Control-Request-Method": "GET"}, timeout=10)
    assert r.status_code == 403
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_cors(Bucket=bucket)
    assert code(exc) == "NoSuchCORSConfiguration"


def test_lifecycle(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert code(exc) == "NoSuchLifecycleConfiguration"
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
         "Expiration": {"Days": 1}}]})
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules[0]["ID"] == "tmp" and rules[0]["Expiration"]["Days"] == 1
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "old", "Filter": {"Prefix": ""}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}]})
    rule = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 7
    assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 2
    s3.delete_bucket_lifecycle(Bucket=bucket)


def test_quota(s3cloud: Any) -> None:
    from conftest import _create_account

    acct = _create_account(s3cloud, "quota-" + uuid.uuid4().hex[:6])
    q3 = make_s3(s3cloud, acct["key"], acct["secret"])
    names = [f"q{i}-{acct['account']}" for i in range(100)]
    for name in names:
        q3.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as exc:
        q3.create_bucket(Bucket="one-too-many-" + acct["account"])
    assert code(exc) == "TooManyBuckets"
    for name in names:
        empty_bucket(q3, name)


def test_list_buckets_paging(s3cloud: Any) -> None:
    from conftest import _create_account

    acct = _create_account(s3cloud, "pager-" + uuid.uuid4().hex[:6])
    p3 = make_s3(s3cloud, acct["key"], acct["secret"])
    names = [f"page-{i}-{acct['account']}" for i in range(5)]
    for name in names:
        p3.create_bucket(Bucket=name)
    seen = []
    for page in p3.get_paginator("list_buckets").paginate(PaginationConfig={"PageSize": 2}):
        seen += [b["Name"] for b in page["Buckets"]]
    assert seen == sorted(names)
    assert len(p3.list_buckets(Prefix="page-1")["Buckets"]) == 1
    for name in names:
        p3.delete_bucket(Bucket=name)


def test_unconfigured_bucket_settings(s3: Any, bucket: str) -> None:
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    for call, error in ((s3.get_bucket_encryption, "ServerSideEncryptionConfigurationNotFoundError"),
                        (s3.get_bucket_website, "NoSuchWebsiteConfiguration"),
                        (s3.get_public_access_block, "NoSuchPublicAccessBlockConfiguration")):
        with pytest.raises(ClientError) as exc:
            call(Bucket=bucket)
        assert code(exc) == error
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})  # disabling: a no-op here
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)


def test_policy_conditions(s3cloud: Any, s3: Any, other: dict[str, str], bucket: str) -> None:
    o3 = make_s3(s3cloud, other["key"], other["secret"])
    s3.put_object(Bucket=bucket, Key="home/a", Body=b"a")
    doc = {"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": other["account"]}, "Action": "s3:ListBucket",
         "Resource": f"arn:aws:s3:::{bucket}", "Condition": {"StringLike": {"s3:prefix": "home/*"}}},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    assert [o["Key"] for o in o3.list_objects_v2(Bucket=bucket, Prefix="home/")["Contents"]] \
        == ["home/a"]
    with pytest.raises(ClientError):
        o3.list_objects_v2(Bucket=bucket)
    with pytest.raises(ClientError):
        o3.put_object(Bucket=bucket, Key="in", Body=b"x")
    o3.put_object(Bucket=bucket, Key="in", Body=b"x", ACL="bucket-owner-full-control")
    assert s3.get_object(Bucket=bucket, Key="in")["Body"].read() == b"x"
