"""ACL rendering and semantics, bucket re-creation, Block Public Access and the bucket
policy status, checked against S3's documented behaviour."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError
from cloudproc import CloudProcess, cleanup, new_cloud
from conftest import empty_bucket, make_s3

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def err(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    """HTTP status and S3 error code of a ClientError."""
    resp = exc.value.response
    return resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"]["Code"]


@pytest.fixture
def o3(s3cloud: Any, other: dict[str, str]) -> Any:
    """The second account's client."""
    return make_s3(s3cloud, other["key"], other["secret"])


@pytest.fixture
def anon(s3cloud: Any) -> Any:
    """An unsigned (anonymous) client."""
    return make_s3(s3cloud, signature_version=UNSIGNED)


def _owner(s3: Any) -> dict[str, str]:
    return dict(s3.list_buckets()["Owner"])


# -- grant rendering ------------------------------------------------------------------------

def test_canned_grants_groups_first_without_names(s3: Any, bucket: str) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    owner = _owner(s3)
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    # Group grants (which carry only a URI) first, then the owner's FULL_CONTROL: the order
    # the public conformance suite reads (an ACL is a set to S3 clients).
    assert grants == [
        {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"},
        {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "WRITE"},
        {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"],
                     "DisplayName": owner["DisplayName"]}, "Permission": "FULL_CONTROL"},
    ]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="authenticated-read")
    grants = s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
    assert [g["Grantee"].get("URI") for g in grants] == [AUTH_USERS, None]
    assert "DisplayName" not in grants[0]["Grantee"] and "ID" not in grants[0]["Grantee"]


@pytest.mark.parametrize("canned,permission", [("bucket-owner-read", "READ"),
                                               ("bucket-owner-full-control", "FULL_CONTROL")])
def test_bucket_owner_canned_acls(s3: Any, o3: Any, bucket: str, canned: str,
                                  permission: str) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    o3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL=canned)
    grants = o3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
    writer, owner = _owner(o3), _owner(s3)
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in grants] == [
        (writer["ID"], "FULL_CONTROL"), (owner["ID"], permission)]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_owner_without_grants_keeps_only_acl_access(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    acl = s3.get_bucket_acl(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": acl["Owner"], "Grants": []})
    assert s3.get_bucket_acl(Bucket=bucket)["Grants"] == []
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="new", Body=b"y")
    assert err(exc) == (403, "AccessDenied")
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket=bucket)
    assert err(exc) == (403, "AccessDenied")
    # The object's own ACL still names the owner; the bucket ACL stays the owner's to change.
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_object(Bucket=bucket, Key="new", Body=b"y")


def test_grant_by_unknown_email_is_unresolvable(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_acl(Bucket=bucket, GrantRead="emailAddress=nobody-here@example.invalid")
    assert err(exc) == (400, "UnresolvableGrantByEmailAddress")


# -- bucket (re)creation and listing --------------------------------------------------------

def test_recreate_outside_us_east_1(s3: Any, o3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=bucket)
    assert err(exc) == (409, "BucketAlreadyOwnedByYou")
    with pytest.raises(ClientError) as exc:
        o3.create_bucket(Bucket=bucket)
    assert err(exc) == (409, "BucketAlreadyExists")


@pytest.fixture(scope="module")
def east() -> Iterator[CloudProcess]:
    """A cloud whose region is us-east-1."""
    c = new_cloud()
    c.config_text = '[cloud]\nregion = "us-east-1"\n'
    c.start()
    yield c
    cleanup(c)


def test_recreate_in_us_east_1_succeeds_and_resets_acl(east: CloudProcess) -> None:
    s3 = make_s3(east)
    name = "east-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name, ACL="public-read")
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    s3.create_bucket(Bucket=name)  # legacy rule: 200 OK
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["k"]
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    assert len(s3.get_bucket_acl(Bucket=name)["Grants"]) == 1  # reset to private
    s3.create_bucket(Bucket=name, ACL="public-read")
    assert len(s3.get_bucket_acl(Bucket=name)["Grants"]) == 2
    empty_bucket(s3, name)


def test_anonymous_list_buckets_denied(anon: Any) -> None:
    with pytest.raises(ClientError) as exc:
        anon.list_buckets()
    assert err(exc) == (403, "AccessDenied")


def test_suspend_never_versioned_bucket(s3: Any, bucket: str) -> None:
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


# -- Block Public Access --------------------------------------------------------------------

def _block(s3: Any, bucket: str, **flags: bool) -> None:
    conf = {f: flags.get(f, False) for f in ("BlockPublicAcls", "IgnorePublicAcls",
                                             "BlockPublicPolicy", "RestrictPublicBuckets")}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=conf)


