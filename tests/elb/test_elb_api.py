"""The classic ELB API with boto3's ``elb`` client (and awscli) against the real cloud:
every answer parses, errors carry ELB's codes, the authorization contract holds and
balancers survive a restart."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cloudproc import CloudProcess, new_cloud
from tests.elb.elb_helpers import config, elb, health, run_instances, wait_for

HTTP = {"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP",
        "InstancePort": 8080}


@pytest.fixture(scope="module")
def cloud() -> Iterator[CloudProcess]:
    """A two-zone cloud of its own for this module."""
    c = new_cloud(config(net=79))
    c.start()
    try:
        yield c
    finally:
        c.stop()


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _status(exc: pytest.ExceptionInfo[ClientError]) -> int:
    return int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


def _self_signed(name: str) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def test_create_describe_delete(cloud: CloudProcess) -> None:
    """A balancer has a DNS name, canonical hosted zone, default health check and
    attributes; create is idempotent; delete of a missing balancer succeeds."""
    client = elb(cloud)
    dns = client.create_load_balancer(LoadBalancerName="api-one", Listeners=[HTTP],
                                      AvailabilityZones=["zone-a"],
                                      Tags=[{"Key": "team", "Value": "blue"}])["DNSName"]
    assert dns.startswith("api-one-") and ".elb." in dns
    assert client.create_load_balancer(LoadBalancerName="api-one", Listeners=[HTTP],
                                       AvailabilityZones=["zone-a"])["DNSName"] == dns
    d = client.describe_load_balancers(LoadBalancerNames=["api-one"])[
        "LoadBalancerDescriptions"][0]
    assert d["DNSName"] == dns and d["CanonicalHostedZoneName"] == dns
    assert d["CanonicalHostedZoneNameID"]
    assert d["ListenerDescriptions"][0]["Listener"] == HTTP
    assert d["AvailabilityZones"] == ["zone-a"] and d["Scheme"] == "internet-facing"
    assert d["HealthCheck"] == {"Target": "TCP:80", "Interval": 30, "Timeout": 5,
                                "UnhealthyThreshold": 2, "HealthyThreshold": 10}
    tags = client.describe_tags(LoadBalancerNames=["api-one"])["TagDescriptions"][0]["Tags"]
    assert tags == [{"Key": "team", "Value": "blue"}]
    attrs = client.describe_load_balancer_attributes(LoadBalancerName="api-one")[
        "LoadBalancerAttributes"]
    assert attrs["CrossZoneLoadBalancing"] == {"Enabled": False}
    assert attrs["ConnectionDraining"] == {"Enabled": False, "Timeout": 300}
    assert attrs["ConnectionSettings"] == {"IdleTimeout": 60}
    with pytest.raises(ClientError) as exc:
        client.create_load_balancer(LoadBalancerName="api-one", AvailabilityZones=["zone-a"],
                                    Listeners=[{**HTTP, "InstancePort": 9090,
                                                "LoadBalancerPort": 81}])
    assert _code(exc) == "DuplicateLoadBalancerName"
    client.delete_load_balancer(LoadBalancerName="api-one")
    client.delete_load_balancer(LoadBalancerName="api-one")
    with pytest.raises(ClientError) as exc:
        client.describe_load_balancers(LoadBalancerNames=["api-one"])
    assert _code(exc) == "LoadBalancerNotFound" and _status(exc) == 400


@pytest.mark.parametrize("kwargs,code", [
    ({"LoadBalancerName": "-bad", "Listeners": [HTTP], "AvailabilityZones": ["zone-a"]},
     "ValidationError"),
    ({"LoadBalancerName": "x", "Listeners": [{**HTTP, "Protocol": "FTP"}],
      "AvailabilityZones": ["zone-a"]}, "UnsupportedProtocol"),
    ({"LoadBalancerName": "x", "Listeners": [{**HTTP, "InstanceProtocol": "TCP"}],
      "AvailabilityZones": ["zone-a"]}, "ValidationError"),
    ({"LoadBalancerName": "x", "Listeners": [HTTP], "AvailabilityZones": ["nowhere"]},
     "ValidationError"),
    ({"LoadBalancerName": "x", "Listeners": [{**HTTP, "Protocol": "HTTPS",
                                              "SSLCertificateId": "arn:aws:iam::1:server-"
                                              "certificate/none"}],
      "AvailabilityZones": ["zone-a"]}, "CertificateNotFound"),
    ({"LoadBalancerName": "x", "Listeners": [HTTP], "Subnets": ["subnet-12345678"]},
     "InvalidConfigurationRequest"),
    ({"LoadBalancerName": "x", "Listeners": [HTTP], "AvailabilityZones": ["zone-a"],
      "Scheme": "sideways"}, "InvalidScheme"),
])
def test_malformed_creates_get_elb_error_codes(cloud: CloudProcess, kwargs: dict[str, Any],
                                               code: str) -> None:
    """Bad names, protocols, zones, certificates, subnets and schemes: ELB's 4xx codes."""
    with pytest.raises(ClientError) as exc:
        elb(cloud).create_load_balancer(**kwargs)
    assert _code(exc) == code
    assert 400 <= _status(exc) < 500


