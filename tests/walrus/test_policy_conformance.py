"""Bucket policy validation and conditions, browser POST fields, presigned-URL limits, and
SigV4 over non-ASCII header values: S3's observable behaviour through real clients."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest
import requests  # type: ignore[import-untyped]
from botocore.exceptions import ClientError
from conftest import make_s3


def _code(exc: Any) -> str:
    return str(exc.value.response["Error"]["Code"])


def _status(exc: Any) -> int:
    return int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


def _with_headers(client: Any, event: str, headers: dict[str, str]) -> None:
    """Send extra headers on every ``event`` call of ``client`` (signed like the rest)."""
    client.meta.events.register(
        f"before-call.s3.{event}", lambda **kw: kw["params"]["headers"].update(headers))


# -- PutBucketPolicy: which resources a bucket's policy may name --------------------------------
def test_wildcard_resources_that_cover_the_bucket_are_accepted(
        s3cloud: Any, s3: Any, other: dict[str, str], bucket: str) -> None:
    """``arn:aws:s3:::*`` names this bucket too, so S3 takes it and it grants as written."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    doc = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:ListBucket",
        "Resource": ["arn:aws:s3:::*", "arn:aws:s3:::*/*"]}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    o3 = make_s3(s3cloud, other["key"], other["secret"])
    assert [o["Key"] for o in o3.list_objects(Bucket=bucket)["Contents"]] == ["k"]
    assert [o["Key"] for o in o3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
    # Other patterns that can match the bucket's name or its objects.
    for resource in ("*", f"arn:aws:s3:::{bucket[:4]}*", f"arn:aws:s3:::{bucket[:-1]}?",
                     f"arn:aws:s3:::{bucket}/photos/*", f"arn:aws:s3:::{bucket}*/x"):
        doc["Statement"][0]["Resource"] = resource
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))


@pytest.mark.parametrize("resource", [
    "arn:aws:s3:::some-other-bucket",
    "arn:aws:s3:::some-other-bucket/*",
    "arn:aws:s3:::{bucket}x",            # a longer name is another bucket
    "arn:aws:s3::*:{bucket}",             # tenant-style ARNs are a Ceph RGW extension
    "arn:aws:ec2:::{bucket}",
    "{bucket}",
])
def test_resources_outside_the_bucket_are_malformed(s3: Any, bucket: str, resource: str) -> None:
    doc = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                          "Resource": resource.format(bucket=bucket)}]}
    with pytest.raises(ClientError) as err:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    assert _code(err) == "MalformedPolicy" and _status(err) == 400
    assert "invalid resource" in err.value.response["Error"]["Message"]


def test_policy_structure_errors(s3: Any, bucket: str) -> None:
    """Missing Resource and unknown condition operators are refused on PUT."""
    base = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*"}
    for statement in ({k: v for k, v in base.items() if k != "Resource"},
                      base | {"Condition": {"StringSorta": {"aws:Referer": "x"}}},
                      base | {"Condition": {"NullIfExists": {"aws:Referer": "true"}}},
                      base | {"Condition": ["not", "a", "map"]}):
        with pytest.raises(ClientError) as err:
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Statement": [statement]}))
        assert _code(err) == "MalformedPolicy", statement


# -- condition operators and keys ----------------------------------------------------------------
def test_string_like_if_exists_on_referer(
        s3cloud: Any, s3: Any, other: dict[str, str], bucket: str) -> None:
    """IfExists: an absent Referer passes, a present one must match the pattern."""
    s3.put_object(Bucket=bucket, Key="foo", Body=b"x")
    doc = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringLikeIfExists": {"aws:Referer": "http://www.example.com/*"}}}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    plain = make_s3(s3cloud, other["key"], other["secret"])
    assert plain.get_object(Bucket=bucket, Key="foo")["Body"].read() == b"x"
    good = make_s3(s3cloud, other["key"], other["secret"])
    _with_headers(good, "GetObject", {"Referer": "http://www.example.com/index.html"})
    assert good.get_object(Bucket=bucket, Key="foo")["Body"].read() == b"x"
    bad = make_s3(s3cloud, other["key"], other["secret"])
    _with_headers(bad, "GetObject", {"Referer": "http://example.com"})
    with pytest.raises(ClientError) as err:
        bad.get_object(Bucket=bucket, Key="foo")
    assert _status(err) == 403


