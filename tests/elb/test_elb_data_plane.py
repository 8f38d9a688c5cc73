"""The data plane for real: HAProxy balancing HTTP between two (virtual) instances whose
private addresses live in a network namespace, with small HTTP servers as responders.

Everything runs inside a throw-away namespace (the cloud's ``elb_netns``); the host's
interfaces, routes and firewall are not touched.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloudproc import CloudProcess, new_cloud
from tests.elb.elb_helpers import config, elb, health, run_instances, wait_for
from tests.elb.netns import Namespace, why_not

pytestmark = pytest.mark.skipif(bool(why_not()), reason=why_not() or "runs")

INTERVAL, UNHEALTHY = 5, 2


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A cloud whose balancers run in a namespace holding two instances' responders."""
    ns = Namespace(tmp_path_factory.mktemp("netns"))
    cloud: CloudProcess | None = None
    try:
        # A fast clock: CloudWatch minutes and access-log intervals pass in seconds.
        cloud = new_cloud(config(speed=10.0, net=78, extra=f'elb_netns = "{ns.name}"\n'
                                 "elb_log_minute_seconds = 6.0"))
        cloud.start()
        ec2, client = cloud.client("ec2"), elb(cloud)
        insts = run_instances(ec2, "zone-a") + run_instances(ec2, "zone-b")
        ids = [i["InstanceId"] for i in insts]
        for inst in insts:
            ns.add_address(inst["PrivateIpAddress"])
            ns.serve(inst["PrivateIpAddress"], 8080, inst["InstanceId"])
        dns = client.create_load_balancer(
            LoadBalancerName="web", AvailabilityZones=["zone-a", "zone-b"],
            Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80,
                        "InstanceProtocol": "HTTP", "InstancePort": 8080}])["DNSName"]
        client.configure_health_check(LoadBalancerName="web", HealthCheck={
            "Target": "HTTP:8080/health", "Interval": INTERVAL, "Timeout": 2,
            "UnhealthyThreshold": UNHEALTHY, "HealthyThreshold": 2})
        client.register_instances_with_load_balancer(
            LoadBalancerName="web", Instances=[{"InstanceId": i} for i in ids])
        hosts = dict(reversed(line.split()) for line in
                     (Path(cloud.data_dir) / "elb" / "hosts").read_text().splitlines() if line)
        yield {"cloud": cloud, "ns": ns, "elb": client, "ids": ids, "address": hosts[dns],
               "insts": insts}
    finally:
        if cloud is not None:
            cloud.stop()
        ns.close()


def _all_in_service(client: Any, ids: list[str], cloud: Any = None) -> Any:
    states = health(client, "web")
    if all(states[i]["State"] == "InService" for i in ids):
        return states
    print("not yet:", [(i, states[i]["State"], states[i]["Description"]) for i in ids])
    if cloud is not None:  # what HAProxy says, should it never come
        for name in ("haproxy.log", "servers.state"):
            for f in (Path(cloud.data_dir) / "elb").glob(f"*/{name}"):
                print(name, f.read_text()[-1500:])
    return None


def test_requests_spread_over_both_and_carry_forwarding_headers(plane: dict[str, Any]) -> None:
    """1,000 requests through the balancer all succeed and both instances answer; the
    instances see X-Forwarded-For/-Proto/-Port."""
    client, ids, ns = plane["elb"], plane["ids"], plane["ns"]
    wait_for(lambda: _all_in_service(client, ids, plane["cloud"]), 90,
             "both instances InService")
    out = ns.requests(plane["address"], 80, 1000)
    assert out["failures"] == 0, out
    names = out["names"]
    assert set(names) == set(ids), names
    assert all(n >= 300 for n in names.values()), names  # round robin, near even
    last = out["last"]
    assert last["xff"] and last["proto"] == "http" and last["port"] == "80"