def test_listeners_instances_health_and_zones(cloud: CloudProcess) -> None:
    """Listeners come and go; instances register (bad ones are InvalidInstance); health
    on the virtual hypervisor follows the modelled instance state; zones enable/disable."""
    client, ec2 = elb(cloud), cloud.client("ec2")
    client.create_load_balancer(LoadBalancerName="api-two", Listeners=[HTTP],
                                AvailabilityZones=["zone-a"])
    client.create_load_balancer_listeners(LoadBalancerName="api-two", Listeners=[
        {"Protocol": "TCP", "LoadBalancerPort": 2222, "InstanceProtocol": "TCP",
         "InstancePort": 22}])
    with pytest.raises(ClientError) as exc:
        client.create_load_balancer_listeners(LoadBalancerName="api-two", Listeners=[
            {**HTTP, "InstancePort": 9999}])
    assert _code(exc) == "DuplicateListener"
    client.delete_load_balancer_listeners(LoadBalancerName="api-two", LoadBalancerPorts=[2222])
    d = client.describe_load_balancers(LoadBalancerNames=["api-two"])[
        "LoadBalancerDescriptions"][0]
    assert [x["Listener"]["LoadBalancerPort"] for x in d["ListenerDescriptions"]] == [80]

    a = run_instances(ec2, "zone-a")[0]["InstanceId"]
    b = run_instances(ec2, "zone-b")[0]["InstanceId"]
    with pytest.raises(ClientError) as exc:
        client.register_instances_with_load_balancer(
            LoadBalancerName="api-two", Instances=[{"InstanceId": "i-0000000000000000f"}])
    assert _code(exc) == "InvalidInstance"
    out = client.register_instances_with_load_balancer(
        LoadBalancerName="api-two", Instances=[{"InstanceId": a}, {"InstanceId": b}])
    assert {i["InstanceId"] for i in out["Instances"]} == {a, b}
    states = health(client, "api-two")
    assert states[a]["State"] == "InService" and states[a]["ReasonCode"] == "N/A"
    assert states[b]["State"] == "OutOfService" and states[b]["ReasonCode"] == "ELB"
    assert "Availability Zone" in states[b]["Description"]
    assert client.enable_availability_zones_for_load_balancer(
        LoadBalancerName="api-two", AvailabilityZones=["zone-b"])["AvailabilityZones"] == \
        ["zone-a", "zone-b"]
    assert health(client, "api-two")[b]["State"] == "InService"
    ec2.terminate_instances(InstanceIds=[a])
    st = wait_for(lambda: (s := health(client, "api-two")[a])["State"] == "OutOfService"
                  and s, 30, "terminated instance OutOfService")
    assert st["ReasonCode"] == "Instance" and "terminated" in st["Description"]
    with pytest.raises(ClientError) as exc:
        client.disable_availability_zones_for_load_balancer(
            LoadBalancerName="api-two", AvailabilityZones=["zone-a", "zone-b"])
    assert _code(exc) == "InvalidConfigurationRequest" and _status(exc) == 409
    client.deregister_instances_from_load_balancer(LoadBalancerName="api-two",
                                                   Instances=[{"InstanceId": b}])
    with pytest.raises(ClientError) as exc:
        client.describe_instance_health(LoadBalancerName="api-two",
                                        Instances=[{"InstanceId": b}])
    assert _code(exc) == "InvalidInstance"
    hc = client.configure_health_check(LoadBalancerName="api-two", HealthCheck={
        "Target": "HTTP:8080/ping", "Interval": 10, "Timeout": 5, "UnhealthyThreshold": 3,
        "HealthyThreshold": 4})["HealthCheck"]
    assert hc["Target"] == "HTTP:8080/ping" and hc["HealthyThreshold"] == 4
    for bad in ({"Target": "HTTP:8080", "Interval": 10, "Timeout": 5, "UnhealthyThreshold": 3,
                 "HealthyThreshold": 4},
                {"Target": "TCP:22", "Interval": 10, "Timeout": 10, "UnhealthyThreshold": 3,
                 "HealthyThreshold": 4}):
        with pytest.raises(ClientError) as exc:
            client.configure_health_check(LoadBalancerName="api-two", HealthCheck=bad)
        assert _code(exc) == "ValidationError"
    with pytest.raises(ClientError) as exc:
        client.attach_load_balancer_to_subnets(LoadBalancerName="api-two",
                                               Subnets=["subnet-1234abcd"])
    assert _code(exc) == "InvalidConfigurationRequest"
    group = ec2.create_security_group(GroupName="lb-sg", Description="lb")["GroupId"]
    assert client.apply_security_groups_to_load_balancer(
        LoadBalancerName="api-two", SecurityGroups=[group])["SecurityGroups"] == [group]
    with pytest.raises(ClientError) as exc:
        client.apply_security_groups_to_load_balancer(LoadBalancerName="api-two",
                                                      SecurityGroups=["sg-00000000"])
    assert _code(exc) == "InvalidSecurityGroup"


