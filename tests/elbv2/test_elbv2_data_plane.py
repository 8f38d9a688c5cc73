"""Application Load Balancer traffic for real: HAProxy in a throw-away network namespace
routes requests by path, host, header and query to target groups of two (virtual)
instances whose responders run in the namespace; fixed responses and redirects come
from the balancer itself; a failing target goes unhealthy and gets no traffic; the
counters become AWS/ApplicationELB metrics."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloudproc import CloudProcess, new_cloud
from tests.elb.elb_helpers import config, run_instances, wait_for
from tests.elb.netns import Namespace, why_not

pytestmark = pytest.mark.skipif(bool(why_not()), reason=why_not() or "runs")

INTERVAL, UNHEALTHY = 5, 2

#: Requests given as [method, path, headers, count]; prints per request the answering
#: instances, the statuses, the last Location and body.
PROBE = textwrap.dedent('''
    import http.client, json, sys
    host, port, asked = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    out = []
    for method, path, headers, count in asked:
        names, statuses, location, body = {}, {}, None, ""
        for _ in range(count):
            conn = http.client.HTTPConnection(host, port, timeout=20)
            conn.request(method, path, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            statuses[resp.status] = statuses.get(resp.status, 0) + 1
            location, body = resp.getheader("Location"), data.decode(errors="replace")
            if resp.status == 200 and data.startswith(b"{"):
                name = json.loads(data)["name"]
                names[name] = names.get(name, 0) + 1
        out.append({"names": names, "statuses": statuses, "location": location,
                    "body": body})
    print(json.dumps(out))
''')


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A cloud whose balancers run in a namespace with two instances' responders, and an
    ALB whose rules route to three target groups."""
    ns = Namespace(tmp_path_factory.mktemp("netns"))
    cloud: CloudProcess | None = None
    try:
        cloud = new_cloud(config(speed=10.0, net=85, extra=f'elb_netns = "{ns.name}"\n'
                                 "elb_log_minute_seconds = 1.0"))
        cloud.start()
        ec2 = cloud.client("ec2")
        client = cloud.client("elbv2", path="/services/LoadBalancing")
        insts = run_instances(ec2, "zone-a") + run_instances(ec2, "zone-b")
        a, b = (i["InstanceId"] for i in insts)
        for inst in insts:
            ns.add_address(inst["PrivateIpAddress"])
            ns.serve(inst["PrivateIpAddress"], 8080, inst["InstanceId"])
        groups = {}
        for name, members in (("dp-a", [a]), ("dp-b", [b]), ("dp-both", [a, b])):
            groups[name] = client.create_target_group(
                Name=name, Protocol="HTTP", Port=8080, HealthCheckPath="/health",
                HealthCheckIntervalSeconds=INTERVAL, HealthCheckTimeoutSeconds=2,
                HealthyThresholdCount=2, UnhealthyThresholdCount=UNHEALTHY)[
                    "TargetGroups"][0]["TargetGroupArn"]
            client.register_targets(TargetGroupArn=groups[name],
                                    Targets=[{"Id": i} for i in members])
        # A group whose matcher the responder never satisfies (it answers 200).
        picky = client.create_target_group(
            Name="dp-picky", Protocol="HTTP", Port=8080, Matcher={"HttpCode": "201"},
            HealthCheckIntervalSeconds=INTERVAL, HealthCheckTimeoutSeconds=2,
            UnhealthyThresholdCount=UNHEALTHY)["TargetGroups"][0]["TargetGroupArn"]
        client.register_targets(TargetGroupArn=picky, Targets=[{"Id": a}])
        lb = client.create_load_balancer(Name="dp-alb")["LoadBalancers"][0]
        li = client.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": groups["dp-both"]}])[
                "Listeners"][0]["ListenerArn"]
        forward_a = [{"Type": "forward", "TargetGroupArn": groups["dp-a"]}]
        forward_b = [{"Type": "forward", "TargetGroupArn": groups["dp-b"]}]
        for priority, conditions, actions in (
                (10, [{"Field": "path-pattern", "Values": ["/a/*"]}], forward_a),
                (20, [{"Field": "host-header", "Values": ["B.example.com"]}], forward_b),
                (30, [{"Field": "path-pattern", "Values": ["/teapot"]}],
                 [{"Type": "fixed-response", "FixedResponseConfig": {
                     "StatusCode": "418", "ContentType": "text/plain",
                     "MessageBody": "short and stout"}}]),
                (40, [{"Field": "path-pattern", "Values": ["/old/*"]}],
                 [{"Type": "redirect", "RedirectConfig": {
                     "Host": "new.example.com", "Path": "/new/#{path}",
                     "StatusCode": "HTTP_301"}}]),
                (50, [{"Field": "http-header", "HttpHeaderConfig": {
                    "HttpHeaderName": "X-Route", "Values": ["b?ue"]}}], forward_b),
                (60, [{"Field": "query-string", "QueryStringConfig": {
                    "Values": [{"Key": "to", "Value": "a"}]}}], forward_a),
                # A lower priority than the /a/* rule: never reached for /a/ paths.
                (70, [{"Field": "path-pattern", "Values": ["/a/shadowed"]}], forward_b),
                (80, [{"Field": "path-pattern", "Values": ["/picky"]}],
                 [{"Type": "forward", "TargetGroupArn": picky}])):
            client.create_rule(ListenerArn=li, Priority=priority, Conditions=conditions,
                               Actions=actions)
        hosts = dict(reversed(line.split()) for line in
                     (Path(cloud.data_dir) / "elb" / "hosts").read_text().splitlines() if line)
        (ns.workdir / "probe.py").write_text(PROBE)
        yield {"cloud": cloud, "ns": ns, "client": client, "a": a, "b": b, "groups": groups,
               "picky": picky,
               "address": hosts[lb["DNSName"]], "insts": insts}
    finally:
        if cloud is not None:
            cloud.stop()
        ns.close()


