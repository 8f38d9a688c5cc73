"""Balancers' security groups, SSL negotiation policies and DNS names, with real
connections: HAProxy on the host's loopback (security groups as HAProxy ACLs, the
client bound to different 127.0.0.x sources), Python ``ssl`` clients restricted to
protocols and ciphers, and dnspython asking the cloud's DNS service (dnsmasq).

The balancers here have no reachable instances: an admitted HTTP client gets HAProxy's
own answer (503), a refused one a closed connection; TLS is negotiated by the listener
whatever the instances do.
"""

from __future__ import annotations

import shutil
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.autoscaling.as_helpers import image_id, wait_for
from tests.cloudproc import CloudProcess, free_port, new_cloud
from tests.elb.elb_helpers import config, elb, run_instances
from tests.elb.netns import Namespace, why_not
from tests.elb.test_elb_api import _self_signed

pytestmark = pytest.mark.skipif(not shutil.which("haproxy"), reason="needs haproxy")

HTTP = {"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP",
        "InstancePort": 8080}


@pytest.fixture(scope="module")
def cloud() -> Iterator[CloudProcess]:
    """A cloud with its balancers on the host's loopback and its DNS service on."""
    c = new_cloud(config(net=81, extra=f"dns_port = {free_port()}"))
    c.start()
    try:
        yield c
    finally:
        c.stop()


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _address(cloud: CloudProcess, dns_name: str) -> str:
    """A balancer's address, from the cloud's hosts view."""
    for line in (Path(cloud.data_dir) / "elb" / "hosts").read_text().splitlines():
        if line.split()[1:] == [dns_name]:
            return line.split()[0]
    raise AssertionError(f"{dns_name} is not in the hosts view")


def probe(address: str, port: int, source: str) -> str:
    """``answered`` when an HTTP request from ``source`` gets an answer, ``refused`` when
    the connection is refused, closed or reset, or times out (a dropped SYN)."""
    with socket.socket() as s:
        s.settimeout(2.0)
        s.bind((source, 0))
        try:
            s.connect((address, port))
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = s.recv(64)
        except OSError:
            return "refused"
    return "answered" if data.startswith(b"HTTP/") else "refused"


def _sources(address: str, want: dict[str, str]) -> Any:
    got = {src: probe(address, 80, src) for src in want}
    return got if got == want else None


def test_security_groups_filter_the_listener_sources(cloud: CloudProcess) -> None:
    """Without groups anyone connects (ELB's default group); with a group only the
    sources its rules admit, and rules added or revoked later apply within seconds."""
    client, ec2 = elb(cloud), cloud.client("ec2")
    gid = ec2.create_security_group(GroupName="lb-front", Description="balancer")["GroupId"]
    dns = client.create_load_balancer(LoadBalancerName="guarded", Listeners=[HTTP],
                                      AvailabilityZones=["zone-a"])["DNSName"]
    address = _address(cloud, dns)
    wait_for(lambda: _sources(address, {"127.0.0.2": "answered", "127.0.0.3": "answered"}),
             30, "open to anyone without groups")

    client.apply_security_groups_to_load_balancer(LoadBalancerName="guarded",
                                                  SecurityGroups=[gid])
    wait_for(lambda: _sources(address, {"127.0.0.2": "refused", "127.0.0.3": "refused"}),
             10, "a group without rules admits nobody")

    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "IpRanges": [{"CidrIp": "127.0.0.3/32"}]}])
    wait_for(lambda: _sources(address, {"127.0.0.2": "refused", "127.0.0.3": "answered"}),
             10, "the new rule admits 127.0.0.3 only")
    # A rule for another port admits nothing on this listener.
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "127.0.0.2/32"}]}])
    ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "IpRanges": [{"CidrIp": "127.0.0.3/32"}]}])
    wait_for(lambda: _sources(address, {"127.0.0.2": "refused", "127.0.0.3": "refused"}),
             10, "the revoked rule no longer admits 127.0.0.3")

    described = client.describe_load_balancers(LoadBalancerNames=["guarded"])[
        "LoadBalancerDescriptions"][0]
    assert described["SecurityGroups"] == [gid]
    with pytest.raises(ClientError) as exc:
        client.apply_security_groups_to_load_balancer(LoadBalancerName="guarded",
                                                      SecurityGroups=["sg-00000000"])
    assert _code(exc) == "InvalidSecurityGroup"
    with pytest.raises(ClientError) as exc:
        client.create_load_balancer(LoadBalancerName="guarded-2", Listeners=[HTTP],
                                    AvailabilityZones=["zone-a"], SecurityGroups=["sg-nope"])
    assert _code(exc) == "InvalidSecurityGroup"
    with pytest.raises(ClientError) as exc:  # in use by the balancer
        ec2.delete_security_group(GroupId=gid)
    assert _code(exc) == "DependencyViolation"
    client.delete_load_balancer(LoadBalancerName="guarded")
    ec2.delete_security_group(GroupId=gid)