def test_policies_attributes_and_certificates(cloud: CloudProcess) -> None:
    """Policy types, stickiness, proxy protocol, SSL negotiation; listener policies and
    certificates; attributes round-trip and are validated."""
    client, iam = elb(cloud), cloud.client("iam")
    body, key = _self_signed("lb.example")
    cert_arn = iam.upload_server_certificate(ServerCertificateName="lb-cert",
                                             CertificateBody=body, PrivateKey=key)[
        "ServerCertificateMetadata"]["Arn"]
    client.create_load_balancer(LoadBalancerName="api-three", AvailabilityZones=["zone-a"],
                                Listeners=[HTTP, {"Protocol": "HTTPS", "LoadBalancerPort": 443,
                                                  "InstanceProtocol": "HTTP",
                                                  "InstancePort": 8080,
                                                  "SSLCertificateId": cert_arn},
                                           {"Protocol": "TCP", "LoadBalancerPort": 5000,
                                            "InstanceProtocol": "TCP", "InstancePort": 5000}])
    types = {t["PolicyTypeName"] for t in client.describe_load_balancer_policy_types()[
        "PolicyTypeDescriptions"]}
    assert {"AppCookieStickinessPolicyType", "LBCookieStickinessPolicyType",
            "ProxyProtocolPolicyType", "SSLNegotiationPolicyType"} <= types
    with pytest.raises(ClientError) as exc:
        client.describe_load_balancer_policy_types(PolicyTypeNames=["NoSuchType"])
    assert _code(exc) == "PolicyTypeNotFound"
    client.create_lb_cookie_stickiness_policy(LoadBalancerName="api-three", PolicyName="lbc",
                                              CookieExpirationPeriod=60)
    client.create_app_cookie_stickiness_policy(LoadBalancerName="api-three", PolicyName="app",
                                               CookieName="SESSION")
    client.create_load_balancer_policy(
        LoadBalancerName="api-three", PolicyName="pp", PolicyTypeName="ProxyProtocolPolicyType",
        PolicyAttributes=[{"AttributeName": "ProxyProtocol", "AttributeValue": "true"}])
    client.create_load_balancer_policy(
        LoadBalancerName="api-three", PolicyName="tls", PolicyTypeName="SSLNegotiationPolicyType",
        PolicyAttributes=[{"AttributeName": "Reference-Security-Policy",
                           "AttributeValue": "ELBSecurityPolicy-TLS-1-2-2017-01"}])
    with pytest.raises(ClientError) as exc:
        client.create_lb_cookie_stickiness_policy(LoadBalancerName="api-three",
                                                  PolicyName="lbc")
    assert _code(exc) == "DuplicatePolicyName"
    with pytest.raises(ClientError) as exc:
        client.create_load_balancer_policy(LoadBalancerName="api-three", PolicyName="zz",
                                           PolicyTypeName="Bogus")
    assert _code(exc) == "PolicyTypeNotFound"
    client.set_load_balancer_policies_of_listener(LoadBalancerName="api-three",
                                                  LoadBalancerPort=80, PolicyNames=["lbc"])
    client.set_load_balancer_policies_of_listener(LoadBalancerName="api-three",
                                                  LoadBalancerPort=443,
                                                  PolicyNames=["app", "tls"])
    client.set_load_balancer_policies_for_backend_server(LoadBalancerName="api-three",
                                                         InstancePort=5000, PolicyNames=["pp"])
    with pytest.raises(ClientError) as exc:
        client.set_load_balancer_policies_of_listener(LoadBalancerName="api-three",
                                                      LoadBalancerPort=5000,
                                                      PolicyNames=["lbc"])
    assert _code(exc) == "InvalidConfigurationRequest"
    with pytest.raises(ClientError) as exc:
        client.set_load_balancer_policies_of_listener(LoadBalancerName="api-three",
                                                      LoadBalancerPort=81, PolicyNames=[])
    assert _code(exc) == "ListenerNotFound"
    d = client.describe_load_balancers(LoadBalancerNames=["api-three"])[
        "LoadBalancerDescriptions"][0]
    assert d["Policies"]["LBCookieStickinessPolicies"] == [
        {"PolicyName": "lbc", "CookieExpirationPeriod": 60}]
    assert d["Policies"]["AppCookieStickinessPolicies"] == [
        {"PolicyName": "app", "CookieName": "SESSION"}]
    assert sorted(d["Policies"]["OtherPolicies"]) == ["pp", "tls"]
    assert d["BackendServerDescriptions"] == [{"InstancePort": 5000, "PolicyNames": ["pp"]}]
    by_port = {x["Listener"]["LoadBalancerPort"]: x for x in d["ListenerDescriptions"]}
    assert by_port[443]["Listener"]["SSLCertificateId"] == cert_arn
    assert by_port[443]["PolicyNames"] == ["app", "tls"]
    pols = client.describe_load_balancer_policies(LoadBalancerName="api-three",
                                                  PolicyNames=["tls"])["PolicyDescriptions"]
    attrs = {a["AttributeName"]: a["AttributeValue"]
             for a in pols[0]["PolicyAttributeDescriptions"]}
    assert attrs["Protocol-TLSv1.2"] == "true"
    assert client.describe_load_balancer_policies()["PolicyDescriptions"]
    with pytest.raises(ClientError) as exc:
        client.delete_load_balancer_policy(LoadBalancerName="api-three", PolicyName="lbc")
    assert _code(exc) == "InvalidConfigurationRequest"
    # Certificates of listeners.
    body2, key2 = _self_signed("lb2.example")
    arn2 = iam.upload_server_certificate(ServerCertificateName="lb-cert2",
                                         CertificateBody=body2, PrivateKey=key2)[
        "ServerCertificateMetadata"]["Arn"]
    client.set_load_balancer_listener_ssl_certificate(LoadBalancerName="api-three",
                                                      LoadBalancerPort=443,
                                                      SSLCertificateId=arn2)
    with pytest.raises(ClientError) as exc:
        client.set_load_balancer_listener_ssl_certificate(LoadBalancerName="api-three",
                                                          LoadBalancerPort=80,
                                                          SSLCertificateId=arn2)
    assert _code(exc) == "InvalidConfigurationRequest"
    # Attributes.
    out = client.modify_load_balancer_attributes(LoadBalancerName="api-three",
                                                 LoadBalancerAttributes={
        "CrossZoneLoadBalancing": {"Enabled": True},
        "ConnectionDraining": {"Enabled": True, "Timeout": 45},
        "ConnectionSettings": {"IdleTimeout": 120}})
    assert out["LoadBalancerName"] == "api-three"
    attrs2 = client.describe_load_balancer_attributes(LoadBalancerName="api-three")[
        "LoadBalancerAttributes"]
    assert attrs2["CrossZoneLoadBalancing"] == {"Enabled": True}
    assert attrs2["ConnectionDraining"] == {"Enabled": True, "Timeout": 45}
    assert attrs2["ConnectionSettings"] == {"IdleTimeout": 120}
    with pytest.raises(ClientError) as exc:
        client.modify_load_balancer_attributes(LoadBalancerName="api-three",
                                               LoadBalancerAttributes={"AccessLog": {
                                                   "Enabled": True, "S3BucketName": "nope",
                                                   "EmitInterval": 5}})
    assert _code(exc) == "InvalidConfigurationRequest"
    cloud.client("s3").create_bucket(Bucket="lb-logs")
    with pytest.raises(ClientError) as exc:
        client.modify_load_balancer_attributes(LoadBalancerName="api-three",
                                               LoadBalancerAttributes={"AccessLog": {
                                                   "Enabled": True, "S3BucketName": "lb-logs",
                                                   "EmitInterval": 7}})
    assert _code(exc) == "ValidationError"
    client.modify_load_balancer_attributes(LoadBalancerName="api-three",
                                           LoadBalancerAttributes={"AccessLog": {
                                               "Enabled": True, "S3BucketName": "lb-logs",
                                               "EmitInterval": 5, "S3BucketPrefix": "web"}})
    log = client.describe_load_balancer_attributes(LoadBalancerName="api-three")[
        "LoadBalancerAttributes"]["AccessLog"]
    assert log == {"Enabled": True, "S3BucketName": "lb-logs", "EmitInterval": 5,
                   "S3BucketPrefix": "web"}


