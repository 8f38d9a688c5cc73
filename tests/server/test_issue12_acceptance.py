"""Start-up, advertised services and routing by scope, as a second tester would try them
(issue 12, items 6, 7 and 9).

Start-up failures are one line with a documented status and write nothing; every service
euca2ools.ini names answers euca2ools and boto3 at the URL it gives; services the cloud
does not serve answer "not implemented" in their own protocol (query XML, JSON 1.0/1.1,
REST-XML, REST-JSON) at their path and by scope; requests signed for any region, none, or
a region that is not the cloud's reach the service their scope names.
"""

from __future__ import annotations

import configparser
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from cloudproc import CloudProcess, free_port, running_cloud

BIN = Path(sys.executable).parent


def start(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``eucalyptus-cloud`` run to its exit (each case here fails to start)."""
    return subprocess.run([str(BIN / "eucalyptus-cloud"), *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def one_line(proc: subprocess.CompletedProcess[str], status: int, text: str) -> None:
    """Exactly one line on stderr, naming the problem; nothing on stdout; the status."""
    assert proc.returncode == status, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.endswith("\n"), proc.stderr
    assert proc.stderr.startswith("eucalyptus-cloud: error: ") and text in proc.stderr
    assert "Traceback" not in proc.stderr and "serving" not in proc.stderr
    assert proc.stdout == ""


# -- item 6: start-up ------------------------------------------------------------------


def test_https_port_in_use_writes_nothing(tmp_path: Path) -> None:
    """Only the HTTPS listener's port is taken: status 3, one line naming it, and the
    data dir is not even created."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = start("--data-dir", str(tmp_path / "data"), "--listen",
                     f"127.0.0.1:{free_port()}", "--https-listen", f"127.0.0.1:{port}",
                     cwd=tmp_path)
    one_line(proc, 3, f"cannot listen on 127.0.0.1:{port}")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("where,expect", [
    ("plain-file", "not a directory"),
    ("plain-file/data", "is not a directory"),
    ("/proc/self/euca-data", "not writable"),
])
def test_unusable_data_dir_is_a_configuration_error(tmp_path: Path, where: str,
                                                    expect: str) -> None:
    """A data dir that is a file, under a file, or on a file system the cloud cannot
    write: status 2, one line naming cloud.data_dir; nothing is created."""
    (tmp_path / "plain-file").write_text("not a directory\n")
    data = where if where.startswith("/") else str(tmp_path / where)
    before = sorted(os.listdir(tmp_path))
    proc = start("--data-dir", data, "--listen", f"127.0.0.1:{free_port()}",
                 "--https-listen", "off", cwd=tmp_path)
    one_line(proc, 2, "cloud.data_dir")
    assert expect in proc.stderr
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("text,expect", [
    ('[cloud\nlisten = "127.0.0.1:1"\n', "invalid TOML"),
    ('[cloud]\nlisten = "127.0.0.1:1"\nlisten = "127.0.0.1:2"\n', "invalid TOML"),
    ("[cloud]\nlisten = 8773\n", "cloud.listen"),
    ('[[zones]]\nname = "z"\nnodes = "four"\n', "nodes"),
    ('[cloud]\nlog_level = "chatty"\n', "cloud.log_level"),
    ('[cloud]\ndatabase = "not a url"\n', "cloud.database"),
    ('[cloud]\ndatabase = "nosuchdb://host/db"\n', "cloud.database"),
])
def test_config_errors_write_nothing(tmp_path: Path, text: str, expect: str) -> None:
    """A configuration with a syntax error or a bad value: status 2, one line, no data
    dir, no euca2ools.ini, no admin account."""
    cfg = tmp_path / "cloud.toml"
    cfg.write_text(text)
    proc = start("--config", str(cfg), "--data-dir", str(tmp_path / "data"),
                 "--https-listen", "off", "--listen", f"127.0.0.1:{free_port()}", cwd=tmp_path)
    one_line(proc, 2, expect)
    assert not (tmp_path / "data").exists()


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    """A database that refuses connections: status 1 (the cloud could not start), the
    driver's first line only, and no data dir left behind."""
    cfg = tmp_path / "cloud.toml"
    cfg.write_text(f'[cloud]\ndatabase = "postgresql+psycopg://u@127.0.0.1:{free_port()}/db"\n')
    proc = start("--config", str(cfg), "--data-dir", str(tmp_path / "data"),
                 "--https-listen", "off", "--listen", f"127.0.0.1:{free_port()}", cwd=tmp_path)
    one_line(proc, 1, "connection")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("args,expect", [
    (["--config", "."], "Is a directory"),
    (["--config", "missing.toml"], "No such file or directory"),
    (["--no-such-option"], "--no-such-option"),
    (["--log-level", "loud"], "--log-level"),
    (["--listen", "127.0.0.1:99999"], "127.0.0.1:99999"),
])
def test_command_line_errors_are_one_line(tmp_path: Path, args: list[str],
                                          expect: str) -> None:
    """Bad command lines: status 2 and one line, not click's three-line usage report."""
    proc = start(*args, "--data-dir", str(tmp_path / "data"), "--https-listen", "off",
                 cwd=tmp_path)
    one_line(proc, 2, expect)
    assert not (tmp_path / "data").exists()