def test_stopped_responder_goes_out_of_service_and_no_request_fails(
        plane: dict[str, Any]) -> None:
    """Stopping one responder marks its instance OutOfService (ReasonCode Instance)
    within interval x unhealthy threshold; after that every request succeeds."""
    client, ids, ns = plane["elb"], plane["ids"], plane["ns"]
    wait_for(lambda: _all_in_service(client, ids, plane["cloud"]), 60, "both instances InService")
    down, up = ids[1], ids[0]
    ns.stop_server(down)
    stopped = time.monotonic()
    state = wait_for(lambda: (s := health(client, "web")[down])["State"] == "OutOfService"
                     and s, INTERVAL * UNHEALTHY + 15, "OutOfService")
    assert time.monotonic() - stopped <= INTERVAL * UNHEALTHY + 3 + 5  # checks + polling
    assert state["ReasonCode"] == "Instance"
    assert "health checks" in state["Description"]
    assert health(client, "web")[up]["State"] == "InService"
    out = ns.requests(plane["address"], 80, 200)
    assert out["failures"] == 0 and out["names"] == {up: 200}, out
    # It comes back when its responder does.
    inst = next(i for i in plane["insts"] if i["InstanceId"] == down)
    ns.serve(inst["PrivateIpAddress"], 8080, down)
    wait_for(lambda: _all_in_service(client, ids, plane["cloud"]), 60, "back InService")


def test_lb_cookie_stickiness_keeps_a_client_on_one_instance(plane: dict[str, Any]) -> None:
    """With an LB-cookie stickiness policy a client sending the AWSELB cookie back stays
    on one instance; clients without it still spread."""
    client, ids, ns = plane["elb"], plane["ids"], plane["ns"]
    wait_for(lambda: _all_in_service(client, ids, plane["cloud"]), 60, "both instances InService")
    client.create_lb_cookie_stickiness_policy(LoadBalancerName="web", PolicyName="sticky",
                                              CookieExpirationPeriod=600)
    client.set_load_balancer_policies_of_listener(LoadBalancerName="web", LoadBalancerPort=80,
                                                  PolicyNames=["sticky"])
    try:
        out = wait_for(lambda: (o := ns.requests(plane["address"], 80, 50, sticky=True))
                       ["cookie"] and o, 30, "the AWSELB cookie")
        assert out["failures"] == 0 and len(out["names"]) == 1, out
        assert str(out["cookie"]).startswith("AWSELB=")
        loose = ns.requests(plane["address"], 80, 50)
        assert len(loose["names"]) == 2, loose
    finally:
        client.set_load_balancer_policies_of_listener(LoadBalancerName="web",
                                                      LoadBalancerPort=80, PolicyNames=[])


def test_app_cookie_stickiness_follows_the_application_cookie(
        plane: dict[str, Any]) -> None:
    """With an app-cookie stickiness policy on SESSION, a client returning the
    application's cookie (as the balancer rewrote it) stays on one instance."""
    client, ids, ns = plane["elb"], plane["ids"], plane["ns"]
    wait_for(lambda: _all_in_service(client, ids, plane["cloud"]), 60,
             "both instances InService")
    client.create_app_cookie_stickiness_policy(LoadBalancerName="web", PolicyName="app",
                                               CookieName="SESSION")
    client.set_load_balancer_policies_of_listener(LoadBalancerName="web", LoadBalancerPort=80,
                                                  PolicyNames=["app"])
    try:
        out = wait_for(lambda: (o := ns.requests(plane["address"], 80, 40, sticky=True,
                                                 path="/app"))["cookie"] and o, 30,
                       "the application's cookie")
        assert str(out["cookie"]).startswith("SESSION=")
        assert out["failures"] == 0 and len(out["names"]) == 1, out
        loose = ns.requests(plane["address"], 80, 40, path="/app")
        assert len(loose["names"]) == 2, loose
    finally:
        client.set_load_balancer_policies_of_listener(LoadBalancerName="web",
                                                      LoadBalancerPort=80, PolicyNames=[])