def test_tags_and_limits(cloud: CloudProcess) -> None:
    """Tags add, replace and go; at most 10; limits are described."""
    client = elb(cloud)
    client.create_load_balancer(LoadBalancerName="api-four", Listeners=[HTTP],
                                AvailabilityZones=["zone-a"])
    client.add_tags(LoadBalancerNames=["api-four"], Tags=[{"Key": "a", "Value": "1"},
                                                         {"Key": "b", "Value": "2"}])
    client.add_tags(LoadBalancerNames=["api-four"], Tags=[{"Key": "a", "Value": "3"}])
    client.remove_tags(LoadBalancerNames=["api-four"], Tags=[{"Key": "b"}])
    assert client.describe_tags(LoadBalancerNames=["api-four"])["TagDescriptions"][0][
        "Tags"] == [{"Key": "a", "Value": "3"}]
    with pytest.raises(ClientError) as exc:
        client.add_tags(LoadBalancerNames=["api-four"],
                        Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(10)])
    assert _code(exc) == "TooManyTags"
    limits = {x["Name"]: x["Max"] for x in client.describe_account_limits()["Limits"]}
    assert limits["classic-load-balancers"] == "20"


def test_authorization_contract(cloud: CloudProcess) -> None:
    """A user with no policy is denied; a policy on one balancer's ARN allows it only."""
    iam, client = cloud.client("iam"), elb(cloud)
    client.create_load_balancer(LoadBalancerName="api-mine", Listeners=[HTTP],
                                AvailabilityZones=["zone-a"])
    client.create_load_balancer(LoadBalancerName="api-other", Listeners=[HTTP],
                                AvailabilityZones=["zone-a"])
    iam.create_user(UserName="lbuser")
    k = iam.create_access_key(UserName="lbuser")["AccessKey"]
    user = elb(cloud, key=k["AccessKeyId"], secret=k["SecretAccessKey"])
    with pytest.raises(ClientError) as exc:
        user.describe_load_balancers()
    assert _code(exc) == "AccessDenied" and _status(exc) == 403
    account = cloud.credentials()["account"]
    iam.put_user_policy(UserName="lbuser", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "elasticloadbalancing:Describe*", "Resource": "*"},
            {"Effect": "Allow", "Action": "elasticloadbalancing:ConfigureHealthCheck",
             "Resource": f"arn:aws:elasticloadbalancing:*:{account}:loadbalancer/api-mine"}]}))
    assert user.describe_load_balancers()["LoadBalancerDescriptions"]
    check = {"Target": "TCP:8080", "Interval": 10, "Timeout": 5, "UnhealthyThreshold": 2,
             "HealthyThreshold": 2}
    user.configure_health_check(LoadBalancerName="api-mine", HealthCheck=check)
    with pytest.raises(ClientError) as exc:
        user.configure_health_check(LoadBalancerName="api-other", HealthCheck=check)
    assert _code(exc) == "AccessDenied"


