"""Euare accounts, users, keys and groups; delegation; SigV4 failures; account isolation."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from botocore.exceptions import ClientError
from helpers import error_code, put_manifest, wait_state
from helpers import new_account as _new_account
from helpers import raw_iam as _raw


def test_accounts_users_keys_groups(cloud) -> None:
    """A new account gets an admin; users, keys and groups work inside it."""
    account_id, key, secret = _new_account(cloud, "tenant-a")
    iam = cloud.client("iam", key=key, secret=secret)
    assert iam.get_user()["User"]["Arn"] == f"arn:aws:iam::{account_id}:user/admin"
    iam.create_user(UserName="alice", Path="/dev/")
    with pytest.raises(ClientError) as err:
        iam.create_user(UserName="alice")
    assert error_code(err) == "EntityAlreadyExists"
    k = iam.create_access_key(UserName="alice")["AccessKey"]
    assert [m["AccessKeyId"] for m in iam.list_access_keys(UserName="alice")
            ["AccessKeyMetadata"]] == [k["AccessKeyId"]]
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="alice")
    assert [u["UserName"] for u in iam.get_group(GroupName="devs")["Users"]] == ["alice"]
    assert [u["UserName"] for u in iam.list_users(PathPrefix="/dev/")["Users"]] == ["alice"]
    alice = cloud.client("sts", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
    assert alice.get_caller_identity()["Account"] == account_id
    with pytest.raises(ClientError) as err:
        iam.delete_user(UserName="alice")
    assert error_code(err) == "DeleteConflict"
    iam.delete_access_key(UserName="alice", AccessKeyId=k["AccessKeyId"])
    iam.remove_user_from_group(GroupName="devs", UserName="alice")
    iam.delete_user(UserName="alice")
    with pytest.raises(ClientError) as err:
        iam.get_user(UserName="alice")
    assert error_code(err) == "NoSuchEntity"


def test_accounts_are_isolated(cloud) -> None:
    """No account sees or changes another's instances, keys, groups or private images."""
    _, key, secret = _new_account(cloud, "tenant-iso")
    mine = cloud.client("ec2", key=key, secret=secret)
    admin = cloud.client("ec2")
    image = admin.describe_images()["Images"][0]["ImageId"]
    iid = mine.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    mine.create_key_pair(KeyName="secret-key")
    location = put_manifest(cloud, "iso-bundles/p.manifest.xml", key=key, secret=secret)
    private = mine.register_image(Name="private", ImageLocation=location)["ImageId"]
    _, key2, secret2 = _new_account(cloud, "tenant-spy")
    spy = cloud.client("ec2", key=key2, secret=secret2)
    assert not spy.describe_instances()["Reservations"]
    for call in (lambda: spy.terminate_instances(InstanceIds=[iid]),
                 lambda: spy.describe_instances(InstanceIds=[iid])):
        with pytest.raises(ClientError) as err:
            call()
        assert error_code(err) == "InvalidInstanceID.NotFound"
    assert "secret-key" not in {k["KeyName"] for k in spy.describe_key_pairs()["KeyPairs"]}
    assert private not in {i["ImageId"] for i in spy.describe_images()["Images"]}
    with pytest.raises(ClientError) as err:
        spy.run_instances(ImageId=private, MinCount=1, MaxCount=1)
    assert error_code(err) == "InvalidAMIID.NotFound"
    # The cloud admin sees every account's instances with "verbose".
    everyone = admin.describe_instances(InstanceIds=["verbose"])
    assert iid in [i["InstanceId"] for r in everyone["Reservations"] for i in r["Instances"]]
    mine.terminate_instances(InstanceIds=[iid])
    wait_state(mine, [iid], "terminated")


def test_account_admin_actions_need_cloud_admin(cloud) -> None:
    """ListAccounts is for the cloud admin only."""
    _, key, secret = _new_account(cloud, "tenant-plain")
    import botocore.exceptions  # noqa: F401

    tenant = cloud.client("iam", key=key, secret=secret)
    with pytest.raises(ClientError) as err:
        tenant._make_api_call("ListAccounts", {}) if hasattr(tenant, "list_accounts") else \
            _raw(cloud, key, secret, {"Action": "ListAccounts"})
    assert error_code(err) == "AccessDenied"
    resp = requests.post(cloud.url + "/services/Euare",
                         data={"Action": "ListAccounts", "Version": "2010-05-08"}, timeout=10)
    assert resp.status_code == 403 and "MissingAuthenticationToken" in resp.text


