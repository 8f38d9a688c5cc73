"""Application/network balancers in the load balancer view where the cloud lacks them or
refuses them, and the text of rules: conditions and actions of every kind."""

from __future__ import annotations

from typing import Any

from tui_fakecloud import FakeCloud, fixed_clock
from tui_helpers import column, status, table, wait_for

from euca2ools.exceptions import ServiceError
from tui import elbv2
from tui.app import EucaApp

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
        assert column(app, "loadbalancers", 7) == ["classic", "classic"]
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
        "redirect HTTP_301 to HTTPS://#{host}:443/#{path}?#{query}"
