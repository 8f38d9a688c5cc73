"""euca2ools.ini resolution (reference §3) and the client library API."""

from __future__ import annotations

from pathlib import Path

import pytest

from euca2ools.client import EMPTY, Session, flatten_params
from euca2ools.config import (
    Config,
    config_files,
    find_credentials,
    find_endpoint,
    select_region_user,
)
from euca2ools.exceptions import ArgumentError, ConfigError, ServiceError

INI = """
[global]
default-region = euca:one

[region euca:*]
iam-url = http://iam.example/
user = alice

[region euca:one]
ec2-url = http://one.example/services/compute
name = signing-one

[region euca:two]
ec2-url = use region euca:one
iam-url = use region euca:one ec2-url

[region other:one]
ec2-url = http://other/

[region *]
monitoring-url = http://fallback/

[user alice]
key-id = AKIDALICE
secret-key = alicesecret

[user bob]
key-id = use user alice
secret-key = bobsecret
"""


@pytest.fixture()
def config(tmp_path: Path) -> Config:
    """A config from INI plus the packaged AWS regions."""
    (tmp_path / "a.ini").write_text(INI)
    (tmp_path / "b.ini").write_text("[region euca:one]\nec2-url = http://later/\n")
    return Config(config_path=str(tmp_path / "*.ini"))


def test_files_order_and_glob(tmp_path: Path, config: Config) -> None:
    """The packaged aws.ini comes first; globs are sorted; later files win."""
    files = config_files(str(tmp_path / "*.ini"))
    assert files[0].endswith("aws.ini") and files[1:] == sorted(files[1:])
    assert config.get_region("euca:one", "ec2-url") == "http://later/"


def test_wildcards_and_redirection(config: Config) -> None:
    """Most specific section wins; ``use`` follows another section/option."""
    assert config.get_region("euca:one", "iam-url") == "http://iam.example/"
    assert config.get_region("euca:two", "ec2-url") == "http://later/"
    assert config.get_region("euca:two", "iam-url") == "http://later/"
    assert config.get_region("anything", "monitoring-url") == "http://fallback/"
    assert config.get_user("bob", "key-id") == "AKIDALICE"


def test_bare_names_and_ambiguity(config: Config) -> None:
    """``two`` means euca:two; ``one`` is ambiguous between euca:one and other:one."""
    assert config.resolve_name("region", "two") == "euca:two"
    assert config.resolve_name("region", "us-west-2") == "aws:us-west-2"
    with pytest.raises(ConfigError, match="ambiguous"):
        config.resolve_name("region", "one")


def test_region_user_precedence(config: Config) -> None:
    """--region beats EUCA_DEFAULT_REGION beats AWS_DEFAULT_REGION beats default-region."""
    assert select_region_user(config, None, {}) == ("euca:one", "alice")
    assert select_region_user(config, "bob@two", {}) == ("euca:two", "bob")
    assert select_region_user(config, "bob@", {"EUCA_DEFAULT_REGION": "two"}) == ("euca:two", "bob")
    env = {"EUCA_DEFAULT_REGION": "carol@", "AWS_DEFAULT_REGION": "two"}
    assert select_region_user(config, None, env) == ("euca:two", "carol")


def test_endpoint_precedence_and_signing_region(config: Config) -> None:
    """-U beats EC2_URL beats ec2-url; REGION:: and name set the SigV4 region."""
    ep = find_endpoint(config, "ec2", "euca:one", None, {})
    assert (ep.url, ep.region_name) == ("http://later/", "signing-one")
    ep = find_endpoint(config, "ec2", "euca:one", None, {"EC2_URL": "r2::http://env/"})
    assert (ep.url, ep.region_name) == ("http://env/", "r2")
    ep = find_endpoint(config, "ec2", "euca:one", "http://cli/", {"EC2_URL": "http://env/"})
    assert ep.url == "http://cli/"
    ep = find_endpoint(config, "ec2", None, "http://cli/", {"AWS_AUTH_REGION": "authr"})
    assert ep.region_name == "authr"
    with pytest.raises(ConfigError, match="Configured regions with sts endpoints are: aws:"):
        find_endpoint(config, "sts", "euca:one", None, {})


