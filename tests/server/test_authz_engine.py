"""The policy language and AWS's evaluation logic, on the engine itself."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.auth.policy import (
    PolicyError,
    PolicySet,
    Request,
    RequestContext,
    decide,
    evaluate,
    group,
    parse,
)

ME = frozenset({"111122223333", "arn:aws:iam::111122223333:root",
                "arn:aws:iam::111122223333:user/alice"})


def doc(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    """A policy document."""
    return json.dumps({"Version": version, "Statement": list(statements)})


def st(effect: str = "Allow", action: Any = "*", resource: Any = "*", **kw: Any) -> dict:
    """A statement."""
    return {"Effect": effect, "Action": action, "Resource": resource, **kw}


def req(action: str = "ec2:RunInstances", resource: str = "*", **keys: Any) -> Request:
    """A request by alice with condition keys (``aws_sourceip=`` for ``aws:sourceip``)."""
    values = {k.replace("__", "/").replace("_", ":", 1): v for k, v in keys.items()}
    return Request(action, resource, ME, RequestContext(values))


def verdict(policy: str, request: Request) -> str | None:
    """Allow, Deny or None."""
    return evaluate(policy, request)


def cond(op: str, key: str, value: Any) -> dict[str, Any]:
    """An Allow-everything statement with one condition."""
    return st(Condition={op: {key: value}})


def test_actions_are_case_insensitive_wildcards() -> None:
    """``EC2:run*`` names ec2:RunInstances; resources are case-sensitive."""
    assert verdict(doc(st(action="EC2:run*")), req()) == "Allow"
    assert verdict(doc(st(action=["s3:*", "ec2:Describe?nstances"])),
                   req("ec2:DescribeInstances")) == "Allow"
    assert verdict(doc(st(action="ec2:Describe*")), req()) is None
    assert verdict(doc(st(resource="arn:aws:ec2:*:*:instance/I-*")),
                   req(resource="arn:aws:ec2:r:1:instance/i-1")) is None


def test_not_action_not_resource_and_deny() -> None:
    """NotAction/NotResource invert; an explicit Deny wins over any Allow."""
    policy = doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert verdict(policy, req()) == "Allow"
    assert verdict(policy, req("iam:CreateUser")) is None
    policy = doc({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::secret/*"})
    assert verdict(policy, req("s3:GetObject", "arn:aws:s3:::secret/x")) is None
    assert verdict(policy, req("s3:GetObject", "arn:aws:s3:::open/x")) == "Allow"
    assert verdict(doc(st(), st("Deny", "ec2:RunInstances")), req()) == "Deny"


@pytest.mark.parametrize("op,key,value,keys,expected", [
    ("StringEquals", "ec2:InstanceType", "m1.small", {"ec2_InstanceType": "m1.small"}, True),
    ("StringEquals", "ec2:InstanceType", "m1.small", {"ec2_InstanceType": "M1.small"}, False),
    ("StringEqualsIgnoreCase", "ec2:InstanceType", "M1.SMALL",
     {"ec2_InstanceType": "m1.small"}, True),
    ("StringNotEquals", "ec2:InstanceType", "m1.small", {"ec2_InstanceType": "c1.xl"}, True),
    ("StringNotEquals", "ec2:InstanceType", "m1.small", {}, True),
    ("StringLike", "s3:prefix", "home/*", {"s3_prefix": "home/alice"}, True),
    ("StringNotLike", "s3:prefix", "home/*", {"s3_prefix": "home/alice"}, False),
    ("NumericLessThan", "s3:max-keys", "10", {"s3_max-keys": "9"}, True),
    ("NumericGreaterThanEquals", "s3:max-keys", "10", {"s3_max-keys": "9"}, False),
    ("NumericEquals", "s3:max-keys", "10", {"s3_max-keys": "ten"}, False),
    ("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z",
     {"aws_currenttime": "2026-06-01T00:00:00Z"}, True),
    ("DateGreaterThan", "aws:EpochTime", "2030-01-01", {"aws_epochtime": "1780000000"}, False),
    ("Bool", "aws:SecureTransport", "true", {"aws_securetransport": "false"}, False),
    ("Bool", "aws:SecureTransport", True, {"aws_securetransport": "true"}, True),
    ("BinaryEquals", "s3:x", "QUJD", {"s3_x": "QUJD"}, True),
    ("IpAddress", "aws:SourceIp", "10.0.0.0/8", {"aws_sourceip": "10.1.2.3"}, True),
    ("IpAddress", "aws:SourceIp", ["192.0.2.0/24", "::1/128"], {"aws_sourceip": "::1"}, True),
    ("NotIpAddress", "aws:SourceIp", "10.0.0.0/8", {"aws_sourceip": "10.1.2.3"}, False),
    ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:user/a*",
     {"aws_principalarn": "arn:aws:iam::1:user/alice"}, True),
    ("ArnNotEquals", "aws:PrincipalArn", "arn:aws:iam::1:user/alice",
     {"aws_principalarn": "arn:aws:iam::1:user/alice"}, False),
    ("Null", "aws:TokenIssueTime", "true", {}, True),
    ("Null", "aws:TokenIssueTime", "false", {}, False),
    ("StringEqualsIfExists", "ec2:InstanceType", "m1.small", {}, True),
    ("StringEqualsIfExists", "ec2:InstanceType", "m1.small", {"ec2_InstanceType": "x"}, False),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["a", "b"], {"aws_tagkeys": ["c", "a"]}, True),
    ("ForAllValues:StringEquals", "aws:TagKeys", ["a", "b"], {"aws_tagkeys": ["c", "a"]},
     False),
    ("ForAllValues:StringEquals", "aws:TagKeys", ["a", "b"], {}, True),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["a", "b"], {}, False),
])
def test_condition_operators(op: str, key: str, value: Any, keys: dict[str, Any],
                             expected: bool) -> None:
    """Every operator family, IfExists, the set qualifiers, absent keys."""
    request = req(**{k.lower(): v for k, v in keys.items()})
    assert (verdict(doc(cond(op, key, value)), request) == "Allow") is expected


def test_condition_keys_are_case_insensitive_values_are_not() -> None:
    """``AWS:SourceIP`` is the key ``aws:sourceip``."""
    assert verdict(doc(cond("IpAddress", "AWS:SourceIP", "127.0.0.0/8")),
                   req(aws_sourceip="127.0.0.1")) == "Allow"


def test_policy_variables() -> None:
    """``${aws:username}`` in 2012-10-17 documents; a default; 2008-10-17 is literal."""
    home = st(action="s3:*", resource="arn:aws:s3:::home/${aws:username}/*")
    assert verdict(doc(home), req("s3:GetObject", "arn:aws:s3:::home/alice/x",
                                  aws_username="alice")) == "Allow"
    assert verdict(doc(home), req("s3:GetObject", "arn:aws:s3:::home/bob/x",
                                  aws_username="alice")) is None
    assert verdict(doc(home, version="2008-10-17"),
                   req("s3:GetObject", "arn:aws:s3:::home/alice/x", aws_username="alice")) \
        is None
    default = cond("StringEquals", "s3:prefix", "${aws:username, 'nobody'}")
    assert verdict(doc(default), req(s3_prefix="nobody")) == "Allow"


def test_principal_and_not_principal() -> None:
    """Resource policies name principals by account, root ARN, user ARN or ``*``."""
    for who in ("*", {"AWS": "111122223333"}, {"AWS": "arn:aws:iam::111122223333:root"},
                {"AWS": ["arn:aws:iam::111122223333:user/alice"]}):
        assert verdict(doc(st(Principal=who)), req()) == "Allow", who
    assert verdict(doc(st(Principal={"AWS": "999999999999"})), req()) is None
    assert verdict(doc(st(NotPrincipal={"AWS": "999999999999"})), req()) == "Allow"
    anonymous = Request("s3:GetObject", "*", frozenset(), RequestContext())
    assert verdict(doc(st(Principal="*")), anonymous) == "Allow"
    assert verdict(doc(st(Principal={"AWS": "111122223333"})), anonymous) is None


def test_evaluation_logic() -> None:
    """Identity, boundary, session, resource and account policies combine as AWS's."""
    allow_all, deny_run = group((doc(st()),)), group((doc(st("Deny", "ec2:RunInstances")),))
    only_describe = group((doc(st(action="ec2:Describe*")),))
    r = req()
    assert not decide(r, PolicySet(account_id="111122223333")).allowed  # default deny
    assert decide(r, PolicySet(identity=allow_all, account_id="1")).allowed
    assert not decide(r, PolicySet(identity=allow_all, boundary=only_describe)).allowed
    assert not decide(r, PolicySet(identity=allow_all, session=only_describe)).allowed
    assert decide(req("ec2:DescribeImages"),
                  PolicySet(identity=allow_all, boundary=only_describe)).allowed
    # The account's admin: allowed without a policy, but an account-level Deny binds it.
    assert decide(r, PolicySet(implicit=True)).allowed
    denied = decide(r, PolicySet(implicit=True, account=deny_run))
    assert not denied.allowed and denied.explicit_deny
    # Same account: a resource policy alone grants; across accounts both must allow.
    bucket = group((doc(st(Principal={"AWS": "111122223333"})),))
    same = PolicySet(account_id="111122223333")
    assert decide(r, same, bucket, resource_account="111122223333").allowed
    assert not decide(r, same, bucket, resource_account="444455556666").allowed
    both = PolicySet(identity=allow_all, account_id="111122223333")
    assert decide(r, both, bucket, resource_account="444455556666").allowed
    assert not decide(r, both, group((doc(st("Deny", Principal="*")),)),
                      resource_account="111122223333").allowed