def test_application_balancer_security_groups_filter_sources(cloud: CloudProcess) -> None:
    """An application balancer's groups (elbv2 SecurityGroups / SetSecurityGroups) admit
    the sources their rules name, as a classic balancer's do; its DNS name resolves through
    the same hosts view; a group in use cannot be deleted."""
    v2, ec2 = cloud.client("elbv2", path="/services/LoadBalancing"), cloud.client("ec2")
    gid = ec2.create_security_group(GroupName="alb-front", Description="alb")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "IpRanges": [{"CidrIp": "127.0.0.2/32"}]}])
    lb = v2.create_load_balancer(Name="alb-guarded", SecurityGroups=[gid])[
        "LoadBalancers"][0]
    v2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                       DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
                           "StatusCode": "200", "ContentType": "text/plain"}}])
    address = _address(cloud, lb["DNSName"])
    res = _resolver(cloud)
    wait_for(lambda: _lookup(res, lb["DNSName"]) == [address], 10, "the balancer's name")
    wait_for(lambda: _sources(address, {"127.0.0.2": "answered", "127.0.0.3": "refused"}),
             30, "only 127.0.0.2 admitted")
    with pytest.raises(ClientError) as exc:  # in use by the balancer
        ec2.delete_security_group(GroupId=gid)
    assert _code(exc) == "DependencyViolation"
    other = ec2.create_security_group(GroupName="alb-open", Description="alb")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=other, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    v2.set_security_groups(LoadBalancerArn=lb["LoadBalancerArn"], SecurityGroups=[other])
    wait_for(lambda: _sources(address, {"127.0.0.2": "answered", "127.0.0.3": "answered"}),
             10, "open to anyone after SetSecurityGroups")
    v2.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    ec2.delete_security_group(GroupId=gid)
    ec2.delete_security_group(GroupId=other)