def _slow_pair_during_deregistration(plane: dict[str, Any]) -> list[dict[str, Any]]:
    """Two slow requests in flight (round robin: one on each instance) while the second
    instance is deregistered; their outcomes."""
    import threading

    client, ids, ns = plane["elb"], plane["ids"], plane["ns"]
    results: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda: results.append(
        ns.requests(plane["address"], 80, 1, path="/slow/4"))) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.3)
    time.sleep(1.5)  # both are in flight
    client.deregister_instances_from_load_balancer(LoadBalancerName="web",
                                                   Instances=[{"InstanceId": ids[1]}])
    for t in threads:
        t.join(timeout=60)
    return results


def test_connection_draining_lets_requests_in_flight_finish_and_off_cuts_them(
        plane: dict[str, Any]) -> None:
    """Deregistering an instance with connection draining on: its request in flight
    completes (the old HAProxy worker finishes it) while new requests go elsewhere.
    With draining off the balancer closes its connections at once."""
    client, ids, ns = plane["elb"], plane["ids"], plane["ns"]
    wait_for(lambda: _all_in_service(client, ids, plane["cloud"]), 60,
             "both instances InService")
    client.modify_load_balancer_attributes(LoadBalancerName="web", LoadBalancerAttributes={
        "ConnectionDraining": {"Enabled": True, "Timeout": 30}})
    try:
        results = _slow_pair_during_deregistration(plane)
        assert [r["failures"] for r in results] == [0, 0], results
        out = ns.requests(plane["address"], 80, 50)
        assert out["failures"] == 0 and out["names"] == {ids[0]: 50}, out
        client.register_instances_with_load_balancer(LoadBalancerName="web",
                                                     Instances=[{"InstanceId": ids[1]}])
        wait_for(lambda: _all_in_service(client, ids, plane["cloud"]), 60, "back InService")
        client.modify_load_balancer_attributes(LoadBalancerName="web", LoadBalancerAttributes={
            "ConnectionDraining": {"Enabled": False}})
        time.sleep(1.0)
        results = _slow_pair_during_deregistration(plane)
        assert sorted(r["failures"] for r in results) == [0, 1], results
    finally:
        client.modify_load_balancer_attributes(LoadBalancerName="web", LoadBalancerAttributes={
            "ConnectionDraining": {"Enabled": False}})
        client.register_instances_with_load_balancer(LoadBalancerName="web",
                                                     Instances=[{"InstanceId": ids[1]}])


def test_access_logs_land_in_the_bucket_and_metrics_in_cloudwatch(
        plane: dict[str, Any]) -> None:
    """With access logs on (EmitInterval 5), requests are written into the bucket in
    ELB's format; AWS/ELB RequestCount and HealthyHostCount reach CloudWatch."""
    import datetime

    cloud, client, ids, ns = plane["cloud"], plane["elb"], plane["ids"], plane["ns"]
    wait_for(lambda: _all_in_service(client, ids, plane["cloud"]), 60, "both instances InService")
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="web-logs")
    client.modify_load_balancer_attributes(LoadBalancerName="web", LoadBalancerAttributes={
        "AccessLog": {"Enabled": True, "S3BucketName": "web-logs", "EmitInterval": 5,
                      "S3BucketPrefix": "prod"}})
    time.sleep(1.0)  # the reload with a log target
    out = ns.requests(plane["address"], 80, 20, path="/logged")
    assert out["failures"] == 0
    account = cloud.credentials()["account"]

    def logged() -> list[str]:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="web-logs").get("Contents", [])]
        lines = []
        for k in keys:
            body = s3.get_object(Bucket="web-logs", Key=k)["Body"].read().decode()
            lines += [ln for ln in body.splitlines() if "/logged" in ln]
        return lines if len(lines) >= 20 else []

    lines = wait_for(logged, 60, "20 access-log entries")
    key = s3.list_objects_v2(Bucket="web-logs")["Contents"][0]["Key"]
    assert key.startswith(f"prod/AWSLogs/{account}/elasticloadbalancing/")
    assert key.endswith(".log") and "_web_" in key
    fields = lines[0].split(" ")
    assert fields[0].endswith("Z") and "T" in fields[0]
    assert fields[1] == "web"
    assert fields[3].split(":")[1] == "8080"  # backend:port
    assert fields[7] == "200" and fields[8] == "200"
    assert '"GET http://' in lines[0] and "/logged HTTP/1.1" in lines[0]
    cw = cloud.client("cloudwatch", path="/services/CloudWatch")
    # The cloud's clock runs ten times fast since it started: a window of days holds it.
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=2)

    def count(name: str, stat: str) -> float:
        pts = cw.get_metric_statistics(
            Namespace="AWS/ELB", MetricName=name, StartTime=start, EndTime=end, Period=300,
            Statistics=[stat], Dimensions=[{"Name": "LoadBalancerName", "Value": "web"}])[
            "Datapoints"]
        return float(sum(p[stat] for p in pts)) if stat == "Sum" else \
            float(max((p[stat] for p in pts), default=0))

    wait_for(lambda: count("RequestCount", "Sum") >= 20, 60, "RequestCount")
    wait_for(lambda: count("HTTPCode_Backend_2XX", "Sum") >= 20, 60, "2XX")
    wait_for(lambda: count("HealthyHostCount", "Maximum") == 2, 60, "HealthyHostCount 2")
    names = {m["MetricName"] for m in cw.list_metrics(Namespace="AWS/ELB")["Metrics"]}
    assert {"RequestCount", "Latency", "HealthyHostCount", "UnHealthyHostCount",
            "SurgeQueueLength"} <= names