def test_credential_precedence(config: Config, tmp_path: Path) -> None:
    """-I/-S, then environment, then AWS_CREDENTIAL_FILE, then [user]; never mixed."""
    assert find_credentials(config, "alice", "K", "S", environ={}).key_id == "K"
    with pytest.raises(ArgumentError, match="-S"):
        find_credentials(config, "alice", "K", None, environ={})
    env = {"AWS_ACCESS_KEY": "EK", "AWS_SECRET_KEY": "ES"}
    assert find_credentials(config, "alice", environ=env).key_id == "EK"
    half = {"AWS_ACCESS_KEY_ID": "only-id"}
    assert find_credentials(config, "alice", environ=half).key_id == "AKIDALICE"
    cred_file = tmp_path / "creds"
    cred_file.write_text("# comment\nAWSAccessKeyId=FK\nAWSSecretKey=FS\n")
    assert find_credentials(config, "alice", environ={"AWS_CREDENTIAL_FILE": str(cred_file)}).key_id == "FK"
    expired = {**env, "AWS_CREDENTIAL_EXPIRATION": "2000-01-01T00:00:00Z"}
    with pytest.raises(ConfigError, match="expired"):
        find_credentials(config, "alice", environ=expired)
    with pytest.raises(ConfigError, match="missing access key ID"):
        find_credentials(config, "nobody", environ={})


def test_flatten_params() -> None:
    """Nested lists/dicts become AWS query names; None/'' dropped, EMPTY kept empty."""
    flat = flatten_params({"InstanceId": ["i-1", "i-2"], "Filter": [{"Name": "a", "Value": ["x"]}],
                           "Placement": {"AvailabilityZone": "z"}, "Flag": True, "None": None,
                           "Blank": "", "Empty": EMPTY, "Count": 3})
    assert flat == {"InstanceId.1": "i-1", "InstanceId.2": "i-2", "Filter.1.Name": "a",
                    "Filter.1.Value.1": "x", "Placement.AvailabilityZone": "z", "Flag": "true",
                    "Empty": "", "Count": "3"}


def test_session_api(stub) -> None:  # type: ignore[no-untyped-def]
    """Session.from_config + call: nested params, unwrapped dicts, ServiceError."""
    cloud, ini = stub
    cloud.answers["DescribeInstances"] = (200, (
        "<DescribeInstancesResponse><requestId>1</requestId><reservationSet><item>"
        "<reservationId>r-1</reservationId><instancesSet><item><instanceId>i-1</instanceId>"
        "<instanceState><name>running</name></instanceState></item></instancesSet></item>"
        "</reservationSet></DescribeInstancesResponse>"))
    session = Session.from_config(config_path=str(ini))
    assert session.region == "stub" and session.user == "000000000001:admin"
    result = session.call("ec2", "DescribeInstances", {"InstanceId": ["i-1"]})
    assert result["reservationSet"][0]["instancesSet"][0]["instanceState"]["name"] == "running"
    assert cloud.requests[-1]["params"]["InstanceId.1"] == "i-1"
    cloud.answers["ListUsers"] = (403, "<ErrorResponse><Error><Code>AccessDenied</Code>"
                                       "<Message>no</Message></Error></ErrorResponse>")
    with pytest.raises(ServiceError) as err:
        session.call("iam", "ListUsers", {})
    assert (err.value.code, err.value.message, err.value.status) == ("AccessDenied", "no", 403)


def test_invalid_section_names(tmp_path: Path) -> None:
    """Section names may not contain '@' or empty namespace parts."""
    for bad in ("[region a@b]\n", "[user a::b]\n"):
        (tmp_path / "bad.ini").write_text(bad)
        with pytest.raises(ConfigError, match="invalid section name"):
            Config(config_path=str(tmp_path / "bad.ini"))
