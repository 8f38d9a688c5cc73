"""S3 Object Ownership: BucketOwnerEnforced disables ACLs, BucketOwnerPreferred hands
objects written with ``bucket-owner-full-control`` to the bucket owner, ObjectWriter (and
no setting) keeps the writer as owner."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from conftest import empty_bucket, make_s3
from test_objects import code, status


def _rules(setting: str) -> dict[str, Any]:
    return {"Rules": [{"ObjectOwnership": setting}]}


@pytest.fixture
def enforced(s3: Any) -> Iterator[str]:
    """A fresh bucket created with ACLs disabled (BucketOwnerEnforced)."""
    name = "own-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerEnforced")
    yield name
    empty_bucket(s3, name)


@pytest.fixture
def alt(s3cloud: Any, other: dict[str, str]) -> Any:
    """The second account's S3 client."""
    return make_s3(s3cloud, other["key"], other["secret"])


def _owner_id(s3: Any, bucket: str) -> str:
    return str(s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"])


def _grant_to(s3: Any, bucket: str, account: str, actions: list[str]) -> None:
    """A bucket policy letting ``account`` do ``actions`` on the bucket's objects."""
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": account},
                       "Action": actions, "Resource": f"arn:aws:s3:::{bucket}/*"}]}))


def test_create_bucket_with_ownership_header(s3: Any) -> None:
    name = "own-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred")
    try:
        rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
        assert rules == [{"ObjectOwnership": "BucketOwnerPreferred"}]
    finally:
        s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=name, ObjectOwnership="Nobody")
    assert code(exc) == "InvalidArgument" and status(exc) == 400
    # ACLs cannot be given to a bucket created with ACLs disabled; private is fine.
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerEnforced", ACL="public-read")
    assert code(exc) == "InvalidBucketAclWithObjectOwnership" and status(exc) == 400
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=name)
    assert status(exc) == 404
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerEnforced", ACL="private")
    s3.delete_bucket(Bucket=name)


def test_default_bucket_keeps_acls(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert code(exc) == "OwnershipControlsNotFoundError"
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
    grants = s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in grants)


def test_enforced_refuses_acl_writes(s3: Any, enforced: str) -> None:
    def refused(call: Any, **kw: Any) -> None:
        with pytest.raises(ClientError) as exc:
            call(Bucket=enforced, **kw)
        assert code(exc) == "AccessControlListNotSupported" and status(exc) == 400
        assert exc.value.response["Error"]["Message"] == "The bucket does not allow ACLs"

    refused(s3.put_bucket_acl, ACL="public-read")
    refused(s3.put_bucket_acl, ACL="private")
    refused(s3.put_object, Key="a", Body=b"x", ACL="public-read")
    refused(s3.put_object, Key="a", Body=b"x", GrantRead='uri="http://acs.amazonaws.com/'
                                                          'groups/global/AllUsers"')
    # No ACL, or the bucket-owner-full-control one, is accepted.
    s3.put_object(Bucket=enforced, Key="a", Body=b"x")
    s3.put_object(Bucket=enforced, Key="b", Body=b"x", ACL="bucket-owner-full-control")
    refused(s3.put_object_acl, Key="a", ACL="private")
    refused(s3.copy_object, Key="c", CopySource={"Bucket": enforced, "Key": "a"},
            ACL="authenticated-read")
    refused(s3.create_multipart_upload, Key="m", ACL="public-read-write")
    assert "Contents" in s3.list_objects_v2(Bucket=enforced)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=enforced)["Contents"]] == ["a", "b"]


def test_enforced_post_with_acl_field(s3: Any, enforced: str) -> None:
    post = s3.generate_presigned_post(enforced, "form", Fields={"acl": "public-read"},
                                      Conditions=[{"acl": "public-read"}], ExpiresIn=60)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"x")},
                      timeout=10)
    assert r.status_code == 400 and "AccessControlListNotSupported" in r.text


def test_enforced_reads_show_bucket_owner(s3: Any, alt: Any, other: dict[str, str],
                                          enforced: str) -> None:
    owner = _owner_id(s3, enforced)
    acl = s3.get_bucket_acl(Bucket=enforced)
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in acl["Grants"]] == \
        [(owner, "FULL_CONTROL")]
    # Another account allowed by policy writes; the bucket owner owns what it wrote.
    _grant_to(s3, enforced, other["account"], ["s3:PutObject", "s3:GetObject"])
    alt.put_object(Bucket=enforced, Key="from-alt", Body=b"alt")
    listed = s3.list_objects_v2(Bucket=enforced, FetchOwner=True)["Contents"]
    assert [o["Owner"]["ID"] for o in listed] == [owner]
    got = s3.get_object_acl(Bucket=enforced, Key="from-alt")
    assert got["Owner"]["ID"] == owner
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in got["Grants"]] == \
        [(owner, "FULL_CONTROL")]
    assert s3.get_object(Bucket=enforced, Key="from-alt")["Body"].read() == b"alt"
    assert alt.get_object(Bucket=enforced, Key="from-alt")["Body"].read() == b"alt"
    # The writer's account has what the policy grants and nothing more.
    with pytest.raises(ClientError) as exc:
        alt.get_object_acl(Bucket=enforced, Key="from-alt")
    assert status(exc) == 403


