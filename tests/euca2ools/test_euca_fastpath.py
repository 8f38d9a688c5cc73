"""The stdlib fast path agrees with the complete path: signatures, parsing, output."""

from __future__ import annotations

import pytest

from euca2ools import fastpath, xmlparse
from euca2ools.commands import all_commands

SAMPLES = [
    b"<DescribeInstancesResponse xmlns='http://ec2.amazonaws.com/doc/2015-10-01/'>"
    b"<requestId>x</requestId><reservationSet><item><reservationId>r-1</reservationId>"
    b"<groupSet/><instancesSet><item><instanceId>i-1</instanceId><tagSet><item><key>a</key>"
    b"<value/></item></tagSet><dnsName/></item></instancesSet></item></reservationSet>"
    b"</DescribeInstancesResponse>",
    b"<ListUsersResponse><ListUsersResult><Users/><IsTruncated>false</IsTruncated>"
    b"</ListUsersResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
    b"</ListUsersResponse>",
    b"<GetConsoleOutputResponse><instanceId>i-1</instanceId><output>aGkK\nbG8=</output>"
    b"</GetConsoleOutputResponse>",
]


@pytest.mark.parametrize("body", SAMPLES)
def test_both_parsers_agree(body: bytes) -> None:
    """defusedxml and pyexpat builders give the same dicts."""
    assert xmlparse.parse_response(body) == xmlparse.parse_response_fast(body)


def test_parse_shapes() -> None:
    """Wrapper stripped, item lists as lists, empty sets as []."""
    result = xmlparse.parse_response_fast(SAMPLES[0])
    assert result == {"reservationSet": [{"reservationId": "r-1", "groupSet": [], "instancesSet": [
        {"instanceId": "i-1", "tagSet": [{"key": "a", "value": ""}], "dnsName": ""}]}]}
    assert xmlparse.parse_response_fast(SAMPLES[1]) == {"Users": [], "IsTruncated": "false"}


def test_fast_parser_refuses_entities() -> None:
    """No DTDs or entity declarations (billion laughs)."""
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(ValueError):
        xmlparse.parse_response_fast(bomb)


def test_signer_matches_botocore() -> None:
    """Our SigV4 signature equals botocore's for the same request and time."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = b"Action=DescribeInstances&Version=2015-10-01&Filter.1.Name=tag%3AName"
    request = AWSRequest(method="POST", url="http://127.0.0.1:8773/services/compute", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials("AKID", "secret", "tok"), "ec2", "eucalyptus").add_auth(request)
    theirs = request.headers["Authorization"]
    ours = fastpath.sign_v4("POST", "127.0.0.1:8773", "/services/compute", body, "eucalyptus",
                            "ec2", "AKID", "secret", "tok", request.headers["X-Amz-Date"])
    assert ours["authorization"] == theirs


def test_signer_matches_requests_aws4auth() -> None:
    """And requests-aws4auth's, which the complete path uses."""
    import requests
    from requests_aws4auth import AWS4Auth

    data = {"Action": "DescribeRegions", "Version": "2015-10-01"}
    prepared = requests.Request("POST", "http://127.0.0.1:8773/services/compute", data=data).prepare()
    prepared.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    prepared.headers["X-Amz-Date"] = "20261124T010203Z"
    # The signing key's date is given, not taken from today: the test must pass on any day.
    auth = AWS4Auth("AKID", "secret", "eucalyptus", "ec2", date="20261124",
                    include_hdrs=["host", "content-type", "x-amz-date"])
    signed = auth(prepared)
    ours = fastpath.sign_v4("POST", "127.0.0.1:8773", "/services/compute", prepared.body.encode()
                            if isinstance(prepared.body, str) else prepared.body, "eucalyptus",
                            "ec2", "AKID", "secret", None, "20261124T010203Z")
    assert ours["authorization"].split("Signature=")[1] == \
        signed.headers["Authorization"].split("Signature=")[1]


@pytest.mark.parametrize("argv,handled", [
    (["i-1", "--filter", "a=b"], True),
    (["--help"], False),
    (["--debug"], False),
    (["--no-such-option"], False),
    (["-U"], False),
    (["--region=me@there"], True),
])
def test_parse_argv_hands_over_when_unsure(argv: list[str], handled: bool) -> None:
    """Anything unusual goes to click."""
    command = next(c for c in all_commands() if c.name == "euca-describe-instances")
    assert (fastpath.parse_argv(command, argv) is not None) is handled


def test_fast_and_click_print_the_same(euca, moto_ini) -> None:  # type: ignore[no-untyped-def]
    """Byte-identical output from both paths for a few commands."""
    euca("euca-run-instances", "ami-12c6146b", "-n", "2", ini=moto_ini)
    for args in (["euca-describe-instances"], ["euca-describe-regions"],
                 ["euca-describe-groups"], ["euca-describe-keypairs"],
                 ["euca-describe-instances", "--show-empty-fields"]):
        fast = euca(*args, ini=moto_ini).stdout
        slow = euca(*args, ini=moto_ini, env={"EUCA2OOLS_NO_FASTPATH": "1"}).stdout
        assert fast == slow, args
