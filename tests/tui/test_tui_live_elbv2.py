"""Application load balancers (elbv2) in the load balancer view, against a real
``eucalyptus-cloud``: listed beside a classic balancer, the selected one's listener rules,
target groups and target health, registering and deregistering targets from the keyboard."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Select
from tui_helpers import cell, column, status, table, wait_for

from tests.elb.elb_helpers import run_instances
from tui.app import EucaApp
from tui.cloud import Cloud
from tui.screens import ConfirmScreen, FormScreen

SIZE = (180, 50)

pytestmark = pytest.mark.skipif(importlib.util.find_spec("server.elbv2") is None,
                                reason="this cloud has no application load balancing")


def _health(v2: Any, group: str) -> dict[str, str]:
    """``{instance id: state}`` of a target group, as boto3 reads it."""
    return {d["Target"]["Id"]: d["TargetHealth"]["State"]
            for d in v2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]}


def _errors(app: EucaApp) -> list[str]:
    """The error notifications shown so far, as ``title: message``."""
    return [f"{n.title}: {n.message}" for n in app._notifications if n.severity == "error"]


async def test_application_balancer_view(cloud: Any) -> None:
    """An ALB made with boto3 is listed beside a classic balancer (type, state, DNS name,
    scheme, listeners); selecting it shows its rules by priority with the default last,
    its target groups and the health of the selected group's targets; ``a`` registers a
    running instance with the group, ``x`` deregisters the selected target after
    confirming, and a refused call is one readable line."""
    if "elasticloadbalancing-url" not in Path(cloud.ini).read_text():
        pytest.skip("the cloud serves no load balancing")
    ec2 = cloud.client("ec2")
    v2 = cloud.client("elbv2", path="/services/LoadBalancing")
    classic = cloud.client("elb", path="/services/LoadBalancing")
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    ids = sorted(i["InstanceId"] for i in run_instances(ec2, zone, count=2))
    classic.create_load_balancer(LoadBalancerName="tui-classic", AvailabilityZones=[zone], Listeners=[
        {"Protocol": "TCP", "LoadBalancerPort": 5432, "InstanceProtocol": "TCP", "InstancePort": 5432}])
    lb = v2.create_load_balancer(Name="tui-alb", Subnets=[zone])["LoadBalancers"][0]
    arn = lb["LoadBalancerArn"]
    web = v2.create_target_group(Name="tui-web", Protocol="HTTP", Port=8080,
                                 VpcId="vpc-none")["TargetGroups"][0]["TargetGroupArn"]
    img = v2.create_target_group(Name="tui-img", Protocol="HTTP", Port=8081,
                                 VpcId="vpc-none")["TargetGroups"][0]["TargetGroupArn"]
    # Deregistered targets leave at once rather than draining for five minutes.
    v2.modify_target_group_attributes(TargetGroupArn=web, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "0"}])
    listener = v2.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": web}])["Listeners"][0]["ListenerArn"]
    v2.create_rule(ListenerArn=listener, Priority=10,
                   Conditions=[{"Field": "path-pattern", "Values": ["/img/*"]}],
                   Actions=[{"Type": "forward", "TargetGroupArn": img}])
    v2.create_rule(ListenerArn=listener, Priority=20,
                   Conditions=[{"Field": "host-header", "Values": ["old.example.com"]}],
                   Actions=[{"Type": "redirect", "RedirectConfig": {
                       "Host": "new.example.com", "StatusCode": "HTTP_301"}}])
    v2.register_targets(TargetGroupArn=web, Targets=[{"Id": ids[0]}])

    app = EucaApp(Cloud.from_config(config_path=str(cloud.ini)), interval=0.25)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "● connected" in status(app), what="connected")
        await pilot.press("e")
        await wait_for(pilot, lambda: cell(app, "loadbalancers", arn, 6) == "HTTP:80", timeout=30,
                       what="the ALB and its listener")
        assert cell(app, "loadbalancers", "tui-classic", 1) == "classic"
        assert [cell(app, "loadbalancers", arn, i) for i in range(6)] == [
            "tui-alb", "application", "active", lb["DNSName"], lb["Scheme"], zone]

        balancers = table(app, "loadbalancers")
        balancers.focus()
        balancers.move_cursor(row=balancers.get_row_index(arn))
        await wait_for(pilot, lambda: table(app, "rules").row_count == 3,
                       timeout=30, what="the ALB's rules")
        assert [[cell(app, "rules", key, i) for i in range(4)] for key in
                table(app, "rules").visible_keys()] == [
            ["HTTP:80", "10", "path-pattern=/img/*", "forward tui-img"],
            ["HTTP:80", "20", "host-header=old.example.com", "redirect 301 host=new.example.com"],
            ["HTTP:80", "default", "(any)", "forward tui-web"]]
        assert sorted(column(app, "target-groups", 0)) == ["tui-img", "tui-web"]
        assert "Listener rules of tui-alb" in str(app.query_one("#rules-caption").render())

        groups = table(app, "target-groups")
        groups.move_cursor(row=groups.get_row_index(web))
        await wait_for(pilot, lambda: column(app, "targets", 0) == [ids[0]], what="tui-web's target")
        assert cell(app, "targets", f"{ids[0]}:8080", 1) == "8080"
        assert "Targets of tui-web" in str(app.query_one("#targets-caption").render())
        # The state (and reason) is the API's, whatever the health checks have found so far.
        await wait_for(pilot, lambda: cell(app, "targets", f"{ids[0]}:8080", 3) == "healthy",
                       timeout=90, what="the target healthy")
        assert _health(v2, web) == {ids[0]: "healthy"}
        assert cell(app, "target-groups", web, 4) == "1/1"
        # In service: the selected balancer's healthy targets, of all its groups (tui-img has none).
        await wait_for(pilot, lambda: cell(app, "loadbalancers", arn, 7) == "1/1", what="in service")

        # a: register the other running instance with the selected group.
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="register form")
        select = app.screen.query_one("#field-target", Select)
        assert ids[1] in [value for _, value in select._options]
        select.value = ids[1]
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: sorted(column(app, "targets", 0)) == ids, timeout=30,
                       what="the registered target")
        assert set(_health(v2, web)) == set(ids)
        # Target health changes of the selected balancer go to the event log.
        await wait_for(pilot, lambda: f"tui-web/{ids[1]}:8080" in column(app, "events", 1),
                       what="the new target in the event log")

        # x: deregister the selected target, after confirming.
        targets = table(app, "targets")
        targets.focus()
        targets.move_cursor(row=targets.get_row_index(f"{ids[0]}:8080"))
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: column(app, "targets", 0) == [ids[1]], timeout=30,
                       what="the deregistered target gone")
        assert set(_health(v2, web)) == {ids[1]}

        # A target deregistered behind the dashboard's back: the refusal is one line.
        targets.focus()
        targets.move_cursor(row=targets.get_row_index(f"{ids[1]}:8080"))
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        v2.deregister_targets(TargetGroupArn=web, Targets=[{"Id": ids[1]}])
        await pilot.press("y")
        await wait_for(pilot, lambda: any("InvalidTarget" in e for e in _errors(app)),
                       what="the refusal")
        (error,) = [e for e in _errors(app) if "InvalidTarget" in e]
        assert error.startswith("Deregister target failed: ") and "\n" not in error
        assert "● connected" in status(app)

        # Back on the classic balancer: its own listeners and instances panes.
        balancers.focus()
        balancers.move_cursor(row=balancers.get_row_index("tui-classic"))
        await wait_for(pilot, lambda: not app.query_one("#loadbalancers-view").has_class("-v2"),
                       what="the classic panes")
        assert column(app, "listeners", 1) == ["5432"]
        assert "Listeners of tui-classic" in str(app.query_one("#listeners-caption").render())
        assert cell(app, "loadbalancers", arn, 7) == "-"
        await pilot.press("q")
    v2.delete_listener(ListenerArn=listener)
    v2.delete_load_balancer(LoadBalancerArn=arn)
    for group in (web, img):
        v2.delete_target_group(TargetGroupArn=group)
    classic.delete_load_balancer(LoadBalancerName="tui-classic")
    ec2.terminate_instances(InstanceIds=ids)


class RecordingCloud(Cloud):
    """The dashboard's cloud, noting every call of the other query services it makes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def call_service(self, service: str, action: str, params: dict[str, Any] | None = None) -> Any:
        """Note the call, then make it."""
        with self.lock:
            self.calls.append((action, dict(params or {})))
        return super().call_service(service, action, params)

    def asked(self, action: str) -> list[dict[str, Any]]:
        """The parameters of every elbv2 call of ``action`` so far."""
        with self.lock:
            return [p for a, p in self.calls if a == action and p.get("Version") == "2015-12-01"]


