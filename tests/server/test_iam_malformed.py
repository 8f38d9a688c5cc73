"""Malformed IAM and STS requests: every action answers a 4xx with an AWS code, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from helpers import new_account as _new_account

from server.auth import iam_account, iam_certs, iam_policies, iam_roles, oidc, tokens

IAM_ACTIONS = sorted({*iam_policies.ACTIONS, *iam_roles.ACTIONS, *iam_certs.ACTIONS,
                      *iam_account.ACTIONS, *oidc.ACTIONS})
STS_ACTIONS = sorted(tokens.ACTIONS)

#: Parameter sets that are wrong in shape or value for every action.
JUNK: list[dict[str, str]] = [
    {},
    {"UserName": "bad name!", "GroupName": "", "RoleName": "x" * 200, "PolicyArn": "nope",
     "PolicyName": "", "InstanceProfileName": "%%", "ServerCertificateName": "..."},
    {"PolicyDocument": "[" * 5000, "AssumeRolePolicyDocument": "{\"Statement\": 3}",
     "PolicyArn": "arn:aws:iam::aws:policy/", "Tags.member.1.Key": "",
     "MaxSessionDuration": "many", "MaxItems": "-1", "Marker": "zz",
     "DurationSeconds": "1e9", "RoleArn": "arn:aws:iam::1:role/", "RoleSessionName": "a",
     "ActionNames.member.1.x": "y", "ContextEntries.member.1": "z",
     "PolicyArns.member.1": "scalar", "Url": "ftp://x", "ThumbprintList.member.1": "zz",
     "CertificateBody": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
     "PrivateKey": "junk", "Password": "", "AccountAlias": "-", "EntityFilter": "Nope",
     "Status": "Maybe", "Scope": "Everything", "OnlyAttached": "perhaps"},
    {"UserName": "u", "GroupName": "g", "RoleName": "r", "PolicyName": "p",
     "PolicyDocument": "[" * 5000, "AssumeRolePolicyDocument": "[" * 5000,
     "PolicyInputList.member.1": "{\"a\":" * 3000, "Policy": "[" * 5000,
     "ActionNames.member.1": "ec2:RunInstances", "RoleArn": "arn:aws:iam::1:role/r",
     "RoleSessionName": "session"},
    {"UserName.1": "a", "RoleName.member.1": "b", "PolicyArn.x": "c", "Tags": "flat",
     "TagKeys.member.1.deep": "d", "ClientIDList": "e", "Filter.member.1": "User",
     "PolicyInputList.member.1": "{", "EncodedMessage": "!!", "AccessKeyId": "short"},
]


@pytest.fixture(scope="module")
def creds(cloud) -> tuple[str, str]:
    _, key, secret = _new_account(cloud, "malformed")
    return key, secret


def _call(cloud: Any, creds: tuple[str, str], service: str, path: str, version: str,
          params: dict[str, str]) -> requests.Response:
    req = AWSRequest("POST", cloud.url + path, data={"Version": version, **params})
    SigV4Auth(Credentials(*creds), service, "us-east-1").add_auth(req)
    return requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=20)


@pytest.mark.parametrize("action", IAM_ACTIONS)
def test_iam_actions_refuse_junk_cleanly(cloud, creds, action: str) -> None:
    for params in JUNK:
        resp = _call(cloud, creds, "iam", "/services/Euare", "2010-05-08",
                     {"Action": action, **params})
        assert resp.status_code < 500 or resp.status_code == 501, (action, params, resp.text)
        if resp.status_code >= 400:
            assert "<Code>" in resp.text and "Traceback" not in resp.text


@pytest.mark.parametrize("action", STS_ACTIONS)
def test_sts_actions_refuse_junk_cleanly(cloud, creds, action: str) -> None:
    for params in JUNK:
        resp = _call(cloud, creds, "sts", "/services/Tokens", "2011-06-15",
                     {"Action": action, **params})
        assert resp.status_code < 500 or resp.status_code == 501, (action, params, resp.text)