def test_awscli_and_restart(cloud: CloudProcess) -> None:
    """awscli creates and describes a balancer; it survives a cloud restart."""
    creds = cloud.credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=creds["key"], AWS_SECRET_ACCESS_KEY=creds["secret"],
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    aws = [str(Path(sys.executable).parent / "aws"), "--endpoint-url",
           cloud.url + "/services/LoadBalancing", "--output", "json", "elb"]
    out = subprocess.run([*aws, "create-load-balancer", "--load-balancer-name", "api-cli",
                          "--listeners", "Protocol=HTTP,LoadBalancerPort=80,InstanceProtocol="
                          "HTTP,InstancePort=8080", "--availability-zones", "zone-a"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    dns = json.loads(out.stdout)["DNSName"]
    bad = subprocess.run([*aws, "describe-load-balancers", "--load-balancer-names", "nope"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode != 0 and "LoadBalancerNotFound" in bad.stderr
    cloud.restart()
    out = subprocess.run([*aws, "describe-load-balancers", "--load-balancer-names", "api-cli"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["LoadBalancerDescriptions"][0]["DNSName"] == dns
    hosts = (Path(cloud.data_dir) / "elb" / "hosts").read_text()
    assert dns in hosts


def test_load_balancer_quota_of_an_account(cloud: CloudProcess) -> None:
    """A Limit on elasticloadbalancing:quota-loadbalancernumber refuses the balancer past
    it (TooManyLoadBalancers); repeating a create is not a new balancer; deleting one
    makes room."""
    from tests.server.helpers import new_account, raw_iam

    _, key, secret = new_account(cloud, "elbq")
    creds = cloud.credentials()
    raw_iam(cloud, creds["key"], creds["secret"], {
        "Action": "PutAccountPolicy", "AccountName": "elbq", "PolicyName": "q",
        "PolicyDocument": json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Limit", "Action": "elasticloadbalancing:CreateLoadBalancer",
             "Resource": "*", "Condition": {"NumericLessThanEquals": {
                 "elasticloadbalancing:quota-loadbalancernumber": "1"}}}]})})
    client = elb(cloud, key=key, secret=secret)
    client.create_load_balancer(LoadBalancerName="q1", Listeners=[HTTP],
                                AvailabilityZones=["zone-a"])
    client.create_load_balancer(LoadBalancerName="q1", Listeners=[HTTP],
                                AvailabilityZones=["zone-a"])
    with pytest.raises(ClientError) as exc:
        client.create_load_balancer(LoadBalancerName="q2", Listeners=[HTTP],
                                    AvailabilityZones=["zone-a"])
    assert _code(exc) == "TooManyLoadBalancers"
    assert "quota-loadbalancernumber" in exc.value.response["Error"]["Message"]
    client.delete_load_balancer(LoadBalancerName="q1")
    client.create_load_balancer(LoadBalancerName="q2", Listeners=[HTTP],
                                AvailabilityZones=["zone-a"])


def test_without_haproxy_the_api_works_and_health_is_modelled(make_cloud: Any) -> None:
    """A cloud whose HAProxy binary is missing still serves the API; health on the
    virtual hypervisor follows the instances' state."""
    cloud = make_cloud(config(net=83, extra='elb_haproxy = "/nonexistent/haproxy"'))
    client, ec2 = elb(cloud), cloud.client("ec2")
    client.create_load_balancer(LoadBalancerName="plain", Listeners=[HTTP],
                                AvailabilityZones=["zone-a"])
    iid = run_instances(ec2, "zone-a")[0]["InstanceId"]
    client.register_instances_with_load_balancer(LoadBalancerName="plain",
                                                 Instances=[{"InstanceId": iid}])
    assert health(client, "plain")[iid]["State"] == "InService"
    assert not list((Path(cloud.data_dir) / "elb").glob("*/haproxy.cfg"))