def test_second_cloud_on_a_busy_port_leaves_the_first_alone(cloud: CloudProcess) -> None:
    """Starting a second server on the running cloud's data dir and port: status 3, and
    euca2ools.ini, the admin's keys and the accounts are as they were."""
    before = cloud.ini.read_bytes()
    proc = start("--data-dir", str(cloud.data_dir), "--listen", f"127.0.0.1:{cloud.port}",
                 "--https-listen", "off", cwd=cloud.data_dir)
    one_line(proc, 3, "Address already in use")
    assert cloud.ini.read_bytes() == before
    iam = cloud.client("iam")
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["admin"]
    assert len(iam.list_access_keys(UserName="admin")["AccessKeyMetadata"]) == 1


def test_bad_config_on_an_existing_data_dir_changes_nothing(cloud: CloudProcess) -> None:
    """A syntax error in the configuration given with a cloud's data dir: status 2, and
    every file of the data dir is as it was."""
    before = {p: p.stat().st_mtime_ns for p in cloud.data_dir.iterdir() if p.is_file()
              and p.suffix in (".ini", ".pem", ".key")}
    bad = cloud.data_dir.parent / f"{cloud.data_dir.name}-bad.toml"
    bad.write_text('[cloud]\nregion = "unterminated\n')
    try:
        proc = start("--config", str(bad), "--data-dir", str(cloud.data_dir), "--listen",
                     f"127.0.0.1:{free_port()}", "--https-listen", "off", cwd=cloud.data_dir)
    finally:
        bad.unlink()
    one_line(proc, 2, "invalid TOML")
    assert before and {p: p.stat().st_mtime_ns for p in before} == before


def test_port_zero_and_sigterm(tmp_path: Path) -> None:
    """``--listen 127.0.0.1:0`` takes a free port and writes that port (not 0) into
    euca2ools.ini, where euca2ools reaches it; SIGTERM then stops the cloud with status 0,
    as documented."""
    import signal
    import time

    data = tmp_path / "data"
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen([str(BIN / "eucalyptus-cloud"), "--data-dir", str(data),
                             "--listen", "127.0.0.1:0", "--https-listen", "off"],
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        ini = data / "euca2ools.ini"
        deadline = time.time() + 60
        answered = None
        while time.time() < deadline and proc.poll() is None:
            if ini.exists():
                env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EUCA"))}
                env["EUCA_CONFIG_PATH"] = str(ini)
                answered = subprocess.run([str(BIN / "euca-describe-regions")], env=env,
                                          capture_output=True, text=True, timeout=60)
                if answered.returncode == 0:
                    break
            time.sleep(0.2)
        assert answered is not None and answered.returncode == 0, answered
        assert ":0/" not in ini.read_text()
        url = answered.stdout.split("\t")[2].strip()
        assert url.startswith("http://127.0.0.1:") and not url.startswith("http://127.0.0.1:0/")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


# -- item 7: the services euca2ools.ini advertises ---------------------------------------


def _ini_urls(cloud: CloudProcess) -> dict[str, str]:
    cp = configparser.ConfigParser()
    cp.read(cloud.ini)
    region = next(s for s in cp.sections() if s.startswith("region "))
    return {k.removesuffix("-url"): v for k, v in cp[region].items() if k.endswith("-url")}


#: boto3 client per ini service, and a harmless call it answers.
BOTO_CALLS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "ec2": ("ec2", lambda c: c.describe_availability_zones()["AvailabilityZones"]),
    "s3": ("s3", lambda c: c.list_buckets()["Buckets"] is not None),
    "iam": ("iam", lambda c: c.get_user()["User"]),
    "sts": ("sts", lambda c: c.get_caller_identity()["Account"]),
    "autoscaling": ("autoscaling",
                    lambda c: c.describe_auto_scaling_groups()["AutoScalingGroups"] == []),
    "monitoring": ("cloudwatch", lambda c: c.describe_alarms()["MetricAlarms"] == []),
    "elasticloadbalancing": ("elb",
                             lambda c: c.describe_load_balancers()["LoadBalancerDescriptions"]
                             == []),
}