def test_public_access_block_round_trip(s3: Any, o3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_public_access_block(Bucket=bucket)
    assert err(exc) == (404, "NoSuchPublicAccessBlockConfiguration")
    _block(s3, bucket, BlockPublicAcls=True, BlockPublicPolicy=True)
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": False}
    with pytest.raises(ClientError) as exc:
        o3.get_public_access_block(Bucket=bucket)
    assert err(exc) == (403, "AccessDenied")
    with pytest.raises(ClientError) as exc:
        o3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={})
    assert err(exc)[0] == 403
    s3.delete_public_access_block(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.get_public_access_block(Bucket=bucket)
    assert err(exc) == (404, "NoSuchPublicAccessBlockConfiguration")


def test_public_access_block_malformed(s3: Any, bucket: str) -> None:
    def bad_body(request: Any, **_: Any) -> None:
        request.data = (b'<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/'
                        b'2006-03-01/"><BlockPublicAcls>maybe</BlockPublicAcls>'
                        b"</PublicAccessBlockConfiguration>")
        for name in list(request.headers.keys()):
            if name.lower() == "content-md5" or name.lower().startswith("x-amz-checksum"):
                del request.headers[name]

    s3.meta.events.register("before-sign.s3.PutPublicAccessBlock", bad_body)
    try:
        with pytest.raises(ClientError) as exc:
            _block(s3, bucket)
        assert err(exc) == (400, "MalformedXML")
    finally:
        s3.meta.events.unregister("before-sign.s3.PutPublicAccessBlock", bad_body)


def test_block_public_acls(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    _block(s3, bucket, BlockPublicAcls=True)
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    public_policy = {"Owner": owner, "Grants": [
        {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]}
    refused = [
        lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read"),
        lambda: s3.put_bucket_acl(Bucket=bucket, ACL="authenticated-read"),
        lambda: s3.put_bucket_acl(Bucket=bucket, GrantRead=f"uri={ALL_USERS}"),
        lambda: s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy=public_policy),
        lambda: s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read-write"),
        lambda: s3.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy=public_policy),
        lambda: s3.put_object(Bucket=bucket, Key="p", Body=b"", ACL="public-read"),
        lambda: s3.put_object(Bucket=bucket, Key="p", Body=b"", GrantRead=f"uri={AUTH_USERS}"),
        lambda: s3.copy_object(Bucket=bucket, Key="p", CopySource={"Bucket": bucket, "Key": "k"},
                               ACL="public-read"),
        lambda: s3.create_multipart_upload(Bucket=bucket, Key="p", ACL="public-read"),
    ]
    for call in refused:
        with pytest.raises(ClientError) as exc:
            call()
        assert err(exc) == (403, "AccessDenied")
    # Private ACLs still go through.
    s3.put_object(Bucket=bucket, Key="p", Body=b"", ACL="private")
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="bucket-owner-full-control")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k", "p"]


def test_ignore_public_acls(s3: Any, o3: Any, anon: Any, bucket: str) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
    o3.list_objects_v2(Bucket=bucket)
    assert anon.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    _block(s3, bucket, IgnorePublicAcls=True)
    for call in (lambda: o3.list_objects_v2(Bucket=bucket),
                 lambda: o3.get_object(Bucket=bucket, Key="k"),
                 lambda: anon.get_object(Bucket=bucket, Key="k")):
        with pytest.raises(ClientError) as exc:
            call()
        assert err(exc)[0] == 403
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    # The owner keeps its own grants; deleting the block restores public access.
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    s3.delete_public_access_block(Bucket=bucket)
    assert anon.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def _policy(bucket: str, principal: Any = "*", effect: str = "Allow",
            condition: dict[str, Any] | None = None, key: str = "Principal") -> str:
    st: dict[str, Any] = {"Effect": effect, key: principal, "Action": "s3:GetObject",
                          "Resource": f"arn:aws:s3:::{bucket}/*"}
    if condition:
        st["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def test_block_public_policy(s3: Any, other: dict[str, str], bucket: str) -> None:
    _block(s3, bucket, BlockPublicPolicy=True)
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket))
    assert err(exc) == (403, "AccessDenied")
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
            bucket, {"AWS": f"arn:aws:iam::{other['account']}:root"}, key="NotPrincipal"))
    assert err(exc) == (403, "AccessDenied")
    # Policies naming an account, or pinned to an address range, are not public.
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, {"AWS": f"arn:aws:iam::{other['account']}:root"}))
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, condition={"IpAddress": {"aws:SourceIp": "10.1.0.0/16"}}))
    s3.delete_bucket_policy(Bucket=bucket)


def test_restrict_public_buckets(s3: Any, o3: Any, anon: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket))
    assert o3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    assert anon.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    _block(s3, bucket, RestrictPublicBuckets=True)
    for client in (o3, anon):
        with pytest.raises(ClientError) as exc:
            client.get_object(Bucket=bucket, Key="k")
        assert err(exc)[0] == 403
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    s3.delete_bucket_policy(Bucket=bucket)


@pytest.mark.parametrize("acl,policy_args,public", [
    ("private", None, False),
    ("public-read", None, True),
    ("authenticated-read", None, True),
    ("log-delivery-write", None, False),
    ("private", {}, True),
    ("private", {"principal": {"AWS": ["*"]}}, True),
    ("private", {"effect": "Deny"}, False),
    ("private", {"condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/32"}}}, False),
    ("private", {"condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}, True),
    ("private", {"condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}, True),
    ("private", {"condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}, False),
    ("private", {"condition": {"StringLike": {"aws:SourceArn": "arn:aws:*"}}}, True),
    ("private", {"principal": {"AWS": "arn:aws:iam::123456789012:root"},
                 "key": "NotPrincipal"}, True),
])
def test_policy_status(s3: Any, bucket: str, acl: str, policy_args: dict[str, Any] | None,
                       public: bool) -> None:
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.put_bucket_acl(Bucket=bucket, ACL=acl)
    if policy_args is not None:
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, **policy_args))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is public
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    if policy_args is not None:
        s3.delete_bucket_policy(Bucket=bucket)


def test_policy_status_needs_owner(o3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        o3.get_bucket_policy_status(Bucket=bucket)
    assert err(exc) == (403, "AccessDenied")
