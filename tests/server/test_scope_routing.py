"""Requests to ``/`` are routed by the service in their SigV4 scope, whatever its region.

boto3 with ``region_name=""`` signs with an empty region (``AKID/DATE//ec2/aws4_request``);
AWS computes the signature over the scope as sent, so such requests must reach the service
they name, not fall through to Walrus.
"""

from __future__ import annotations

import boto3
import pytest
import requests
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


def _client(cloud, service: str) -> object:
    creds = cloud.credentials()
    return boto3.client(service, endpoint_url=cloud.url + "/", region_name="",
                        aws_access_key_id=creds["key"], aws_secret_access_key=creds["secret"],
                        config=Config(retries={"max_attempts": 1}))


@pytest.mark.parametrize(("service", "call", "key"), [
    ("ec2", lambda c: c.describe_availability_zones(), "AvailabilityZones"),
    ("iam", lambda c: c.list_users(), "Users"),
    ("sts", lambda c: c.get_caller_identity(), "Account"),
])
def test_empty_region_scope_reaches_the_service(cloud, service, call, key) -> None:
    """EC2, IAM and STS answer a header-signed request whose scope has no region."""
    client = _client(cloud, service)
    answer = call(client)
    assert answer[key]
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_empty_region_scope_with_bad_secret_is_the_services_error(cloud) -> None:
    """A wrong secret with an empty-region scope gets EC2's AuthFailure, not Walrus' 403."""
    creds = cloud.credentials()
    ec2 = boto3.client("ec2", endpoint_url=cloud.url + "/", region_name="",
                       aws_access_key_id=creds["key"], aws_secret_access_key="wrong",
                       config=Config(retries={"max_attempts": 1}))
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as err:
        ec2.describe_regions()
    assert err.value.response["Error"]["Code"] == "AuthFailure"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401


def test_empty_region_presigned_query_reaches_sts(cloud) -> None:
    """A query-string (presigned) request with an empty region in X-Amz-Credential."""
    creds = cloud.credentials()
    req = AWSRequest("GET", cloud.url + "/?Action=GetCallerIdentity&Version=2011-06-15")
    SigV4QueryAuth(Credentials(creds["key"], creds["secret"]), "sts", "", expires=300) \
        .add_auth(req)
    assert "%2F%2Fsts%2Faws4_request" in req.url
    resp = requests.get(req.url, timeout=10)
    assert resp.status_code == 200, resp.text
    assert "<GetCallerIdentityResult>" in resp.text
    assert creds["account"] in resp.text


def test_empty_region_scope_reaches_walrus(cloud) -> None:
    """S3 with an empty region (boto3's S3 client refuses region_name="", so botocore's
    signer signs the request): Walrus verifies the scope as sent."""
    from botocore.auth import S3SigV4Auth

    creds = cloud.credentials()
    req = AWSRequest("GET", cloud.url + "/")
    req.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    S3SigV4Auth(Credentials(creds["key"], creds["secret"]), "s3", "").add_auth(req)
    assert "//s3/aws4_request" in req.headers["Authorization"]
    resp = requests.get(req.url, headers=dict(req.headers), timeout=10)
    assert resp.status_code == 200, resp.text
    assert "<ListAllMyBucketsResult" in resp.text


def test_presigned_query_with_unencoded_slashes(cloud) -> None:
    """Some clients leave the slashes of X-Amz-Credential unencoded: routed all the same."""
    creds = cloud.credentials()
    req = AWSRequest("GET", cloud.url + "/?Action=GetCallerIdentity&Version=2011-06-15")
    SigV4QueryAuth(Credentials(creds["key"], creds["secret"]), "sts", "", expires=300) \
        .add_auth(req)
    url = req.url.replace("%2F%2Fsts%2Faws4_request", "//sts/aws4_request")
    url = url.replace(f"{creds['key']}%2F", f"{creds['key']}/")
    assert "//sts/aws4_request" in url
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200, resp.text
    assert "<GetCallerIdentityResult>" in resp.text
