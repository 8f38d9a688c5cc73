"""Application/network balancers in the load balancer view where the cloud lacks them or
refuses them, on "AWS" (moto), and the text of rules: conditions and actions of every kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.pilot import Pilot
from tui_fakecloud import FakeCloud, fixed_clock
from tui_helpers import cell, column, status, table, wait_for

from euca2ools.exceptions import ServiceError
from tui import elbv2
from tui.app import EucaApp
from tui.cloud import Cloud

SIZE = (160, 40)


class V2RefusingCloud(FakeCloud):
    """Classic balancers only; elbv2 requests get ``error`` (code, HTTP status)."""

    def __init__(self, code: str, status: int) -> None:
        super().__init__()
        self.error = (code, status)

    def call_service(self, service: str, action: str, params: dict[str, Any] | None = None) -> Any:
        """elbv2 (by its Version) is refused; the rest answers from the fixed data."""
        if (params or {}).get("Version") == elbv2.API_VERSION:
            with self.lock:
                self.calls.append((action, params or {}))
            raise ServiceError(self.error[0], f"{action}: not for you", self.error[1])
        return super().call_service(service, action, params)


async def test_a_cloud_without_elbv2_shows_its_classic_balancers() -> None:
    """No elbv2 service (InvalidAction): the classic balancers, no note, no error."""
    cloud = V2RefusingCloud("InvalidAction", 400)
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await wait_for(pilot, lambda: any(a == "DescribeLoadBalancers" for a, _ in cloud.calls
                                          if _.get("Version") == elbv2.API_VERSION), what="an elbv2 call")
        await wait_for(pilot, lambda: table(app, "loadbalancers").row_count == 2, what="classic balancers")
        assert column(app, "loadbalancers", 1) == ["classic", "classic"]
        assert str(app.query_one("#loadbalancers-view-note").render()) == ""
        assert [n for n in app._notifications if n.severity == "error"] == []
        assert "● connected" in status(app)


async def test_refused_elbv2_is_a_note_beside_the_classic_balancers() -> None:
    """elbv2 refused to this user (AccessDenied): a note says so; the classic balancers stay."""
    cloud = V2RefusingCloud("AccessDenied", 403)
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await wait_for(pilot, lambda: "AccessDenied" in str(app.query_one("#loadbalancers-view-note").render()),
                       what="the note")
        assert str(app.query_one("#loadbalancers-view-note").render()) == \
            "Application/network balancers: DescribeLoadBalancers: not for you (AccessDenied)"
        assert column(app, "loadbalancers", 0) == ["web", "db"]


ARN = "arn:aws:elasticloadbalancing:eucalyptus:000000000001:{}"
APP = ARN.format("loadbalancer/app/shop/00000000000000a1")
WEB = ARN.format("targetgroup/shop-web/00000000000000b1")
GONE = ARN.format("targetgroup/shop-old/00000000000000b2")


def _target(iid: int, state: str, reason: str = "", description: str = "") -> dict[str, Any]:
    health = {"State": state, **({"Reason": reason, "Description": description} if reason else {})}
    return {"Target": {"Id": f"i-{iid:017x}", "Port": "8080", "AvailabilityZone": "zone-1"},
            "HealthCheckPort": "8080", "TargetHealth": health}


class V2Cloud(FakeCloud):
    """The fake cloud with one application balancer: a group of three targets in different
    health, and a group gone between DescribeTargetGroups and DescribeTargetHealth."""

    def call_service(self, service: str, action: str, params: dict[str, Any] | None = None) -> Any:
        """elbv2 actions (by their Version) from fixed data; the rest as the fake cloud."""
        params = params or {}
        if params.get("Version") != elbv2.API_VERSION:
            return super().call_service(service, action, params)
        with self.lock:
            self.calls.append((action, params))
        if action == "DescribeLoadBalancers":
            return {"LoadBalancers": [{
                "LoadBalancerArn": APP, "LoadBalancerName": "shop", "Type": "application",
                "DNSName": "shop-1.lb.cloud.example", "Scheme": "internal",
                "State": {"Code": "provisioning"}, "CreatedTime": "2026-01-02T10:00:00.000Z",
                "AvailabilityZones": [{"ZoneName": "zone-1"}]}]}
        if action == "DescribeListeners":
            return {"Listeners": [{"ListenerArn": f"{APP}/l1", "Port": "443", "Protocol": "HTTPS",
                                   "DefaultActions": [{"Type": "forward", "TargetGroupArn": WEB}]}]}
        if action == "DescribeRules":
            return {"Rules": [{"RuleArn": f"{APP}/r0", "Priority": "default", "IsDefault": "true",
                               "Conditions": "", "Actions": [{"Type": "forward", "TargetGroupArn": WEB}]}]}
        if action == "DescribeTargetGroups":
            return {"TargetGroups": [
                {"TargetGroupArn": WEB, "TargetGroupName": "shop-web", "Protocol": "HTTP", "Port": "8080",
                 "TargetType": "instance"},
                {"TargetGroupArn": GONE, "TargetGroupName": "shop-old", "Protocol": "HTTP", "Port": "80",
                 "TargetType": "instance"}]}
        if action == "DescribeTargetHealth" and params["TargetGroupArn"] == WEB:
            return {"TargetHealthDescriptions": [
                _target(1, "healthy"),
                _target(2, "unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [500]"),
                _target(6, "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")]}
        if action == "DescribeTargetHealth":
            raise ServiceError("TargetGroupNotFound", "One or more target groups not found", 400)
        raise ServiceError("InvalidAction", f"{action} is not served here", 400)


def _style(app: EucaApp, name: str, key: str, index: int) -> str:
    cells = table(app, name).cells_of(key)
    assert cells is not None and isinstance(cells[index], Text)
    return str(cells[index].style)  # type: ignore[union-attr]


async def test_target_health_in_colour_and_a_group_gone() -> None:
    """Each target's state in its colour with AWS's reason and description; a group whose
    health cannot be read shows '?' and the reason; balancers are asked for once per refresh
    (one page), target health only for the selected balancer."""
    cloud = V2Cloud()
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await wait_for(pilot, lambda: APP in table(app, "loadbalancers").visible_keys(), what="the ALB")
        assert [cell(app, "loadbalancers", APP, i) for i in range(9)] == [
            "shop", "application", "provisioning", "shop-1.lb.cloud.example", "internal", "zone-1",
            "HTTPS:443", "-", "2026-01-02 10:00:00"]
        assert _style(app, "loadbalancers", APP, 2) == "yellow"
        assert not [p for a, p in cloud.calls if a == "DescribeTargetHealth"]  # not selected yet
        balancers = table(app, "loadbalancers")
        balancers.move_cursor(row=balancers.get_row_index(APP))
        await wait_for(pilot, lambda: table(app, "targets").row_count == 3, what="the targets")
        key = f"i-{2:017x}:8080"
        assert [cell(app, "targets", key, i) for i in range(6)] == [
            f"i-{2:017x}", "8080", "zone-1", "unhealthy", "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [500]"]
        assert [_style(app, "targets", f"i-{n:017x}:8080", 3) for n in (1, 2, 6)] == \
            ["bold green", "bold red", "yellow"]
        assert cell(app, "target-groups", WEB, 4) == "1/3"
        assert _style(app, "target-groups", WEB, 4) == "yellow"
        assert cell(app, "target-groups", GONE, 4) == "?"
        assert cell(app, "loadbalancers", APP, 7) == "1/3"
        groups = table(app, "target-groups")
        groups.move_cursor(row=groups.get_row_index(GONE))
        await wait_for(pilot, lambda: "TargetGroupNotFound" in str(app.query_one("#targets-note").render()),
                       what="the group's note")
        assert table(app, "targets").row_count == 0
    with cloud.lock:
        classic = [p for a, p in cloud.calls if a == "DescribeLoadBalancers" and "Version" not in p]
        v2 = [p for a, p in cloud.calls if a == "DescribeLoadBalancers" and "Version" in p]
        asked = {p["TargetGroupArn"] for a, p in cloud.calls if a == "DescribeTargetHealth"}
    # One elbv2 page per refresh (the refresh in flight at exit may not have asked yet).
    assert len(classic) - 1 <= len(v2) <= len(classic) and all(p["PageSize"] == elbv2.PAGE_SIZE and "Marker" not in p for p in v2)
    assert asked == {WEB, GONE}


class ManyV2Cloud(V2Cloud):
    """More application balancers than one page holds."""

    def call_service(self, service: str, action: str, params: dict[str, Any] | None = None) -> Any:
        """DescribeLoadBalancers (elbv2) says there is a next page."""
        answer = super().call_service(service, action, params)
        if action == "DescribeLoadBalancers" and (params or {}).get("Version") == elbv2.API_VERSION:
            answer = {**answer, "NextMarker": "400"}
        return answer


async def test_more_balancers_than_a_page_is_said() -> None:
    """Only one page is asked for per refresh: a note says the list is cut there."""
    cloud = ManyV2Cloud()
    app = EucaApp(cloud, interval=0.05, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await wait_for(pilot, lambda: "Only the first 400" in str(app.query_one("#loadbalancers-view-note").render()),
                       what="the note")
        assert APP in table(app, "loadbalancers").visible_keys()
    with cloud.lock:
        assert not [p for a, p in cloud.calls if a == "DescribeLoadBalancers" and "Marker" in p]


def test_condition_and_action_text() -> None:
    """Each condition field and action type in one short line."""
    assert elbv2.condition_text({"Field": "path-pattern", "Values": ["/a/*", "/b"]}) == "path-pattern=/a/*|/b"
    assert elbv2.condition_text({"Field": "host-header", "HostHeaderConfig": {"Values": ["*.example.com"]}}) \
        == "host-header=*.example.com"
    assert elbv2.condition_text({"Field": "http-header", "HttpHeaderConfig": {
        "HttpHeaderName": "X-Env", "Values": ["beta"]}}) == "http-header[X-Env]=beta"
    assert elbv2.condition_text({"Field": "query-string", "QueryStringConfig": {"Values": [
        {"Key": "v", "Value": "2"}, {"Value": "debug"}]}}) == "query-string=v=2|debug"
    assert elbv2.condition_text({"Field": "http-request-method", "HttpRequestMethodConfig": {
        "Values": ["GET", "HEAD"]}}) == "http-request-method=GET|HEAD"
    assert elbv2.condition_text({"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}}) \
        == "source-ip=10.0.0.0/8"
    tg = "arn:aws:elasticloadbalancing:eucalyptus:000000000001:targetgroup/{}/0123456789abcdef"
    assert elbv2.action_text({"Type": "forward", "TargetGroupArn": tg.format("web")}) == "forward web"
    assert elbv2.action_text({"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": tg.format("blue"), "Weight": 90},
        {"TargetGroupArn": tg.format("green"), "Weight": 10}]}}) == "forward blue:90,green:10"
    assert elbv2.action_text({"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": "404", "ContentType": "text/plain"}}) == "fixed 404"
    assert elbv2.action_text({"Type": "redirect", "RedirectConfig": {
        "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}) == \
        "redirect 301 protocol=HTTPS port=443"
    assert elbv2.action_text({"Type": "redirect", "RedirectConfig": {
        "Protocol": "#{protocol}", "Host": "new.example.com", "Port": "#{port}", "Path": "/#{path}",
        "Query": "#{query}", "StatusCode": "HTTP_302"}}) == "redirect 302 host=new.example.com"


async def test_application_balancers_on_aws(aws_env: None) -> None:
    """Against "AWS" (moto): an ALB made with boto3 (in a VPC, as AWS wants), its rule and its
    target's health, read through the dashboard's own client."""
    import boto3

    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24",
                                 AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
               for n, z in ((1, "a"), (2, "b"))]
    iid = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t2.micro",
                            SubnetId=subnets[0])["Instances"][0]["InstanceId"]
    v2 = boto3.client("elbv2", region_name="us-east-1")
    lb = v2.create_load_balancer(Name="front", Subnets=subnets)["LoadBalancers"][0]
    tg = v2.create_target_group(Name="web", Protocol="HTTP", Port=8080,
                                VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    listener = v2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                  DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    v2.create_rule(ListenerArn=listener["Listeners"][0]["ListenerArn"], Priority=7,
                   Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                   Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}])
    v2.register_targets(TargetGroupArn=tg, Targets=[{"Id": iid}])
    expected = v2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"][0]
    app = EucaApp(Cloud.from_config("aws:us-east-1"), interval=0.3)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        arn = lb["LoadBalancerArn"]
        await wait_for(pilot, lambda: arn in table(app, "loadbalancers").visible_keys(), what="the ALB")
        balancers = table(app, "loadbalancers")
        balancers.move_cursor(row=balancers.get_row_index(arn))
        await wait_for(pilot, lambda: column(app, "targets", 0) == [iid], what="its target")
        assert cell(app, "loadbalancers", arn, 1) == "application"
        assert [cell(app, "rules", k, 3) for k in table(app, "rules").visible_keys()] == \
            ["fixed 503", "forward web"]
        assert cell(app, "targets", f"{iid}:8080", 3) == expected["TargetHealth"]["State"]


def test_application_balancer_detail_snapshot(snap_compare: Callable[..., bool]) -> None:
    """The view with an application balancer selected renders as committed: its rule, its
    target groups, and the targets of the first group with their states in colour."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, EucaApp)
        await pilot.press("e")
        await wait_for(pilot, lambda: APP in table(app, "loadbalancers").visible_keys(), what="the ALB")
        balancers = table(app, "loadbalancers")
        balancers.move_cursor(row=balancers.get_row_index(APP))
        await wait_for(pilot, lambda: table(app, "targets").row_count == 3, what="the targets")
        # Columns widen for their rows when the table next idles: wait for that, not a time.
        await wait_for(pilot, lambda: table(app, "rules").ordered_columns[0].content_width >= len("HTTPS:443"),
                       what="the rules' columns widened")
        await pilot.pause(0.3)

    assert snap_compare(EucaApp(V2Cloud(), interval=0.3, clock=fixed_clock), terminal_size=SIZE,
                        run_before=run_before)