def test_switching_to_enforced_ignores_object_acls(s3cloud: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="pub", Body=b"p", ACL="public-read")
    url = f"{s3cloud.url}/services/objectstorage/{bucket}/pub"
    assert requests.get(url, timeout=10).status_code == 200
    s3.put_bucket_ownership_controls(Bucket=bucket,
                                     OwnershipControls=_rules("BucketOwnerEnforced"))
    # The public grant no longer counts; reads of the ACL show the owner only.
    assert requests.get(url, timeout=10).status_code == 403
    grants = s3.get_object_acl(Bucket=bucket, Key="pub")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    # Re-enabling ACLs brings the stored grants back.
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=_rules("ObjectWriter"))
    assert requests.get(url, timeout=10).status_code == 200


def test_switching_to_enforced_needs_private_bucket_acl(s3: Any, bucket: str) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_ownership_controls(Bucket=bucket,
                                         OwnershipControls=_rules("BucketOwnerEnforced"))
    assert code(exc) == "InvalidBucketAclWithObjectOwnership" and status(exc) == 400
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert code(exc) == "OwnershipControlsNotFoundError"
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=bucket,
                                     OwnershipControls=_rules("BucketOwnerEnforced"))


def test_enforced_ignores_bucket_acl_grants(s3: Any, alt: Any, other: dict[str, str],
                                            bucket: str) -> None:
    s3.put_bucket_acl(Bucket=bucket, GrantWrite=f"id={other['account']}",
                      GrantFullControl=f"id={_owner_id(s3, bucket)}")
    alt.put_object(Bucket=bucket, Key="before", Body=b"x")
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=bucket,
                                     OwnershipControls=_rules("BucketOwnerEnforced"))
    # The bucket owner now has full access to the object the other account wrote.
    assert s3.get_object(Bucket=bucket, Key="before")["Body"].read() == b"x"
    assert s3.get_object_acl(Bucket=bucket, Key="before")["Owner"]["ID"] == \
        _owner_id(s3, bucket)
    with pytest.raises(ClientError) as exc:
        alt.get_object(Bucket=bucket, Key="before")
    assert status(exc) == 403


def test_bucket_owner_preferred(s3: Any, alt: Any, other: dict[str, str], bucket: str) -> None:
    owner = _owner_id(s3, bucket)
    s3.put_bucket_ownership_controls(Bucket=bucket,
                                     OwnershipControls=_rules("BucketOwnerPreferred"))
    # ACLs still work under BucketOwnerPreferred.
    s3.put_bucket_acl(Bucket=bucket, GrantWrite=f"id={other['account']}",
                      GrantFullControl=f"id={owner}")
    alt.put_object(Bucket=bucket, Key="handed", Body=b"x", ACL="bucket-owner-full-control")
    alt.put_object(Bucket=bucket, Key="kept", Body=b"y")
    listed = {o["Key"]: o["Owner"]["ID"]
              for o in s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"]}
    assert listed["handed"] == owner and listed["kept"] != owner
    got = s3.get_object_acl(Bucket=bucket, Key="handed")
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in got["Grants"]] == \
        [(owner, "FULL_CONTROL")]
    with pytest.raises(ClientError) as exc:
        s3.get_object_acl(Bucket=bucket, Key="kept")
    assert status(exc) == 403


def test_object_writer_keeps_writer(s3: Any, alt: Any, other: dict[str, str],
                                    bucket: str) -> None:
    owner = _owner_id(s3, bucket)
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=_rules("ObjectWriter"))
    s3.put_bucket_acl(Bucket=bucket, GrantWrite=f"id={other['account']}",
                      GrantFullControl=f"id={owner}")
    alt.put_object(Bucket=bucket, Key="w", Body=b"x", ACL="bucket-owner-full-control")
    got = s3.get_object_acl(Bucket=bucket, Key="w")
    assert got["Owner"]["ID"] != owner
    assert {g["Grantee"]["ID"] for g in got["Grants"]} == {owner, got["Owner"]["ID"]}


def test_recreating_enforced_bucket_keeps_acls_disabled(s3: Any, enforced: str) -> None:
    # Re-creating your own bucket may reset its ACL (us-east-1's legacy rule), but not to
    # a non-private one while ACLs are disabled.
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=enforced, ACL="public-read")
    assert code(exc) in ("InvalidBucketAclWithObjectOwnership", "BucketAlreadyOwnedByYou")
    assert [g["Permission"] for g in s3.get_bucket_acl(Bucket=enforced)["Grants"]] == \
        ["FULL_CONTROL"]
    s3.put_bucket_ownership_controls(Bucket=enforced, OwnershipControls=_rules("ObjectWriter"))
    assert [g["Permission"] for g in s3.get_bucket_acl(Bucket=enforced)["Grants"]] == \
        ["FULL_CONTROL"]
