"""IAM inline user policies: Put/Get/List/DeleteUserPolicy, validation and IAM's errors."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from helpers import error_code
from helpers import new_account as _new_account

ALLOW_ALL = {"Version": "2012-10-17",
             "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}


def test_user_policy_lifecycle(cloud) -> None:
    """A policy is stored as given, listed by name, read back as JSON and deleted."""
    _, key, secret = _new_account(cloud, "pol-life")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_user(UserName="bob")
    assert iam.list_user_policies(UserName="bob")["PolicyNames"] == []
    iam.put_user_policy(UserName="bob", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
    s3_read = {"Version": "2012-10-17",
               "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                              "Resource": "arn:aws:s3:::b/*"}]}
    iam.put_user_policy(UserName="bob", PolicyName="read", PolicyDocument=json.dumps(s3_read))
    assert iam.list_user_policies(UserName="bob")["PolicyNames"] == ["all", "read"]
    got = iam.get_user_policy(UserName="bob", PolicyName="read")
    assert got["UserName"] == "bob" and got["PolicyName"] == "read"
    assert got["PolicyDocument"] == s3_read  # botocore decodes the URL-encoded JSON
    # Putting under an existing name replaces the document.
    iam.put_user_policy(UserName="bob", PolicyName="read", PolicyDocument=json.dumps(ALLOW_ALL))
    assert iam.get_user_policy(UserName="bob", PolicyName="read")["PolicyDocument"] == ALLOW_ALL
    # A user with inline policies cannot be deleted until they are removed.
    with pytest.raises(ClientError) as err:
        iam.delete_user(UserName="bob")
    assert error_code(err) == "DeleteConflict"
    iam.delete_user_policy(UserName="bob", PolicyName="all")
    iam.delete_user_policy(UserName="bob", PolicyName="read")
    assert iam.list_user_policies(UserName="bob")["PolicyNames"] == []
    iam.delete_user(UserName="bob")


def test_user_policy_errors(cloud) -> None:
    """Unknown users and policies are NoSuchEntity; bad documents MalformedPolicyDocument."""
    _, key, secret = _new_account(cloud, "pol-errs")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_user(UserName="carol")
    with pytest.raises(ClientError) as err:
        iam.put_user_policy(UserName="nobody", PolicyName="p",
                            PolicyDocument=json.dumps(ALLOW_ALL))
    assert error_code(err) == "NoSuchEntity"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    for call in (lambda: iam.get_user_policy(UserName="carol", PolicyName="missing"),
                 lambda: iam.delete_user_policy(UserName="carol", PolicyName="missing")):
        with pytest.raises(ClientError) as err:
            call()
        assert error_code(err) == "NoSuchEntity"
    bad_documents = [
        "{not json",
        json.dumps({"Statement": []}),
        json.dumps({"Version": "2099-01-01", "Statement": ALLOW_ALL["Statement"]}),
        json.dumps({"Statement": {"Effect": "Maybe", "Action": "*", "Resource": "*"}}),
        json.dumps({"Statement": {"Effect": "Allow", "Resource": "*"}}),
        json.dumps({"Statement": {"Effect": "Allow", "Action": "*"}}),
        json.dumps({"Statement": {"Effect": "Allow", "Action": "GetObject", "Resource": "*"}}),
        json.dumps({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*",
                                  "Resource": "*"}}),
    ]
    for document in bad_documents:
        with pytest.raises(ClientError) as err:
            iam.put_user_policy(UserName="carol", PolicyName="p", PolicyDocument=document)
        assert error_code(err) == "MalformedPolicyDocument", document
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as err:
        iam.put_user_policy(UserName="carol", PolicyName="bad name!",
                            PolicyDocument=json.dumps(ALLOW_ALL))
    assert error_code(err) == "ValidationError"
    # IAM caps the total size of one user's inline policies at 2048 characters.
    big = {"Version": "2012-10-17",
           "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                          "Resource": f"arn:aws:s3:::bucket-{i:04d}/*"} for i in range(40)]}
    with pytest.raises(ClientError) as err:
        iam.put_user_policy(UserName="carol", PolicyName="big", PolicyDocument=json.dumps(big))
    assert error_code(err) == "LimitExceeded"
    assert iam.list_user_policies(UserName="carol")["PolicyNames"] == []


def test_user_policies_are_per_account(cloud) -> None:
    """Another account's same-named user does not see or change these policies."""
    _, key, secret = _new_account(cloud, "pol-one")
    _, key2, secret2 = _new_account(cloud, "pol-two")
    one = cloud.client("iam", key=key, secret=secret)
    two = cloud.client("iam", key=key2, secret=secret2)
    one.create_user(UserName="dave")
    two.create_user(UserName="dave")
    one.put_user_policy(UserName="dave", PolicyName="p", PolicyDocument=json.dumps(ALLOW_ALL))
    assert two.list_user_policies(UserName="dave")["PolicyNames"] == []
    with pytest.raises(ClientError) as err:
        two.delete_user_policy(UserName="dave", PolicyName="p")
    assert error_code(err) == "NoSuchEntity"
    assert one.list_user_policies(UserName="dave")["PolicyNames"] == ["p"]