def test_limit_statements_are_quotas_not_grants() -> None:
    """``Limit`` is parsed into the policy's quotas and never allows."""
    policy = parse(doc({"Effect": "Limit", "Action": "ec2:RunInstances", "Resource": "*",
                        "Condition": {"NumericLessThanEquals":
                                      {"ec2:quota-vminstancenumber": "3"}}}))
    assert policy.statements == () and len(policy.limits) == 1
    assert verdict(doc({"Effect": "Limit", "Action": "*", "Resource": "*"}), req()) is None


@pytest.mark.parametrize("text", [
    "{", "[]", json.dumps({"Statement": []}),
    json.dumps({"Version": "2011-01-01", "Statement": st()}),
    doc({"Effect": "Maybe", "Action": "*", "Resource": "*"}),
    doc({"Effect": "Allow", "Resource": "*"}),
    doc({"Effect": "Allow", "Action": "*"}),
    doc({"Effect": "Allow", "Action": "RunInstances", "Resource": "*"}),
    doc(st(Condition={"StringSortOf": {"a:b": "c"}})),
    doc(st(Condition={"StringEquals": "x"})),
    "[" * 5000 + "]" * 5000,
    '{"Statement": ' + "[" * 5000 + "]" * 5000 + "}",
])
def test_malformed_policies(text: str) -> None:
    """What IAM refuses, including absurdly deep JSON, is a PolicyError (never a crash)."""
    with pytest.raises(PolicyError):
        parse(text)
    assert evaluate(text, req()) is None  # and it grants nothing


