"""MFA in S3's policies: bucket policies and users' own policies evaluated for S3 requests see
aws:MultiFactorAuthPresent / aws:MultiFactorAuthAge as the query APIs do (``true`` for a
session issued with an MFA code, ``false`` for other temporary credentials, absent for
long-term keys), signed requests and presigned URLs alike (boto3 and requests)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from helpers import error_code, new_account
from mfahelp import enable_device

BUCKET = "mfa-guarded"
#: The S3 user guide's "require MFA" bucket policy: no deleting without an MFA session.
DELETE_NEEDS_MFA = {"Version": "2012-10-17", "Statement": [
    {"Sid": "DeleteNeedsMFA", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
     "Resource": f"arn:aws:s3:::{BUCKET}/*",
     "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}


def _s3(cloud: Any, creds: dict[str, str]) -> Any:
    return boto3.client("s3", endpoint_url=cloud.url + "/services/objectstorage",
                        region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds.get("SessionToken"),
                        config=Config(retries={"max_attempts": 1},
                                      s3={"addressing_style": "path"}))


def _sts(cloud: Any, creds: dict[str, str]) -> Any:
    return boto3.client("sts", endpoint_url=cloud.url + "/services/Tokens",
                        region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        config=Config(retries={"max_attempts": 1}))


def _user(iam: Any, name: str, *statements: dict[str, Any]) -> dict[str, str]:
    """A user with an inline policy of ``statements``; its long-term credentials."""
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}


def _denied(call: Any) -> None:
    with pytest.raises(ClientError) as err:
        call()
    assert error_code(err) == "AccessDenied", err.value.response
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_bucket_policy_denies_deletes_without_mfa(cloud) -> None:
    """DeleteObject under a BoolIfExists "MFA present is false" Deny: refused with long-term
    keys and with a session issued without a code, allowed with an MFA session; reads are
    untouched.  Presigned URLs follow the session of the key that signed them."""
    _, key, secret = new_account(cloud, "s3mfa-bucket")
    iam = cloud.client("iam", key=key, secret=secret)
    owner = _s3(cloud, {"AccessKeyId": key, "SecretAccessKey": secret})
    owner.create_bucket(Bucket=BUCKET)
    for name in ("a.txt", "b.txt", "c.txt", "d.txt"):
        owner.put_object(Bucket=BUCKET, Key=name, Body=name.encode())
    owner.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(DELETE_NEEDS_MFA))
    alice = _user(iam, "alice", {"Effect": "Allow", "Action": "s3:*",
                                 "Resource": [f"arn:aws:s3:::{BUCKET}",
                                              f"arn:aws:s3:::{BUCKET}/*"]})
    serial, app = enable_device(iam, "alice-phone", "alice")

    plain = _s3(cloud, alice)
    assert plain.get_object(Bucket=BUCKET, Key="a.txt")["Body"].read() == b"a.txt"
    _denied(lambda: plain.delete_object(Bucket=BUCKET, Key="a.txt"))
    # The account's own admin with long-term keys is no exception.
    _denied(lambda: owner.delete_object(Bucket=BUCKET, Key="a.txt"))
    no_mfa = _s3(cloud, _sts(cloud, alice).get_session_token()["Credentials"])
    _denied(lambda: no_mfa.delete_object(Bucket=BUCKET, Key="a.txt"))

    mfa_creds = _sts(cloud, alice).get_session_token(SerialNumber=serial,
                                                      TokenCode=app.code())["Credentials"]
    with_mfa = _s3(cloud, mfa_creds)
    with_mfa.delete_object(Bucket=BUCKET, Key="a.txt")
    assert [o["Key"] for o in owner.list_objects_v2(Bucket=BUCKET)["Contents"]] == \
        ["b.txt", "c.txt", "d.txt"]

    # Presigned URLs: the signing key's session decides, as for a signed request.
    for client in (plain, no_mfa):
        url = client.generate_presigned_url("delete_object",
                                            Params={"Bucket": BUCKET, "Key": "b.txt"})
        r = requests.delete(url, timeout=30)
        assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text, r.text
    url = with_mfa.generate_presigned_url("delete_object",
                                          Params={"Bucket": BUCKET, "Key": "b.txt"})
    assert requests.delete(url, timeout=30).status_code == 204
    # SigV2 presigned URLs carry the session token in the query too.
    v2 = boto3.client("s3", endpoint_url=cloud.url + "/services/objectstorage",
                      region_name="us-east-1", aws_access_key_id=mfa_creds["AccessKeyId"],
                      aws_secret_access_key=mfa_creds["SecretAccessKey"],
                      aws_session_token=mfa_creds["SessionToken"],
                      config=Config(signature_version="s3", s3={"addressing_style": "path"}))
    url = v2.generate_presigned_url("delete_object", Params={"Bucket": BUCKET, "Key": "c.txt"})
    assert requests.delete(url, timeout=30).status_code == 204
    assert [o["Key"] for o in owner.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["d.txt"]


def test_identity_policies_see_the_mfa_keys(cloud) -> None:
    """A user's own policy conditioned on MFA: Bool aws:MultiFactorAuthPresent gates GetObject
    and ListAllMyBuckets (the caller-only check), and aws:MultiFactorAuthAge is the seconds
    since the code was checked (NumericLessThan)."""
    _, key, secret = new_account(cloud, "s3mfa-own")
    iam = cloud.client("iam", key=key, secret=secret)
    owner = _s3(cloud, {"AccessKeyId": key, "SecretAccessKey": secret})
    owner.create_bucket(Bucket="mfa-own-data")
    owner.put_object(Bucket="mfa-own-data", Key="k", Body=b"v")
    bob = _user(iam, "bob",
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListAllMyBuckets"],
                 "Resource": "*",
                 "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
                {"Effect": "Allow", "Action": "s3:GetObjectTagging",
                 "Resource": "arn:aws:s3:::mfa-own-data/*",
                 "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}})
    serial, app = enable_device(iam, "bob-phone", "bob")
    plain = _s3(cloud, bob)
    no_mfa = _s3(cloud, _sts(cloud, bob).get_session_token()["Credentials"])
    for client in (plain, no_mfa):
        _denied(lambda c=client: c.get_object(Bucket="mfa-own-data", Key="k"))
        _denied(lambda c=client: c.list_buckets())
        _denied(lambda c=client: c.get_object_tagging(Bucket="mfa-own-data", Key="k"))
    with_mfa = _s3(cloud, _sts(cloud, bob).get_session_token(
        SerialNumber=serial, TokenCode=app.code())["Credentials"])
    assert with_mfa.get_object(Bucket="mfa-own-data", Key="k")["Body"].read() == b"v"
    assert "mfa-own-data" in [b["Name"] for b in with_mfa.list_buckets()["Buckets"]]
    assert with_mfa.get_object_tagging(Bucket="mfa-own-data", Key="k")["TagSet"] == []