# -- SSL negotiation ------------------------------------------------------------------
def handshake(address: str, port: int, versions: tuple[ssl.TLSVersion, ssl.TLSVersion],
              ciphers: str = "") -> tuple[str, str] | None:
    """``(protocol, cipher)`` a client restricted to ``versions`` (and ``ciphers`` for
    TLS 1.2 and older) negotiates, or None when the handshake fails."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version, ctx.maximum_version = versions
    # The client's library defaults must not be what refuses old protocols.
    ctx.set_ciphers((ciphers or "DEFAULT") + ":@SECLEVEL=0")
    try:
        with socket.create_connection((address, port), timeout=5) as raw, \
                ctx.wrap_socket(raw) as tls:
            cipher = tls.cipher()
            return str(tls.version()), str(cipher[0] if cipher else "")
    except (ssl.SSLError, OSError):
        return None


TLS12 = (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
TLS11 = (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_1)
TLS13 = (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)


def test_predefined_policies_are_described_as_aws_does(cloud: CloudProcess) -> None:
    """DescribeLoadBalancerPolicies without a balancer lists the ELBSecurityPolicy-*
    policies with their protocols, server order and ciphers as true/false."""
    client = elb(cloud)
    pols = {p["PolicyName"]: p for p in client.describe_load_balancer_policies()[
        "PolicyDescriptions"]}
    assert {"ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-2-2017-01",
            "ELBSecurityPolicy-TLS-1-1-2017-01"} <= set(pols)
    attrs = {a["AttributeName"]: a["AttributeValue"] for a in
             pols["ELBSecurityPolicy-2016-08"]["PolicyAttributeDescriptions"]}
    assert attrs["Protocol-SSLv3"] == "false" and attrs["Protocol-TLSv1"] == "true"
    assert attrs["Protocol-TLSv1.2"] == "true" and attrs["Server-Defined-Cipher-Order"] == "true"
    assert attrs["ECDHE-RSA-AES128-GCM-SHA256"] == "true" and attrs["DES-CBC3-SHA"] == "false"
    strict = {a["AttributeName"]: a["AttributeValue"] for a in
              pols["ELBSecurityPolicy-TLS-1-2-2017-01"]["PolicyAttributeDescriptions"]}
    assert strict["Protocol-TLSv1.1"] == "false" and strict["ECDHE-RSA-AES128-SHA"] == "false"
    one = client.describe_load_balancer_policies(PolicyNames=["ELBSecurityPolicy-2016-08"])
    assert [p["PolicyName"] for p in one["PolicyDescriptions"]] == ["ELBSecurityPolicy-2016-08"]
    types = client.describe_load_balancer_policy_types(
        PolicyTypeNames=["SSLNegotiationPolicyType"])["PolicyTypeDescriptions"][0]
    names = {a["AttributeName"] for a in types["PolicyAttributeTypeDescriptions"]}
    assert {"Protocol-TLSv1.2", "Server-Defined-Cipher-Order", "Reference-Security-Policy",
            "ECDHE-RSA-AES256-GCM-SHA384"} <= names


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated")
def test_ssl_negotiation_policies_decide_protocols_ciphers_and_order(
        cloud: CloudProcess) -> None:
    """An SSL listener negotiates what its policy allows: ELBSecurityPolicy-2016-08 by
    default (TLS 1.0 to 1.2, never 1.3); a policy by reference or a custom one narrows
    protocols and ciphers; Server-Defined-Cipher-Order false lets the client's order
    win."""
    client = elb(cloud)
    body, key = _self_signed("tls.example")
    arn = cloud.client("iam").upload_server_certificate(
        ServerCertificateName="tls-policy", CertificateBody=body, PrivateKey=key)[
        "ServerCertificateMetadata"]["Arn"]
    dns = client.create_load_balancer(LoadBalancerName="tls", AvailabilityZones=["zone-a"],
                                      Listeners=[{"Protocol": "SSL", "LoadBalancerPort": 443,
                                                  "InstanceProtocol": "TCP",
                                                  "InstancePort": 8443,
                                                  "SSLCertificateId": arn}])["DNSName"]
    address = _address(cloud, dns)
    # The default policy: TLS 1.1 and 1.2 negotiate, TLS 1.3 does not.
    wait_for(lambda: handshake(address, 443, TLS12), 30, "the default policy's TLS 1.2")
    assert handshake(address, 443, TLS11) is not None
    assert handshake(address, 443, TLS13) is None

    def policy(name: str, **attrs: str) -> None:
        client.create_load_balancer_policy(
            LoadBalancerName="tls", PolicyName=name, PolicyTypeName="SSLNegotiationPolicyType",
            PolicyAttributes=[{"AttributeName": k.replace("_", "-"), "AttributeValue": v}
                              for k, v in attrs.items()])

    def use(name: str) -> None:
        client.set_load_balancer_policies_of_listener(LoadBalancerName="tls",
                                                      LoadBalancerPort=443, PolicyNames=[name])

    client.create_load_balancer_policy(
        LoadBalancerName="tls", PolicyName="strict", PolicyTypeName="SSLNegotiationPolicyType",
        PolicyAttributes=[{"AttributeName": "Reference-Security-Policy",
                           "AttributeValue": "ELBSecurityPolicy-TLS-1-2-2017-01"}])
    use("strict")
    wait_for(lambda: handshake(address, 443, TLS11) is None, 15, "TLS 1.1 refused")
    assert handshake(address, 443, TLS12) is not None
    assert handshake(address, 443, TLS12, "ECDHE-RSA-AES128-SHA") is None  # SHA-1 MAC: out

    pair = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"  # the client's order
    client.create_load_balancer_policy(
        LoadBalancerName="tls", PolicyName="server-order",
        PolicyTypeName="SSLNegotiationPolicyType", PolicyAttributes=[
            {"AttributeName": n, "AttributeValue": "true"} for n in (
                "Protocol-TLSv1.2", "Server-Defined-Cipher-Order",
                "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384")])
    use("server-order")
    wait_for(lambda: handshake(address, 443, TLS12, "AES128-GCM-SHA256") is None, 15,
             "a cipher the policy does not enable refused")
    # The server's order (AWS's: AES128 before AES256) wins over the client's.
    assert handshake(address, 443, TLS12, pair) == ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256")
    assert handshake(address, 443, TLS11) is None

    policy("client-order", **{"Protocol-TLSv1.2": "true", "Server-Defined-Cipher-Order":
                              "false", "ECDHE-RSA-AES128-GCM-SHA256": "true",
                              "ECDHE-RSA-AES256-GCM-SHA384": "true"})
    use("client-order")
    wait_for(lambda: handshake(address, 443, TLS12, pair) ==
             ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384"), 15, "the client's cipher order")

    # Bad input: AWS's codes.
    for attrs, code in (({"Protocol-TLSv9": "true"}, "InvalidConfigurationRequest"),
                        ({"Protocol-TLSv1.2": "yes"}, "InvalidConfigurationRequest"),
                        ({"Protocol-TLSv1.2": "true"}, "InvalidConfigurationRequest"),
                        ({"Protocol-SSLv3": "true", "AES128-SHA": "true"},
                         "InvalidConfigurationRequest"),
                        ({"Reference-Security-Policy": "ELBSecurityPolicy-1999"},
                         "PolicyNotFound")):
        with pytest.raises(ClientError) as exc:
            policy("bad", **attrs)
        assert _code(exc) == code, attrs
    client.create_load_balancer_listeners(LoadBalancerName="tls", Listeners=[HTTP])
    with pytest.raises(ClientError) as exc:
        client.set_load_balancer_policies_of_listener(
            LoadBalancerName="tls", LoadBalancerPort=80, PolicyNames=["strict"])
    assert _code(exc) == "InvalidConfigurationRequest"
    client.delete_load_balancer(LoadBalancerName="tls")


# -- DNS ------------------------------------------------------------------------------
def _resolver(cloud: CloudProcess) -> Any:
    import dns.resolver

    port = int(next(line.split("=")[1] for line in cloud.config_text.splitlines()
                    if line.startswith("dns_port")))
    res = dns.resolver.Resolver(configure=False)
    res.nameservers, res.port, res.lifetime = ["127.0.0.1"], port, 3.0
    return res


def _lookup(res: Any, name: str) -> list[str] | str:
    """The A records of ``name``, or the DNS error's class name."""
    import dns.exception

    try:
        return sorted(r.address for r in res.resolve(name, "A"))
    except dns.exception.DNSException as exc:
        return type(exc).__name__


