"""The load balancer view: balancers, the listeners and instance health of the selected one,
over the fake cloud, over moto (an AWS stand-in) and on a cloud without load balancing."""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.widgets import Select
from tui_fakecloud import FakeCloud, fixed_clock
from tui_helpers import cell, column, status, table, wait_for

from euca2ools.exceptions import ServiceError
from tui.app import EucaApp
from tui.cloud import Cloud
from tui.screens import ConfirmScreen, FormScreen

SIZE = (160, 40)


class NoElbCloud(FakeCloud):
    """A cloud whose load balancing service does not know the actions (none installed)."""

    def call_service(self, service: str, action: str, params: dict[str, Any] | None = None) -> Any:
        """Every load balancing action is unknown; the other services answer."""
        if service == "elasticloadbalancing":
            raise ServiceError("InvalidAction", f"The action {action} is not valid for this web service.", 400)
        return super().call_service(service, action, params)


def style_of(app: EucaApp, name: str, key: str, index: int) -> str:
    """The style of a cell."""
    cells = table(app, name).cells_of(key)
    assert cells is not None and isinstance(cells[index], Text)
    return str(cells[index].style)  # type: ignore[union-attr]


async def test_balancers_listeners_and_instance_health() -> None:
    """Each balancer shows DNS name, scheme, zones, listeners and how many instances are in
    service; the listeners and instances (InService green, OutOfService red, with the reason)
    follow the cursor."""
    cloud = FakeCloud()
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await wait_for(pilot, lambda: table(app, "lb-instances").row_count == 2, what="web's instances")
        assert column(app, "loadbalancers", 0) == ["web", "db"]
        assert [cell(app, "loadbalancers", "web", i) for i in range(9)] == [
            "web", "classic", "", "web-000000000001.lb.cloud.example", "internet-facing", "zone-1",
            "HTTP:80->HTTP:8080,HTTPS:443->HTTP:8080", "1/2", "2026-01-02 09:00:00"]
        assert style_of(app, "loadbalancers", "web", 7) == "yellow"
        assert cell(app, "loadbalancers", "db", 7) == "0/0"
        assert column(app, "listeners", 0) == ["HTTP", "HTTPS"]
        assert [cell(app, "listeners", "80", i) for i in range(6)] == \
            ["HTTP", "80", "HTTP", "8080", "web-sticky", ""]
        assert cell(app, "listeners", "443", 5) == "arn:aws:iam::000000000001:server-certificate/web"
        assert column(app, "lb-instances", 1) == ["InService", "OutOfService"]
        assert style_of(app, "lb-instances", "i-00000000000000001", 1) == "bold green"
        assert style_of(app, "lb-instances", "i-00000000000000002", 1) == "bold red"
        assert cell(app, "lb-instances", "i-00000000000000001", 2) == ""
        assert cell(app, "lb-instances", "i-00000000000000002", 2) == "Instance"
        assert "UnhealthyThreshold" in cell(app, "lb-instances", "i-00000000000000002", 3)
        assert "Instances of web" in str(app.query_one("#lb-instances-caption").render())
        await pilot.press("down")
        await wait_for(pilot, lambda: table(app, "lb-instances").row_count == 0, what="db's instances")
        assert column(app, "listeners", 0) == ["TCP"]
        assert "Listeners of db" in str(app.query_one("#listeners-caption").render())
        # Health changes show at the next refresh.
        await pilot.press("up")
        cloud.instance_health = {**cloud.instance_health, "web": [
            {**s, "State": "InService", "ReasonCode": "N/A", "Description": "N/A"}
            for s in cloud.instance_health["web"]]}
        await wait_for(pilot, lambda: cell(app, "loadbalancers", "web", 7) == "2/2", what="all in service")
        assert style_of(app, "loadbalancers", "web", 7) == "green"
        await wait_for(pilot, lambda: column(app, "lb-instances", 1) == ["InService", "InService"],
                       what="instance health")
        # The change is in the event log too.
        await pilot.press("0")
        await wait_for(pilot, lambda: "web/i-00000000000000002" in column(app, "events", 1),
                       what="health event")
        (event,) = [e for r, e in zip(column(app, "events", 1), column(app, "events", 2), strict=True)
                    if r == "web/i-00000000000000002"]
        assert event == "OutOfService -> InService"


