"""Hybrid AWS: the packaged aws:* regions, SigV4 for AWS's regions, endpoints and services.

AWS itself is unreachable here, so the signed requests are checked with ``responses``
and the commands are run against moto's in-process mock.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest
import responses

from euca2ools.main import main

REGIONS_XML = ("<DescribeRegionsResponse xmlns='http://ec2.amazonaws.com/doc/2015-10-01/'>"
               "<requestId>r</requestId><regionInfo><item><regionName>us-east-1</regionName>"
               "<regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint></item></regionInfo>"
               "</DescribeRegionsResponse>")
USERS_XML = ("<ListUsersResponse><ListUsersResult><Users><member><Arn>arn:aws:iam::1:user/a</Arn>"
             "</member></Users><IsTruncated>false</IsTruncated></ListUsersResult>"
             "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListUsersResponse>")


@pytest.fixture()
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Credentials in the environment and a user config with a local region only."""
    for var in ("EUCA_DEFAULT_REGION", "AWS_DEFAULT_REGION", "EC2_URL", "AWS_IAM_URL",
                "AWS_CREDENTIAL_FILE", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    ini = tmp_path / "euca2ools.ini"
    ini.write_text("[global]\ndefault-region = local\n\n[region local]\n"
                   "ec2-url = http://127.0.0.1:1/services/compute\n")
    monkeypatch.setenv("EUCA_CONFIG_PATH", str(ini))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDAWS")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "awssecret")
    return ini


def _scope(call: responses.Call) -> list[str]:
    auth = call.request.headers["Authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 ")
    return auth.split("Credential=")[1].split(",")[0].split("/")


@pytest.mark.parametrize("region", ["aws:us-east-1", "us-east-1"])
@responses.activate
def test_ec2_signed_for_aws_region(aws_env: Path, capsys: pytest.CaptureFixture[str],
                                   region: str) -> None:
    """--region aws:us-east-1 (or the bare name) goes to AWS's endpoint, signed for it."""
    responses.add(responses.POST, "https://ec2.us-east-1.amazonaws.com/", body=REGIONS_XML)
    assert main(["euca-describe-regions", "--region", region, "--filter",
                 "region-name=us-east-1"]) == 0
    assert capsys.readouterr().out == "REGION\tus-east-1\tec2.us-east-1.amazonaws.com\n"
    call = responses.calls[0]
    assert urllib.parse.urlsplit(call.request.url).hostname == "ec2.us-east-1.amazonaws.com"
    assert _scope(call)[0] == "AKIDAWS"
    assert _scope(call)[2:] == ["us-east-1", "ec2", "aws4_request"]
    body = call.request.body
    params = dict(urllib.parse.parse_qsl(body.decode() if isinstance(body, bytes) else body))
    assert params["Action"] == "DescribeRegions"
    assert params["Filter.1.Name"] == "region-name"
    assert params["Filter.1.Value.1"] == "us-east-1"


@responses.activate
def test_other_region_and_global_iam(aws_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """EC2 in eu-west-1 signs for eu-west-1; IAM is global and signs for us-east-1."""
    responses.add(responses.POST, "https://ec2.eu-west-1.amazonaws.com/", body=REGIONS_XML)
    responses.add(responses.POST, "https://iam.amazonaws.com/", body=USERS_XML)
    assert main(["euca-describe-regions", "--region", "aws:eu-west-1"]) == 0
    assert main(["euare-userlistbypath", "--region", "aws:eu-west-1"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "arn:aws:iam::1:user/a"
    assert _scope(responses.calls[0])[2:4] == ["eu-west-1", "ec2"]
    assert _scope(responses.calls[1])[2:4] == ["us-east-1", "iam"]


def test_aws_regions_present_whatever_the_path(tmp_path: Path) -> None:
    """The packaged regions are read first, with the lowest precedence."""
    from euca2ools.config import Config, find_endpoint

    ini = tmp_path / "mine.ini"
    ini.write_text("[region aws:us-west-2]\nec2-url = http://override/\n")
    config = Config(config_path=str(ini))
    assert config.get_region("aws:us-west-2", "ec2-url") == "http://override/"
    endpoint = find_endpoint(config, "ec2", "aws:sa-east-1", environ={})
    assert endpoint.url == "https://ec2.sa-east-1.amazonaws.com/"
    assert endpoint.region_name == "sa-east-1" and endpoint.verify is True


def test_commands_against_moto_mock(aws_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """moto's in-process mock as AWS: run, describe with filter, tag, terminate."""
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        assert main(["euca-create-keypair", "--region", "aws:us-east-1", "k1"]) == 0
        assert main(["euca-run-instances", "--region", "aws:us-east-1", "-n", "3", "-k", "k1",
                     "-t", "t2.micro", "ami-12c6146b"]) == 0
        out = capsys.readouterr().out
        ids = [line.split("\t")[1] for line in out.splitlines() if line.startswith("INSTANCE\t")]
        assert len(ids) == 3
        assert main(["euca-create-tags", "--region", "aws:us-east-1", ids[0], "--tag",
                     "Name=web"]) == 0
        capsys.readouterr()
        assert main(["euca-describe-instances", "--region", "aws:us-east-1",
                     "--filter", "tag:Name=web"]) == 0
        out = capsys.readouterr().out
        inst = [line.split("\t") for line in out.splitlines() if line.startswith("INSTANCE\t")]
        assert [i[1] for i in inst] == [ids[0]] and len(inst[0]) == 33
        assert f"TAG\tinstance\t{ids[0]}\tName\tweb" in out.splitlines()
        assert main(["euca-terminate-instances", "--region", "aws:us-east-1", *ids]) == 0
        out = capsys.readouterr().out
        assert sorted(line.split("\t")[1] for line in out.splitlines()) == sorted(ids)
        assert main(["euare-usercreate", "--region", "aws:us-east-1", "-k", "bob"]) == 0
        key_id, secret = capsys.readouterr().out.splitlines()
        assert key_id and secret
