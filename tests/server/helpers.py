"""Helpers for API tests: waiting for instance states."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from botocore.exceptions import ClientError


def wait_state(ec2: Any, ids: list[str], state: str, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Poll DescribeInstances until every instance is in ``state``."""
    deadline = time.time() + timeout
    last: list[dict[str, Any]] = []
    while time.time() < deadline:
        resp = ec2.describe_instances(InstanceIds=ids)
        last = [i for r in resp["Reservations"] for i in r["Instances"]]
        if last and all(i["State"]["Name"] == state for i in last):
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {state}: {[i['State'] for i in last]}")


def error_code(exc: Any) -> str:
    """The AWS error code of a botocore ClientError."""
    return str(exc.value.response["Error"]["Code"])


def new_account(cloud, name: str) -> tuple[str, str, str]:
    """Create an account and a key for its admin (as euare-accountcreate -k does)."""
    # boto3 has no CreateAccount (a Eucalyptus extension): call the query API directly.
    creds = cloud.credentials()
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    def call(params: dict[str, str]) -> str:
        req = AWSRequest("POST", cloud.url + "/services/Euare",
                         data={"Version": "2010-05-08", **params})
        SigV4Auth(Credentials(creds["key"], creds["secret"]), "iam", "us-east-1").add_auth(req)
        resp = requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=10)
        assert resp.status_code == 200, resp.text
        return resp.text

    text = call({"Action": "CreateAccount", "AccountName": name})
    account_id = re.search(r"<AccountId>(\d+)</AccountId>", text).group(1)
    text = call({"Action": "CreateAccessKey", "UserName": "admin", "DelegateAccount": name})
    key = re.search(r"<AccessKeyId>(.+?)</AccessKeyId>", text).group(1)
    secret = re.search(r"<SecretAccessKey>(.+?)</SecretAccessKey>", text).group(1)
    return account_id, key, secret


def raw_iam(cloud, key: str, secret: str, params: dict[str, str]) -> None:
    """Send a signed IAM query call and raise ClientError for an error answer."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.parsers import QueryParser

    req = AWSRequest("POST", cloud.url + "/services/Euare",
                     data={"Version": "2010-05-08", **params})
    SigV4Auth(Credentials(key, secret), "iam", "us-east-1").add_auth(req)
    resp = requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=10)
    if resp.status_code >= 300:
        parsed = QueryParser()._do_error_parse({"body": resp.content, "headers": resp.headers,
                                                "status_code": resp.status_code}, None)
        raise ClientError(parsed, params["Action"])


def ec2_query(cloud: Any, action: str, params: dict[str, str], key: str | None = None,
              secret: str | None = None) -> requests.Response:
    """A signed EC2 query call for Eucalyptus extensions boto3 does not know."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    creds = cloud.credentials()
    req = AWSRequest("POST", cloud.url + "/services/compute",
                     data={"Action": action, "Version": "2016-11-15", **params})
    SigV4Auth(Credentials(key or creds["key"], secret or creds["secret"]), "ec2",
              "us-east-1").add_auth(req)
    return requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=10)


def put_manifest(cloud: Any, location: str, image_type: str = "machine",
                 key: str | None = None, secret: str | None = None) -> str:
    """Store a minimal bundle manifest at ``BUCKET/KEY`` in Walrus (for RegisterImage)."""
    bucket, _, name = location.partition("/")
    s3 = cloud.client("s3", key=key, secret=secret)
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise
    body = ("<manifest><version>2007-10-10</version><machine_configuration>"
            "<architecture>x86_64</architecture></machine_configuration><image>"
            f"<name>{name}</name><type>{image_type}</type><size>1048576</size>"
            "<parts count='0'/></image></manifest>")
    s3.put_object(Bucket=bucket, Key=name, Body=body.encode())
    return location


#: Service paths of the cloud, for clients made with explicit credentials.
SERVICE_PATHS = {"ec2": "/services/compute", "iam": "/services/Euare", "sts": "/services/Tokens",
                 "s3": "/services/objectstorage"}


def session_client(cloud: Any, service: str, creds: dict[str, str]) -> Any:
    """A boto3 client with (temporary) credentials: key, secret and optional session token."""
    import boto3
    from botocore.config import Config

    return boto3.client(service, endpoint_url=cloud.url + SERVICE_PATHS[service],
                        region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds.get("SessionToken"),
                        config=Config(retries={"max_attempts": 1}))


def wait_volume(ec2: Any, vid: str, state: str, timeout: float = 20.0) -> None:
    """Wait until a volume is in ``state``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]["State"] == state:
            return
        time.sleep(0.05)
    raise AssertionError(f"volume {vid} never became {state}")


def command(cloud: Any, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """An installed command (a euca2ools one, say) against ``cloud`` (only its
    EUCA_CONFIG_PATH points at it); never a traceback, and status 0 when ``check``."""
    proc = subprocess.run([str(Path(sys.executable).parent / args[0]), *args[1:]],
                          env=cloud.env(), capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, f"{args}: {proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc
