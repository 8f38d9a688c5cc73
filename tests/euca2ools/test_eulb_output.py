"""eulb-* output records from AWS-shaped answers that moto does not give (a stub serves them):
instances in Register/Deregister answers, policy types, paged DescribeLoadBalancers, errors."""

from __future__ import annotations

NS = 'xmlns="http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/"'


def _answer(action: str, result: str) -> tuple[int, str]:
    return 200, (f"<{action}Response {NS}><{action}Result>{result}</{action}Result>"
                 f"<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>")


def _balancer(name: str) -> str:
    return (f"<member><LoadBalancerName>{name}</LoadBalancerName><DNSName>{name}.lb.example"
            "</DNSName><CreatedTime>2026-01-02T03:04:05.000Z</CreatedTime>"
            "<Scheme>internet-facing</Scheme></member>")


def test_registered_instances_are_listed(euca, stub) -> None:  # type: ignore[no-untyped-def]
    """Register and Deregister print one INSTANCE record per instance left registered."""
    cloud, ini = stub
    members = "".join(f"<member><InstanceId>i-{n}</InstanceId></member>" for n in (1, 2))
    cloud.answers["RegisterInstancesWithLoadBalancer"] = _answer(
        "RegisterInstancesWithLoadBalancer", f"<Instances>{members}</Instances>")
    cloud.answers["DeregisterInstancesFromLoadBalancer"] = _answer(
        "DeregisterInstancesFromLoadBalancer", "<Instances/>")
    out = euca("eulb-register-instances-with-lb", "web", "--instances", "i-1,i-2", ini=ini).stdout
    assert out == "INSTANCE\ti-1\nINSTANCE\ti-2\n"
    assert euca("eulb-deregister-instances-from-lb", "web", "--instances", "i-1,i-2",
                ini=ini).stdout == ""


def test_policy_types(euca, stub) -> None:  # type: ignore[no-untyped-def]
    """POLICY_TYPE name and description; --show-long adds each attribute type in braces."""
    cloud, ini = stub
    cloud.answers["DescribeLoadBalancerPolicyTypes"] = _answer(
        "DescribeLoadBalancerPolicyTypes",
        "<PolicyTypeDescriptions><member><PolicyTypeName>ProxyProtocolPolicyType</PolicyTypeName>"
        "<Description>Policy that controls whether to include the IP address and port of the "
        "originating request for TCP messages.</Description><PolicyAttributeTypeDescriptions>"
        "<member><AttributeName>ProxyProtocol</AttributeName><AttributeType>Boolean"
        "</AttributeType><Cardinality>ONE</Cardinality></member>"
        "</PolicyAttributeTypeDescriptions></member></PolicyTypeDescriptions>")
    out = euca("eulb-describe-lb-policy-types", ini=ini).stdout
    assert out == ("POLICY_TYPE\tProxyProtocolPolicyType\tPolicy that controls whether to "
                   "include the IP address and port of the originating request for TCP "
                   "messages.\n")
    long = euca("eulb-describe-lb-policy-types", "--show-long", ini=ini).stdout.split("\t")
    assert long[3] == ("{name=ProxyProtocol,description=,type=Boolean,default-value=,"
                       "cardinality=ONE}\n")


def test_describe_follows_markers(euca, stub) -> None:  # type: ignore[no-untyped-def]
    """Every page of DescribeLoadBalancers is printed (Marker / NextMarker)."""
    cloud, ini = stub

    def pages(params: dict[str, str]) -> tuple[int, str]:
        if params.get("Marker") == "m1":
            return _answer("DescribeLoadBalancers",
                           f"<LoadBalancerDescriptions>{_balancer('b')}</LoadBalancerDescriptions>")
        return _answer("DescribeLoadBalancers",
                       f"<LoadBalancerDescriptions>{_balancer('a')}</LoadBalancerDescriptions>"
                       "<NextMarker>m1</NextMarker>")

    cloud.answers["DescribeLoadBalancers"] = pages
    out = euca("eulb-describe-lbs", ini=ini).stdout
    assert out == ("LOAD_BALANCER\ta\ta.lb.example\t2026-01-02T03:04:05.000Z\tinternet-facing\n"
                   "LOAD_BALANCER\tb\tb.lb.example\t2026-01-02T03:04:05.000Z\tinternet-facing\n")
    assert [r["params"].get("Marker") for r in cloud.requests] == [None, "m1"]


def test_show_long_of_a_complete_balancer(euca, stub) -> None:  # type: ignore[no-untyped-def]
    """Every --show-long column, in euca2ools' order, and (nil) for the empty ones."""
    cloud, ini = stub
    cloud.answers["DescribeLoadBalancers"] = _answer("DescribeLoadBalancers", (
        "<LoadBalancerDescriptions><member><LoadBalancerName>web</LoadBalancerName>"
        "<DNSName>web.lb.example</DNSName><CanonicalHostedZoneName>web.lb.example"
        "</CanonicalHostedZoneName><CanonicalHostedZoneNameID>Z1</CanonicalHostedZoneNameID>"
        "<HealthCheck><Target>TCP:80</Target><Interval>30</Interval><Timeout>5</Timeout>"
        "<HealthyThreshold>10</HealthyThreshold><UnhealthyThreshold>2</UnhealthyThreshold>"
        "</HealthCheck><AvailabilityZones><member>zone-1</member><member>zone-2</member>"
        "</AvailabilityZones><Subnets/><Instances><member><InstanceId>i-1</InstanceId></member>"
        "</Instances><ListenerDescriptions><member><Listener><Protocol>HTTP</Protocol>"
        "<LoadBalancerPort>80</LoadBalancerPort><InstanceProtocol>HTTP</InstanceProtocol>"
        "<InstancePort>8080</InstancePort></Listener><PolicyNames><member>sticky</member>"
        "</PolicyNames></member></ListenerDescriptions><BackendServerDescriptions/>"
        "<Policies><AppCookieStickinessPolicies/><LBCookieStickinessPolicies><member>"
        "<PolicyName>sticky</PolicyName><CookieExpirationPeriod>60</CookieExpirationPeriod>"
        "</member></LBCookieStickinessPolicies><OtherPolicies/></Policies>"
        "<SourceSecurityGroup><OwnerAlias>amazon-elb</OwnerAlias><GroupName>amazon-elb-sg"
        "</GroupName></SourceSecurityGroup><SecurityGroups/>"
        "<CreatedTime>2026-01-02T03:04:05.000Z</CreatedTime><Scheme>internet-facing</Scheme>"
        "</member></LoadBalancerDescriptions>"))
    out = euca("eulb-describe-lbs", "--show-long", "--show-empty-fields", ini=ini).stdout
    assert out.rstrip("\n").split("\t") == [
        "LOAD_BALANCER", "web", "web.lb.example", "web.lb.example", "Z1",
        "{interval=30,target=TCP:80,timeout=5,healthy-threshold=10,unhealthy-threshold=2}",
        "zone-1,zone-2", "(nil)", "(nil)", "i-1",
        "{protocol=HTTP,lb-port=80,instance-protocol=HTTP,instance-port=8080,{sticky}}",
        "(nil)", "(nil)", "{policy-name=sticky,expiration-period=60}", "(nil)",
        "{owner-alias=amazon-elb,group-name=amazon-elb-sg}", "(nil)",
        "2026-01-02T03:04:05.000Z", "internet-facing"]


def test_service_error_is_one_line(euca, stub) -> None:  # type: ignore[no-untyped-def]
    """An ELB error answer: the code and message on one line, exit 1."""
    cloud, ini = stub
    cloud.answers["CreateLoadBalancerListeners"] = (400, (
        f"<ErrorResponse {NS}><Error><Type>Sender</Type><Code>DuplicateListener</Code>"
        "<Message>A listener already exists for web with LoadBalancerPort 80, but with a "
        "different InstancePort, Protocol, or SSLCertificateId</Message></Error>"
        "<RequestId>r</RequestId></ErrorResponse>"))
    proc = euca("eulb-create-lb-listeners", "web", "-l", "protocol=HTTP,lb-port=80,instance-port=81",
                ini=ini, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == ("eulb-create-lb-listeners: error (DuplicateListener): A listener "
                           "already exists for web with LoadBalancerPort 80, but with a different "
                           "InstancePort, Protocol, or SSLCertificateId\n")
