"""Malformed requests that used to answer 500: each now gets AWS's 4xx.

Parameter names that are only digits (EC2, IAM, STS), policies nested thousands deep,
a metadata signature header that is not ASCII.
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

CALLS = {
    "ec2": ("/services/compute", "2016-11-15", "DescribeSecurityGroups"),
    "iam": ("/services/Euare", "2010-05-08", "ListUsers"),
    "sts": ("/services/Tokens", "2011-06-15", "GetCallerIdentity"),
}


def _signed(cloud: Any, service: str, form: list[tuple[str, str]]) -> requests.Response:
    creds = cloud.credentials()
    path, version, _ = CALLS[service]
    url = cloud.url + path
    req = AWSRequest("POST", url, data=urlencode([("Version", version), *form]),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(creds["key"], creds["secret"]), service, "us-east-1").add_auth(req)
    return requests.post(url, data=req.body, headers=dict(req.headers), timeout=10)


@pytest.mark.parametrize("service", sorted(CALLS))
@pytest.mark.parametrize("extra", [
    [("1", "x")],
    [("1", "x"), ("2", "y")],
    [("1.Name", "x")],
    [("\u00b2", "x")],                 # a digit to str.isdigit, not to int()
    [("Filter.\u00b2.Name", "x")],
    [("Filter." + "9" * 5000 + ".Name", "x")],
    [("Filter." + ".".join(["1"] * 3000), "x")],
    [(".".join(["a"] * 5000), "x")],
], ids=["one", "two", "nested", "superscript", "superscript-index", "huge-index",
        "deep-index", "deep-name"])
def test_numeric_parameter_names(cloud: Any, service: str, extra: list[tuple[str, str]]) -> None:
    """Names made of digits are parameters like any other: never a 500."""
    action = CALLS[service][2]
    resp = _signed(cloud, service, [("Action", action), *extra])
    assert resp.status_code < 500, resp.text
    assert "InternalError" not in resp.text


def _nested(depth: int) -> Any:
    value: Any = "a"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("document", [
    "[" * 5000,
    "{" + '"a":{' * 3000 + "}" * 3001,
    json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "ec2:*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:username": _nested(80)}}}]}),
], ids=["brackets", "braces", "deep-condition"])
def test_deeply_nested_user_policy(cloud: Any, document: str) -> None:
    """PutUserPolicy with a document nested far too deep: MalformedPolicyDocument, 400."""
    iam = cloud.client("iam")
    try:
        iam.create_user(UserName="nested")
    except ClientError:
        pass
    resp = _signed(cloud, "iam", [("Action", "PutUserPolicy"), ("UserName", "nested"),
                                  ("PolicyName", "deep"), ("PolicyDocument", document)])
    assert resp.status_code == 400, resp.text
    assert "<Code>MalformedPolicyDocument</Code>" in resp.text


def test_deeply_nested_pagination_token(cloud: Any) -> None:
    """A NextToken that decodes to deeply nested JSON is an invalid token, not a 500."""
    import base64

    token = base64.urlsafe_b64encode(b"[" * 5000).decode()
    with pytest.raises(ClientError) as err:
        cloud.client("ec2").describe_instances(MaxResults=5, NextToken=token)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def _raw_get(cloud: Any, path: str, headers: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", cloud.port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + headers
                     + b"Connection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


@pytest.mark.parametrize("signature", ["\u00e9".encode("latin-1"), "\u00e9\u4e2d".encode(),
                                       b"\xff\xfe" * 32])
def test_metadata_non_ascii_signature(cloud: Any, signature: bytes) -> None:
    """A non-ASCII X-Instance-ID-Signature is a bad signature (403), not a 500."""
    answer = _raw_get(cloud, "/latest/meta-data/instance-id",
                      b"X-Instance-ID: i-0123456789abcdef0\r\nX-Instance-ID-Signature: "
                      + signature + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