def test_dns_answers_balancer_and_instance_names_and_nothing_else(
        cloud: CloudProcess) -> None:
    """The cloud's DNS service resolves a balancer's DNS name to its address and an
    instance's private and public DNS names; other names are NXDOMAIN (nothing is
    forwarded); a deleted balancer's name goes away."""
    client, res = elb(cloud), _resolver(cloud)
    dns_name = client.create_load_balancer(LoadBalancerName="named", Listeners=[HTTP],
                                           AvailabilityZones=["zone-a"])["DNSName"]
    address = _address(cloud, dns_name)
    assert wait_for(lambda: _lookup(res, dns_name) == [address] or None, 10,
                    "the balancer's name")
    inst = run_instances(cloud.client("ec2"), "zone-a")[0]
    wait_for(lambda: _lookup(res, inst["PrivateDnsName"]) == [inst["PrivateIpAddress"]], 10,
             "the instance's private name")
    if inst.get("PublicDnsName"):
        wait_for(lambda: _lookup(res, inst["PublicDnsName"]) == [inst["PublicIpAddress"]], 10,
                 "the instance's public name")
    assert _lookup(res, "nothing-here." + dns_name.split(".", 1)[1]) == "NXDOMAIN"
    assert _lookup(res, "www.example.com") == "NXDOMAIN"
    # A dnsmasq that dies is started again.
    import os
    import signal

    os.kill(int((Path(cloud.data_dir) / "dns" / "dnsmasq.pid").read_text()), signal.SIGKILL)
    wait_for(lambda: _lookup(res, dns_name) == [address], 15, "dnsmasq back")
    client.delete_load_balancer(LoadBalancerName="named")
    wait_for(lambda: _lookup(res, dns_name) == "NXDOMAIN", 10, "the name gone")


