"""The elbv2 API (Application Load Balancers) with boto3's ``elbv2`` client and awscli
against the real cloud: the classic endpoint serves it by Version, answers parse, errors
carry AWS's codes, rules keep their priorities, and records survive a restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.autoscaling.as_helpers import autoscaling, image_id, in_service
from tests.cloudproc import CloudProcess, new_cloud
from tests.elb.elb_helpers import config, elb, run_instances, wait_for


@pytest.fixture(scope="module")
def cloud() -> Iterator[CloudProcess]:
    """A two-zone cloud of its own for this module (a fast clock: Auto Scaling acts in
    seconds)."""
    c = new_cloud(config(speed=10.0, net=84))
    c.start()
    try:
        yield c
    finally:
        c.stop()


def v2(cloud: CloudProcess, path: str = "/services/LoadBalancing") -> Any:
    """A boto3 elbv2 client (the classic ELB's endpoint by default)."""
    return cloud.client("elbv2", path=path)


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _tg(client: Any, name: str, **kw: Any) -> str:
    args = {"Name": name, "Protocol": "HTTP", "Port": 8080, "VpcId": "vpc-none"} | kw
    return str(client.create_target_group(**args)["TargetGroups"][0]["TargetGroupArn"])


def _forward(arn: str) -> list[dict[str, Any]]:
    return [{"Type": "forward", "TargetGroupArn": arn}]


def test_balancer_target_group_listener_and_rules(cloud: CloudProcess) -> None:
    """An ALB with a listener forwarding to a group, rules by path and host; the ARNs have
    AWS's forms; DescribeRules lists the default rule last."""
    client = v2(cloud)
    lb = client.create_load_balancer(Name="api-alb", Subnets=["zone-a", "zone-b"],
                                     Tags=[{"Key": "team", "Value": "web"}])["LoadBalancers"][0]
    assert lb["Type"] == "application" and lb["State"]["Code"] == "active"
    assert ":loadbalancer/app/api-alb/" in lb["LoadBalancerArn"]
    assert lb["DNSName"].startswith("api-alb-")
    assert {z["ZoneName"] for z in lb["AvailabilityZones"]} == {"zone-a", "zone-b"}
    web = _tg(client, "api-web", Matcher={"HttpCode": "200-299"}, HealthCheckPath="/health")
    img = _tg(client, "api-img")
    assert ":targetgroup/api-web/" in web
    li = client.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                DefaultActions=_forward(web))["Listeners"][0]
    assert ":listener/app/api-alb/" in li["ListenerArn"]
    rule = client.create_rule(
        ListenerArn=li["ListenerArn"], Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/img/*"]}],
        Actions=_forward(img))["Rules"][0]
    assert ":listener-rule/app/api-alb/" in rule["RuleArn"]
    client.create_rule(
        ListenerArn=li["ListenerArn"], Priority=5,
        Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["*.example.com"]}},
                    {"Field": "http-request-method",
                     "HttpRequestMethodConfig": {"Values": ["GET", "HEAD"]}}],
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "418", "ContentType": "text/plain", "MessageBody": "teapot"}}])
    rules = client.describe_rules(ListenerArn=li["ListenerArn"])["Rules"]
    assert [r["Priority"] for r in rules] == ["5", "10", "default"]
    assert rules[-1]["IsDefault"] and rules[-1]["Actions"][0]["TargetGroupArn"] == web
    assert rules[1]["Conditions"][0]["Values"] == ["/img/*"]
    with pytest.raises(ClientError) as exc:
        client.create_rule(ListenerArn=li["ListenerArn"], Priority=10,
                           Conditions=[{"Field": "path-pattern", "Values": ["/x"]}],
                           Actions=_forward(img))
    assert _code(exc) == "PriorityInUse"
    client.set_rule_priorities(RulePriorities=[{"RuleArn": rule["RuleArn"], "Priority": 1}])
    rules = client.describe_rules(ListenerArn=li["ListenerArn"])["Rules"]
    assert [r["Priority"] for r in rules] == ["1", "5", "default"]
    groups = client.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"])
    assert {g["TargetGroupArn"] for g in groups["TargetGroups"]} == {web, img}
    one = client.describe_target_groups(TargetGroupArns=[web])["TargetGroups"][0]
    assert one["Matcher"] == {"HttpCode": "200-299"} and one["HealthCheckPath"] == "/health"
    assert one["LoadBalancerArns"] == [lb["LoadBalancerArn"]]
    tags = client.describe_tags(ResourceArns=[lb["LoadBalancerArn"]])["TagDescriptions"]
    assert tags[0]["Tags"] == [{"Key": "team", "Value": "web"}]
    # In use: the group stays.
    with pytest.raises(ClientError) as exc:
        client.delete_target_group(TargetGroupArn=img)
    assert _code(exc) == "ResourceInUse"
    # The classic API at the same endpoint is unaffected.
    assert "LoadBalancerDescriptions" in elb(cloud).describe_load_balancers()


def test_errors_have_aws_codes(cloud: CloudProcess) -> None:
    """Unknown resources, duplicates, bad values and limits answer AWS's codes (4xx)."""
    client = v2(cloud, "/")  # routed by the SigV4 scope, then by Version
    prefix = "arn:aws:elasticloadbalancing:us-east-1:000000000000:"
    for call, args, code in (
            (client.describe_load_balancers, {"Names": ["nope"]}, "LoadBalancerNotFound"),
            (client.describe_target_groups, {"TargetGroupArns": [prefix + "targetgroup/x/1"]},
             "TargetGroupNotFound"),
            (client.describe_listeners, {"ListenerArns": [prefix + "listener/app/x/1/2"]},
             "ListenerNotFound"),
            (client.describe_rules, {"RuleArns": [prefix + "listener-rule/app/x/1/2/3"]},
             "RuleNotFound"),
            (client.create_load_balancer, {"Name": "-bad"}, "ValidationError"),
            (client.create_target_group, {"Name": "t", "Protocol": "UDP", "Port": 1},
             "ValidationError"),
            (client.describe_ssl_policies, {"Names": ["nope"]}, "SSLPolicyNotFound")):
        with pytest.raises(ClientError) as exc:
            call(**args)
        assert _code(exc) == code, (call, code)
        assert 400 <= exc.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500
    lb = client.create_load_balancer(Name="err-alb")["LoadBalancers"][0]["LoadBalancerArn"]
    with pytest.raises(ClientError) as exc:
        client.create_load_balancer(Name="err-alb", Type="network")
    assert _code(exc) == "DuplicateLoadBalancerName"
    again = client.create_load_balancer(Name="err-alb")["LoadBalancers"][0]
    assert again["LoadBalancerArn"] == lb  # the same settings: the same balancer
    tg = _tg(client, "err-tg")
    with pytest.raises(ClientError) as exc:
        _tg(client, "err-tg", Port=9999)
    assert _code(exc) == "DuplicateTargetGroupName"
    assert _tg(client, "err-tg") == tg  # the same settings: the same group
    tcp = _tg(client, "err-tcp", Protocol="TCP")
    with pytest.raises(ClientError) as exc:
        client.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                               DefaultActions=_forward(tcp))
    assert _code(exc) == "IncompatibleProtocols"
    with pytest.raises(ClientError) as exc:
        client.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443,
                               DefaultActions=_forward(tg))
    assert _code(exc) == "CertificateNotFound"
    li = client.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                                DefaultActions=_forward(tg))["Listeners"][0]["ListenerArn"]
    with pytest.raises(ClientError) as exc:
        client.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                               DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig":
                                                {"StatusCode": "200"}}])
    assert _code(exc) == "DuplicateListener"
    other = client.create_load_balancer(Name="err-alb2")["LoadBalancers"][0]["LoadBalancerArn"]
    with pytest.raises(ClientError) as exc:
        client.create_listener(LoadBalancerArn=other, Protocol="HTTP", Port=80,
                               DefaultActions=_forward(tg))
    assert _code(exc) == "TargetGroupAssociationLimit"
    for conditions in ([{"Field": "nope", "Values": ["x"]}],
                       [{"Field": "source-ip", "SourceIpConfig": {"Values": ["not-an-ip"]}}],
                       [{"Field": "path-pattern", "Values": ["/" + "*" * 6]}]):
        with pytest.raises(ClientError) as exc:
            client.create_rule(ListenerArn=li, Priority=3, Conditions=conditions,
                               Actions=_forward(tg))
        assert _code(exc) == "ValidationError", conditions
    with pytest.raises(ClientError) as exc:
        client.create_rule(ListenerArn=li, Priority=3,
                           Conditions=[{"Field": "path-pattern", "Values": ["/a"]}],
                           Actions=[{"Type": "redirect", "RedirectConfig": {
                               "StatusCode": "HTTP_301"}}])
    assert _code(exc) == "ValidationError"  # a redirect to itself
    with pytest.raises(ClientError) as exc:
        client.register_targets(TargetGroupArn=tg, Targets=[{"Id": "i-00000000"}])
    assert _code(exc) == "InvalidTarget"
    with pytest.raises(ClientError) as exc:
        client.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "99999"}])
    assert _code(exc) == "ValidationError"
    with pytest.raises(ClientError) as exc:
        client.modify_load_balancer_attributes(LoadBalancerArn=lb, Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": "no-such-bucket"}])
    assert _code(exc) == "InvalidConfigurationRequest"
    client.modify_load_balancer_attributes(LoadBalancerArn=lb, Attributes=[
        {"Key": "deletion_protection.enabled", "Value": "true"}])
    with pytest.raises(ClientError) as exc:
        client.delete_load_balancer(LoadBalancerArn=lb)
    assert _code(exc) == "OperationNotPermitted"
    with pytest.raises(ClientError) as exc:
        client.delete_rule(RuleArn=client.describe_rules(ListenerArn=li)["Rules"][-1]["RuleArn"])
    assert _code(exc) == "OperationNotPermitted"


def test_targets_attributes_and_health_without_a_data_plane(cloud: CloudProcess) -> None:
    """Targets register with their zone; health follows AWS's states: unused until a
    listener forwards to the group, healthy from the modelled instance (no data plane
    reaches virtual instances), draining after deregistration; attributes round-trip."""
    client = v2(cloud)
    insts = run_instances(cloud.client("ec2"), "zone-a")
    iid = insts[0]["InstanceId"]
    tg = _tg(client, "hl-tg")
    client.register_targets(TargetGroupArn=tg, Targets=[{"Id": iid}])
    desc = client.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert desc[0]["Target"] == {"Id": iid, "Port": 8080, "AvailabilityZone": "zone-a"}
    assert desc[0]["TargetHealth"]["State"] == "unused"
    assert desc[0]["TargetHealth"]["Reason"] == "Target.NotInUse"
    lb = client.create_load_balancer(Name="hl-alb")["LoadBalancers"][0]["LoadBalancerArn"]
    client.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                           DefaultActions=_forward(tg))
    desc = client.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert desc[0]["TargetHealth"]["State"] == "healthy"
    attrs = {a["Key"]: a["Value"] for a in client.modify_target_group_attributes(
        TargetGroupArn=tg, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "30"},
            {"Key": "stickiness.enabled", "Value": "true"}])["Attributes"]}
    assert attrs["deregistration_delay.timeout_seconds"] == "30"
    assert attrs["stickiness.type"] == "lb_cookie"
    client.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": iid}])
    desc = client.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert desc[0]["TargetHealth"]["State"] == "draining"
    assert desc[0]["TargetHealth"]["Reason"] == "Target.DeregistrationInProgress"
    asked = client.describe_target_health(TargetGroupArn=tg, Targets=[{"Id": "i-12345678"}])
    assert asked["TargetHealthDescriptions"][0]["TargetHealth"]["Reason"] == \
        "Target.NotRegistered"
    # A balancer not enabled in the target's zone does not use it, until SetSubnets.
    tg2 = _tg(client, "hl-tg2")
    client.register_targets(TargetGroupArn=tg2, Targets=[{"Id": iid}])
    lb_b = client.create_load_balancer(Name="hl-b", Subnets=["zone-b"])["LoadBalancers"][0][
        "LoadBalancerArn"]
    client.create_listener(LoadBalancerArn=lb_b, Protocol="HTTP", Port=80,
                           DefaultActions=_forward(tg2))
    health = client.describe_target_health(TargetGroupArn=tg2)["TargetHealthDescriptions"][0]
    assert health["TargetHealth"]["Reason"] == "Target.NotInUse"
    assert "Availability Zone" in health["TargetHealth"]["Description"]
    zones = client.set_subnets(LoadBalancerArn=lb_b, Subnets=["zone-a", "zone-b"])
    assert {z["ZoneName"] for z in zones["AvailabilityZones"]} == {"zone-a", "zone-b"}
    health = client.describe_target_health(TargetGroupArn=tg2)["TargetHealthDescriptions"][0]
    assert health["TargetHealth"]["State"] == "healthy"
    ec2 = cloud.client("ec2")
    sg = ec2.create_security_group(GroupName="alb-sg", Description="alb")["GroupId"]
    assert client.set_security_groups(LoadBalancerArn=lb_b, SecurityGroups=[sg])[
        "SecurityGroupIds"] == [sg]
    with pytest.raises(ClientError) as exc:
        client.set_security_groups(LoadBalancerArn=lb_b, SecurityGroups=["sg-00000000"])
    assert _code(exc) == "InvalidSecurityGroup"
    lb_attrs = {a["Key"]: a["Value"] for a in client.describe_load_balancer_attributes(
        LoadBalancerArn=lb)["Attributes"]}
    assert lb_attrs["idle_timeout.timeout_seconds"] == "60"
    limits = {x["Name"] for x in client.describe_account_limits()["Limits"]}
    assert "application-load-balancers" in limits
    policies = client.describe_ssl_policies()["SslPolicies"]
    assert "ELBSecurityPolicy-2016-08" in {p["Name"] for p in policies}


def test_authorization_contract(cloud: CloudProcess) -> None:
    """A user with no policy is denied; a policy on one target group's ARN allows
    modifying that group only."""
    iam, client = cloud.client("iam"), v2(cloud)
    mine, other = _tg(client, "authz-mine"), _tg(client, "authz-other")
    iam.create_user(UserName="albuser")
    k = iam.create_access_key(UserName="albuser")["AccessKey"]
    user = cloud.client("elbv2", key=k["AccessKeyId"], secret=k["SecretAccessKey"],
                        path="/services/LoadBalancing")
    with pytest.raises(ClientError) as exc:
        user.describe_target_groups()
    assert _code(exc) == "AccessDenied"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    iam.put_user_policy(UserName="albuser", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "elasticloadbalancing:Describe*", "Resource": "*"},
            {"Effect": "Allow", "Action": "elasticloadbalancing:ModifyTargetGroup",
             "Resource": mine}]}))
    assert user.describe_target_groups(TargetGroupArns=[mine])["TargetGroups"]
    user.modify_target_group(TargetGroupArn=mine, HealthCheckPath="/ok")
    with pytest.raises(ClientError) as exc:
        user.modify_target_group(TargetGroupArn=other, HealthCheckPath="/ok")
    assert _code(exc) == "AccessDenied"


def test_awscli_and_restart(cloud: CloudProcess) -> None:
    """awscli's ``elbv2`` creates a balancer and a group; both survive a restart."""
    creds = cloud.credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=creds["key"], AWS_SECRET_ACCESS_KEY=creds["secret"],
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    aws = [str(Path(sys.executable).parent / "aws"), "--endpoint-url",
           cloud.url + "/services/LoadBalancing", "--output", "json", "elbv2"]

    def run(*args: str) -> Any:
        out = subprocess.run([*aws, *args], capture_output=True, text=True, env=env,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout) if out.stdout.strip() else {}

    arn = run("create-load-balancer", "--name", "cli-alb")["LoadBalancers"][0][
        "LoadBalancerArn"]
    tg = run("create-target-group", "--name", "cli-tg", "--protocol", "HTTP", "--port",
             "80")["TargetGroups"][0]["TargetGroupArn"]
    run("create-listener", "--load-balancer-arn", arn, "--protocol", "HTTP", "--port", "80",
        "--default-actions", f"Type=forward,TargetGroupArn={tg}")
    bad = subprocess.run([*aws, "describe-load-balancers", "--names", "nope"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode != 0 and "LoadBalancerNotFound" in bad.stderr
    cloud.restart()
    lbs = run("describe-load-balancers", "--load-balancer-arns", arn)["LoadBalancers"]
    assert lbs[0]["LoadBalancerName"] == "cli-alb"
    listeners = run("describe-listeners", "--load-balancer-arn", arn)["Listeners"]
    assert listeners[0]["DefaultActions"][0]["TargetGroupArn"] == tg
    hosts = (Path(cloud.data_dir) / "elb" / "hosts").read_text()
    assert lbs[0]["DNSName"] in hosts


def test_auto_scaling_group_registers_its_instances(cloud: CloudProcess) -> None:
    """A group with TargetGroupARNs registers its members on the group's port; scaling
    in deregisters (the target drains); deleting the group empties the target group."""
    client, asg, ec2 = v2(cloud), autoscaling(cloud), cloud.client("ec2")
    tg = _tg(client, "asg-tg", Port=8081)
    asg.create_launch_configuration(LaunchConfigurationName="alb-lc", ImageId=image_id(ec2),
                                    InstanceType="m1.small")
    asg.create_auto_scaling_group(AutoScalingGroupName="alb-web",
                                  LaunchConfigurationName="alb-lc", MinSize=0, MaxSize=4,
                                  DesiredCapacity=2, AvailabilityZones=["zone-a", "zone-b"],
                                  TargetGroupARNs=[tg], HealthCheckType="ELB",
                                  HealthCheckGracePeriod=0)
    members = {m["InstanceId"] for m in in_service(asg, ec2, "alb-web", 2)}

    def registered() -> dict[str, dict[str, Any]]:
        return {d["Target"]["Id"]: d for d in client.describe_target_health(
            TargetGroupArn=tg)["TargetHealthDescriptions"]
            if d["TargetHealth"]["State"] != "draining"}

    wait_for(lambda: set(registered()) == members, 30, "members registered")
    assert {d["Target"]["Port"] for d in registered().values()} == {8081}
    assert asg.describe_auto_scaling_groups(AutoScalingGroupNames=["alb-web"])[
        "AutoScalingGroups"][0]["TargetGroupARNs"] == [tg]
    asg.set_desired_capacity(AutoScalingGroupName="alb-web", DesiredCapacity=1)
    left = wait_for(lambda: len(r := set(registered())) == 1 and r, 60, "one member left")
    assert left <= members
    asg.delete_auto_scaling_group(AutoScalingGroupName="alb-web", ForceDelete=True)
    wait_for(lambda: not registered(), 60, "target group emptied")