def test_request_object_tag_condition(
        s3cloud: Any, s3: Any, other: dict[str, str], bucket: str) -> None:
    """s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys come from x-amz-tagging."""
    doc = {"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"StringEquals": {"s3:RequestObjectTag/security": "public"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": "secret"}}}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    o3 = make_s3(s3cloud, other["key"], other["secret"])
    with pytest.raises(ClientError) as err:
        o3.put_object(Bucket=bucket, Key="untagged", Body=b"x")
    assert _code(err) == "AccessDenied"
    with pytest.raises(ClientError):
        o3.put_object(Bucket=bucket, Key="private", Body=b"x", Tagging="security=private")
    o3.put_object(Bucket=bucket, Key="public", Body=b"x", Tagging="security=public&team=a")
    tags = o3.get_object_tagging(Bucket=bucket, Key="public")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"security": "public", "team": "a"}
    with pytest.raises(ClientError) as err:  # the explicit Deny wins over the Allow
        o3.put_object(Bucket=bucket, Key="denied", Body=b"x",
                      Tagging="security=public&secret=1")
    assert _code(err) == "AccessDenied"


def test_numeric_null_and_date_conditions(
        s3cloud: Any, s3: Any, other: dict[str, str], bucket: str) -> None:
    """NumericLessThanEquals on s3:max-keys, Null on s3:prefix, DateLessThan on the clock."""
    s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = {"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": other["account"]}, "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{bucket}",
        "Condition": {"NumericLessThanEquals": {"s3:max-keys": "10"},
                      "Null": {"s3:prefix": "false"},
                      "DateLessThan": {"aws:CurrentTime": future}}}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    o3 = make_s3(s3cloud, other["key"], other["secret"])
    assert o3.list_objects(Bucket=bucket, MaxKeys=5, Prefix="a")["Contents"][0]["Key"] == "a"
    for kwargs in ({"MaxKeys": 50, "Prefix": "a"}, {"MaxKeys": 5}):
        with pytest.raises(ClientError) as err:
            o3.list_objects(Bucket=bucket, **kwargs)
        assert _status(err) == 403, kwargs
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc["Statement"][0]["Condition"]["DateLessThan"]["aws:CurrentTime"] = past
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    with pytest.raises(ClientError):
        o3.list_objects(Bucket=bucket, MaxKeys=5, Prefix="a")