#: euca2ools command per ini service (each prints and exits 0).
COMMANDS = {"ec2": ["euca-describe-availability-zones"], "iam": ["euare-accountlist"],
            "sts": ["euare-getcallerid"], "autoscaling": ["euscale-describe-auto-scaling-groups"],
            "monitoring": ["euwatch-describe-alarms"], "elasticloadbalancing": ["eulb-describe-lbs"],
            "bootstrap": ["euserv-describe-services"], "properties": ["euctl", "cloud"],
            "s3": ["euca-describe-images"]}


def test_every_advertised_service_answers_boto3_at_its_url(cloud: CloudProcess) -> None:
    """boto3 pointed at each ``*-url`` of euca2ools.ini gets an answer from that service."""
    urls = _ini_urls(cloud)
    creds = cloud.credentials()
    assert set(BOTO_CALLS) <= set(urls)
    for name, (client_name, call) in BOTO_CALLS.items():
        client = boto3.client(client_name, endpoint_url=urls[name], region_name="us-east-1",
                              aws_access_key_id=creds["key"],
                              aws_secret_access_key=creds["secret"],
                              config=Config(retries={"max_attempts": 1},
                                            s3={"addressing_style": "path"}))
        assert call(client), name


def test_every_advertised_service_answers_euca2ools(cloud: CloudProcess) -> None:
    """Each service the ini names answers its euca2ools command (only EUCA_CONFIG_PATH
    tells the commands where the cloud is)."""
    urls = _ini_urls(cloud)
    assert set(urls) <= set(COMMANDS), set(urls) - set(COMMANDS)
    for name in urls:
        args = COMMANDS[name]
        proc = subprocess.run([str(BIN / args[0]), *args[1:]], env=cloud.env(),
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (name, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert proc.stdout == "" or proc.stdout.endswith("\n")


def _unserved(cloud: CloudProcess, service: str, path: str, region: str = "us-east-1") -> Any:
    creds = cloud.credentials()
    return boto3.client(service, endpoint_url=cloud.url + path, region_name=region,
                        aws_access_key_id=creds["key"], aws_secret_access_key=creds["secret"],
                        config=Config(retries={"max_attempts": 1}))


#: (boto3 client, call, Eucalyptus path or "" when only by scope): every protocol.
UNSERVED_CALLS = [
    ("cloudformation", lambda c: c.describe_stacks(), "/services/CloudFormation"),  # query
    ("swf", lambda c: c.list_domains(registrationStatus="REGISTERED"),
     "/services/SimpleWorkflow"),  # JSON 1.0
    ("sqs", lambda c: c.list_queues(), "/services/SimpleQueue"),  # JSON 1.0
    ("logs", lambda c: c.describe_log_groups(), ""),  # JSON 1.1
    ("route53", lambda c: c.list_hosted_zones(), ""),  # REST-XML
    ("lambda", lambda c: c.list_functions(), ""),  # REST-JSON (GET, no body)
    ("lambda", lambda c: c.create_function(FunctionName="f", Role="arn:aws:iam::1:role/r",
                                           Code={"ZipFile": b"PK"}, Runtime="python3.12",
                                           Handler="h"), ""),  # REST-JSON (POST, JSON)
    ("apigateway", lambda c: c.get_rest_apis(), ""),  # REST-JSON
]


@pytest.mark.parametrize("service,call,path", UNSERVED_CALLS,
                         ids=[f"{s}-{i}" for i, (s, _, _) in enumerate(UNSERVED_CALLS)])
@pytest.mark.parametrize("region", ["us-east-1", ""])
def test_unserved_services_answer_in_their_protocol(cloud: CloudProcess, service: str,
                                                    call: Callable[[Any], Any], path: str,
                                                    region: str) -> None:
    """boto3's own parser reads NotImplemented (501) for every protocol, at ``/`` by scope
    (any region, none too) and at the Eucalyptus path where there is one."""
    for where in ([path] if path else []) + ["/"]:
        if service == "route53" and region == "":
            continue  # boto3 cannot build a route53 client without a region
        with pytest.raises(ClientError) as err:
            call(_unserved(cloud, service, where, region))
        answer = err.value.response
        assert answer["Error"]["Code"] == "NotImplemented", (where, answer)
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 501
        assert "not available" in answer["Error"]["Message"]


@pytest.mark.parametrize("service,call,path", [
    ("route53", lambda c: c.list_hosted_zones(), "/services/Route53"),  # REST-XML
    ("lambda", lambda c: c.list_functions(), "/services/Lambda"),  # REST-JSON
    ("dynamodb", lambda c: c.list_tables(), "/services/DynamoDB"),  # JSON 1.0
    ("sns", lambda c: c.list_topics(), "/services/Notifications"),  # query
], ids=["route53", "lambda", "dynamodb", "sns"])
def test_unserved_services_at_made_up_paths(cloud: CloudProcess, service: str,
                                            call: Callable[[Any], Any], path: str) -> None:
    """A client pointed at a ``/services/`` path Eucalyptus never had is told, in its own
    protocol, that its service is not served; an unsigned request there is still 404."""
    with pytest.raises(ClientError) as err:
        call(_unserved(cloud, service, path))
    assert err.value.response["Error"]["Code"] == "NotImplemented"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert requests.get(cloud.url + path, timeout=10).status_code == 404


def test_served_scope_at_a_made_up_path_is_404(cloud: CloudProcess) -> None:
    """EC2's scope at a path that is not EC2's is not served there (404), as before."""
    with pytest.raises(ClientError) as err:
        _unserved(cloud, "ec2", "/services/Nowhere").describe_regions()
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_imaging_path_is_not_walrus(cloud: CloudProcess) -> None:
    """Eucalyptus' Imaging path answers the query protocol's NotImplemented, not 404 and
    not an S3 error."""
    resp = requests.get(cloud.url + "/services/Imaging?Action=DescribeConversionTasks",
                        timeout=10)
    assert resp.status_code == 501
    assert "<ErrorResponse>" in resp.text and "<Code>NotImplemented</Code>" in resp.text


# -- item 9: routing by the credential scope ---------------------------------------------


#: boto3 client name and a call, for every query/JSON service served at ``/``.
SERVED = [
    ("ec2", lambda c: c.describe_regions()["Regions"]),
    ("iam", lambda c: c.list_users()["Users"]),
    ("sts", lambda c: c.get_caller_identity()["Account"]),
    ("autoscaling", lambda c: c.describe_auto_scaling_groups()["AutoScalingGroups"] == []),
    ("cloudwatch", lambda c: c.list_metrics()["Metrics"] is not None),
    ("elb", lambda c: c.describe_load_balancers()["LoadBalancerDescriptions"] == []),
    ("elbv2", lambda c: c.describe_load_balancers()["LoadBalancers"] == []),
]


def _root_client(cloud: CloudProcess, service: str, region: str) -> Any:
    creds = cloud.credentials()
    return boto3.client(service, endpoint_url=cloud.url + "/", region_name=region,
                        aws_access_key_id=creds["key"], aws_secret_access_key=creds["secret"],
                        config=Config(retries={"max_attempts": 1}))


@pytest.mark.parametrize("service,call", SERVED, ids=[s for s, _ in SERVED])
@pytest.mark.parametrize("region", ["", "eu-west-3", "not-a-region-1"])
def test_any_region_reaches_every_served_service(cloud: CloudProcess, service: str,
                                                 call: Callable[[Any], Any],
                                                 region: str) -> None:
    """At ``/``, with no region, another AWS region or a made-up one in the scope."""
    assert call(_root_client(cloud, service, region))


def test_s3_at_root_with_any_region(cloud: CloudProcess) -> None:
    """S3 at ``/`` signed for regions that are not the cloud's: Walrus answers."""
    bucket = "scope-routing-bucket"
    for region in ("eu-west-3", "ap-south-1"):
        s3 = _root_client(cloud, "s3", region)
        assert s3.list_buckets()["Buckets"] is not None
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


@pytest.fixture(scope="module")
def regional() -> Iterator[CloudProcess]:
    """A cloud configured with a region of its own name."""
    with running_cloud('[cloud]\nregion = "moon-base-1"\n') as c:
        yield c


@pytest.mark.parametrize("service,call", SERVED, ids=[s for s, _ in SERVED])
def test_us_east_1_against_a_cloud_of_another_region(regional: CloudProcess, service: str,
                                                     call: Callable[[Any], Any]) -> None:
    """Clients left at us-east-1 (the SDK default) reach a cloud whose region is another,
    at ``/`` and at the ini's URL."""
    assert call(_root_client(regional, service, "us-east-1"))
    ec2 = regional.client("ec2", region="us-east-1")
    assert [r["RegionName"] for r in ec2.describe_regions()["Regions"]] == ["moon-base-1"]


def test_awscli_with_an_empty_region(cloud: CloudProcess) -> None:
    """``aws --region ""`` signs with an empty region; STS, EC2 and IAM at ``/`` answer."""
    creds = cloud.credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EUCA"))}
    env.update(AWS_ACCESS_KEY_ID=creds["key"], AWS_SECRET_ACCESS_KEY=creds["secret"],
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    for args in (["sts", "get-caller-identity"], ["ec2", "describe-availability-zones"],
                 ["iam", "list-users"]):
        proc = subprocess.run([str(BIN / "aws"), "--endpoint-url", cloud.url + "/",
                               "--region", "", "--output", "json", *args], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (args, proc.stderr)
        assert proc.stdout.startswith("{")


@pytest.mark.parametrize("size", [10, 3 * 1024 * 1024])
def test_rest_json_upload_to_an_unserved_service(cloud: CloudProcess, size: int) -> None:
    """A REST-JSON upload of binary data (Glacier's UploadArchive), small or larger than
    any query form, gets the JSON NotImplemented boto3 parses."""
    glacier = _unserved(cloud, "glacier", "/")
    with pytest.raises(ClientError) as err:
        glacier.upload_archive(vaultName="v", body=os.urandom(size))
    assert err.value.response["Error"]["Code"] == "NotImplemented"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


#: euca2ools.ini's service name -> the Empyrean service type it is registered as.
SERVICE_TYPES = {"ec2": "compute", "iam": "euare", "sts": "tokens", "s3": "objectstorage",
                 "autoscaling": "autoscaling", "monitoring": "cloudwatch",
                 "elasticloadbalancing": "loadbalancing", "bootstrap": "bootstrap",
                 "properties": "properties"}


def _empyrean(cloud: CloudProcess, params: dict[str, str]) -> requests.Response:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    creds = cloud.credentials()
    req = AWSRequest("POST", cloud.url + "/services/Empyrean",
                     data={"Version": "2015-09-01", **params})
    SigV4Auth(Credentials(creds["key"], creds["secret"]), "bootstrap", "").add_auth(req)
    return requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=30)


def test_every_advertised_service_is_registered(make_cloud: Callable[..., CloudProcess]) -> None:
    """Each service of euca2ools.ini is a service of the registry (euserv-describe-services
    lists it), and can be stopped (503 in its protocol) and started again, ELB too."""
    cloud = make_cloud()
    listed = subprocess.run([str(BIN / "euserv-describe-services")], env=cloud.env(),
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    types = {line.split("\t")[1] for line in listed.stdout.splitlines()
             if line.startswith("SERVICE\t")}
    urls = _ini_urls(cloud)
    assert {SERVICE_TYPES[name] for name in urls} <= types, types
    elb = _unserved(cloud, "elb", "/services/LoadBalancing")
    assert elb.describe_load_balancers()["LoadBalancerDescriptions"] == []
    resp = _empyrean(cloud, {"Action": "ModifyService", "Name": "loadbalancing",
                             "State": "stop"})
    assert resp.status_code == 200, resp.text
    with pytest.raises(ClientError) as err:
        elb.describe_load_balancers()
    assert err.value.response["Error"]["Code"] == "ServiceUnavailable"
    resp = _empyrean(cloud, {"Action": "ModifyService", "Name": "loadbalancing",
                             "State": "start"})
    assert resp.status_code == 200, resp.text
    assert elb.describe_load_balancers()["LoadBalancerDescriptions"] == []