def test_https_listener_terminates_tls_with_the_iam_certificate(
        plane: dict[str, Any]) -> None:
    """An HTTPS listener with an IAM server certificate answers over TLS with that
    certificate and forwards with X-Forwarded-Proto https."""
    import subprocess

    from tests.elb.test_elb_api import _self_signed

    cloud, client, ids, ns = plane["cloud"], plane["elb"], plane["ids"], plane["ns"]
    wait_for(lambda: _all_in_service(client, ids, plane["cloud"]), 60, "both instances InService")
    body, key = _self_signed("web.example")
    arn = cloud.client("iam").upload_server_certificate(
        ServerCertificateName="web-tls", CertificateBody=body, PrivateKey=key)[
        "ServerCertificateMetadata"]["Arn"]
    client.create_load_balancer_listeners(LoadBalancerName="web", Listeners=[
        {"Protocol": "HTTPS", "LoadBalancerPort": 443, "InstanceProtocol": "HTTP",
         "InstancePort": 8080, "SSLCertificateId": arn}])
    (ns.workdir / "ca.pem").write_text(body)

    def fetch() -> Any:
        res = subprocess.run(
            ["ip", "netns", "exec", ns.name, "curl", "-s", "--max-time", "10", "--cacert",
             str(ns.workdir / "ca.pem"), "--resolve", f"web.example:443:{plane['address']}",
             "https://web.example/tls"], capture_output=True, text=True, timeout=30)
        return json.loads(res.stdout) if res.returncode == 0 and res.stdout else None

    import json

    answer = wait_for(fetch, 30, "an HTTPS answer")
    assert answer["proto"] == "https" and answer["port"] == "443"
    assert answer["name"] in ids and answer["path"] == "/tls"


