"""Temporary credentials expire by the cloud's clock: ``ExpiredToken`` on STS, IAM, EC2
and S3 once the session's DurationSeconds have passed.

The cloud runs its clock 60 times faster than the wall clock, so a 900-second session
lasts 15 seconds; requests are signed (by botocore's SigV4 signer) at the cloud's time,
estimated from the Expiration that AssumeRole returns.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Any

import pytest
import requests
from botocore.auth import SIGV4_TIMESTAMP, S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SPEED = 60


class _AtCloudTime:
    """Sign at a given instant instead of the wall clock's (the cloud's clock runs fast)."""

    when: dt.datetime

    def add_auth(self, request: Any) -> None:
        request.context["timestamp"] = self.when.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)  # type: ignore[attr-defined]
        canonical = self.canonical_request(request)  # type: ignore[attr-defined]
        string_to_sign = self.string_to_sign(request, canonical)  # type: ignore[attr-defined]
        signature = self.signature(string_to_sign, request)  # type: ignore[attr-defined]
        self._inject_signature_to_request(request, signature)  # type: ignore[attr-defined]


class QuerySigner(_AtCloudTime, SigV4Auth):
    """SigV4 for the query services, at the cloud's time."""


class S3Signer(_AtCloudTime, S3SigV4Auth):
    """SigV4 for S3, at the cloud's time."""


class CloudClock:
    """The cloud's time, from one observation (cloud time at a wall instant) and the speed."""

    def __init__(self) -> None:
        self.cloud_at = time.time()
        self.wall_at = time.time()

    def observe(self, cloud_time: float, wall_time: float) -> None:
        self.cloud_at, self.wall_at = cloud_time, wall_time

    def now(self) -> dt.datetime:
        cloud = self.cloud_at + SPEED * (time.time() - self.wall_at)
        return dt.datetime.fromtimestamp(cloud, dt.UTC).replace(tzinfo=None)

    def wait_until(self, cloud_time: float) -> None:
        time.sleep(max(0.0, (cloud_time - self.cloud_at) / SPEED - (time.time() - self.wall_at)))


def _call(cloud: Any, clock: CloudClock, creds: Credentials, service: str, path: str,
          params: dict[str, str]) -> requests.Response:
    req = AWSRequest("POST", cloud.url + path, data=params)
    signer = QuerySigner(creds, service, "us-east-1")
    signer.when = clock.now()
    signer.add_auth(req)
    return requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=10)


def _code(resp: requests.Response) -> str:
    found = re.search(r"<Code>(.+?)</Code>", resp.text)
    return found.group(1) if found else ""


@pytest.fixture
def fast_cloud() -> Any:
    from cloudproc import running_cloud

    with running_cloud(f"[cloud]\nclock_speed = {SPEED}\n") as c:
        yield c


def test_session_expires_with_expired_token(fast_cloud: Any) -> None:
    """Before expiry the session works everywhere; after it, every service says so."""
    cloud = fast_cloud
    clock = CloudClock()
    admin = cloud.credentials()
    admin_creds = Credentials(admin["key"], admin["secret"])
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": admin["account"]}, "Action": "sts:AssumeRole"}]})
    resp = _call(cloud, clock, admin_creds, "iam", "/services/Euare",
                 {"Action": "CreateRole", "Version": "2010-05-08", "RoleName": "short",
                  "AssumeRolePolicyDocument": trust})
    assert resp.status_code == 200, resp.text
    resp = _call(cloud, clock, admin_creds, "sts", "/services/Tokens",
                 {"Action": "AssumeRole", "Version": "2011-06-15", "DurationSeconds": "900",
                  "RoleArn": f"arn:aws:iam::{admin['account']}:role/short",
                  "RoleSessionName": "brief"})
    assert resp.status_code == 200, resp.text
    seen = time.time()
    expiration = dt.datetime.strptime(re.search(r"<Expiration>(.+?)</Expiration>",
                                                resp.text).group(1), "%Y-%m-%dT%H:%M:%S.%fZ")
    expires = expiration.replace(tzinfo=dt.UTC).timestamp()
    clock.observe(expires - 900, seen)
    creds = Credentials(re.search(r"<AccessKeyId>(.+?)</AccessKeyId>", resp.text).group(1),
                        re.search(r"<SecretAccessKey>(.+?)</SecretAccessKey>", resp.text).group(1),
                        re.search(r"<SessionToken>(.+?)</SessionToken>", resp.text).group(1))
    identity = {"Action": "GetCallerIdentity", "Version": "2011-06-15"}
    assert _call(cloud, clock, creds, "sts", "/services/Tokens", identity).status_code == 200
    clock.wait_until(expires - 300)  # five cloud minutes before expiry: still valid
    assert _call(cloud, clock, creds, "sts", "/services/Tokens", identity).status_code == 200
    clock.wait_until(expires + 180)
    resp = _call(cloud, clock, creds, "sts", "/services/Tokens", identity)
    assert (resp.status_code, _code(resp)) == (400, "ExpiredToken"), resp.text
    resp = _call(cloud, clock, creds, "iam", "/services/Euare",
                 {"Action": "ListUsers", "Version": "2010-05-08"})
    assert _code(resp) == "ExpiredToken"
    resp = _call(cloud, clock, creds, "ec2", "/services/compute",
                 {"Action": "DescribeInstances", "Version": "2016-11-15"})
    assert _code(resp) == "ExpiredToken"
    req = AWSRequest("GET", cloud.url + "/services/objectstorage/")
    signer = S3Signer(creds, "s3", "us-east-1")
    signer.when = clock.now()
    signer.add_auth(req)
    resp = requests.get(req.url, headers=dict(req.headers), timeout=10)
    assert (resp.status_code, _code(resp)) == (400, "ExpiredToken"), resp.text
