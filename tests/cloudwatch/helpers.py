"""Signed raw requests to CloudWatch in its JSON 1.0 and Query protocols."""

from __future__ import annotations

import json
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