def test_balancer_survives_a_cloud_crash_and_a_restart(plane: dict[str, Any]) -> None:
    """A cloud killed without stopping leaves its HAProxy serving; the next cloud adopts
    it (one master per balancer); after a clean restart it serves again too."""
    import subprocess

    cloud, client, ids, ns = plane["cloud"], plane["elb"], plane["ids"], plane["ns"]
    wait_for(lambda: _all_in_service(client, ids, plane["cloud"]), 60, "both instances InService")
    cloud.kill()
    out = ns.requests(plane["address"], 80, 20)
    assert out["failures"] == 0  # the data plane does not need the cloud
    cloud.start()
    wait_for(lambda: _all_in_service(client, ids, plane["cloud"]), 60, "InService after the crash")
    masters = subprocess.run(["pgrep", "-f", "--", f"-W -db -S .* -f {cloud.data_dir}/elb/"],
                             capture_output=True, text=True).stdout.split()
    procs = [p for p in masters
             if "-sf" not in open(f"/proc/{p}/cmdline").read().replace("\0", " ")]
    assert len(procs) == 1, procs
    cloud.restart()
    wait_for(lambda: _all_in_service(client, ids, plane["cloud"]), 60, "InService after the restart")
    out = ns.requests(plane["address"], 80, 100)
    assert out["failures"] == 0 and set(out["names"]) == set(ids), out


def test_tcp_listener_and_proxy_protocol(plane: dict[str, Any]) -> None:
    """A TCP listener forwards the bytes as they are (no X-Forwarded-* added); with a
    ProxyProtocolPolicy on the instance port the instances get a PROXY header first."""
    client, ids, ns = plane["elb"], plane["ids"], plane["ns"]
    wait_for(lambda: _all_in_service(client, ids, plane["cloud"]), 60,
             "both instances InService")
    client.create_load_balancer_listeners(LoadBalancerName="web", Listeners=[
        {"Protocol": "TCP", "LoadBalancerPort": 9000, "InstanceProtocol": "TCP",
         "InstancePort": 8080}])
    out = wait_for(lambda: (o := ns.requests(plane["address"], 9000, 20))["failures"] == 0
                   and o, 30, "answers through the TCP listener")
    assert set(out["names"]) == set(ids)
    assert out["last"]["xff"] is None and out["last"]["proxy"] is None
    client.create_load_balancer_policy(
        LoadBalancerName="web", PolicyName="proxy", PolicyTypeName="ProxyProtocolPolicyType",
        PolicyAttributes=[{"AttributeName": "ProxyProtocol", "AttributeValue": "true"}])
    client.set_load_balancer_policies_for_backend_server(LoadBalancerName="web",
                                                         InstancePort=8080,
                                                         PolicyNames=["proxy"])
    try:
        out = wait_for(lambda: (o := ns.requests(plane["address"], 9000, 5))["failures"] == 0
                       and o["last"]["proxy"] and o, 30, "a PROXY header")
        assert out["last"]["proxy"].startswith("PROXY TCP4 ")
    finally:
        client.set_load_balancer_policies_for_backend_server(LoadBalancerName="web",
                                                             InstancePort=8080,
                                                             PolicyNames=[])
        client.delete_load_balancer_listeners(LoadBalancerName="web", LoadBalancerPorts=[9000])


def test_zones_share_equally_unless_cross_zone(plane: dict[str, Any]) -> None:
    """Two instances in zone-a and one in zone-b: each zone takes half of the requests;
    with cross-zone balancing each instance takes a third."""
    cloud, client, ids, ns = plane["cloud"], plane["elb"], plane["ids"], plane["ns"]
    extra = run_instances(cloud.client("ec2"), "zone-a")[0]
    ns.add_address(extra["PrivateIpAddress"])
    ns.serve(extra["PrivateIpAddress"], 8080, extra["InstanceId"])
    every = [*ids, extra["InstanceId"]]
    b_only = next(i["InstanceId"] for i in plane["insts"]
                  if i["Placement"]["AvailabilityZone"] == "zone-b")
    client.register_instances_with_load_balancer(LoadBalancerName="web",
                                                 Instances=[{"InstanceId": extra["InstanceId"]}])
    try:
        wait_for(lambda: _all_in_service(client, every, cloud), 60, "three InService")
        out = ns.requests(plane["address"], 80, 300)
        assert out["failures"] == 0
        assert 130 <= out["names"][b_only] <= 170, out["names"]  # half
        client.modify_load_balancer_attributes(LoadBalancerName="web", LoadBalancerAttributes={
            "CrossZoneLoadBalancing": {"Enabled": True}})
        out = wait_for(lambda: (o := ns.requests(plane["address"], 80, 300))["names"].get(
            b_only, 0) <= 120 and o, 30, "a third each")
        assert out["failures"] == 0
        assert all(80 <= n <= 120 for n in out["names"].values()), out["names"]
    finally:
        client.modify_load_balancer_attributes(LoadBalancerName="web", LoadBalancerAttributes={
            "CrossZoneLoadBalancing": {"Enabled": False}})
        client.deregister_instances_from_load_balancer(
            LoadBalancerName="web", Instances=[{"InstanceId": extra["InstanceId"]}])
        ns.stop_server(extra["InstanceId"])


