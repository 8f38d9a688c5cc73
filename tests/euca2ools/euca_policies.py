"""Giving a test user the policy it needs (users start with no permission at all)."""

from __future__ import annotations

from pathlib import Path


def allow(ini: Path, user: str, action: str) -> None:
    """PutUserPolicy allowing ``action`` to ``user``, as the ini's (admin) user."""
    import configparser
    import json

    import boto3

    cp = configparser.ConfigParser()
    cp.read(ini)
    region = next(s for s in cp.sections() if s.startswith("region "))
    creds = cp[next(s for s in cp.sections() if s.startswith("user "))]
    url = next(v for v in cp[region].values() if v.endswith("/services/Euare"))
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id=creds["key-id"],
                       aws_secret_access_key=creds["secret-key"])
    iam.put_user_policy(UserName=user, PolicyName="allow", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}))
