"""eulb-* commands run as subprocesses against a real ELB endpoint, checking what they print.

The endpoint comes from the ``elb_endpoint`` fixture, parametrized over targets: ``moto``
(moto_server, an AWS stand-in) and ``cloud`` (our eucalyptus-cloud, skipped while it serves
no load balancing).  Every test is marked ``elb``; ``pytest -m elb -k moto`` or ``-k cloud``
picks a target.  ``ELB_TEST_INI=/path/euca2ools.ini`` points the ``cloud`` target at a cloud
that is already running instead of starting one.  What a target is known to do differently
is in ``ElbEndpoint.quirks``.
"""

from __future__ import annotations

import configparser
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.elb

# Targets the endpoint fixture is parametrized over.
ELB_TARGETS = ("moto", "cloud")


@dataclass
class ElbEndpoint:
    """An ELB endpoint with EC2 and IAM beside it: its euca2ools.ini and what boto3 needs."""

    kind: str
    ini: Path
    elb_url: str
    ec2_url: str
    region: str
    key_id: str
    secret: str
    # Known differences from AWS: "empty-register-answer" (Register/Deregister answer no
    # Instances), "no-policy-types" (DescribeLoadBalancerPolicyTypes is not implemented).
    quirks: frozenset[str] = field(default_factory=frozenset)

    def client(self, service: str) -> Any:
        """A boto3 client of ``ec2`` or ``elb`` for the same account."""
        import boto3

        url = self.elb_url if service == "elb" else self.ec2_url
        return boto3.client(service, endpoint_url=url, region_name=self.region,
                            aws_access_key_id=self.key_id, aws_secret_access_key=self.secret)


def _read_ini(kind: str, ini: Path, quirks: frozenset[str]) -> ElbEndpoint | None:
    parser = configparser.ConfigParser()
    parser.read(ini)
    region = next(s for s in parser.sections() if s.startswith("region "))
    section = parser[region]
    if "elasticloadbalancing-url" not in section:
        return None
    user = parser[f"user {section['user']}"]
    return ElbEndpoint(kind, ini, section["elasticloadbalancing-url"], section["ec2-url"],
                       section.get("name", region.split(" ", 1)[1]), user["key-id"],
                       user["secret-key"], quirks)


@pytest.fixture(scope="module", params=ELB_TARGETS)
def elb_endpoint(request: pytest.FixtureRequest) -> ElbEndpoint:
    """The ELB endpoint under test (see the module docstring)."""
    if request.param == "moto":
        ini = request.getfixturevalue("moto_ini")
        endpoint = _read_ini("moto", ini, frozenset({"empty-register-answer", "no-policy-types"}))
    else:
        given = os.environ.get("ELB_TEST_INI")
        ini = Path(given) if given else request.getfixturevalue("cloud_ini")
        endpoint = _read_ini("cloud", ini, frozenset())
    if endpoint is None:
        pytest.skip(f"{request.param} serves no load balancing (no elasticloadbalancing-url)")
    return endpoint


@pytest.fixture(scope="module")
def zones(euca, elb_endpoint: ElbEndpoint) -> list[str]:  # type: ignore[no-untyped-def]
    """The availability zones of the endpoint's region."""
    out = euca("euca-describe-availability-zones", ini=elb_endpoint.ini).stdout
    return [line.split("\t")[1] for line in out.splitlines() if line.startswith("AVAILABILITYZONE")
            and not line.split("\t")[1].startswith("|-")]


def unique(prefix: str) -> str:
    """A balancer or policy name no other test uses (the endpoint is shared)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Eulb:
    """Runs eulb-* commands against one endpoint and splits their output into records."""

    def __init__(self, euca: Any, endpoint: ElbEndpoint) -> None:
        self.euca = euca
        self.endpoint = endpoint

    def run(self, *args: str, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run a command; by default it must succeed."""
        return self.euca(*args, ini=self.endpoint.ini, check=check, **kwargs)  # type: ignore[no-any-return]

    def records(self, *args: str) -> list[list[str]]:
        """The tab-separated records a command prints."""
        return [line.split("\t") for line in self.run(*args).stdout.splitlines()]

    def long(self, name: str) -> list[str]:
        """The ``eulb-describe-lbs --show-long`` record of one balancer."""
        (record,) = self.records("eulb-describe-lbs", "--show-long", name)
        return record

    def create(self, name: str, zone: str, *extra: str) -> str:
        """Create an HTTP:80 -> 8080 balancer; its DNS name."""
        (record,) = self.records("eulb-create-lb", name, "-z", zone, "-l",
                                 "protocol=HTTP, lb-port=80, instance-port=8080", *extra)
        assert record[0] == "DNS_NAME" and record[1]
        return record[1]