def _probe(plane: dict[str, Any], *asked: tuple[str, dict[str, str], int]) -> list[Any]:
    ns = plane["ns"]
    res = subprocess.run(
        ["ip", "netns", "exec", ns.name, sys.executable, str(ns.workdir / "probe.py"),
         plane["address"], "80", json.dumps([["GET", p, h, n] for p, h, n in asked])],
        capture_output=True, timeout=300, check=True)
    return list(json.loads(res.stdout))


def _states(plane: dict[str, Any], group: str) -> dict[str, dict[str, str]]:
    return {d["Target"]["Id"]: d["TargetHealth"] for d in plane["client"].describe_target_health(
        TargetGroupArn=plane["groups"][group])["TargetHealthDescriptions"]}


def _all_healthy(plane: dict[str, Any]) -> bool:
    return all(s["State"] == "healthy" for g in plane["groups"]
               for s in _states(plane, g).values())


def test_rules_route_to_their_target_groups(plane: dict[str, Any]) -> None:
    """Path, host, header and query rules pick their group in priority order; the
    default action spreads over both; fixed responses and redirects come from the
    balancer."""
    wait_for(lambda: _all_healthy(plane), 60, "every target healthy")
    a, b = plane["a"], plane["b"]
    path_a, host_b, default, teapot, old, header_b, query_a, shadowed, bare = _probe(
        plane, ("/a/x", {}, 20), ("/", {"Host": "b.example.com:80"}, 20), ("/", {}, 40),
        ("/teapot", {}, 1), ("/old/page?q=1", {}, 1), ("/", {"X-Route": "BLUE"}, 10),
        ("/?x=1&to=a", {}, 10), ("/a/shadowed", {}, 10), ("/old/page", {}, 1))
    assert path_a["names"] == {a: 20}, path_a
    assert host_b["names"] == {b: 20}, host_b
    assert set(default["names"]) == {a, b} and default["statuses"] == {"200": 40}, default
    assert teapot["statuses"] == {"418": 1} and teapot["body"] == "short and stout"
    assert old["statuses"] == {"301": 1}
    assert old["location"] == "http://new.example.com:80/new/old/page?q=1", old
    assert bare["location"] == "http://new.example.com:80/new/old/page", bare  # no "?"
    assert header_b["names"] == {b: 10}, header_b
    assert query_a["names"] == {a: 10}, query_a
    assert shadowed["names"] == {a: 10}, shadowed
    assert _states(plane, "dp-both")[a] == {"State": "healthy"}
    # The picky group's target fails on the code; with no healthy target, a 503.
    client = plane["client"]
    picky = wait_for(lambda: (s := client.describe_target_health(TargetGroupArn=plane[
        "picky"])["TargetHealthDescriptions"][0]["TargetHealth"])["State"] == "unhealthy"
        and s, 30, "the picky target unhealthy")
    assert picky["Reason"] == "Target.ResponseCodeMismatch", picky
    assert picky["Description"] == "Health checks failed with these codes: [200]"
    (answer,) = _probe(plane, ("/picky", {}, 1))
    assert answer["statuses"] == {"503": 1}, answer