async def test_register_and_deregister_instances() -> None:
    """a registers a running instance not yet behind the balancer (picked from a list); x
    deregisters the selected instance after confirming."""
    cloud = FakeCloud()
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await wait_for(pilot, lambda: table(app, "lb-instances").row_count == 2, what="web's instances")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen), what="register form")
        select = app.screen.query_one("#field-instance", Select)
        # Running and not registered yet: web-1 and web-2 are behind web already.
        assert [value for _, value in select._options if value is not Select.BLANK] == \
            ["i-00000000000000006"]
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: table(app, "lb-instances").row_count == 3, what="registered")
        assert cell(app, "loadbalancers", "web", 7) == "2/3"
        (params,) = [p for a, p in cloud.calls if a == "RegisterInstancesWithLoadBalancer"]
        assert params == {"LoadBalancerName": "web",
                          "Instances.member": [{"InstanceId": "i-00000000000000006"}]}
        instances = table(app, "lb-instances")
        instances.focus()
        instances.move_cursor(row=instances.get_row_index("i-00000000000000002"))
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: table(app, "lb-instances").row_count == 2, what="deregistered")
        assert sorted(column(app, "lb-instances", 0)) == ["i-00000000000000001", "i-00000000000000006"]
        assert cell(app, "loadbalancers", "web", 7) == "2/2"


async def test_health_that_cannot_be_read_is_a_note() -> None:
    """A balancer gone between the list and its health: '?' and the error in a note."""
    cloud = FakeCloud()
    cloud.instance_health = {"db": []}
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await wait_for(pilot, lambda: "LoadBalancerNotFound" in str(app.query_one("#lb-instances-note").render()),
                       what="health note")
        assert cell(app, "loadbalancers", "web", 7) == "?"
        assert table(app, "lb-instances").row_count == 0
        await pilot.press("down")
        await wait_for(pilot, lambda: str(app.query_one("#lb-instances-note").render()) == "", what="note cleared")


async def test_a_cloud_without_load_balancing() -> None:
    """The view says the service is not there; nothing pops up and the cloud stays connected."""
    cloud = NoElbCloud()
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await wait_for(pilot, lambda: "Not available" in str(app.query_one("#loadbalancers-view-note").render()),
                       what="not available note")
        assert table(app, "loadbalancers").row_count == 0 and table(app, "listeners").row_count == 0
        assert [n for n in app._notifications if n.severity == "error"] == []
        assert "● connected" in status(app)


moto = pytest.importorskip("moto")



async def test_load_balancers_on_aws(aws_env: None) -> None:
    """Against "AWS" (moto): a balancer made with boto3 and its registered instances, read
    through the dashboard's own client."""
    import boto3

    ec2 = boto3.client("ec2", region_name="us-east-1")
    ids = sorted(i["InstanceId"] for i in ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=2, MaxCount=2, InstanceType="t2.micro")["Instances"])
    elb = boto3.client("elb", region_name="us-east-1")
    elb.create_load_balancer(LoadBalancerName="front", AvailabilityZones=["us-east-1a"], Listeners=[
        {"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 8080}])
    elb.register_instances_with_load_balancer(LoadBalancerName="front",
                                              Instances=[{"InstanceId": i} for i in ids])
    ec2.stop_instances(InstanceIds=ids[1:])
    app = EucaApp(Cloud.from_config("aws:us-east-1"), interval=0.3)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await wait_for(pilot, lambda: table(app, "lb-instances").row_count == 2, what="instances")
        assert column(app, "loadbalancers", 0) == ["front"]
        assert cell(app, "loadbalancers", "front", 6) == "HTTP:80->HTTP:8080"
        assert cell(app, "loadbalancers", "front", 7) == "1/2"
        assert column(app, "lb-instances", 0) == ids
        assert [cell(app, "lb-instances", i, 1) for i in ids] == ["InService", "OutOfService"]
        assert column(app, "listeners", 1) == ["80"]
