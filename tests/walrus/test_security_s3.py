"""Malformed S3 documents get S3's errors, never a 500 or a silently emptied setting.

A bucket policy nested thousands deep is MalformedPolicy; an ACL document that is not an
AccessControlPolicy is MalformedACLError (it used to empty the ACL and lock the owner
out); a Tagging document without a TagSet is MalformedXML.  A client that hangs up in
the middle of an upload is not logged as an internal error.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError


def _put(s3cloud: Any, bucket: str, query: str, body: bytes,
         content_type: str = "application/xml") -> requests.Response:
    """A signed PUT of a raw document (boto3 would refuse to build the bad ones)."""
    creds = s3cloud.credentials()
    url = f"{s3cloud.url}/services/objectstorage/{bucket}?{query}"
    req = AWSRequest("PUT", url, data=body, headers={"Content-Type": content_type})
    S3SigV4Auth(Credentials(creds["key"], creds["secret"]), "s3", "us-east-1").add_auth(req)
    return requests.put(url, data=body, headers=dict(req.headers), timeout=10)


@pytest.mark.parametrize("document", [b"[" * 5000, b"{" + b'"a":{' * 3000 + b"}" * 3001],
                         ids=["brackets", "braces"])
def test_deeply_nested_bucket_policy(s3cloud: Any, s3: Any, bucket: str,
                                     document: bytes) -> None:
    """A policy nested far too deep is MalformedPolicy, 400."""
    resp = _put(s3cloud, bucket, "policy", document, "application/json")
    assert resp.status_code == 400, resp.text
    assert "<Code>MalformedPolicy</Code>" in resp.text
    with pytest.raises(ClientError) as err:
        s3.put_bucket_policy(Bucket=bucket, Policy=document.decode())
    assert err.value.response["Error"]["Code"] == "MalformedPolicy"


@pytest.mark.parametrize("document", [
    b"<Foo/>",
    b"<Foo><AccessControlList/></Foo>",
    b'<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>',
    b"<AccessControlPolicy><AccessControlList/><AccessControlList/></AccessControlPolicy>",
], ids=["other-root", "other-root-with-list", "no-list", "two-lists"])
def test_acl_that_is_not_an_access_control_policy(s3cloud: Any, s3: Any, bucket: str,
                                                  document: bytes) -> None:
    """Bucket and object ACLs: MalformedACLError, and the ACL stays as it was."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    before = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    for query in ("acl", None):
        target = bucket if query else f"{bucket}/k"
        resp = _put(s3cloud, target, "acl", document)
        assert resp.status_code == 400, resp.text
        assert "<Code>MalformedACLError</Code>" in resp.text
    assert s3.get_bucket_acl(Bucket=bucket)["Grants"] == before
    assert s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
    s3.delete_object(Bucket=bucket, Key="k")


def test_valid_acl_still_accepted(s3: Any, bucket: str) -> None:
    """A real AccessControlPolicy (as boto3 builds it) still replaces the ACL."""
    acl = s3.get_bucket_acl(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={
        "Owner": acl["Owner"], "Grants": acl["Grants"] + [{
            "Grantee": {"Type": "Group",
                        "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "READ"}]})
    assert len(s3.get_bucket_acl(Bucket=bucket)["Grants"]) == len(acl["Grants"]) + 1


@pytest.mark.parametrize("document", [
    b"<Tagging/>",
    b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></Tagging>',
    b"<Foo><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Foo>",
    b"<Tagging><TagSet/><TagSet/></Tagging>",
], ids=["empty", "empty-ns", "other-root", "two-sets"])
def test_tagging_without_a_tag_set(s3cloud: Any, s3: Any, bucket: str,
                                   document: bytes) -> None:
    """PutBucketTagging / PutObjectTagging without one TagSet: MalformedXML."""
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for target in (bucket, f"{bucket}/k"):
        resp = _put(s3cloud, target, "tagging", document)
        assert resp.status_code == 400, resp.text
        assert "<Code>MalformedXML</Code>" in resp.text
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "k", "Value": "v"}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": []})  # an empty set is fine
    s3.delete_object(Bucket=bucket, Key="k")


def test_upload_cut_short_is_not_an_internal_error(s3cloud: Any, s3: Any, bucket: str) -> None:
    """A client that sends half a PUT body and hangs up leaves no traceback in the log."""
    creds = s3cloud.credentials()
    url = f"{s3cloud.url}/services/objectstorage/{bucket}/cut"
    req = AWSRequest("PUT", url, data=b"", headers={
        "Content-Length": "1048576", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    S3SigV4Auth(Credentials(creds["key"], creds["secret"]), "s3", "us-east-1").add_auth(req)
    head = [f"PUT /services/objectstorage/{bucket}/cut HTTP/1.1"]
    head += [f"{k}: {v}" for k, v in req.headers.items()]
    mark = s3cloud.log_path.stat().st_size
    with socket.create_connection(("127.0.0.1", s3cloud.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + b"x" * 4096)
        time.sleep(0.3)
    time.sleep(0.5)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="cut")
    log = s3cloud.log_path.read_bytes()[mark:]
    assert b"Traceback" not in log and b"internal error" not in log, log[-2000:]