def test_access_logs_land_in_the_bucket(plane: dict[str, Any]) -> None:
    """With access logs on, requests are written (gzip, every 5 minutes of the cloud's
    clock) into the bucket in the ALB's format, with the target group's ARN."""
    import gzip

    cloud, client, a = plane["cloud"], plane["client"], plane["a"]
    wait_for(lambda: _all_healthy(plane), 60, "every target healthy")
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="alb-logs")
    lb_arn = client.describe_load_balancers(Names=["dp-alb"])["LoadBalancers"][0][
        "LoadBalancerArn"]
    attrs = [{"Key": "access_logs.s3.enabled", "Value": "true"},
             {"Key": "access_logs.s3.bucket", "Value": "alb-logs"},
             {"Key": "access_logs.s3.prefix", "Value": "web"}]
    client.modify_load_balancer_attributes(LoadBalancerArn=lb_arn, Attributes=attrs)
    try:
        time.sleep(1.0)  # the reload with a log target
        (logged,) = _probe(plane, ("/a/logged", {}, 10))
        assert logged["names"] == {a: 10}

        def lines() -> list[str]:
            out = []
            for obj in s3.list_objects_v2(Bucket="alb-logs").get("Contents", []):
                data = s3.get_object(Bucket="alb-logs", Key=obj["Key"])["Body"].read()
                out += [ln for ln in gzip.decompress(data).decode().splitlines()
                        if "/a/logged" in ln]
            return out if len(out) >= 10 else []

        found = wait_for(lines, 60, "10 access-log entries")
        key = s3.list_objects_v2(Bucket="alb-logs")["Contents"][0]["Key"]
        account = cloud.credentials()["account"]
        assert key.startswith(f"web/AWSLogs/{account}/elasticloadbalancing/")
        assert key.endswith(".log.gz") and "_app.dp-alb." in key
        fields = found[0].split(" ")
        assert fields[0] == "http" and fields[1].endswith("Z")
        assert fields[2] == lb_arn.split(":loadbalancer/")[1]
        assert fields[4].split(":")[1] == "8080" and fields[8] == fields[9] == "200"
        assert fields[-1] == plane["groups"]["dp-a"]
    finally:
        attrs[0]["Value"] = "false"
        client.modify_load_balancer_attributes(LoadBalancerArn=lb_arn, Attributes=attrs[:1])