async def test_network_balancer_and_ip_targets(cloud: Any) -> None:
    """A network balancer's TCP listener shows its default action (network listeners have no
    rules); an ``ip`` target group takes an address typed into the register form. Each refresh
    asks for one page of balancers, and target health only of the selected balancer's groups."""
    if "elasticloadbalancing-url" not in Path(cloud.ini).read_text():
        pytest.skip("the cloud serves no load balancing")
    ec2 = cloud.client("ec2")
    v2 = cloud.client("elbv2", path="/services/LoadBalancing")
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    nlb = v2.create_load_balancer(Name="tui-nlb", Type="network", Subnets=[zone])["LoadBalancers"][0]
    db = v2.create_target_group(Name="tui-db", Protocol="TCP", Port=5432, TargetType="ip",
                                VpcId="vpc-none")["TargetGroups"][0]["TargetGroupArn"]
    nlb_listener = v2.create_listener(LoadBalancerArn=nlb["LoadBalancerArn"], Protocol="TCP", Port=5432,
                                      DefaultActions=[{"Type": "forward", "TargetGroupArn": db}])
    # Another balancer with a group of its own: never selected, so its health is never asked.
    alb = v2.create_load_balancer(Name="tui-other", Subnets=[zone])["LoadBalancers"][0]
    other = v2.create_target_group(Name="tui-other", Protocol="HTTP", Port=80,
                                   VpcId="vpc-none")["TargetGroups"][0]["TargetGroupArn"]
    alb_listener = v2.create_listener(LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                      DefaultActions=[{"Type": "forward", "TargetGroupArn": other}])
    arn = nlb["LoadBalancerArn"]

    dashboard = RecordingCloud.from_config(config_path=str(cloud.ini))
    assert isinstance(dashboard, RecordingCloud)
    app = EucaApp(dashboard, interval=0.25)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await wait_for(pilot, lambda: cell(app, "loadbalancers", arn, 6) == "TCP:5432", timeout=30,
                       what="the network balancer")
        assert cell(app, "loadbalancers", arn, 1) == "network"
        balancers = table(app, "loadbalancers")
        balancers.focus()
        balancers.move_cursor(row=balancers.get_row_index(arn))
        await wait_for(pilot, lambda: column(app, "target-groups", 0) == ["tui-db"], timeout=30,
                       what="the network balancer's group")
        assert [cell(app, "rules", key, i) for key in table(app, "rules").visible_keys()
                for i in range(4)] == ["TCP:5432", "default", "(any)", "forward tui-db"]
        assert [cell(app, "target-groups", db, i) for i in range(5)] == ["tui-db", "TCP", "5432", "ip", "0/0"]

        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="register form")
        assert app.screen.query_one("#field-port", Input).value == "5432"  # the group's
        await pilot.press(*"10.0.0.10")
        app.screen.query_one("#field-port", Input).value = "6432"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: column(app, "targets", 0) == ["10.0.0.10"], timeout=30,
                       what="the registered address")
        assert cell(app, "targets", "10.0.0.10:6432", 1) == "6432"
        assert [(d["Target"]["Id"], d["Target"]["Port"]) for d in v2.describe_target_health(
            TargetGroupArn=db)["TargetHealthDescriptions"]] == [("10.0.0.10", 6432)]
        await pilot.press("q")
    pages = dashboard.asked("DescribeLoadBalancers")
    assert pages and all(p.get("PageSize") == 400 and "Marker" not in p for p in pages)
    assert {p["TargetGroupArn"] for p in dashboard.asked("DescribeTargetHealth")} == {db}
    assert dashboard.asked("DescribeRules") == []
    for listener in (nlb_listener, alb_listener):
        v2.delete_listener(ListenerArn=listener["Listeners"][0]["ListenerArn"])
    for lb in (nlb, alb):
        v2.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    for group in (db, other):
        v2.delete_target_group(TargetGroupArn=group)