def test_authorization_messages_round_trip() -> None:
    """An encoded message decodes to AWS's shape; a forged one is refused."""
    from server.auth.policy import (
        Decision,
        authorization_message,
        decode_authorization_message,
        encode_authorization_message,
    )

    r = req("ec2:TerminateInstances", "arn:aws:ec2:r:1:instance/i-1", aws_sourceip="127.0.0.1")
    message = authorization_message(r, Decision(False, True), {"arn": "a"})
    token = encode_authorization_message(message)
    decoded = decode_authorization_message(token)
    assert decoded == message
    assert decoded["context"]["action"] == "ec2:TerminateInstances"
    with pytest.raises(ValueError):
        decode_authorization_message(token[:-4] + "AAAA")


def test_put_user_policy_uses_the_engine_checks(cloud) -> None:
    """IAM refuses what the engine cannot evaluate: an unknown condition operator."""
    from botocore.exceptions import ClientError
    from helpers import error_code, new_account

    _, key, secret = new_account(cloud, "engine-checks")
    iam = cloud.client("iam", key=key, secret=secret)
    iam.create_user(UserName="u")
    with pytest.raises(ClientError) as err:
        iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=doc(
            st(Condition={"StringSortOf": {"aws:username": "u"}})))
    assert error_code(err) == "MalformedPolicyDocument"
    iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=doc(
        st(Condition={"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": "a*"}})))


def test_simulate_answers_in_iam_shape() -> None:
    """The evaluation SimulatePrincipalPolicy/SimulateCustomPolicy report."""
    from server.auth.policy import simulate

    policies = [doc(st(action="ec2:*"), {**st("Deny", "ec2:TerminateInstances"), "Sid": "no"})]
    assert simulate(policies, "ec2:RunInstances")["EvalDecision"] == "allowed"
    denied = simulate(policies, "ec2:TerminateInstances")
    assert denied["EvalDecision"] == "explicitDeny"
    assert denied["MatchedStatements"][-1]["StatementId"] == "no"
    assert simulate(policies, "iam:CreateUser")["EvalDecision"] == "implicitDeny"
    ip = [doc(cond("IpAddress", "aws:SourceIp", "10.0.0.0/8"))]
    assert simulate(ip, "s3:GetObject", context={"aws:SourceIp": "10.0.0.1"})[
        "EvalDecision"] == "allowed"