@pytest.mark.parametrize("region", ["us-east-1", "eucalyptus", "localhost"])
def test_any_region_in_scope_is_accepted(cloud, region: str) -> None:
    """Clients signing for any region name reach the one region."""
    assert cloud.client("ec2", region=region).describe_regions()["Regions"]
    assert cloud.client("ec2", region=region, path="/").describe_regions()["Regions"]


def test_auth_failures_have_aws_codes(cloud) -> None:
    """Wrong secret, unknown key, no auth, stale date: AWS's codes and statuses."""
    creds = cloud.credentials()
    bad = cloud.client("ec2", secret="x" * 40)
    with pytest.raises(ClientError) as err:
        bad.describe_regions()
    assert error_code(err) == "AuthFailure"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    unknown = cloud.client("iam", key="AKIAUNKNOWNUNKNOWN00")
    with pytest.raises(ClientError) as err:
        unknown.list_users()
    assert error_code(err) == "InvalidClientTokenId"
    wrong = cloud.client("iam", secret="y" * 40)
    with pytest.raises(ClientError) as err:
        wrong.list_users()
    assert error_code(err) == "SignatureDoesNotMatch"
    resp = requests.post(cloud.url + "/services/compute",
                         data={"Action": "DescribeRegions", "Version": "2016-11-15"}, timeout=10)
    assert resp.status_code == 401 and "<Code>AuthFailure</Code>" in resp.text
    # A request signed 20 minutes ago is refused (signed with the vector-checked helpers).
    import hashlib
    from urllib.parse import urlencode

    from server.auth import sigv4

    body = urlencode({"Action": "DescribeRegions", "Version": "2016-11-15"})
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)
    amz_date, day = old.strftime("%Y%m%dT%H%M%SZ"), old.strftime("%Y%m%d")
    host = cloud.url.split("//")[1]
    signed = ["host", "x-amz-date"]
    creq = sigv4.canonical_request(
        "POST", "/services/compute", "",
        sigv4.canonical_headers([("host", host), ("x-amz-date", amz_date)], signed), signed,
        hashlib.sha256(body.encode()).hexdigest())
    scope = f"{day}/us-east-1/ec2/aws4_request"
    sig = sigv4.sign(sigv4.signing_key(creds["secret"], day, "us-east-1", "ec2"),
                     sigv4.string_to_sign(amz_date, scope, creq))
    resp = requests.post(cloud.url + "/services/compute", data=body, timeout=10, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Amz-Date": amz_date,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={creds['key']}/{scope}, "
                         f"SignedHeaders=host;x-amz-date, Signature={sig}"})
    assert resp.status_code == 400 and "RequestExpired" in resp.text


def test_presigned_query_request(cloud) -> None:
    """A presigned GET (query-string SigV4) works for the query API."""
    creds = cloud.credentials()
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest("GET", cloud.url + "/services/compute",
                     params={"Action": "DescribeRegions", "Version": "2016-11-15"})
    SigV4QueryAuth(Credentials(creds["key"], creds["secret"]), "ec2", "us-east-1",
                   expires=60).add_auth(req)
    resp = requests.get(req.url, timeout=10)
    assert resp.status_code == 200 and "<regionName>localhost</regionName>" in resp.text


def test_malformed_requests_get_4xx(cloud) -> None:
    """Garbage never produces a 500."""
    for data in ({"Action": "NoSuchAction"}, {}, {"Action": "RunInstances"}):
        resp = requests.post(cloud.url + "/services/compute", data=data, timeout=10)
        assert 400 <= resp.status_code < 500
    resp = requests.post(cloud.url + "/services/compute", data=b"\xff\xfe\x00",
                         headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert 400 <= resp.status_code < 500