@pytest.fixture()
def eulb(euca, elb_endpoint: ElbEndpoint) -> Iterator[Eulb]:  # type: ignore[no-untyped-def]
    """The runner for the endpoint under test."""
    yield Eulb(euca, elb_endpoint)


# --show-long columns (after the record type, the name and the DNS name).
LONG_HEALTH_CHECK, LONG_ZONES, LONG_SUBNETS, LONG_INSTANCES, LONG_LISTENERS, LONG_BACKENDS = \
    5, 6, 7, 9, 10, 11
LONG_APP_COOKIE, LONG_LB_COOKIE, LONG_OTHER_POLICIES, LONG_SECURITY_GROUPS = 12, 13, 14, 16
HTTP_LISTENER = "{protocol=HTTP,lb-port=80,instance-protocol=HTTP,instance-port=8080}"


def test_create_describe_delete(eulb: Eulb, zones: list[str]) -> None:
    """create-lb prints DNS_NAME; describe-lbs prints LOAD_BALANCER name, DNS name, created
    time and scheme (and every column with --show-long); delete-lb removes it."""
    name = unique("web")
    dns = eulb.create(name, zones[0], "-t", "env=test")
    (short,) = eulb.records("eulb-describe-lbs", name)
    assert short[:3] == ["LOAD_BALANCER", name, dns]
    assert len(short) == 5 and short[3].startswith("20") and short[4] == "internet-facing"
    assert name in [r[1] for r in eulb.records("eulb-describe-lbs")]
    long = eulb.long(name)
    assert long[:3] == ["LOAD_BALANCER", name, dns] and len(long) == 19
    assert long[LONG_ZONES] == zones[0]
    assert long[LONG_LISTENERS] == HTTP_LISTENER
    assert long[17:] == short[3:]
    nil = eulb.run("eulb-describe-lbs", "--show-long", "--show-empty-fields", name).stdout
    assert "\t(nil)\t" in nil and "\t\t" not in nil
    eulb.run("eulb-delete-lb", name)
    proc = eulb.run("eulb-describe-lbs", name, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("eulb-describe-lbs: error (LoadBalancerNotFound): ")
    assert len(proc.stderr.splitlines()) == 1
    eulb.run("eulb-delete-lb", name)  # deleting what is gone succeeds, as on AWS


def test_listeners(eulb: Eulb, zones: list[str]) -> None:
    """create-lb-listeners adds a listener, delete-lb-listeners removes it by port."""
    name = unique("lsn")
    eulb.create(name, zones[0])
    assert eulb.run("eulb-create-lb-listeners", name, "-l",
                    "protocol=TCP, lb-port=8443, instance-port=443").stdout == ""
    assert eulb.long(name)[LONG_LISTENERS] == (
        HTTP_LISTENER + ",{protocol=TCP,lb-port=8443,instance-protocol=TCP,instance-port=443}")
    assert eulb.run("eulb-delete-lb-listeners", name, "-l", "8443").stdout == ""
    assert eulb.long(name)[LONG_LISTENERS] == HTTP_LISTENER
    eulb.run("eulb-delete-lb", name)


def test_health_check_and_instances(eulb: Eulb, zones: list[str], elb_endpoint: ElbEndpoint) -> None:
    """configure-healthcheck prints HEALTH_CHECK; instances are registered, show their
    health (InService/OutOfService, with description and reason code in --show-long)
    and are deregistered."""
    name = unique("hc")
    eulb.create(name, zones[0])
    assert eulb.records("eulb-configure-healthcheck", name, "-t", "HTTP:8080/health",
                        "--interval", "10", "--timeout", "5", "--healthy-threshold", "2",
                        "--unhealthy-threshold", "3") == \
        [["HEALTH_CHECK", "HTTP:8080/health", "10", "5", "2", "3"]]
    assert eulb.long(name)[LONG_HEALTH_CHECK] == (
        "{interval=10,target=HTTP:8080/health,timeout=5,healthy-threshold=2,unhealthy-threshold=3}")
    ec2 = elb_endpoint.client("ec2")
    image = next(i["ImageId"] for i in ec2.describe_images()["Images"]
                 if i.get("ImageType", "machine") == "machine")
    run = ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2,
                            Placement={"AvailabilityZone": zones[0]})
    ids = sorted(i["InstanceId"] for i in run["Instances"])
    registered = eulb.records("eulb-register-instances-with-lb", name, "--instances", ",".join(ids))
    if "empty-register-answer" not in elb_endpoint.quirks:
        assert sorted(registered) == [["INSTANCE", i] for i in ids]
    assert sorted(eulb.long(name)[LONG_INSTANCES].split(",")) == ids
    health = eulb.records("eulb-describe-instance-health", name)
    assert sorted(r[1] for r in health) == ids
    assert all(r[0] == "INSTANCE" and r[2] in ("InService", "OutOfService", "Unknown") and len(r) == 3
               for r in health)
    assert all(len(r) == 5 for r in eulb.records("eulb-describe-instance-health", "--show-long",
                                                  name))
    assert [r[1] for r in eulb.records("eulb-describe-instance-health", name,
                                       "--instances", ids[0])] == [ids[0]]
    left = eulb.records("eulb-deregister-instances-from-lb", name, "--instances", ids[0])
    if "empty-register-answer" not in elb_endpoint.quirks:
        assert left == [["INSTANCE", ids[1]]]
    assert [r[1] for r in eulb.records("eulb-describe-instance-health", name)] == [ids[1]]
    eulb.run("eulb-delete-lb", name)
    ec2.terminate_instances(InstanceIds=ids)