# -- security groups in the balancers' namespace (nftables) ---------------------------
PROBE = '''
import json, socket, sys
address, port, out = sys.argv[1], int(sys.argv[2]), {}
for source in sys.argv[3:]:
    with socket.socket() as s:
        s.settimeout(1.0)
        s.bind((source, 0))
        try:
            s.connect((address, port))
            s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
            out[source] = "answered" if s.recv(64).startswith(b"HTTP/") else "refused"
        except OSError:
            out[source] = "refused"
print(json.dumps(out))
'''


@pytest.mark.skipif(bool(why_not()), reason=why_not() or "runs")
def test_security_groups_in_a_namespace_are_nftables_rules(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Balancers in a namespace are filtered by nftables there: a CIDR rule admits its
    sources, a source-group rule the addresses of the group's instances; other sources'
    connections are dropped; a revoked rule stops admitting within seconds."""
    import json
    import subprocess
    import sys

    ns = Namespace(tmp_path_factory.mktemp("netns"))
    cloud: CloudProcess | None = None
    try:
        cloud = new_cloud(config(net=82, extra=f'elb_netns = "{ns.name}"'))
        cloud.start()
        client, ec2 = elb(cloud), cloud.client("ec2")
        members = ec2.create_security_group(GroupName="clients", Description="c")["GroupId"]
        front = ec2.create_security_group(GroupName="lb-ns", Description="lb")["GroupId"]
        member = ec2.run_instances(ImageId=image_id(ec2), MinCount=1, MaxCount=1,
                                   SecurityGroupIds=[members],
                                   Placement={"AvailabilityZone": "zone-a"})["Instances"][0]
        member_ip = wait_for(lambda: next(
            (i.get("PrivateIpAddress") for r in ec2.describe_instances(
                InstanceIds=[member["InstanceId"]])["Reservations"] for i in r["Instances"]
             if i["State"]["Name"] == "running"), None), 60, "the member running")
        for address in ("192.0.2.10", "192.0.2.20", member_ip):
            ns.add_address(address)
        (ns.workdir / "probe.py").write_text(PROBE)
        ec2.authorize_security_group_ingress(GroupId=front, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
             "IpRanges": [{"CidrIp": "192.0.2.10/32"}]},
            {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1024,
             "UserIdGroupPairs": [{"GroupId": members}]}])
        dns = client.create_load_balancer(LoadBalancerName="fenced", Listeners=[HTTP],
                                          AvailabilityZones=["zone-a"],
                                          SecurityGroups=[front])["DNSName"]
        address = _address(cloud, dns)

        def sources(want: dict[str, str]) -> Any:
            res = subprocess.run(["ip", "netns", "exec", ns.name, sys.executable,
                                  str(ns.workdir / "probe.py"), address, "80", *want],
                                 capture_output=True, text=True, timeout=60, check=True)
            got = json.loads(res.stdout)
            return got if got == want else None

        wait_for(lambda: sources({"192.0.2.10": "answered", "192.0.2.20": "refused",
                                  member_ip: "answered"}), 30, "only the admitted sources")
        ec2.revoke_security_group_ingress(GroupId=front, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1024,
             "UserIdGroupPairs": [{"GroupId": members}]}])
        wait_for(lambda: sources({"192.0.2.10": "answered", member_ip: "refused"}), 10,
                 "the member no longer admitted")
    finally:
        if cloud is not None:
            cloud.stop()
        ns.close()


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated")
def test_eulb_commands_for_groups_and_ssl_policies(cloud: CloudProcess) -> None:
    """The installed eulb-* commands: the predefined policies listed, an SSL policy by
    reference created and set, groups applied; a bad attribute is one error line, exit 1."""
    import subprocess
    import sys

    bin_dir = Path(sys.executable).parent

    def eulb(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([str(bin_dir / args[0]), *args[1:]], env=cloud.env(),
                              capture_output=True, text=True, timeout=120)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    listed = eulb("eulb-describe-lb-policies").stdout
    assert "ELBSecurityPolicy-2016-08" in listed and "ELBSecurityPolicy-TLS-1-2-2017-01" in listed
    client = elb(cloud)
    body, key = _self_signed("cli.example")
    arn = cloud.client("iam").upload_server_certificate(
        ServerCertificateName="cli-tls", CertificateBody=body, PrivateKey=key)[
        "ServerCertificateMetadata"]["Arn"]
    client.create_load_balancer(LoadBalancerName="cli", AvailabilityZones=["zone-a"],
                                Listeners=[{"Protocol": "HTTPS", "LoadBalancerPort": 443,
                                            "InstanceProtocol": "HTTP", "InstancePort": 80,
                                            "SSLCertificateId": arn}])
    made = eulb("eulb-create-lb-policy", "cli", "-n", "tls12", "-t", "SSLNegotiationPolicyType",
                "-a", "name=Reference-Security-Policy, value=ELBSecurityPolicy-TLS-1-2-2017-01")
    assert made.returncode == 0, made.stderr
    assert eulb("eulb-set-lb-policies-of-listener", "cli", "-l", "443", "-p",
                "tls12").returncode == 0
    bad = eulb("eulb-create-lb-policy", "cli", "-n", "bad", "-t", "SSLNegotiationPolicyType",
               "-a", "name=Protocol-TLSv9, value=true")
    assert bad.returncode == 1 and "InvalidConfigurationRequest" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    address = _address(cloud, client.describe_load_balancers(LoadBalancerNames=["cli"])[
        "LoadBalancerDescriptions"][0]["DNSName"])
    wait_for(lambda: handshake(address, 443, TLS12) is not None and
             handshake(address, 443, TLS11) is None, 15, "the policy set by eulb in force")
    gid = cloud.client("ec2").create_security_group(GroupName="cli-lb", Description="c")[
        "GroupId"]
    applied = eulb("eulb-apply-security-groups-to-lb", "cli", "-g", gid)
    assert applied.returncode == 0 and gid in applied.stdout, applied.stderr
    wait_for(lambda: handshake(address, 443, TLS12) is None, 15,
             "the group without rules admits no TLS client")
    client.delete_load_balancer(LoadBalancerName="cli")
