"""Application load balancers (elbv2) in the load balancer view, against a real
``eucalyptus-cloud``: listed beside a classic balancer, the selected one's listener rules,
target groups and target health, registering and deregistering targets from the keyboard."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Select
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
    v2.register_targets(TargetGroupArn=web, Targets=[{"Id": ids[0]}])

    app = EucaApp(Cloud.from_config(config_path=str(cloud.ini)), interval=0.25)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "● connected" in status(app), what="connected")
        await pilot.press("e")
        await wait_for(pilot, lambda: cell(app, "loadbalancers", arn, 4) == "HTTP:80", timeout=30,
                       what="the ALB and its listener")
        assert cell(app, "loadbalancers", "tui-classic", 7) == "classic"
        assert [cell(app, "loadbalancers", arn, i) for i in (0, 1, 2, 3, 7, 8)] == [
            "tui-alb", lb["DNSName"], lb["Scheme"], zone, "application", "active"]

        balancers = table(app, "loadbalancers")
        balancers.focus()
        balancers.move_cursor(row=balancers.get_row_index(arn))
        await wait_for(pilot, lambda: table(app, "rules").row_count == 2,
                       timeout=30, what="the ALB's rules")
        assert [[cell(app, "rules", key, i) for i in range(4)] for key in
                table(app, "rules").visible_keys()] == [
            ["HTTP:80", "10", "path-pattern=/img/*", "forward tui-img"],
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
        await pilot.press("q")
    v2.delete_listener(ListenerArn=listener)
    v2.delete_load_balancer(LoadBalancerArn=arn)
    for group in (web, img):
        v2.delete_target_group(TargetGroupArn=group)
    classic.delete_load_balancer(LoadBalancerName="tui-classic")
    ec2.terminate_instances(InstanceIds=ids)