def test_zones(eulb: Eulb, zones: list[str]) -> None:
    """enable/disable-zones-for-lb print the balancer's zones afterwards."""
    if len(zones) < 2:
        pytest.skip("the region has a single zone")
    name = unique("az")
    eulb.create(name, zones[0])
    ((kind, enabled),) = eulb.records("eulb-enable-zones-for-lb", name, "-z", zones[1])
    assert kind == "AVAILABILITY_ZONES" and sorted(enabled.split(", ")) == sorted(zones[:2])
    assert eulb.records("eulb-disable-zones-for-lb", name, "-z", zones[0]) == \
        [["AVAILABILITY_ZONES", zones[1]]]
    assert eulb.long(name)[LONG_ZONES] == zones[1]
    eulb.run("eulb-delete-lb", name)


def test_attributes(eulb: Eulb, zones: list[str]) -> None:
    """describe-lb-attributes prints dotted names and values; modify-lb-attributes sets them."""
    name = unique("attr")
    eulb.create(name, zones[0])
    before = dict(eulb.records("eulb-describe-lb-attributes", name))  # type: ignore[arg-type]
    assert before["ConnectionSettings.IdleTimeout"] == "60"
    assert before["CrossZoneLoadBalancing.Enabled"] == "false"
    assert before["ConnectionDraining.Enabled"] == "false"
    assert before["AccessLog.Enabled"] == "false"
    assert eulb.run("eulb-modify-lb-attributes", name, "ConnectionSettings.IdleTimeout=30",
                    "CrossZoneLoadBalancing.Enabled=true").stdout == ""
    after = dict(eulb.records("eulb-describe-lb-attributes", name))  # type: ignore[arg-type]
    assert after["ConnectionSettings.IdleTimeout"] == "30"
    assert after["CrossZoneLoadBalancing.Enabled"] == "true"
    eulb.run("eulb-delete-lb", name)


