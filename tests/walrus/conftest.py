"""Walrus fixtures: one real cloud per session, boto3 clients, a second account."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))

from cloudproc import CloudProcess, postgres_url, running_cloud  # noqa: E402


@pytest.fixture(scope="session")
def s3cloud() -> Iterator[CloudProcess]:
    """A running cloud for the Walrus tests (session-wide: starting one costs ~1 s).

    With ``CI_PG_DSN`` set, its metadata lives in a fresh PostgreSQL database.
    """
    with running_cloud(database=postgres_url()) as c:
        yield c


def make_s3(cloud: CloudProcess, key: str | None = None, secret: str | None = None,
            path: str = "/services/objectstorage", **config: Any) -> Any:
    """A boto3 S3 client (path style, SigV4, no retries)."""
    import boto3
    from botocore.config import Config

    creds = cloud.credentials()
    s3cfg = {"addressing_style": "path", **config.pop("s3", {})}
    cfg = Config(retries={"max_attempts": 1}, s3=s3cfg, **config)
    return boto3.client("s3", endpoint_url=cloud.url + path, region_name="us-east-1",
                        aws_access_key_id=key or creds["key"],
                        aws_secret_access_key=secret or creds["secret"], config=cfg)


@pytest.fixture(scope="session")
def s3(s3cloud: CloudProcess) -> Any:
    """The admin's S3 client."""
    return make_s3(s3cloud)


@pytest.fixture(scope="session")
def other(s3cloud: CloudProcess) -> dict[str, str]:
    """A second account's credentials (created through IAM)."""
    return _create_account(s3cloud, "walrus-" + uuid.uuid4().hex[:8])


def _create_account(cloud: CloudProcess, name: str) -> dict[str, str]:
    import requests  # type: ignore[import-untyped]
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    creds = cloud.credentials()
    signer = SigV4Auth(Credentials(creds["key"], creds["secret"]), "iam", "us-east-1")

    def call(params: dict[str, str]) -> str:
        url = cloud.url + "/services/Euare"
        req = AWSRequest("POST", url, data=params | {"Version": "2010-05-08"},
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        signer.add_auth(req)
        resp = requests.post(url, data=req.body, headers=dict(req.headers), timeout=10)
        assert resp.status_code == 200, resp.text
        return str(resp.text)

    import re

    text = call({"Action": "CreateAccount", "AccountName": name})
    account_id = re.search(r"<AccountId>(\d+)</AccountId>", text).group(1)  # type: ignore[union-attr]
    text = call({"Action": "CreateAccessKey", "UserName": "admin", "DelegateAccount": name})
    key = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", text).group(1)  # type: ignore[union-attr]
    secret = re.search(r"<SecretAccessKey>([^<]+)</SecretAccessKey>", text).group(1)  # type: ignore[union-attr]
    return {"key": key, "secret": secret, "account": account_id, "name": name}


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    """A fresh bucket, emptied and removed afterwards."""
    name = "t-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name)
    yield name
    empty_bucket(s3, name)


def empty_bucket(s3: Any, name: str) -> None:
    """Delete every version, marker and upload, then the bucket."""
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])
        for up in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
        s3.delete_bucket(Bucket=name)
    except Exception:  # best effort: the cloud is thrown away at session end
        pass