def test_failing_target_goes_unhealthy_and_gets_no_traffic(plane: dict[str, Any]) -> None:
    """A stopped responder's target is unhealthy (Target.FailedHealthChecks) within
    interval x unhealthy threshold; after that no request fails and none reaches it."""
    wait_for(lambda: _all_healthy(plane), 60, "every target healthy")
    a, b, ns = plane["a"], plane["b"], plane["ns"]
    ns.stop_server(b)
    stopped = time.monotonic()
    state = wait_for(lambda: (s := _states(plane, "dp-both")[b])["State"] == "unhealthy"
                     and s, INTERVAL * UNHEALTHY + 15, "unhealthy")
    assert time.monotonic() - stopped <= INTERVAL * UNHEALTHY + 3 + 5  # checks + polling
    assert state["Reason"] == "Target.FailedHealthChecks", state
    assert _states(plane, "dp-both")[a]["State"] == "healthy"
    (default,) = _probe(plane, ("/", {}, 40))
    assert default["names"] == {a: 40} and default["statuses"] == {"200": 40}, default
    # AWS/ApplicationELB: the requests, and the group's host counts by TargetGroup.
    cw = plane["cloud"].client("cloudwatch", path="/services/CloudWatch")
    lb_arn = plane["client"].describe_load_balancers(Names=["dp-alb"])["LoadBalancers"][0][
        "LoadBalancerArn"]
    lb_dim = {"Name": "LoadBalancer", "Value": lb_arn.split(":loadbalancer/")[1]}
    tg_dim = {"Name": "TargetGroup", "Value": plane["groups"]["dp-both"].split(":")[-1]}
    # The cloud's clock runs ten times fast since it started: a window of days holds it.
    now = datetime.datetime.now(datetime.UTC)
    window = {"StartTime": now - datetime.timedelta(days=1),
              "EndTime": now + datetime.timedelta(days=2), "Period": 300}

    def stat(name: str, dims: list[dict[str, str]], kind: str) -> float:
        pts = cw.get_metric_statistics(Namespace="AWS/ApplicationELB", MetricName=name,
                                       Dimensions=dims, Statistics=[kind], **window)[
                                           "Datapoints"]
        return float(sum(p[kind] for p in pts)) if kind == "Sum" else \
            float(max((p[kind] for p in pts), default=0))

    wait_for(lambda: stat("RequestCount", [lb_dim], "Sum") >= 40, 60, "RequestCount")
    assert stat("HTTPCode_Target_2XX_Count", [lb_dim], "Sum") >= 40
    wait_for(lambda: stat("UnHealthyHostCount", [tg_dim, lb_dim], "Maximum") == 1, 60,
             "UnHealthyHostCount 1")
    inst = next(i for i in plane["insts"] if i["InstanceId"] == b)
    ns.serve(inst["PrivateIpAddress"], 8080, b)
    wait_for(lambda: _all_healthy(plane), 60, "healthy again")