def test_policies(eulb: Eulb, zones: list[str], tmp_path: Path) -> None:
    """Stickiness and other policies: created, listed (attributes with --show-long), set on a
    listener and a back end port, cleared with -p '', deleted."""
    name = unique("pol")
    eulb.create(name, zones[0])
    assert eulb.run("eulb-create-lb-cookie-stickiness-policy", name, "-p", "lbsticky",
                    "-e", "60").stdout == ""
    eulb.run("eulb-create-app-cookie-stickiness-policy", name, "-p", "appsticky", "-c", "SID")
    (tmp_path / "attrs").write_text("# proxy protocol\n\nProxyProtocol=true\n")
    eulb.run("eulb-create-lb-policy", name, "-n", "proxy", "-t", "ProxyProtocolPolicyType",
             "--attributes-from-file", str(tmp_path / "attrs"))
    eulb.run("eulb-create-lb-policy", name, "-n", "proxy2", "-t", "ProxyProtocolPolicyType",
             "-a", "name=ProxyProtocol, value=false")
    listed = eulb.records("eulb-describe-lb-policies", name)
    assert sorted(r[1] for r in listed) == ["appsticky", "lbsticky", "proxy", "proxy2"]
    assert all(r[0] == "POLICY" and len(r) == 3 for r in listed)
    assert {r[1]: r[2] for r in listed}["proxy"] == "ProxyProtocolPolicyType"
    long = {r[1]: r for r in eulb.records("eulb-describe-lb-policies", "--show-long", name)}
    assert long["proxy"][3] == "{name=ProxyProtocol,value=true}"
    assert long["proxy2"][3] == "{name=ProxyProtocol,value=false}"
    assert [r[1] for r in eulb.records("eulb-describe-lb-policies", name, "-p", "proxy")] == \
        ["proxy"]
    eulb.run("eulb-set-lb-policies-of-listener", name, "-l", "80", "-p", "lbsticky")
    eulb.run("eulb-set-lb-policies-for-backend-server", name, "-i", "8080", "-p", "proxy")
    long_lb = eulb.long(name)
    assert long_lb[LONG_LISTENERS] == HTTP_LISTENER[:-1] + ",{lbsticky}}"
    assert long_lb[LONG_BACKENDS] == "{instance-port=8080,policies={proxy}}"
    assert long_lb[LONG_APP_COOKIE] == "{policy-name=appsticky,cookie-name=SID}"
    assert long_lb[LONG_LB_COOKIE] == "{policy-name=lbsticky,expiration-period=60}"
    assert "proxy" in long_lb[LONG_OTHER_POLICIES].strip("{}").split(",")
    eulb.run("eulb-set-lb-policies-of-listener", name, "-l", "80", "-p", "")
    assert eulb.long(name)[LONG_LISTENERS] == HTTP_LISTENER
    eulb.run("eulb-delete-lb-policy", name, "-p", "appsticky")
    assert "appsticky" not in [r[1] for r in eulb.records("eulb-describe-lb-policies", name)]
    eulb.run("eulb-delete-lb", name)


def test_policy_types(eulb: Eulb, elb_endpoint: ElbEndpoint) -> None:
    """describe-lb-policy-types prints POLICY_TYPE name and description."""
    if "no-policy-types" in elb_endpoint.quirks:
        pytest.skip(f"{elb_endpoint.kind} does not implement DescribeLoadBalancerPolicyTypes")
    types = {r[1]: r for r in eulb.records("eulb-describe-lb-policy-types")}
    assert {"AppCookieStickinessPolicyType", "LBCookieStickinessPolicyType",
            "ProxyProtocolPolicyType"} <= set(types)
    (proxy,) = eulb.records("eulb-describe-lb-policy-types", "--show-long",
                            "ProxyProtocolPolicyType")
    assert proxy[0] == "POLICY_TYPE" and "name=ProxyProtocol" in proxy[3]


