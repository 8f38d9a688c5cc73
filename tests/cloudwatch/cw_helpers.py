"""Signed raw requests to CloudWatch in its JSON 1.0 and Query protocols."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def call_json(cloud: Any, action: str, body: dict[str, Any], path: str = "/") -> requests.Response:
    """One AWS JSON 1.0 request (``X-Amz-Target: GraniteServiceVersion20100801.ACTION``)."""
    creds = cloud.credentials()
    req = AWSRequest("POST", cloud.url + path, data=json.dumps(body).encode(), headers={
        "X-Amz-Target": f"GraniteServiceVersion20100801.{action}",
        "Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(Credentials(creds["key"], creds["secret"]), "monitoring", "us-east-1").add_auth(req)
    return requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=30)


def call_query(cloud: Any, action: str, params: dict[str, str],
               path: str = "/services/CloudWatch") -> requests.Response:
    """One Query-protocol request (form parameters, XML answer)."""
    creds = cloud.credentials()
    data = {"Action": action, "Version": "2010-08-01", **params}
    req = AWSRequest("POST", cloud.url + path, data=data,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(creds["key"], creds["secret"]), "monitoring", "us-east-1").add_auth(req)
    return requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=30)


def cbor_client(cloud: Any, data_dir: Path, path: str = "/services/CloudWatch") -> Any:
    """A boto3 CloudWatch client that speaks Smithy RPC v2 CBOR.

    The installed botocore lists CloudWatch's protocols as CBOR, JSON and Query and picks
    JSON first; a copy of its service model that offers only CBOR (in a data path searched
    first) makes it use CBOR, as SDKs that prefer CBOR do.
    """
    import boto3
    import botocore
    import botocore.session
    from botocore.config import Config

    src = Path(botocore.__file__).parent / "data" / "cloudwatch" / "2010-08-01"
    model = json.loads(gzip.decompress((src / "service-2.json.gz").read_bytes()))
    model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    model["metadata"]["protocol"] = "smithy-rpc-v2-cbor"
    target = data_dir / "cloudwatch" / "2010-08-01"
    target.mkdir(parents=True, exist_ok=True)
    (target / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(data_dir))
    creds = cloud.credentials()
    return boto3.Session(botocore_session=session).client(
        "cloudwatch", endpoint_url=cloud.url + path, region_name="us-east-1",
        aws_access_key_id=creds["key"], aws_secret_access_key=creds["secret"],
        config=Config(retries={"max_attempts": 1}))