def test_idle_timeout_closes_idle_connections(plane: dict[str, Any]) -> None:
    """With IdleTimeout 2, a keep-alive connection idle for longer is closed by the
    balancer; one used within the timeout stays open."""
    import subprocess

    client, ns = plane["elb"], plane["ns"]
    client.modify_load_balancer_attributes(LoadBalancerName="web", LoadBalancerAttributes={
        "ConnectionSettings": {"IdleTimeout": 2}})
    script = ns.workdir / "idle.py"
    script.write_text(
        "import http.client, sys, time\n"
        "c = http.client.HTTPConnection(sys.argv[1], 80, timeout=10)\n"
        "c.request('GET', '/'); c.getresponse().read()\n"
        "time.sleep(0.5); c.request('GET', '/'); c.getresponse().read()\n"
        "time.sleep(4)\n"
        "try:\n"
        "    c.request('GET', '/'); r = c.getresponse(); r.read(); print('open')\n"
        "except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):\n"
        "    print('closed')\n")
    try:
        time.sleep(1.0)  # the reload
        res = subprocess.run(["ip", "netns", "exec", ns.name, sys.executable, str(script),
                              plane["address"]], capture_output=True, text=True, timeout=60)
        assert res.stdout.strip() == "closed", res
    finally:
        client.modify_load_balancer_attributes(LoadBalancerName="web", LoadBalancerAttributes={
            "ConnectionSettings": {"IdleTimeout": 60}})


def test_auto_scaling_replaces_members_the_balancer_finds_unhealthy(
        plane: dict[str, Any]) -> None:
    """A group with HealthCheckType ELB attached to the balancer: its member has no
    responder, fails the balancer's checks and is replaced."""
    from tests.autoscaling.as_helpers import autoscaling, image_id

    cloud, client = plane["cloud"], plane["elb"]
    asg, ec2 = autoscaling(cloud), cloud.client("ec2")
    asg.create_launch_configuration(LaunchConfigurationName="mute", ImageId=image_id(ec2),
                                    InstanceType="m1.small")
    asg.create_auto_scaling_group(AutoScalingGroupName="mute", LaunchConfigurationName="mute",
                                  MinSize=1, MaxSize=1, AvailabilityZones=["zone-a"],
                                  LoadBalancerNames=["web"], HealthCheckType="ELB",
                                  HealthCheckGracePeriod=0)
    try:
        def member() -> str | None:
            group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["mute"])[
                "AutoScalingGroups"][0]
            live = [m["InstanceId"] for m in group["Instances"]
                    if m["LifecycleState"] == "InService"]
            return live[0] if live else None

        first = wait_for(member, 60, "a member in service")
        state = wait_for(lambda: (s := health(client, "web").get(first)) and
                         s["State"] == "OutOfService" and s["ReasonCode"] == "Instance" and s,
                         60, "the member failing the balancer's checks")
        assert "health checks" in state["Description"]
        wait_for(lambda: (m := member()) is not None and m != first, 120, "a replacement")
        acts = asg.describe_scaling_activities(AutoScalingGroupName="mute")["Activities"]
        assert any(first in a["Description"] and "Terminating" in a["Description"]
                   for a in acts), [a["Description"] for a in acts]
    finally:
        asg.delete_auto_scaling_group(AutoScalingGroupName="mute", ForceDelete=True)