def test_tags(eulb: Eulb, zones: list[str]) -> None:
    """create-tags, describe-tags (a table, with headers on request) and delete-tags."""
    name = unique("tag")
    eulb.create(name, zones[0], "-t", "env=test")
    eulb.run("eulb-create-tags", name, "-t", "team=blue")
    width = len(name)
    rows = eulb.run("eulb-describe-tags", name).stdout.splitlines()
    assert sorted(rows) == [f"TAG  load-balancer  {name}  env   test  ",
                            f"TAG  load-balancer  {name}  team  blue  "]
    shown = eulb.run("eulb-describe-tags", "--show-headers", name).stdout.splitlines()
    assert shown[0] == f"TAG  TYPE           {'NAME'.ljust(width)}  KEY   VALUE  "
    eulb.run("eulb-delete-tags", name, "-t", "env")
    assert eulb.run("eulb-describe-tags", name).stdout.splitlines() == \
        [f"TAG  load-balancer  {name}  team  blue  "]
    eulb.run("eulb-delete-lb", name)


def test_vpc_subnets_and_security_groups(eulb: Eulb, elb_endpoint: ElbEndpoint) -> None:
    """A VPC balancer: internal scheme, subnets attached and detached, security groups."""
    ec2 = elb_endpoint.client("ec2")
    try:
        vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    except Exception as err:  # noqa: BLE001 - a cloud without VPCs
        pytest.skip(f"{elb_endpoint.kind} has no VPC: {err}")
    zone_names = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.77.{n}.0/24",
                                 AvailabilityZone=zone_names[n % len(zone_names)]
                                 )["Subnet"]["SubnetId"] for n in (1, 2)]
    group = ec2.create_security_group(GroupName=unique("lb"), Description="lb",
                                      VpcId=vpc)["GroupId"]
    name = unique("vpc")
    eulb.run("eulb-create-lb", name, "-s", subnets[0], "-i", "internal", "-l",
             "protocol=TCP,lb-port=80,instance-port=80")
    ((kind, attached),) = eulb.records("eulb-attach-lb-to-subnets", name, "-s", subnets[1])
    assert kind == "SUBNETS" and sorted(attached.split(", ")) == sorted(subnets)
    assert eulb.records("eulb-detach-lb-from-subnets", name, "-s", subnets[0]) == \
        [["SUBNETS", subnets[1]]]
    assert eulb.records("eulb-apply-security-groups-to-lb", name, "-g", group) == \
        [["SECURITY_GROUPS", group]]
    long = eulb.long(name)
    assert long[LONG_SUBNETS] == subnets[1] and long[8] == vpc
    assert long[LONG_SECURITY_GROUPS] == "{" + group + "}" and long[-1] == "internal"
    eulb.run("eulb-delete-lb", name)