def test_canonical_user_principal_and_policy_variables(
        s3cloud: Any, s3: Any, other: dict[str, str], bucket: str) -> None:
    """{"CanonicalUser": <Owner ID>} names an account; ${aws:username} fills in the caller."""
    o3 = make_s3(s3cloud, other["key"], other["secret"])
    owner_id = o3.list_buckets()["Owner"]["ID"]
    for key in ("home/admin/note", "home/bob/note"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    doc = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"CanonicalUser": owner_id}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/home/${{aws:username}}/*"}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    # The other account's keys belong to its "admin" user.
    assert o3.get_object(Bucket=bucket, Key="home/admin/note")["Body"].read() == \
        b"home/admin/note"
    with pytest.raises(ClientError) as err:
        o3.get_object(Bucket=bucket, Key="home/bob/note")
    assert _code(err) == "AccessDenied"
    # Without "Version": "2012-10-17" the text is literal and names no object.
    del doc["Version"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    with pytest.raises(ClientError):
        o3.get_object(Bucket=bucket, Key="home/admin/note")


# -- browser POST uploads ---------------------------------------------------------------------
def _signed_form(s3cloud: Any, bucket: str, expiration: str,
                 extra: list[Any] | None = None) -> dict[str, str]:
    creds = s3cloud.credentials()
    doc = {"expiration": expiration, "conditions": [{"bucket": bucket},
                                                    ["starts-with", "$key", ""],
                                                    *(extra or [])]}
    policy = base64.b64encode(json.dumps(doc).encode()).decode()
    sig = base64.b64encode(hmac.new(creds["secret"].encode(), policy.encode(),
                                    hashlib.sha1).digest()).decode()
    return {"key": "k", "AWSAccessKeyId": creds["key"], "policy": policy, "signature": sig}


def test_post_policy_expiration_must_be_iso8601(s3cloud: Any, bucket: str) -> None:
    """Python's str(datetime) (a space, not 'T') is not an S3 expiration: 400."""
    url = f"{s3cloud.url}/services/objectstorage/{bucket}"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    for bad in (str(later), later.strftime("%Y/%m/%d %H:%M:%S"), "tomorrow"):
        r = requests.post(url, data=_signed_form(s3cloud, bucket, bad),
                          files={"file": ("f", b"x")}, timeout=10)
        assert r.status_code == 400 and b"InvalidPolicyDocument" in r.content, (bad, r.text)
    for good in (later.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 later.strftime("%Y-%m-%dT%H:%M:%S.000Z")):
        r = requests.post(url, data=_signed_form(s3cloud, bucket, good),
                          files={"file": ("f", b"x")}, timeout=10)
        assert r.status_code == 204, (good, r.text)


def test_post_tagging_field_sets_object_tags(s3cloud: Any, s3: Any, bucket: str) -> None:
    """The form's ``tagging`` field is a Tagging document and becomes the object's tags."""
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    url = f"{s3cloud.url}/services/objectstorage/{bucket}"
    tagging = ("<Tagging><TagSet><Tag><Key>0</Key><Value>zero</Value></Tag>"
               "<Tag><Key>1</Key><Value>one</Value></Tag></TagSet></Tagging>")
    fields = {"key": "tagged.txt", "acl": "public-read", "Content-Type": "text/plain",
              "tagging": tagging}
    r = requests.post(url, data=fields, files={"file": ("f", b"bar")}, timeout=10)
    assert r.status_code == 204, r.text
    assert s3.get_object(Bucket=bucket, Key="tagged.txt")["Body"].read() == b"bar"
    assert s3.get_object_tagging(Bucket=bucket, Key="tagged.txt")["TagSet"] == [
        {"Key": "0", "Value": "zero"}, {"Key": "1", "Value": "one"}]
    r = requests.post(url, data=fields | {"key": "bad.txt", "tagging": "<Tagging><TagSet>"},
                      files={"file": ("f", b"bar")}, timeout=10)
    assert r.status_code == 400, r.text
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad.txt")


def test_post_form_fields_feed_policy_conditions(s3cloud: Any, s3: Any, bucket: str) -> None:
    """A POST's acl and tagging fields are what s3:x-amz-acl and s3:RequestObjectTag see."""
    doc = {"Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                       "s3:RequestObjectTag/origin": "form"}}}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    url = f"{s3cloud.url}/services/objectstorage/{bucket}"
    tagging = "<Tagging><TagSet><Tag><Key>origin</Key><Value>form</Value></Tag></TagSet></Tagging>"
    fields = {"key": "k", "acl": "bucket-owner-full-control", "tagging": tagging}
    for missing in ("acl", "tagging"):
        partial = {k: v for k, v in fields.items() if k != missing}
        r = requests.post(url, data=partial, files={"file": ("f", b"x")}, timeout=10)
        assert r.status_code == 403, (missing, r.text)
    r = requests.post(url, data=fields, files={"file": ("f", b"x")}, timeout=10)
    assert r.status_code == 204, r.text
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [
        {"Key": "origin", "Value": "form"}]


# -- presigned URLs -----------------------------------------------------------------------------
@pytest.mark.parametrize("expires", [604801, 609901, -7])
def test_presigned_expires_out_of_range(s3cloud: Any, s3: Any, bucket: str,
                                        expires: int) -> None:
    """S3 answers AuthorizationQueryParametersError (400) for X-Amz-Expires outside 0..7 days."""
    s3.put_object(Bucket=bucket, Key="foo", Body=b"x")
    v4 = make_s3(s3cloud, signature_version="s3v4")
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "foo"},
                                    ExpiresIn=expires)
    r = requests.get(url, timeout=10)
    assert r.status_code == 400, r.text
    assert b"AuthorizationQueryParametersError" in r.content
    assert (b"non-negative" if expires < 0 else b"less than a week") in r.content


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_presigned_expired_and_in_range(s3cloud: Any, s3: Any, bucket: str,
                                        version: str) -> None:
    """An expired URL is 403 AccessDenied; 604800 seconds is still allowed."""
    s3.put_object(Bucket=bucket, Key="foo", Body=b"x")
    client = make_s3(s3cloud, signature_version=version)
    params = {"Bucket": bucket, "Key": "foo"}
    ok = client.generate_presigned_url("get_object", Params=params, ExpiresIn=604800)
    assert requests.get(ok, timeout=10).content == b"x"
    expired = client.generate_presigned_url("put_object", Params=params, ExpiresIn=0)
    r = requests.put(expired, data=b"new", timeout=10)
    assert r.status_code == 403 and b"AccessDenied" in r.content
    assert s3.get_object(Bucket=bucket, Key="foo")["Body"].read() == b"x"


# -- signatures over non-ASCII header values -----------------------------------------------------------
@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_signatures_accept_utf8_header_values(s3cloud: Any, bucket: str, version: str) -> None:
    """botocore sends a Unicode metadata value as UTF-8 bytes and signs it; S3 accepts it."""
    client = make_s3(s3cloud, signature_version=version)
    _with_headers(client, "PutObject", {"x-amz-meta-greeting": "Hello World\xe9"})
    client.put_object(Bucket=bucket, Key="uni", Body=b"bar")
    head = client.head_object(Bucket=bucket, Key="uni")
    # The value's bytes survive the round trip (HTTP clients read them back as Latin-1).
    raw = head["ResponseMetadata"]["HTTPHeaders"]["x-amz-meta-greeting"]
    assert raw.encode("latin-1").decode("utf-8") == "Hello World\xe9"
    # A wrong secret still fails, whatever the header bytes.
    creds = s3cloud.credentials()
    forged = make_s3(s3cloud, creds["key"], "not-the-secret", signature_version=version)
    _with_headers(forged, "PutObject", {"x-amz-meta-greeting": "Hello World\xe9"})
    with pytest.raises(ClientError) as err:
        forged.put_object(Bucket=bucket, Key="uni2", Body=b"bar")
    assert _code(err) == "SignatureDoesNotMatch"


# -- IAM user policies on S3 requests ---------------------------------------------------------
def test_iam_user_policy_deny_applies_to_s3(s3cloud: Any, s3: Any, bucket: str) -> None:
    """A user needs an Allow for S3; an explicit Deny in its inline policy refuses the
    action whatever else allows it."""
    import boto3

    creds = s3cloud.credentials()
    iam = boto3.client("iam", endpoint_url=s3cloud.url + "/services/Euare",
                       region_name="us-east-1", aws_access_key_id=creds["key"],
                       aws_secret_access_key=creds["secret"])
    name = "s3-deny-" + bucket[-6:]
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user = make_s3(s3cloud, key["AccessKeyId"], key["SecretAccessKey"])
    s3.put_object(Bucket=bucket, Key="secret/a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="open/b", Body=b"b")
    # A user starts with nothing: no S3 access until a policy allows it.
    with pytest.raises(ClientError) as err:
        user.get_object(Bucket=bucket, Key="secret/a")
    assert _code(err) == "AccessDenied"
    reads = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    iam.put_user_policy(UserName=name, PolicyName="reads", PolicyDocument=json.dumps(reads))
    assert user.get_object(Bucket=bucket, Key="secret/a")["Body"].read() == b"a"
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/secret/*"}]}
    iam.put_user_policy(UserName=name, PolicyName="no-secrets", PolicyDocument=json.dumps(doc))
    with pytest.raises(ClientError) as err:
        user.get_object(Bucket=bucket, Key="secret/a")
    assert _code(err) == "AccessDenied"
    assert user.get_object(Bucket=bucket, Key="open/b")["Body"].read() == b"b"
    assert s3.get_object(Bucket=bucket, Key="secret/a")["Body"].read() == b"a"
    iam.delete_user_policy(UserName=name, PolicyName="no-secrets")
    assert user.get_object(Bucket=bucket, Key="secret/a")["Body"].read() == b"a"
