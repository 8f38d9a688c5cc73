"""SigV4's credential scope binds a signature to one service.

A request signed for ``iam``, ``s3`` or a made-up service is refused by every other
service (EC2, IAM, STS, S3), at its own path and at ``/``, in the Authorization header
and presigned, with AWS's error; the right name (and Eucalyptus' name for the same
service) is accepted.  The requests are signed by botocore's own signers.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

#: service -> (path, form of a harmless read call, what a success contains)
CALLS = {
    "ec2": ("/services/compute", {"Action": "DescribeRegions", "Version": "2016-11-15"},
            "DescribeRegionsResponse"),
    "iam": ("/services/Euare", {"Action": "ListUsers", "Version": "2010-05-08"},
            "ListUsersResponse"),
    "sts": ("/services/Tokens", {"Action": "GetCallerIdentity", "Version": "2011-06-15"},
            "GetCallerIdentityResponse"),
}
#: Eucalyptus' own name for each service, which its clients may sign with.
EUCALYPTUS_NAMES = {"ec2": "compute", "iam": "euare", "sts": "tokens", "s3": "objectstorage"}


def _message(resp: requests.Response) -> str:
    """The error document's Message."""
    import xml.etree.ElementTree as ET

    return next((el.text or "" for el in ET.fromstring(resp.content).iter()
                 if el.tag.rsplit("}", 1)[-1] == "Message"), "")


def _query(cloud: Any, service: str, scope: str, *, presign: bool = False,
           path: str | None = None) -> requests.Response:
    creds = Credentials(cloud.credentials()["key"], cloud.credentials()["secret"])
    default_path, form, _ = CALLS[service]
    url = cloud.url + (default_path if path is None else path)
    if presign:
        req = AWSRequest("GET", url, params=form)
        SigV4QueryAuth(creds, scope, "us-east-1", expires=60).add_auth(req)
        return requests.get(req.url, timeout=10)
    req = AWSRequest("POST", url, data=form,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(creds, scope, "us-east-1").add_auth(req)
    return requests.post(url, data=req.body, headers=dict(req.headers), timeout=10)


def _s3(cloud: Any, scope: str, *, presign: bool = False) -> requests.Response:
    creds = Credentials(cloud.credentials()["key"], cloud.credentials()["secret"])
    url = cloud.url + "/services/objectstorage/"
    req = AWSRequest("GET", url)
    if presign:
        S3SigV4QueryAuth(creds, scope, "us-east-1", expires=60).add_auth(req)
        return requests.get(req.url, timeout=10)
    S3SigV4Auth(creds, scope, "us-east-1").add_auth(req)
    return requests.get(url, headers=dict(req.headers), timeout=10)


@pytest.mark.parametrize("service", sorted(CALLS))
@pytest.mark.parametrize("scope", ["ec2", "iam", "sts", "s3", "foo"])
@pytest.mark.parametrize("presign", [False, True], ids=["header", "presigned"])
def test_query_services_check_the_scope(cloud: Any, service: str, scope: str,
                                        presign: bool) -> None:
    """EC2, IAM and STS answer only signatures scoped to themselves."""
    resp = _query(cloud, service, scope, presign=presign)
    if scope == service:
        assert resp.status_code == 200, resp.text
        assert CALLS[service][2] in resp.text
        return
    assert resp.status_code == 403, resp.text
    assert "<Code>SignatureDoesNotMatch</Code>" in resp.text
    assert f"Credential should be scoped to correct service: '{service}'." in resp.text


@pytest.mark.parametrize("scope", ["ec2", "iam", "sts", "foo"])
@pytest.mark.parametrize("presign", [False, True], ids=["header", "presigned"])
def test_s3_checks_the_scope(cloud: Any, scope: str, presign: bool) -> None:
    """S3 refuses a signature for another service as AWS S3 does."""
    resp = _s3(cloud, scope, presign=presign)
    assert resp.status_code == 400, resp.text
    if presign:
        assert "<Code>AuthorizationQueryParametersError</Code>" in resp.text
        assert "Error parsing the X-Amz-Credential parameter" in resp.text
    else:
        assert "<Code>AuthorizationHeaderMalformed</Code>" in resp.text
    assert f'incorrect service "{scope}". This endpoint belongs to "s3".' in _message(resp)
    assert _s3(cloud, "s3", presign=presign).status_code == 200


@pytest.mark.parametrize("service", ["ec2", "iam", "sts", "s3"])
def test_eucalyptus_service_names_are_accepted(cloud: Any, service: str) -> None:
    """Eucalyptus-era clients sign with the component name; that is the same service."""
    name = EUCALYPTUS_NAMES[service]
    resp = _s3(cloud, name) if service == "s3" else _query(cloud, service, name)
    assert resp.status_code == 200, resp.text
    if service != "s3":  # and at "/", where the scope picks the service
        assert _query(cloud, service, name, path="/").status_code == 200


@pytest.mark.parametrize("service", sorted(CALLS))
def test_root_path_refuses_unknown_scope(cloud: Any, service: str) -> None:
    """At ``/`` a scope names the service; a made-up one reaches no service (and so is
    answered as a service this cloud does not serve, never by another service)."""
    assert _query(cloud, service, service, path="/").status_code == 200
    resp = _query(cloud, service, "foo", path="/")
    assert resp.status_code == 501, resp.text
    assert "<Code>NotImplemented</Code>" in resp.text


def test_boto3_and_awscli_still_work(cloud: Any) -> None:
    """Every client signs with its own service's name: nothing changes for them."""
    assert cloud.client("ec2").describe_regions()["Regions"]
    assert cloud.client("iam").list_users()["Users"] is not None
    assert cloud.client("sts").get_caller_identity()["Account"] == cloud.credentials()["account"]
    assert "Buckets" in cloud.client("s3").list_buckets()


def test_s3_post_policy_scope(cloud: Any) -> None:
    """A browser-POST form signed for another service is refused too."""
    import base64
    import datetime as dt
    import hashlib
    import hmac
    import json

    from server.auth.sigv4 import signing_key

    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="scope-post")
    creds = cloud.credentials()
    now = dt.datetime.now(dt.UTC)
    day, amz_date = now.strftime("%Y%m%d"), now.strftime("%Y%m%dT%H%M%SZ")
    results = {}
    for scope in ("iam", "s3"):
        credential = f"{creds['key']}/{day}/us-east-1/{scope}/aws4_request"
        policy = base64.b64encode(json.dumps({
            "expiration": (now + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "conditions": [{"bucket": "scope-post"}, ["starts-with", "$key", ""],
                           {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
                           {"x-amz-credential": credential}, {"x-amz-date": amz_date}],
        }).encode()).decode()
        key = signing_key(creds["secret"], day, "us-east-1", scope)
        fields = {"key": f"k-{scope}", "x-amz-algorithm": "AWS4-HMAC-SHA256",
                  "x-amz-credential": credential, "x-amz-date": amz_date, "policy": policy,
                  "x-amz-signature": hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()}
        resp = requests.post(cloud.url + "/services/objectstorage/scope-post", data=fields,
                             files={"file": ("f", b"data")}, timeout=10)
        results[scope] = resp
    assert results["s3"].status_code in (200, 204), results["s3"].text
    assert results["iam"].status_code == 400, results["iam"].text
    assert 'incorrect service "iam"' in _message(results["iam"])
    s3.delete_object(Bucket="scope-post", Key="k-s3")
    s3.delete_bucket(Bucket="scope-post")