def test_ssl_certificate(eulb: Eulb, zones: list[str], tmp_path: Path) -> None:
    """An HTTPS listener with an IAM server certificate, then replaced by another one."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    arns = []
    for n in (1, 2):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lb.example.com")])
        start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                .public_key(key.public_key()).serial_number(n).not_valid_before(start)
                .not_valid_after(start + dt.timedelta(days=3650)).sign(key, hashes.SHA256()))
        (tmp_path / f"c{n}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (tmp_path / f"k{n}.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()))
        cert_name = unique("cert")
        eulb.run("euare-servercertupload", cert_name, "--certificate-file",
                 str(tmp_path / f"c{n}.pem"), "--private-key-file", str(tmp_path / f"k{n}.pem"))
        out = eulb.run("euare-servercertgetattributes", cert_name).stdout
        arns.append(next(w for w in out.split() if w.startswith("arn:")))
    name = unique("tls")
    eulb.create(name, zones[0])
    eulb.run("eulb-create-lb-listeners", name, "-l",
             f"protocol=HTTPS,lb-port=443,instance-port=8080,cert-id={arns[0]}")
    assert f"lb-port=443,instance-protocol=HTTPS,instance-port=8080,cert-id={arns[0]}}}" in \
        eulb.long(name)[LONG_LISTENERS]
    assert eulb.run("eulb-set-lb-listener-ssl-cert", name, "-l", "443", "-c",
                    arns[1]).stdout == ""
    assert f"cert-id={arns[1]}}}" in eulb.long(name)[LONG_LISTENERS]
    eulb.run("eulb-delete-lb", name)


@pytest.mark.parametrize("args, message", [
    (["eulb-create-lb", "x", "-z", "z", "-l", "protocol=FTP,lb-port=21,instance-port=21"],
     "protocol 'FTP' is invalid"),
    (["eulb-create-lb", "x", "-z", "z", "-l", "protocol=HTTP,lb-port=80"],
     "instance-port is required"),
    (["eulb-create-lb", "x", "-z", "z", "-l",
      "protocol=HTTP,lb-port=80,instance-port=80,instance-protocol=TCP"],
     "instance-protocol must be 'HTTP' or 'HTTPS'"),
    (["eulb-create-lb", "x", "-l", "protocol=HTTP,lb-port=80,instance-port=80"],
     "one of the arguments"),
    (["eulb-configure-healthcheck", "x", "-t", "HTTP:80", "--interval", "5", "--timeout", "2",
      "--healthy-threshold", "2", "--unhealthy-threshold", "2"], "path is required"),
    (["eulb-delete-lb-listeners", "x", "-l", "eighty"], "port numbers"),
    (["eulb-modify-lb-attributes", "x", "IdleTimeout"], "invalid ATTR=VALUE pair"),
    (["eulb-create-lb-policy", "x", "-n", "p", "-t", "T", "-a", "name=a"], "value is required"),
])
def test_usage_errors(eulb: Eulb, args: list[str], message: str) -> None:
    """Malformed arguments: one line naming the problem, exit 2, nothing sent."""
    proc = eulb.run(*args, check=False)
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.splitlines()[-1]
    assert last.startswith(f"{args[0]}: error: ") and message in last, proc.stderr


def test_endpoint_from_environment(euca, elb_endpoint: ElbEndpoint, tmp_path: Path,  # type: ignore[no-untyped-def]
                                   zones: list[str]) -> None:
    """Without elasticloadbalancing-url in the configuration, AWS_ELB_URL or EUCA_ELB_URL
    names the endpoint; without either the error says what to set."""
    parser = configparser.ConfigParser()
    parser.read(elb_endpoint.ini)
    region = next(s for s in parser.sections() if s.startswith("region "))
    parser.remove_option(region, "elasticloadbalancing-url")
    ini = tmp_path / "no-elb.ini"
    with open(ini, "w") as handle:
        parser.write(handle)
    names = []
    for var in ("AWS_ELB_URL", "EUCA_ELB_URL"):
        names.append(unique("env"))
        proc = euca("eulb-create-lb", names[-1], "-z", zones[0], "-l",
                    "protocol=TCP,lb-port=25,instance-port=25", ini=ini,
                    env={var: elb_endpoint.elb_url})
        assert proc.stdout.startswith("DNS_NAME\t")
    proc = euca("eulb-describe-lbs", ini=ini, check=False)
    assert proc.returncode == 1
    assert "elasticloadbalancing-url" in proc.stderr and "AWS_ELB_URL" in proc.stderr
    for name in names:
        euca("eulb-delete-lb", name, ini=elb_endpoint.ini)


def test_fast_and_click_print_the_same(eulb: Eulb, zones: list[str]) -> None:
    """Byte-identical output from the fast path and the click path, long forms included."""
    name = unique("fast")
    eulb.create(name, zones[0], "-t", "env=test")
    eulb.run("eulb-create-lb-policy", name, "-n", "proxy", "-t", "ProxyProtocolPolicyType",
             "-A", "ProxyProtocol=true")
    for args in (["eulb-describe-lbs", "--show-long", name],
                 ["eulb-describe-lbs", "--show-long", "--show-empty-fields", name],
                 ["eulb-describe-tags", "--show-headers", name],
                 ["eulb-describe-lb-attributes", name],
                 ["eulb-describe-lb-policies", "--show-long", name],
                 ["eulb-describe-instance-health", "--show-long", name]):
        fast = eulb.run(*args).stdout
        slow = eulb.run(*args, env={"EUCA2OOLS_NO_FASTPATH": "1"}).stdout
        assert fast == slow, args
    eulb.run("eulb-delete-lb", name)