def test_https_weighted_forward_and_lb_cookie_stickiness(plane: dict[str, Any]) -> None:
    """An HTTPS listener terminates TLS with the IAM server certificate and forwards by
    a weighted rule to both groups; with stickiness on, the AWSALB cookie keeps a client
    on one target."""
    from tests.elb.test_elb_api import _self_signed

    cloud, client, ns, a, b = (plane[k] for k in ("cloud", "client", "ns", "a", "b"))
    groups = plane["groups"]
    body, key = _self_signed("alb.example")
    cert = cloud.client("iam").upload_server_certificate(
        ServerCertificateName="alb-tls", CertificateBody=body, PrivateKey=key)[
        "ServerCertificateMetadata"]["Arn"]
    lb_arn = client.describe_load_balancers(Names=["dp-alb"])["LoadBalancers"][0][
        "LoadBalancerArn"]
    li = client.create_listener(
        LoadBalancerArn=lb_arn, Protocol="HTTPS", Port=443, Certificates=[
            {"CertificateArn": cert}], SslPolicy="ELBSecurityPolicy-TLS-1-2-2017-01",
        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": groups["dp-a"], "Weight": 1},
            {"TargetGroupArn": groups["dp-b"], "Weight": 1}]}}])["Listeners"][0]
    assert li["SslPolicy"] == "ELBSecurityPolicy-TLS-1-2-2017-01"
    (ns.workdir / "ca.pem").write_text(body)

    def fetch() -> Any:
        res = subprocess.run(
            ["ip", "netns", "exec", ns.name, "curl", "-s", "--max-time", "10", "--cacert",
             str(ns.workdir / "ca.pem"), "--resolve", f"alb.example:443:{plane['address']}",
             *[f"https://alb.example/w{n}" for n in range(40)]],
            capture_output=True, text=True, timeout=60)
        if res.returncode != 0 or not res.stdout:
            return None
        return [json.loads("{" + part) if not part.startswith("{") else json.loads(part)
                for part in res.stdout.replace("}{", "}\n{").splitlines()]

    answers = wait_for(fetch, 30, "HTTPS answers")
    assert {x["proto"] for x in answers} == {"https"}
    assert {x["name"] for x in answers} == {a, b}  # 40 draws of 1:1 weights
    # A second certificate, chosen by SNI.
    body2, key2 = _self_signed("sni.example")
    cert2 = cloud.client("iam").upload_server_certificate(
        ServerCertificateName="alb-sni", CertificateBody=body2, PrivateKey=key2)[
        "ServerCertificateMetadata"]["Arn"]
    client.add_listener_certificates(ListenerArn=li["ListenerArn"],
                                     Certificates=[{"CertificateArn": cert2}])
    listed = client.describe_listener_certificates(ListenerArn=li["ListenerArn"])
    assert [(c["CertificateArn"], c["IsDefault"]) for c in listed["Certificates"]] == \
        [(cert, True), (cert2, False)]
    (ns.workdir / "sni.pem").write_text(body2)
    sni = wait_for(lambda: subprocess.run(
        ["ip", "netns", "exec", ns.name, "curl", "-s", "--max-time", "10", "--cacert",
         str(ns.workdir / "sni.pem"), "--resolve", f"sni.example:443:{plane['address']}",
         "https://sni.example/sni"], capture_output=True, text=True, timeout=30).stdout, 30,
        "an answer with the SNI certificate")
    assert json.loads(sni)["path"] == "/sni"
    # Stickiness on the group behind the default rule of port 80.
    client.modify_target_group_attributes(TargetGroupArn=groups["dp-both"], Attributes=[
        {"Key": "stickiness.enabled", "Value": "true"},
        {"Key": "stickiness.lb_cookie.duration_seconds", "Value": "600"}])
    try:
        wait_for(lambda: ns.requests(plane["address"], 80, 1)["cookie"], 30,
                 "the AWSALB cookie")  # the reload is done
        out = ns.requests(plane["address"], 80, 30, sticky=True)
        assert str(out["cookie"]).startswith("AWSALB=")
        assert out["failures"] == 0 and len(out["names"]) == 1, out
        loose = ns.requests(plane["address"], 80, 30)
        assert len(loose["names"]) == 2, loose
    finally:
        client.modify_target_group_attributes(TargetGroupArn=groups["dp-both"], Attributes=[
            {"Key": "stickiness.enabled", "Value": "false"}])


def test_network_balancer_forwards_tcp_and_survives_a_restart(
        plane: dict[str, Any]) -> None:
    """A network balancer's TCP listener forwards the bytes to a TCP target group (no
    X-Forwarded-* added); after a cloud restart the balancers serve again."""
    cloud, client, ns, a, b = (plane[k] for k in ("cloud", "client", "ns", "a", "b"))
    tcp = client.create_target_group(
        Name="dp-tcp", Protocol="TCP", Port=8080, HealthCheckIntervalSeconds=INTERVAL,
        HealthCheckTimeoutSeconds=2,
        HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0][
        "TargetGroupArn"]
    client.register_targets(TargetGroupArn=tcp, Targets=[{"Id": a}, {"Id": b}])
    nlb = client.create_load_balancer(Name="dp-nlb", Type="network")["LoadBalancers"][0]
    assert ":loadbalancer/net/dp-nlb/" in nlb["LoadBalancerArn"]
    client.create_listener(LoadBalancerArn=nlb["LoadBalancerArn"], Protocol="TCP", Port=9000,
                           DefaultActions=[{"Type": "forward", "TargetGroupArn": tcp}])
    hosts = dict(reversed(line.split()) for line in
                 (Path(cloud.data_dir) / "elb" / "hosts").read_text().splitlines() if line)
    address = hosts[nlb["DNSName"]]
    out = wait_for(lambda: (o := ns.requests(address, 9000, 20))["failures"] == 0 and o, 30,
                   "answers through the TCP listener")
    assert set(out["names"]) == {a, b} and out["last"]["xff"] is None, out
    cloud.restart()
    wait_for(lambda: _all_healthy(plane), 60, "every target healthy after the restart")
    (path_a,) = _probe(plane, ("/a/x", {}, 10))
    assert path_a["names"] == {a: 10}, path_a
    assert ns.requests(address, 9000, 10)["failures"] == 0
